"""GPU allocation over per-tenant memory pools (CuPy ``MemoryPool``) with NVML device readings.

Each (tenant, device) gets its own pool whose ``set_limit`` is the tenant's share of the device
(``share_resources``) minus ``headroom_bytes`` kept outside every pool for the CUDA context and
library workspaces (cupy#1295). Leases are admission control against two budgets, the device's
and the tenant's; an allocation that hits out-of-memory frees the pool's cached blocks, runs
``gc.collect()`` and retries once (cupy#7678). Devices are picked by power of two choices on
NVML free memory and utilisation.

The backend is injectable: :class:`CupyNvmlBackend` (CuPy and ``pynvml`` from ``nvidia-ml-py``,
both imported on first use) or :class:`FakeGPUBackend`, a simulation used by the tests on
machines without a GPU. Without CuPy or a device every call raises
:class:`~swfast.errors.NoGPUError` (``status()`` says why) and CPU paths are unaffected.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
import sys
import threading
from typing import Any, Callable, Iterator, Mapping, Protocol, TypeVar

from .._native.lease import Budget, Lease
from ..errors import ConfigurationError, NoGPUError
from ._common import acquire, check_amount, check_fraction, check_owner

T = TypeVar("T")
log = logging.getLogger("swfast.resource_management")


class GPUBackend(Protocol):
    def available(self) -> tuple[bool, str]: ...
    def device_count(self) -> int: ...
    def device_info(self, device: int) -> dict[str, float]: ...
    def new_pool(self, device: int) -> Any: ...
    def oom_errors(self) -> tuple[type[BaseException], ...]: ...
    def pinned_pool(self) -> Any: ...
    def using(self, pool: Any, device: int) -> contextlib.AbstractContextManager[Any]: ...


# ---------------------------------------------------------------------- real backend
class _CupyPool:
    """A CuPy ``MemoryPool`` bound to one device (``set_limit`` applies to the current device only,
    cupy#4866, so every call enters the device)."""

    def __init__(self, cupy: Any, device: int) -> None:
        self._cupy, self.device = cupy, device
        self.pool = cupy.cuda.MemoryPool()

    def _dev(self) -> Any:
        return self._cupy.cuda.Device(self.device)

    def set_limit(self, nbytes: int) -> None:
        with self._dev():
            self.pool.set_limit(size=int(nbytes))

    def get_limit(self) -> int:
        with self._dev():
            return int(self.pool.get_limit())

    def malloc(self, nbytes: int) -> Any:
        with self._dev():
            return self.pool.malloc(int(nbytes))

    def free_all_blocks(self) -> None:
        with self._dev():
            self.pool.free_all_blocks()

    def used_bytes(self) -> int:
        with self._dev():
            return int(self.pool.used_bytes())

    def total_bytes(self) -> int:
        with self._dev():
            return int(self.pool.total_bytes())

    def free_bytes(self) -> int:
        with self._dev():
            return int(self.pool.free_bytes())

    def largest_free_block_bytes(self) -> int | None:
        return None  # CuPy does not expose it: fragmentation is reported as None


class CupyNvmlBackend:
    """CuPy pools + NVML readings; both libraries are imported on first use."""

    def __init__(self) -> None:
        self._cupy: Any = None
        self._nvml: Any = None
        self._state: tuple[bool, str] | None = None

    def available(self) -> tuple[bool, str]:
        if self._state is None:
            try:
                import cupy
                count = int(cupy.cuda.runtime.getDeviceCount())
                self._cupy = cupy
                self._state = (count > 0, "ok" if count else "CUDA reports no device")
            except ImportError:
                self._state = (False, "CuPy is not installed (pip install 'swfast[gpu]')")
            except Exception as exc:  # noqa: BLE001 - CUDA driver/runtime missing
                self._state = (False, f"CUDA unavailable: {type(exc).__name__}: {exc}")
            if self._state[0]:
                try:
                    import pynvml
                    pynvml.nvmlInit()
                    self._nvml = pynvml
                except Exception:  # noqa: BLE001 - readings fall back to cudaMemGetInfo
                    log.info("NVML unavailable; GPU utilisation is not reported", exc_info=True)
        return self._state

    def device_count(self) -> int:
        return int(self._cupy.cuda.runtime.getDeviceCount()) if self.available()[0] else 0

    def device_info(self, device: int) -> dict[str, float]:
        info: dict[str, float] = {}
        if self._nvml is not None:
            # NVML indexes physical devices; with CUDA_VISIBLE_DEVICES set the two may differ.
            h = self._nvml.nvmlDeviceGetHandleByIndex(device)
            mem = self._nvml.nvmlDeviceGetMemoryInfo(h)
            util = self._nvml.nvmlDeviceGetUtilizationRates(h)
            info = {"total_bytes": float(mem.total), "free_bytes": float(mem.free),
                    "utilization_percent": float(util.gpu)}
        else:
            with self._cupy.cuda.Device(device):
                free, total = self._cupy.cuda.runtime.memGetInfo()
            info = {"total_bytes": float(total), "free_bytes": float(free), "utilization_percent": float("nan")}
        torch = sys.modules.get("torch")
        if torch is not None:
            try:
                info["torch_reserved_bytes"] = float(torch.cuda.memory_reserved(device))
            except Exception:  # noqa: BLE001 - torch without CUDA
                pass
        return info

    def new_pool(self, device: int) -> _CupyPool:
        return _CupyPool(self._cupy, device)

    def oom_errors(self) -> tuple[type[BaseException], ...]:
        return (self._cupy.cuda.memory.OutOfMemoryError,)

    def pinned_pool(self) -> Any:
        return self._cupy.get_default_pinned_memory_pool()

    @contextlib.contextmanager
    def using(self, pool: Any, device: int) -> Iterator[Any]:
        with self._cupy.cuda.Device(device), self._cupy.cuda.using_allocator(pool.pool.malloc):
            yield pool


# ---------------------------------------------------------------------- fake backend
class FakeOutOfMemory(MemoryError):
    """The fake backend's out-of-memory error (CuPy's ``OutOfMemoryError`` stand-in)."""


class _FakeBlock:
    def __init__(self, pool: "_FakePool", size: int) -> None:
        self.pool, self.size = pool, size
        self._live = True

    def free(self) -> None:
        if self._live:
            self._live = False
            self.pool._give_back(self.size)

    def __del__(self) -> None:
        self.free()


class _FakePool:
    """Simulates a caching pool: freed blocks stay cached (``total_bytes`` keeps them) and are
    reused only by requests that fit a single cached block, so a limit can be hit while the pool
    holds enough free bytes in pieces — the fragmentation OOM of cupy#7678."""

    def __init__(self, backend: "FakeGPUBackend", device: int) -> None:
        self.backend, self.device = backend, device
        self._limit = 0
        self._used = 0
        self._free_blocks: list[int] = []
        self.mallocs = 0

    def set_limit(self, nbytes: int) -> None:
        self._limit = int(nbytes)

    def get_limit(self) -> int:
        return self._limit

    def malloc(self, nbytes: int) -> _FakeBlock:
        size = -(-int(nbytes) // 512) * 512
        fit = [b for b in self._free_blocks if b >= size]
        if fit:
            best = min(fit)
            self._free_blocks.remove(best)
            self._used += best
            return _FakeBlock(self, best)
        total = self._used + sum(self._free_blocks)
        if (self._limit and total + size > self._limit) or not self.backend._take(self.device, size):
            raise FakeOutOfMemory(f"out of memory allocating {size} bytes on fake device {self.device}")
        self._used += size
        self.mallocs += 1
        return _FakeBlock(self, size)

    def _give_back(self, size: int) -> None:
        self._used -= size
        self._free_blocks.append(size)

    def free_all_blocks(self) -> None:
        self.backend._return(self.device, sum(self._free_blocks))
        self._free_blocks.clear()

    def used_bytes(self) -> int:
        return self._used

    def total_bytes(self) -> int:
        return self._used + sum(self._free_blocks)

    def free_bytes(self) -> int:
        return sum(self._free_blocks)

    def largest_free_block_bytes(self) -> int | None:
        return max(self._free_blocks, default=0)


class FakeGPUBackend:
    """An injectable stand-in for CuPy + NVML: devices with total memory and utilisation.

    Args:
        devices: one mapping per device (``total_bytes``, ``utilization_percent``).
        available: False simulates a host without CuPy or a GPU.
    """

    def __init__(self, devices: list[Mapping[str, float]] | None = None, *, available: bool = True) -> None:
        self.devices = [dict(d) for d in (devices if devices is not None else [{"total_bytes": 16 << 30}])]
        for d in self.devices:
            d.setdefault("utilization_percent", 0.0)
            d["free_bytes"] = d.get("free_bytes", d["total_bytes"])
        self._available = available
        self._lock = threading.Lock()
        self.pinned = _FakePool(self, -1)

    def available(self) -> tuple[bool, str]:
        return (True, "ok") if self._available and self.devices else (False, "fake backend: no GPU")

    def device_count(self) -> int:
        return len(self.devices) if self._available else 0

    def device_info(self, device: int) -> dict[str, float]:
        return {k: float(v) for k, v in self.devices[device].items()}

    def _take(self, device: int, size: int) -> bool:
        with self._lock:
            if device < 0:
                return True
            d = self.devices[device]
            if d["free_bytes"] < size:
                return False
            d["free_bytes"] -= size
            return True

    def _return(self, device: int, size: int) -> None:
        if device >= 0:
            with self._lock:
                self.devices[device]["free_bytes"] += size

    def new_pool(self, device: int) -> _FakePool:
        return _FakePool(self, device)

    def oom_errors(self) -> tuple[type[BaseException], ...]:
        return (FakeOutOfMemory,)

    def pinned_pool(self) -> Any:
        return self.pinned

    @contextlib.contextmanager
    def using(self, pool: Any, device: int) -> Iterator[Any]:
        yield pool


# ---------------------------------------------------------------------- allocator
class GPULease:
    """Memory promised to ``tenant`` on ``device``; ``malloc`` allocates from the tenant's pool."""

    def __init__(self, allocator: "GPUAllocator", device: int, tenant: str, pool: Any,
                 leases: tuple[Lease, Lease]) -> None:
        self.allocator, self.device, self.tenant, self.pool = allocator, device, tenant, pool
        self._leases = leases

    @property
    def nbytes(self) -> int:
        return int(self._leases[0].amount)

    @property
    def released(self) -> bool:
        return self._leases[0].released

    def malloc(self, nbytes: int) -> Any:
        """Allocate from the pool; on out-of-memory free cached blocks, ``gc.collect()``, retry once."""
        size = int(check_amount(nbytes, "nbytes", integer=True))
        return self.allocator._with_retry(self.pool, lambda: self.pool.malloc(size))

    def use(self) -> contextlib.AbstractContextManager[Any]:
        """Make the tenant's pool CuPy's allocator on this device inside the block."""
        return self.allocator.backend.using(self.pool, self.device)

    def release(self) -> bool:
        first = self._leases[0].release()
        self._leases[1].release()
        return bool(first)

    def __enter__(self) -> "GPULease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"GPULease(device={self.device}, tenant={self.tenant!r}, nbytes={self.nbytes}, released={self.released})"


class GPUAllocator:
    """Per-tenant GPU memory pools with limits, leases, device picking and stats.

    Args:
        backend: a :class:`GPUBackend` (default :class:`CupyNvmlBackend`, created on first use).
        headroom_bytes: memory per device kept outside every pool (CUDA context, cuDNN/cuBLAS).
    The constructor imports and starts nothing. Thread-safe.
    """

    def __init__(self, *, backend: GPUBackend | None = None, headroom_bytes: int = 256 << 20,
                 seed: int | None = None) -> None:
        self._backend = backend
        self.headroom_bytes = int(check_amount(headroom_bytes, "headroom_bytes", allow_zero=True, integer=True))
        self._shares: dict[str, float] = {}
        self._pools: dict[tuple[str, int], Any] = {}
        self._device_budgets: dict[int, Budget] = {}
        self._tenant_budgets: dict[tuple[str, int], Budget] = {}
        self._rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "little"))
        self._lock = threading.RLock()
        self.retries = 0

    @property
    def backend(self) -> GPUBackend:
        if self._backend is None:
            self._backend = CupyNvmlBackend()
        return self._backend

    def status(self) -> dict[str, Any]:
        """``{"available": bool, "reason": str, "devices": int}`` — never raises."""
        ok, reason = self.backend.available()
        return {"available": ok, "reason": reason, "devices": self.backend.device_count() if ok else 0}

    def _require(self, device: int | None = None) -> int:
        ok, reason = self.backend.available()
        if not ok:
            raise NoGPUError(f"no GPU: {reason}; CPU paths keep working")
        count = self.backend.device_count()
        if device is not None and (isinstance(device, bool) or not isinstance(device, int) or not 0 <= device < count):
            raise ConfigurationError("device", f"unknown device {device!r}; this host has devices 0..{count - 1}")
        return count

    def _usable(self, device: int) -> float:
        return max(0.0, self.backend.device_info(device)["total_bytes"] - self.headroom_bytes)

    def _budgets(self, tenant: str, device: int) -> tuple[Budget, Budget, Any]:
        with self._lock:
            dev = self._device_budgets.get(device)
            if dev is None:
                dev = self._device_budgets[device] = Budget(self._usable(device))
            key = (tenant, device)
            ten = self._tenant_budgets.get(key)
            if ten is None:
                ten = self._tenant_budgets[key] = Budget(self._shares.get(tenant, 1.0) * dev.capacity)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = self.backend.new_pool(device)
                pool.set_limit(int(ten.capacity))
            return dev, ten, pool

    def share_resources(self, shares: Mapping[str, float]) -> dict[str, float]:
        """Give tenants fractions of every device (sum <= 1); pools' limits follow. Returns the shares."""
        clean = {check_owner(t, "shares"): check_fraction(f, f"shares[{t!r}]") for t, f in shares.items()}
        if sum(clean.values()) > 1.0 + 1e-9:
            raise ConfigurationError("shares", f"fractions sum to {sum(clean.values()):g}; they must sum to at most 1")
        with self._lock:
            self._shares.update(clean)
            for (tenant, device), budget in self._tenant_budgets.items():
                if tenant in clean:
                    cap = clean[tenant] * self._device_budgets[device].capacity
                    budget.set_capacity(cap)
                    self._pools[(tenant, device)].set_limit(int(cap))
        return dict(self._shares)

    def allocate_gpu(self, nbytes: int | None = None, *, fraction: float | None = None, device: int | None = None,
                     tenant: str = "default") -> GPULease:
        """Lease ``nbytes`` (or ``fraction`` of the device's usable memory) for ``tenant``.

        ``device=None`` picks one with :meth:`optimize_workload`.

        Raises:
            NoGPUError: no CuPy / no device.
            ConfigurationError: bad size, fraction, device or tenant.
            BudgetExceeded: over the device's or the tenant's budget (nothing is reserved).
        """
        self._require(device)
        check_owner(tenant, "tenant")
        if (nbytes is None) == (fraction is None):
            raise ConfigurationError("nbytes", "pass exactly one of nbytes= or fraction=")
        if fraction is not None:
            check_fraction(fraction, "fraction")
        else:
            check_amount(nbytes, "nbytes", integer=True)
        if device is None:
            device = self.optimize_workload(int(nbytes or 0))
        dev, ten, pool = self._budgets(tenant, device)
        amount = float(nbytes) if nbytes is not None else float(int(fraction * dev.capacity))  # type: ignore[operator]
        first = acquire(dev, f"gpu:{device}", amount, tenant, "bytes")
        try:
            second = acquire(ten, f"gpu:{device}/tenant:{tenant}", amount, tenant, "bytes")
        except Exception:
            first.release()
            raise
        return GPULease(self, device, tenant, pool, (first, second))

    def _with_retry(self, pool: Any, call: Callable[[], T]) -> T:
        try:
            return call()
        except self.backend.oom_errors():
            self.retries += 1
            pool.free_all_blocks()
            gc.collect()
            return call()

    def optimize_workload(self, nbytes: int = 0, *, fn: Callable[[int], T] | None = None,
                          tenant: str = "default") -> Any:
        """Pick a device by power of two choices on free memory and utilisation (among devices
        with at least ``nbytes`` free). With ``fn``, run ``fn(device)`` with the tenant's pool as
        allocator and retry once after freeing cached blocks on out-of-memory; returns its result."""
        count = self._require()
        need = check_amount(nbytes, "nbytes", allow_zero=True, integer=True)
        infos = {d: self.backend.device_info(d) for d in range(count)}
        fits = [d for d, i in infos.items() if i["free_bytes"] >= need] or list(infos)

        def load(d: int) -> float:
            i = infos[d]
            util = i.get("utilization_percent", 0.0)
            util = 0.0 if util != util else util / 100.0  # NaN when NVML is missing
            return util + 1.0 - i["free_bytes"] / max(1.0, i["total_bytes"])
        if len(fits) == 1:
            device = fits[0]
        else:
            a, b = self._rng.sample(fits, 2)
            device = b if load(b) < load(a) else a
        if fn is None:
            return device
        _, _, pool = self._budgets(check_owner(tenant, "tenant"), device)
        with self.backend.using(pool, device):
            return self._with_retry(pool, lambda: fn(device))

    def free_cached(self) -> int:
        """``free_all_blocks()`` on every pool; returns the cached bytes released."""
        freed = 0
        with self._lock:
            for pool in self._pools.values():
                freed += int(pool.free_bytes())
                pool.free_all_blocks()
        return freed

    def pinned_pool(self) -> Any:
        """The pinned host-memory pool (CuPy ``PinnedMemoryPool``)."""
        self._require()
        return self.backend.pinned_pool()

    def stats(self) -> list[dict[str, Any]]:
        """Per device: NVML readings and per tenant used / pooled / free-in-pool / limit bytes and
        fragmentation ``1 - largest free block / free`` (None where the backend cannot tell)."""
        if not self.backend.available()[0]:
            return []
        out = []
        for d in range(self.backend.device_count()):
            row: dict[str, Any] = {"device": d, **self.backend.device_info(d), "tenants": {}}
            with self._lock:
                pools = [(t, p) for (t, dev), p in self._pools.items() if dev == d]
            for tenant, p in pools:
                free = int(p.free_bytes())
                largest = p.largest_free_block_bytes()
                frag = None if largest is None else (0.0 if free == 0 else 1.0 - largest / free)
                budget = self._tenant_budgets[(tenant, d)]
                row["tenants"][tenant] = {"used_bytes": int(p.used_bytes()), "pooled_bytes": int(p.total_bytes()),
                                          "free_in_pool_bytes": free, "limit_bytes": int(p.get_limit()),
                                          "leased_bytes": int(budget.used), "fragmentation": frag}
            out.append(row)
        return out

    def device_readings(self) -> list[dict[str, float]]:
        """Device-wide readings for the monitor (empty without a GPU)."""
        if not self.backend.available()[0]:
            return []
        return [self.backend.device_info(d) for d in range(self.backend.device_count())]


__all__ = ["CupyNvmlBackend", "FakeGPUBackend", "FakeOutOfMemory", "GPUAllocator", "GPUBackend", "GPULease"]
