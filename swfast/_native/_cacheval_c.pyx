# cython: freethreading_compatible = False, cdivision = True
"""Compiled cache value-envelope kernel: header parsing and batch decode; twin is ``_cacheval_py.py``.

Layout (see ``swfast.cache.envelope``): byte 0 version ``0xA5``, byte 1 serializer id with bit 7
for lz4, bytes 2-9 big-endian expiry in Unix milliseconds (0 = none), then the payload (and a
MAC the caller has already checked and cut off). Serializers 0 (bytes) and 1 (UTF-8 str) are
decoded here; 2 (JSON) through the ``json_loads`` the caller passes; lz4 frames and unknown ids
come back as :data:`SLOW` for the Python path. Foreign or malformed data gives :data:`REJECT`.
"""
from libc.stdint cimport uint64_t, uint8_t
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeUTF8, PyUnicode_AsUTF8AndSize
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.math cimport isfinite

DEF VERSION = 0xA5
DEF HEADER = 10
DEF MAC_SIZE = 16

cdef extern from *:
    """
    #define SW_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
    #define SW_ROUND do { v0 += v1; v1 = SW_ROTL(v1, 13); v1 ^= v0; v0 = SW_ROTL(v0, 32); \
        v2 += v3; v3 = SW_ROTL(v3, 16); v3 ^= v2; v0 += v3; v3 = SW_ROTL(v3, 21); v3 ^= v0; \
        v2 += v1; v1 = SW_ROTL(v1, 17); v1 ^= v2; v2 = SW_ROTL(v2, 32); } while (0)
    static inline uint64_t sw_le64(const uint8_t *p) {
        return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
               ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
    }
    /* SipHash-2-4 (Aumasson & Bernstein), 64-bit output, 16-byte key. */
    static uint64_t sw_siphash24(const uint8_t *k, const uint8_t *m, Py_ssize_t len) {
        uint64_t k0 = sw_le64(k), k1 = sw_le64(k + 8);
        uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
        const uint8_t *end = m + (len - (len % 8));
        uint64_t b = ((uint64_t)len) << 56, mi;
        int i;
        for (; m != end; m += 8) {
            mi = sw_le64(m); v3 ^= mi; SW_ROUND; SW_ROUND; v0 ^= mi;
        }
        for (i = (int)(len & 7) - 1; i >= 0; i--) b |= ((uint64_t)m[i]) << (8 * i);
        v3 ^= b; SW_ROUND; SW_ROUND; v0 ^= b;
        v2 ^= 0xff; SW_ROUND; SW_ROUND; SW_ROUND; SW_ROUND;
        return v0 ^ v1 ^ v2 ^ v3;
    }
    #define SW_ROUND2 do { v0 += v1; w0 += w1; v1 = SW_ROTL(v1, 13); w1 = SW_ROTL(w1, 13); \
        v1 ^= v0; w1 ^= w0; v0 = SW_ROTL(v0, 32); w0 = SW_ROTL(w0, 32); \
        v2 += v3; w2 += w3; v3 = SW_ROTL(v3, 16); w3 = SW_ROTL(w3, 16); v3 ^= v2; w3 ^= w2; \
        v0 += v3; w0 += w3; v3 = SW_ROTL(v3, 21); w3 = SW_ROTL(w3, 21); v3 ^= v0; w3 ^= w0; \
        v2 += v1; w2 += w1; v1 = SW_ROTL(v1, 17); w1 = SW_ROTL(w1, 17); v1 ^= v2; w1 ^= w2; \
        v2 = SW_ROTL(v2, 32); w2 = SW_ROTL(w2, 32); } while (0)
    /* Two SipHash-2-4 of one message under the two 16-byte halves of k, interleaved so the
       CPU runs both chains at once; identical to two sw_siphash24 calls. */
    static void sw_siphash24x2(const uint8_t *k, const uint8_t *m, Py_ssize_t len, uint64_t *ra, uint64_t *rb) {
        uint64_t k0 = sw_le64(k), k1 = sw_le64(k + 8), j0 = sw_le64(k + 16), j1 = sw_le64(k + 24);
        uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
        uint64_t w0 = 0x736f6d6570736575ULL ^ j0, w1 = 0x646f72616e646f6dULL ^ j1;
        uint64_t w2 = 0x6c7967656e657261ULL ^ j0, w3 = 0x7465646279746573ULL ^ j1;
        const uint8_t *end = m + (len - (len % 8));
        uint64_t b = ((uint64_t)len) << 56, mi;
        int i;
        for (; m != end; m += 8) {
            mi = sw_le64(m); v3 ^= mi; w3 ^= mi; SW_ROUND2; SW_ROUND2; v0 ^= mi; w0 ^= mi;
        }
        for (i = (int)(len & 7) - 1; i >= 0; i--) b |= ((uint64_t)m[i]) << (8 * i);
        v3 ^= b; w3 ^= b; SW_ROUND2; SW_ROUND2; v0 ^= b; w0 ^= b;
        v2 ^= 0xff; w2 ^= 0xff; SW_ROUND2; SW_ROUND2; SW_ROUND2; SW_ROUND2;
        *ra = v0 ^ v1 ^ v2 ^ v3;
        *rb = w0 ^ w1 ^ w2 ^ w3;
    }
    """
    uint64_t sw_siphash24(const uint8_t *k, const uint8_t *m, Py_ssize_t len) nogil
    void sw_siphash24x2(const uint8_t *k, const uint8_t *m, Py_ssize_t len, uint64_t *ra, uint64_t *rb) nogil


