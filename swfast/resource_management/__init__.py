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
    from ._common import Action as Action
    from .alerts import AlertGenerator as AlertGenerator
    from .balancer import LoadBalancer as LoadBalancer
    from .cpu import AdaptiveLimit as AdaptiveLimit
    from .cpu import CPUAllocator as CPUAllocator
    from .cpu import PriorityExecutor as PriorityExecutor
    from .gpu import FakeGPUBackend as FakeGPUBackend
    from .gpu import GPUAllocator as GPUAllocator
    from .cgroup import Limits as Limits
    from .cgroup import Pressure as Pressure
    from .cgroup import cpu_budget as cpu_budget
    from .cgroup import limits as limits
    from .cgroup import memory_budget_bytes as memory_budget_bytes
    from .memory import CallbackConsumer as CallbackConsumer
    from .memory import DefragReport as DefragReport
    from .memory import L1CacheConsumer as L1CacheConsumer
    from .memory import MemoryAllocator as MemoryAllocator
    from .monitor import ResourceMonitor as ResourceMonitor
    from .optimizer import ResourceOptimizer as ResourceOptimizer
    from .thresholds import ThresholdManager as ThresholdManager

__all__ = sorted(_EXPORTS)
