"""One demo worker's request path, and the components it is built from.

``handle(message)`` takes a decoded ``DataRequest`` dict and always ends in exactly one
``DataResponse`` on the model's topic, or raises (the subscription retries, then dead-letters):

validate (compiled schemas) -> authenticate (HS256 token) -> authorise (RBAC) -> normalise the
text -> TieredCache read -> on a miss: rate limiter -> fallback chain around retry (with a retry
budget) around the circuit breaker around the model -> cache the model's answer -> respond.
"""
from __future__ import annotations

import contextvars
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import CircuitOpenError, InvalidToken, RetryError, SecurityError, ValidationError
from .model import ChaosSchedule, ModelError, SimulatedModel

#: Models the demo serves and the text language each expects.
MODELS: dict[str, str] = {"sentiment-fa": "fa", "ner-fa": "fa", "sentiment-en": "en"}
REQUESTS_TOPIC = "swfast.demo.requests"
WORKER_GROUP = "swfast-demo-workers"


@dataclass(frozen=True)
class Names:
    """Topic and group names of one run. On a shared broker each run gets its own (``run`` set),
    so a run never reads an earlier run's messages nor joins its stale groups."""

    run: str = ""

    def _sfx(self, base: str, sep: str = ".") -> str:
        return f"{base}{sep}{self.run}" if self.run else base

    @property
    def requests(self) -> str:
        return self._sfx(REQUESTS_TOPIC)

    @property
    def dlq(self) -> str:
        return self.requests + ".dlq"

    @property
    def stats(self) -> str:
        return self._sfx("swfast.demo.stats")

    @property
    def workers(self) -> str:
        return self._sfx(WORKER_GROUP, "-")

    @property
    def ledger(self) -> str:
        return self._sfx("swfast-demo-accounting", "-")

    def responses(self, model: str) -> str:
        from ..messaging.message_schemas import response_topic_for

        return self._sfx(response_topic_for(model))

#: The request parameters' schema (compiled once; the envelope has its own compiled check).
PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["text", "token", "seq"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 2000},
        "token": {"type": "string", "minLength": 10, "maxLength": 4096},
        "seq": {"type": "integer", "minimum": 0},
        "sent_at": {"type": "number"},
    },
    "additionalProperties": False,
}

#: Users, their roles, and what each role may call.
ROLES: dict[str, tuple[str, ...]] = {
    "analyst": ("infer:sentiment-fa", "infer:ner-fa"),
    "reader-en": ("infer:sentiment-en",),
    "admin": (),
}
USERS: dict[str, str] = {"alice": "admin", "bob": "reader-en", "sara": "analyst", "mallory": "guest"}

log = logging.getLogger("swfast.demo")
_PHASE: contextvars.ContextVar[str] = contextvars.ContextVar("swfast_demo_phase", default="steady")
_PRIMARY: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("swfast_demo_primary", default=None)


class FaultyTier:
    """Wraps a cache tier; while ``faulty`` is set every call raises ``ConnectionError``.

    The ``cache_fault`` chaos phase uses it on the embedded path (no Redis to drop): the
    manager counts the tier's errors and serves on from the other tiers and the model. Only the
    tier's I/O fails: its I/O-free helpers (the manager's pre-write size check ``encode``, and
    ``decode``) keep working, as they would with the store gone.
    """

    PURE = frozenset({"encode", "decode", "decode_many", "decode_into"})

    def __init__(self, tier: Any) -> None:
        self._tier = tier
        self.faulty = False
        self.faults = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._tier, name)
        if not callable(attr) or name in self.PURE:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.faulty:
                self.faults += 1
                raise ConnectionError(f"chaos: {type(self._tier).__name__}.{name} unavailable")
            return attr(*args, **kwargs)

        return call