def siphash24(bytes key16, bytes data):
    """SipHash-2-4 of ``data`` under a 16-byte key, as an unsigned 64-bit int."""
    if PyBytes_GET_SIZE(key16) != 16:
        raise ValueError("key16: must be 16 bytes")
    return sw_siphash24(<const uint8_t *>PyBytes_AS_STRING(key16), <const uint8_t *>PyBytes_AS_STRING(data),
                        PyBytes_GET_SIZE(data))


cdef inline bytes _mac(bytes mac_key, bytes key, const uint8_t *body, Py_ssize_t n):
    """16-byte tag: SipHash-2-4 under each half of the 32-byte key over len(key) + key + body."""
    cdef Py_ssize_t kn = PyBytes_GET_SIZE(key)
    cdef bytes msg = PyBytes_FromStringAndSize(NULL, 4 + kn + n)
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(msg)
    cdef const uint8_t *mk = <const uint8_t *>PyBytes_AS_STRING(mac_key)
    cdef uint64_t a, b
    cdef uint8_t out[16]
    cdef int i
    p[0] = (kn >> 24) & 0xFF
    p[1] = (kn >> 16) & 0xFF
    p[2] = (kn >> 8) & 0xFF
    p[3] = kn & 0xFF
    memcpy(p + 4, PyBytes_AS_STRING(key), kn)
    memcpy(p + 4 + kn, body, n)
    sw_siphash24x2(mk, p, 4 + kn + n, &a, &b)
    for i in range(8):
        out[i] = (a >> (8 * i)) & 0xFF
        out[8 + i] = (b >> (8 * i)) & 0xFF
    return PyBytes_FromStringAndSize(<char *>out, 16)


def mac(bytes mac_key, bytes key, bytes body):
    """The envelope MAC of ``body`` for ``key`` under a 32-byte ``mac_key``."""
    if PyBytes_GET_SIZE(mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    return _mac(mac_key, key, <const uint8_t *>PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body))


