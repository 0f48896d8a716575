"""Monitoring: the metrics core (counters, gauges, histograms) and its exporters."""
from .metrics import (
    CONTENT_TYPE_LATEST,
    DEFAULT_BUCKETS,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    MetricSnapshot,
    Registry,
    Sample,
    render_text,
)

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
