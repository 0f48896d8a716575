# cython: freethreading_compatible = False, cdivision = False
"""Compiled text kernel; the pure-Python twin is ``_text_py.py`` (same rules, see there)."""
from cpython.unicode cimport PyUnicode_READ, PyUnicode_KIND, PyUnicode_DATA
from libc.stdlib cimport malloc, free

cdef extern from "Python.h":
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch)
    bint Py_UNICODE_ISALPHA(Py_UCS4 ch)
    bint Py_UNICODE_ISDIGIT(Py_UCS4 ch)

cdef Py_UCS4 ZWNJ = 0x200C
cdef Py_UCS4 ZWJ = 0x200D
cdef Py_UCS4 SPACE = 0x20
cdef Py_UCS4 NEWLINE = 0x0A


cdef inline bint _is_arabic_letter(Py_UCS4 c) noexcept nogil:
    return ((0x0620 <= c <= 0x064A) or (0x066E <= c <= 0x06D3) or c == 0x06D5
            or (0x06FA <= c <= 0x06FC) or c == 0x06FF or (0x0750 <= c <= 0x077F))


cdef inline bint _right_joining(Py_UCS4 c) noexcept nogil:
    if c == 0x0621 or c == 0x0622 or c == 0x0623 or c == 0x0624 or c == 0x0625:
        return True
    if c == 0x0627 or c == 0x0629 or c == 0x062F or c == 0x0630 or c == 0x0631:
        return True
    if c == 0x0632 or c == 0x0648 or c == 0x0698 or c == 0x06C0 or c == 0x06CD:
        return True
    if c == 0x06D2 or c == 0x06D3 or c == 0x06D5 or (0x0671 <= c <= 0x0673):
        return True
    return (0x0688 <= c <= 0x0699) or (0x06C4 <= c <= 0x06CB)


cdef inline bint _joins_left(Py_UCS4 c) noexcept nogil:
    return _is_arabic_letter(c) and not _right_joining(c)


cdef inline bint _is_pictographic(Py_UCS4 c) noexcept nogil:
    if c >= 0x1F000:
        return c <= 0x1FAFF or (0x1FC00 <= c <= 0x1FFFD)
    if 0x2190 <= c <= 0x2BFF:
        return (c <= 0x21FF or (0x2300 <= c <= 0x23FF) or (0x25A0 <= c <= 0x27BF)
                or (0x2900 <= c <= 0x297F) or 0x2B00 <= c)
    return (c == 0xA9 or c == 0xAE or c == 0x203C or c == 0x2049 or c == 0x2122 or c == 0x2139
            or c == 0x3030 or c == 0x303D or c == 0x3297 or c == 0x3299)


cdef inline bint _emoji_continues(Py_UCS4 c) noexcept nogil:
    return (_is_pictographic(c) or c == 0xFE0F or c == 0x20E3 or (0x1F3FB <= c <= 0x1F3FF)
            or (0xE0020 <= c <= 0xE007F))


def is_pictographic(c):
    """Whether ``c`` is an emoji-like pictograph (Unicode Extended_Pictographic, by blocks)."""
    return _is_pictographic(<Py_UCS4>c)


def emoji_continues(c):
    """Whether an emoji ZWJ sequence may go on after ``c`` (an emoji or one of its modifiers)."""
    return _emoji_continues(<Py_UCS4>c)


def is_arabic_letter(c):
    """Whether code point ``c`` is an Arabic-script letter (Persian letters included)."""
    return _is_arabic_letter(<Py_UCS4>c)


def joins_left(c):
    """Whether an Arabic-script letter connects to the following letter (dual-joining)."""
    return _joins_left(<Py_UCS4>c)


