"""Numba statistics and matrix kernels; the NumPy twin is ``_stats_py.py`` (same names).

Numba is imported only when :func:`load` is first called, never at ``import swfast``; kernels
compile on first use with ``cache=True`` (set ``SWFAST_NUMBA_CACHE=0`` to disable the on-disk
cache). Percentiles use radix selection on the float's order-preserving bit pattern: one counting pass
over 65,536 bins (log-spaced by construction, so skewed and heavy-tailed data spread too), one
pass gathering only the values of the few bins holding the wanted ranks, then an exact selection
inside those bins: five percentiles of 10^6 values cost about two memory passes.
"""
from __future__ import annotations

import os
import threading
from types import SimpleNamespace
from typing import Any

import numpy as np

NAME = "numba"
_lock = threading.Lock()
_kernels: SimpleNamespace | None = None
_SMALL = 32_768  # below this many values, sort directly
_BITS = 16  # histogram over the top 16 bits of the key range: 65,536 bins
_BLOCK = 2048  # values per block of the moments (bounds the shifted-sum cancellation error)


def _build() -> SimpleNamespace:
    import numba

    cache = os.environ.get("SWFAST_NUMBA_CACHE", "1") not in ("0", "")
    jit = numba.njit(cache=cache, nogil=True)
    block_len = _BLOCK

    @jit
    def block(a: Any, start: int, end: int) -> Any:  # pragma: no cover - compiled
        # (sum, mean, squared deviations from the mean, min, max) of a[start:end] in one pass,
        # shifted by the block's first value; where that value is far from the block mean (the
        # cancellation in q - s*s/m would cost precision) a second in-cache pass around the mean.
        m = end - start
        shift = a[start]
        s0 = s1 = s2 = s3 = 0.0
        q0 = q1 = q2 = q3 = 0.0
        mn = a[start]
        mx = a[start]
        i = start
        while i + 4 <= end:
            x0 = a[i] - shift
            x1 = a[i + 1] - shift
            x2 = a[i + 2] - shift
            x3 = a[i + 3] - shift
            s0 += x0
            s1 += x1
            s2 += x2
            s3 += x3
            q0 += x0 * x0
            q1 += x1 * x1
            q2 += x2 * x2
            q3 += x3 * x3
            lo = min(min(a[i], a[i + 1]), min(a[i + 2], a[i + 3]))
            hi = max(max(a[i], a[i + 1]), max(a[i + 2], a[i + 3]))
            if lo < mn:
                mn = lo
            if hi > mx:
                mx = hi
            i += 4
        while i < end:
            x0 = a[i] - shift
            s0 += x0
            q0 += x0 * x0
            if a[i] < mn:
                mn = a[i]
            if a[i] > mx:
                mx = a[i]
            i += 1
        s = (s0 + s1) + (s2 + s3)
        q = (q0 + q1) + (q2 + q3)
        total = s + shift * m
        mean = shift + s / m
        if s * s / m > 16.0 * (q - s * s / m):
            # the first value lies far from the block mean: the subtraction would cancel, so
            # measure again around the mean (the block is still in cache; rare for real data)
            s0 = s1 = q0 = q1 = 0.0
            i = start
            while i + 2 <= end:
                x0 = a[i] - mean
                x1 = a[i + 1] - mean
                s0 += x0
                s1 += x1
                q0 += x0 * x0
                q1 += x1 * x1
                i += 2
            if i < end:
                x0 = a[i] - mean
                s0 += x0
                q0 += x0 * x0
            s = s0 + s1
            q = q0 + q1
            mean += s / m
        m2 = q - s * s / m
        if m2 < 0.0:
            m2 = 0.0
        return total, mean, m2, mn, mx

    @jit
    def moments(a: Any) -> Any:  # pragma: no cover - compiled
        # blocks of _BLOCK values, each shifted by its own first value, merged by Chan et al.'s
        # pairwise update: stable whatever the data's offset (NumPy-level accuracy).
        n = a.size
        total = 0.0
        mean = 0.0
        m2 = 0.0
        count = 0
        mn = a[0]
        mx = a[0]
        for start in range(0, n, block_len):
            end = min(start + block_len, n)
            bs, bmean, bm2, bmn, bmx = block(a, start, end)
            m = end - start
            delta = bmean - mean
            new = count + m
            mean += delta * m / new
            m2 += bm2 + delta * delta * (count * m / new)
            count = new
            total += bs
            if bmn < mn:
                mn = bmn
            if bmx > mx:
                mx = bmx
        return total, m2, mn, mx

    sign = np.uint64(0x8000000000000000)
    flip = np.int64(0x7FFFFFFFFFFFFFFF)

    @jit
    def hist(ai: Any, ubase: Any, shift: Any, nb: int) -> Any:  # pragma: no cover - compiled
        counts = np.zeros(nb, dtype=np.int64)
        for i in range(ai.size):
            k = ai[i]
            if k < 0:
                k ^= flip
            counts[(np.uint64(k) ^ sign) - ubase >> shift] += 1
        return counts

    @jit
    def moments_hist(a: Any, ai: Any) -> Any:  # pragma: no cover - compiled
        # moments (as ``moments``) and a 65,536-bin histogram of the top 16 key bits, block by
        # block, so the data is read from memory once
        counts = np.zeros(65536, dtype=np.int64)
        top = np.uint64(48)
        n = a.size
        total = 0.0
        mean = 0.0
        m2 = 0.0
        count = 0
        mn = a[0]
        mx = a[0]
        for start in range(0, n, block_len):
            end = min(start + block_len, n)
            bs, bmean, bm2, bmn, bmx = block(a, start, end)
            for i in range(start, end):
                k0 = ai[i]
                if k0 < 0:
                    k0 ^= flip
                counts[(np.uint64(k0) ^ sign) >> top] += 1
            m = end - start
            delta = bmean - mean
            new = count + m
            mean += delta * m / new
            m2 += bm2 + delta * delta * (count * m / new)
            count = new
            total += bs
            if bmn < mn:
                mn = bmn
            if bmx > mx:
                mx = bmx
        return total, m2, mn, mx, counts

    @jit
    def gather(a: Any, ai: Any, ubase: Any, shift: Any, slot: Any, offsets: Any) -> Any:
        # pragma: no cover - compiled
        out = np.empty(offsets[-1], dtype=np.float64)
        pos = offsets[:-1].copy()
        slots = offsets.size - 1
        mins = np.full(slots, np.inf)
        maxs = np.full(slots, -np.inf)
        for i in range(ai.size):
            k = ai[i]
            if k < 0:
                k ^= flip
            s = slot[(np.uint64(k) ^ sign) - ubase >> shift]
            if s >= 0:
                v = a[i]
                out[pos[s]] = v
                pos[s] += 1
                if v < mins[s]:
                    mins[s] = v
                if v > maxs[s]:
                    maxs[s] = v
        return out, mins, maxs

    @jit
    def ewma(a: Any, alpha: float) -> Any:  # pragma: no cover - compiled
        out = np.empty(a.size, dtype=np.float64)
        beta = 1.0 - alpha
        y = a[0]
        out[0] = y
        for i in range(1, a.size):
            y = beta * y + alpha * a[i]
            out[i] = y
        return out

    @jit
    def zscore_flags(a: Any, mean: float, std: float, threshold: float) -> Any:
        # pragma: no cover - compiled
        out = np.empty(a.size, dtype=np.int64)
        if std == 0.0:
            return out[:0]
        limit = threshold * std
        m = 0
        for i in range(a.size):
            if abs(a[i] - mean) > limit:
                out[m] = i
                m += 1
        return out[:m].copy()

    @jit
    def normalize_rows(m: Any) -> Any:  # pragma: no cover - compiled
        out = np.empty_like(m)
        for r in range(m.shape[0]):
            s = 0.0
            for c in range(m.shape[1]):
                s += m[r, c] * m[r, c]
            inv = 1.0 / np.sqrt(s) if s > 0.0 else 1.0
            for c in range(m.shape[1]):
                out[r, c] = m[r, c] * inv
        return out

    @jit
    def top_k(m: Any, k: int) -> Any:  # pragma: no cover - compiled
        rows = m.shape[0]
        vals = np.empty((rows, k), dtype=np.float64)
        idx = np.empty((rows, k), dtype=np.int64)
        for r in range(rows):
            filled = 0
            for c in range(m.shape[1]):
                v = m[r, c]
                if filled == k and not v > vals[r, k - 1]:
                    continue
                j = filled if filled < k else k - 1
                while j > 0 and v > vals[r, j - 1]:
                    vals[r, j] = vals[r, j - 1]
                    idx[r, j] = idx[r, j - 1]
                    j -= 1
                vals[r, j] = v
                idx[r, j] = c
                if filled < k:
                    filled += 1
        return vals, idx

    return SimpleNamespace(moments=moments, hist=hist, gather=gather, moments_hist=moments_hist,
                           ewma=ewma,
                           zscore_flags=zscore_flags, normalize_rows=normalize_rows,
                           top_k=top_k)


