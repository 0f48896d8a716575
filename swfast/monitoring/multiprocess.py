"""Multi-process metrics (gunicorn/uvicorn workers) whose cost depends on live processes only.

prometheus_client's multiprocess mode leaves one file per metric type per dead pid forever;
its scrape reads them all (client_python #275, #367, #568). Here:

* Each live process owns one **slot**: a fixed-size mmap file ``slot-<n>.db`` in the directory.
  Updates are plain 8-byte stores into the mapping (no lock, no syscall).
* A slot is claimed under an exclusive ``flock`` on ``lock``. A slot whose owner is dead (pid
  gone, a zombie, or a reused pid with another start time) is **folded into the archive** first:
  counters and histogram buckets/sums/counts are added to ``archive.json`` (so totals stay
  monotone); gauges are dropped. Then the slot is reused, so the directory holds at most
  ``max live processes`` slot files plus the archive.
* A scrape (:meth:`MultiProcessDir.collect`) takes the same lock, folds dead slots, and merges
  the live slots with the archive: cost O(live slots + distinct series), whatever the churn.

Crash safety of a fold: the new archive (values plus "slot n, generation g folded") is written
to a temporary file and atomically renamed before the slot is reset; a fold interrupted after
the rename is detected by the generation and not applied twice.

Gauge modes: ``livesum`` (sum over live processes, the default), ``liveall`` (one series per
pid), ``max``, ``min``.

Example::

    mp = MultiProcessDir("/run/app-metrics")       # same path in every worker
    REQS = mp.counter("app_requests_total", "requests", ("route",))
    REQS.labels("/").inc()                         # in any worker
    mp.register(REGISTRY)                          # in the process serving /metrics
"""
from __future__ import annotations

import abc
import fcntl
import json
import math
import mmap
import os
import struct
import threading
import weakref
from bisect import bisect_left
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import ConfigurationError
from .metrics import DEFAULT_BUCKETS, MetricSnapshot, Registry, Sample, _check_labelnames, _check_name, _fmt

_MAGIC = b"SWMP"
_HDR = struct.Struct("<4sIqqQQ")  # magic, version, pid, start ticks, used, generation
_HDR_SIZE = 64
_GAUGE_MODES = ("livesum", "liveall", "max", "min")


