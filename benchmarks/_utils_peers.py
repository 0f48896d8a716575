"""Peers and shared data for the utils benchmarks (asv and the quick pytest-benchmark run).

Each peer sits behind a tiny adapter so every figure is a ratio against a named library measured
in the same run. ``hazm_reimpl`` is a faithful re-implementation of the regex and translation
steps of hazm 0.10's ``Normalizer.normalize`` (character translation, Persian-style quotes,
digits, diacritics, spacing and affix patterns, special characters, repeated letters); it leaves
out hazm's word tokenizer and verb lemmatizer passes, so it is *faster* than real hazm and a
conservative baseline. It is used when hazm itself cannot be imported (hazm pins numpy==1.24.3).
"""
import re
from typing import Any, Callable, Dict

import numpy as np

MESSAGE_SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["request_id", "timestamp", "source", "priority", "operation"],
    "properties": {
        "request_id": {"type": "string", "minLength": 36, "maxLength": 36},
        "timestamp": {"type": "string"},
        "source": {"type": "string"},
        "destination": {"type": "string"},
        "priority": {"type": "integer", "minimum": 1, "maximum": 5},
        "request_source": {"enum": ["user", "model", "system", "scheduled", "api"]},
        "correlation_id": {"type": ["string", "null"]},
        "trace_id": {"type": ["string", "null"]},
        "session_id": {"type": ["string", "null"]},
        "retry_count": {"type": "integer", "minimum": 0},
        "ttl": {"type": "integer", "minimum": 0},
        "expires_at": {"type": ["string", "null"]},
        "operation": {"type": "string"},
        "model_id": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}
MESSAGE: Dict[str, Any] = {
    "request_id": "12345678-1234-1234-1234-123456789012",
    "timestamp": "2024-01-01T00:00:00+00:00", "source": "core", "destination": "model-7",
    "priority": 3, "request_source": "user", "correlation_id": None, "trace_id": "t-1",
    "session_id": None, "retry_count": 0, "ttl": 60, "expires_at": None,
    "operation": "fetch_data", "model_id": "m1", "tags": ["fa", "news"],
}
BATCH_SCHEMA = {"type": "array", "items": MESSAGE_SCHEMA}
BATCH = [dict(MESSAGE, retry_count=i % 3) for i in range(100)]


def fastjsonschema_validator(schema: Any) -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def jsonschema_validator(schema: Any) -> Callable[[Any], Any]:
    import jsonschema

    return jsonschema.Draft202012Validator(schema).validate


def msgspec_message_converter() -> Callable[[Any], Any]:
    """msgspec.convert into an equivalent Struct (types and constraints of MESSAGE_SCHEMA)."""
    from typing import Annotated, Literal, Optional

    import msgspec

    class Message(msgspec.Struct, forbid_unknown_fields=True):
        request_id: Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
        timestamp: str
        source: str
        priority: Annotated[int, msgspec.Meta(ge=1, le=5)]
        operation: str
        destination: str = ""
        request_source: Literal["user", "model", "system", "scheduled", "api"] = "user"
        correlation_id: Optional[str] = None
        trace_id: Optional[str] = None
        session_id: Optional[str] = None
        retry_count: Annotated[int, msgspec.Meta(ge=0)] = 0
        ttl: Annotated[int, msgspec.Meta(ge=0)] = 0
        expires_at: Optional[str] = None
        model_id: str = ""
        tags: list[str] = []

    return lambda data: msgspec.convert(data, Message)


_SENTENCES = [
    "اصلاح نويسه ها و استفاده از نیم‌فاصله پردازش را آسان مي كند.",
    "اِعلام کَرد : « زمین لرزه ای به بُزرگیِ 6 دهم ریشتر » در شهر رخ داد",
    "کتاب ها و دفتر ها را روی میز گذاشتيم و بزرگ تر از قبل شدند",
    "ما  در   سال ۱۴۰۳ و 2024 به   تهران رفته ام و آنجا کار مي کنم",
    "اين يك متن آزمايشي است كه حروف عربي دارد؛ آيا درست مي شود؟",
]
PERSIAN_CORPUS = [" ".join(_SENTENCES[(i + j) % 5] for j in range(6)) for i in range(40)]