@dataclass
class Counters:
    """What one worker did (plain ints; merged across workers and processes by addition)."""

    handled: int = 0
    ok: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    fallbacks: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    send_failures: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"handled": self.handled, "ok": self.ok, "cache_hits": self.cache_hits,
                "model_calls": self.model_calls, "fallbacks": self.fallbacks, "rejected": dict(self.rejected),
                "retries": self.retries, "send_failures": self.send_failures}


def merge_counts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Add per-worker ``Counters.as_dict()`` snapshots (nested dicts add key by key)."""
    out: dict[str, Any] = {}
    for part in parts:
        for k, v in part.items():
            if isinstance(v, dict):
                d = out.setdefault(k, {})
                for kk, vv in v.items():
                    d[kk] = d.get(kk, 0) + vv
            else:
                out[k] = out.get(k, 0) + v
    return out


class Components:
    """Everything the workers of one process share: keys, policy, cache, resilience.

    Args:
        workdir: private directory for L3 (SQLite).
        redis_url: optional L2 (``redis://`` node URLs comma-separated, or a cluster URL with
            ``cluster=True``).
        cluster: treat ``redis_url`` as a Redis Cluster entry point.
        model_rate: rate limiter on model calls (calls/s) ahead of the breaker.
        secret: HMAC key bytes shared by producers and workers (processes pass it on).
        seed: model randomness.
        chaos: the phase schedule (disabled: every request is ``steady``).
    """

    def __init__(self, workdir: str | Path, *, redis_url: str | None = None, cluster: bool = False,
                 model_rate: float = 2000.0, secret: bytes | None = None, seed: int = 7,
                 chaos: ChaosSchedule | None = None, l1_ttl: float = 2.0) -> None:
        from ..cache import DistributedCache, L1Cache, PersistentCache, TieredCache
        from ..resilience import (CircuitBreaker, ConstantBackoff, DegradationManager, Fallback, RateLimiter,
                                  RetryBudget, Retrying)
        from ..security.rbac import RBAC
        from ..security.signing import HMACKey, KeySet
        from ..security.tokens import TokenManager
        from ..utils.schema import compile_schema

        self.secret = secret or hashlib.blake2b(str(time.time_ns()).encode(), digest_size=32).digest()
        self.tokens = TokenManager(KeySet(HMACKey("demo-1", self.secret)), algorithms=["HS256"],
                                   issuer="swfast-demo", audience="models", access_ttl_s=3600.0)
        self.rbac = RBAC()
        for role, perms in ROLES.items():
            self.rbac.create_role(role)
            for p in perms:
                self.rbac.grant_permission(role, p)
        self.rbac.add_inheritance("admin", "analyst")
        self.rbac.add_inheritance("admin", "reader-en")
        self.rbac.create_role("guest")
        for user, role in USERS.items():
            self.rbac.assign_role(user, role)
        self.params = compile_schema(PARAMS_SCHEMA)
        Path(workdir).mkdir(parents=True, exist_ok=True)
        self.l3 = FaultyTier(PersistentCache(Path(workdir) / "l3", default_ttl=3600.0))
        self.l2: Any = None
        if redis_url:
            urls = [u.strip() for u in redis_url.split(",") if u.strip()]
            self.l2 = DistributedCache(urls[0] if cluster else urls, cluster=cluster, namespace="swfast-demo:",
                                       timeout=0.25, reset_timeout=0.3)
        self._l2_errors0 = self._l2_errors()
        self.cache = TieredCache(l1=L1Cache(5000, ttl=l1_ttl, name="demo"), l2=self.l2, l3=self.l3, l1_ttl=l1_ttl,
                                 default_ttl=3600.0)
        self.chaos = chaos or ChaosSchedule(0, enabled=False)
        self.limiter = RateLimiter(model_rate, burst=max(50.0, model_rate / 10), name="demo-model")
        self.budget = RetryBudget(percent_can_retry=20.0, min_retries_per_second=20.0)
        self.degradation = DegradationManager("demo")
        self.transitions: list[tuple[float, str, str, str]] = []
        self.transition_hooks: list[Callable[[Any], object]] = []
        self.levels: list[tuple[float, str]] = [(time.time(), "NORMAL")]
        self.degradation.add_listener(self._level_changed)
        self.models: dict[str, SimulatedModel] = {}
        self.breakers: dict[str, Any] = {}
        self.fallbacks: dict[str, Any] = {}
        self.retries = 0
        for i, name in enumerate(MODELS):
            model = SimulatedModel(name, seed=seed + i)
            breaker = CircuitBreaker(
                f"demo-{name}", failure_rate_threshold=50.0, slow_call_rate_threshold=60.0,
                slow_call_duration=0.025, window_size=20, minimum_calls=10, wait_duration_open=0.25,
                half_open_calls=3, record_exceptions=(ModelError,),
                listeners=[self._transition])
            self.degradation.watch(breaker)
            retrying = Retrying(on=ModelError, attempts=3, backoff=ConstantBackoff(0.001), budget=self.budget,
                                breaker=breaker, reraise=True, name=f"demo-{name}", on_retry=self._count_retry)
            self.models[name] = model
            self.breakers[name] = breaker
            self.fallbacks[name] = Fallback(self._primary(model, breaker, retrying), SimulatedModel.lite,
                                            use_last_good=True, on=(ModelError, RetryError, CircuitOpenError),
                                            degradation=self.degradation, name=f"demo-{name}")

    def _level_changed(self, old: Any, new: Any, why: str) -> None:
        self.levels.append((time.time(), new.name))
        log.warning("degradation level %s -> %s (%s)", old.name, new.name, why)

    def _transition(self, t: Any) -> None:
        self.transitions.append((time.time(), t.name, t.from_state.name, t.to_state.name))
        log.warning("breaker %s %s -> %s: %s", t.name, t.from_state.name, t.to_state.name, t.reason)
        for hook in self.transition_hooks:
            hook(t)

    def _count_retry(self, attempt: int, delay: float, error: BaseException) -> None:
        self.retries += 1

    @staticmethod
    def _primary(model: SimulatedModel, breaker: Any, retrying: Any) -> Callable[[str], Any]:
        async def primary(text: str) -> Any:
            result = await retrying.aattempt_retry(breaker.acall, model.infer, text, _PHASE.get())
            flag = _PRIMARY.get()
            if flag is not None:
                flag[0] = True
            return result

        return primary

    def token_for(self, user: str) -> str:
        return self.tokens.generate_token(user)

    @staticmethod
    def _l2_errors() -> float:
        from ..cache.l2 import ERRORS  # L2 counts its Redis faults here (it never raises them)

        return sum(x.value for x in ERRORS.collect().samples)

    def cache_stats(self) -> dict[str, Any]:
        snap = self.cache.stats.snapshot()
        if self.l2 is not None:
            snap["errors"]["l2"] = snap["errors"].get("l2", 0) + int(self._l2_errors() - self._l2_errors0)
        hits, misses = snap["hits"], snap["misses"]
        rates = {t: (hits[t] / (hits[t] + misses[t]) if hits[t] + misses[t] else 0.0) for t in ("l1", "l2", "l3")}
        total = sum(hits.values()) + snap["loads"]
        return {"hits": hits, "misses": misses, "errors": snap["errors"], "hit_rate": rates,
                "overall_hit_rate": (sum(hits.values()) / (hits["l1"] + misses["l1"])) if hits["l1"] + misses["l1"] else 0.0,
                "loads": snap["loads"], "reads": total, "l2": self.l2 is not None}

    def close(self) -> None:
        self.cache.close()
        if self.l2 is not None:
            self.l2.close()
        self.l3.close()


class Worker:
    """One consumer in the workers' group: ``handle`` is its subscription handler."""

    def __init__(self, name: str, parts: Components, send: Callable[..., Any]) -> None:
        self.name = name
        self.parts = parts
        self.send = send  # async: KafkaService.send_data_response
        self.counts = Counters()
        self._reply_to: Any = None

    async def _reject(self, rid: str, model: str, op: str, reason: str, message: str) -> None:
        from ..messaging.message_schemas import create_data_response

        self.counts.rejected[reason] = self.counts.rejected.get(reason, 0) + 1
        log.info("request %s to %s rejected: %s (%s)", rid, model, reason, message)
        resp = create_data_response(rid, model if model in MODELS else "unknown", op or "analyze_data", "error",
                                    error_code=reason, error_message=message, source=self.name,
                                    additional_info={"worker": self.name, "outcome": reason})
        await self._send(resp, self._reply_to)

    async def _send(self, resp: Any, topic: Any = None) -> None:
        """Send to the request's ``payload.response_topic`` (the model's topic by default)."""
        if not await self.send(resp, topic if isinstance(topic, str) and topic else None):
            self.counts.send_failures += 1
            raise ConnectionError(f"{self.name}: response {resp.metadata.request_id} not delivered")

    async def handle(self, msg: Any) -> None:
        from ..messaging.message_schemas import create_data_response, validate_data_request
        from ..utils.text import normalize_text

        p = self.parts
        t0 = time.perf_counter()
        self.counts.handled += 1
        meta = msg.get("metadata") if type(msg) is dict else None
        payload = msg.get("payload") if type(msg) is dict else None
        rid = meta.get("request_id") if type(meta) is dict else None
        self._reply_to = payload.get("response_topic") if type(payload) is dict else None
        if not isinstance(rid, str) or type(payload) is not dict:
            raise ValidationError("not a DataRequest (no metadata.request_id)", path="metadata.request_id")
        assert type(meta) is dict
        model = str(payload.get("model_id") or "unknown")
        op = str(payload.get("operation") or "analyze_data")
        try:
            validate_data_request(msg)
        except ValidationError as exc:
            return await self._reject(rid, model, op, "invalid_request", str(exc))
        params = payload["parameters"]
        if not p.params.is_valid(params):
            return await self._reject(rid, model, op, "invalid_parameters", "parameters do not match the schema")
        try:
            claims = p.tokens.validate_token(params["token"])
        except (InvalidToken, SecurityError) as exc:
            return await self._reject(rid, model, op, "unauthenticated", type(exc).__name__)
        if model not in MODELS:
            return await self._reject(rid, model, op, "unknown_model", f"no model {model!r}")
        if not p.rbac.check_permission(claims["sub"], f"infer:{model}"):
            return await self._reject(rid, model, op, "forbidden", f"{claims['sub']} may not call {model}")
        text = normalize_text(params["text"], lang=MODELS[model])
        phase = p.chaos.phase(params["seq"])
        key = f"{model}:{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"
        p.l3.faulty = phase == "cache_fault"
        cached = await p.cache.asmart_get(key)
        served = "cache"
        if cached is None:
            if not p.limiter.try_acquire():
                return await self._reject(rid, model, op, "rate_limited", "model rate limit reached")
            self.counts.model_calls += 1
            flag = [False]
            tok_phase, tok_primary = _PHASE.set(phase), _PRIMARY.set(flag)
            try:
                result = await p.fallbacks[model].acall(text)
            finally:
                _PHASE.reset(tok_phase)
                _PRIMARY.reset(tok_primary)
            if flag[0]:
                served = "model"
                await p.cache.asmart_set(key, result)
            else:
                served = "fallback"
                self.counts.fallbacks += 1
        else:
            result = cached
            self.counts.cache_hits += 1
        resp = create_data_response(
            rid, model, op, data=result, source=self.name, cached=served == "cache",
            processing_time=time.perf_counter() - t0, priority=int(meta.get("priority") or 3),
            additional_info={"worker": self.name, "outcome": served, "phase": phase})
        await self._send(resp, payload.get("response_topic"))
        self.counts.ok += 1


__all__ = ["Components", "Counters", "FaultyTier", "MODELS", "Names", "PARAMS_SCHEMA", "REQUESTS_TOPIC", "Worker",
           "WORKER_GROUP", "merge_counts"]
