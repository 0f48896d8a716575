"""Resource management: container-aware limits, CPU/memory/GPU leases, monitor, thresholds,
alerts, optimizer and a power-of-two-choices load balancer.

Importing this package is cheap: every name loads on first access, psutil when a monitor samples,
CuPy and NVML (``pynvml`` from ``nvidia-ml-py``) only when a GPU backend is used. Constructors
take no required arguments and start nothing (no thread, pool or sampler) until asked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

_EXPORTS = {
    "Action": "_common",
    "AdaptiveLimit": "cpu",
    "AlertGenerator": "alerts",
    "CPUAllocator": "cpu",
    "CallbackConsumer": "memory",
    "DefragReport": "memory",
    "FakeGPUBackend": "gpu",
    "GPUAllocator": "gpu",
    "L1CacheConsumer": "memory",
    "Limits": "cgroup",
    "LoadBalancer": "balancer",
    "MemoryAllocator": "memory",
    "Pressure": "cgroup",
    "PriorityExecutor": "cpu",
    "ResourceMonitor": "monitor",
    "ResourceOptimizer": "optimizer",
    "ThresholdManager": "thresholds",
    "cpu_budget": "cgroup",
    "limits": "cgroup",
    "memory_budget_bytes": "cgroup",
}

__getattr__, __dir__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._common import Action
    from .alerts import AlertGenerator
    from .balancer import LoadBalancer
    from .cpu import AdaptiveLimit, CPUAllocator, PriorityExecutor
    from .gpu import FakeGPUBackend, GPUAllocator
    from .cgroup import Limits, Pressure, cpu_budget, limits, memory_budget_bytes
    from .memory import CallbackConsumer, DefragReport, L1CacheConsumer, MemoryAllocator
    from .monitor import ResourceMonitor
    from .optimizer import ResourceOptimizer
    from .thresholds import ThresholdManager

__all__ = sorted(_EXPORTS)
