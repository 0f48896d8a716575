"""Persian-aware text tools: normalisation (kernel and policy), patterns, metrics."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swfast.errors import ConfigurationError
from swfast.utils.text import _table, find_patterns, luhn_valid, normalize_text, text_metrics

ZWNJ = "\u200c"

# Hand-checked sample: input -> expected swfast output.
HAND_CHECKED = [
    ("اصلاح نويسه ها و استفاده از نیم‌فاصله پردازش را آسان مي كند ۱۲۳ 123",
     "اصلاح نویسه‌ها و استفاده از نیم‌فاصله پردازش را آسان می‌کند ۱۲۳ 123"),  # ASCII digits stay
    ("اِعلام کَرد : « زمین لرزه ای به بُزرگیِ 6 دهم ریشتر »",
     "اعلام کرد: «زمین لرزه‌ای به بزرگی 6 دهم ریشتر»"),
    ("‌سلام‌ به ‌همه‌", "سلام به همه"),
    ("کتاب ها و دیوار‌ها بزرگ تر و بزرگ ترین هستند", "کتاب‌ها و دیوارها بزرگ‌تر و بزرگ‌ترین هستند"),
    ("سلام   دنیـــا\t\t\r\nخط دوم\n\n\n\nخط سوم", "سلام دنیا\nخط دوم\n\nخط سوم"),
    ("ﻻ ﷲ ك ي ة ۀ ٤٥٦", "لا الله ک ی ه ه ۴۵۶"),
    ("خانه ی من", "خانه‌ی من"),
    ("رفته ام و گفته اند", "رفته‌ام و گفته‌اند"),
    ("نمی خواهم", "نمی‌خواهم"),
    ("کار\u200c\u200c\u200cها", "کارها"),  # no ZWNJ after the non-joining ر
    ("\u200fمتن\u200e\x00\x07 با\ufeff کنترل", "متن با کنترل"),
]


@pytest.mark.parametrize("raw, expected", HAND_CHECKED)
def test_hand_checked_sample(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
    assert normalize_text(expected) == expected


def test_kernel_twins_agree(impl: Any) -> None:
    k = impl.load("text")
    table = _table("fa", True, "fa", True, True, True, True)
    import swfast._native._text_py as twin

    for raw, _ in HAND_CHECKED:
        assert k.normalize_chars(raw, table, True, True) == \
            twin.normalize_chars(raw, table, True, True)
        assert k.count_text(raw) == twin.count_text(raw)
    assert k.normalize_chars("a  b\u200c", table, True, True) == "a b"
    assert k.normalize_chars("a  b", table, False, False) == "a  b"
    assert k.joins_left(ord("ب")) and not k.joins_left(ord("ر"))
    assert k.is_arabic_letter(ord("پ")) and not k.is_arabic_letter(ord("a"))


PERSIAN = st.text(alphabet=st.sampled_from(list(
    "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀآأإؤئ" "۰۱۲۳۴۵۶۷۸۹0123456789٤"
    "َُِّْـ" " \t\n\r.:!،؛؟«»()" + ZWNJ + "\u200d\u200f\x00" + "میهاترینامabc٪")),
    max_size=60)
AFFIXY = st.lists(st.sampled_from(["می", "نمی", "ها", "های", "تر", "ترین", "گر", "ام", "اند",
                                   "ای", "ی", "ه", "خانه", "دیوار", "کتاب", "abc", "٤", "۱",
                                   "«", "»", ".", "؟", "\n", ZWNJ, "ر", "بزرگ"]),
                  max_size=14).map(" ".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(PERSIAN | AFFIXY, st.sampled_from(["fa", "en", None]))
def test_idempotent_on_generated_persian(text: str, digits: Any) -> None:
    once = normalize_text(text, digits=digits)
    assert normalize_text(once, digits=digits) == once
    assert "\u200c\u200c" not in once and not once.startswith(ZWNJ) and not once.endswith(ZWNJ)
    assert "  " not in once and "\r" not in once and "\x00" not in once


@settings(max_examples=300, deadline=None, derandomize=True)
@given(PERSIAN | AFFIXY)
def test_compiled_and_twin_normalise_identically(text: str) -> None:
    import importlib

    from swfast._native._compat import NO_EXTENSIONS

    table = _table("fa", True, "en", True, True, True, True)
    py = importlib.import_module("swfast._native._text_py")
    want = py.normalize_chars(text, table, True, True)
    if not NO_EXTENSIONS:
        c = importlib.import_module("swfast._native._text_c")
        assert c.normalize_chars(text, table, True, True) == want
        assert c.count_text(text) == py.count_text(text)
        for flags in ((True, True), (True, False), (False, True)):
            assert c.affix_join(want, *flags) == py.affix_join(want, *flags)


def test_steps_are_switchable() -> None:
    s = "كتاب مي خوانم ۱۲۳ 45 ـ َ"
    assert normalize_text(s, arabic_letters=False).startswith("كتاب")
    assert "123" in normalize_text(s, digits="en") and "45" in normalize_text(s, digits="en")
    assert "۱۲۳" in normalize_text(s, digits=None) and "45" in normalize_text(s, digits=None)
    assert "\u064e" in normalize_text(s, diacritics=False)
    assert "ـ" in normalize_text(s, kashida=False)
    assert "مي خوانم" in normalize_text(s, arabic_letters=False, affix_spacing=False)
    assert normalize_text("a   b", whitespace=False) == "a   b"
    assert normalize_text("x\u200cy", zwnj=False) == "x\u200cy"
    assert normalize_text("سلام .", punctuation_spacing=False) == "سلام ."
    assert normalize_text("سلام . « خوب »") == "سلام. «خوب»"


def test_english_and_arabic_modes() -> None:
    assert normalize_text("  Ｈｅｌｌｏ   world \r\n", lang="en", digits="en") == "Hello world"
    assert normalize_text("كتاب ١٢٣", lang="ar", digits="ar") == "كتاب ١٢٣"
    assert normalize_text("ﻻ", lang="ar") == "لا"
    assert normalize_text("ش\u0651ك\u064e", lang="ar") == "شك"


def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="lang"):
        normalize_text("x", lang="de")
    with pytest.raises(ConfigurationError, match="digits"):
        normalize_text("x", digits="roman")
    with pytest.raises(ConfigurationError, match="text"):
        normalize_text(b"x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="kinds"):
        find_patterns("x", kinds=["ssn"])


def test_find_patterns_with_positions() -> None:
    text = ("تماس: +98 912 345 6789 یا ۰۹۱۲۳۴۵۶۷۸۹ یا 0098-21-88776655 ایمیل A.B@X.co "
            "سایت https://x.ir/a?b=1. کارت 4111 1111 1111 1111 و 4111 1111 1111 1112 "
            "تاریخ ۱۴۰۳/۰۵/۱۲ و 2024-01-31 #تست_فارسی @user_1")
    found = find_patterns(text)
    for m in found:
        assert text[m.start:m.end] == m.value
    kinds = [(m.kind, m.normalized) for m in found]
    assert ("phone", "+989123456789") in kinds
    assert kinds.count(("phone", "+989123456789")) == 2
    assert ("phone", "+982188776655") in kinds
    assert ("email", "a.b@x.co") in kinds
    assert ("url", "https://x.ir/a?b=1") in kinds
    assert ("card", "4111111111111111") in kinds
    assert not any(n == "4111111111111112" for _, n in kinds)  # Luhn fails
    assert ("date", "1403/05/12") in kinds and ("date", "2024-01-31") in kinds
    assert ("hashtag", "#تست_فارسی") in kinds and ("mention", "@user_1") in kinds
    assert [m.kind for m in find_patterns(text, kinds=["email"])] == ["email"]
    assert find_patterns("") == []


def test_luhn() -> None:
    assert luhn_valid("6037-9975-9959-8475") is luhn_valid("6037997599598475")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert luhn_valid("۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱") and not luhn_valid("1234")


def test_text_metrics_persian() -> None:
    m = text_metrics("سلام. حال شما چطور است؟ من می‌روم!\n\nپاراگراف دوم")
    assert m["words"] == 9 and m["sentences"] == 4 and m["paragraphs"] == 2
    assert m["arabic_script_ratio"] == 1.0 and m["latin_ratio"] == 0.0
    assert m["reading_time_s"] == pytest.approx(9 * 60 / 180)
    mixed = text_metrics("Hello دنیا 123")
    assert mixed["words"] == 3 and mixed["digits"] == 3 and mixed["latin_ratio"] == pytest.approx(5 / 9)
    empty = text_metrics("")
    assert empty["words"] == 0 and empty["avg_word_length"] == 0.0
    with pytest.raises(ConfigurationError):
        text_metrics("x", words_per_minute=0)
