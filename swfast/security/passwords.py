"""Password hashing with Argon2id (``cryptography`` >= 44), stored as PHC strings.

Defaults follow the OWASP Password Storage Cheat Sheet: m = 19 MiB (19456 KiB), t = 2, p = 1,
16-byte salt, 32-byte hash. ``verify`` never raises for a wrong password or a malformed hash;
``verify_unknown_user`` runs a dummy verification so unknown users cost what known ones do;
``needs_rehash`` flags hashes below the policy so callers upgrade them at the next login.
Passwords over 4 KB are refused before hashing (denial-of-service guard).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from ._crypto import need_cryptography
from ..errors import ConfigurationError, ValidationError

MAX_PASSWORD_BYTES = 4096
_PHC = re.compile(r"\$argon2id\$v=19\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{11,}")


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters.

    Attributes:
        memory_kib: memory cost in KiB.
        iterations: time cost.
        lanes: parallelism.
        salt_len: salt bytes.
        hash_len: output bytes.
    """

    memory_kib: int = 19456
    iterations: int = 2
    lanes: int = 1
    salt_len: int = 16
    hash_len: int = 32

    def at_least(self, other: "Argon2Params") -> bool:
        """True when every cost is >= ``other``'s."""
        return (self.memory_kib >= other.memory_kib and self.iterations >= other.iterations
                and self.salt_len >= other.salt_len and self.hash_len >= other.hash_len)


#: The OWASP minimum (m = 19 MiB, t = 2, p = 1).
OWASP_ARGON2 = Argon2Params()


def _password_bytes(password: "str | bytes") -> bytes:
    if isinstance(password, str):
        raw = password.encode("utf-8", "surrogatepass")
    elif isinstance(password, (bytes, bytearray)):
        raw = bytes(password)
    else:
        raise ValidationError(f"password must be str or bytes, got {type(password).__name__}", path="password")
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValidationError(
            f"password is {len(raw)} bytes; at most {MAX_PASSWORD_BYTES} are accepted", path="password",
            keyword="maxLength",
        )
    return raw


def argon2id_raw(
    password: bytes, salt: bytes, *, length: int, iterations: int, lanes: int, memory_kib: int,
    secret: "bytes | None" = None, ad: "bytes | None" = None,
) -> bytes:
    """Raw Argon2id output (RFC 9106), for known-answer tests and key derivation."""
    need_cryptography("Argon2id hashing")
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(salt=salt, length=length, iterations=iterations, lanes=lanes,
                   memory_cost=memory_kib, ad=ad, secret=secret)
    return kdf.derive(password)


class PasswordHasher:
    """Hash and verify passwords. Thread-safe (no shared mutable state).

    Args:
        params: parameters for new hashes.
        policy: the minimum a stored hash must meet (``needs_rehash``); OWASP by default.
            ``params`` below ``policy`` is refused. Tests pass cheaper ``params`` and ``policy``.
    """

    def __init__(self, params: Argon2Params = OWASP_ARGON2, *, policy: Argon2Params = OWASP_ARGON2) -> None:
        if not params.at_least(policy):
            raise ConfigurationError("params", f"{params} is below the policy {policy}")
        if params.lanes != 1:
            raise ConfigurationError("params", "lanes must be 1 (OWASP: p = 1)")
        self.params = params
        self.policy = policy
        self._dummy = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: "str | bytes") -> str:
        """Return the PHC string ``$argon2id$v=19$m=..,t=..,p=1$salt$hash``."""
        need_cryptography("Argon2id hashing")
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        p = self.params
        kdf = Argon2id(salt=secrets.token_bytes(p.salt_len), length=p.hash_len, iterations=p.iterations,
                       lanes=p.lanes, memory_cost=p.memory_kib)
        return kdf.derive_phc_encoded(_password_bytes(password))

    def verify(self, phc: str, password: "str | bytes") -> bool:
        """True when ``password`` matches ``phc``; False for a mismatch or a malformed hash."""
        need_cryptography("Argon2id hashing")
        from cryptography.exceptions import InvalidKey
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        try:
            raw = _password_bytes(password)
        except ValidationError:
            return False
        if not isinstance(phc, str) or _PHC.fullmatch(phc) is None or self._too_costly(phc):
            self._burn(raw)
            return False
        try:
            Argon2id.verify_phc_encoded(raw, phc)
        except (InvalidKey, ValueError, TypeError):
            return False
        return True

    def verify_unknown_user(self, password: "str | bytes") -> bool:
        """Spend one verification on a dummy hash and return False (user enumeration guard)."""
        try:
            self._burn(_password_bytes(password))
        except ValidationError:
            pass
        return False

    def _burn(self, raw: bytes) -> None:
        need_cryptography("Argon2id hashing")
        from cryptography.exceptions import InvalidKey
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        try:
            Argon2id.verify_phc_encoded(raw, self._dummy)
        except InvalidKey:
            return

    def _too_costly(self, phc: str) -> bool:
        params = parse_params(phc)
        return params is None or params.memory_kib > 4 * 1024 * 1024 or params.iterations > 64

    def needs_rehash(self, phc: str) -> bool:
        """True when ``phc`` is malformed or weaker than the policy (rehash at next login)."""
        params = parse_params(phc)
        return params is None or not params.at_least(self.policy) or params.lanes != 1

    def __repr__(self) -> str:
        return f"<PasswordHasher params={self.params}>"


def parse_params(phc: Any) -> "Argon2Params | None":
    """Argon2id parameters of a PHC string, or None when it is not one."""
    if not isinstance(phc, str):
        return None
    m = _PHC.fullmatch(phc)
    if m is None:
        return None
    import base64

    salt_b64, hash_b64 = phc.split("$")[4:6]
    try:
        salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
        digest = base64.b64decode(hash_b64 + "=" * (-len(hash_b64) % 4))
    except ValueError:
        return None
    return Argon2Params(int(m.group(1)), int(m.group(2)), int(m.group(3)), len(salt), len(digest))


__all__ = ["MAX_PASSWORD_BYTES", "OWASP_ARGON2", "Argon2Params", "PasswordHasher", "argon2id_raw", "parse_params"]
