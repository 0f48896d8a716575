"""Pure-Python twin of the compiled text kernel (``_text_c.pyx``).

Two one-pass functions over a string's code points:

* ``normalize_chars(text, table, zwnj, whitespace, zwj=False)``: map each code point through
  ``table`` (a sequence of 65,536 ints: ``-1`` deletes, otherwise the replacement code point;
  astral code points pass unchanged), then apply the zero-width non-joiner rule (a ZWNJ survives
  only between a letter that joins to the left and another Arabic-script letter; repeats
  collapse), with ``zwj`` the zero-width joiner rule (a ZWJ survives only inside an emoji
  sequence: after an emoji, a variation selector, a skin tone, a tag or a keycap mark and before
  a pictographic character; repeats collapse) and the whitespace rule (runs of spaces become one,
  no spaces at line ends, at most one blank line).
* ``count_text(text)``: character classes, words, sentences and paragraphs in one pass.
"""
from __future__ import annotations

_ZWNJ = 0x200C
_ZWJ = 0x200D
_SPACE = 0x20
_NEWLINE = 0x0A

_RIGHT_JOINING = frozenset(
    [0x0621, 0x0622, 0x0623, 0x0624, 0x0625, 0x0627, 0x0629, 0x062F, 0x0630, 0x0631, 0x0632,
     0x0648, 0x0698, 0x06C0, 0x06CD, 0x06D2, 0x06D3, 0x06D5, 0x0671, 0x0672, 0x0673]
    + list(range(0x0688, 0x069A)) + list(range(0x06C4, 0x06CC)))
_SENTENCE_END = frozenset(map(ord, ".!?؟…"))


def is_arabic_letter(c: int) -> bool:
    """Whether code point ``c`` is an Arabic-script letter (Persian letters included)."""
    return (0x0620 <= c <= 0x064A or 0x066E <= c <= 0x06D3 or c == 0x06D5
            or 0x06FA <= c <= 0x06FC or c == 0x06FF or 0x0750 <= c <= 0x077F)


def joins_left(c: int) -> bool:
    """Whether an Arabic-script letter connects to the following letter (dual-joining)."""
    return is_arabic_letter(c) and c not in _RIGHT_JOINING


def is_pictographic(c: int) -> bool:
    """Whether ``c`` is an emoji-like pictograph (Unicode Extended_Pictographic, by blocks)."""
    if c >= 0x1F000:
        return c <= 0x1FAFF or 0x1FC00 <= c <= 0x1FFFD
    if 0x2190 <= c <= 0x2BFF:
        return (c <= 0x21FF or 0x2300 <= c <= 0x23FF or 0x25A0 <= c <= 0x27BF
                or 0x2900 <= c <= 0x297F or 0x2B00 <= c)
    return c in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)


def emoji_continues(c: int) -> bool:
    """Whether an emoji ZWJ sequence may go on after ``c`` (an emoji or one of its modifiers)."""
    return (is_pictographic(c) or c == 0xFE0F or c == 0x20E3 or 0x1F3FB <= c <= 0x1F3FF
            or 0xE0020 <= c <= 0xE007F)


def normalize_chars(text: str, table: "object", zwnj: bool, whitespace: bool, zwj: bool = False) -> str:
    """Map, then apply the ZWNJ, ZWJ and whitespace rules, in one pass (see module docstring)."""
    out: list[int] = []
    pending_zwj = False
    pending_zwnj = False
    pending_space = False
    newlines = 0
    prev = 0  # last emitted code point (0 at the start)
    for ch in text:
        c = ord(ch)
        if c < 0x10000:
            c = table[c]  # type: ignore[index]
            if c < 0:
                continue
        if zwnj and c == _ZWNJ:
            pending_zwnj = True
            continue
        if zwj and c == _ZWJ:
            pending_zwj = True
            continue
        if whitespace and c == _SPACE:
            pending_space = True
            pending_zwnj = pending_zwj = False
            continue
        if whitespace and c == _NEWLINE:
            pending_space = False
            pending_zwnj = pending_zwj = False
            newlines += 1
            continue
        if newlines:
            if prev:
                out.extend([_NEWLINE] * min(newlines, 2))
                prev = _NEWLINE
            newlines = 0
            pending_space = False
        if pending_space:
            if prev:
                out.append(_SPACE)
                prev = _SPACE
            pending_space = False
            pending_zwnj = pending_zwj = False
        if pending_zwnj:
            if joins_left(prev) and is_arabic_letter(c):
                out.append(_ZWNJ)
            pending_zwnj = False
        if pending_zwj:
            if emoji_continues(prev) and is_pictographic(c):
                out.append(_ZWJ)
            pending_zwj = False
        out.append(c)
        prev = c
    return "".join(map(chr, out))


