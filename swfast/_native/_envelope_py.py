"""Pure-Python twin of the AEAD envelope kernel (``_envelope_c.pyx``): same names and behaviour.

Envelope layout: ``version (1) | key id (4) | nonce (12) | ciphertext | tag (16)``; the 5-byte
header is authenticated with the caller's associated data. The codec only moves bytes: keys come
from a ring object (``ring._primary`` with ``counter``/``limit``/``header``/``aead`` entries, and a
``header -> entry`` dict; entries carry ``nonce_prefix``), and every policy decision (rotation, error types, aad encoding) is a
callable handed in by ``swfast.security.encryption``.
"""
from __future__ import annotations

from typing import Any, Callable

NONCE_LEN = 12
MIN_ENVELOPE = 5 + NONCE_LEN + 16


class EnvelopeCodec:
    """AES-GCM envelope sealing/opening over a key ring. Thread-safe if the ring is."""

    def __init__(
        self, ring: Any, by_header: "dict[bytes, Any]", slow_slot: Callable[[Any], Any],
        check_envelope: Callable[[Any], "tuple[Any, bytes]"], aad_bytes: Callable[[Any], bytes],
        invalid_tag: "type[BaseException]", on_invalid_tag: Callable[[], BaseException],
    ) -> None:
        self._ring = ring
        self._by_header = by_header
        self._slow_slot = slow_slot
        self._check_envelope = check_envelope
        self._aad_bytes = aad_bytes
        self._invalid_tag = invalid_tag
        self._on_invalid_tag = on_invalid_tag

    def encrypt_data(self, data: bytes, aad: Any = None) -> bytes:
        """Seal ``data`` under the primary key; nonce = entry's 8-byte random field + 4-byte counter."""
        entry = self._ring._primary
        if entry is None:
            entry, n = self._slow_slot(entry)
        else:
            n = next(entry.counter)
            if n >= entry.limit:
                entry, n = self._slow_slot(entry)
        header = entry.header
        nonce = entry.nonce_prefix + n.to_bytes(4, "big")
        if aad is None:
            return header + nonce + entry.aead.encrypt(nonce, data, header)  # type: ignore[no-any-return]
        if type(aad) is not bytes:
            aad = self._aad_bytes(aad)
        return header + nonce + entry.aead.encrypt(nonce, data, header + aad)  # type: ignore[no-any-return]

    def decrypt_data(self, envelope: bytes, aad: Any = None) -> bytes:
        """Open an envelope; errors come from the callables given at construction."""
        entry = self._by_header.get(envelope[:5]) if type(envelope) is bytes else None
        if entry is None or len(envelope) < MIN_ENVELOPE:
            entry, envelope = self._check_envelope(envelope)
        header = entry.header
        if aad is not None:
            header += aad if type(aad) is bytes else self._aad_bytes(aad)
        try:
            return entry.aead.decrypt(envelope[5:17], envelope[17:], header)  # type: ignore[no-any-return]
        except self._invalid_tag:
            raise self._on_invalid_tag() from None


__all__ = ["MIN_ENVELOPE", "NONCE_LEN", "EnvelopeCodec"]