class HazmReimpl:
    """The translation and regex steps of hazm 0.10 ``Normalizer`` (see module docstring)."""

    def __init__(self) -> None:
        src = "كيىةۀ٠١٢٣٤٥٦٧٨٩0123456789%"
        dst = "کییهه۰۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹٪"
        self.table = str.maketrans(src, dst)
        pa, pb = r"\.:!،؛؟»\]\)\}", r"«\[\(\{"
        sub = re.compile
        self.steps = [
            (sub('"([^\n"]+)"'), r"«\1»"), (sub(r"([\d+])\.([\d+])"), r"\1٫\2"),
            (sub(r" ?\.\.\."), " …"),
            (sub("[\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652]"), ""),
            (sub(r" {2,}"), " "), (sub(r"\n{3,}"), "\n\n"), (sub("\u200c{2,}"), "\u200c"),
            (sub("\u200c{1,} "), " "), (sub(" \u200c{1,}"), " "),
            (sub(r"\b\u200c*\B"), ""), (sub(r"\B\u200c*\b"), ""), (sub("[ـ\r]"), ""),
            (sub(r"([^ ]ه) ی "), "\\1\u200cی "), (sub(r"(^| )(ن?می) "), "\\1\\2\u200c"),
            (sub(r"(?<=[^\n\d " + pa + pb + r"]{2}) (تر(ین?)?|گری?|های?)(?=[ \n" + pa + pb
                 + "]|$)"), "\u200c\\1"),
            (sub(r"([^ ]ه) (ا(م|یم|ش|ند|ی|ید|ت))(?=[ \n" + pa + "]|$)"), "\\1\u200c\\2"),
            (sub("(ه)(ها)"), "\\1\u200c\\2"),
            (sub('" ([^\n"]+) "'), r'"\1"'), (sub(" ([" + pa + "])"), r"\1"),
            (sub("([" + pb + "]) "), r"\1"),
            (sub("([" + pa[:3] + "])([^ " + pa + r"\d۰۱۲۳۴۵۶۷۸۹])"), r"\1 \2"),
            (sub("([" + pa[3:] + "])([^ " + pa + "])"), r"\1 \2"),
            (sub("([^ " + pb + "])([" + pb + "])"), r"\1 \2"),
            (sub("[\u0605\u0653-\u065f\u0670\u0610-\u061a\u06d6-\u06ed]"), ""),
            (sub(r"([آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی])\1{2,}"), r"\1\1"),
        ]

    def normalize(self, text: str) -> str:
        text = text.translate(self.table)
        for rx, repl in self.steps:
            text = rx.sub(repl, text)
        return text.strip()


def hazm_normalizer() -> tuple[str, Callable[[str], str]]:
    """Return ``(name, normalize)``: real hazm when importable, else the labelled re-implementation."""
    try:
        from hazm import Normalizer

        return "hazm", Normalizer().normalize
    except Exception:
        return "hazm-reimpl", HazmReimpl().normalize


def numpy_stats(a: np.ndarray) -> tuple[Any, ...]:
    """The NumPy sequence the issue measures: mean, std, min, max and five percentiles."""
    return (a.mean(), a.std(), a.min(), a.max(), np.percentile(a, [5, 25, 50, 75, 95]))


def numpy_cosine_topk(a: np.ndarray, b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    na = a / np.linalg.norm(a, axis=1, keepdims=True)
    nb = b / np.linalg.norm(b, axis=1, keepdims=True)
    sims = na @ nb.T
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(sims, idx, axis=1)
    order = np.argsort(-vals, axis=1)
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(idx, order, axis=1)
