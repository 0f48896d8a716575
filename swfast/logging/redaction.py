"""``filter_sensitive``: redaction of secrets and personal data before a record leaves the process.

:class:`SensitiveDataFilter` is a :class:`logging.Filter`. It formats ``msg % args`` first, then
redacts the message, every ``extra=`` field (recursively through dicts, lists, tuples and sets,
on copies: the caller's objects are never mutated), the exception text and traceback and
``stack_info``; ``args`` is cleared and ``exc_info`` replaced by its redacted structured form.

Text is scanned by the compiled linear-time scanner (:mod:`swfast._native.redscan`; the
pure-Python twin gives the same spans): no regular expression, no backtracking. Built-in
detectors: ``email``, ``card`` (Luhn, ASCII/Persian/Arabic-Indic digits, spaces or dashes),
``jwt`` (header must decode to JSON), ``bearer``, ``aws_key``, ``secret`` (``password=``,
``token: …``, ``"api_key": "…"``, query strings), ``url_credentials``, ``private_key`` (PEM),
``national_id`` (Iranian, checksum), ``iban`` (Iranian, mod 97), ``phone`` (Iranian mobile).
Dict keys such as ``password``, ``token``, ``authorization``, ``cookie``, ``cvv`` have their whole
value redacted. Custom detectors are ``{name: regex}`` (applied after the scanner; their cost is
theirs). ``mode="pseudonymise"`` writes ``[EMAIL:3f9a…]``: a keyed BLAKE2b digest, stable across
processes and restarts when ``key`` (or ``SWFAST_LOG_PSEUDONYM_KEY``) is set.

Anything the filter cannot process is *failed closed*: replaced by ``[REDACTED:UNPROCESSABLE]``,
counted, and the record is still logged.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import logging
import re
import secrets
import traceback
import uuid
from collections.abc import Mapping
from typing import Any, Callable, Iterable

from swfast._native.redscan import clean_record as _clean_record
from swfast._native.redscan import scan as _scan
from swfast.logging._common import _FIRST, _N_STANDARD, RESERVED, Counters, extra_items, safe_repr

DETECTORS: dict[str, int] = {"email": 1, "card": 2, "jwt": 3, "bearer": 4, "aws_key": 5, "secret": 6,
                             "url_credentials": 7, "private_key": 8, "national_id": 9, "iban": 10, "phone": 11}
_LABELS = {v: k.upper() for k, v in DETECTORS.items()}

#: Keys whose values are redacted in ``key=value`` text (the last one to three ``_`` parts match).
TEXT_KEYS = frozenset({"password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey",
                       "access_key", "secret_key", "private_key", "client_secret", "otp", "authorization",
                       "cookie", "session_id", "sessionid", "cvv", "pin", "credentials", "passphrase"})
#: Dict keys whose whole value is redacted (any ``_``/``-`` separated part, or two adjacent parts).
#: (``session_id`` is left out: ``bind_context(session_id=…)`` should carry an opaque id.)
STRUCT_KEYS = (TEXT_KEYS - {"session_id", "sessionid"}) | {"card", "card_number", "pan", "cvv2", "set_cookie", "refresh_token",
                           "access_token", "id_token", "mfa_secret", "totp_secret"}
_SPLIT = re.compile(r"[-_.\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
ENV_KEY = "SWFAST_LOG_PSEUDONYM_KEY"
_PLAIN = (int, float, bool, type(None), _dt.datetime, _dt.date, _dt.time, uuid.UUID)
_SCALARS = frozenset({str, int, float, bool, type(None)})
REDACTED_MARK = "[REDACTED:"
_MARKER = re.compile(r"\[[A-Z_]{2,20}:")


def _parts(name: str) -> list[str]:
    return [p for p in _SPLIT.split(_CAMEL.sub("_", name).lower()) if p]


_JWT_SEEN: dict[str, bool] = {}


def _jwt_header_ok(token: str) -> bool:
    """Whether the first segment base64url-decodes to a JSON object (memoised: headers repeat)."""
    head = token.split(".", 1)[0]
    ok = _JWT_SEEN.get(head)
    if ok is None:
        try:
            raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
            ok = isinstance(json.loads(raw), dict)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            ok = False
        if len(_JWT_SEEN) < 1024:
            _JWT_SEEN[head] = ok
    return ok


class SensitiveDataFilter(logging.Filter):
    """Redact (or pseudonymise) sensitive data in records, text and nested values.

    Args:
        name: as :class:`logging.Filter` (a logger-name prefix; ``""`` passes every record).
        detectors: built-in detector names to use (default: all of :data:`DETECTORS`).
        exclude: built-in detector names to switch off.
        patterns: extra detectors ``{"NAME": regex}``; matches become ``[REDACTED:NAME]``.
        keys: dict keys whose values are always redacted (default :data:`STRUCT_KEYS`);
            ``extra_keys`` adds to the default set.
        text_keys: keys recognised in ``key=value`` text (default :data:`TEXT_KEYS`).
        mode: ``"redact"`` (``[REDACTED:EMAIL]``) or ``"pseudonymise"`` (``[EMAIL:<digest>]``).
        key: pseudonym key (bytes or str); default ``SWFAST_LOG_PSEUDONYM_KEY`` or a random key
            for this process.
        max_depth: nesting depth beyond which values become ``[REDACTED:DEPTH]``.
    """

    def __init__(self, name: str = "", *, detectors: Iterable[str] | None = None, exclude: Iterable[str] = (),
                 patterns: Mapping[str, str | re.Pattern[str]] | None = None, keys: Iterable[str] | None = None,
                 extra_keys: Iterable[str] = (), text_keys: Iterable[str] | None = None, mode: str = "redact",
                 key: bytes | str | None = None, max_depth: int = 12) -> None:
        from swfast.errors import ConfigurationError

        super().__init__(name)
        chosen = list(DETECTORS) if detectors is None else list(detectors)
        unknown = [d for d in [*chosen, *exclude] if d not in DETECTORS]
        if unknown:
            raise ConfigurationError("detectors", f"unknown detectors {unknown}; choose from {sorted(DETECTORS)}")
        self.detectors = tuple(d for d in chosen if d not in set(exclude))
        self._mask = sum(1 << DETECTORS[d] for d in self.detectors)
        self.patterns: dict[str, re.Pattern[str]] = {}
        for label, pattern in (patterns or {}).items():
            try:
                self.patterns[str(label).upper()] = re.compile(pattern) if isinstance(pattern, str) else pattern
            except re.error as exc:
                raise ConfigurationError("patterns", f"{label!r} is not a valid regular expression: {exc}") from None
        self.keys = frozenset(k.lower() for k in (STRUCT_KEYS if keys is None else keys)) | {
            k.lower() for k in extra_keys}
        self.text_keys = frozenset(k.lower() for k in (TEXT_KEYS if text_keys is None else text_keys))
        if mode not in ("redact", "pseudonymise", "pseudonymize"):
            raise ConfigurationError("mode", f"expected 'redact' or 'pseudonymise', got {mode!r}")
        self.mode = "pseudonymise" if mode.startswith("pseudonym") else "redact"
        if key is None:
            from swfast import config as _config

            key = _config.log_pseudonym_key()
        self._key = (key.encode() if isinstance(key, str) else key) or secrets.token_bytes(32)
        if len(self._key) > 64:
            self._key = hashlib.blake2b(self._key).digest()
        self.max_depth = int(max_depth)
        self.counters = Counters("redaction")
        self._text_key_cache: dict[str, bool] = {}
        self._key_cache: dict[str, bool] = {}

    # ------------------------------------------------------------------ text
    def _text_key(self, name: str) -> bool:
        hit = self._text_key_cache.get(name)
        if hit is None:
            parts = _parts(name)
            keys = self.text_keys
            hit = bool(parts) and ("_".join(parts) in keys or parts[-1] in keys or "_".join(parts[-2:]) in keys
                                   or "_".join(parts[-3:]) in keys)
            if len(self._text_key_cache) < 4096:
                self._text_key_cache[name] = hit
        return hit

    def is_sensitive_key(self, key: object) -> bool:
        """Whether a dict key names a secret (its whole value is then redacted)."""
        if not isinstance(key, str):
            return False
        hit = self._key_cache.get(key)
        if hit is None:
            parts = _parts(key)
            keys = self.keys
            hit = ("".join(parts) in keys or "_".join(parts) in keys or any(p in keys for p in parts)
                   or any(f"{a}_{b}" in keys for a, b in zip(parts, parts[1:])))
            if len(self._key_cache) < 4096:
                self._key_cache[key] = hit
        return hit

    def pseudonym(self, value: str) -> str:
        """The keyed digest (16 hex digits) used by the pseudonymise mode."""
        return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self._key, digest_size=8).hexdigest()

    def _replacement(self, label: str, value: str) -> str:
        if self.mode == "pseudonymise":
            return f"[{label}:{self.pseudonym(value)}]"
        return f"[REDACTED:{label}]"

    def redact_text(self, text: str) -> str:
        """``text`` with every detected span replaced."""
        if len(text) < 5 and not self.patterns:  # shorter than the shortest detection ("pwd=x")
            return text
        spans, _ = _scan(text, self._mask, self._text_key)
        if spans:
            out: list[str] = []
            pos = 0
            for start, end, kind in spans:
                if kind == 3 and not _jwt_header_ok(text[start:end]):
                    continue
                if text.startswith("[", start) and _MARKER.match(text, start):  # already redacted
                    continue
                out.append(text[pos:start])
                out.append(self._replacement(_LABELS[kind], text[start:end]))
                pos = end
            out.append(text[pos:])
            text = "".join(out)
        for label, pattern in self.patterns.items():
            text = pattern.sub(lambda m, lb=label: self._replacement(lb, m.group()), text)  # type: ignore[misc]
        return text

    def _clean(self, texts: list[str]) -> bool:
        """Whether none of ``texts`` holds anything to redact, in one scanner call.

        They are joined by newlines, which no detection crosses except a PEM block; any span
        found sends every text through :meth:`redact_text` on its own.
        """
        return len(texts) > 1 and not _scan("\n".join(texts), self._mask, self._text_key)[0]

    def scan_steps(self, text: str) -> int:
        """Elementary steps the scanner takes on ``text`` (linear in its length)."""
        return int(_scan(text, self._mask, self._text_key)[1])

    # ---------------------------------------------------------------- values
    def redact(self, value: Any, _depth: int = 0) -> Any:
        """A redacted copy of ``value`` (str, bytes, numbers, mappings, sequences, sets, objects)."""
        if isinstance(value, str):
            return self.redact_text(value)
        if _depth >= self.max_depth:
            return "[REDACTED:DEPTH]"
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):  # a card or phone number logged as an int
            if abs(value) < 10**9:
                return value
            text = str(value)
            red = self.redact_text(text)
            return value if red == text else red
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.redact_text(bytes(value).decode("utf-8", "backslashreplace"))
        if isinstance(value, Mapping):
            return {k: (self._replacement("SECRET", str(v)) if self.is_sensitive_key(k) else self.redact(v, _depth + 1))
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self.redact(v, _depth + 1) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        if isinstance(value, (set, frozenset)):
            return [self.redact(v, _depth + 1) for v in value]
        if isinstance(value, BaseException):
            return self.redact_text(f"{type(value).__name__}: {_safe_str(value)}")
        return self.redact_text(safe_repr(value))  # unknown objects: fail closed on their repr

    # --------------------------------------------------------------- records
    def process(self, record: logging.LogRecord) -> logging.LogRecord:
        """Redact ``record`` in place (idempotent) and return it."""
        d = record.__dict__
        if d.get("_swfast_done"):
            return record
        args = record.args
        message: str | None
        if (not self.patterns and not record.exc_info and not record.exc_text and not record.stack_info
                and (not args or (type(args) is tuple and _SCALARS.issuperset(map(type, args))))):
            # the common clean record: one kernel call checks every extra key (cached verdicts)
            # and value type, and scans the message and the str extras at once
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - the general path below keeps both parts
                message = None
            if message is not None and _clean_record(d, _N_STANDARD, _FIRST, RESERVED, self._key_cache, message,
                                                     self._mask, self._text_key):
                record.msg = message
                record.args = None
                d["_swfast_done"] = True
                return record
        try:
            if args and (isinstance(args, Mapping) or not _SCALARS.issuperset(map(type, args))):
                # containers by key first (``{"password": …}``); scalars are covered by the scan
                # of the formatted message below
                try:
                    record.args = self.redact(args) if isinstance(args, Mapping) else tuple(
                        a if type(a) in _SCALARS else self.redact(a) for a in args)
                    message = record.getMessage()
                except Exception:  # noqa: BLE001 - e.g. %d given a redacted int: format the originals
                    record.args = args
                    message = None
            else:
                message = None
            if message is None:
                try:
                    message = record.getMessage()
                except Exception:  # noqa: BLE001 - wrong % args: keep both parts, still redacted
                    message = f"{safe_repr(record.msg)} % {safe_repr(args)}"
                    self.counters.add("format_error")
            extras = extra_items(record)
            redact_text = self.redact_text
            if not self.patterns and self._clean([message, *(v for _, v in extras if type(v) is str)]):
                redact_text = _identity  # one scan found nothing in the message and the str extras
            record.msg = redact_text(message)
            record.args = None
            for key, value in extras:
                if self.is_sensitive_key(key):
                    d[key] = self._replacement("SECRET", str(value))
                elif type(value) is str:
                    d[key] = redact_text(value)
                elif type(value) in _SCALARS and (type(value) is not int or -10**9 < value < 10**9):
                    continue
                else:
                    d[key] = self.redact(value)
            info = record.exc_info
            if info and info[0] is not None:
                tb = "".join(traceback.format_exception(*info)).rstrip("\n")
                d["_swfast_exc"] = {"type": info[0].__qualname__, "message": self.redact_text(_safe_str(info[1])),
                                    "traceback": self.redact_text(tb)}
                record.exc_info = None
                record.exc_text = d["_swfast_exc"]["traceback"]
            elif record.exc_text:
                record.exc_text = self.redact_text(record.exc_text)
            if record.stack_info:
                record.stack_info = self.redact_text(record.stack_info)
        except Exception:  # noqa: BLE001 - fail closed, never lose the record
            self.counters.add("unprocessable")
            record.msg = "[REDACTED:UNPROCESSABLE]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            for key, _ in extra_items(record):
                d[key] = "[REDACTED:UNPROCESSABLE]"
        d["_swfast_done"] = True
        return record

    def filter(self, record: logging.LogRecord) -> bool:
        if self.name and not super().filter(record):
            return False
        self.process(record)
        return True

    def redact_event_dict(self, event_dict: Mapping[str, Any]) -> dict[str, Any]:
        """A redacted copy of a structlog event dict (keys such as ``password`` fully redacted)."""
        return {k: (self._replacement("SECRET", str(v)) if self.is_sensitive_key(k) else self.redact(v))
                for k, v in event_dict.items()}


def _identity(text: str) -> str:
    return text


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        return safe_repr(value)


_DEFAULT: SensitiveDataFilter | None = None


def default_filter() -> SensitiveDataFilter:
    """The process-wide filter with the default detectors (created on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SensitiveDataFilter()
    return _DEFAULT


def redact_text(text: str) -> str:
    """``text`` redacted with the default detectors."""
    return default_filter().redact_text(text)


Redactor = Callable[[str], str]

__all__ = ["DETECTORS", "STRUCT_KEYS", "TEXT_KEYS", "SensitiveDataFilter", "default_filter", "redact_text"]
