"""asv: the metrics core against prometheus_client, 10k operations per timed call."""
from swfast.monitoring.metrics import Counter, Histogram, Registry

R = range(10_000)


class Metrics:
    params = ["swfast", "prometheus_client"]
    param_names = ["impl"]

    def setup(self, impl):
        if impl == "swfast":
            reg = Registry()
            self.c = Counter("c_total", registry=reg)
            self.h = Histogram("h_seconds", registry=reg)
            self.l = Counter("l_total", labelnames=("method", "code"), registry=reg)
        else:
            import prometheus_client as pc

            reg = pc.CollectorRegistry()
            self.c = pc.Counter("c", "c", registry=reg)
            self.h = pc.Histogram("h", "h", registry=reg)
            self.l = pc.Counter("l", "l", ["method", "code"], registry=reg)

    def time_counter_inc(self, impl):
        inc = self.c.inc
        for _ in R:
            inc()

    def time_histogram_observe(self, impl):
        observe = self.h.observe
        for _ in R:
            observe(0.3)

    def time_labelled_inc(self, impl):
        labels = self.l.labels
        for _ in R:
            labels("get", "200").inc()


class Exposition:
    def setup(self):
        self.reg = Registry()
        fam = self.reg.counter("swfast_requests_total", "Requests.", ("route", "code"))
        for i in range(200):
            fam.labels(f"/r{i}", "200").inc(i)

    def time_render_text(self):
        self.reg.render_text()
