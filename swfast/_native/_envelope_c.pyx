# cython: freethreading_compatible = False, cdivision = False
"""Compiled AEAD envelope kernel; the pure-Python twin is ``_envelope_py.py``.

Same layout and behaviour. The nonce (entry's 8-byte random field + 4-byte big-endian counter)
is assembled in C, and envelopes under the primary key are recognised by a 5-byte ``memcmp``
before falling back to the ``header -> entry`` dict.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcmp, memcpy
from libc.stdint cimport uint64_t

NONCE_LEN = 12
MIN_ENVELOPE = 5 + NONCE_LEN + 16
cdef Py_ssize_t _MIN_ENVELOPE = MIN_ENVELOPE


cdef class EnvelopeCodec:
    """AES-GCM envelope sealing/opening over a key ring. Thread-safe if the ring is."""

    cdef object _ring
    cdef dict _by_header
    cdef object _slow_slot, _check_envelope, _aad_bytes, _invalid_tag, _on_invalid_tag
    cdef object __weakref__
    cdef dict __dict__

    def __init__(self, ring, dict by_header, slow_slot, check_envelope, aad_bytes, invalid_tag, on_invalid_tag):
        self._ring = ring
        self._by_header = by_header
        self._slow_slot = slow_slot
        self._check_envelope = check_envelope
        self._aad_bytes = aad_bytes
        self._invalid_tag = invalid_tag
        self._on_invalid_tag = on_invalid_tag

    def encrypt_data(self, data, aad=None):
        """Seal ``data`` under the primary key; nonce = entry's 8-byte random field + 4-byte counter."""
        entry = self._ring._primary
        if entry is None:
            entry, n = self._slow_slot(entry)
        else:
            n = next(entry.counter)
            if n >= entry.limit:
                entry, n = self._slow_slot(entry)
        cdef bytes header = entry.header
        cdef bytes prefix = entry.nonce_prefix
        cdef uint64_t c = n
        cdef bytes nonce = PyBytes_FromStringAndSize(NULL, 12)
        cdef unsigned char* p = <unsigned char*>PyBytes_AS_STRING(nonce)
        memcpy(p, PyBytes_AS_STRING(prefix), 8)
        p[8] = (c >> 24) & 0xFF
        p[9] = (c >> 16) & 0xFF
        p[10] = (c >> 8) & 0xFF
        p[11] = c & 0xFF
        if aad is None:
            return header + nonce + entry.aead.encrypt(nonce, data, header)
        if type(aad) is not bytes:
            aad = self._aad_bytes(aad)
        return header + nonce + entry.aead.encrypt(nonce, data, header + <bytes>aad)

    def decrypt_data(self, envelope, aad=None):
        """Open an envelope; errors come from the callables given at construction."""
        entry = None
        cdef bytes header
        if type(envelope) is bytes and PyBytes_GET_SIZE(envelope) >= _MIN_ENVELOPE:
            entry = self._ring._primary
            if entry is None or memcmp(PyBytes_AS_STRING(envelope), PyBytes_AS_STRING(entry.header), 5) != 0:
                entry = self._by_header.get((<bytes>envelope)[:5])
        if entry is None:
            entry, envelope = self._check_envelope(envelope)
        cdef bytes env = envelope
        header = entry.header
        if aad is not None:
            header = header + (aad if type(aad) is bytes else self._aad_bytes(aad))
        try:
            return entry.aead.decrypt(env[5:17], env[17:], header)
        except self._invalid_tag:
            raise self._on_invalid_tag() from None
