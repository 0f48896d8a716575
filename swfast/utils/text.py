"""Persian-first text tools: ``normalize_text``, ``find_patterns``, ``text_metrics``.

Normalisation is table-driven: the enabled steps are folded into one 65,536-entry code-point table
(built once per option set) that the compiled kernel ``swfast._native.text`` applies in a single
pass together with the ZWNJ, ZWJ and whitespace rules; a second kernel pass joins affixes («می», «ها», «تر», ...)
and fixes punctuation spacing. Every step is switchable and the result is idempotent:
``normalize_text(normalize_text(s)) == normalize_text(s)`` (NFKC is applied again after stripping
until the text is stable). Hamza forms (ئ أ ؤ إ ء and the combining hamza) are letters and stay;
ZWJ survives inside emoji sequences; ASCII digits change only on request and never inside URLs,
e-mail addresses, identifiers or keycaps.
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from .._native.text import affix_join, count_text, normalize_chars
from ..errors import ConfigurationError

_DIGITS = {"en": "0123456789", "fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩"}
_LANGS = ("fa", "ar", "en")
# Arabic letter forms folded to their Persian letters. Yeh with hamza (ئ) is a Persian letter too
# («مسئله», «آئین»): it is kept, as in hazm's lexicon.
_ARABIC_TO_PERSIAN = {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "ہ": "ه",
                      "ۂ": "ه", "ۃ": "ه", "ھ": "ه", "ٱ": "ا", "ڪ": "ک", "ۍ": "ی", "ێ": "ی",
                      "ې": "ی", "ۑ": "ی"}
# Harakat, tanwin, shadda, sukun and Quranic marks; not maddah and hamza above/below
# (U+0653..U+0655), which form letters («آ», «ئ», «أ»).
_DIACRITICS = [*range(0x064B, 0x0653), *range(0x0656, 0x0660), 0x0670, *range(0x0610, 0x061B), *range(0x06D6, 0x06DD),
               *range(0x06DF, 0x06E5), 0x06E7, 0x06E8, *range(0x06EA, 0x06EE)]
# ZWJ (U+200D) is not here: the kernel's ZWJ rule keeps it inside emoji sequences only.
_CONTROL = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0x200B,
            0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF,
            0x00AD, 0x061C]
_SPACES = [0x09, 0xA0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000, 0x2028, 0x2029]


@lru_cache(maxsize=32)
def _table(lang: str, arabic_letters: bool, digits: str | None, diacritics: bool,
           control: bool, kashida: bool, whitespace: bool) -> array:  # type: ignore[type-arg]
    t = array("i", range(0x10000))
    if whitespace:
        for c in _SPACES:
            t[c] = 0x20
        t[0x0D] = -1
    if control:
        for c in _CONTROL:
            t[c] = -1
    if diacritics:
        for c in _DIACRITICS:
            t[c] = -1
    if kashida:
        t[0x0640] = -1
    if arabic_letters and lang == "fa":
        for src, dst in _ARABIC_TO_PERSIAN.items():
            t[ord(src)] = ord(dst)
    if digits is not None:  # Persian and Arabic-Indic digits; ASCII ones only on request
        for script in ("fa", "ar"):
            for i, ch in enumerate(_DIGITS[script]):
                t[ord(ch)] = ord(_DIGITS[digits][i])
    return t


# Where ASCII digits are never rewritten: URLs, e-mail addresses, identifiers (ASCII words with
# a letter or "_": v2, mp3, H2O, user_42, 0x1F) and keycaps (1️⃣).
_KEEP_DIGITS = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'«»]+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+"
    r"|[A-Za-z0-9_]*[A-Za-z_][A-Za-z0-9_]*"
    r"|[0-9#*]\ufe0f?\u20e3")
_FROM_ASCII = {k: str.maketrans("0123456789", v) for k, v in _DIGITS.items()}


def _ascii_digits(text: str, target: str) -> str:
    table = _FROM_ASCII[target]
    out: list[str] = []
    pos = 0
    for m in _KEEP_DIGITS.finditer(text):
        out.append(text[pos:m.start()].translate(table))
        out.append(m.group())
        pos = m.end()
    out.append(text[pos:].translate(table))
    return "".join(out)


def normalize_text(text: str, *, lang: str = "fa", nfkc: bool = True,
                   arabic_letters: bool = True, digits: str | None = "auto",
                   ascii_digits: bool = False,
                   diacritics: bool = True, zwnj: bool = True, affix_spacing: bool = True,
                   punctuation_spacing: bool = True,
                   whitespace: bool = True, control: bool = True,
                   kashida: bool = True) -> str:
    """Normalise ``text``; each step can be switched off. Thread-safe and idempotent.

    Args:
        text: the text.
        lang: ``"fa"`` (Persian: folds Arabic letter forms, spaces affixes), ``"ar"`` or
            ``"en"`` (only the script-neutral steps and digits).
        nfkc: Unicode NFKC (presentation forms and ligatures to letters, full-width characters
            to ASCII), before the other steps and again after them until the text is stable.
        arabic_letters: fold Arabic ي ى ك ة ۀ and similar forms to Persian ی ک ه (``fa`` only);
            hamza forms (ئ أ ؤ إ ء) are kept.
        digits: convert Persian and Arabic-Indic digits to one form: ``"fa"``, ``"en"``,
            ``"ar"``, ``"auto"`` (the form of ``lang``), or ``None`` to keep them.
        ascii_digits: also convert ASCII digits to ``digits`` (off by default; never inside
            URLs, e-mail addresses, identifiers such as ``v2``/``H2O`` or keycaps; refused with
            ``lang="en"``).
        diacritics: remove harakat, tanwin, shadda, sukun, superscript alef and Quranic marks
            (maddah and hamza above/below are kept: they form letters).
        zwnj: keep a zero-width non-joiner only between a left-joining letter and another
            letter (never after non-joining letters such as ا د ر ز و, never at word edges).
        affix_spacing: join «می»/«نمی» to the verb and «ها»/«های»/«تر»/«ترین»/«گر»/«ام»/«اش»...
            to the word with a ZWNJ (``fa`` only).
        punctuation_spacing: no space before ``. : ! ، ؛ ؟ » ) ] }`` or after ``« ( [ {``
            (``fa`` only).
        whitespace: collapse space runs (tabs and Unicode spaces included), trim lines, keep
            at most one blank line, drop carriage returns.
        control: strip control characters, zero-width spaces, bidi marks, the BOM and zero-width
            joiners outside emoji sequences (👨‍👩‍👧 and 🏳️‍🌈 keep theirs).
        kashida: remove tatweel (ـ).

    Raises:
        ConfigurationError: unknown ``lang`` or ``digits``, or ``ascii_digits`` with ``lang="en"``.
    """
    if lang not in _LANGS:
        raise ConfigurationError("lang", f"{lang!r} is not supported; use one of {_LANGS}")
    if digits == "auto":
        digits = lang
    if digits is not None and digits not in _DIGITS:
        raise ConfigurationError("digits", f"{digits!r}: use 'fa', 'en', 'ar', 'auto' or None")
    if ascii_digits and lang == "en":
        raise ConfigurationError("ascii_digits", "ASCII digits are never rewritten in English text")
    if not isinstance(text, str):
        raise ConfigurationError("text", f"expected str, got {type(text).__name__}")
    table = _table(lang, arabic_letters, digits, diacritics, control, kashida, whitespace)
    punct = punctuation_spacing and whitespace
    fa_spacing = lang == "fa" and (affix_spacing or punct)
    for _ in range(4):  # stripping can bring a base and a mark together: NFKC again, until stable
        if nfkc and not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        n = len(text)
        text = normalize_chars(text, table, zwnj, whitespace, control)
        if fa_spacing:
            text = affix_join(text, affix_spacing, punct)
        # the table maps to NFKC-stable characters one for one: only a deletion can bring a
        # base and a combining mark together
        if not nfkc or len(text) == n or unicodedata.is_normalized("NFKC", text):
            break
    if ascii_digits and digits is not None and digits != "en":
        text = _ascii_digits(text, digits)
    return text


# ------------------------------------------------------------------ patterns
_D = "[0-9]"  # patterns run on an ASCII-digit copy of the text (same offsets)
_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
                        r"(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![\w-])"),
    "url": re.compile(r"\b(?:https?://|www\.)[^\s<>\"'«»]{1,2000}[^\s<>\"'«».,;:!?،؛؟)\]]"),
    "phone": re.compile(
        rf"(?<![\w+])(?:(?:\+|00)98[\s-]?|0)9{_D}{{2}}[\s-]?{_D}{{3}}[\s-]?{_D}{{4}}(?!{_D})"
        rf"|(?<![\w+])(?:(?:\+|00)98[\s-]?|0)[1-8]{_D}{{1,2}}[\s-]?{_D}{{7,8}}(?!{_D})"
        rf"|(?<![\w+])\+[1-9]{_D}{{7,14}}(?!{_D})"),
    "card": re.compile(rf"(?<!{_D})(?:{_D}{{4}}[ -]?){{3}}{_D}{{4}}(?:[ -]?{_D}{{1,3}})?(?!{_D})"),
    "date": re.compile(
        rf"(?<!{_D})(?:{_D}{{4}}[-/.]{_D}{{1,2}}[-/.]{_D}{{1,2}}"
        rf"|{_D}{{1,2}}[-/.]{_D}{{1,2}}[-/.]{_D}{{4}})(?!{_D})"),
    "hashtag": re.compile(r"(?<![\w#])#[\w\u200c]{1,100}"),
    "mention": re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,32}\b"),
}
_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` (any script; spaces and dashes ignored) pass Luhn."""
    digits = [int(c) for c in number.translate(_TO_ASCII) if c.isdigit()]
    if len(digits) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """One match of :func:`find_patterns`: its kind, the text, ``[start, end)`` offsets and a
    canonical form (ASCII digits, no separators for phones and cards, lower-case emails)."""

    kind: str
    value: str
    start: int
    end: int
    normalized: str


def _canonical(kind: str, value: str) -> str:
    if kind == "email":
        return value.lower()
    if kind in ("phone", "card"):
        v = "".join(c for c in value.translate(_TO_ASCII) if c.isdigit() or c == "+")
        if kind == "phone":
            if v.startswith("0098"):
                v = "+98" + v[4:]
            elif v.startswith("0") and not v.startswith("00"):
                v = "+98" + v[1:]
        return v
    return value.translate(_TO_ASCII)


def find_patterns(text: str, kinds: Iterable[str] | None = None) -> list[PatternMatch]:
    """Find emails, URLs, phone numbers (Iranian ``+98``/``0098``/``09…`` and E.164), card
    numbers (Luhn-checked), dates, hashtags and mentions, sorted by position.

    Args:
        text: the text (Persian, Arabic and ASCII digits all match).
        kinds: which kinds to look for (default: all of ``email, url, phone, card, date,
            hashtag, mention``).

    Raises:
        ConfigurationError: an unknown kind.
    """
    wanted = tuple(_PATTERNS) if kinds is None else tuple(kinds)
    for k in wanted:
        if k not in _PATTERNS:
            raise ConfigurationError("kinds", f"unknown kind {k!r}; use {sorted(_PATTERNS)}")
    out: list[PatternMatch] = []
    taken: list[tuple[int, int]] = []
    ascii_text = text.translate(_TO_ASCII)  # one-to-one, so offsets are unchanged
    for kind in ("email", "url", "card", "phone", "date", "hashtag", "mention"):
        if kind not in wanted:
            continue
        for m in _PATTERNS[kind].finditer(ascii_text):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue  # a URL's digits are not also a phone number
            if kind == "card" and not luhn_valid(m.group()):
                continue
            taken.append((s, e))
            out.append(PatternMatch(kind, text[s:e], s, e, _canonical(kind, m.group())))
    out.sort(key=lambda p: p.start)
    return out


def text_metrics(text: str, *, words_per_minute: float = 180.0) -> dict[str, float]:
    """Count characters, words, sentences and paragraphs and derive reading statistics.

    Works on Persian: words keep their inner ZWNJ («می‌روم» is one word) and ``؟`` ends a
    sentence. ``reading_time_s`` uses ``words_per_minute`` (about 180 for Persian readers).
    """
    if words_per_minute <= 0:
        raise ConfigurationError("words_per_minute", "must be positive")
    (chars, spaces, letters, digits, arabic, latin, words, sentences, paragraphs,
     word_chars) = count_text(text)
    return {
        "characters": chars,
        "characters_no_spaces": chars - spaces,
        "letters": letters,
        "digits": digits,
        "words": words,
        "sentences": sentences,
        "paragraphs": paragraphs,
        "avg_word_length": word_chars / words if words else 0.0,
        "avg_sentence_words": words / sentences if sentences else 0.0,
        "arabic_script_ratio": arabic / letters if letters else 0.0,
        "latin_ratio": latin / letters if letters else 0.0,
        "reading_time_s": words * 60.0 / words_per_minute,
    }


__all__ = ["PatternMatch", "find_patterns", "luhn_valid", "normalize_text", "text_metrics"]
