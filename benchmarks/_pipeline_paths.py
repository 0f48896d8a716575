"""The demo's request path built twice: once from swfast, once glued from the libraries a team
would otherwise use. Shared by ``bench_pipeline.py`` (asv) and ``quick/test_pipeline.py``.

Each path takes the raw request bytes and returns the raw response bytes, doing the same steps:
decode + validate the DataRequest envelope, validate the parameters, verify an HS256 token
(iss, aud, exp), check an RBAC permission, normalise the text, take a rate-limiter token, read
the cache (L1, then L3 on disk), on a miss call the model through a retry policy and a circuit
breaker (with a fallback) and write L1 + L3 (swfast: ``smart_get(key, loader=)``, one flight per key), build and encode the DataResponse, count the
request and observe its latency in metrics, and write one JSON log line. The model costs
nothing, so only the infrastructure is timed.

swfast: ``DataRequest.from_json``, compiled ``Validator``, ``TokenManager``, ``RBAC``,
``normalize_text``, ``RateLimiter``, ``TieredCache`` (L1Cache + PersistentCache),
``Retrying`` + ``CircuitBreaker`` + ``Fallback``, ``create_data_response().to_json()``,
swfast metrics, the stdlib logger with swfast.logging's ``JSONLogFormatter``.

peers: orjson + fastjsonschema (envelope and parameters), PyJWT, pycasbin, a ``re``-based
normaliser (hazm's steps), limits (moving window, memory), cachetools.TTLCache + diskcache,
tenacity + pybreaker + try/except fallback, orjson, prometheus_client, python-json-logger.
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
import tempfile
import time
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(__file__))

from _messaging_peers import JSON_SCHEMA as ENVELOPE_SCHEMA  # noqa: E402
from _utils_peers import HazmReimpl  # noqa: E402

SECRET = bytes(range(32))
ISSUER, AUDIENCE = "swfast-demo", "models"
PEERS = ("orjson", "fastjsonschema", "PyJWT", "casbin", "limits", "cachetools", "diskcache", "tenacity", "pybreaker",
         "prometheus-client", "python-json-logger")


def peer_versions() -> dict[str, str]:
    out = {}
    for dist in PEERS:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


class _Null:
    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def _logger(name: str, formatter: logging.Formatter) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers = []
    h = logging.StreamHandler(_Null())  # type: ignore[arg-type]
    h.setFormatter(formatter)
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def requests(n: int, *, fresh: bool, seed: int = 3) -> list[bytes]:
    """``n`` request bodies (valid, authorised). ``fresh``: every text new (cache misses)."""
    import random

    from swfast.demo.corpus import EN, FA
    from swfast.messaging.message_schemas import create_data_request
    from swfast.security.signing import HMACKey, KeySet
    from swfast.security.tokens import TokenManager

    tm = TokenManager(KeySet(HMACKey("demo-1", SECRET)), algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE,
                      access_ttl_s=3600.0)
    token = tm.generate_token("sara")
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        text = rnd.choice(FA)
        if fresh:
            text = f"{text} {i}-{rnd.randrange(10**9)}"
        req = create_data_request("sentiment-fa", "analyze_data", parameters={
            "text": text, "token": token, "seq": i, "sent_at": time.time()}, priority=rnd.randint(1, 5),
            source="bench")
        out.append(req.to_json())
    return out


def zero_model(text: str) -> dict[str, Any]:
    return {"label": "positive", "score": 0.5, "model": "sentiment-fa"}


def _lite(text: str) -> dict[str, Any]:
    return {"label": "neutral", "score": 0.5, "model": "lite", "degraded": True}


def swfast_path(workdir: str) -> tuple[Callable[[bytes], bytes], Callable[[], None]]:
    """The swfast request path; returns ``(handle, close)``."""
    import hashlib

    from swfast.cache.l1 import L1Cache
    from swfast.cache.l3 import PersistentCache
    from swfast.cache.manager import TieredCache
    from swfast.demo.pipeline import PARAMS_SCHEMA
    from swfast.demo.runner import _log_formatter
    from swfast.messaging.message_schemas import DataRequest, create_data_response
    from swfast.monitoring.metrics import Registry
    from swfast.resilience import CircuitBreaker, ConstantBackoff, Fallback, RateLimiter, RetryBudget, Retrying
    from swfast.security.rbac import RBAC
    from swfast.security.signing import HMACKey, KeySet
    from swfast.security.tokens import TokenManager
    from swfast.utils.schema import compile_schema
    from swfast.utils.text import normalize_text

    tm = TokenManager(KeySet(HMACKey("demo-1", SECRET)), algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE)
    rbac = RBAC()
    rbac.grant_permission("analyst", "infer:sentiment-fa")
    rbac.assign_role("sara", "analyst")
    params_ok = compile_schema(PARAMS_SCHEMA).is_valid
    limiter = RateLimiter(1e9, burst=1e9, name="bench-pipeline")
    l3 = PersistentCache(os.path.join(workdir, "l3"))
    cache = TieredCache(l1=L1Cache(100_000, ttl=60.0), l3=l3)
    breaker = CircuitBreaker("bench-pipeline", minimum_calls=20, window_size=100)
    retrying = Retrying(on=RuntimeError, attempts=3, backoff=ConstantBackoff(0.0), budget=RetryBudget(), breaker=breaker,
                        reraise=True, name="bench-pipeline")
    fallback = Fallback(lambda text: retrying.attempt_retry(breaker.call, zero_model, text), _lite, use_last_good=False,
                        name="bench-pipeline")
    reg = Registry()
    served = reg.counter("swfast_bench_requests_total", "requests", ("model", "outcome"))
    latency = reg.histogram("swfast_bench_request_seconds", "latency", ("model",))
    try:
        from swfast.logging.formatters import JSONLogFormatter

        formatter: logging.Formatter = JSONLogFormatter()
    except ImportError:  # before swfast.logging: the demo's own JSON formatter
        formatter = _log_formatter()
    log = _logger("swfast.bench.pipeline", formatter)
    perf = time.perf_counter

    def handle(raw: bytes) -> bytes:
        t0 = perf()
        req = DataRequest.from_json(raw)
        meta, payload = req.metadata, req.payload
        params = payload.parameters
        if not params_ok(params):
            raise ValueError("parameters")
        sub = tm.validate_token(params["token"])["sub"]
        model = payload.model_id
        if not rbac.check_permission(sub, "infer:" + model):
            raise PermissionError(sub)
        text = normalize_text(params["text"])
        if not limiter.try_acquire():
            raise RuntimeError("rate limited")
        key = model + ":" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        loaded: list[bool] = []

        def load() -> Any:  # runs only on a miss of every tier, once per key (single flight)
            loaded.append(True)
            return fallback.call(text)

        result = cache.smart_get(key, loader=load)
        outcome = "model" if loaded else "cache"
        body: bytes = create_data_response(meta.request_id, model, payload.operation, data=result, source="bench",
                                           cached=outcome == "cache").to_json()
        served.labels(model, outcome).inc()
        latency.labels(model).observe(perf() - t0)
        log.info("served %s %s %s", meta.request_id, model, outcome)
        return body

    def close() -> None:
        cache.close()
        l3.close()

    return handle, close


def peer_path(workdir: str) -> tuple[Callable[[bytes], bytes], Callable[[], None]]:
    """The same path glued from the peer libraries; returns ``(handle, close)``."""
    import hashlib
    import uuid
    from datetime import datetime, timezone

    import cachetools
    import casbin
    import diskcache
    import fastjsonschema
    import jwt
    import limits
    import orjson
    import prometheus_client
    import pybreaker
    import tenacity
    from pythonjsonlogger.json import JsonFormatter

    from swfast.demo.pipeline import PARAMS_SCHEMA

    envelope_ok = fastjsonschema.compile(ENVELOPE_SCHEMA)
    params_ok = fastjsonschema.compile(PARAMS_SCHEMA)
    logging.getLogger("casbin").setLevel(logging.WARNING)
    model_conf = casbin.Model()
    model_conf.load_model_from_text(
        "[request_definition]\nr = sub, obj\n[policy_definition]\np = sub, obj\n[role_definition]\ng = _, _\n"
        "[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = g(r.sub, p.sub) && r.obj == p.obj\n")
    enforcer = casbin.Enforcer(model_conf, enable_log=False)
    enforcer.add_policy("analyst", "infer:sentiment-fa")
    enforcer.add_grouping_policy("sara", "analyst")
    normalise = HazmReimpl().normalize
    limiter = limits.strategies.MovingWindowRateLimiter(limits.storage.MemoryStorage())
    rate = limits.parse("1000000000/second")
    l1: cachetools.TTLCache[str, Any] = cachetools.TTLCache(100_000, ttl=60.0)
    l3 = diskcache.Cache(os.path.join(workdir, "diskcache"))
    breaker = pybreaker.CircuitBreaker(fail_max=20, reset_timeout=60)
    retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(RuntimeError), stop=tenacity.stop_after_attempt(3),
                                 wait=tenacity.wait_none(), reraise=True)
    reg = prometheus_client.CollectorRegistry()
    served = prometheus_client.Counter("bench_requests_total", "requests", ("model", "outcome"), registry=reg)
    latency = prometheus_client.Histogram("bench_request_seconds", "latency", ("model",), registry=reg)
    log = _logger("peers.bench.pipeline", JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    dumps, loads = orjson.dumps, orjson.loads
    perf = time.perf_counter

    def model_call(text: str) -> Any:
        try:
            return retrying(breaker.call, zero_model, text)
        except (RuntimeError, pybreaker.CircuitBreakerError):
            return _lite(text)

    def handle(raw: bytes) -> bytes:
        t0 = perf()
        msg = loads(raw)
        envelope_ok(msg)
        meta, payload = msg["metadata"], msg["payload"]
        params = payload["parameters"]
        params_ok(params)
        claims = jwt.decode(params["token"], SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat"]})
        model = payload["model_id"]
        if not enforcer.enforce(claims["sub"], "infer:" + model):
            raise PermissionError(claims["sub"])
        text = normalise(params["text"])
        if not limiter.hit(rate, "model"):
            raise RuntimeError("rate limited")
        key = model + ":" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
        result = l1.get(key)
        outcome = "cache"
        if result is None:
            result = l3.get(key)
            if result is None:
                result = model_call(text)
                l3.set(key, result, expire=3600)
                outcome = "model"
            l1[key] = result
        body: bytes = dumps({
            "metadata": {"request_id": meta["request_id"], "timestamp": datetime.now(timezone.utc).isoformat(),
                         "source": "bench", "destination": model, "priority": 3, "request_source": "system",
                         "correlation_id": meta["request_id"], "trace_id": None, "session_id": None, "retry_count": 0,
                         "ttl": None, "expires_at": None, "message_id": str(uuid.uuid4())},
            "payload": {"operation": payload["operation"], "status": "success", "data": result,
                        "cached": outcome == "cache"}})
        served.labels(model, outcome).inc()
        latency.labels(model).observe(perf() - t0)
        log.info("served %s %s %s", meta["request_id"], model, outcome)
        return body

    def close() -> None:
        l3.close()

    return handle, close


def cpu_per_request(build: Callable[[str], tuple[Callable[[bytes], bytes], Callable[[], None]]], bodies: list[bytes],
                    *, warm: bool, repeat: int = 5) -> float:
    """Like :func:`measure` but in this thread's CPU time (unaffected by other processes
    holding the CPU on a shared machine)."""
    return measure(build, bodies, warm=warm, repeat=repeat, timer=time.thread_time)


def measure(build: Callable[[str], tuple[Callable[[bytes], bytes], Callable[[], None]]], bodies: list[bytes],
            *, warm: bool, repeat: int = 5, timer: Callable[[], float] = time.perf_counter) -> float:
    """Median seconds per request over ``repeat`` passes through ``bodies``.

    ``warm``: one untimed pass first, so timed passes are cache hits; otherwise every body is
    fresh (each pass builds a new path: an empty cache, so every request misses).
    """
    import statistics

    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="swfast-bench-") as d:
            handle, close = build(d)
            try:
                if warm:
                    for b in bodies:
                        handle(b)
                t0 = timer()
                for b in bodies:
                    handle(b)
                times.append((timer() - t0) / len(bodies))
            finally:
                close()
    return statistics.median(times)


def main() -> None:
    """``python benchmarks/_pipeline_paths.py``: the README's table. Per request, medians: the hit
    path 40 rounds of 500 on one warm path, the miss path 8 rounds of 500 fresh requests, each on
    a new path (empty cache); CPU time of the thread and wall time."""
    import statistics

    n = 500
    hit, miss = requests(n, fresh=False), requests(n, fresh=True)
    got: dict[tuple[str, str], tuple[float, float]] = {}

    def rounds(handle: Callable[[bytes], bytes], bodies: list[bytes]) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.thread_time()
        for body in bodies:
            handle(body)
        return (time.thread_time() - c0) / n, (time.perf_counter() - t0) / n

    for name, build in (("swfast", swfast_path), ("glued peers", peer_path)):
        with tempfile.TemporaryDirectory(prefix="swfast-bench-") as d:
            handle, close = build(d)
            try:
                rounds(handle, hit)
                hits = [rounds(handle, hit) for _ in range(40)]
            finally:
                close()
        misses = []
        for _ in range(8):
            with tempfile.TemporaryDirectory(prefix="swfast-bench-") as d:
                handle, close = build(d)
                try:
                    misses.append(rounds(handle, miss))
                finally:
                    close()
        for path, xs in (("hit", hits), ("miss", misses)):
            got[(name, path)] = (statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs))
    print(f"{'path':<10} {'swfast':>10} {'glued peers':>12} {'ratio':>7}")
    for path in ("hit", "miss"):
        for i, clock in enumerate(("cpu", "wall")):
            a, b = got[("swfast", path)][i], got[("glued peers", path)][i]
            print(f"{path + ' ' + clock:<10} {a * 1e6:8.1f}us {b * 1e6:10.1f}us {b / a:6.1f}x")
    print("peers:", ", ".join(f"{k} {v}" for k, v in peer_versions().items()))


if __name__ == "__main__":
    main()


__all__ = ["cpu_per_request", "main", "measure", "peer_path", "peer_versions", "requests", "swfast_path", "zero_model"]
