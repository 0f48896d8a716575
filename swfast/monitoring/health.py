"""Health checks with liveness/readiness/startup verdicts, and an ``application/health+json`` reporter.

``HealthChecker`` runs its checks concurrently, each with a timeout (a check that hangs is
reported as failed after its timeout and never hangs the report), caches the result for ``ttl``
seconds (orchestrator polls do not hammer dependencies) and grades:

* a failing **critical** check -> ``fail`` (HTTP 503),
* a failing non-critical check or any ``warn`` -> ``warn`` ("degraded", HTTP 200),
* otherwise ``pass``.

A check is any callable or coroutine function returning ``True``/``None`` (pass), ``False``
(fail), a status string, or a dict with ``status``, ``observedValue``, ``observedUnit``,
``output``; raising is a failure whose (redacted) message becomes ``output``. Dependencies
belong in readiness; liveness only has checks of the process itself (Kubernetes advice).

The format follows the IETF draft "Health Check Response Format for HTTP APIs": ``status``,
``checks: {"<component>:<measurement>": [{componentType, observedValue, observedUnit, status,
time, output}]}``.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from .._redact import redact_text
from ..errors import ConfigurationError
from ._http import HttpServer, Route, asgi_app, wsgi_app

log = logging.getLogger("swfast.monitoring.health")
CONTENT_TYPE_HEALTH = "application/health+json"
KINDS = ("liveness", "readiness", "startup")
_RANK = {"pass": 0, "warn": 1, "fail": 2}


class Check:
    """One registered check."""

    __slots__ = ("name", "fn", "critical", "timeout", "kinds", "component_type", "unit")

    def __init__(self, name: str, fn: Callable[[], Any], *, critical: bool, timeout: float,
                 kinds: tuple[str, ...], component_type: str, unit: str) -> None:
        self.name = name
        self.fn = fn
        self.critical = critical
        self.timeout = timeout
        self.kinds = kinds
        self.component_type = component_type
        self.unit = unit


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _interpret(value: Any, check: Check) -> dict[str, Any]:
    entry: dict[str, Any] = {"componentType": check.component_type}
    if value is None or value is True:
        entry["status"] = "pass"
    elif value is False:
        entry["status"] = "fail"
    elif isinstance(value, str):
        entry["status"] = value if value in _RANK else "fail"
        if value not in _RANK:
            entry["output"] = f"unknown status {value!r}"
    elif isinstance(value, Mapping):
        status = value.get("status", "pass")
        entry["status"] = status if status in _RANK else "fail"
        for key in ("observedValue", "observedUnit", "output", "componentId", "affectedEndpoints"):
            if key in value:
                entry[key] = value[key]
    elif isinstance(value, (int, float)):
        entry.update(status="pass", observedValue=value)
        if check.unit:
            entry["observedUnit"] = check.unit
    else:
        entry["status"] = "pass"
    if "output" in entry:
        entry["output"] = redact_text(str(entry["output"]))
    return entry


async def _in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in its own daemon thread (a hanging check never blocks a pool or the loop)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def deliver(cb: Callable[[], Any]) -> None:
        try:
            loop.call_soon_threadsafe(cb)
        except RuntimeError:  # the report finished (timed out) and its loop is closed
            pass

    def run() -> None:
        try:
            res = fn()
        except BaseException as exc:  # delivered to the awaiting coroutine
            err = exc
            deliver(lambda: None if fut.done() else fut.set_exception(err))
        else:
            deliver(lambda: None if fut.done() else fut.set_result(res))

    threading.Thread(target=run, name="swfast-health-check", daemon=True).start()
    return await fut


class HealthChecker:
    """Pluggable, concurrent, cached health checks.

    Args:
        ttl: seconds a result is reused (default 2; 0 disables the cache).
        timeout: default per-check timeout in seconds (default 1).
        clock: monotonic clock (injectable).
    """

    def __init__(self, *, ttl: float = 2.0, timeout: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = float(ttl)
        self.timeout = float(timeout)
        self._clock = clock
        self._checks: dict[str, Check] = {}
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.started = False

    # -- registration -----------------------------------------------------------------------
    def add_check(self, name: str, fn: Callable[[], Any], *, critical: bool = True, timeout: float | None = None,
                  kinds: Iterable[str] | str = ("readiness",), component_type: str = "component",
                  unit: str = "") -> "HealthChecker":
        """Register (or replace) a check; ``kinds`` among liveness, readiness, startup."""
        if not callable(fn):
            raise ConfigurationError("fn", f"check {name!r} must be callable, got {type(fn).__name__}")
        ks = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        bad = [k for k in ks if k not in KINDS]
        if bad or not ks:
            raise ConfigurationError("kinds", f"{bad or ks} not among {KINDS}")
        t = self.timeout if timeout is None else float(timeout)
        if not t > 0:
            raise ConfigurationError("timeout", f"must be > 0, got {timeout!r}")
        with self._lock:
            self._checks[name] = Check(name, fn, critical=critical, timeout=t, kinds=ks,
                                       component_type=component_type, unit=unit)
            self._cache.clear()
        return self

    register = add_check

    def remove_check(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)
            self._cache.clear()

    @property
    def checks(self) -> list[str]:
        return list(self._checks)

    # built-in checks ----------------------------------------------------------------------
    def add_redis(self, client: Any, name: str = "redis:ping", **kw: Any) -> "HealthChecker":
        """Readiness: ``client.ping()`` (sync or async redis client)."""
        return self.add_check(name, client.ping, component_type="datastore", **kw)

    def add_kafka(self, service: Any, name: str = "kafka:metadata", **kw: Any) -> "HealthChecker":
        """Readiness: broker metadata through ``KafkaService.list_topics()``."""
        async def check() -> dict[str, Any]:
            topics = service.list_topics()
            if inspect.isawaitable(topics):
                topics = await topics
            return {"status": "pass", "observedValue": len(topics), "observedUnit": "topics"}

        return self.add_check(name, check, component_type="component", **kw)

    def add_disk(self, path: str = "/", *, warn_free_ratio: float = 0.1, fail_free_ratio: float = 0.02,
                 name: str = "disk:free", **kw: Any) -> "HealthChecker":
        """Free-space ratio of ``path``: warn/fail below the thresholds."""
        def check() -> dict[str, Any]:
            du = shutil.disk_usage(path)
            free = du.free / du.total if du.total else 0.0
            status = "fail" if free < fail_free_ratio else "warn" if free < warn_free_ratio else "pass"
            return {"status": status, "observedValue": round(free, 4), "observedUnit": "ratio"}

        kw.setdefault("critical", False)
        return self.add_check(name, check, component_type="system", **kw)

    def add_memory(self, *, warn_ratio: float = 0.9, fail_ratio: float = 0.97, name: str = "memory:utilization",
                   sampler: Any = None, warn_pressure: float = 0.25, **kw: Any) -> "HealthChecker":
        """Memory used against the container limit (cgroup); PSI ``some avg10`` at or above
        ``warn_pressure`` (0-1, where PSI exists) warns too, and is shown in ``output``."""
        def check() -> dict[str, Any]:
            from .system import default_sampler

            s = (sampler or default_sampler()).sample()
            used = s.get("system_memory_usage_ratio", 0.0)
            status = "fail" if used >= fail_ratio else "warn" if used >= warn_ratio else "pass"
            out: dict[str, Any] = {"status": status, "observedValue": round(used, 4), "observedUnit": "ratio"}
            if "system_memory_pressure_ratio" in s:
                pressure = s["system_memory_pressure_ratio"]
                out["output"] = f"psi some avg10 {pressure:.2%}"
                if status == "pass" and pressure >= warn_pressure:
                    out["status"] = "warn"
            return out

        kw.setdefault("critical", False)
        return self.add_check(name, check, component_type="system", **kw)

    def add_gpu(self, *, name: str = "gpu:utilization", **kw: Any) -> "HealthChecker":
        """GPUs through NVML when present; a CPU-only host passes ("no GPU")."""
        def check() -> dict[str, Any]:
            try:
                import pynvml
            except ImportError:
                return {"status": "pass", "output": "no GPU (NVML not installed)"}
            try:
                pynvml.nvmlInit()
            except Exception:
                return {"status": "pass", "output": "no GPU (NVML unavailable)"}
            try:
                n = pynvml.nvmlDeviceGetCount()
                worst = 0.0
                for i in range(n):
                    mem = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(i))
                    worst = max(worst, mem.used / mem.total if mem.total else 0.0)
                return {"status": "warn" if worst > 0.95 else "pass", "observedValue": round(worst, 4),
                        "observedUnit": "ratio", "output": f"{n} device(s)"}
            finally:
                pynvml.nvmlShutdown()

        kw.setdefault("critical", False)
        return self.add_check(name, check, component_type="system", **kw)

    def add_breakers(self, *, name: str = "breakers:state", registry: Any = None, **kw: Any) -> "HealthChecker":
        """Circuit breakers from the metrics registry: any open breaker -> warn."""
        def check() -> dict[str, Any]:
            from .metrics import REGISTRY

            opened = []
            for snap in (registry or REGISTRY).collect():
                if snap.name == "swfast_resilience_breaker_state":
                    opened += [s.labels.get("name", "?") for s in snap.samples if s.value in (1.0, 3.0)]
            return {"status": "warn" if opened else "pass", "observedValue": len(opened),
                    "output": ("open: " + ", ".join(sorted(opened))) if opened else ""}

        kw.setdefault("critical", False)
        return self.add_check(name, check, component_type="component", **kw)

    # -- running ----------------------------------------------------------------------------
    async def _run_one(self, check: Check) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            if inspect.iscoroutinefunction(check.fn):
                value = await asyncio.wait_for(check.fn(), check.timeout)
            else:
                value = await asyncio.wait_for(_in_thread(check.fn), check.timeout)
                if inspect.isawaitable(value):
                    value = await asyncio.wait_for(value, check.timeout)
            entry = _interpret(value, check)
        except asyncio.TimeoutError:
            entry = {"componentType": check.component_type, "status": "fail",
                     "output": f"timed out after {check.timeout:g}s"}
        except Exception as exc:
            entry = {"componentType": check.component_type, "status": "fail",
                     "output": redact_text(f"{type(exc).__name__}: {exc}")}
        entry["time"] = _now_iso()
        entry["durationSeconds"] = round(time.perf_counter() - t0, 6)
        entry["critical"] = check.critical
        return entry

    async def acheck(self, kind: str = "readiness", *, fresh: bool = False) -> dict[str, Any]:
        """Run the checks of ``kind`` concurrently; the health+json document."""
        if kind not in KINDS:
            raise ConfigurationError("kind", f"{kind!r} not among {KINDS}")
        now = self._clock()
        cached = self._cache.get(kind)
        if cached is not None and not fresh and now - cached[0] < self.ttl:
            return cached[1]
        checks = [c for c in list(self._checks.values()) if kind in c.kinds]
        entries = await asyncio.gather(*(self._run_one(c) for c in checks))
        status = "pass"
        results: dict[str, list[dict[str, Any]]] = {}
        for c, e in zip(checks, entries):
            results.setdefault(c.name, []).append(e)
            grade = e["status"] if c.critical or e["status"] == "pass" else "warn"
            if _RANK[grade] > _RANK[status]:
                status = grade
        if kind == "startup" and status != "fail":
            self.started = True
        doc: dict[str, Any] = {"status": status, "kind": kind, "checks": results, "time": _now_iso()}
        if status == "warn":
            doc["output"] = "degraded: " + ", ".join(n for n, es in results.items() if es[0]["status"] != "pass")
        self._cache[kind] = (now, doc)
        return doc

    def check(self, kind: str = "readiness", *, fresh: bool = False) -> dict[str, Any]:
        """:meth:`acheck` from synchronous code (safe inside a running event loop too)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.acheck(kind, fresh=fresh))
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.acheck(kind, fresh=fresh)).result()

    def live(self) -> dict[str, Any]:
        return self.check("liveness")

    def ready(self) -> dict[str, Any]:
        return self.check("readiness")

    def startup(self) -> dict[str, Any]:
        return self.check("startup")

    async def alive(self) -> dict[str, Any]:
        return await self.acheck("liveness")

    async def aready(self) -> dict[str, Any]:
        return await self.acheck("readiness")

    async def astartup(self) -> dict[str, Any]:
        return await self.acheck("startup")


