# cython: freethreading_compatible = False, cdivision = True
"""Compiled JWS codec kernel; the pure-Python twin is ``_jws_py.py``.

Unpadded base64url encode/decode in one C pass each (no translate/strip copies), strict on
decode: only ``A-Z a-z 0-9 - _``, no padding, ``len % 4 != 1``, unused trailing bits zero
(the canonical spelling, RFC 4648 §3.5), else ``ValueError``.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport uint8_t, uint32_t

cdef const char* _ENC = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
cdef uint8_t _DEC[256]


cdef void _init_table():
    cdef int i
    for i in range(256):
        _DEC[i] = 255
    for i in range(64):
        _DEC[<uint8_t>_ENC[i]] = i


_init_table()


def b64url_encode(const uint8_t[::1] data):
    """Unpadded base64url text of ``data``."""
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t out_len = (n * 4 + 2) // 3
    cdef bytes out = PyBytes_FromStringAndSize(NULL, out_len)
    cdef char* o = PyBytes_AS_STRING(out)
    cdef Py_ssize_t i = 0, j = 0
    cdef uint32_t v
    with nogil:
        while i + 3 <= n:
            v = (<uint32_t>data[i] << 16) | (<uint32_t>data[i + 1] << 8) | data[i + 2]
            o[j] = _ENC[(v >> 18) & 63]
            o[j + 1] = _ENC[(v >> 12) & 63]
            o[j + 2] = _ENC[(v >> 6) & 63]
            o[j + 3] = _ENC[v & 63]
            i += 3
            j += 4
        if n - i == 1:
            v = <uint32_t>data[i] << 16
            o[j] = _ENC[(v >> 18) & 63]
            o[j + 1] = _ENC[(v >> 12) & 63]
        elif n - i == 2:
            v = (<uint32_t>data[i] << 16) | (<uint32_t>data[i + 1] << 8)
            o[j] = _ENC[(v >> 18) & 63]
            o[j + 1] = _ENC[(v >> 12) & 63]
            o[j + 2] = _ENC[(v >> 6) & 63]
    return PyUnicode_DecodeASCII(o, out_len, NULL)


def b64url_decode(segment):
    """Bytes of an unpadded base64url ``segment``; ``ValueError`` for anything else."""
    if type(segment) is not str:
        raise ValueError("segment: not unpadded base64url")
    cdef bytes raw
    try:
        raw = (<str>segment).encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("segment: not unpadded base64url") from None
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    if n % 4 == 1:
        raise ValueError("segment: not unpadded base64url")
    cdef const uint8_t* s = <const uint8_t*>PyBytes_AS_STRING(raw)
    cdef Py_ssize_t out_len = (n * 3) // 4
    cdef bytes out = PyBytes_FromStringAndSize(NULL, out_len)
    cdef uint8_t* o = <uint8_t*>PyBytes_AS_STRING(out)
    cdef Py_ssize_t i = 0, j = 0
    cdef uint32_t v, a, b, c, d
    cdef bint bad = False
    with nogil:
        while i + 4 <= n:
            a = _DEC[s[i]]; b = _DEC[s[i + 1]]; c = _DEC[s[i + 2]]; d = _DEC[s[i + 3]]
            if (a | b | c | d) & 0xC0:
                bad = True
                break
            v = (a << 18) | (b << 12) | (c << 6) | d
            o[j] = (v >> 16) & 0xFF
            o[j + 1] = (v >> 8) & 0xFF
            o[j + 2] = v & 0xFF
            i += 4
            j += 3
        if not bad and n - i == 2:
            a = _DEC[s[i]]; b = _DEC[s[i + 1]]
            if ((a | b) & 0xC0) or (b & 0x0F):
                bad = True
            else:
                o[j] = ((a << 2) | (b >> 4)) & 0xFF
        elif not bad and n - i == 3:
            a = _DEC[s[i]]; b = _DEC[s[i + 1]]; c = _DEC[s[i + 2]]
            if ((a | b | c) & 0xC0) or (c & 0x03):
                bad = True
            else:
                v = (a << 18) | (b << 12) | (c << 6)
                o[j] = (v >> 16) & 0xFF
                o[j + 1] = (v >> 8) & 0xFF
    if bad:
        raise ValueError("segment: not unpadded base64url")
    return out
