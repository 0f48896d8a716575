"""asv: monitoring (quantile sketch vs numpy.percentile/ddsketch, collect_metric vs
prometheus_client, multi-process scrape after churn vs prometheus_client, dashboard JSON)."""
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _monitoring_peers import prometheus_dir, swfast_dir  # noqa: E402

VALUES = np.random.default_rng(42).lognormal(-3.0, 1.0, 1_000_000)


class Sketch:
    params = ["swfast", "numpy.percentile", "ddsketch"]
    param_names = ["impl"]

    def setup(self, impl):
        if impl == "ddsketch":
            import ddsketch  # noqa: F401

    def time_stream_p50_p95_p99_1e6(self, impl):
        if impl == "swfast":
            from swfast._native.qsketch import QuantileSketch

            sk = QuantileSketch()
            for i in range(0, len(VALUES), 100_000):
                sk.add_many(VALUES[i:i + 100_000])
                sk.quantiles((0.5, 0.95, 0.99))
        elif impl == "numpy.percentile":
            for i in range(0, len(VALUES), 100_000):
                np.percentile(VALUES[: i + 100_000], [50, 95, 99])
        else:
            import ddsketch

            sk = ddsketch.DDSketch(0.01)
            for v in VALUES[:100_000].tolist():
                sk.add(v)

    def time_add_10k(self, impl):
        vals = VALUES[:10_000].tolist()
        if impl == "swfast":
            from swfast._native.qsketch import QuantileSketch

            add = QuantileSketch().add
        elif impl == "ddsketch":
            import ddsketch

            add = ddsketch.DDSketch(0.01).add
        else:
            return
        for v in vals:
            add(v)


class Collect:
    params = ["swfast", "prometheus_client"]
    param_names = ["impl"]

    def setup(self, impl):
        if impl == "swfast":
            from swfast.monitoring.collector import MetricsCollector, SeriesStore
            from swfast.monitoring.metrics import Registry

            c = MetricsCollector(Registry(), SeriesStore())
            c.collect_metric("bench_load_ratio", 0.5)
            self.fn = lambda: c.collect_metric("bench_load_ratio", 0.5)
            self.raw = c.collect_metric
        else:
            import prometheus_client as pc

            g = pc.Gauge("bench_load_ratio", "g", registry=pc.CollectorRegistry())
            self.raw = None
            self.set = g.set

    def time_collect_metric_10k(self, impl):
        if self.raw is not None:
            f = self.raw
            for _ in range(10_000):
                f("bench_load_ratio", 0.5)
        else:
            s = self.set
            for _ in range(10_000):
                s(0.5)


class Scrape:
    params = ["swfast", "prometheus_client"]
    param_names = ["impl"]
    timeout = 300

    def setup(self, impl):
        build = swfast_dir if impl == "swfast" else prometheus_dir
        self.scrape, self.stop = build(tempfile.mkdtemp(prefix="swfast-asv-mp-"), restarts=100, live=4)

    def teardown(self, impl):
        self.stop()

    def time_scrape_4_live_after_100_restarts(self, impl):
        self.scrape()


class Dashboard:
    def setup(self):
        from swfast.monitoring.dashboard import DashboardGenerator
        from swfast.monitoring.metrics import Registry

        reg = Registry()
        c = reg.counter("swfast_bench_sent_total", "s", ("topic",))
        h = reg.histogram("swfast_bench_get_seconds", "g", ("tier",))
        g = reg.gauge("swfast_bench_lag", "lag", ("topic",))
        for i in range(167):
            c.labels(str(i)).inc(i)
            h.labels(str(i)).observe(0.01 * i)
            g.labels(str(i)).set(i)
        self.dash = DashboardGenerator(reg)
        for _ in range(61):
            self.dash.tick()

    def time_json_500_series_uncached(self):
        self.dash._json_cache = None
        self.dash.render_json()


if os.environ.get("SWFAST_NO_EXTENSIONS"):
    Sketch.params = ["numpy.percentile"]


class Construct:
    """Every no-argument monitoring constructor (goal <= 50 us each)."""

    params = ["MetricsCollector", "MetricsAggregator", "MetricsExporter", "HealthChecker", "HealthReporter",
              "DashboardGenerator", "AlertVisualizer"]
    param_names = ["cls"]

    def setup(self, cls):
        from swfast import monitoring

        self.cls = getattr(monitoring, cls)
        self.cls()

    def time_construct(self, cls):
        self.cls()