def http_status(doc: Mapping[str, Any]) -> int:
    """200 for pass/warn, 503 for fail (or anything unreadable)."""
    return 200 if isinstance(doc, Mapping) and doc.get("status") in ("pass", "warn") else 503


def public_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Only the verdict (for unauthenticated callers)."""
    return {"status": doc.get("status", "fail") if isinstance(doc, Mapping) else "fail"}


# -- reporter -----------------------------------------------------------------------------------
class LogSink:
    """Reports to a logger (warning for warn, error for fail)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def __call__(self, doc: Mapping[str, Any]) -> None:
        level = {"pass": logging.INFO, "warn": logging.WARNING}.get(str(doc.get("status")), logging.ERROR)
        self.logger.log(level, "health %s: %s", doc.get("status"), json.dumps(doc, ensure_ascii=False, default=str))


class WebhookSink:
    """POSTs the JSON document to ``url`` (Slack-compatible ``text`` added) with a timeout."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = float(timeout)

    def __call__(self, doc: Mapping[str, Any]) -> None:
        import urllib.request

        body = json.dumps({"text": f"health {doc.get('status')}", **doc}, ensure_ascii=False, default=str).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            if resp.status >= 300:
                raise OSError(f"webhook answered {resp.status}")


class KafkaSink:
    """Publishes the document through ``swfast.messaging`` (``KafkaService.send_message``)."""

    def __init__(self, service: Any = None, topic: str = "swfast.health", *, timeout: float = 5.0) -> None:
        self.service = service
        self.topic = topic
        self.timeout = float(timeout)

    def __call__(self, doc: Mapping[str, Any]) -> None:
        async def go() -> None:
            svc = self.service
            if svc is None:
                from ..messaging.kafka_service import KafkaService

                svc = self.service = KafkaService()
            if not svc.is_connected:
                await asyncio.wait_for(svc.connect(), self.timeout)
            ok = await asyncio.wait_for(svc.send_message(self.topic, dict(doc)), self.timeout)
            if ok is False:
                raise OSError("send_message returned False")

        asyncio.run(go())


class HealthReporter:
    """Serves and ships a checker's verdicts.

    Args:
        checker: the checker (a new empty one — healthy — when None).
        sinks: callables taking the document (LogSink, WebhookSink, KafkaSink, any callable).
        retries: extra attempts per sink (default 2).
        repeat: seconds after which an unchanged status is reported again (default 300);
            reports with the same status inside it are de-duplicated.
        detailed: serve check details on ``/health`` (False: only the verdict).
    """

    def __init__(self, checker: HealthChecker | None = None, *, sinks: Iterable[Callable[[Mapping[str, Any]], Any]] = (),
                 retries: int = 2, repeat: float = 300.0, detailed: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.checker = checker if checker is not None else HealthChecker()
        self.sinks = list(sinks)
        self.retries = int(retries)
        self.repeat = float(repeat)
        self.detailed = detailed
        self._clock = clock
        self._last: dict[int, tuple[str, float]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._server: HttpServer | None = None
        self._lock = threading.Lock()
        self.failures = 0
        self.sent = 0

    def _doc(self, kind: str) -> dict[str, Any]:
        try:
            doc = self.checker.check(kind)
        except Exception as exc:  # a broken checker is a failed report, never a crash
            doc = {"status": "fail", "output": redact_text(f"health checker failed: {type(exc).__name__}: {exc}")}
        if not isinstance(doc, Mapping):
            doc = {"status": "fail", "output": f"checker returned {type(doc).__name__}"}
        return dict(doc)

    def report_health(self, kind: str = "readiness") -> dict[str, Any]:
        """Check, ship to sinks (off-thread, de-duplicated) and return the document."""
        doc = self._doc(kind)
        self._ship(doc)
        return doc

    async def areport_health(self, kind: str = "readiness") -> dict[str, Any]:
        try:
            doc: dict[str, Any] = dict(await self.checker.acheck(kind))
        except Exception as exc:
            doc = {"status": "fail", "output": redact_text(f"health checker failed: {type(exc).__name__}: {exc}")}
        self._ship(doc)
        return doc

    def _ship(self, doc: Mapping[str, Any]) -> None:
        if not self.sinks:
            return
        now = self._clock()
        status = str(doc.get("status"))
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="swfast-health-report")
            pool = self._pool
        for sink in self.sinks:
            last = self._last.get(id(sink))
            if last is not None and last[0] == status and now - last[1] < self.repeat:
                continue
            self._last[id(sink)] = (status, now)
            pool.submit(self._deliver, sink, dict(doc))

    def _deliver(self, sink: Callable[[Mapping[str, Any]], Any], doc: dict[str, Any]) -> bool:
        for attempt in range(self.retries + 1):
            try:
                sink(doc)
                self.sent += 1
                return True
            except Exception as exc:
                if attempt == self.retries:
                    self.failures += 1
                    log.warning("health sink %r failed after %d attempts: %s", sink, attempt + 1,
                                redact_text(str(exc)))
                else:
                    time.sleep(min(0.05 * 2 ** attempt, 1.0))
        return False

    def flush(self, timeout: float = 10.0) -> None:
        """Wait for pending sink deliveries."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- HTTP -------------------------------------------------------------------------------
    def routes(self) -> dict[str, Route]:
        def make(kind: str, detailed: bool) -> Route:
            def route(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
                doc = self._doc(kind)
                body = doc if detailed else public_view(doc)
                return http_status(doc), CONTENT_TYPE_HEALTH, json.dumps(body, ensure_ascii=False,
                                                                         default=str).encode()
            return route

        return {"/health": make("readiness", self.detailed), "/health/live": make("liveness", False),
                "/health/ready": make("readiness", False), "/health/startup": make("startup", False)}

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> HttpServer:
        with self._lock:
            if self._server is None:
                self._server = HttpServer(self.routes(), host, port).start()
            return self._server

    @property
    def wsgi_app(self) -> Callable[..., list[bytes]]:
        return wsgi_app(self.routes())

    @property
    def asgi_app(self) -> Callable[..., Any]:
        return asgi_app(self.routes())

    def close(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()
        self.flush()

    def __enter__(self) -> "HealthReporter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CONTENT_TYPE_HEALTH", "HealthChecker", "HealthReporter", "KafkaSink", "LogSink", "WebhookSink",
           "http_status", "public_view"]
