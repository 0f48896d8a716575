"""normalize_text regressions of issue 11: hamza kept (hazm's lexicon as the reference where
hazm is installed), ZWJ inside emoji sequences and keycaps, idempotence with NFKC after
stripping, ASCII digits only on request and never inside URLs, e-mails or identifiers, nor with
lang="en". Kernel-level checks run on both implementations (``impl``)."""
from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swfast.errors import ConfigurationError
from swfast.utils.text import _table, normalize_text

ZWJ = "\u200d"


def _hamzas(s: str) -> int:
    d = unicodedata.normalize("NFD", s)
    return d.count("\u0654") + d.count("\u0655") + d.count("\u0621")


# ---------------------------------------------------------------- hamza
@pytest.mark.parametrize("word", ["مسئله", "آئین", "ائتلاف", "مسئول", "رئیس", "سؤال", "مؤمن", "تأثیر",
                                  "إسلام", "جزء", "آکاردئون", "پائیز"])
def test_hamza_is_kept(word: str) -> None:
    assert normalize_text(word) == word
    assert _hamzas(normalize_text(word)) == _hamzas(word)


def test_combining_hamza_kept_but_harakat_removed() -> None:
    # ی + combining hamza above has no precomposed form: it must not lose its hamza
    assert normalize_text("مسی\u0654له") == "مسی\u0654له"
    assert normalize_text("مسي\u0654له") == "مسئله"  # Arabic yeh + hamza composes to ئ (NFKC)
    assert normalize_text("کِتابٌ") == "کتاب"


HAZM_HAMZA_WORDS = Path(__file__).parent / "data" / "hazm_hamza_words.txt"


def test_hazm_hamza_words_keep_their_hamza() -> None:
    """The 8,601 words of hazm's lexicon with a hamza (a copy in tests/data, so CI needs no hazm)."""
    words = [w for w in HAZM_HAMZA_WORDS.read_text(encoding="utf-8").splitlines() if w and w[0] != "#"]
    assert len(words) > 8000
    changed = [w for w in words if _hamzas(normalize_text(w)) != _hamzas(w)]
    assert changed == []
    assert normalize_text("\n".join(words)).count("\n") == len(words) - 1


def test_hazm_lexicon_where_hazm_installs() -> None:
    hazm_utils = pytest.importorskip("hazm.utils", reason="hazm is not installed (it pins numpy==1.24.3)")
    words = [w[0] if isinstance(w, tuple) else w for w in hazm_utils.words_list()]
    assert len(words) > 100_000
    with_hamza = [w for w in words if _hamzas(w)]
    assert len(with_hamza) > 3000
    assert [w for w in with_hamza if _hamzas(normalize_text(w)) != _hamzas(w)] == []
    # words made only of Persian letters (no Arabic forms, diacritics or ZWNJ to fold) are unchanged
    persian = set("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآئأؤإء")
    plain = [w for w in words if set(w) <= persian]
    assert len(plain) > 100_000
    assert [w for w in plain if normalize_text(w) != w] == []


# ---------------------------------------------------------------- ZWJ and keycaps
EMOJI = ["👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️\u200d🔥", "👩🏽\u200d💻", "🏴\u200d☠️", "👁\u200d🗨",
         "🧑\u200d🤝\u200d🧑", "1️⃣", "#️⃣", "*️⃣", "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"]


@pytest.mark.parametrize("seq", EMOJI)
@pytest.mark.parametrize("lang", ["fa", "ar", "en"])
def test_emoji_sequences_survive(seq: str, lang: str) -> None:
    text = f"سلام {seq} دنیا"
    out = normalize_text(text, lang=lang)
    assert seq in out
    assert normalize_text(out, lang=lang) == out
    assert seq in normalize_text(text, lang=lang, ascii_digits=lang != "en")


def test_stray_zwj_still_removed() -> None:
    assert normalize_text("کتا\u200dب") == "کتاب"
    assert normalize_text("a\u200d b", lang="en") == "a b"
    assert normalize_text("👍\u200d ok", lang="en") == "👍 ok"  # no emoji after it
    assert normalize_text("کتا\u200dب", control=False) == "کتا\u200dب"