def _start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` (clock ticks since boot), None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    if not rest or rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


class _Slot:
    """One mmap slot file, opened by a writer (its owner) or by a reader."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self.size = os.fstat(fd).st_size
            self.mm = mmap.mmap(fd, self.size)
        finally:
            os.close(fd)
        self.values = memoryview(self.mm).cast("d")

    def header(self) -> tuple[int, int, int, int]:
        magic, _ver, pid, ticks, used, gen = _HDR.unpack_from(self.mm, 0)
        if magic != _MAGIC:
            return 0, 0, 0, 0
        return pid, ticks, used, gen

    def write_header(self, pid: int, ticks: int, used: int, gen: int) -> None:
        _HDR.pack_into(self.mm, 0, _MAGIC, 1, pid, ticks, used, gen)

    def entries(self, used: int) -> Iterable[tuple[str, float]]:
        mm = self.mm
        off = _HDR_SIZE
        end = _HDR_SIZE + used
        unpack = struct.unpack_from
        while off < end:
            (klen,) = unpack("<I", mm, off)
            key = mm[off + 4: off + 4 + klen].decode()
            off = (off + 4 + klen + 7) & ~7
            yield key, unpack("<d", mm, off)[0]
            off += 8

    def close(self) -> None:
        self.values.release()
        self.mm.close()


class MultiProcessDir:
    """A directory shared by the worker processes of one application.

    Args:
        path: the directory (created if missing); ``SWFAST_MULTIPROC_DIR`` when None.
        slot_bytes: size of each process's slot file (default 1 MiB, sparse; ≈ 20,000 series).
        max_slots: most slot files (concurrently live processes), default 1,024.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, slot_bytes: int = 1 << 20,
                 max_slots: int = 1024) -> None:
        if path is None:
            from ..config import multiproc_dir

            raw: str | os.PathLike[str] | None = multiproc_dir()
        else:
            raw = path
        if not raw:
            raise ConfigurationError("path", "give a directory or set SWFAST_MULTIPROC_DIR")
        if int(slot_bytes) < 4096 or int(slot_bytes) % 8:
            raise ConfigurationError("slot_bytes", f"must be a multiple of 8 and >= 4096, got {slot_bytes!r}")
        self.path = Path(raw)
        self.slot_bytes = int(slot_bytes)
        self.max_slots = int(max_slots)
        self._lock = threading.Lock()
        self._slot: _Slot | None = None
        self._slot_index = -1
        self._owner = 0
        self._offsets: dict[str, int] = {}
        self._used = 0
        self._gen = 0
        self._metrics: dict[str, _MPMetric] = {}
        self._readers: dict[int, _Slot] = {}
        self._archive_cache: tuple[tuple[int, int], dict[str, Any]] | None = None
        #: Series that did not fit in the slot (counted and logged; raise ``slot_bytes``).
        self.overflow = 0
        #: Dead slots folded into the archive by this process.
        self.folded = 0
        self._ticks = 0
        self.last_scrape_entries = 0
        self._keys: dict[str, list[Any]] = {}
        _DIRS.add(self)

    # -- locking / files --------------------------------------------------------------------
    def _flock(self) -> int:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    @staticmethod
    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def _slot_paths(self) -> list[tuple[int, Path]]:
        out = []
        for p in self.path.glob("slot-*.db"):
            try:
                out.append((int(p.stem[5:]), p))
            except ValueError:
                continue
        return sorted(out)

    def _reader(self, idx: int, path: Path) -> _Slot:
        slot = self._readers.get(idx)
        if slot is None:
            slot = self._readers[idx] = _Slot(path, self.slot_bytes)
        return slot

    def _archive_path(self) -> Path:
        return self.path / "archive.json"

    def _load_archive(self) -> dict[str, Any]:
        p = self._archive_path()
        try:
            st = p.stat()
        except FileNotFoundError:
            return {"folded": {}, "values": {}}
        stamp = (st.st_ino, st.st_mtime_ns)
        if self._archive_cache is not None and self._archive_cache[0] == stamp:
            return self._archive_cache[1]
        data: dict[str, Any] = json.loads(p.read_text())
        self._archive_cache = (stamp, data)
        return data

    def _fold(self, idx: int, slot: _Slot, gen: int, used: int) -> None:
        """Fold a dead slot into the archive (lock held), then free the slot."""
        archive = self._load_archive()
        if archive["folded"].get(str(idx)) != gen:
            values = dict(archive["values"])
            for key, v in slot.entries(used):
                if key.startswith('["g'):  # gauges of dead processes are dropped
                    continue
                values[key] = values.get(key, 0.0) + v
            new = {"folded": {**archive["folded"], str(idx): gen}, "values": values}
            tmp = self.path / f".archive.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(new))
            os.replace(tmp, self._archive_path())
            self._archive_cache = None
        slot.write_header(0, 0, 0, gen)
        self.folded += 1

    # -- writer side ------------------------------------------------------------------------
    def _attach(self) -> None:
        pid = os.getpid()
        ticks = _start_ticks(pid) or 0
        fd = self._flock()
        try:
            chosen = -1
            taken = {i for i, _ in self._slot_paths()}
            for idx, path in self._slot_paths():
                slot = self._reader(idx, path)
                opid, oticks, used, gen = slot.header()
                if opid and opid != pid and _start_ticks(opid) == oticks:
                    continue  # live owner
                if opid:
                    self._fold(idx, slot, gen, used)
                chosen = idx
                break
            if chosen < 0:
                chosen = next(i for i in range(len(taken) + 1) if i not in taken)
                if chosen >= self.max_slots:
                    raise ConfigurationError("max_slots", f"{self.max_slots} processes are already live")
            slot = _Slot(self.path / f"slot-{chosen}.db", self.slot_bytes)
            _, _, _, gen = slot.header()
            gen += 1
            slot.write_header(pid, ticks, 0, gen)
        finally:
            self._unlock(fd)
        self._slot, self._slot_index, self._owner, self._ticks = slot, chosen, pid, ticks
        self._offsets = {}
        self._used = 0
        self._gen = gen

    def _index(self, key: str) -> int:
        """Index (in doubles) of ``key``'s value in this process's slot, appending it if new."""
        if self._owner != os.getpid():
            with self._lock:
                if self._owner != os.getpid():
                    self._attach()
        idx = self._offsets.get(key)
        if idx is not None:
            return idx
        with self._lock:
            idx = self._offsets.get(key)
            if idx is not None:
                return idx
            slot = self._slot
            assert slot is not None
            raw = key.encode()
            off = _HDR_SIZE + self._used
            val_off = (off + 4 + len(raw) + 7) & ~7
            if val_off + 8 > slot.size:
                self.overflow += 1
                if self.overflow == 1:
                    import logging

                    logging.getLogger("swfast.monitoring").error(
                        "multiprocess slot %s is full; series %s is not exported (raise slot_bytes)",
                        slot.path, key)
                return -1
            struct.pack_into("<I", slot.mm, off, len(raw))
            slot.mm[off + 4: off + 4 + len(raw)] = raw
            struct.pack_into("<d", slot.mm, val_off, 0.0)
            self._used = val_off + 8 - _HDR_SIZE
            slot.write_header(self._owner, self._ticks, self._used, self._gen)
            self._offsets[key] = val_off // 8
            return val_off // 8

    def _add(self, idx: int, amount: float) -> None:
        if idx >= 0:
            values = self._slot.values  # type: ignore[union-attr]
            with self._lock:
                values[idx] += amount

    def _set(self, idx: int, value: float) -> None:
        if idx >= 0:
            self._slot.values[idx] = value  # type: ignore[union-attr]

    def _get_or_create(self, cls: type, name: str, documentation: str, labelnames: Sequence[str],
                       **kw: Any) -> Any:
        with self._lock:
            m = self._metrics.get(name)
            if m is None:
                m = self._metrics[name] = cls(self, name, documentation, labelnames, **kw)
                return m
        if type(m) is not cls or m.labelnames != tuple(labelnames):
            raise ConfigurationError("name", f"multiprocess metric {name!r} exists with other kind or labels")
        return m

    def counter(self, name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> "MPCounter":
        """Get or create a process-shared counter."""
        return self._get_or_create(MPCounter, name, documentation, labelnames)  # type: ignore[no-any-return]

    def gauge(self, name: str, documentation: str = "", labelnames: Sequence[str] = (),
              mode: str = "livesum") -> "MPGauge":
        """Get or create a process-shared gauge (``mode``: livesum, liveall, max, min)."""
        if mode not in _GAUGE_MODES:
            raise ConfigurationError("mode", f"{mode!r} is not one of {_GAUGE_MODES}")
        return self._get_or_create(MPGauge, name, documentation, labelnames, mode=mode)  # type: ignore[no-any-return]

    def histogram(self, name: str, documentation: str = "", labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> "MPHistogram":
        """Get or create a process-shared histogram."""
        return self._get_or_create(MPHistogram, name, documentation, labelnames,  # type: ignore[no-any-return]
                                   buckets=buckets)

    def release(self) -> None:
        """Give this process's slot up now (at clean exit; a dead owner is detected anyway)."""
        if self._slot is None or self._owner != os.getpid():
            return
        fd = self._flock()
        try:
            self._fold(self._slot_index, self._slot, self._gen, self._used)
        finally:
            self._unlock(fd)
        self._slot.close()
        self._slot = None
        self._owner = 0

    # -- reader side ------------------------------------------------------------------------
    def collect(self) -> list[MetricSnapshot]:
        """Merge live slots and the archive into metric families (folds dead slots first)."""
        totals: dict[str, float] = {}
        gauges: dict[str, list[tuple[int, float]]] = {}
        if not self.path.exists():
            return []
        read = 0
        fd = self._flock()
        try:
            for idx, path in self._slot_paths():
                slot = self._reader(idx, path)
                pid, ticks, used, gen = slot.header()
                if not pid:
                    continue
                if _start_ticks(pid) != ticks:
                    self._fold(idx, slot, gen, used)
                    continue
                for key, v in slot.entries(used):
                    read += 1
                    if key.startswith('["g'):
                        gauges.setdefault(key, []).append((pid, v))
                    else:
                        totals[key] = totals.get(key, 0.0) + v
            archive = self._load_archive()
        finally:
            self._unlock(fd)
        for key, v in archive["values"].items():
            totals[key] = totals.get(key, 0.0) + v
        #: Entries read by the last scrape (live slots + archive): its cost, independent of churn.
        self.last_scrape_entries = read + len(archive["values"])
        return self._families(totals, gauges)

    def _families(self, totals: dict[str, float], gauges: dict[str, list[tuple[int, float]]]) -> list[MetricSnapshot]:
        fams: dict[str, MetricSnapshot] = {}
        hist: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
        for key, v in totals.items():
            kind, name, sample, labels, doc = self._parse(key)
            lab = dict(labels)
            if kind == "c":
                fam = fams.setdefault(name, MetricSnapshot(name, "counter", doc))
                fam.samples.append(Sample(sample, lab, v))
            else:
                fams.setdefault(name, MetricSnapshot(name, "histogram", doc))
                le = lab.pop("le", None)
                h = hist.setdefault((name, tuple(sorted(lab.items()))), {"labels": lab, "b": {}, "sum": 0.0, "count": 0.0})
                if le is not None:
                    h["b"][float(le)] = h["b"].get(float(le), 0.0) + v
                elif sample.endswith("_sum"):
                    h["sum"] += v
                else:
                    h["count"] += v
        for (name, _), h in sorted(hist.items()):
            fam = fams[name]
            acc = 0.0
            for le in sorted(h["b"]):
                acc += h["b"][le]
                fam.samples.append(Sample(name + "_bucket", {**h["labels"], "le": _fmt(le)}, acc))
            fam.samples.append(Sample(name + "_sum", h["labels"], h["sum"]))
            fam.samples.append(Sample(name + "_count", h["labels"], h["count"]))
        for key, vals in gauges.items():
            kind, name, sample, labels, doc = self._parse(key)
            mode = kind[2:]
            lab = dict(labels)
            fam = fams.setdefault(name, MetricSnapshot(name, "gauge", doc))
            if mode == "liveall":
                for pid, v in vals:
                    fam.samples.append(Sample(sample, {**lab, "pid": str(pid)}, v))
            else:
                agg = sum(v for _, v in vals) if mode == "livesum" else (
                    max(v for _, v in vals) if mode == "max" else min(v for _, v in vals))
                fam.samples.append(Sample(sample, lab, agg))
        for fam in fams.values():
            if fam.kind == "gauge" and len({tuple(sorted(s.labels.items())) for s in fam.samples}) != len(fam.samples):
                merged: dict[tuple[tuple[str, str], ...], Sample] = {}
                for s in fam.samples:
                    merged.setdefault(tuple(sorted(s.labels.items())), s)
                fam.samples = list(merged.values())
        return sorted(fams.values(), key=lambda f: f.name)

    def _parse(self, key: str) -> list[Any]:
        parsed = self._keys.get(key)
        if parsed is None:
            if len(self._keys) > 100_000:
                self._keys.clear()
            parsed = self._keys[key] = json.loads(key)
        return parsed

    def register(self, registry: Registry) -> None:
        """Expose the merged metrics through ``registry`` (in the process that serves them)."""
        registry.register_collector(self.collect)

    def files(self) -> list[Path]:
        """Every file in the directory (to check it stays bounded)."""
        return sorted(p for p in self.path.iterdir() if p.is_file())

    def close(self) -> None:
        """Release this process's slot and unmap reader views."""
        self.release()
        for slot in self._readers.values():
            slot.close()
        self._readers.clear()


_DIRS: "weakref.WeakSet[MultiProcessDir]" = weakref.WeakSet()


def _after_fork() -> None:  # a lock held by another thread at fork time must not deadlock the child
    for d in list(_DIRS):
        d._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


# ---------------------------------------------------------------------------------------------
class _MPMetric(abc.ABC):
    kind = ""

    def __init__(self, mp: MultiProcessDir, name: str, documentation: str, labelnames: Sequence[str]) -> None:
        self._mp = mp
        self.name = _check_name(name)
        self.documentation = str(documentation)
        self.labelnames = _check_labelnames(labelnames)
        self._children: dict[tuple[str, ...], Any] = {}
        self._pid = 0

    def _key(self, sample: str, labels: Sequence[tuple[str, str]], kind: str | None = None) -> str:
        return json.dumps([kind or self.kind, self.name, sample, list(labels), self.documentation])

    def labels(self, *values: Any, **kw: Any) -> Any:
        if kw:
            values = tuple(kw[n] for n in self.labelnames)
        key = tuple(str(v) for v in values)
        if len(key) != len(self.labelnames):
            raise ValueError(f"labels: expected {len(self.labelnames)} values for {self.labelnames}, got {len(key)}")
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._child(list(zip(self.labelnames, key)))
        return child

    @abc.abstractmethod
    def _child(self, labels: list[tuple[str, str]]) -> Any:
        """The cell that holds this metric's samples for one label set (counter, gauge or histogram)."""

    def _unlabelled(self) -> Any:
        if self.labelnames:
            raise ValueError(f"metric has label names {self.labelnames}: call .labels(...) first")
        return self.labels()


class _Cell:
    __slots__ = ("_mp", "_keys", "_idx", "_pid")

    def __init__(self, mp: MultiProcessDir, keys: list[str]) -> None:
        self._mp = mp
        self._keys = keys
        self._idx: list[int] = []
        self._pid = 0

    def _indexes(self) -> list[int]:
        if self._pid != os.getpid() or self._mp._owner != self._pid:
            self._idx = [self._mp._index(k) for k in self._keys]
            self._pid = os.getpid()
        return self._idx


class _CounterCell(_Cell):
    __slots__ = ()

    def inc(self, amount: float = 1.0) -> None:
        amount = float(amount)
        if not amount >= 0.0 or amount == math.inf:
            raise ValueError(f"amount: counters only go up by finite amounts; got {amount!r}")
        self._mp._add(self._indexes()[0], amount)


class _GaugeCell(_Cell):
    __slots__ = ()

    def set(self, value: float) -> None:
        self._mp._set(self._indexes()[0], float(value))

    def inc(self, amount: float = 1.0) -> None:
        self._mp._add(self._indexes()[0], float(amount))

    def dec(self, amount: float = 1.0) -> None:
        self._mp._add(self._indexes()[0], -float(amount))


class _HistogramCell(_Cell):
    __slots__ = ("_bounds",)

    def __init__(self, mp: MultiProcessDir, keys: list[str], bounds: tuple[float, ...]) -> None:
        super().__init__(mp, keys)
        self._bounds = bounds

    def observe(self, value: float) -> None:
        v = float(value)
        if v != v:
            raise ValueError("value: NaN cannot be observed")
        idx = self._indexes()
        b = bisect_left(self._bounds, v)
        mp = self._mp
        mp._add(idx[b], 1.0)
        mp._add(idx[-2], v)
        mp._add(idx[-1], 1.0)


class MPCounter(_MPMetric):
    """A counter summed over every process, dead ones included (through the archive)."""

    kind = "c"

    def _child(self, labels: list[tuple[str, str]]) -> _CounterCell:
        sample = self.name if self.name.endswith("_total") else self.name + "_total"
        return _CounterCell(self._mp, [self._key(sample, labels)])

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)


class MPGauge(_MPMetric):
    """A gauge over live processes (``mode`` livesum, liveall, max, min)."""

    def __init__(self, mp: MultiProcessDir, name: str, documentation: str, labelnames: Sequence[str],
                 mode: str = "livesum") -> None:
        super().__init__(mp, name, documentation, labelnames)
        self.kind = "g_" + mode

    def _child(self, labels: list[tuple[str, str]]) -> _GaugeCell:
        return _GaugeCell(self._mp, [self._key(self.name, labels)])

    def set(self, value: float) -> None:
        self._unlabelled().set(value)

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._unlabelled().dec(amount)


class MPHistogram(_MPMetric):
    """A fixed-bucket histogram summed over every process."""

    kind = "h"

    def __init__(self, mp: MultiProcessDir, name: str, documentation: str, labelnames: Sequence[str],
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        super().__init__(mp, name, documentation, labelnames)
        bounds = sorted(float(b) for b in buckets if float(b) != math.inf)
        if not bounds or len(set(bounds)) != len(bounds):
            raise ConfigurationError("buckets", "need at least one distinct finite bucket bound")
        self.bounds = tuple(bounds)

    def _child(self, labels: list[tuple[str, str]]) -> _HistogramCell:
        keys = [self._key(self.name + "_bucket", [*labels, ("le", _fmt(b))]) for b in (*self.bounds, math.inf)]
        keys += [self._key(self.name + "_sum", labels), self._key(self.name + "_count", labels)]
        return _HistogramCell(self._mp, keys, self.bounds)

    def observe(self, value: float) -> None:
        self._unlabelled().observe(value)


__all__ = ["MPCounter", "MPGauge", "MPHistogram", "MultiProcessDir"]
