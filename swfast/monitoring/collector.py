"""Metrics collector: events from model code, bounded per-series history, process/system gauges.

Model code builds ``MetricsCollector()`` freely: construction is cheap, has no side effects and
every instance shares the process-wide :class:`SeriesStore` and sampler unless given others.

* ``collect_metric(name, 0.25, model="m1")`` records one value; ``collect_metric(name, {...})`` and
  ``record(name, {...})`` record every numeric field of a mapping (nested mappings flattened with
  ``_``: ``{"lat": {"p50": 1}}`` -> ``<name>_lat_p50``). String fields become labels only when
  their key is in ``label_fields``; other strings are ignored and counted.
* ``process_data`` validates and normalises (``_ms``/``_us``/``_ns`` -> ``_seconds``,
  ``_kb``/``_mb``/``_gb``/``_kib``/``_mib``/``_gib`` -> ``_bytes``, ``_percent``/``_pct`` ->
  ``_ratio`` 0-1, bools -> 0/1); NaN, infinities and non-numbers raise
  :class:`~swfast.errors.ValidationError` naming the field.
* ``store_metrics`` keeps, per series, a ring of the last ``capacity`` ``(timestamp, value)``
  points (default 1,024; memory ≈ 80 B per point, so ≤ ~80 KiB per series) and drops points
  older than ``retention`` seconds (default 1 h) on read.
* Label cardinality is capped per family (``max_series``, default 1,000): further label sets go
  to one overflow series (every label value ``__overflow__``) and are counted in
  ``swfast_monitoring_dropped_series_total{family}``, so ids in labels cannot exhaust memory.
* ``get_metric(name, window=...)`` / ``aget_metric``: the recent points of a series.
* ``collect_metrics()``: a dict snapshot of every registered metric plus process and system
  gauges from the primed, container-aware sampler (:mod:`swfast.monitoring.system`).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Mapping

from .._native.collect import make_collect_metric
from .._redact import redact_text
from ..errors import ConfigurationError, MetricNotFound, ValidationError
from .metrics import REGISTRY, MetricSnapshot, Registry, Sample, _check_name
from .system import ProcessSampler, default_sampler

OVERFLOW = "__overflow__"
KINDS = ("gauge", "counter", "histogram")
_UNITS: tuple[tuple[str, str, float], ...] = (
    ("_ms", "_seconds", 1e-3), ("_us", "_seconds", 1e-6), ("_ns", "_seconds", 1e-9),
    ("_kib", "_bytes", 1024.0), ("_mib", "_bytes", 1024.0 ** 2), ("_gib", "_bytes", 1024.0 ** 3),
    ("_kb", "_bytes", 1e3), ("_mb", "_bytes", 1e6), ("_gb", "_bytes", 1e9),
    ("_percent", "_ratio", 0.01), ("_pct", "_ratio", 0.01),
)
_LabelKey = tuple[tuple[str, str], ...]


def _number(field: str, value: object) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        x = float(value)
    else:
        try:
            import numbers

            if not isinstance(value, numbers.Real):
                raise TypeError
            x = float(value)  # numpy scalars, Decimal, Fraction
        except (TypeError, ValueError):
            raise ValidationError(f"{field}: expected a number, got {type(value).__name__}", path=field) from None
    if x != x or x in (math.inf, -math.inf):
        raise ValidationError(f"{field}: {x!r} is not a finite number", path=field)
    return x


def normalise_unit(name: str, value: float) -> tuple[str, float]:
    """``("latency_ms", 250)`` -> ``("latency_seconds", 0.25)``; other names unchanged."""
    low = name.lower()
    for suffix, unit, factor in _UNITS:
        if low.endswith(suffix):
            return name[: -len(suffix)] + unit, value * factor
    return name, value


class Series:
    """One labelled series: a ring of ``(timestamp, value)`` points; counters and histograms also
    keep a lifetime ``total`` and ``count`` (gauges only their points, so the hot path is an append)."""

    __slots__ = ("points", "total", "count", "labels", "kind")

    def __init__(self, labels: _LabelKey, capacity: int, kind: str = "gauge") -> None:
        self.points: deque[tuple[float, float]] = deque(maxlen=capacity)
        self.total = 0.0
        self.count = 0
        self.labels = labels
        self.kind = kind

    def add(self, ts: float, value: float) -> None:
        self.points.append((ts, value))
        if self.kind != "gauge":
            self.total += value
            self.count += 1

    @property
    def last(self) -> float:
        return self.points[-1][1] if self.points else math.nan

    def window(self, since: float | None = None, last_n: int | None = None) -> list[tuple[float, float]]:
        pts = list(self.points)
        if since is not None:
            pts = [p for p in pts if p[0] >= since]
        if last_n is not None:
            pts = pts[-last_n:] if last_n else []
        return pts


class Family:
    """All series of one name, with its kind and the cardinality cap."""

    __slots__ = ("name", "kind", "series", "max_series", "capacity", "dropped", "lock", "labelnames")

    def __init__(self, name: str, kind: str, max_series: int, capacity: int) -> None:
        self.name = name
        self.kind = kind
        self.series: dict[_LabelKey, Series] = {}
        self.max_series = max_series
        self.capacity = capacity
        self.dropped = 0
        self.lock = threading.Lock()
        self.labelnames: tuple[str, ...] | None = None

    def get(self, key: _LabelKey) -> Series:
        s = self.series.get(key)
        if s is not None:
            return s
        with self.lock:
            s = self.series.get(key)
            if s is not None:
                return s
            if len(self.series) >= self.max_series:
                self.dropped += 1
                key = tuple((k, OVERFLOW) for k, _ in key)
                s = self.series.get(key)
                if s is not None:
                    return s
            s = self.series[key] = Series(key, self.capacity, self.kind)
            return s


class SeriesStore:
    """Per-series ring buffers for every family recorded by collectors sharing this store."""

    def __init__(self, *, capacity: int = 1024, max_series: int = 1000, retention: float = 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        if int(capacity) < 1:
            raise ConfigurationError("capacity", f"must be >= 1, got {capacity!r}")
        if int(max_series) < 1:
            raise ConfigurationError("max_series", f"must be >= 1, got {max_series!r}")
        self.capacity = int(capacity)
        self.max_series = int(max_series)
        self.retention = float(retention)
        self.clock = clock
        self.families: dict[str, Family] = {}
        #: name -> append of an unlabelled gauge series (the hot path of ``collect_metric``).
        self.fast: dict[str, Callable[[tuple[float, float]], None]] = {}
        #: (name, labels items, kind) -> (series, unit factor) for labelled or non-gauge events.
        self.routes: dict[tuple[Any, ...], tuple[Series, float]] = {}
        self._lock = threading.Lock()
        self.ignored_fields = 0
        self._exported: set[int] = set()

    def family(self, name: str, kind: str = "gauge") -> Family:
        fam = self.families.get(name)
        if fam is None:
            _check_name(name)
            if kind not in KINDS:
                raise ConfigurationError("kind", f"{kind!r} is not one of {KINDS}")
            with self._lock:
                fam = self.families.get(name)
                if fam is None:
                    fam = self.families[name] = Family(name, kind, self.max_series, self.capacity)
        elif kind != fam.kind and kind != "gauge":
            raise ConfigurationError("kind", f"metric {name!r} was recorded as a {fam.kind}, not a {kind}")
        return fam

    def add(self, name: str, labels: _LabelKey, value: float, ts: float | None = None, kind: str = "gauge") -> Series:
        fam = self.family(name, kind)
        if fam.labelnames is None:
            fam.labelnames = tuple(k for k, _ in labels)
        elif tuple(k for k, _ in labels) != fam.labelnames:
            raise ConfigurationError("labels", f"metric {name!r} has labels {fam.labelnames}, "
                                               f"got {tuple(k for k, _ in labels)}")
        series = fam.get(labels)
        series.add(self.clock() if ts is None else ts, value)
        if not labels and fam.kind == "gauge" and len(self.fast) < 4 * self.max_series:
            self.fast[name] = series.points.append
        return series

    def clear(self) -> None:
        with self._lock:
            self.families.clear()
            self.fast.clear()
            self.routes.clear()

    def snapshots(self) -> list[MetricSnapshot]:
        """Families as metric snapshots: gauges = last value, counters = total, histograms =
        a summary (count, sum and p50/p90/p99 over the retained points)."""
        from .._native.qsketch import QuantileSketch

        out: list[MetricSnapshot] = []
        dropped: list[Sample] = []
        for fam in list(self.families.values()):
            samples: list[Sample] = []
            for key, s in list(fam.series.items()):
                labels = dict(key)
                if fam.kind == "gauge":
                    samples.append(Sample(fam.name, labels, s.last))
                elif fam.kind == "counter":
                    name = fam.name if fam.name.endswith("_total") else fam.name + "_total"
                    samples.append(Sample(name, labels, s.total))
                else:
                    sk = QuantileSketch()
                    sk.add_many([v for _, v in s.points])
                    for q in (0.5, 0.9, 0.99):
                        samples.append(Sample(fam.name, {**labels, "quantile": str(q)}, sk.quantile(q)))
                    samples.append(Sample(fam.name + "_sum", labels, s.total))
                    samples.append(Sample(fam.name + "_count", labels, float(s.count)))
            kind = {"gauge": "gauge", "counter": "counter", "histogram": "summary"}[fam.kind]
            name = fam.name + "_total" if fam.kind == "counter" and not fam.name.endswith("_total") else fam.name
            out.append(MetricSnapshot(name, kind, f"recorded by MetricsCollector ({fam.kind})", samples))
            if fam.dropped:
                dropped.append(Sample("swfast_monitoring_dropped_series_total", {"family": fam.name},
                                      float(fam.dropped)))
        out.append(MetricSnapshot("swfast_monitoring_dropped_series_total", "counter",
                                  "Label sets folded into the overflow series by the cardinality cap.", dropped))
        out.append(MetricSnapshot("swfast_monitoring_ignored_fields_total", "counter",
                                  "Record fields ignored (strings not allow-listed as labels).",
                                  [Sample("swfast_monitoring_ignored_fields_total", {}, float(self.ignored_fields))]))
        return out

    def export_to(self, registry: Registry) -> None:
        """Expose this store through ``registry`` (once per registry)."""
        with self._lock:
            if id(registry) in self._exported:
                return
            self._exported.add(id(registry))
        registry.register_collector(self.snapshots)


_STORE: SeriesStore | None = None


def default_store() -> SeriesStore:
    """The process-wide series store shared by every collector built without ``store=``."""
    global _STORE
    if _STORE is None:
        with threading.Lock():
            if _STORE is None:
                _STORE = SeriesStore()
    return _STORE


def _label_key(labels: Mapping[str, object]) -> _LabelKey:
    if not labels:
        return ()
    return tuple(sorted((k, redact_text(v if type(v) is str else str(v))) for k, v in labels.items()))


class MetricsCollector:
    """Collects events and system gauges into the shared store and registry.

    Args:
        registry: where registered metrics live and where recorded series are exposed
            (the shared :data:`~swfast.monitoring.metrics.REGISTRY` by default).
        store: the series store (shared by default).
        sampler: process/system sampler (shared by default; started only by :meth:`start`).
        label_fields: string fields of ``record`` mappings that become labels.
        export: expose recorded series through ``registry`` (default True; registration is
            get-or-create, so many collectors never register twice).
    """

    def __init__(self, registry: Registry | None = None, store: SeriesStore | None = None,
                 sampler: ProcessSampler | None = None, *, label_fields: Iterable[str] = (),
                 export: bool = True) -> None:
        self.registry = REGISTRY if registry is None else registry
        self._store = store if store is not None else default_store()
        self._fast = self._store.fast
        self._routes = self._store.routes
        self._clock = self._store.clock
        self._sampler = sampler
        self.label_fields = frozenset(label_fields)
        self._export = export
        if type(self).collect_metric is MetricsCollector.collect_metric:
            # the compiled hot path (swfast._native.collect), bound per instance; same behaviour
            self.__dict__["collect_metric"] = make_collect_metric(self._fast, self._routes, self._clock,
                                                                  self._collect_slow)

    @property
    def store(self) -> SeriesStore:
        return self._store

    @property
    def sampler(self) -> ProcessSampler:
        if self._sampler is None:
            self._sampler = default_sampler()
        return self._sampler

    # -- events -----------------------------------------------------------------------------
    def collect_metric(self, name: str, value: Any, kind: str = "gauge", **labels: Any) -> None:
        """Record a number, or every numeric field of a mapping, under ``name``."""
        if type(value) is float or type(value) is int:
            if not labels and kind == "gauge":
                append = self._fast.get(name)
                if append is not None and value - value == 0:  # finite (NaN/inf give NaN)
                    append((self._clock(), value))
                    return
            else:
                route = self._routes.get((name, kind, *labels.items()))
                if route is not None and value - value == 0:
                    series, factor = route
                    series.add(self._clock(), value * factor)
                    return
        self._collect_slow(name, value, kind, **labels)

    def _collect_slow(self, name: str, value: Any, kind: str = "gauge", **labels: Any) -> None:
        """The validating path of :meth:`collect_metric` (first sight of a series, mappings, bad values)."""
        points = self.process_data(name, value, labels)
        self.store_metrics(points, kind=kind)
        if len(points) == 1 and not isinstance(value, Mapping) and len(self._routes) < 16 * self._store.max_series:
            fam = self._store.families[points[0][0]]
            found = fam.series.get(points[0][1])
            if found is not None and found.labels == points[0][1]:
                _, factor = normalise_unit(name, 1.0)
                self._routes[(name, kind, *labels.items())] = (found, factor)

    def record(self, name: str, mapping: Mapping[str, Any], kind: str = "gauge", **labels: Any) -> None:
        """Record every numeric field of ``mapping`` as ``<name>_<field>``."""
        if not isinstance(mapping, Mapping):
            raise ValidationError(f"mapping: expected a mapping, got {type(mapping).__name__}", path="mapping")
        self.store_metrics(self.process_data(name, mapping, labels), kind=kind)

    def process_data(self, name: str, data: Any, labels: Mapping[str, Any] | None = None,
                     unit: str | None = None) -> list[tuple[str, _LabelKey, float]]:
        """Validate and normalise into ``(name, labels, value)`` points (no storing)."""
        if not isinstance(name, str):
            raise ValidationError(f"name: expected str, got {type(name).__name__}", path="name")
        base = dict(labels or {})
        points: list[tuple[str, float]] = []
        if isinstance(data, Mapping):
            self._flatten(name, data, base, points)
        else:
            points.append((name + (f"_{unit}" if unit else ""), _number(name, data)))
        key = _label_key(base)
        out = []
        for field, value in points:
            field, value = normalise_unit(field, value)
            _check_name(field)
            out.append((field, key, value))
        return out

    def _flatten(self, prefix: str, data: Mapping[str, Any], labels: dict[str, Any],
                 points: list[tuple[str, float]]) -> None:
        for k, v in data.items():
            key = str(k)
            field = f"{prefix}_{key}"
            if isinstance(v, Mapping):
                self._flatten(field, v, labels, points)
            elif isinstance(v, str):
                if key in self.label_fields:
                    labels[key] = v
                else:
                    self.store.ignored_fields += 1
            elif v is None:
                self.store.ignored_fields += 1
            else:
                points.append((field, _number(field, v)))

    def store_metrics(self, points: Iterable[tuple[str, _LabelKey, float]] | Mapping[str, float],
                      timestamp: float | None = None, kind: str = "gauge") -> int:
        """Append points (from :meth:`process_data`, or a ``{name: number}`` mapping)."""
        store = self.store
        if self._export:
            store.export_to(self.registry)
        if isinstance(points, Mapping):
            points = [(n, (), _number(n, v)) for n, v in points.items()]
        n = 0
        for name, key, value in points:
            store.add(name, key, value, timestamp, kind)
            n += 1
        return n

    # -- reads ------------------------------------------------------------------------------
    def get_metric(self, name: str, window: int | float | str | None = None, **labels: Any) -> list[tuple[float, float]]:
        """Recent ``(timestamp, value)`` points of a series.

        ``window``: an ``int`` keeps the last N points; a float (seconds), ``timedelta`` or
        ``"5m"`` keeps points that recent; None keeps what is retained.
        """
        store = self.store
        fam = store.families.get(name)
        if fam is None:
            raise MetricNotFound(name)
        key = _label_key(labels)
        series = fam.series.get(key)
        if series is None:
            raise MetricNotFound(name, f"labels: metric {name!r} has no series {dict(key)}; "
                                       f"known: {[dict(k) for k in list(fam.series)[:5]]}")
        since = store.clock() - store.retention
        last_n = None
        if isinstance(window, int) and not isinstance(window, bool):
            if window < 0:
                raise ConfigurationError("window", f"must be >= 0, got {window!r}")
            last_n = window
        elif window is not None:
            from .._durations import seconds

            secs = seconds(window, param="window")
            assert secs is not None
            since = max(since, store.clock() - secs)
        return series.window(since, last_n)

    async def aget_metric(self, name: str, window: int | float | str | None = None,
                          **labels: Any) -> list[tuple[float, float]]:
        """:meth:`get_metric` for async code (an in-memory read; never waits)."""
        return self.get_metric(name, window, **labels)

    def get_values(self, name: str, window: int | float | str | None = None, **labels: Any) -> list[float]:
        """Only the values of :meth:`get_metric`."""
        return [v for _, v in self.get_metric(name, window, **labels)]

    def collect_metrics(self) -> dict[str, Any]:
        """Snapshot: ``{"timestamp", "system": {...}, "metrics": {name: {kind, samples}}}``."""
        system = self.sampler.sample()
        metrics: dict[str, Any] = {}
        for snap in self.registry.collect():
            metrics[snap.name] = {"kind": snap.kind, "help": snap.documentation,
                                  "samples": [{"name": s.name, "labels": dict(s.labels), "value": s.value}
                                              for s in snap.samples]}
        return {"timestamp": time.time(), "system": system, "metrics": metrics}

    async def acollect_metrics(self) -> dict[str, Any]:
        """:meth:`collect_metrics` off the event loop (in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.collect_metrics)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "MetricsCollector":
        """Start the background sampler and expose process/system gauges (idempotent)."""
        self.sampler.start()
        expose_system(self.registry, self.sampler)
        return self

    def close(self) -> None:
        """Stop the background sampler."""
        if self._sampler is not None:
            self._sampler.close()

    def __enter__(self) -> "MetricsCollector":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "MetricsCollector":
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.close()


_SYSTEM_EXPORTED: set[int] = set()


def expose_system(registry: Registry = REGISTRY, sampler: ProcessSampler | None = None) -> None:
    """Expose the sampler's gauges as ``swfast_process_*``/``swfast_system_*`` (once per registry)."""
    if id(registry) in _SYSTEM_EXPORTED:
        return
    _SYSTEM_EXPORTED.add(id(registry))
    s = sampler or default_sampler()
    registry.register_collector(s.snapshots)


__all__ = ["Family", "MetricsCollector", "OVERFLOW", "Series", "SeriesStore", "default_store",
           "expose_system", "normalise_unit"]
