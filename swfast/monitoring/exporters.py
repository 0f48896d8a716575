"""Exporters: Prometheus text, OpenMetrics, JSON, an opt-in ``/metrics`` endpoint, pushgateway,
Kafka (``BALANCE_METRICS_TOPIC``) and OpenTelemetry observable instruments.

Nothing starts in the constructor. ``serve(port)`` starts a stdlib HTTP server thread;
``wsgi_app``/``asgi_app`` serve the same routes from an existing server. Pushes and publishes
run on one background worker thread with a timeout, return a future, count failures in
``swfast_monitoring_export_failures_total{exporter}`` and never raise into the caller.

Routes: ``/metrics`` (Prometheus text 0.0.4, or OpenMetrics when the ``Accept`` header asks for
``application/openmetrics-text`` or ``?format=openmetrics``) and ``/metrics.json``.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable, Mapping

from .._redact import redact_url
from ..errors import ConfigurationError
from ._http import HttpServer, Route, asgi_app, wsgi_app
from .metrics import CONTENT_TYPE_LATEST, REGISTRY, MetricSnapshot, Registry, _escape_help, _escape_label, _fmt
from .metrics import render_text as render_prometheus

log = logging.getLogger("swfast.monitoring")
CONTENT_TYPE_OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
CONTENT_TYPE_JSON = "application/json"


def render_openmetrics(snapshots: Iterable[MetricSnapshot]) -> bytes:
    """OpenMetrics 1.0 text (counter families named without ``_total``; ends with ``# EOF``)."""
    lines: list[str] = []
    for snap in snapshots:
        name = snap.name
        if snap.kind == "counter" and name.endswith("_total"):
            name = name[:-6]
        kind = snap.kind if snap.kind in ("counter", "gauge", "histogram", "summary") else "unknown"
        lines.append(f"# TYPE {name} {kind}")
        if snap.documentation:
            lines.append(f"# HELP {name} {_escape_help(snap.documentation)}")
        for s in snap.samples:
            sample = s.name
            if snap.kind == "counter" and not sample.endswith("_total"):
                sample += "_total"
            if s.labels:
                lab = ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in s.labels.items())
                lines.append(f"{sample}{{{lab}}} {_fmt(s.value)}")
            else:
                lines.append(f"{sample} {_fmt(s.value)}")
    lines.append("# EOF")
    return ("\n".join(lines) + "\n").encode()


def to_json(snapshots: Iterable[MetricSnapshot]) -> dict[str, Any]:
    """``{"timestamp", "metrics": [{name, kind, help, samples: [{name, labels, value}]}]}``.

    Non-finite values become ``null`` (JSON has no NaN)."""
    def num(v: float) -> float | None:
        return v if math.isfinite(v) else None

    return {"timestamp": time.time(), "metrics": [
        {"name": s.name, "kind": s.kind, "help": s.documentation,
         "samples": [{"name": x.name, "labels": dict(x.labels), "value": num(x.value)} for x in s.samples]}
        for s in snapshots]}


