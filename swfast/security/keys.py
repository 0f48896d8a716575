"""A versioned ring of AES-256-GCM data keys: generate, rotate, retire, store wrapped.

Tink-style: every key has a 32-bit id written into each envelope, exactly one key is primary
(encrypts), older keys are decrypt-only until :meth:`KeyRing.retire_key`, after which their
ciphertexts fail with :class:`~swfast.errors.UnknownKeyId` (a ``KeyNotFound``). No trial
decryption. Each key counts its encryptions and the ring rotates (or refuses, with
``auto_rotate=False``) before 2**32 encryptions under one key (NIST SP 800-38D).

Nonces (96 bits) follow SP 800-38D §8.2.1's deterministic construction: an 8-byte random field
drawn each time a key is created or loaded in a process, then a 4-byte invocation counter. Within
a process they never repeat (the counter is below 2**32 by the limit above); across processes
sharing a key a repeat needs two equal 64-bit random fields (about n**2 / 2**65 for n processes),
far less likely than random 96-bit nonces after 2**32 messages.

``store_keys`` writes only keys wrapped (RFC 3394 AES key wrap) by a master key taken from the
argument, ``SWFAST_MASTER_KEY`` (base64) or ``SWFAST_MASTER_KEY_FILE``, to a file of mode 0600.
Key bytes never appear in ``repr``, ``str``, pickles, exceptions or logs.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NoReturn

from ._crypto import need_cryptography
from ..errors import ConfigurationError, IntegrityError, KeyExhausted, UnknownKeyId
from .events import security_event
from .secret import SecretBytes

#: Encryptions allowed under one key with random 96-bit nonces (NIST SP 800-38D §8.3).
MAX_KEY_USES = 2**32
ENVELOPE_VERSION = 1
_STORE_FORMAT = "swfast-keyring-v1"


@dataclass(eq=False, slots=True)
class _Entry:
    key_id: int
    secret: SecretBytes
    aead: Any
    header: bytes
    state: str
    created_at: float
    counter: Any = field(default_factory=itertools.count)
    uses_base: int = 0
    limit: int = 0  # counter values below this may encrypt: max_uses - uses_base
    nonce_prefix: bytes = b""  # 8 random bytes drawn when the key is loaded in this process

    def __repr__(self) -> str:
        return f"<key id={self.key_id} state={self.state}>"


def _master_key(master_key: "bytes | SecretBytes | None") -> bytes:
    if isinstance(master_key, SecretBytes):
        master_key = master_key.reveal()
    if master_key is None:
        env = os.environ.get("SWFAST_MASTER_KEY")
        path = os.environ.get("SWFAST_MASTER_KEY_FILE")
        if env:
            master_key = base64.b64decode(env.strip())
        elif path:
            master_key = base64.b64decode(Path(path).read_text().strip())
        else:
            raise ConfigurationError(
                "master_key", "no master key: pass master_key=, or set SWFAST_MASTER_KEY (base64) "
                "or SWFAST_MASTER_KEY_FILE",
            )
    if len(master_key) != 32:
        raise ConfigurationError("master_key", "the master key must be 32 bytes (AES-256)")
    return bytes(master_key)


class KeyRing:
    """Versioned AES-256-GCM keys. Thread-safe.

    Args:
        clock: wall clock for key creation times (injected in tests).
        max_uses: encryptions allowed per key before rotation (at most 2**32).
        auto_rotate: rotate automatically at ``max_uses``; with False, refuse with
            :class:`~swfast.errors.KeyExhausted`.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.time, max_uses: int = MAX_KEY_USES,
        auto_rotate: bool = True,
    ) -> None:
        if not 0 < max_uses <= MAX_KEY_USES:
            raise ConfigurationError("max_uses", f"must be in 1..{MAX_KEY_USES} (GCM random-nonce bound)")
        self._clock = clock
        self._max_uses = max_uses
        self._auto_rotate = auto_rotate
        self._lock = threading.RLock()
        self._keys: dict[int, _Entry] = {}
        self._by_header: dict[bytes, _Entry] = {}  # envelope header -> key (mutated in place)
        self._primary: "_Entry | None" = None

    # -- lifecycle -------------------------------------------------------------------------
    def _add(self, material: bytes, key_id: "int | None", state: str, created_at: float) -> _Entry:
        need_cryptography("KeyRing (AES-GCM keys)")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(material) != 32:
            raise ConfigurationError("key", "AES-256-GCM keys are 32 bytes")
        with self._lock:
            if key_id is None:
                key_id = secrets.randbits(32)
                while key_id in self._keys:
                    key_id = secrets.randbits(32)
            elif key_id in self._keys or not 0 <= key_id < 2**32:
                raise ConfigurationError("key_id", f"key id {key_id} already exists or is out of range")
            header = bytes([ENVELOPE_VERSION]) + key_id.to_bytes(4, "big")
            entry = _Entry(key_id, SecretBytes(material), AESGCM(material), header, state, created_at)
            entry.limit = self._max_uses
            entry.nonce_prefix = secrets.token_bytes(8)
            self._keys[key_id] = entry
            self._by_header[header] = entry
            return entry

    def generate_keys(self, count: int = 1) -> list[int]:
        """Add ``count`` fresh random keys; the first key ever added becomes primary.

        Returns:
            the new key ids.
        """
        if count < 1:
            raise ConfigurationError("count", "generate at least one key")
        ids = []
        with self._lock:
            for _ in range(count):
                entry = self._add(secrets.token_bytes(32), None, "active", self._clock())
                if self._primary is None:
                    entry.state = "primary"
                    self._primary = entry
                ids.append(entry.key_id)
        return ids

    def rotate_keys(self) -> int:
        """Make a new random key primary; the old primary stays decrypt-only. Returns its id."""
        with self._lock:
            old = self._primary
            entry = self._add(secrets.token_bytes(32), None, "primary", self._clock())
            if old is not None:
                old.state = "active"
            self._primary = entry
        security_event("key_rotation", "success", key_id=entry.key_id,
                       previous=None if old is None else old.key_id)
        return entry.key_id

    def retire_key(self, key_id: int) -> None:
        """Remove a non-primary key: its ciphertexts now fail with ``UnknownKeyId``."""
        with self._lock:
            entry = self._keys.get(key_id)
            if entry is None:
                raise UnknownKeyId(key_id)
            if entry is self._primary:
                raise ConfigurationError("key_id", "cannot retire the primary key: rotate_keys() first")
            del self._keys[key_id]
            del self._by_header[entry.header]
            entry.secret.wipe()
        security_event("key_rotation", "retired", key_id=key_id)

    @property
    def primary_id(self) -> "int | None":
        """Id of the key that encrypts, or None for an empty ring."""
        p = self._primary
        return None if p is None else p.key_id

    def key_ids(self) -> list[int]:
        """Ids of every usable key, primary first."""
        with self._lock:
            return sorted(self._keys, key=lambda k: self._keys[k].state != "primary")

    def uses(self, key_id: int) -> int:
        """Encryptions counted under ``key_id`` so far."""
        entry = self._keys.get(key_id)
        if entry is None:
            raise UnknownKeyId(key_id)
        return entry.uses_base + _used(entry)

    def _preset_uses(self, key_id: int, uses: int) -> None:
        """Set the usage counter (tests of the 2**32 limit)."""
        entry = self._keys[key_id]
        entry.uses_base = uses
        entry.limit = self._max_uses - uses
        entry.counter = itertools.count()
        entry.nonce_prefix = secrets.token_bytes(8)

    # -- hot paths used by DataEncryptor ----------------------------------------------------
    def _encrypt_slot_slow(self, entry: "_Entry | None") -> "tuple[_Entry, int]":
        """Called by the encryptor when ``entry`` (the primary it saw) is missing or used up.

        Returns the primary entry and the invocation counter value reserved for this encryption.
        """
        if entry is None:
            raise ConfigurationError("keyring", "the key ring is empty: call generate_keys() first")
        while True:  # a loop, not recursion: other threads may use up a fresh key meanwhile
            with self._lock:
                if entry is self._primary:
                    if not self._auto_rotate:
                        raise KeyExhausted(
                            f"key {entry.key_id} reached {self._max_uses} encryptions: call rotate_keys()")
                    self.rotate_keys()
                primary = self._primary
            assert primary is not None
            n = next(primary.counter)
            if n < primary.limit:
                return primary, n
            entry = primary

    # -- storage --------------------------------------------------------------------------
    def store_keys(self, path: "str | os.PathLike[str]", master_key: "bytes | SecretBytes | None" = None) -> None:
        """Write every key wrapped by the master key to ``path`` (mode 0600, atomic replace).

        Args:
            path: destination file.
            master_key: 32-byte key-encryption key; defaults to the environment (module doc).
        """
        need_cryptography("KeyRing key files")
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        kek = _master_key(master_key)
        with self._lock:
            keys = [
                {"id": e.key_id, "state": e.state, "created_at": e.created_at,
                 "uses": e.uses_base + _used(e),
                 "wrapped": base64.b64encode(aes_key_wrap(kek, e.secret.reveal())).decode()}
                for e in self._keys.values()
            ]
        body = json.dumps({"format": _STORE_FORMAT, "keys": keys}, sort_keys=True)
        doc = json.dumps({"body": body, "mac": _mac(kek, body)})
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(doc)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load_keys(
        cls, path: "str | os.PathLike[str]", master_key: "bytes | SecretBytes | None" = None, **kwargs: Any
    ) -> "KeyRing":
        """Read a file written by :meth:`store_keys`; tampering raises ``IntegrityError``."""
        need_cryptography("KeyRing key files")
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

        kek = _master_key(master_key)
        raw = Path(path).read_bytes()  # a missing or unreadable file is an OSError, not tampering
        ring = cls(**kwargs)
        try:
            doc = json.loads(raw)
            body = doc.get("body") if type(doc) is dict else None
            mac = doc.get("mac") if type(doc) is dict else None
            if type(body) is not str or type(mac) is not str:
                raise IntegrityError("key file: not a swfast key file (no body/mac)")
            if not hmac.compare_digest(_mac(kek, body).encode(), mac.encode("utf-8", "replace")):
                raise IntegrityError("key file: authentication failed (wrong master key or tampered)")
            data = json.loads(body)
            if type(data) is not dict or data.get("format") != _STORE_FORMAT or type(data.get("keys")) is not list:
                raise IntegrityError("key file: unknown format")
            for item in data["keys"]:
                material = aes_key_unwrap(kek, base64.b64decode(item["wrapped"], validate=True))
                entry = ring._add(material, int(item["id"]), str(item["state"]), float(item["created_at"]))
                entry.uses_base = int(item["uses"])
                entry.limit = ring._max_uses - entry.uses_base
                if entry.state == "primary":
                    ring._primary = entry
        except IntegrityError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError, InvalidUnwrap) as exc:
            raise IntegrityError(f"key file: malformed or not unwrappable ({type(exc).__name__})") from None
        return ring

    def __repr__(self) -> str:
        return f"<KeyRing keys={len(self._keys)} primary={self.primary_id}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeyRing cannot be pickled: use store_keys() (wrapped keys only)")


def _mac(kek: bytes, body: str) -> str:
    mac_key = hashlib.sha256(b"swfast-keyring-mac\x00" + kek).digest()
    return hmac.new(mac_key, body.encode(), "sha256").hexdigest()


def _peek(counter: Any) -> int:
    """Current value of an ``itertools.count`` without advancing it."""
    return int(repr(counter)[6:-1])


def _used(entry: _Entry) -> int:
    """Encryptions made under ``entry`` in this process (refused attempts past the limit do not count)."""
    return max(0, min(_peek(entry.counter), entry.limit))


__all__ = ["ENVELOPE_VERSION", "MAX_KEY_USES", "KeyRing"]
