"""Placement policy for the tiered cache, TTL parsing, and invalidation reports.

Kept apart from the manager so the rules are data you can read (and replace) in one place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Priority = Literal["high", "normal", "low"]
TIERS = ("l1", "l2", "l3")

_TTL_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_ttl(ttl: float | int | timedelta | str | None, *, param: str = "ttl") -> float | None:
    """Seconds from a number, a ``timedelta`` or a string such as ``"2h5m"``, ``"1d"``, ``"250ms"``.

    Raises:
        ValueError: negative, or a string that is not a sequence of ``<number><unit>`` parts
            with units ``d``, ``h``, ``m``, ``s``, ``ms``.
    """
    if ttl is None:
        return None
    if isinstance(ttl, timedelta):
        out = ttl.total_seconds()
    elif isinstance(ttl, str):
        text = ttl.replace(" ", "").lower()
        parts = _TTL_PART.findall(text)
        if not text or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{param}: cannot parse {ttl!r}; write it like '2h5m', '90s' or '250ms'")
        out = sum(float(n) * _UNIT[u] for n, u in parts)
    elif isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
        out = float(ttl)
    else:
        raise TypeError(f"{param}: expected seconds, a timedelta or a string like '2h5m', got {type(ttl).__name__}")
    if not out >= 0:
        raise ValueError(f"{param}: must be >= 0 seconds, got {ttl!r}")
    return out


@dataclass(frozen=True)
class PlacementPolicy:
    """Where ``smart_set`` puts a value.

    * ``high``: every configured tier.
    * ``normal``: L1 and L2; L3 too when the lifetime is long (``ttl`` is ``None`` or at least
      ``l3_min_ttl``) or there is no L2.
    * ``low``: L3 only (L2 when there is no L3): cold data stays out of memory.
    * A value whose encoded size exceeds ``l1_max_bytes`` skips L1; one too large for L2 goes
      to L3 instead.

    Attributes:
        l1_max_bytes: largest value (encoded bytes) kept in L1.
        l3_min_ttl: lifetimes at least this long (seconds) also go to L3 at ``normal``.
    """

    l1_max_bytes: int = 64 * 1024
    l3_min_ttl: float = 3600.0

    def tiers(
        self, priority: Priority, ttl: float | None, size: int, *, has_l2: bool, has_l3: bool, l2_max: int
    ) -> tuple[str, ...]:
        """The tiers, top first, for a value of ``size`` bytes living ``ttl`` seconds."""
        if priority == "high":
            out = ["l1", "l2", "l3"]
        elif priority == "normal":
            out = ["l1", "l2"]
            if ttl is None or ttl >= self.l3_min_ttl or not has_l2:
                out.append("l3")
        elif priority == "low":
            out = ["l3"] if has_l3 else ["l2"]
        else:
            raise ValueError(f"priority: must be 'high', 'normal' or 'low', got {priority!r}")
        if size > self.l1_max_bytes and "l1" in out:
            out.remove("l1")
        if size > l2_max and "l2" in out:
            out.remove("l2")
            if has_l3 and "l3" not in out:
                out.append("l3")
        return tuple(t for t in out if (t != "l2" or has_l2) and (t != "l3" or has_l3))


@dataclass
class InvalidationReport:
    """Outcome of an invalidation across tiers and nodes.

    Attributes:
        requested: keys (or 1 for a pattern) asked for.
        removed: entries known removed (L2/L3 counts where the backend reports them).
        failed: per tier or node name, the keys (or the pattern) that could not be invalidated.
    """

    requested: int = 0
    removed: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every tier and node confirmed."""
        return not self.failed

    def add_failure(self, where: str, keys: list[str]) -> None:
        """Record keys that ``where`` could not invalidate."""
        if keys:
            self.failed.setdefault(where, []).extend(keys)


__all__ = ["InvalidationReport", "PlacementPolicy", "Priority", "TIERS", "parse_ttl"]