def _k() -> SimpleNamespace:
    global _kernels
    if _kernels is None:
        with _lock:
            if _kernels is None:
                _kernels = _build()
    return _kernels


def moments(a: np.ndarray) -> tuple[float, float, float, float]:
    """Return ``(sum, sum of squared deviations from the mean, min, max)`` in one pass: shifted
    sums per block of 2,048 values, blocks merged by Chan et al.'s update (stable)."""
    s, m2, mn, mx = _k().moments(a)
    return float(s), float(m2), float(mn), float(mx)


def _ukey(x: float) -> int:
    """Order-preserving unsigned key of a float64 (its bits, negatives flipped, sign moved)."""
    k = int(np.float64(x).view(np.int64))
    return (k ^ 0x7FFFFFFFFFFFFFFF if k < 0 else k) + (1 << 63)


def _resolve(a: np.ndarray, ks: np.ndarray, counts: np.ndarray, ubase: int, shift: int,
             depth: int) -> np.ndarray:
    """Order statistics ``ks`` of ``a`` given its histogram over ``(ukey - ubase) >> shift``."""
    k = _k()
    ends = np.cumsum(counts)
    bins = np.searchsorted(ends, ks, side="right")
    wanted = np.unique(bins)
    slot = np.full(counts.size, -1, dtype=np.int64)
    slot[wanted] = np.arange(wanted.size)
    offsets = np.zeros(wanted.size + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts[wanted])
    pool, mins, maxs = k.gather(a, a.view(np.int64), np.uint64(ubase), np.uint64(shift), slot,
                                offsets)
    out = np.empty(ks.size, dtype=np.float64)
    for s, b in enumerate(wanted):
        sel = bins == b
        sub = pool[offsets[s]:offsets[s + 1]]
        first = ends[b] - counts[b]
        out[sel] = _select(sub, ks[sel] - first, float(mins[s]), float(maxs[s]), depth + 1)
    return out