_HEH, _YEH = 0x0647, 0x06CC
_PUNCT_AFTER = frozenset(map(ord, ".:!،؛؟»])}"))
_PUNCT_BEFORE = frozenset(map(ord, "«[({"))
_WORD_END = _PUNCT_AFTER | _PUNCT_BEFORE | {_SPACE, _NEWLINE}
_SUFFIXES = frozenset(["تر", "ترین", "تری", "گر", "گری", "ها", "های"])
_VERB_ENDINGS = frozenset(["ام", "ایم", "اش", "اند", "ای", "اید", "ات"])
_MI = frozenset(["می", "نمی"])
_SUFFIX_STARTS = frozenset(map(ord, "تگها"))


def affix_join(text: str, affixes: bool = True, punct: bool = True) -> str:
    """Persian spacing in one pass over ``text``: affix joining and punctuation spacing.

    With ``punct``, a space before ``. : ! ، ؛ ؟ » ] ) }`` or after ``« [ ( {`` is dropped.
    With ``affixes``:
    a space becomes a ZWNJ (or disappears after a letter that does not join, «دیوار ها» ->
    «دیوارها») when it separates: «می»/«نمی» from the following word; a word ending in two
    letters from «تر», «ترین», «تری», «گر», «گری», «ها», «های»; a word ending in a letter and «ه»
    from «ی» followed by a space (ezafe) or from «ام», «ایم», «اش», «اند», «ای», «اید», «ات».
    Every decision looks at the input only, and never at a ZWNJ, so the result is stable.
    """
    n = len(text)
    cps = [ord(ch) for ch in text]
    out: list[str] = []
    word_start = 0
    for i, c in enumerate(cps):
        if c != _SPACE:
            if c == _NEWLINE:
                word_start = i + 1
            out.append(text[i])
            continue
        join = False
        p1 = cps[i - 1] if i >= 1 else 0
        p2 = cps[i - 2] if i >= 2 else 0
        nx = cps[i + 1] if i + 1 < n else 0
        if not affixes:
            pass
        elif p1 == _HEH and is_arabic_letter(p2) and nx == _YEH and i + 2 < n \
                and cps[i + 2] == _SPACE:
            join = True
        elif is_arabic_letter(nx) and text[word_start:i] in _MI:
            join = True
        elif is_arabic_letter(p1) and is_arabic_letter(p2) and nx in _SUFFIX_STARTS:
            end = i + 1
            while end < n and cps[end] not in _WORD_END:
                end += 1
            word = text[i + 1:end]
            if word in _SUFFIXES:
                join = True
            elif p1 == _HEH and word in _VERB_ENDINGS and (end == n
                                                           or cps[end] not in _PUNCT_BEFORE):
                join = True
        word_start = i + 1
        if join:
            if joins_left(p1):
                out.append("\u200c")
        elif not (punct and (nx in _PUNCT_AFTER or p1 in _PUNCT_BEFORE)):
            out.append(" ")
    return "".join(out)


def count_text(text: str) -> tuple[int, int, int, int, int, int, int, int, int, int]:
    """Return ``(chars, spaces, letters, digits, arabic_script, latin, words, sentences,
    paragraphs, word_chars)`` in one pass.

    A word is a maximal run of letters, digits, marks and inner ZWNJs; a sentence ends at
    ``. ! ? ؟ …`` (runs count once) or at a paragraph break; a paragraph is text between blank
    lines.
    """
    chars = spaces = letters = digits = arabic = latin = 0
    words = sentences = paragraphs = word_chars = 0
    in_word = False
    in_sentence = False
    in_para = False
    newlines = 0
    for ch in text:
        c = ord(ch)
        chars += 1
        if ch.isspace():
            spaces += 1
            in_word = False
            if c == _NEWLINE:
                newlines += 1
                if newlines >= 2:
                    if in_sentence:
                        sentences += 1
                        in_sentence = False
                    in_para = False
            continue
        newlines = 0
        if ch.isalpha() or ch.isdigit() or (c == _ZWNJ and in_word) or (
                in_word and 0x064B <= c <= 0x065F):
            if not in_word:
                words += 1
                in_word = True
            word_chars += 1
            if ch.isdigit():
                digits += 1
            elif ch.isalpha():
                letters += 1
                if is_arabic_letter(c):
                    arabic += 1
                elif c < 0x250:
                    latin += 1
            in_sentence = True
            if not in_para:
                paragraphs += 1
                in_para = True
            continue
        in_word = False
        if c in _SENTENCE_END:
            if in_sentence:
                sentences += 1
                in_sentence = False
    if in_sentence:
        sentences += 1
    return (chars, spaces, letters, digits, arabic, latin, words, sentences, paragraphs,
            word_chars)


__all__ = ["affix_join", "count_text", "emoji_continues", "is_arabic_letter", "is_pictographic", "joins_left",
           "normalize_chars"]
