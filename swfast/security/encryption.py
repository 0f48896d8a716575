"""Authenticated encryption: AES-256-GCM in a versioned envelope bound to its context.

Envelope layout (bytes)::

    version (1) | key id (4, big endian) | nonce (12) | ciphertext | tag (16)

The 5-byte header and the caller's associated data (``aad``: bytes, or a mapping encoded as
canonical JSON) are authenticated together, so a flipped version or key id, or data moved from
user 1's record to user 2's, fails with :class:`~swfast.errors.IntegrityError`. Nonces are
random 96-bit values (no other size can be supplied) and the key ring bounds their number per
key. Unknown versions raise :class:`~swfast.errors.UnsupportedVersion`, retired keys
:class:`~swfast.errors.UnknownKeyId` (both are ``IntegrityError``).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ._crypto import need_cryptography
from .._native.envelope import EnvelopeCodec
from ..errors import IntegrityError, UnknownKeyId, UnsupportedVersion
from .keys import ENVELOPE_VERSION, KeyRing

HEADER_LEN = 5
NONCE_LEN = 12
TAG_LEN = 16
MIN_ENVELOPE = HEADER_LEN + NONCE_LEN + TAG_LEN


def _aad_bytes(aad: "bytes | Mapping[str, Any] | None") -> bytes:
    if aad is None:
        return b""
    if isinstance(aad, (bytes, bytearray, memoryview)):
        return bytes(aad)
    if isinstance(aad, Mapping):
        return json.dumps(aad, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    raise TypeError(f"aad: expected bytes or a mapping, got {type(aad).__name__}")


def _integrity_failure() -> IntegrityError:
    return IntegrityError("envelope: authentication failed (modified data, wrong aad or wrong key)")


class DataEncryptor(EnvelopeCodec):
    """``encrypt_data``/``decrypt_data``/``verify_integrity`` over a :class:`KeyRing`. Thread-safe.

    ``encrypt_data(data, aad=None) -> bytes`` seals under the primary key (``KeyExhausted`` when
    the key is used up and the ring does not auto-rotate); ``decrypt_data(envelope, aad=None)``
    returns the plaintext or raises ``IntegrityError`` (truncated, modified, wrong ``aad`` or key),
    ``UnsupportedVersion`` or ``UnknownKeyId`` (both ``IntegrityError``; the latter also
    ``KeyNotFound``). ``aad`` is bytes or a mapping (canonical JSON). Both methods are the compiled
    envelope kernel (``swfast._native.envelope``).

    Args:
        keyring: the key ring; a fresh one with one generated key when omitted.
    """

    def __init__(self, keyring: "KeyRing | None" = None) -> None:
        need_cryptography("AES-GCM encryption")
        from cryptography.exceptions import InvalidTag

        if keyring is None:
            keyring = KeyRing()
            keyring.generate_keys()
        super().__init__(keyring, keyring._by_header, keyring._encrypt_slot_slow, self._check_envelope,
                         _aad_bytes, InvalidTag, _integrity_failure)
        self.keyring = keyring

    def _check_envelope(self, envelope: Any) -> tuple[Any, bytes]:
        """Slow path: coerce the type and raise the precise error for a bad envelope."""
        if not isinstance(envelope, (bytes, bytearray, memoryview)):
            raise TypeError(f"envelope: expected bytes, got {type(envelope).__name__}")
        envelope = bytes(envelope)
        if len(envelope) < MIN_ENVELOPE:
            raise IntegrityError(f"envelope: {len(envelope)} bytes is shorter than the {MIN_ENVELOPE}-byte minimum")
        if envelope[0] != ENVELOPE_VERSION:
            raise UnsupportedVersion(f"envelope: unsupported version {envelope[0]} (expected {ENVELOPE_VERSION})")
        entry = self.keyring._by_header.get(envelope[:5])
        if entry is None:
            raise UnknownKeyId(int.from_bytes(envelope[1:5], "big"))
        return entry, envelope

    def verify_integrity(self, envelope: bytes, aad: "bytes | Mapping[str, Any] | None" = None) -> bool:
        """True when ``envelope`` authenticates with ``aad``; never raises for bad input."""
        try:
            self.decrypt_data(envelope, aad)
        except (IntegrityError, TypeError):
            return False
        return True

    def reencrypt(self, envelope: bytes, aad: "bytes | Mapping[str, Any] | None" = None) -> bytes:
        """Re-encrypt under the current primary key (the ``MultiFernet.rotate`` analogue)."""
        return self.encrypt_data(self.decrypt_data(envelope, aad), aad)

    @staticmethod
    def key_id_of(envelope: bytes) -> int:
        """Key id named in an envelope header (no authentication)."""
        if len(envelope) < HEADER_LEN:
            raise IntegrityError("envelope: too short to hold a header")
        return int.from_bytes(envelope[1:5], "big")

    def __repr__(self) -> str:
        return f"<DataEncryptor {self.keyring!r}>"


def aead_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Raw AES-GCM seal (``ciphertext || tag``) with a 96-bit nonce only (vector tests, interop)."""
    need_cryptography("AES-GCM encryption")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(nonce) != NONCE_LEN:
        raise IntegrityError(f"nonce: only {NONCE_LEN}-byte (96-bit) nonces are allowed, got {len(nonce)}")
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_open(key: bytes, nonce: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """Raw AES-GCM open; any failure is :class:`~swfast.errors.IntegrityError`."""
    need_cryptography("AES-GCM encryption")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(nonce) != NONCE_LEN:
        raise IntegrityError(f"nonce: only {NONCE_LEN}-byte (96-bit) nonces are allowed, got {len(nonce)}")
    try:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    except (InvalidTag, ValueError):
        raise IntegrityError("sealed: authentication failed") from None


__all__ = ["DataEncryptor", "aead_open", "aead_seal"]