def _select(a: np.ndarray, ks: np.ndarray, lo: float, hi: float, depth: int) -> np.ndarray:
    if lo == hi:
        return np.full(ks.size, lo)
    if a.size <= _SMALL or depth > 6:
        return np.asarray(np.partition(a, ks)[ks], dtype=np.float64)
    ubase = _ukey(lo)
    span = _ukey(hi) - ubase
    shift = max(0, span.bit_length() - _BITS)
    counts = _k().hist(a.view(np.int64), np.uint64(ubase), np.uint64(shift), (span >> shift) + 1)
    return _resolve(a, ks, counts, ubase, shift, depth)


def select_kth(a: np.ndarray, ks: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Return ``sorted(a)[k]`` for each ``k`` in ``ks``, given ``lo = a.min()``, ``hi = a.max()``."""
    return _select(a, np.asarray(ks, dtype=np.int64), lo, hi, 0)


def describe(a: np.ndarray, ks: np.ndarray) -> tuple[float, float, float, float, np.ndarray]:
    """Moments and the order statistics ``ks`` together: the first pass computes the moments
    and a histogram of the top 16 key bits at once; only the wanted bins are read again.
    With non-finite data the order statistics are NaN (the caller falls back)."""
    ks = np.asarray(ks, dtype=np.int64)
    s, m2, lo, hi, counts = _k().moments_hist(a, a.view(np.int64))
    if not (np.isfinite(s) and np.isfinite(m2)):
        return float(s), float(m2), float(lo), float(hi), np.full(ks.size, np.nan)
    if lo == hi or a.size <= _SMALL:
        vals = _select(a, ks, float(lo), float(hi), 0)
    else:
        vals = _resolve(a, ks, counts, 0, 48, 0)
    return float(s), float(m2), float(lo), float(hi), vals


def ewma(a: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted moving average, ``y[0] = a[0]``."""
    return _k().ewma(a, alpha)  # type: ignore[no-any-return]


def zscore_flags(a: np.ndarray, mean: float, std: float, threshold: float) -> np.ndarray:
    """Indices whose ``|a - mean| / std`` exceeds ``threshold``."""
    return _k().zscore_flags(a, mean, std, threshold)  # type: ignore[no-any-return]


def normalize_rows(m: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (zero rows stay zero)."""
    return _k().normalize_rows(m)  # type: ignore[no-any-return]


def top_k(m: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` largest values and their column indices, largest first."""
    vals, idx = _k().top_k(m, k)
    return vals, idx


def warm() -> Any:
    """Compile every kernel now (first-call JIT cost paid here, not on a hot path)."""
    a = np.linspace(0.0, 1.0, 40_000)
    moments(a)
    select_kth(a, np.array([10, 20_000]), 0.0, 1.0)
    describe(np.linspace(0.0, 1.0, 70_000), np.array([10, 20_000]))
    ewma(a[:10], 0.5)
    zscore_flags(a[:10], 0.5, 0.1, 2.0)
    m = np.ones((3, 4))
    normalize_rows(m)
    top_k(m, 2)
    return _k()


__all__ = ["NAME", "describe", "ewma", "moments", "normalize_rows", "select_kth", "top_k", "warm",
           "zscore_flags"]
