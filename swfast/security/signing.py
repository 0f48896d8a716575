"""Token signing keys: one key, one algorithm, looked up by ``kid`` in memory only.

A :class:`SigningKey` is bound to exactly one JWS algorithm (``HS256``, or ``EdDSA`` / its RFC 9864
name ``Ed25519``); the
token header's ``alg`` is compared with it and never used to choose an algorithm. The HMAC
loader refuses any secret that looks like or parses as an asymmetric key (PEM, DER, OpenSSH,
JWK JSON): the algorithm-confusion family CVE-2022-29217, CVE-2024-37568, CVE-2026-48526 and
python-jose #414. A :class:`KeySet` holds keys by ``kid`` with one signing (primary) key;
retiring keys stay verify-only until :meth:`KeySet.retire`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from typing import Any, NoReturn

from ._crypto import need_cryptography
from ..errors import ConfigurationError, UnknownKeyId
from .secret import SecretBytes

MIN_HMAC_BYTES = 32
MAX_KID_LEN = 128
_ASYMMETRIC_PREFIXES = (
    b"-----BEGIN", b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-", b"PuTTY-User-Key",
)


def b64url(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _looks_asymmetric(secret: bytes) -> bool:
    stripped = secret.strip()
    if stripped.startswith(_ASYMMETRIC_PREFIXES) or b"PRIVATE KEY" in stripped or b"PUBLIC KEY" in stripped:
        return True
    if stripped[:1] == b"{":
        try:
            return isinstance(json.loads(stripped), dict)  # a JWK (or any JSON object)
        except ValueError:
            pass
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # HS256 needs only the standard library: check the DER structure itself
        return _looks_like_der(secret)

    def private_der(data: bytes) -> object:
        return serialization.load_der_private_key(data, password=None)

    # Binary DER must be parsed unstripped (its last bytes may be whitespace values).
    for candidate in {secret, stripped}:
        for loader in (serialization.load_der_public_key, private_der, serialization.load_ssh_public_key):
            try:
                loader(candidate)
                return True
            except Exception:  # noqa: BLE001 - any parse failure means "not this format"
                continue
    return False


def _looks_like_der(data: bytes) -> bool:
    """Whether ``data`` is one DER SEQUENCE spanning all of it (how every DER key starts)."""
    if len(data) < 2 or data[0] != 0x30:
        return False
    first = data[1]
    if first < 0x80:
        return 2 + first == len(data)
    width = first & 0x7F
    if not 1 <= width <= 4 or len(data) < 2 + width:
        return False
    return 2 + width + int.from_bytes(data[2:2 + width], "big") == len(data)


def _check_kid(kid: str) -> str:
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LEN:
        raise ConfigurationError("kid", f"must be a non-empty str of at most {MAX_KID_LEN} characters")
    return kid


class SigningKey:
    """Base of signing keys: ``kid``, ``alg``, ``sign``, ``verify``; never shows key bytes."""

    alg: str = ""
    kid: str
    can_sign: bool = True

    def sign(self, message: bytes) -> bytes:
        """Signature (or MAC) of ``message``."""
        raise TypeError(f"{type(self).__name__} is abstract")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is valid for ``message``; constant-time for MACs."""
        raise TypeError(f"{type(self).__name__} is abstract")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kid={self.kid!r} alg={self.alg} redacted>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("signing keys cannot be pickled")


