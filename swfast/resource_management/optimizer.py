"""ResourceOptimizer: acts on the allocators and the balancer and returns the actions taken.

Every method takes ``dry_run=True`` to only plan; the result is always a list of
:class:`~swfast.resource_management.Action` (never advice strings).
"""
from __future__ import annotations

import math
from typing import Any

from ._common import Action
from .balancer import LoadBalancer
from .cgroup import limits
from .cpu import CPUAllocator
from .gpu import GPUAllocator
from .memory import MemoryAllocator


class ResourceOptimizer:
    """Wires the allocators together. Every part is optional and created on first use (nothing
    starts in the constructor).

    Args:
        cpu / memory / gpu: allocators to act on.
        balancer: a :class:`LoadBalancer` whose targets' health is kept in step with breakers.
        limits_reader: callable returning :class:`~swfast.resource_management.Limits`.
        waste_free_bytes: a GPU pool caching more free bytes than this is trimmed by
            :meth:`reduce_waste`.
    """

    def __init__(self, *, cpu: CPUAllocator | None = None, memory: MemoryAllocator | None = None,
                 gpu: GPUAllocator | None = None, balancer: LoadBalancer | None = None,
                 limits_reader: Any = None, waste_free_bytes: int = 64 << 20) -> None:
        self.cpu = cpu or CPUAllocator()
        self.memory = memory or MemoryAllocator()
        self.gpu = gpu
        self.balancer = balancer
        self._limits = limits_reader or limits
        self.waste_free_bytes = int(waste_free_bytes)

    def optimize_allocation(self, *, dry_run: bool = False) -> list[Action]:
        """Re-read the container limits: resize the CPU budget when the quota changed, then one
        :meth:`MemoryAllocator.optimize_usage` step from the current pressure."""
        actions: list[Action] = []
        lim = self._limits()
        budget = self.cpu.budget
        if not math.isclose(budget.capacity, lim.cpu_budget) and self.cpu._capacity is None:
            if not dry_run:
                self.cpu.set_capacity(lim.cpu_budget)
            actions.append(Action("resize_cpu_budget", f"cpu:{self.cpu.name}",
                                  {"from_cpus": budget.capacity, "to_cpus": float(lim.cpu_budget)}, not dry_run))
        mem_budget = self.memory.budget
        if self.memory._capacity is None and lim.memory_budget_bytes:
            target = int(lim.memory_budget_bytes * (1.0 - self.memory.headroom_fraction))
            before = int(mem_budget.capacity)
            if target != before:
                if not dry_run:
                    mem_budget.set_capacity(float(target))
                actions.append(Action("resize_memory_budget", f"memory:{self.memory.name}",
                                      {"from_bytes": before, "to_bytes": target},
                                      not dry_run))
        actions += self.memory.optimize_usage(dry_run=dry_run)
        return actions

    def balance_load(self, *, dry_run: bool = False) -> list[Action]:
        """Bring balancer health in line with the breakers (open ones are skipped, half-open ones
        get traffic again)."""
        if self.balancer is None:
            return []
        return self.balancer.refresh_health(dry_run=dry_run)

    def reduce_waste(self, *, dry_run: bool = False) -> list[Action]:
        """Free GPU pools' cached blocks above ``waste_free_bytes`` and run a (throttled)
        :meth:`MemoryAllocator.defragment`."""
        actions: list[Action] = []
        if self.gpu is not None and self.gpu.status()["available"]:
            for row in self.gpu.stats():
                for tenant, st in row["tenants"].items():
                    if st["free_in_pool_bytes"] > self.waste_free_bytes:
                        if not dry_run:
                            self.gpu._pools[(tenant, row["device"])].free_all_blocks()
                        actions.append(Action("free_blocks", f"gpu:{row['device']}/{tenant}",
                                              {"freed_bytes": st["free_in_pool_bytes"]}, not dry_run))
        if dry_run:
            actions.append(Action("defragment", f"memory:{self.memory.name}", {}, False))
        else:
            rep = self.memory.defragment()
            if not rep.skipped:
                actions.append(Action("defragment", f"memory:{self.memory.name}",
                                      {"rss_before_bytes": rep.rss_before_bytes, "rss_after_bytes": rep.rss_after_bytes,
                                       "collected_objects": rep.collected_objects, "malloc_trimmed": rep.malloc_trimmed}))
        return actions


__all__ = ["ResourceOptimizer"]
