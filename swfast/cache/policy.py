"""Placement policy for the tiered cache, TTL parsing, and invalidation reports.

Kept apart from the manager so the rules are data you can read (and replace) in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from .._durations import seconds
from ..errors import ConfigurationError

Priority = Literal["high", "normal", "low"]
TIERS = ("l1", "l2", "l3")

#: Longest lifetime accepted (100 years): beyond it expiry stamps lose meaning; pass None instead.
MAX_TTL = 100 * 365 * 86400.0


def parse_ttl(ttl: float | int | timedelta | str | None, *, param: str = "ttl") -> float | None:
    """Seconds from a number, a ``timedelta`` or a string such as ``"2h5m"``, ``"1d"``, ``"250ms"``.

    ``None`` means "no expiry" and passes through. Parsing is :func:`swfast._durations.seconds`.

    Raises:
        ConfigurationError: negative, NaN, infinite (write ``None`` for no expiry), above
            :data:`MAX_TTL`, or a string that is not a sequence of ``<number><unit>`` parts.
    """
    if ttl is None:
        return None
    out = seconds(ttl, param=param)
    assert out is not None
    if out > MAX_TTL:
        raise ConfigurationError(param, f"{out:g} s is longer than 100 years; pass None for 'no expiry'")
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


__all__ = ["MAX_TTL", "InvalidationReport", "PlacementPolicy", "Priority", "TIERS", "parse_ttl"]
