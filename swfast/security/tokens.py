"""Compact JWS access/refresh tokens (HS256, EdDSA) with every check on by default.

Safe by default, after the CVEs of PyJWT, Authlib and python-jose:

* the algorithm is pinned per key and found by ``kid`` in memory; the header's ``alg`` must equal
  the key's and be in the manager's explicit ``algorithms`` list (case-sensitive; ``none`` never);
* ``exp`` is required; ``nbf``/``iat`` are checked with a bounded leeway; ``iss``/``aud`` match
  exactly; any ``crit``, ``zip`` or ``b64`` header is refused; tokens over ``max_token_bytes``
  (8 KB) are refused before parsing;
* access and refresh tokens carry ``token_use`` and cannot be swapped;
* refresh tokens rotate; presenting a rotated one again revokes its whole family (RFC 9700 §4.14)
  and logs a ``token_reuse`` security event;
* every malformed token raises :class:`~swfast.errors.InvalidToken`, never another error.

HS256 needs only the standard library (``cryptography`` is needed for EdDSA, ``orjson`` is an
optional speed-up). The PyJWT and joserfc interop tests check both directions for HS256 and EdDSA.
"""
from __future__ import annotations

import hmac
import itertools
import logging
import math
import secrets
import time
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .._json import compact_dumps
from .._native.jws import b64url_decode, b64url_encode
from .._durations import Duration, seconds
from ..errors import ConfigurationError, InvalidToken, TokenReuseDetected, TokenRevoked, ValidationError
from .events import security_event
from .revocation import MemoryRevocationStore, RevocationStore
from .signing import ED25519_ALGORITHMS, HMACKey, KeySet, SigningKey

import json as _json

_orjson: Any
try:  # orjson is optional: ~3x faster JSON on the token hot path
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None

# orjson handles integers within 64 bits only (it refuses larger ones on output and reads them as
# floats); any run of 19+ digits sends a payload through the exact standard-library codec instead,
# so claims are the same with or without orjson (the run is found by a compiled scan).
from .._native.msgbatch import long_digits as _long_digits  # noqa: E402


def _dumps(obj: Any) -> bytes:
    try:  # orjson, or the standard library for an integer beyond 64 bits; anything else is refused
        return compact_dumps(obj)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"cannot be encoded as JSON exactly ({exc})", path="claims",
                              keyword="json") from None


