"""asv benchmarks of swfast.resource_management against named peers (adapters in ``_resources_peers.py``).

Run both implementations through asv's ``SWFAST_NO_EXTENSIONS`` matrix. Peers in the same run:
direct psutil calls (the caller's read), a NumPy/pandas EWMA + rolling-MAD scorer (anomaly
scores), a plain-Python power-of-two-choices pick, and a threading semaphore (lease cycle).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import _resources_peers as peers  # noqa: E402


class CallerRead:
    params = [["swfast", "psutil-direct"]]
    param_names = ["impl"]

    def setup(self, impl):
        if impl == "psutil-direct":
            self.fn = peers.psutil_read()
        else:
            from swfast.resource_management import ResourceMonitor
            self.mon = ResourceMonitor(interval_s=1.0)
            self.mon.monitor_usage()
            self.fn = self.mon.monitor_usage

    def teardown(self, impl):
        if impl == "swfast":
            self.mon.stop()

    def time_read(self, impl):
        self.fn()


class AnomalyScores:
    params = [["swfast", "numpy+pandas"]]
    param_names = ["impl"]
    timeout = 120

    def setup(self, impl):
        rng = np.random.default_rng(0)
        self.x = rng.normal(50.0, 5.0, 1_000_000)
        self.x[::10_000] += 60.0
        if impl == "numpy+pandas":
            try:
                import pandas  # noqa: F401
            except ImportError:
                raise NotImplementedError  # asv: skip without pandas
        from swfast.resource_management.monitor import score_series
        self.score = score_series

    def time_score_1e6(self, impl):
        if impl == "numpy+pandas":
            peers.pandas_scores(self.x)
        else:
            self.score(self.x, warmup=64)


class BalancerPick:
    params = [["swfast", "python-p2c"], [2, 8, 64]]
    param_names = ["impl", "targets"]

    def setup(self, impl, targets):
        if impl == "python-p2c":
            self.pick = peers.PythonP2C(targets).pick
        else:
            from swfast.resource_management import LoadBalancer
            self.pick = LoadBalancer([f"t{i}" for i in range(targets)], seed=1).pick

    def time_pick(self, impl, targets):
        self.pick()


class LeaseCycle:
    params = [["swfast-cpu", "swfast-memory", "semaphore"]]
    param_names = ["impl"]

    def setup(self, impl):
        from swfast.resource_management import CPUAllocator, MemoryAllocator
        if impl == "semaphore":
            self.fn = peers.semaphore_lease()
        elif impl == "swfast-cpu":
            alloc = CPUAllocator(capacity_cpus=4).allocate_cpu
            self.fn = lambda: alloc(1.0, owner="bench").release()
        else:
            alloc = MemoryAllocator(capacity_bytes=1 << 30).allocate_memory
            self.fn = lambda: alloc(4096, owner="bench").release()

    def time_acquire_release(self, impl):
        self.fn()