class HMACKey(SigningKey):
    """HS256 key. The secret must be >= 32 bytes and must not be an asymmetric key in any form.

    Raises:
        ConfigurationError: short secret, or a secret that parses as a public/private key.
    """

    alg = "HS256"

    def __init__(self, kid: str, secret: "bytes | SecretBytes") -> None:
        raw = secret.reveal() if isinstance(secret, SecretBytes) else secret
        if not isinstance(raw, (bytes, bytearray)):
            raise ConfigurationError("secret", "HMAC secrets must be bytes (str keys are refused)")
        raw = bytes(raw)
        if len(raw) < MIN_HMAC_BYTES:
            raise ConfigurationError("secret", f"HMAC secrets need at least {MIN_HMAC_BYTES} bytes")
        if _looks_asymmetric(raw):
            raise ConfigurationError(
                "secret", "refusing an asymmetric key (PEM/DER/OpenSSH/JWK) as an HMAC secret "
                "(algorithm confusion); use Ed25519Key for public-key tokens",
            )
        self.kid = _check_kid(kid)
        self._raw = raw
        padded = (hashlib.sha256(raw).digest() if len(raw) > 64 else raw).ljust(64, b"\0")
        # Precomputed inner/outer SHA-256 states (RFC 2104): each MAC is two copies and updates,
        # about 2.5x faster than hmac.digest, which re-derives both pads on every call.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    @classmethod
    def generate(cls, kid: "str | None" = None) -> "HMACKey":
        """A fresh 256-bit random HS256 key."""
        while True:  # a random secret that happens to parse as a key is drawn again
            raw = secrets.token_bytes(32)
            if not _looks_asymmetric(raw):
                return cls(kid or secrets.token_urlsafe(8), raw)

    def sign(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def verify(self, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(message), signature)

    def fingerprint(self) -> str:
        """A short non-reversible id of the key (safe to log)."""
        return hashlib.sha256(b"swfast-kid\x00" + self._raw).hexdigest()[:16]


ED25519_ALGORITHMS = ("EdDSA", "Ed25519")


class Ed25519Key(SigningKey):
    """EdDSA (Ed25519) key: a private key signs and verifies, a public key only verifies.

    Args:
        kid: key id.
        key: an ``Ed25519PrivateKey`` or ``Ed25519PublicKey``.
        alg: the header name it writes, ``"EdDSA"`` (RFC 8037) or ``"Ed25519"`` (RFC 9864);
            tokens under either name verify where the manager allows that name.
    """

    alg = "EdDSA"

    def __init__(self, kid: str, key: Any, *, alg: str = "EdDSA") -> None:
        if alg not in ED25519_ALGORITHMS:
            raise ConfigurationError("alg", f"{alg!r}: use 'EdDSA' or 'Ed25519'")
        self.alg = alg
        need_cryptography("Ed25519 (EdDSA) tokens")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

        self.kid = _check_kid(kid)
        if isinstance(key, Ed25519PrivateKey):
            self._private: Any = key
            self._public = key.public_key()
        elif isinstance(key, Ed25519PublicKey):
            self._private = None
            self._public = key
            self.can_sign = False
        else:
            raise ConfigurationError("key", "expected an Ed25519PrivateKey or Ed25519PublicKey")
        from cryptography.exceptions import InvalidSignature

        self._invalid = InvalidSignature

    @classmethod
    def generate(cls, kid: "str | None" = None, *, alg: str = "EdDSA") -> "Ed25519Key":
        """A fresh Ed25519 private key."""
        need_cryptography("Ed25519 (EdDSA) tokens")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(kid or secrets.token_urlsafe(8), Ed25519PrivateKey.generate(), alg=alg)

    @property
    def public_key(self) -> Any:
        """The ``Ed25519PublicKey``."""
        return self._public

    def public_only(self) -> "Ed25519Key":
        """A verify-only copy (what a relying service holds)."""
        return Ed25519Key(self.kid, self._public, alg=self.alg)

    def sign(self, message: bytes) -> bytes:
        if self._private is None:
            raise ConfigurationError("key", f"key {self.kid!r} is public-only and cannot sign")
        return self._private.sign(message)  # type: ignore[no-any-return]

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, message)
        except self._invalid:
            return False
        return True


class KeySet:
    """Signing keys by ``kid``: one primary signs, the others verify until retired. Thread-safe.

    Args:
        *keys: initial keys; the first becomes primary unless ``primary`` names another.
        primary: kid of the signing key.
    """

    def __init__(self, *keys: SigningKey, primary: "str | None" = None) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._primary: "SigningKey | None" = None
        for key in keys:
            self.add(key)
        if primary is not None:
            self.set_primary(primary)

    def add(self, key: SigningKey, *, primary: bool = False) -> None:
        """Add a key; it signs new tokens when ``primary`` or when it is the first key."""
        if not isinstance(key, SigningKey):
            raise ConfigurationError("key", "expected a SigningKey (HMACKey or Ed25519Key)")
        with self._lock:
            if key.kid in self._keys:
                raise ConfigurationError("kid", f"kid {key.kid!r} is already in the key set")
            self._keys = {**self._keys, key.kid: key}
            if (primary or self._primary is None) and key.can_sign:
                self._primary = key

    def set_primary(self, kid: str) -> None:
        """Sign new tokens with ``kid`` (signing-key rotation)."""
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyId(kid)
        if not key.can_sign:
            raise ConfigurationError("kid", f"key {kid!r} is verify-only")
        self._primary = key

    def retire(self, kid: str) -> None:
        """Drop a non-primary key: tokens it signed are rejected from now on."""
        with self._lock:
            if self._primary is not None and self._primary.kid == kid:
                raise ConfigurationError("kid", "cannot retire the primary key: set_primary() another first")
            if kid not in self._keys:
                raise UnknownKeyId(kid)
            self._keys = {k: v for k, v in self._keys.items() if k != kid}

    def get(self, kid: object) -> "SigningKey | None":
        """In-memory lookup only (no file or database access); None for anything unknown."""
        if type(kid) is not str:
            return None
        return self._keys.get(kid)

    @property
    def primary(self) -> SigningKey:
        """The key that signs new tokens."""
        if self._primary is None:
            raise ConfigurationError("keys", "no signing key: add an HMACKey or Ed25519Key that can sign")
        return self._primary

    def kids(self) -> list[str]:
        """Every kid held."""
        return list(self._keys)

    def __repr__(self) -> str:
        return f"<KeySet kids={self.kids()} primary={None if self._primary is None else self._primary.kid!r}>"


__all__ = ["ED25519_ALGORITHMS", "Ed25519Key", "HMACKey", "KeySet", "SigningKey", "b64url"]