def pack(int ser, uint64_t exp_ms, bytes payload, mac_key, bytes key):
    """Header + payload (+ 16-byte MAC when ``mac_key`` is a 32-byte key), in one allocation."""
    cdef Py_ssize_t n = PyBytes_GET_SIZE(payload)
    cdef Py_ssize_t extra = 0 if mac_key is None else MAC_SIZE
    cdef bytes out = PyBytes_FromStringAndSize(NULL, HEADER + n + extra)
    cdef uint8_t *p = <uint8_t *>PyBytes_AS_STRING(out)
    cdef bytes tag
    cdef int i
    if mac_key is not None and PyBytes_GET_SIZE(<bytes>mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    p[0] = VERSION
    p[1] = ser & 0xFF
    for i in range(8):
        p[2 + i] = (exp_ms >> (8 * (7 - i))) & 0xFF
    memcpy(p + HEADER, PyBytes_AS_STRING(payload), n)
    if mac_key is not None:
        tag = _mac(<bytes>mac_key, key, p, HEADER + n)
        memcpy(p + HEADER + n, PyBytes_AS_STRING(tag), MAC_SIZE)
    return out


def decode_mac(data, bytes mac_key, bytes key, double now, json_loads):
    """:func:`decode` for MAC-carrying data: :data:`REJECT` unless the trailing tag verifies."""
    cdef Py_ssize_t n
    cdef bytes tag
    cdef const uint8_t *p
    cdef const uint8_t *t
    cdef int i, diff = 0
    if data is None:
        return None
    if type(data) is not bytes:
        data = bytes(data)
    n = PyBytes_GET_SIZE(<bytes>data)
    if n < HEADER + MAC_SIZE or PyBytes_GET_SIZE(mac_key) != 32:
        return REJECT
    p = <const uint8_t *>PyBytes_AS_STRING(<bytes>data)
    tag = _mac(mac_key, key, p, n - MAC_SIZE)
    t = <const uint8_t *>PyBytes_AS_STRING(tag)
    for i in range(MAC_SIZE):  # constant time
        diff |= t[i] ^ p[n - MAC_SIZE + i]
    if diff:
        return REJECT
    return _decode(<bytes>data, n - MAC_SIZE, now, json_loads)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


REJECT = _Marker("REJECT")
SLOW = _Marker("SLOW")


cdef inline object _decode(bytes data, Py_ssize_t end, double now, object json_loads):
    cdef const unsigned char *p
    cdef uint64_t exp = 0
    cdef int i, ser
    cdef double expires
    if end < HEADER:
        return REJECT
    p = <const unsigned char *>PyBytes_AS_STRING(data)
    if p[0] != VERSION:
        return REJECT
    ser = p[1]
    for i in range(2, 10):
        exp = (exp << 8) | p[i]
    expires = exp / 1000.0
    if exp and expires <= now:
        return None
    if ser == 1:
        try:
            value = PyUnicode_DecodeUTF8(<const char *>p + HEADER, end - HEADER, NULL)
        except UnicodeDecodeError:
            return REJECT
    elif ser == 0:
        value = PyBytes_FromStringAndSize(<const char *>p + HEADER, end - HEADER)
    elif ser == 2:
        try:
            value = json_loads(PyBytes_FromStringAndSize(<const char *>p + HEADER, end - HEADER))
        except ValueError:
            return REJECT
    else:
        return SLOW
    return (value, expires if exp else None)


def decode(data, double now, json_loads, Py_ssize_t mac_size=0):
    """``(value, expires_at)``, ``None`` (absent or expired), :data:`REJECT` or :data:`SLOW`.

    ``mac_size`` trailing bytes (already verified) are ignored.
    """
    if data is None:
        return None
    if type(data) is not bytes:
        data = bytes(data)
    return _decode(<bytes>data, PyBytes_GET_SIZE(<bytes>data) - mac_size, now, json_loads)


def decode_many(list datas, double now, json_loads):
    """:func:`decode` over a list of replies (no MAC), in order."""
    cdef list out = []
    for data in datas:
        if data is None:
            out.append(None)
        else:
            if type(data) is not bytes:
                data = bytes(data)
            out.append(_decode(<bytes>data, PyBytes_GET_SIZE(<bytes>data), now, json_loads))
    return out


def decode_into(list keys, list raws, list replies, double now, json_loads, dict out, skip):
    """Decode ``MGET`` replies (no MAC) straight into ``out[key]``; returns ``(rejected, slow)``.

    ``rejected`` lists keys whose value is foreign or malformed; ``slow`` lists indexes needing
    the Python path (lz4). Keys whose Redis key is in the ``skip`` set (if any) are left out.
    """
    cdef list rejected = [], slow = []
    cdef Py_ssize_t i, n = len(keys)
    cdef object data, r
    if len(replies) != n or len(raws) != n:
        raise ValueError("keys, raws and replies must have the same length")
    for i in range(n):
        data = replies[i]
        if data is None:
            continue
        if type(data) is not bytes:
            data = bytes(data)
        r = _decode(<bytes>data, PyBytes_GET_SIZE(<bytes>data), now, json_loads)
        if r is None:
            continue
        if r is REJECT:
            rejected.append(keys[i])
        elif r is SLOW:
            slow.append(i)
        elif not skip or raws[i] not in skip:
            out[keys[i]] = r
    return rejected, slow


def prefix_keys(str namespace, keys, Py_ssize_t max_bytes):
    """``[(namespace + key).encode()]`` for str keys; returns ``(raws, bad_index)``.

    ``bad_index`` is the first key that is not a str or whose encoding exceeds ``max_bytes``
    (``-1`` when all are fine); ``raws`` is then incomplete.
    """
    cdef list out = []
    cdef Py_ssize_t i = 0, nn, kn
    cdef const char *ns = PyUnicode_AsUTF8AndSize(namespace, &nn)
    cdef const char *kp
    cdef bytes raw
    cdef char *dst
    for key in keys:
        if type(key) is not str:
            return out, i
        kp = PyUnicode_AsUTF8AndSize(<str>key, &kn)
        if nn + kn > max_bytes:
            return out, i
        raw = PyBytes_FromStringAndSize(NULL, nn + kn)
        dst = PyBytes_AS_STRING(raw)
        memcpy(dst, ns, nn)
        memcpy(dst + nn, kp, kn)
        out.append(raw)
        i += 1
    return out, -1


cdef inline char *_put_len(char *dst, char tag, Py_ssize_t n):
    cdef char buf[24]
    cdef int i = 0, j
    dst[0] = tag
    dst += 1
    if n == 0:
        buf[0] = 48
        i = 1
    while n > 0:
        buf[i] = 48 + <char>(n % 10)
        n //= 10
        i += 1
    for j in range(i):
        dst[j] = buf[i - 1 - j]
    dst[i] = 13
    dst[i + 1] = 10
    return dst + i + 2


def pack_command(bytes cmd, list args):
    """One Redis command in RESP2 wire form: ``cmd`` then every bytes argument of ``args``.

    Replaces redis-py's per-argument ``pack_command`` on the multi-key hot path.
    """
    cdef Py_ssize_t n = len(args), total = 16 + 24 + PyBytes_GET_SIZE(cmd), i, an
    cdef object a
    cdef bytes out
    cdef char *p
    for i in range(n):
        a = args[i]
        if type(a) is not bytes:
            raise TypeError("args: every argument must be bytes")
        total += PyBytes_GET_SIZE(<bytes>a) + 24
    out = PyBytes_FromStringAndSize(NULL, total)
    p = PyBytes_AS_STRING(out)
    p = _put_len(p, 42, n + 1)
    p = _put_len(p, 36, PyBytes_GET_SIZE(cmd))
    memcpy(p, PyBytes_AS_STRING(cmd), PyBytes_GET_SIZE(cmd))
    p += PyBytes_GET_SIZE(cmd)
    p[0] = 13
    p[1] = 10
    p += 2
    for i in range(n):
        a = args[i]
        an = PyBytes_GET_SIZE(<bytes>a)
        p = _put_len(p, 36, an)
        memcpy(p, PyBytes_AS_STRING(<bytes>a), an)
        p += an
        p[0] = 13
        p[1] = 10
        p += 2
    return out[:p - PyBytes_AS_STRING(out)]


cdef object _open(object row, bytes mac_key, str key, double now, object json_loads):
    """MAC-check and decode a ``(value,)`` row: ``(value, expires)``, ``None``, REJECT or SLOW."""
    cdef Py_ssize_t n, kn, mn
    cdef const char *kp
    cdef const uint8_t *p
    cdef const uint8_t *mk
    cdef uint8_t stack[512]
    cdef uint8_t *msg
    cdef uint64_t a, b
    cdef int i, diff = 0
    cdef object data
    if row is None:
        return None
    if type(row) is not tuple or len(<tuple>row) < 1:
        return REJECT
    data = (<tuple>row)[0]
    if type(data) is not bytes or PyBytes_GET_SIZE(mac_key) != 32:
        return REJECT
    n = PyBytes_GET_SIZE(<bytes>data)
    if n < HEADER + MAC_SIZE:
        return REJECT
    p = <const uint8_t *>PyBytes_AS_STRING(<bytes>data)
    kp = PyUnicode_AsUTF8AndSize(key, &kn)
    mn = 4 + kn + n - MAC_SIZE
    msg = &stack[0] if mn <= 512 else <uint8_t *>PyMem_Malloc(mn)
    if msg == NULL:
        raise MemoryError()
    msg[0] = (kn >> 24) & 0xFF
    msg[1] = (kn >> 16) & 0xFF
    msg[2] = (kn >> 8) & 0xFF
    msg[3] = kn & 0xFF
    memcpy(msg + 4, kp, kn)
    memcpy(msg + 4 + kn, p, n - MAC_SIZE)
    mk = <const uint8_t *>PyBytes_AS_STRING(mac_key)
    sw_siphash24x2(mk, msg, mn, &a, &b)
    if msg != &stack[0]:
        PyMem_Free(msg)
    for i in range(8):  # constant time
        diff |= ((a >> (8 * i)) & 0xFF) ^ p[n - MAC_SIZE + i]
        diff |= ((b >> (8 * i)) & 0xFF) ^ p[n - MAC_SIZE + 8 + i]
    if diff:
        return REJECT
    return _decode(<bytes>data, n - MAC_SIZE, now, json_loads)


def open_row(row, bytes mac_key, str key, double now, json_loads, default):
    """One L3 row read in one call: MAC check, expiry, header parse and decode.

    ``row`` is the ``(value,)`` tuple from ``fetchone()`` or ``None``. Returns the value,
    ``default`` when absent or expired, :data:`REJECT` when the row is malformed or its MAC
    does not verify for ``key``, or :data:`SLOW` for lz4 payloads (the Python path).
    """
    cdef object r = _open(row, mac_key, key, now, json_loads)
    if r is None:
        return default
    if type(r) is tuple:
        return (<tuple>r)[0]
    return r


def open_entry(row, bytes mac_key, str key, double now, json_loads):
    """:func:`open_row` returning ``(value, expires_at)`` or ``None`` (absent or expired)."""
    return _open(row, mac_key, key, now, json_loads)


cdef int _tag(const uint8_t *mk, const char *kp, Py_ssize_t kn, const uint8_t *body, Py_ssize_t n,
              uint8_t *out) except -1:
    """Write the 16-byte envelope MAC of ``body`` for the UTF-8 key ``kp`` into ``out``."""
    cdef uint8_t stack[1024]
    cdef Py_ssize_t mn = 4 + kn + n
    cdef uint8_t *msg = &stack[0] if mn <= 1024 else <uint8_t *>PyMem_Malloc(mn)
    cdef uint64_t a, b
    cdef int i
    if msg == NULL:
        raise MemoryError()
    msg[0] = (kn >> 24) & 0xFF
    msg[1] = (kn >> 16) & 0xFF
    msg[2] = (kn >> 8) & 0xFF
    msg[3] = kn & 0xFF
    memcpy(msg + 4, kp, kn)
    memcpy(msg + 4 + kn, body, n)
    sw_siphash24x2(mk, msg, mn, &a, &b)
    if msg != &stack[0]:
        PyMem_Free(msg)
    for i in range(8):
        out[i] = (a >> (8 * i)) & 0xFF
        out[8 + i] = (b >> (8 * i)) & 0xFF
    return 0


def encode_rows(dict items, bytes mac_key, uint64_t exp_ms, Py_ssize_t max_key_bytes,
                Py_ssize_t max_value_bytes, Py_ssize_t compress_at):
    """L3 batch encode: ``(params, pending)`` for a multi-row ``INSERT``.

    Every str key with a bytes or str value that needs no compression (``compress_at`` < 0:
    never) and fits the limits adds ``key, envelope_with_mac`` to the flat ``params`` list;
    every other item goes to ``pending`` as ``(key, value)`` for the Python codec, which
    raises the precise error or compresses/serialises it.
    """
    cdef list rows = [], pending = []
    cdef const char *kp
    cdef const char *vp
    cdef Py_ssize_t kn, vn, total
    cdef int ser, i
    cdef bytes blob
    cdef uint8_t *p
    cdef const uint8_t *mk
    if PyBytes_GET_SIZE(mac_key) != 32:
        raise ValueError("mac_key: must be 32 bytes")
    mk = <const uint8_t *>PyBytes_AS_STRING(mac_key)
    for key, value in items.items():
        if type(key) is not str:
            pending.append((key, value))
            continue
        try:
            kp = PyUnicode_AsUTF8AndSize(<str>key, &kn)
        except UnicodeEncodeError:
            pending.append((key, value))
            continue
        if kn > max_key_bytes:
            pending.append((key, value))
            continue
        if type(value) is bytes:
            ser = 0
            vp = PyBytes_AS_STRING(<bytes>value)
            vn = PyBytes_GET_SIZE(<bytes>value)
        elif type(value) is str:
            ser = 1
            try:
                vp = PyUnicode_AsUTF8AndSize(<str>value, &vn)
            except UnicodeEncodeError:  # lone surrogates: the codec raises the precise error
                pending.append((key, value))
                continue
        else:
            pending.append((key, value))
            continue
        total = HEADER + vn + MAC_SIZE
        if (compress_at >= 0 and vn >= compress_at) or total > max_value_bytes:
            pending.append((key, value))
            continue
        blob = PyBytes_FromStringAndSize(NULL, total)
        p = <uint8_t *>PyBytes_AS_STRING(blob)
        p[0] = VERSION
        p[1] = ser
        for i in range(8):
            p[2 + i] = (exp_ms >> (8 * (7 - i))) & 0xFF
        memcpy(p + HEADER, vp, vn)
        _tag(mk, kp, kn, p, HEADER + vn, p + HEADER + vn)
        rows.append(key)
        rows.append(blob)
    return rows, pending


DEF JSON_DEPTH = 200


cdef object _inexact(object v, int depth):
    cdef type t = type(v)
    cdef Py_ssize_t i
    if t is str or t is int or t is bool or v is None:
        return None
    if t is float:
        return None if isfinite(<double>v) else f": float {v!r} (JSON has no NaN/inf)"
    if depth >= JSON_DEPTH:
        return f": nested deeper than {JSON_DEPTH} levels"
    if t is list:
        for i in range(len(<list>v)):
            r = _inexact((<list>v)[i], depth + 1)
            if r is not None:
                return f"[{i}]{r}"
        return None
    if t is dict:
        for k, x in (<dict>v).items():
            if type(k) is not str:
                return f": dict key {k!r} of type {type(k).__name__} (JSON keys are str)"
            r = _inexact(x, depth + 1)
            if r is not None:
                return f"[{k!r}]{r}"
        return None
    return f": {t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else f": {t.__qualname__}"


def json_inexact(value):
    """``None`` when ``value`` survives a JSON round trip unchanged, type for type; else where not.

    Exact: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list`` and ``dict`` with
    ``str`` keys, nested at most 200 levels, exact types only (no subclasses, no tuples).
    The answer names the first offending element, e.g. ``"[2]['a']: tuple"``.
    """
    return _inexact(value, 0)
