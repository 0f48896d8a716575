# cython: freethreading_compatible = False, cdivision = True
"""Compiled redaction scanner; the pure-Python twin is ``_redscan_py.py`` (same rules, see there)."""
from cpython.unicode cimport PyUnicode_READ, PyUnicode_KIND, PyUnicode_DATA
from libc.stdlib cimport malloc, free
from cpython.dict cimport PyDict_Next, PyDict_GetItem
from cpython.object cimport PyObject

cdef extern from "Python.h":
    Py_ssize_t PyUnicode_GET_LENGTH(object o)

DEF EMAIL = 1
DEF CARD = 2
DEF JWT = 3
DEF BEARER = 4
DEF AWS_KEY = 5
DEF SECRET = 6
DEF URL_CREDENTIALS = 7
DEF PRIVATE_KEY = 8
DEF NATIONAL_ID = 9
DEF IBAN = 10
DEF PHONE = 11

_AWS_PREFIXES = frozenset({"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "APKA"})
_NID_CONTEXT = ("ملی", "national", "melli", "nid", "کد")


cdef inline int _dv(Py_UCS4 c) noexcept nogil:
    if 48 <= c <= 57:
        return <int>c - 48
    if 0x06F0 <= c <= 0x06F9:
        return <int>c - 0x06F0
    if 0x0660 <= c <= 0x0669:
        return <int>c - 0x0660
    return -1


cdef inline bint _alpha(Py_UCS4 c) noexcept nogil:
    return (65 <= c <= 90) or (97 <= c <= 122)


cdef inline bint _word(Py_UCS4 c) noexcept nogil:
    return (65 <= c <= 90) or (97 <= c <= 122) or (48 <= c <= 57) or c == 95


cdef inline bint _b64url(Py_UCS4 c) noexcept nogil:
    return _word(c) or c == 45


cdef inline bint _local(Py_UCS4 c) noexcept nogil:
    return _word(c) or c == 46 or c == 37 or c == 43 or c == 45


cdef inline bint _label(Py_UCS4 c) noexcept nogil:
    return (_word(c) and c != 95) or c == 45


cdef inline bint _value_end(Py_UCS4 c) noexcept nogil:
    return (c == 32 or c == 9 or c == 13 or c == 10 or c == 38 or c == 44 or c == 59 or c == 34
            or c == 39 or c == 125 or c == 41 or c == 93 or c == 60 or c == 62)


cdef inline bint _url_end(Py_UCS4 c) noexcept nogil:
    return (c == 32 or c == 9 or c == 13 or c == 10 or c == 47 or c == 63 or c == 35 or c == 34
            or c == 39 or c == 60 or c == 62)


cdef inline bint _bearer_char(Py_UCS4 c) noexcept nogil:
    return _word(c) or c == 45 or c == 46 or c == 126 or c == 43 or c == 47


cdef bint _luhn(int* d, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef int total = 0, v
    cdef bint odd = False
    cdef Py_ssize_t k = b - 1
    while k >= a:
        v = d[k]
        if odd:
            v *= 2
            if v > 9:
                v -= 9
        total += v
        odd = not odd
        k -= 1
    return total % 10 == 0


cdef bint _nid_ok(int* d, Py_ssize_t a) noexcept nogil:
    cdef int s = 0, k, check
    cdef bint same = True
    for k in range(10):
        if d[a + k] != d[a]:
            same = False
    if same:
        return False
    for k in range(9):
        s += d[a + k] * (10 - k)
    s %= 11
    check = d[a + 9]
    if s < 2:
        return check == s
    return check == 11 - s


cdef bint _epoch(int* d, Py_ssize_t a) noexcept nogil:
    cdef long long value = 0
    cdef int k
    for k in range(10):
        value = value * 10 + d[a + k]
    return 1000000000 <= value < 2100000000


cdef int _classify(int* d, Py_ssize_t a, Py_ssize_t b, Py_ssize_t nseg, bint fours, Py_ssize_t last,
                   Py_ssize_t l0, Py_ssize_t l1, Py_ssize_t l2, bint plus) noexcept nogil:
    cdef Py_ssize_t n = b - a
    cdef bint shape
    if n == 11 and d[a] == 0 and d[a + 1] == 9:
        return PHONE
    if n == 12 and plus and d[a] == 9 and d[a + 1] == 8 and d[a + 2] == 9:
        return PHONE
    if n == 14 and d[a] == 0 and d[a + 1] == 0 and d[a + 2] == 9 and d[a + 3] == 8 and d[a + 4] == 9:
        return PHONE
    if 13 <= n <= 19 and 2 <= d[a] <= 6:
        shape = nseg == 1 or (fours and last <= 4) or (l0 == 4 and l1 == 6 and (l2 == 5 or l2 == 4))
        if shape and _luhn(d, a, b):
            return CARD
    if n == 10 and nseg == 1 and _nid_ok(d, a):
        return NATIONAL_ID
    return 0


cimport cython


@cython.freelist(4)
cdef class _Out:
    cdef list spans  # None: only count what is found
    cdef Py_ssize_t last_end
    cdef Py_ssize_t found
    cdef long long enabled

    cdef inline void emit(self, Py_ssize_t s, Py_ssize_t e, int kind):
        if (self.enabled >> kind) & 1 and s >= self.last_end and e > s:
            if self.spans is not None:
                self.spans.append((s, e, kind))
            self.found += 1
            self.last_end = e


def scan(str text, long long enabled, keys):
    """Spans ``(start, end, kind)`` of sensitive data in ``text`` and the steps taken."""
    cdef long long steps = 0
    cdef _Out out = _Out.__new__(_Out)
    out.spans = []
    _scan(text, enabled, keys, out, &steps)
    return out.spans, steps


cdef bint _finds(str text, long long enabled, keys) except -1:
    """Whether :func:`scan` finds anything in ``text``."""
    cdef long long steps = 0
    cdef _Out out = _Out.__new__(_Out)
    _scan(text, enabled, keys, out, &steps)
    return out.found > 0


cdef int _scan(str text, long long enabled, keys, _Out out, long long* stepsp) except -1:
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef int ukind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    out.last_end = 0
    out.found = 0
    out.enabled = enabled
    cdef long long steps = 0
    cdef Py_ssize_t i = 0, j, a, b, s, e, s0, nseg, nd, found_e, start, k, dots, label
    cdef Py_UCS4 c, prev, ch
    cdef int found, kind
    cdef bint plus, fours, tld_alpha
    # short texts (the common log line) use stack buffers: no malloc per scan
    cdef int d_small[257]
    cdef Py_ssize_t ss_small[257]
    cdef Py_ssize_t se_small[257]
    cdef Py_ssize_t sp_small[258]
    cdef bint heap = n > 256
    cdef int* d = d_small
    cdef Py_ssize_t* seg_start = ss_small
    cdef Py_ssize_t* seg_end = se_small
    cdef Py_ssize_t* seg_pos = sp_small
    if heap:
        d = <int*>malloc((n + 1) * sizeof(int))
        seg_start = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
        seg_end = <Py_ssize_t*>malloc((n + 1) * sizeof(Py_ssize_t))
        seg_pos = <Py_ssize_t*>malloc((n + 2) * sizeof(Py_ssize_t))
        if d == NULL or seg_start == NULL or seg_end == NULL or seg_pos == NULL:
            free(d); free(seg_start); free(seg_end); free(seg_pos)
            raise MemoryError()
    try:
        while i < n:
            steps += 1
            c = PyUnicode_READ(ukind, data, i)
            prev = PyUnicode_READ(ukind, data, i - 1) if i else 0
            if _dv(c) >= 0:
                if i and (_word(prev) or _dv(prev) >= 0):
                    i += 1
                    continue
                nd = 0
                nseg = 0
                seg_pos[0] = 0
                j = i
                while True:
                    s0 = j
                    while j < n and _dv(PyUnicode_READ(ukind, data, j)) >= 0:
                        d[nd] = _dv(PyUnicode_READ(ukind, data, j))
                        nd += 1
                        j += 1
                        steps += 1
                    seg_start[nseg] = s0
                    seg_end[nseg] = j
                    nseg += 1
                    seg_pos[nseg] = nd
                    if j + 1 < n:
                        ch = PyUnicode_READ(ukind, data, j)
                        if (ch == 32 or ch == 45) and _dv(PyUnicode_READ(ukind, data, j + 1)) >= 0:
                            j += 1
                            continue
                    break
                if j < n and _word(PyUnicode_READ(ukind, data, j)):
                    nseg -= 1
                    while j < n and _word(PyUnicode_READ(ukind, data, j)):
                        j += 1
                        steps += 1
                plus = i > 0 and prev == 43
                s = 0
                while s < nseg:
                    found = 0
                    found_e = -1
                    fours = True
                    e = s
                    while e < nseg:
                        steps += 1
                        a = seg_pos[s]
                        b = seg_pos[e + 1]
                        if b - a > 19:
                            break
                        if e > s and seg_pos[e] - seg_pos[e - 1] != 4:
                            fours = False
                        if b - a >= 10:
                            if e == s or fours or e == s + 2:
                                steps += b - a
                            if e == s + 2:
                                kind = _classify(d, a, b, e - s + 1, fours, seg_pos[e + 1] - seg_pos[e],
                                                 seg_pos[s + 1] - a, seg_pos[s + 2] - seg_pos[s + 1],
                                                 b - seg_pos[s + 2], plus and s == 0)
                            else:
                                kind = _classify(d, a, b, e - s + 1, fours, seg_pos[e + 1] - seg_pos[e],
                                                 0, 0, 0, plus and s == 0)
                            if kind == NATIONAL_ID and _epoch(d, a):
                                window = text[max(0, seg_start[s] - 24):seg_start[s]].lower()
                                if not any(w in window for w in _NID_CONTEXT):
                                    kind = 0
                            if kind and (enabled >> kind) & 1:
                                found = kind
                                found_e = e
                        e += 1
                    if found:
                        start = seg_start[s] - 1 if (s == 0 and plus and found == PHONE) else seg_start[s]
                        out.emit(start, seg_end[found_e], found)
                        s = found_e + 1
                    else:
                        s += 1
                i = j
                continue
            if _alpha(c) and not (i and (_word(prev) or _dv(prev) >= 0)):
                i = _scan_word(text, ukind, data, i, n, &steps, keys, out)
                continue
            if c == 64:
                a = i
                while a > 0 and i - a < 64 and _local(PyUnicode_READ(ukind, data, a - 1)):
                    a -= 1
                    steps += 1
                if a < i and a >= out.last_end:
                    j = i + 1
                    dots = 0
                    label = 0
                    tld_alpha = True
                    while j < n and j - i <= 255:
                        steps += 1
                        ch = PyUnicode_READ(ukind, data, j)
                        if _label(ch):
                            if label == 0:
                                tld_alpha = True
                            if not _alpha(ch):
                                tld_alpha = False
                            label += 1
                        elif ch == 46 and label and j + 1 < n and _label(PyUnicode_READ(ukind, data, j + 1)):
                            dots += 1
                            label = 0
                        else:
                            break
                        j += 1
                    if dots and label >= 2 and tld_alpha:
                        out.emit(a, j, EMAIL)
                        i = j
                        continue
                i += 1
                continue
            if c == 45 and i + 1 < n and PyUnicode_READ(ukind, data, i + 1) == 45 and text.startswith("-----BEGIN ", i):
                head = text.find("-----", i + 11, i + 100)
                if head >= 0 and "PRIVATE KEY" in text[i + 11:head]:
                    end = text.find("-----END", head + 5)
                    if end < 0:
                        end = n
                    else:
                        close = text.find("-----", end + 8, end + 100)
                        end = close + 5 if close >= 0 else n
                    steps += end - i
                    out.emit(i, end, PRIVATE_KEY)
                    i = end
                    continue
            i += 1
    finally:
        if heap:
            free(d); free(seg_start); free(seg_end); free(seg_pos)
        stepsp[0] = steps
    return 0


cdef inline bint _at(int ukind, void* data, Py_ssize_t n, Py_ssize_t k, Py_UCS4 a, Py_UCS4 b, Py_UCS4 c) noexcept:
    return (k + 2 < n and PyUnicode_READ(ukind, data, k) == a and PyUnicode_READ(ukind, data, k + 1) == b
            and PyUnicode_READ(ukind, data, k + 2) == c)


cdef Py_ssize_t _scan_word(str text, int ukind, void* data, Py_ssize_t i, Py_ssize_t n, long long* stepsp, keys,
                           _Out out) except -1:
    cdef long long steps = stepsp[0]
    try:
        return _scan_word2(text, ukind, data, i, n, &steps, keys, out)
    finally:
        stepsp[0] = steps


cdef Py_ssize_t _scan_word2(str text, int ukind, void* data, Py_ssize_t i, Py_ssize_t n, long long* sp, keys,
                            _Out out) except -1:
    cdef Py_ssize_t j = i, k, t, v, length, ndig, h
    cdef Py_UCS4 c0, ch, quote
    cdef int dv, dots, r, x
    cdef int digits[24]
    while j < n:
        ch = PyUnicode_READ(ukind, data, j)
        if _word(ch) or (ch == 45 and j + 1 < n and _alpha(PyUnicode_READ(ukind, data, j + 1))):
            j += 1
            sp[0] += 1
        else:
            break
    c0 = PyUnicode_READ(ukind, data, i)
    if (((<int>c0) | 32) == 105 and i + 2 < n and ((<int>PyUnicode_READ(ukind, data, i + 1)) | 32) == 114
            and _dv(PyUnicode_READ(ukind, data, i + 2)) >= 0):
        k = i + 2
        ndig = 0
        while k < n and ndig < 24:
            sp[0] += 1
            ch = PyUnicode_READ(ukind, data, k)
            dv = _dv(ch)
            if dv >= 0:
                digits[ndig] = dv
                ndig += 1
                k += 1
            elif (ch == 32 or ch == 45) and k + 1 < n and _dv(PyUnicode_READ(ukind, data, k + 1)) >= 0:
                k += 1
            else:
                break
        if ndig == 24 and not (k < n and (_word(PyUnicode_READ(ukind, data, k))
                                          or _dv(PyUnicode_READ(ukind, data, k)) >= 0)):
            r = 0
            for x in range(2, 24):
                r = (r * 10 + digits[x]) % 97
            for x in (1, 8, 2, 7):
                r = (r * 10 + x) % 97
            r = (r * 10 + digits[0]) % 97
            r = (r * 10 + digits[1]) % 97
            if r == 1:
                out.emit(i, k, IBAN)
                sp[0] += 26
                return k
    length = j - i
    if _at(ukind, data, n, i, 101, 121, 74):  # JWT: "eyJ" header >= 16 chars, ".eyJ", one more dot
        h = i
        while h < n and _b64url(PyUnicode_READ(ukind, data, h)):
            h += 1
            sp[0] += 1
        if h - i >= 16 and h < n and PyUnicode_READ(ukind, data, h) == 46 and _at(ukind, data, n, h + 1, 101, 121, 74):
            k = h + 1
            dots = 1
            while k < n:
                sp[0] += 1
                ch = PyUnicode_READ(ukind, data, k)
                if _b64url(ch):
                    k += 1
                elif ch == 46 and dots < 2:
                    dots += 1
                    k += 1
                else:
                    break
            if dots == 2:
                out.emit(i, k, JWT)
                return k
    if length == 20 and text[i:i + 4] in _AWS_PREFIXES:
        k = i
        while k < j:
            ch = PyUnicode_READ(ukind, data, k)
            if not ((48 <= ch <= 57) or (65 <= ch <= 90)):
                break
            k += 1
        if k == j:
            out.emit(i, j, AWS_KEY)
            sp[0] += 20
            return j
    if (length == 6 and (<int>c0 | 32) == 98 and (<int>PyUnicode_READ(ukind, data, i + 1) | 32) == 101
            and (<int>PyUnicode_READ(ukind, data, i + 2) | 32) == 97 and (<int>PyUnicode_READ(ukind, data, i + 3) | 32) == 114
            and (<int>PyUnicode_READ(ukind, data, i + 4) | 32) == 101 and (<int>PyUnicode_READ(ukind, data, i + 5) | 32) == 114):
        k = j
        while k < n and k - j < 8 and PyUnicode_READ(ukind, data, k) == 32:
            k += 1
        if k > j:
            t = k
            while t < n and _bearer_char(PyUnicode_READ(ukind, data, t)):
                t += 1
                sp[0] += 1
            while t < n and PyUnicode_READ(ukind, data, t) == 61:
                t += 1
            if t - k >= 8:
                out.emit(k, t, BEARER)
                return t
    if _at(ukind, data, n, j, 58, 47, 47):  # "://"
        k = j + 3
        t = -1
        while k < n and k - j < 512 and not _url_end(PyUnicode_READ(ukind, data, k)):
            sp[0] += 1
            if PyUnicode_READ(ukind, data, k) == 64:
                t = k
            k += 1
        if t > j + 3:
            out.emit(j + 3, t, URL_CREDENTIALS)
            return t + 1
        return j + 3
    k = j
    if k < n and (PyUnicode_READ(ukind, data, k) == 34 or PyUnicode_READ(ukind, data, k) == 39):
        k += 1
    while k < n and k - j < 8 and (PyUnicode_READ(ukind, data, k) == 32 or PyUnicode_READ(ukind, data, k) == 9):
        k += 1
    if k < n and (PyUnicode_READ(ukind, data, k) == 61 or PyUnicode_READ(ukind, data, k) == 58) and keys(text[i:j]):
        k += 1
        while k < n and k - j < 16 and (PyUnicode_READ(ukind, data, k) == 32 or PyUnicode_READ(ukind, data, k) == 9):
            k += 1
        quote = 0
        if k < n and (PyUnicode_READ(ukind, data, k) == 34 or PyUnicode_READ(ukind, data, k) == 39):
            quote = PyUnicode_READ(ukind, data, k)
            k += 1
        v = k
        while v < n:
            sp[0] += 1
            ch = PyUnicode_READ(ukind, data, v)
            if quote:
                if ch == quote or ch == 10 or ch == 13:
                    break
                if ch == 92 and v + 1 < n:
                    v += 1
            elif _value_end(ch):
                break
            v += 1
        if not quote and v > k and text[k:v].lower() in ("bearer", "basic"):
            t = v
            while t < n and PyUnicode_READ(ukind, data, t) == 32 and t - v < 8:
                t += 1
            while t < n and not _value_end(PyUnicode_READ(ukind, data, t)):
                t += 1
                sp[0] += 1
            v = t
        if v > k:
            out.emit(k, v, SECRET)
            return v
    return j


cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object o, int* overflow) except? -1


cdef tuple _SCALAR_TYPES = (str, int, float, bool, type(None))


cdef int _check_value(object value) except -1:
    """2 for a str (it is scanned), 1 for another clean-able value (small scalars), 0 otherwise."""
    cdef int overflow = 0
    cdef long long iv
    if type(value) is str:
        return 2
    elif type(value) is int:
        iv = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow or not (-1000000000 < iv < 1000000000):
            return 0
    elif not (type(value) is float or type(value) is bool or value is None):
        return 0
    return 1


cdef Py_ssize_t _after_standard(dict d, Py_ssize_t skip) noexcept:
    """``skip`` when the ``PyDict_Next`` positions before ``skip`` hold exactly the first ``skip``
    entries of ``d`` (no deleted slot among them; always so for a split table), else -1: the
    walk may then start at ``skip`` instead of stepping over the standard attributes."""
    cdef Py_ssize_t pos = skip, m = 0
    cdef PyObject* k
    cdef PyObject* v
    while PyDict_Next(d, &pos, &k, &v):
        m += 1
    return skip if skip + m == PyDict_Size(d) else -1


DEF NPARTS = 32

from libc.string cimport memcpy


@cython.freelist(4)
cdef class _Texts:
    """The message and the str values to scan, joined by newlines (borrowed references: the
    dicts they come from are not changed while a record is checked)."""
    cdef PyObject* parts[NPARTS]
    cdef Py_ssize_t n
    cdef list more

    cdef inline int add(self, object text) except -1:
        if self.n < NPARTS:
            self.parts[self.n] = <PyObject*>text
            self.n += 1
        else:
            if self.more is None:
                self.more = []
            self.more.append(text)
        return 0

    cdef str joined(self):
        cdef Py_ssize_t i, total, off = 0, length
        cdef Py_UCS4 maxchar = 127, mc
        cdef char* dest
        cdef object part
        if self.more is not None:
            return "\n".join([<object>self.parts[i] for i in range(self.n)] + self.more)
        if self.n == 1:
            return <str>self.parts[0]
        total = self.n - 1
        for i in range(self.n):
            part = <object>self.parts[i]
            total += PyUnicode_GET_LENGTH(part)
            mc = PyUnicode_MAX_CHAR_VALUE(part)
            if mc > maxchar:
                maxchar = mc
        out = PyUnicode_New(total, maxchar)
        if maxchar == 127:  # all ASCII: one byte per character in every part
            dest = <char*>PyUnicode_DATA(out)
            for i in range(self.n):
                part = <object>self.parts[i]
                length = PyUnicode_GET_LENGTH(part)
                if i:
                    dest[off] = 10
                    off += 1
                memcpy(dest + off, PyUnicode_DATA(part), length)
                off += length
            return <str>out
        for i in range(self.n):
            part = <object>self.parts[i]
            length = PyUnicode_GET_LENGTH(part)
            if i:
                PyUnicode_WriteChar(out, off, 10)
                off += 1
            PyUnicode_CopyCharacters(out, off, part, 0, length)
            off += length
        return <str>out


cdef extern from "Python.h":
    Py_UCS4 PyUnicode_MAX_CHAR_VALUE(object o)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    int PyUnicode_WriteChar(object u, Py_ssize_t index, Py_UCS4 c) except -1
    Py_ssize_t PyUnicode_CopyCharacters(object to, Py_ssize_t to_start, object frm, Py_ssize_t from_start,
                                        Py_ssize_t how_many) except -1
    Py_ssize_t PyDict_Size(object d)


DEF MAX_EXTRAS = 32

from cpython.ref cimport Py_XINCREF, Py_XDECREF


cdef struct _Encoded:
    PyObject* enc  # the FusedJSON's name -> encoding dict (borrowed: the caller holds it)
    PyObject* renderer  # borrowed likewise
    PyObject* names[MAX_EXTRAS]  # owned: b',"name":' of each extra, in order
    PyObject* values[MAX_EXTRAS]  # owned: its value
    Py_ssize_t n


cdef void _release(_Encoded* out) noexcept:
    cdef Py_ssize_t i
    for i in range(out.n):
        Py_XDECREF(out.names[i])
        Py_XDECREF(out.values[i])
    out.n = 0


cdef object _encoding(dict enc, object key, reserved, dict key_cache, object renderer):
    """The renderer's ``b',"key":'`` for an extra named ``key`` (None: reserved, skipped), kept
    in ``enc``; ``False`` when the name is not known to be not sensitive (the general path)."""
    cdef PyObject* hit
    if key in reserved:
        entry = None
    else:
        hit = PyDict_GetItem(key_cache, key)
        if hit == NULL or <object>hit is not False:
            return False
        entry = renderer.key_bytes(key)
        if type(entry) is not bytes:
            return False
    if len(enc) < 4096:
        entry = enc.setdefault(key, entry)  # never replaced: a kept encoding stays valid while in use
    return entry


cdef int _clean(dict d, Py_ssize_t skip, str first, reserved, dict key_cache, str message, dict ctx,
                long long enabled, keys, Py_ssize_t known=-1, _Encoded* out=NULL) except -1:
    """1 when the record (its ``__dict__`` ``d``) needs no redaction (see :func:`clean_record`).
    With ``out`` (and ``known``) the extras' encoded names (from ``out.enc``, see :class:`FusedJSON`)
    and their values are kept there, owned, for the renderer; ``out.n`` counts them."""
    cdef Py_ssize_t pos = 0, i = 0, start
    cdef object entry
    cdef PyObject* k
    cdef PyObject* v
    cdef PyObject* hit
    cdef bint check_all = True
    cdef _Texts texts = _Texts.__new__(_Texts)
    cdef object key
    cdef int verdict
    cdef Py_ssize_t n = len(d)
    texts.add(message)
    if known >= 0:  # the caller walked the standard attributes: the extras start at ``known``
        check_all = False
        pos = known
        i = skip
    else:
        if PyDict_Next(d, &pos, &k, &v):
            key = <object>k
            check_all = not (n >= skip and type(key) is str and <str>key == first)
        pos = 0
        if not check_all:
            start = _after_standard(d, skip)
            if start >= 0:  # step over the standard attributes in one move
                pos = start
                i = skip
    while PyDict_Next(d, &pos, &k, &v):
        key = <object>k
        i += 1
        if not check_all and i <= skip:
            continue
        if type(key) is not str:
            return 0  # no user __hash__/__eq__ runs while the dict is walked: exact str keys only
        if out != NULL:  # one lookup: the name's encoding, kept only for names found not sensitive
            hit = PyDict_GetItem(<dict>out.enc, key)
            if hit == NULL:
                entry = _encoding(<dict>out.enc, key, reserved, key_cache, <object>out.renderer)
                if entry is False:
                    return 0
            else:
                entry = <object>hit
            if entry is None:  # reserved
                continue
            verdict = _check_value(<object>v)
            if verdict == 0 or out.n >= MAX_EXTRAS:
                return 0
            if verdict == 2:
                texts.add(<object>v)
            Py_XINCREF(<PyObject*>entry)
            out.names[out.n] = <PyObject*>entry
            Py_XINCREF(v)
            out.values[out.n] = v
            out.n += 1
            continue
        if key in reserved:
            continue
        hit = PyDict_GetItem(key_cache, key)
        if hit == NULL or <object>hit is not False:
            return 0
        verdict = _check_value(<object>v)
        if verdict == 0:
            return 0
        if verdict == 2:
            texts.add(<object>v)
    if ctx:
        pos = 0
        while PyDict_Next(ctx, &pos, &k, &v):
            key = <object>k
            if type(key) is not str:
                return 0
            if PyDict_GetItem(d, key) != NULL:
                continue  # setdefault: the record's own value wins
            hit = PyDict_GetItem(key_cache, key)
            if hit == NULL or <object>hit is not False:
                return 0
            verdict = _check_value(<object>v)
            if verdict == 0:
                return 0
            if verdict == 2:
                texts.add(<object>v)
    return 0 if _finds(texts.joined(), enabled, keys) else 1


def clean_record(dict d, Py_ssize_t skip, str first, reserved, dict key_cache, str message,
                 long long enabled, keys):
    """Whether a record needs no redaction at all (the common clean record, in one call).

    ``True`` only when every ``extra=`` key of ``d`` (a record's ``__dict__``; its first ``skip``
    entries are the standard attributes when its first key is ``first``, otherwise every key is
    checked against ``reserved``) is cached as not sensitive in ``key_cache``, every extra value is
    a str, float, bool, None or an int of magnitude < 10**9, and one scan of ``message`` and the str
    extras joined by newlines finds nothing. ``False`` means: take the general path (a key not yet
    cached or sensitive, a container, a big int, a detection); nothing is changed either way.
    """
    return _clean(d, skip, first, reserved, key_cache, message, None, enabled, keys) == 1


def process_clean(record, type cls, dict ctx, tuple fields, Py_ssize_t skip, str first, reserved,
                  dict key_cache, long long enabled, keys):
    """``LogProcessor.process_log`` for a clean record of exactly type ``cls``, in one call.

    The record must not be processed yet, carry no exception or stack, have a str ``msg`` and
    scalar ``args``; its extras and the context fields ``ctx`` it lacks must pass
    :func:`clean_record`. Then the processed copy is returned: ``msg % args`` applied, ``args``
    cleared, ``ctx`` added (record values win), marked processed, then ``fields`` ((name, value)
    pairs: host, pid, service, version) added. ``None`` means: take the general path (nothing
    was changed).
    """
    cdef dict nd
    cdef object new
    cdef object message = _clean_message(record, cls, ctx, skip, first, reserved, key_cache, enabled, keys)
    if message is None:
        return None
    d = record.__dict__
    new = cls.__new__(cls)
    nd = d.copy()  # one table copy, not an insertion per attribute
    new.__dict__ = nd
    nd["msg"] = message
    nd["args"] = None
    if ctx:
        for key, value in ctx.items():
            nd.setdefault(key, value)
    nd["_swfast_done"] = True
    for key, value in fields:
        nd.setdefault(key, value)
    return new


cdef object _clean_message(record, type cls, dict ctx, Py_ssize_t skip, str first, reserved, dict key_cache,
                           long long enabled, keys):
    """The formatted message of a clean record of exactly type ``cls`` (see :func:`process_clean`),
    or ``None``."""
    if type(record) is not cls:
        return None
    return _clean_message_of(record.__dict__, ctx, skip, first, reserved, key_cache, enabled, keys)


DEF MAX_SPECS = 16


cdef object _percent(str msg, tuple args):
    """``msg % args`` when every conversion in ``msg`` is ``%s`` of a str, ``%d``/``%i`` of an int
    within 64 bits (exact types, no flags, width or mapping key) or ``%%``, and the conversions
    use every argument; ``None`` otherwise (the caller applies ``%``, which gives the same str in
    these cases)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(msg), nargs = len(args)
    cdef int kind = PyUnicode_KIND(msg)
    cdef void* data = PyUnicode_DATA(msg)
    cdef Py_ssize_t i = 0, k = 0, total = n, pos = 0, o = 0, length, nspec = 0, sp
    cdef Py_UCS4 c, maxchar = PyUnicode_MAX_CHAR_VALUE(msg), mc
    cdef Py_ssize_t at[MAX_SPECS]
    cdef Py_UCS4 conv[MAX_SPECS]
    cdef char digits[MAX_SPECS][24]
    cdef int ndig[MAX_SPECS]
    cdef int overflow = 0
    cdef long long iv
    cdef unsigned long long u
    cdef int nd, t
    cdef char* dest
    cdef object a
    while i < n:
        if PyUnicode_READ(kind, data, i) != 37:
            i += 1
            continue
        if i + 1 >= n or nspec == MAX_SPECS:
            return None
        c = PyUnicode_READ(kind, data, i + 1)
        if c == 115 or c == 100 or c == 105:  # s, d, i
            if k >= nargs:
                return None
            a = args[k]
            if c == 115:
                if type(a) is not str:
                    return None
                total += PyUnicode_GET_LENGTH(a) - 2
                mc = PyUnicode_MAX_CHAR_VALUE(a)
                if mc > maxchar:
                    maxchar = mc
            else:
                if type(a) is not int:
                    return None
                iv = PyLong_AsLongLongAndOverflow(a, &overflow)
                if overflow:
                    return None
                u = <unsigned long long>(-(iv + 1)) + 1 if iv < 0 else <unsigned long long>iv
                nd = 0
                while True:
                    digits[nspec][23 - nd] = <char>(48 + u % 10)
                    nd += 1
                    u //= 10
                    if u == 0:
                        break
                if iv < 0:
                    digits[nspec][23 - nd] = 45
                    nd += 1
                ndig[nspec] = nd
                total += nd - 2
            k += 1
        elif c == 37:
            total -= 1
        else:
            return None
        at[nspec] = i
        conv[nspec] = c
        nspec += 1
        i += 2
    if k != nargs:
        return None
    out = PyUnicode_New(total, maxchar)
    k = 0
    if maxchar == 127:  # ASCII: one byte per character everywhere
        dest = <char*>PyUnicode_DATA(out)
        for sp in range(nspec + 1):
            length = (at[sp] if sp < nspec else n) - pos
            memcpy(dest + o, <char*>data + pos, length)
            o += length
            if sp == nspec:
                break
            c = conv[sp]
            if c == 115:
                a = args[k]
                k += 1
                length = PyUnicode_GET_LENGTH(a)
                memcpy(dest + o, PyUnicode_DATA(a), length)
                o += length
            elif c == 37:
                dest[o] = 37
                o += 1
            else:
                k += 1
                memcpy(dest + o, &digits[sp][24 - ndig[sp]], ndig[sp])
                o += ndig[sp]
            pos = at[sp] + 2
        return out
    for sp in range(nspec + 1):
        length = (at[sp] if sp < nspec else n) - pos
        PyUnicode_CopyCharacters(out, o, msg, pos, length)
        o += length
        if sp == nspec:
            break
        c = conv[sp]
        if c == 115:
            a = args[k]
            k += 1
            length = PyUnicode_GET_LENGTH(a)
            PyUnicode_CopyCharacters(out, o, a, 0, length)
            o += length
        elif c == 37:
            PyUnicode_WriteChar(out, o, 37)
            o += 1
        else:
            k += 1
            for t in range(ndig[sp]):
                PyUnicode_WriteChar(out, o, <Py_UCS4>digits[sp][24 - ndig[sp] + t])
                o += 1
        pos = at[sp] + 2
    return out


cdef object _clean_message_of(dict d, dict ctx, Py_ssize_t skip, str first, reserved, dict key_cache,
                              long long enabled, keys):
    """:func:`_clean_message` for the record whose ``__dict__`` is ``d``."""
    cdef PyObject* v
    cdef PyObject* m
    cdef PyObject* a
    for name in ("exc_info", "exc_text", "stack_info"):
        v = PyDict_GetItem(d, name)
        if v == NULL or <object>v is not None:
            return None
    m = PyDict_GetItem(d, "msg")
    a = PyDict_GetItem(d, "args")
    if m == NULL or a == NULL:
        return None
    return _clean_message_from(d, <object>m, <object>a, -1, ctx, skip, first, reserved, key_cache, enabled, keys)


cdef object _clean_message_from(dict d, object msg, object args, Py_ssize_t start, dict ctx, Py_ssize_t skip,
                                str first, reserved, dict key_cache, long long enabled, keys, _Encoded* out=NULL):
    """The rest of :func:`_clean_message` once ``msg`` and ``args`` are read (and the exception
    fields found None); ``start``: where the extras begin in ``d`` (-1: find out)."""
    cdef object a, message
    if PyDict_GetItem(d, "_swfast_done") != NULL:
        return None
    if type(msg) is not str:
        return None
    if args:
        if type(args) is not tuple:
            return None
        for a in <tuple>args:
            if type(a) not in _SCALAR_TYPES:
                return None
        message = _percent(<str>msg, <tuple>args)
        if message is None:
            try:
                message = msg % args
            except Exception:
                return None
            if type(message) is not str:
                return None
    else:
        message = msg
    if not _clean(d, skip, first, reserved, key_cache, <str>message, ctx, enabled, keys, start, out):
        return None
    return message


from cpython.tuple cimport PyTuple_GET_ITEM


cdef Py_ssize_t _standard_walk(dict d, tuple names, PyObject** vals) noexcept:
    """The ``PyDict_Next`` position after the first ``len(names)`` entries of ``d`` when they are
    exactly ``names`` (the same objects, in order: a record made by ``LogRecord.__init__``),
    their values in ``vals`` (borrowed); -1 otherwise."""
    cdef Py_ssize_t pos = 0, i = 0, n = len(names)
    cdef PyObject* k
    cdef PyObject* v
    while i < n:
        if not PyDict_Next(d, &pos, &k, &v) or k != PyTuple_GET_ITEM(names, i):
            return -1
        vals[i] = v
        i += 1
    return pos


def process_render(record, type cls, dict ctx, tuple fields, Py_ssize_t skip, str first, reserved,
                   dict key_cache, long long enabled, keys, renderer):
    """The JSON line that ``renderer`` (a ``RecordRenderer``) gives the processed copy of a clean
    record (:func:`process_clean`), without making the copy: ``renderer.render_processed(record,
    message, ctx, fields)`` (the context fields and ``fields`` the record lacks, after its extras).
    ``None``: take the general path."""
    cdef object message = _clean_message(record, cls, ctx, skip, first, reserved, key_cache, enabled, keys)
    if message is None:
        return None
    return renderer.render_processed(record, message, ctx, fields)


from cpython.contextvars cimport get_value as _ctx_value
from cpython.pycapsule cimport PyCapsule_IsValid, PyCapsule_GetPointer

ctypedef object (*_render_fn)(object renderer, object record, dict d, str message, dict ctx, tuple fields,
                              bint as_str, object level, object name, object created, Py_ssize_t start)
ctypedef object (*_render_encoded_fn)(object renderer, object record, dict d, str message, dict ctx, tuple fields,
                                      bint as_str, object level, object name, object created, PyObject** names,
                                      PyObject** values, Py_ssize_t n)

DEF MAX_STANDARD = 64


cdef class FusedJSON:
    """``JSONLogFormatter(processor=p).render(record)`` for the clean common record in one call:
    ``fused.render(record, as_str)`` is :func:`process_render`'s line (str when ``as_str``), with the
    processor's state read on every call; ``False`` when the record is not a clean common
    record (:func:`process_clean` declines: the processor's general path, without the fused
    kernels), ``None`` when the fused kernels do not apply here (``p`` has steps, custom
    patterns, no redactor or no enrichment; an OpenTelemetry span is active (``p._span_active()``, asked
    only when ``opentelemetry.trace`` is in ``modules``); the
    context value is not a dict) or the renderer declines.

    ``forks`` is the processor module's fork counter (a one-item list): the host/pid fields are
    taken from ``p._process_fields()`` again after a fork or when ``p.service``/``p.version``
    change. The redactor's key cache, detector mask and text-key test are taken once per
    redactor object (they are fixed when it is made).

    Compiled only (the twin is the plain sequence of the same steps): for a record made by
    ``cls.__init__`` one walk of its table gives the standard attributes and where the extras
    start; each extra's name is then one lookup in ``enc`` (the compiled renderer's encoding of
    the name, kept per redactor once the name's verdict was "not sensitive"; ``None`` for a
    reserved name), and the renderer is handed the extras (owned references) to write.
    """
    cdef object processor, renderer, ctxvar, reserved, red, key_cache, text_key, f_fork, f_service, f_version
    cdef dict modules
    cdef list forks
    cdef type cls
    cdef Py_ssize_t skip
    cdef str first
    cdef long long mask
    cdef tuple fields
    cdef _render_fn direct  # the compiled renderer's own entry point (NULL: call render_processed)
    cdef _render_encoded_fn direct_encoded  # the same, given the extras' encoded names and values
    cdef dict enc  # extra name -> the renderer's b',"name":' (None: reserved), for names not sensitive
    cdef tuple standard  # LogRecord.__init__'s attribute names, in order (None: look values up by name)
    cdef Py_ssize_t i_msg, i_args, i_exc_info, i_exc_text, i_stack_info, i_level, i_name, i_created

    def __init__(self, processor, renderer, ctxvar, dict modules, list forks, type cls, Py_ssize_t skip,
                 str first, reserved):
        self.processor = processor
        self.renderer = renderer
        self.ctxvar = ctxvar
        self.modules = modules
        self.forks = forks
        self.cls = cls
        self.skip = skip
        self.first = first
        self.reserved = reserved
        self.red = None
        self.fields = None
        self.direct = NULL
        capsule = getattr(renderer, "_c_render", None)
        if capsule is not None and PyCapsule_IsValid(capsule, b"swfast._native._logjson_c.render_processed"):
            self.direct = <_render_fn>PyCapsule_GetPointer(capsule, b"swfast._native._logjson_c.render_processed")
        self.direct_encoded = NULL
        capsule = getattr(renderer, "_c_render_encoded", None)
        if capsule is not None and PyCapsule_IsValid(capsule, b"swfast._native._logjson_c.render_encoded"):
            self.direct_encoded = <_render_encoded_fn>PyCapsule_GetPointer(
                capsule, b"swfast._native._logjson_c.render_encoded")
        self.enc = {}
        self.standard = None
        try:
            names = tuple(vars(cls("", 0, "", 0, "", None, None)))
        except Exception:  # an odd record class: values are looked up by name
            names = ()
        wanted = ("msg", "args", "exc_info", "exc_text", "stack_info", "levelname", "name", "created")
        if 0 < len(names) == skip <= MAX_STANDARD and names[0] == first and all(w in names for w in wanted):
            self.standard = names
            self.i_msg, self.i_args, self.i_exc_info, self.i_exc_text, self.i_stack_info, self.i_level, \
                self.i_name, self.i_created = [names.index(w) for w in wanted]

    def render(self, record, bint as_str=False):
        cdef object p = self.processor
        cdef object red = p.redactor
        cdef object ctx, message, fork, service, version, level = None, name = None, created = None, msg, args
        cdef object enc
        cdef _Encoded out
        cdef PyObject* vals[MAX_STANDARD]
        cdef Py_ssize_t start
        cdef dict d
        if red is None or not p.enrich or p.steps or red.patterns:
            return None
        if PyDict_GetItem(self.modules, "opentelemetry.trace") != NULL and p._span_active():
            return None  # an active span adds its ids: LogProcessor.render_json decides
        if red is not self.red:
            self.key_cache = red._key_cache
            self.mask = red._mask
            self.text_key = red._text_key
            self.enc = {}  # the names' verdicts are this redactor's
            self.red = red
        fork = self.forks[0]
        service = p.service
        version = p.version
        if self.fields is None or not (fork == self.f_fork and service is self.f_service
                                       and version is self.f_version):
            fields = p._process_fields()
            if type(fields) is not tuple:
                return None
            self.fields = fields
            self.f_fork = fork
            self.f_service = service
            self.f_version = version
        ctx = _ctx_value(self.ctxvar)
        if type(ctx) is not dict:
            return None
        if type(record) is not self.cls:
            return False
        d = record.__dict__
        start = -1
        if self.standard is not None and len(d) >= self.skip:
            start = _standard_walk(d, self.standard, vals)
        if start >= 0:  # one walk gave the standard values and where the extras start
            if (<object>vals[self.i_exc_info] is not None or <object>vals[self.i_exc_text] is not None
                    or <object>vals[self.i_stack_info] is not None):
                return False
            level = <object>vals[self.i_level]  # own references: the scan below runs Python code
            name = <object>vals[self.i_name]
            created = <object>vals[self.i_created]
            msg = <object>vals[self.i_msg]
            args = <object>vals[self.i_args]
            if self.direct_encoded != NULL and len(d) - self.skip <= MAX_EXTRAS:
                enc = self.enc  # held: the kept encodings stay alive while the line is written
                out.enc = <PyObject*>enc
                out.renderer = <PyObject*>self.renderer
                out.n = 0
                try:
                    message = _clean_message_from(d, msg, args, start, <dict>ctx, self.skip, self.first,
                                                  self.reserved, self.key_cache, self.mask, self.text_key, &out)
                    if message is None:
                        return False
                    return self.direct_encoded(self.renderer, record, d, <str>message, <dict>ctx, self.fields,
                                               as_str, level, name, created, out.names, out.values, out.n)
                finally:
                    _release(&out)
            message = _clean_message_from(d, msg, args, start, <dict>ctx, self.skip, self.first, self.reserved,
                                          self.key_cache, self.mask, self.text_key)
        else:
            message = _clean_message_of(d, <dict>ctx, self.skip, self.first, self.reserved, self.key_cache,
                                        self.mask, self.text_key)
        if message is None:
            return False
        if self.direct != NULL:
            if start >= 0:
                return self.direct(self.renderer, record, d, <str>message, <dict>ctx, self.fields, as_str, level,
                                   name, created, start)
            return self.direct(self.renderer, record, d, <str>message, <dict>ctx, self.fields, as_str, None, None,
                               None, -1)
        return self.renderer.render_processed(record, message, ctx, self.fields, as_str)