def normalize_chars(str text, const int[:] table, bint zwnj, bint whitespace, bint zwj=False):
    """Map, then apply the ZWNJ, ZWJ and whitespace rules, in one pass (see the twin)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, m = 0, k
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c, prev = 0
    cdef int mapped
    cdef bint pending_zwnj = False, pending_space = False, pending_zwj = False
    cdef Py_ssize_t newlines = 0
    if table.shape[0] < 0x10000:
        raise ValueError("table: needs 65536 entries")
    cdef Py_UCS4* out = <Py_UCS4*>malloc((n + 1) * sizeof(Py_UCS4))
    if out == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c < 0x10000:
                mapped = table[c]
                if mapped < 0:
                    continue
                c = <Py_UCS4>mapped
            if zwnj and c == ZWNJ:
                pending_zwnj = True
                continue
            if zwj and c == ZWJ:
                pending_zwj = True
                continue
            if whitespace and c == SPACE:
                pending_space = True
                pending_zwnj = pending_zwj = False
                continue
            if whitespace and c == NEWLINE:
                pending_space = False
                pending_zwnj = pending_zwj = False
                newlines += 1
                continue
            if newlines:
                if prev:
                    for k in range(2 if newlines >= 2 else 1):
                        out[m] = NEWLINE
                        m += 1
                    prev = NEWLINE
                newlines = 0
                pending_space = False
            if pending_space:
                if prev:
                    out[m] = SPACE
                    m += 1
                    prev = SPACE
                pending_space = False
                pending_zwnj = pending_zwj = False
            if pending_zwnj:
                if _joins_left(prev) and _is_arabic_letter(c):
                    out[m] = ZWNJ
                    m += 1
                pending_zwnj = False
            if pending_zwj:
                if _emoji_continues(prev) and _is_pictographic(c):
                    out[m] = ZWJ
                    m += 1
                pending_zwj = False
            out[m] = c
            m += 1
            prev = c
        return PyUnicode_FromKindAndData(4, out, m)
    finally:
        free(out)


def count_text(str text):
    """Return ``(chars, spaces, letters, digits, arabic_script, latin, words, sentences,
    paragraphs, word_chars)`` in one pass (rules in the twin's docstring)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    cdef Py_ssize_t spaces = 0, letters = 0, digits = 0, arabic = 0, latin = 0
    cdef Py_ssize_t words = 0, sentences = 0, paragraphs = 0, word_chars = 0, newlines = 0
    cdef bint in_word = False, in_sentence = False, in_para = False, alpha, digit
    for i in range(n):
        c = PyUnicode_READ(kind, data, i)
        if Py_UNICODE_ISSPACE(c):
            spaces += 1
            in_word = False
            if c == NEWLINE:
                newlines += 1
                if newlines >= 2:
                    if in_sentence:
                        sentences += 1
                        in_sentence = False
                    in_para = False
            continue
        newlines = 0
        alpha = Py_UNICODE_ISALPHA(c)
        digit = Py_UNICODE_ISDIGIT(c)
        if alpha or digit or (c == ZWNJ and in_word) or (in_word and 0x064B <= c <= 0x065F):
            if not in_word:
                words += 1
                in_word = True
            word_chars += 1
            if digit:
                digits += 1
            elif alpha:
                letters += 1
                if _is_arabic_letter(c):
                    arabic += 1
                elif c < 0x250:
                    latin += 1
            in_sentence = True
            if not in_para:
                paragraphs += 1
                in_para = True
            continue
        in_word = False
        if c == 0x2E or c == 0x21 or c == 0x3F or c == 0x061F or c == 0x2026:
            if in_sentence:
                sentences += 1
                in_sentence = False
    if in_sentence:
        sentences += 1
    return (n, spaces, letters, digits, arabic, latin, words, sentences, paragraphs, word_chars)


cdef Py_UCS4 HEH = 0x0647
cdef Py_UCS4 YEH = 0x06CC
_SUFFIXES = frozenset(["تر", "ترین", "تری", "گر", "گری", "ها", "های"])
_VERB_ENDINGS = frozenset(["ام", "ایم", "اش", "اند", "ای", "اید", "ات"])
_MI = frozenset(["می", "نمی"])


cdef inline bint _punct_after(Py_UCS4 c) noexcept nogil:
    return (c == 0x2E or c == 0x3A or c == 0x21 or c == 0x060C or c == 0x061B or c == 0x061F
            or c == 0xBB or c == 0x5D or c == 0x29 or c == 0x7D)


cdef inline bint _punct_before(Py_UCS4 c) noexcept nogil:
    return c == 0xAB or c == 0x5B or c == 0x28 or c == 0x7B


def affix_join(str text, bint affixes=True, bint punct=True):
    """Persian spacing in one pass: affix joining and punctuation spacing (rules in the twin)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, m = 0, end, word_start = 0
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c, p1, p2, nx, e
    cdef bint join
    cdef Py_UCS4* out = <Py_UCS4*>malloc((n + 1) * sizeof(Py_UCS4))
    if out == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c != SPACE:
                if c == NEWLINE:
                    word_start = i + 1
                out[m] = c
                m += 1
                continue
            join = False
            p1 = PyUnicode_READ(kind, data, i - 1) if i >= 1 else 0
            p2 = PyUnicode_READ(kind, data, i - 2) if i >= 2 else 0
            nx = PyUnicode_READ(kind, data, i + 1) if i + 1 < n else 0
            if not affixes:
                pass
            elif p1 == HEH and _is_arabic_letter(p2) and nx == YEH and i + 2 < n \
                    and PyUnicode_READ(kind, data, i + 2) == SPACE:
                join = True
            elif _is_arabic_letter(nx) and 2 <= i - word_start <= 3 and p1 == YEH \
                    and text[word_start:i] in _MI:
                join = True
            elif _is_arabic_letter(p1) and _is_arabic_letter(p2) and (
                    nx == 0x062A or nx == 0x06AF or nx == 0x0647 or nx == 0x0627):
                end = i + 1
                while end < n:
                    e = PyUnicode_READ(kind, data, end)
                    if e == SPACE or e == NEWLINE or _punct_after(e) or _punct_before(e):
                        break
                    end += 1
                if 2 <= end - i - 1 <= 4:
                    word = text[i + 1:end]
                    if word in _SUFFIXES:
                        join = True
                    elif p1 == HEH and word in _VERB_ENDINGS and (
                            end == n or not _punct_before(PyUnicode_READ(kind, data, end))):
                        join = True
            word_start = i + 1
            if join:
                if _joins_left(p1):
                    out[m] = ZWNJ
                    m += 1
            elif not (punct and (_punct_after(nx) or _punct_before(p1))):
                out[m] = SPACE
                m += 1
        return PyUnicode_FromKindAndData(4, out, m)
    finally:
        free(out)
