"""The metrics core: counters, gauges and fixed-bucket histograms with labels.

The update path (``inc``, ``dec``, ``set``, ``observe``, ``labels``) is the compiled kernel in
:mod:`swfast._native.metrics`; these classes add a name, help text and a registry. A registry
renders Prometheus text exposition (format 0.0.4) without extra dependencies, and
:mod:`swfast.monitoring.prometheus` exposes it to ``prometheus_client`` when installed.

Example:
    >>> from swfast.monitoring.metrics import Counter, Registry
    >>> reg = Registry()
    >>> hits = Counter("cache_hits_total", "Cache hits.", labelnames=("tier",), registry=reg)
    >>> hits.labels("l1").inc()
    >>> print(reg.render_text().decode().splitlines()[-1])
    cache_hits_total{tier="l1"} 1.0

Thread safety: every update is atomic; collection takes a consistent snapshot per cell.
"""
from __future__ import annotations

import threading
import time

from .._native.metrics import CounterCell, GaugeCell, HistogramCell
from ..errors import ConfigurationError

TYPE_CHECKING = False  # typing, re and dataclasses stay off the import path
if TYPE_CHECKING:
    from typing import Callable, Iterable, Sequence, Union

    Metric = Union["Counter", "Gauge", "Histogram"]
    Collector = Callable[[], Iterable["MetricSnapshot"]]

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _valid(name: object, extra: str) -> bool:
    """``[a-zA-Z_<extra>][a-zA-Z0-9_<extra>]*``."""
    if not isinstance(name, str) or not name or name[0].isdigit():
        return False
    return all(ch in _ALNUM or ch in extra for ch in name)

#: Default histogram buckets, in seconds (prometheus_client's defaults).
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)


class _Record:
    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, f) == getattr(other, f) for f in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Sample(_Record):
    """One exposed time series value."""

    __slots__ = ("name", "labels", "value")

    def __init__(self, name: str, labels: dict[str, str], value: float) -> None:
        self.name = name
        self.labels = labels
        self.value = value


class MetricSnapshot(_Record):
    """A metric family at one instant: its kind (``counter``, ``gauge``, ``histogram``)."""

    __slots__ = ("name", "kind", "documentation", "samples")

    def __init__(self, name: str, kind: str, documentation: str, samples: list[Sample] | None = None) -> None:
        self.name = name
        self.kind = kind
        self.documentation = documentation
        self.samples = samples if samples is not None else []


