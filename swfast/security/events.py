"""Security events: one log line on ``swfast.security`` and one counter increment each.

Every authentication, MFA check, lockout, permission denial, token reuse and key rotation goes
through :func:`security_event`. Records carry a *pseudonymous* user id (a keyed BLAKE2b digest
with a per-process random key, so the same user correlates within a process but the raw id never
reaches a log) and never secrets: callers pass only event kind, outcome and non-sensitive fields.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from .. import config as _config
from ..monitoring.metrics import REGISTRY
from .._resets import register_reset

LOGGER = logging.getLogger("swfast.security")

# SWFAST_LOG_PSEUDONYM_KEY makes pseudonyms stable across processes (the same key as swfast.logging's
# pseudonymise mode); otherwise a random per-process key.
_ENV_KEY = (_config.log_pseudonym_key() or "").encode()
_PSEUDONYM_KEY = (hashlib.blake2b(_ENV_KEY).digest() if len(_ENV_KEY) > 64 else _ENV_KEY) or secrets.token_bytes(32)
_PROTECTED = False
_COUNTER: Any = None


def _counter() -> Any:
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = REGISTRY.counter(
            "swfast_security_events_total",
            "Security events (authentication, MFA, lockout, denial, token reuse, key rotation)",
            ("kind", "outcome"),
        )
    return _COUNTER


@register_reset
def _reset() -> None:
    global _COUNTER
    _COUNTER = None


def _safe(value: Any) -> Any:
    """Numbers as they are; anything else as printable text of at most 80 characters.

    Field values may echo attacker input (a token header name): control characters are
    replaced so a value cannot forge extra log lines.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)[:80]
    return "".join(c if c.isprintable() else "?" for c in text)


def pseudonym(user: object) -> str:
    """Return a stable, non-reversible 16-hex-digit pseudonym of ``user`` for this process.

    Args:
        user: any user identifier; ``None`` gives ``"-"``.
    """
    if user is None:
        return "-"
    raw = str(user).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, key=_PSEUDONYM_KEY, digest_size=8).hexdigest()


def security_event(
    kind: str, outcome: str, *, user: object = None, level: int = logging.INFO, **fields: Any
) -> None:
    """Log and count one security event.

    Args:
        kind: event family, e.g. ``"auth"``, ``"mfa"``, ``"lockout"``, ``"permission_denied"``,
            ``"token_reuse"``, ``"key_rotation"``.
        outcome: ``"success"``, ``"failure"``, ``"denied"``, ``"locked"``, ...
        user: the raw user id; only its :func:`pseudonym` is logged.
        level: logging level (warnings for attacks such as token reuse).
        **fields: extra non-secret context (method name, key id, reason). Never pass secrets.
    """
    global _PROTECTED
    _counter().labels(kind, outcome).inc()
    if LOGGER.isEnabledFor(level):
        if not _PROTECTED:  # every event goes through swfast.logging's redaction, whatever the handlers
            from ..logging.setup import protect_security_events

            protect_security_events()
            _PROTECTED = True
        fields = {k: _safe(v) for k, v in fields.items()}
        extra = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        LOGGER.log(
            level,
            "security event kind=%s outcome=%s user=%s %s",
            kind,
            outcome,
            pseudonym(user),
            extra,
            extra={"security_event": {"kind": kind, "outcome": outcome, "user": pseudonym(user), **fields}},
        )


__all__ = ["LOGGER", "pseudonym", "security_event"]