def _check_claim(value: Any, path: str) -> None:
    """Refuse what JSON cannot carry exactly, the same way with or without orjson."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return
    if t is float:
        if not math.isfinite(value):
            raise ValidationError(f"{value!r} has no exact JSON form", path=path, keyword="json")
    elif t is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise ValidationError(f"object keys must be str, got {type(k).__name__}", path=path,
                                      keyword="json")
            _check_claim(v, f"{path}.{k}")
    elif t is list or t is tuple:
        for i, v in enumerate(value):
            _check_claim(v, f"{path}[{i}]")
    else:
        raise ValidationError(f"{t.__name__} is not a JSON value (use str, int, float, bool, None, "
                              f"list or dict)", path=path, keyword="json")


def _loads(raw: bytes) -> Any:
    if _orjson is not None and not _long_digits(raw):
        return _orjson.loads(raw)
    return _json.loads(raw)


#: ``Ed25519`` is the fully specified RFC 9864 name of the Ed25519 form of ``EdDSA``; both verify
#: with an :class:`~swfast.security.signing.Ed25519Key`.
SUPPORTED_ALGORITHMS = frozenset({"HS256", "EdDSA", "Ed25519"})
_ED25519_NAMES = frozenset(ED25519_ALGORITHMS)
REGISTERED_CLAIMS = frozenset({"iss", "aud", "sub", "exp", "nbf", "iat", "jti", "token_use", "fam"})
MAX_LEEWAY_S = 60.0
_ALLOWED_HEADER = frozenset({"alg", "kid", "typ", "cty"})


class TokenPair(NamedTuple):
    """An access token and the refresh token of the same family."""

    access: str
    refresh: str


def _b64decode(segment: str, what: str) -> bytes:
    try:
        return b64url_decode(segment)
    except ValueError:
        raise InvalidToken(f"token: {what} segment is not base64url") from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = _loads(raw)
    except (ValueError, TypeError, RecursionError, OverflowError):  # JSONDecodeError is a ValueError
        raise InvalidToken(f"token: {what} is not valid JSON") from None
    if type(value) is not dict:
        raise InvalidToken(f"token: {what} must be a JSON object")
    return value


def _numeric(value: Any, claim: str) -> float:
    t = type(value)
    if t is int:
        return value  # type: ignore[no-any-return]
    if t is float and math.isfinite(value):  # a JSON number with a fraction or exponent
        return value  # type: ignore[no-any-return]
    raise InvalidToken(f"token: claim {claim!r} must be a finite number")


_HEADER_MEMO = 256  # distinct header segments remembered per manager (a bound, not a cache policy)


class TokenManager:
    """``generate_token``/``validate_token``/``refresh_token`` over a :class:`KeySet`. Thread-safe.

    Args:
        keys: signing keys; the primary signs, every held key verifies tokens naming its ``kid``.
        algorithms: explicit allow-list (subset of ``{"HS256", "EdDSA", "Ed25519"}``); required.
            ``Ed25519`` (RFC 9864) and ``EdDSA`` name the same signatures; list the one(s) to accept.
        issuer: value written to and required in ``iss``.
        audience: value written to ``aud``; validation requires one of these in ``aud``.
        access_ttl_s: lifetime of access tokens (seconds, a ``timedelta`` or a string like ``"15m"``).
        refresh_ttl_s: lifetime of refresh tokens (same forms, e.g. ``"14d"``).
        leeway_s: clock-skew allowance for ``exp``/``nbf``/``iat`` (same forms; at most 60 s).
        store: revocation store (memory by default; :class:`RedisRevocationStore` for many processes).
        clock: wall clock in seconds (injected in tests).
        max_token_bytes: tokens longer than this are refused before any parsing.
    """

    def __init__(
        self, keys: KeySet, *, algorithms: Sequence[str], issuer: str, audience: "str | Sequence[str]",
        access_ttl_s: Duration = 900.0, refresh_ttl_s: Duration = 14 * 86400.0, leeway_s: Duration = 30.0,
        store: "RevocationStore | None" = None, clock: Callable[[], float] = time.time,
        max_token_bytes: int = 8192,
    ) -> None:
        if isinstance(algorithms, str) or not algorithms:
            raise ConfigurationError("algorithms", "pass an explicit list such as ['HS256'] or ['EdDSA']")
        bad = [a for a in algorithms if a not in SUPPORTED_ALGORITHMS]
        if bad:
            raise ConfigurationError("algorithms", f"unsupported {bad}; choose from {sorted(SUPPORTED_ALGORITHMS)}")
        if not isinstance(keys, KeySet):
            raise ConfigurationError("keys", "expected a KeySet")
        access_ttl = seconds(access_ttl_s, param="access_ttl_s", allow_zero=False)
        refresh_ttl = seconds(refresh_ttl_s, param="refresh_ttl_s", allow_zero=False)
        leeway = seconds(leeway_s, param="leeway_s")
        assert access_ttl is not None and refresh_ttl is not None and leeway is not None
        if not 0 <= leeway <= MAX_LEEWAY_S:
            raise ConfigurationError("leeway_s", f"must be within 0..{MAX_LEEWAY_S} seconds")
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError("issuer", "a non-empty issuer string is required")
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ConfigurationError("audience", "one or more non-empty strings are required")
        self.keys = keys
        self.algorithms = frozenset(algorithms)
        self.issuer = issuer
        self._aud_out: "str | list[str]" = audiences[0] if len(audiences) == 1 else list(audiences)
        self._audiences = frozenset(audiences)
        self.access_ttl_s = access_ttl
        self.refresh_ttl_s = refresh_ttl
        self.leeway_s = leeway
        self.store: RevocationStore = store if store is not None else MemoryRevocationStore(clock=clock)
        self._clock = clock
        self.max_token_bytes = int(max_token_bytes)
        self._headers: dict[tuple[str, str], str] = {}
        self._kid_by_header: dict[str, tuple[str, str]] = {}
        # jti values only need to be unique: a random per-manager prefix and a counter.
        self._jti_prefix = secrets.token_urlsafe(9)
        self._jti_counter = itertools.count()

    # -- signing ---------------------------------------------------------------------------
    def _header_segment(self, key: SigningKey) -> str:
        segment = self._headers.get((key.kid, key.alg))
        if segment is None:
            segment = b64url_encode(_dumps({"alg": key.alg, "kid": key.kid, "typ": "JWT"}))
            self._headers[(key.kid, key.alg)] = segment
            self._kid_by_header[segment] = (key.kid, key.alg)
        return segment

    def _encode(self, payload: dict[str, Any]) -> str:
        key = self.keys.primary
        if key.alg not in self.algorithms:
            raise ConfigurationError("keys", f"primary key alg {key.alg} is not in algorithms={sorted(self.algorithms)}")
        signing_input = self._header_segment(key) + "." + b64url_encode(_dumps(payload))
        return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))

    def generate_token(
        self, subject: str, *, claims: "Mapping[str, Any] | None" = None, token_use: str = "access",
        ttl_s: "Duration | None" = None, family: "str | None" = None,
    ) -> str:
        """Sign a token for ``subject``.

        Args:
            subject: the ``sub`` claim.
            claims: extra application claims (registered claim names are refused).
            token_use: ``"access"`` or ``"refresh"``.
            ttl_s: lifetime (seconds, a ``timedelta`` or a string like ``"1h"``); the manager's
                access/refresh TTL by default.
            family: refresh family id to embed (set by :meth:`issue_tokens`/:meth:`refresh_token`).

        Raises:
            ValidationError: a claim that JSON cannot carry exactly (NaN, infinity, a non-str key,
                a type other than str/int/float/bool/None/list/dict). Integers of any size are
                written exactly.
        """
        default_ttl = {"access": self.access_ttl_s, "refresh": self.refresh_ttl_s}.get(token_use)
        if default_ttl is None:
            raise ConfigurationError("token_use", "must be 'access' or 'refresh'")
        now = int(self._clock())
        ttl = default_ttl if ttl_s is None else seconds(ttl_s, param="ttl_s", allow_zero=False)
        assert ttl is not None
        payload: dict[str, Any] = {
            "iss": self.issuer, "aud": self._aud_out, "sub": subject, "iat": now,
            "exp": now + int(ttl), "jti": f"{self._jti_prefix}{next(self._jti_counter):x}",
            "token_use": token_use,
        }
        if family is not None:
            payload["fam"] = family
        if claims:
            clash = REGISTERED_CLAIMS.intersection(claims)
            if clash:
                raise ConfigurationError("claims", f"registered claims {sorted(clash)} are set by the manager")
            for name, value in claims.items():
                _check_claim(value, f"claims.{name}")
            payload.update(claims)
        return self._encode(payload)

    # -- verification ----------------------------------------------------------------------
    def _verify(self, token: Any) -> dict[str, Any]:
        if type(token) is not str:
            if type(token) is not bytes:
                raise InvalidToken(f"token: expected str, got {type(token).__name__}")
            if len(token) > self.max_token_bytes:
                raise InvalidToken(f"token: longer than {self.max_token_bytes} bytes")
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise InvalidToken("token: not ASCII") from None
        if len(token) > self.max_token_bytes:
            raise InvalidToken(f"token: longer than {self.max_token_bytes} bytes")
        if not token.isascii():
            raise InvalidToken("token: not ASCII")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken(f"token: expected 3 segments, got {len(parts)}")
        h_seg, p_seg, s_seg = parts
        # Fast path: a header byte-identical to one this manager writes names a held key.
        cached = self._kid_by_header.get(h_seg)
        key = None if cached is None else self.keys.get(cached[0])
        if key is None or key.alg != cached[1] or key.alg not in self.algorithms:  # type: ignore[index]
            key = self._key_from_header(h_seg)
        signed = token[: len(h_seg) + len(p_seg) + 1].encode("ascii")
        if type(key) is HMACKey:
            if not hmac.compare_digest(b64url_encode(key.sign(signed)), s_seg):
                raise InvalidToken("token: signature verification failed")
        elif not key.verify(signed, _b64decode(s_seg, "signature")):
            raise InvalidToken("token: signature verification failed")
        return _json_object(_b64decode(p_seg, "payload"), "payload")

    def _key_from_header(self, h_seg: str) -> SigningKey:
        header = _json_object(_b64decode(h_seg, "header"), "header")
        unknown = set(header) - _ALLOWED_HEADER
        if unknown:
            # crit, zip, b64, jku, x5u, jwk, ... : nothing we do not understand is accepted.
            raise InvalidToken(f"token: unsupported header parameters {sorted(map(str, unknown))[:5]}")
        alg = header.get("alg")
        if type(alg) is not str or alg not in self.algorithms:
            raise InvalidToken("token: header alg is not in the allowed algorithms")
        key = self.keys.get(header.get("kid"))
        if key is None:
            raise InvalidToken("token: unknown or missing kid")
        if key.alg != alg and not (alg in _ED25519_NAMES and key.alg in _ED25519_NAMES):
            raise InvalidToken("token: header alg does not match the key's algorithm")
        if alg == key.alg and len(self._kid_by_header) < _HEADER_MEMO:
            # Tokens another issuer signed repeat their header too: the next one skips this parse
            # (the fast path still looks the kid up and checks its algorithm on every token).
            self._kid_by_header[h_seg] = (key.kid, alg)
        return key

    def _check_claims(self, claims: dict[str, Any], expected_use: str) -> None:
        now = self._clock()
        leeway = self.leeway_s
        exp = claims.get("exp")
        if exp is None:
            raise InvalidToken("token: missing required claim 'exp'")
        if _numeric(exp, "exp") <= now - leeway:
            raise InvalidToken("token: expired")
        nbf = claims.get("nbf")
        if nbf is not None and _numeric(nbf, "nbf") > now + leeway:
            raise InvalidToken("token: not yet valid (nbf)")
        iat = claims.get("iat")
        if iat is not None and _numeric(iat, "iat") > now + leeway:
            raise InvalidToken("token: issued in the future (iat)")
        iss = claims.get("iss")
        if type(iss) is not str or iss != self.issuer:
            raise InvalidToken("token: issuer mismatch")
        aud = claims.get("aud")
        if type(aud) is str:
            if aud not in self._audiences:
                raise InvalidToken("token: audience mismatch")
        elif type(aud) is list and aud and all(type(a) is str for a in aud):
            if self._audiences.isdisjoint(aud):
                raise InvalidToken("token: audience mismatch")
        else:
            raise InvalidToken("token: missing or malformed aud")
        use = claims.get("token_use", "access")
        if use != expected_use:
            raise InvalidToken(f"token: a {use!r} token cannot be used as {expected_use!r}")
        for name in ("jti", "fam", "sub"):
            value = claims.get(name)
            if value is not None and type(value) is not str:
                raise InvalidToken(f"token: claim {name!r} must be a string")

    def validate_token(self, token: "str | bytes", *, token_use: str = "access") -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        Raises:
            InvalidToken: malformed, bad signature, expired, wrong iss/aud/use, unknown kid.
            TokenRevoked: the token or its family was revoked (an ``InvalidToken``).
            ServiceUnavailable: a shared revocation store cannot be reached (fails closed).
        """
        try:
            claims = self._verify(token)
            self._check_claims(claims, token_use)
        except InvalidToken as exc:
            security_event("token", "rejected", level=logging.DEBUG, reason=str(exc)[7:40])
            raise
        if self.store.is_revoked(claims.get("jti"), claims.get("fam")):
            security_event("token", "revoked", level=logging.DEBUG)
            raise TokenRevoked("token: revoked")
        return claims

    # -- refresh families ------------------------------------------------------------------
    def issue_tokens(self, subject: str, *, claims: "Mapping[str, Any] | None" = None) -> TokenPair:
        """Start a refresh family: a new access token and refresh token for ``subject``."""
        family = secrets.token_urlsafe(16)
        refresh = self.generate_token(subject, claims=claims, token_use="refresh", family=family)
        jti = _loads(_b64decode(refresh.split(".")[1], "payload"))["jti"]
        self.store.start_family(family, jti, self._clock() + self.refresh_ttl_s)
        access = self.generate_token(subject, claims=claims, family=family)
        return TokenPair(access, refresh)

    def refresh_token(self, refresh: "str | bytes") -> TokenPair:
        """Rotate ``refresh``: return a new pair and invalidate ``refresh``.

        Raises:
            TokenReuseDetected: ``refresh`` was already rotated; the family is now revoked.
            InvalidToken: as :meth:`validate_token` with ``token_use="refresh"``.
        """
        claims = self.validate_token(refresh, token_use="refresh")
        family, jti = claims.get("fam"), claims.get("jti")
        if family is None or jti is None:
            raise InvalidToken("token: refresh token without family or jti")
        extra = {k: v for k, v in claims.items() if k not in REGISTERED_CLAIMS}
        new = self.generate_token(claims.get("sub", ""), claims=extra, token_use="refresh", family=family)
        new_jti = _loads(_b64decode(new.split(".")[1], "payload"))["jti"]
        horizon = self._clock() + self.refresh_ttl_s
        if not self.store.rotate(family, jti, new_jti, horizon):
            self.store.revoke_family(family, horizon)
            security_event("token_reuse", "family_revoked", user=claims.get("sub"), level=logging.WARNING)
            raise TokenReuseDetected("token: refresh token reuse detected; the token family is revoked")
        security_event("token", "refreshed", level=logging.DEBUG, user=claims.get("sub"))
        return TokenPair(self.generate_token(claims.get("sub", ""), claims=extra, family=family), new)

    def revoke_token(self, token: "str | bytes") -> None:
        """Revoke a valid token (logout); a token with a family revokes the whole family."""
        try:
            claims = self._verify(token)
        except InvalidToken:
            return  # nothing to revoke: it is not a token we would accept
        exp = _numeric(claims.get("exp", self._clock() + self.refresh_ttl_s), "exp")
        horizon = max(float(exp), self._clock()) + self.leeway_s
        if claims.get("fam") is not None:
            self.store.revoke_family(str(claims["fam"]), max(horizon, self._clock() + self.refresh_ttl_s))
        if claims.get("jti") is not None:
            self.store.revoke(str(claims["jti"]), horizon)
        security_event("token", "revoked_by_request", user=claims.get("sub"))


__all__ = ["SUPPORTED_ALGORITHMS", "TokenManager", "TokenPair"]