def _check_name(name: str) -> str:
    if not _valid(name, ":"):
        raise ConfigurationError("name", f"{name!r} is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
    return name


def _check_labelnames(labelnames: Sequence[str]) -> tuple[str, ...]:
    if isinstance(labelnames, str):
        raise ConfigurationError("labelnames", "pass a sequence of names, not one string")
    names = tuple(labelnames)
    for n in names:
        if not _valid(n, "") or n.startswith("__"):
            raise ConfigurationError("labelnames", f"{n!r} is not a valid label name")
    if len(set(names)) != len(names):
        raise ConfigurationError("labelnames", f"duplicate label names in {names}")
    return names


class _Named:
    name: str
    documentation: str
    kind: str

    def _setup(self, name: str, documentation: str, registry: "Registry | None") -> None:
        self.name = _check_name(name)
        self.documentation = str(documentation)
        if registry is not None:
            registry.register(self)  # type: ignore[arg-type]

    def _series(self) -> list[tuple[dict[str, str], object]]:
        names: tuple[str, ...] = self.labelnames  # type: ignore[attr-defined]
        if not names:
            return [({}, self)]
        return [(dict(zip(names, key)), child) for key, child in self.children()]  # type: ignore[attr-defined]


class Counter(CounterCell, _Named):
    """A monotonically increasing total. Exposed as ``<name>`` (``_total`` appended if absent)."""

    kind = "counter"

    if TYPE_CHECKING:  # the compiled labels() is inherited unchanged; this only types it
        def labels(self, *values: object, **kwvalues: object) -> CounterCell:
            """The child counter for these label values (positional or by name)."""
            ...

    def __init__(
        self,
        name: str,
        documentation: str = "",
        *,
        labelnames: Sequence[str] = (),
        registry: "Registry | None" = None,
    ) -> None:
        super().__init__(_check_labelnames(labelnames))
        self._setup(name, documentation, registry)

    def collect(self) -> MetricSnapshot:
        """Snapshot of every series of this counter."""
        sample = self.name if self.name.endswith("_total") else self.name + "_total"
        return MetricSnapshot(
            sample, self.kind, self.documentation,
            [Sample(sample, labels, cell.get()) for labels, cell in self._series()],  # type: ignore[attr-defined]
        )


class Gauge(GaugeCell, _Named):
    """A value that goes up and down."""

    kind = "gauge"

    if TYPE_CHECKING:  # the compiled labels() is inherited unchanged; this only types it
        def labels(self, *values: object, **kwvalues: object) -> GaugeCell:
            """The child gauge for these label values (positional or by name)."""
            ...

    def __init__(
        self,
        name: str,
        documentation: str = "",
        *,
        labelnames: Sequence[str] = (),
        registry: "Registry | None" = None,
    ) -> None:
        super().__init__(_check_labelnames(labelnames))
        self._setup(name, documentation, registry)

    def set_to_current_time(self) -> None:
        """Set the gauge to the current Unix time in seconds."""
        self.set(time.time())

    def collect(self) -> MetricSnapshot:
        """Snapshot of every series of this gauge."""
        return MetricSnapshot(
            self.name, self.kind, self.documentation,
            [Sample(self.name, labels, cell.get()) for labels, cell in self._series()],  # type: ignore[attr-defined]
        )


class Histogram(HistogramCell, _Named):
    """Fixed-bucket histogram (``le`` upper bounds; ``+Inf`` is implicit)."""

    kind = "histogram"

    if TYPE_CHECKING:  # the compiled labels() is inherited unchanged; this only types it
        def labels(self, *values: object, **kwvalues: object) -> HistogramCell:
            """The child histogram for these label values (positional or by name)."""
            ...

    def __init__(
        self,
        name: str,
        documentation: str = "",
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        labelnames: Sequence[str] = (),
        registry: "Registry | None" = None,
    ) -> None:
        names = _check_labelnames(labelnames)
        if "le" in names:
            raise ConfigurationError("labelnames", "'le' is reserved for histogram buckets")
        try:
            super().__init__(buckets, names)
        except ValueError as exc:
            raise ConfigurationError("buckets", str(exc)) from None
        self._setup(name, documentation, registry)

    def time(self, timer: Callable[[], float] = time.perf_counter) -> "_Timer":
        """Context manager observing the duration of its block, in ``timer`` units (seconds)."""
        return _Timer(self, timer)

    def collect(self) -> MetricSnapshot:
        """Snapshot with cumulative ``_bucket`` series, ``_sum`` and ``_count``."""
        samples: list[Sample] = []
        bounds = [_fmt(b) for b in self.bounds] + ["+Inf"]
        for labels, cell in self._series():
            counts, total, count = cell.get()  # type: ignore[attr-defined]
            acc = 0
            for le, c in zip(bounds, counts):
                acc += c
                samples.append(Sample(self.name + "_bucket", {**labels, "le": le}, float(acc)))
            samples.append(Sample(self.name + "_sum", labels, total))
            samples.append(Sample(self.name + "_count", labels, float(count)))
        return MetricSnapshot(self.name, self.kind, self.documentation, samples)


class _Timer:
    __slots__ = ("_hist", "_timer", "_start")

    def __init__(self, hist: Histogram, timer: Callable[[], float]) -> None:
        self._hist = hist
        self._timer = timer
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = self._timer()

    def __exit__(self, *exc: object) -> None:
        self._hist.observe(max(self._timer() - self._start, 0.0))


class Registry:
    """A set of metrics and collector callables, rendered together.

    ``counter``/``gauge``/``histogram`` are get-or-create, so components can ask for their
    metrics at construction without coordinating; asking for an existing name with another kind
    or other label names raises :class:`~swfast.errors.ConfigurationError`.
    """

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._collectors: list[Collector] = []
        self._lock = threading.Lock()
        #: Series dropped at collection because they clashed with a family of the same name.
        self.conflicts: dict[str, int] = {}
        self._warned: set[str] = set()

    def register(self, metric: Metric) -> None:
        """Add ``metric``; a second metric with the same name is refused."""
        with self._lock:
            if metric.name in self._metrics:
                raise ConfigurationError("name", f"metric {metric.name!r} is already registered")
            self._metrics[metric.name] = metric

    def unregister(self, metric_or_collector: "Metric | Collector") -> None:
        """Remove a metric or a collector callable."""
        with self._lock:
            name = getattr(metric_or_collector, "name", None)
            if name is not None and self._metrics.get(name) is metric_or_collector:
                del self._metrics[name]
            elif metric_or_collector in self._collectors:
                self._collectors.remove(metric_or_collector)

    def register_collector(self, collector: Collector) -> Collector:
        """Add a callable returning snapshots, called at every collection (for derived stats)."""
        with self._lock:
            self._collectors.append(collector)
        return collector

    def get(self, name: str) -> "Metric | None":
        """The registered metric called ``name``, or None."""
        return self._metrics.get(name)

    def _get_or_create(self, cls: type, name: str, documentation: str, labelnames: Sequence[str], **kw: object) -> Metric:
        with self._lock:
            existing = self._metrics.get(name)
            if existing is None:
                metric: Metric = cls(name, documentation, labelnames=labelnames, registry=None, **kw)
                self._metrics[name] = metric
                return metric
        if type(existing) is not cls or tuple(existing.labelnames) != tuple(labelnames):
            raise ConfigurationError(
                "name", f"metric {name!r} exists as {existing.kind} with labels {existing.labelnames}"
            )
        return existing

    def counter(self, name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Counter:
        """Get or create a :class:`Counter`."""
        return self._get_or_create(Counter, name, documentation, labelnames)  # type: ignore[return-value]

    def gauge(self, name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Gauge:
        """Get or create a :class:`Gauge`."""
        return self._get_or_create(Gauge, name, documentation, labelnames)  # type: ignore[return-value]

    def histogram(
        self, name: str, documentation: str = "", labelnames: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        """Get or create a :class:`Histogram`."""
        return self._get_or_create(Histogram, name, documentation, labelnames, buckets=buckets)  # type: ignore[return-value]

    def collect(self) -> list[MetricSnapshot]:
        """Snapshot every metric and collector, sorted by name. A failing collector is skipped."""
        with self._lock:
            metrics = list(self._metrics.values())
            collectors = list(self._collectors)
        out = [m.collect() for m in metrics]
        for collector in collectors:
            try:
                out.extend(collector())
            except Exception:  # a broken collector must not break the scrape
                import logging

                logging.getLogger("swfast.monitoring").exception("metrics collector %r failed", collector)
        out = self._merge_families(out)
        out.sort(key=lambda s: s.name)
        return out

    def _merge_families(self, snaps: list[MetricSnapshot]) -> list[MetricSnapshot]:
        """One family per name: same kind and label names merge; conflicts and repeats are dropped.

        A family whose kind or label-name set differs from the first non-empty one seen under
        that name (registered metrics come first, then collectors in registration order) is
        dropped, and so is a series identical (name and labels) to one already kept; each drop
        is counted in :attr:`conflicts` and logged once per name, so nothing renders twice.
        """
        groups: dict[str, list[MetricSnapshot]] = {}
        for snap in snaps:
            groups.setdefault(snap.name, []).append(snap)
        out: list[MetricSnapshot] = []
        for name, group in groups.items():
            if len(group) == 1:
                out.append(group[0])
                continue
            base = next((g for g in group if g.samples), group[0])
            names = _label_names(base)
            merged = MetricSnapshot(name, base.kind, base.documentation or next(
                (g.documentation for g in group if g.documentation), ""), [])
            kept: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
            for snap in group:
                if not snap.samples:
                    continue
                other = _label_names(snap)
                if snap.kind != base.kind or other != names:
                    self._conflict(name, f"a family with kind {snap.kind} and labels {sorted(other)} "
                                   f"(kept: {base.kind} with {sorted(names)})", len(snap.samples))
                    continue
                dup = 0
                for s in snap.samples:
                    key = (s.name, tuple(sorted(s.labels.items())))
                    if key in kept:
                        dup += 1
                    else:
                        kept.add(key)
                        merged.samples.append(s)
                if dup:
                    self._conflict(name, f"{dup} series identical to ones already exported", dup)
            out.append(merged)
        return out

    def _conflict(self, name: str, what: str, n: int) -> None:
        self.conflicts[name] = self.conflicts.get(name, 0) + n
        if name not in self._warned:
            self._warned.add(name)
            import logging

            logging.getLogger("swfast.monitoring").error(
                "metric family %r: dropped %s; give the collector a distinct metric name or label value",
                name, what)

    #: The SPEC's collector name for :meth:`collect`.
    collect_metrics = collect

    def render_text(self) -> bytes:
        """Prometheus text exposition, format 0.0.4."""
        return render_text(self.collect())


def _label_names(snap: MetricSnapshot) -> frozenset[str]:
    return frozenset(k for s in snap.samples for k in s.labels if k != "le")


def _fmt(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "+Inf"
    if value == float("-inf"):
        return "-Inf"
    return repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_text(snapshots: Iterable[MetricSnapshot]) -> bytes:
    """Render snapshots as Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    for snap in snapshots:
        lines.append(f"# HELP {snap.name} {_escape_help(snap.documentation)}")
        lines.append(f"# TYPE {snap.name} {snap.kind}")
        for s in snap.samples:
            if s.labels:
                labels = ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in s.labels.items())
                lines.append(f"{s.name}{{{labels}}} {_fmt(s.value)}")
            else:
                lines.append(f"{s.name} {_fmt(s.value)}")
    return ("\n".join(lines) + "\n").encode() if lines else b""


#: Content type of :func:`render_text` output, for HTTP responses.
CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"

#: The process-wide default registry, used by every swfast component.
REGISTRY = Registry()

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Counter",
    "DEFAULT_BUCKETS",
    "Gauge",
    "Histogram",
    "MetricSnapshot",
    "REGISTRY",
    "Registry",
    "Sample",
    "render_text",
]
