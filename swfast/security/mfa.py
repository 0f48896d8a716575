"""One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) with replay guard and throttling.

:func:`hotp`/:func:`totp` are the plain algorithms (codes are strings: leading zeros kept).
:class:`TOTPVerifier` adds what RFC 6238 §5.2 and RFC 4226 §7.3 require of a verifier: a
window of one step either side, refusal of any code at or before the last accepted step (the
same code twice, or an older code after a newer one), and per-user throttling (5 failures in
5 minutes lock the user out for ``lockout_s``, logged as a security event). Secrets are >= 160
bits from :mod:`secrets` and kept encrypted at rest with a :class:`DataEncryptor` bound to the
user id.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from typing import Any, Callable, MutableMapping
from urllib.parse import quote, urlencode

from .._durations import Duration, seconds
from ..errors import ConfigurationError
from .events import security_event
from .throttle import FailureThrottle

_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
MIN_SECRET_BYTES = 20


def hotp(secret: bytes, counter: int, *, digits: int = 6, algorithm: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter`` as a zero-padded string of ``digits`` digits."""
    if algorithm not in _ALGORITHMS:
        raise ConfigurationError("algorithm", f"must be one of {sorted(_ALGORITHMS)}")
    if not 6 <= digits <= 10:
        raise ConfigurationError("digits", "must be within 6..10")
    mac = hmac.new(secret, counter.to_bytes(8, "big"), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(
    secret: bytes, at: float, *, step: int = 30, t0: int = 0, digits: int = 6, algorithm: str = "sha1"
) -> str:
    """RFC 6238 TOTP value at Unix time ``at``."""
    return hotp(secret, int((at - t0) // step), digits=digits, algorithm=algorithm)


def generate_secret(nbytes: int = MIN_SECRET_BYTES) -> bytes:
    """A random OTP secret of ``nbytes`` (>= 20, i.e. 160 bits, per RFC 4226)."""
    if nbytes < MIN_SECRET_BYTES:
        raise ConfigurationError("nbytes", f"OTP secrets need at least {MIN_SECRET_BYTES} bytes (160 bits)")
    return secrets.token_bytes(nbytes)


def provisioning_uri(
    secret: bytes, account: str, *, issuer: str, digits: int = 6, step: int = 30, algorithm: str = "sha1"
) -> str:
    """``otpauth://totp/...`` URI for authenticator apps (secret as unpadded base32)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode({
        "secret": base64.b32encode(secret).decode().rstrip("="), "issuer": issuer,
        "algorithm": algorithm.upper(), "digits": digits, "period": step,
    })
    return f"otpauth://totp/{label}?{query}"


class TOTPVerifier:
    """Per-user TOTP enrolment and verification. Thread-safe.

    Args:
        encryptor: a :class:`~swfast.security.encryption.DataEncryptor` for secrets at rest
            (one with a fresh key ring is created when omitted).
        store: where encrypted secrets live (any mutable mapping user -> envelope bytes).
        clock: wall clock in seconds (injected in tests).
        issuer: name shown by authenticator apps.
        digits, step, algorithm: OTP parameters (``step`` in whole seconds: a number, a ``timedelta``
            or a string like ``"30s"``).
        window: steps accepted either side of now (RFC 6238 recommends at most 1).
        max_failures, failure_window_s, lockout_s: throttling (RFC 4226 §7.3); durations in any
            form above.
    """

    def __init__(
        self, encryptor: Any = None, *, store: "MutableMapping[Any, bytes] | None" = None,
        clock: Callable[[], float] = time.time, issuer: str = "swfast", digits: int = 6, step: Duration = 30,
        algorithm: str = "sha1", window: int = 1, max_failures: int = 5, failure_window_s: Duration = 300.0,
        lockout_s: Duration = 300.0,
    ) -> None:
        step_s = seconds(step, param="step", allow_zero=False)
        if step_s is None or step_s != int(step_s):
            raise ConfigurationError("step", f"must be a whole number of seconds, got {step!r}")
        if encryptor is None:
            from .encryption import DataEncryptor

            encryptor = DataEncryptor()
        if not 0 <= window <= 2:
            raise ConfigurationError("window", "must be 0, 1 or 2 steps")
        self._enc = encryptor
        self._store: MutableMapping[Any, bytes] = store if store is not None else {}
        self._clock = clock
        self.issuer, self.digits, self.step, self.algorithm, self.window = issuer, digits, int(step_s), algorithm, window
        self.throttle = FailureThrottle(clock=clock, max_failures=max_failures, window_s=failure_window_s,
                                        lockout_s=lockout_s, reason="mfa_failures")
        self._lock = threading.Lock()
        self._last_step: dict[Any, int] = {}

    def _aad(self, user: Any) -> dict[str, str]:
        return {"purpose": "totp-secret", "user": str(user)}

    def enroll(self, user: Any, *, account: "str | None" = None) -> str:
        """Create and store (encrypted) a new secret for ``user``; return the provisioning URI."""
        secret = generate_secret()
        with self._lock:
            self._store[user] = self._enc.encrypt_data(secret, self._aad(user))
            self._last_step.pop(user, None)
        security_event("mfa", "enrolled", user=user)
        return provisioning_uri(secret, account or str(user), issuer=self.issuer, digits=self.digits,
                                step=self.step, algorithm=self.algorithm)

    def is_enrolled(self, user: Any) -> bool:
        """True when ``user`` has a secret."""
        return user in self._store

    def _secret(self, user: Any) -> "bytes | None":
        envelope = self._store.get(user)
        return None if envelope is None else self._enc.decrypt_data(envelope, self._aad(user))

    def verify(self, user: Any, code: str) -> bool:
        """True once for a correct, fresh code; False otherwise.

        Raises:
            AccountLocked: ``user`` is throttled after repeated failures.
        """
        self.throttle.check(user)
        now = self._clock()
        with self._lock:
            secret = self._secret(user)
            matched = None
            if secret is not None and isinstance(code, str) and len(code) == self.digits:
                current = int(now // self.step)
                for s in range(current - self.window, current + self.window + 1):
                    candidate = hotp(secret, s, digits=self.digits, algorithm=self.algorithm)
                    if hmac.compare_digest(candidate.encode(), code.encode("utf-8", "replace")) and matched is None:
                        matched = s
            if matched is not None and matched > self._last_step.get(user, -1):
                self._last_step[user] = matched
                accepted = True
            else:
                accepted = False
        if accepted:
            self.throttle.success(user)
            security_event("mfa", "success", user=user)
            return True
        security_event("mfa", "replay" if matched is not None else "failure", user=user, level=logging.WARNING)
        self.throttle.failure(user)
        return False

    def remove(self, user: Any) -> None:
        """Forget ``user``'s secret and state."""
        with self._lock:
            self._store.pop(user, None)
            self._last_step.pop(user, None)
        self.throttle.reset(user)


__all__ = ["TOTPVerifier", "generate_secret", "hotp", "provisioning_uri", "totp"]
