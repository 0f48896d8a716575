"""Shared pieces of resource management: actions, argument checks, the lease budget wrapper."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .._native.lease import Budget, Lease
from ..errors import BudgetExceeded, ConfigurationError, describe_type


@dataclass(frozen=True)
class Action:
    """One thing an optimizer did (``applied=True``) or would do under ``dry_run``.

    Attributes:
        kind: what was done (``"shrink"``, ``"grow"``, ``"free_blocks"``, ``"set_health"``, ...).
        target: what it was done to (a consumer, device or balancer target name).
        detail: numbers behind the action (``{"from_bytes": ..., "to_bytes": ...}``).
        applied: False when only planned (``dry_run=True``) or when the action failed.
    """

    kind: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    applied: bool = True


def check_amount(value: object, param: str, *, allow_zero: bool = False, integer: bool = False) -> float:
    """A finite, non-negative number (positive unless ``allow_zero``) or a ConfigurationError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(param, f"must be a number, got {describe_type(value)}")
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        raise ConfigurationError(param, f"must be finite, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ConfigurationError(param, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    if integer and v != int(v):
        raise ConfigurationError(param, f"must be a whole number, got {value!r}")
    return v


def check_fraction(value: object, param: str) -> float:
    """A number in (0, 1] or a ConfigurationError."""
    v = check_amount(value, param)
    if v > 1.0:
        raise ConfigurationError(param, f"must be a fraction in (0, 1], got {value!r}; pass an absolute amount instead")
    return v


def check_owner(owner: object, param: str = "owner") -> str:
    if not isinstance(owner, str) or not owner:
        raise ConfigurationError(param, f"must be a non-empty str, got {describe_type(owner)}")
    return owner


def acquire(budget: Budget, name: str, amount: float, owner: str, unit: str) -> Lease:
    """A lease or :class:`~swfast.errors.BudgetExceeded` naming the budget and the owner's holdings."""
    lease = budget.try_acquire(amount, owner)
    if lease is None:
        raise BudgetExceeded(name, amount, budget.available, budget.capacity, owner, budget.held_by(owner), unit)
    return lease


__all__ = ["Action", "acquire", "check_amount", "check_fraction", "check_owner"]