def test_kernel_zwj_rule_both_implementations(impl: Any) -> None:
    k = impl.load("text")
    table = _table("fa", True, "fa", True, True, True, True)
    for seq in EMOJI:
        assert k.normalize_chars(seq, table, True, True, True) == seq
    assert k.normalize_chars("a\u200d\u200db", table, True, True, True) == "ab"
    assert k.normalize_chars("👨\u200d\u200d👩", table, True, True, True) == "👨\u200d👩"
    assert k.normalize_chars("👨\u200d 👩", table, True, True, True) == "👨 👩"
    assert k.normalize_chars("a\u200db", table, True, True, False) == "a\u200db"
    assert k.is_pictographic(0x1F600) and not k.is_pictographic(ord("a"))
    assert k.emoji_continues(0xFE0F) and not k.emoji_continues(ord("ب"))


# ---------------------------------------------------------------- idempotence
def test_nfkc_after_stripping() -> None:
    for text in ("e\u200b\u0301", "a\u00ad\u0308", "ي\u0640\u0654", "A\u200f\u030a"):
        once = normalize_text(text, lang="en") if text[0].isascii() else normalize_text(text)
        assert unicodedata.is_normalized("NFKC", once)
        assert normalize_text(once, lang="en" if text[0].isascii() else "fa") == once


_ANY = st.text(alphabet=st.sampled_from(list(
    "ابپکگیيكئأؤءهة" "۰۱۲۳٤٥0123456789" "aeAZ_@.:/#*" "\u0301\u0308\u030a\u0654\u0655\u064e\u0651\u0670"
    "\u200b\u200c\u200d\u200e\u200f\u00ad\ufeff\u0640\ufe0f\u20e3" " \n\t" "👨👩🏽🌈🏳❤🔥" "ﻙﻻﷲ①ｈ")), max_size=40)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(_ANY, st.sampled_from(["fa", "ar", "en"]), st.booleans())
def test_idempotent_on_mixed_text(text: str, lang: str, ascii_digits: bool) -> None:
    kw = {"lang": lang, "ascii_digits": ascii_digits and lang != "en"}
    once = normalize_text(text, **kw)  # type: ignore[arg-type]
    assert normalize_text(once, **kw) == once  # type: ignore[arg-type]
    assert unicodedata.is_normalized("NFKC", once)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_ANY)
def test_twins_agree_with_zwj_rule(text: str) -> None:
    import importlib

    from swfast._native._compat import NO_EXTENSIONS

    if NO_EXTENSIONS:
        pytest.skip("compiled kernels disabled")
    c = importlib.import_module("swfast._native._text_c")
    py = importlib.import_module("swfast._native._text_py")
    table = _table("fa", True, "fa", True, True, True, True)
    for flags in ((True, True, True), (False, True, True), (True, False, False)):
        assert c.normalize_chars(text, table, *flags) == py.normalize_chars(text, table, *flags)


# ---------------------------------------------------------------- digits
def test_ascii_digits_kept_by_default() -> None:
    assert normalize_text("قیمت 120 تومان و ٤٥") == "قیمت 120 تومان و ۴۵"
    assert normalize_text("version 2.0 of 3", lang="en") == "version 2.0 of 3"
    assert normalize_text("٤٥ ۱۲", lang="en") == "45 12"  # other scripts' digits become ASCII
    assert normalize_text("۱۲ 34", lang="ar") == "١٢ 34"


def test_ascii_digits_on_request_spare_urls_emails_identifiers() -> None:
    text = ("نسخه v2 از https://example.ir/p/123?id=45 و ali99@mail42.com با کد H2O و user_42 "
            "و 0x1F و 1️⃣ و 2FA و www.site7.ir قیمت 120")
    out = normalize_text(text, ascii_digits=True)
    for kept in ("v2", "https://example.ir/p/123?id=45", "ali99@mail42.com", "H2O", "user_42", "0x1F",
                 "1️⃣", "2FA", "www.site7.ir"):
        assert kept in out, kept
    assert out.endswith("قیمت ۱۲۰")
    assert normalize_text(out, ascii_digits=True) == out
    assert normalize_text("120", digits="ar", ascii_digits=True) == "١٢٠"
    assert normalize_text("120", digits="en", ascii_digits=True) == "120"
    with pytest.raises(ConfigurationError, match="ascii_digits"):
        normalize_text("120", lang="en", ascii_digits=True)