class MetricsExporter:
    """Renders and ships a registry's metrics.

    Args:
        registry: what to export (the shared registry by default).
        collector: accepted for the platform's call shape ``MetricsExporter(collector)``; its
            registry is used when ``registry`` is not given.
        timeout: seconds for every network export (default 5).
        pushgateway: default pushgateway URL for :meth:`push`.
    """

    def __init__(self, collector: Any = None, registry: Registry | None = None, *, timeout: float = 5.0,
                 pushgateway: str | None = None) -> None:
        if registry is None:
            registry = getattr(collector, "registry", None) if collector is not None else None
        self.registry = registry if registry is not None else REGISTRY
        self.timeout = float(timeout)
        self.pushgateway = pushgateway
        self._server: HttpServer | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    # -- formats ----------------------------------------------------------------------------
    def export_prometheus(self) -> bytes:
        return render_prometheus(self.registry.collect())

    def export_openmetrics(self) -> bytes:
        return render_openmetrics(self.registry.collect())

    def export_json(self) -> dict[str, Any]:
        return to_json(self.registry.collect())

    def render(self, accept: str = "", fmt: str | None = None) -> tuple[bytes, str]:
        """Body and content type for an HTTP ``Accept`` header or an explicit ``fmt``."""
        if fmt == "json":
            return json.dumps(self.export_json(), ensure_ascii=False).encode(), CONTENT_TYPE_JSON
        if fmt == "openmetrics" or (fmt is None and "application/openmetrics-text" in accept):
            return self.export_openmetrics(), CONTENT_TYPE_OPENMETRICS
        return self.export_prometheus(), CONTENT_TYPE_LATEST

    # -- HTTP -------------------------------------------------------------------------------
    def routes(self) -> dict[str, Route]:
        def metrics(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
            body, ctype = self.render(headers.get("accept", ""), query.get("format"))
            return 200, ctype, body

        def metrics_json(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
            body, ctype = self.render(fmt="json")
            return 200, ctype, body

        return {"/metrics": metrics, "/metrics.json": metrics_json}

    def serve(self, port: int = 0, host: str = "127.0.0.1", extra_routes: Mapping[str, Route] | None = None) -> HttpServer:
        """Start serving ``/metrics`` (port 0: a free port; see ``.port``). Idempotent."""
        with self._lock:
            if self._server is None:
                self._server = HttpServer({**self.routes(), **(extra_routes or {})}, host, port).start()
            return self._server

    start = serve

    @property
    def wsgi_app(self) -> Callable[..., list[bytes]]:
        """A WSGI app serving ``/metrics`` and ``/metrics.json``."""
        return wsgi_app(self.routes())

    @property
    def asgi_app(self) -> Callable[..., Any]:
        """An ASGI app serving ``/metrics`` and ``/metrics.json``."""
        return asgi_app(self.routes())

    # -- background exports ----------------------------------------------------------------
    def _failures(self, exporter: str) -> None:
        REGISTRY.counter("swfast_monitoring_export_failures_total", "Failed metric exports.",
                         ("exporter",)).labels(exporter).inc()

    def _submit(self, exporter: str, fn: Callable[[], Any]) -> "Future[bool]":
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="swfast-export")
            pool = self._pool

        def run() -> bool:
            try:
                fn()
                return True
            except Exception as exc:
                self._failures(exporter)
                log.warning("metrics export to %s failed: %s", exporter, exc)
                return False

        return pool.submit(run)

    def push(self, url: str | None = None, job: str = "swfast", grouping: Mapping[str, str] | None = None,
             method: str = "PUT") -> "Future[bool]":
        """Push to a Prometheus pushgateway (``PUT /metrics/job/<job>/<k>/<v>...``) off-thread."""
        target = url or self.pushgateway
        if not target:
            raise ConfigurationError("url", "give the pushgateway URL (or pushgateway= to the constructor)")
        if method not in ("PUT", "POST"):
            raise ConfigurationError("method", f"must be PUT or POST, got {method!r}")
        path = "/metrics/job/" + urllib.parse.quote(job, safe="")
        for k, v in (grouping or {}).items():
            path += f"/{urllib.parse.quote(str(k), safe='')}/{urllib.parse.quote(str(v), safe='')}"
        timeout = self.timeout

        def send() -> None:  # rendering too runs on the export worker, off the caller's thread
            import urllib.request

            body = self.export_prometheus()
            req = urllib.request.Request(target.rstrip("/") + path, data=body, method=method,
                                         headers={"Content-Type": CONTENT_TYPE_LATEST})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    if resp.status >= 300:
                        raise OSError(f"pushgateway answered {resp.status}")
            except Exception as exc:
                raise OSError(f"{redact_url(target)}: {exc}") from None

        return self._submit("pushgateway", send)

    #: The platform's name for :meth:`push`.
    export_to_prometheus = push

    def publish(self, service: Any = None, topic: str | None = None) -> "Future[bool]":
        """Publish the JSON snapshot to ``BALANCE_METRICS_TOPIC`` through ``swfast.messaging``."""
        timeout = self.timeout

        def send() -> None:
            import asyncio

            payload = self.export_json()

            from ..messaging.constants import BALANCE_METRICS_TOPIC
            from ..messaging.kafka_service import KafkaService

            async def go() -> None:
                own = service is None  # a service built here is closed here (no producer left behind)
                svc = KafkaService() if own else service
                try:
                    if not svc.is_connected:
                        await asyncio.wait_for(svc.connect(), timeout)
                    ok = await asyncio.wait_for(svc.send_message(topic or BALANCE_METRICS_TOPIC, payload), timeout)
                finally:
                    if own:
                        await asyncio.wait_for(svc.disconnect(), timeout)
                if ok is False:
                    raise OSError("KafkaService.send_message returned False")

            asyncio.run(go())

        return self._submit("kafka", send)

    async def apush(self, url: str | None = None, job: str = "swfast", grouping: Mapping[str, str] | None = None,
                    method: str = "PUT") -> bool:
        """:meth:`push` for async code: awaits the export (never raises; False on failure)."""
        import asyncio

        return await asyncio.wrap_future(self.push(url, job, grouping, method))

    async def apublish(self, service: Any = None, topic: str | None = None) -> bool:
        """:meth:`publish` for async code: awaits the export (never raises; False on failure)."""
        import asyncio

        return await asyncio.wrap_future(self.publish(service, topic))

    def register_opentelemetry(self, meter: Any = None, prefix: str = "") -> list[Any]:
        """Expose every gauge/counter series as OpenTelemetry observable instruments.

        Needs ``opentelemetry-api``; returns the instruments. Values are read at OTel's
        collection time (nothing is added to the hot path)."""
        import importlib

        try:
            otel: Any = importlib.import_module("opentelemetry.metrics")
        except ImportError as exc:
            raise ConfigurationError("meter", "install opentelemetry-api to export to OpenTelemetry") from exc
        m = meter if meter is not None else otel.get_meter("swfast")
        instruments = []
        for snap in self.registry.collect():
            if snap.kind not in ("counter", "gauge"):
                continue

            def callback(options: Any, _name: str = snap.name) -> list[Any]:
                for s in self.registry.collect():
                    if s.name == _name:
                        return [otel.Observation(x.value, dict(x.labels)) for x in s.samples]
                return []

            if snap.kind == "counter":
                instruments.append(m.create_observable_counter(prefix + snap.name, [callback],
                                                               description=snap.documentation))
            else:
                instruments.append(m.create_observable_gauge(prefix + snap.name, [callback],
                                                             description=snap.documentation))
        return instruments

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the HTTP server and the export worker (waiting for pending exports)."""
        with self._lock:
            server, self._server = self._server, None
            pool, self._pool = self._pool, None
        if server is not None:
            server.close()
        if pool is not None:
            pool.shutdown(wait=True)

    def __enter__(self) -> "MetricsExporter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "MetricsExporter":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CONTENT_TYPE_OPENMETRICS", "MetricsExporter", "render_openmetrics", "to_json"]
