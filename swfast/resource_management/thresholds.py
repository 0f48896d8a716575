"""ThresholdManager: keyed thresholds with a pending duration, hysteresis, keep-firing, a
no-data policy, dynamic adjustment from history, and breach callbacks (degradation levels).

States per (key, metric): inactive → ``pending`` (over a threshold, for less than ``for_s``)
→ ``firing`` → ``resolved`` (back under ``threshold - hysteresis`` for ``keep_firing_s``). A
severity change while firing (warning ↔ critical) is reported at once. Only transitions are
returned and passed to :meth:`ThresholdManager.handle_breach`, so a breach that lasts an hour is
one ``firing`` and one ``resolved``, whatever the check rate.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError, describe_type

log = logging.getLogger("swfast.resource_management")
SEVERITIES = ("warning", "critical")
NO_DATA = ("keep", "resolve", "alert")


@dataclass(frozen=True)
class Rule:
    """Thresholds of one metric. ``direction="above"`` breaches when value >= threshold."""

    warning: float | None = None
    critical: float | None = None
    direction: str = "above"
    for_s: float = 0.0
    hysteresis: float = 0.0
    keep_firing_s: float = 0.0
    no_data: str = "keep"

    def level(self, value: float) -> int:
        """0 none, 1 warning, 2 critical."""
        sign = 1.0 if self.direction == "above" else -1.0
        if self.critical is not None and sign * (value - self.critical) >= 0:
            return 2
        if self.warning is not None and sign * (value - self.warning) >= 0:
            return 1
        return 0

    def holds(self, value: float, level: int) -> bool:
        """Whether ``value`` still counts as ``level`` once hysteresis is applied."""
        t = self.critical if level == 2 else self.warning
        if t is None:
            return False
        return (value >= t - self.hysteresis) if self.direction == "above" else (value <= t + self.hysteresis)


@dataclass(frozen=True)
class Breach:
    """One transition of a (key, metric) pair; ``severity`` is kept on ``resolved``."""

    key: str
    metric: str
    state: str
    severity: str
    value: float
    peak: float
    threshold: float
    started_at: float
    updated_at: float
    count: int
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _State:
    phase: str = "inactive"
    level: int = 0
    since: float = 0.0
    clear_since: float | None = None
    peak: float = math.nan
    count: int = 0
    value: float = math.nan


def _rule(metric: str, spec: object) -> Rule:
    if isinstance(spec, Rule):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"warning": spec}
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"thresholds[{metric!r}]", f"must be a number or a mapping, got {describe_type(spec)}")
    unknown = set(spec) - set(Rule.__dataclass_fields__)
    if unknown:
        raise ConfigurationError(f"thresholds[{metric!r}]", f"unknown fields {sorted(unknown)}; use {sorted(Rule.__dataclass_fields__)}")
    rule = Rule(**spec)
    for name in ("warning", "critical", "for_s", "hysteresis", "keep_firing_s"):
        v = getattr(rule, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v)):
            raise ConfigurationError(f"thresholds[{metric!r}].{name}", f"must be a number, got {v!r}")
    if rule.warning is None and rule.critical is None:
        raise ConfigurationError(f"thresholds[{metric!r}]", "give warning=, critical= or both")
    if rule.direction not in ("above", "below"):
        raise ConfigurationError(f"thresholds[{metric!r}].direction", f"must be 'above' or 'below', got {rule.direction!r}")
    if rule.no_data not in NO_DATA:
        raise ConfigurationError(f"thresholds[{metric!r}].no_data", f"must be one of {NO_DATA}, got {rule.no_data!r}")
    if min(rule.for_s, rule.hysteresis, rule.keep_firing_s) < 0:
        raise ConfigurationError(f"thresholds[{metric!r}]", "for_s, hysteresis and keep_firing_s must be >= 0")
    return rule


class ThresholdManager:
    """Thresholds keyed per model or ``"system"``; thread-safe.

    Args:
        clock: epoch-seconds clock used when ``check`` gets no ``now``.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rules: dict[str, dict[str, Rule]] = {}
        self._states: dict[tuple[str, str], _State] = {}
        self._callbacks: list[Callable[[Breach], Any]] = []
        self._managers: list[Any] = []
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ configuration
    def set_thresholds(self, key: str, thresholds: Mapping[str, object]) -> None:
        """Set (replace) the rules of ``key``: ``{"memory_fraction": {"warning": 0.8, ...}}`` or
        ``{"cpu_fraction": 0.9}`` (a bare number is a warning threshold)."""
        if not isinstance(key, str) or not key:
            raise ConfigurationError("key", f"must be a non-empty str such as 'system', got {describe_type(key)}")
        if not isinstance(thresholds, Mapping) or not thresholds:
            raise ConfigurationError("thresholds", "must be a non-empty mapping of metric -> rule")
        rules = {str(m): _rule(str(m), spec) for m, spec in thresholds.items()}
        with self._lock:
            self._rules[key] = rules
            for st in [s for s in self._states if s[0] == key and s[1] not in rules]:
                del self._states[st]

    def get_thresholds(self, key: str = "system") -> dict[str, Rule]:
        rules = self._rules.get(key)
        if rules is None:
            known = ", ".join(sorted(self._rules)) or "none yet"
            raise ConfigurationError("key", f"no thresholds for {key!r} (known: {known}); call set_thresholds first")
        return dict(rules)

    def keys(self) -> list[str]:
        return sorted(self._rules)

    def adjust_dynamic(self, key: str, metric: str, history: Sequence[float] | np.ndarray, *, k: float = 3.0,
                       percentile: float = 99.0, min_samples: int = 30) -> Rule:
        """Set ``metric``'s thresholds from history: warning = max(percentile, median + k·σ),
        critical = max(max seen, median + 2k·σ), σ = 1.4826·MAD (mirrored for ``below``)."""
        rule = self.get_thresholds(key).get(metric)
        if rule is None:
            raise ConfigurationError("metric", f"{key!r} has no rule for {metric!r}; set_thresholds first")
        data = np.asarray(history, dtype=np.float64)
        data = data[~np.isnan(data)]
        if data.shape[0] < min_samples:
            raise ConfigurationError("history", f"need at least {min_samples} samples, got {data.shape[0]}")
        med = float(np.median(data))
        sigma = 1.4826 * float(np.median(np.abs(data - med)))
        if rule.direction == "above":
            warn = max(float(np.percentile(data, percentile)), med + k * sigma)
            crit = max(float(data.max()), med + 2 * k * sigma, warn)
        else:
            warn = min(float(np.percentile(data, 100 - percentile)), med - k * sigma)
            crit = min(float(data.min()), med - 2 * k * sigma, warn)
        new = replace(rule, warning=warn, critical=crit)
        with self._lock:
            self._rules[key] = {**self._rules[key], metric: new}
        return new

    # ------------------------------------------------------------------ evaluation
    def check(self, key: str, readings: Mapping[str, float | None], *, now: float | None = None) -> list[Breach]:
        """Evaluate ``readings`` against ``key``'s rules; returns (and handles) the transitions."""
        rules = self.get_thresholds(key)
        t = self._clock() if now is None else now
        out: list[Breach] = []
        with self._lock:
            for metric, rule in rules.items():
                b = self._step(key, metric, rule, readings.get(metric), t)
                if b is not None:
                    out.append(b)
        for b in out:
            self.handle_breach(b)
        return out

    def _step(self, key: str, metric: str, rule: Rule, raw: float | None, now: float) -> Breach | None:
        st = self._states.setdefault((key, metric), _State())
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            if rule.no_data == "keep":
                return None
            if rule.no_data == "alert":
                level, value = 1, math.nan
            else:
                level, value = 0, math.nan
        else:
            value = float(raw)
            level = rule.level(value)
            if st.phase != "inactive" and level < st.level and rule.holds(value, st.level):
                level = st.level  # hysteresis: stay until clearly under
        st.value = value
        if level:
            st.count += 1
            if not math.isnan(value):
                better = max if rule.direction == "above" else min
                st.peak = value if math.isnan(st.peak) else better(st.peak, value)
        if st.phase == "inactive":
            if not level:
                return None
            st.phase, st.level, st.since, st.clear_since, st.count = "pending", level, now, None, 1
            st.peak = value
            if rule.for_s <= 0:
                st.phase = "firing"
            return self._breach(key, metric, rule, st, now)
        if st.phase == "pending":
            if not level:
                self._states[(key, metric)] = _State()
                return None
            if now - st.since >= rule.for_s:
                st.phase, st.level = "firing", level
                return self._breach(key, metric, rule, st, now)
            st.level = max(st.level, level)
            return None
        # firing
        if level:
            st.clear_since = None
            if level != st.level:
                st.level = level
                return self._breach(key, metric, rule, st, now)
            return None
        if st.clear_since is None:
            st.clear_since = now
        if now - st.clear_since >= rule.keep_firing_s:
            st.phase = "resolved"
            b = self._breach(key, metric, rule, st, now)
            self._states[(key, metric)] = _State()
            return b
        return None

    @staticmethod
    def _breach(key: str, metric: str, rule: Rule, st: _State, now: float) -> Breach:
        sev = SEVERITIES[st.level - 1]
        threshold = (rule.critical if st.level == 2 else rule.warning)
        return Breach(key, metric, st.phase, sev, st.value, st.peak, math.nan if threshold is None else threshold,
                      st.since, now, st.count, {"key": key, "metric": metric})

    def handle_breach(self, breach: Breach) -> None:
        """Run the callbacks for one transition and re-evaluate attached degradation managers."""
        for cb in list(self._callbacks):
            try:
                cb(breach)
            except Exception:
                log.exception("threshold callback %r failed for %s/%s", cb, breach.key, breach.metric)
        for mgr in list(self._managers):
            try:
                mgr.evaluate(f"threshold {breach.key}/{breach.metric} {breach.severity} {breach.state}")
            except Exception:
                log.exception("degradation manager %r failed to evaluate", mgr)

    def on_breach(self, callback: Callable[[Breach], Any]) -> None:
        """Call ``callback(breach)`` on every transition (exceptions are logged)."""
        self._callbacks.append(callback)

    def firing(self) -> list[tuple[str, str, str]]:
        """(key, metric, severity) of every firing pair."""
        with self._lock:
            return sorted((k, m, SEVERITIES[s.level - 1]) for (k, m), s in self._states.items() if s.phase == "firing")

    def degradation_level(self) -> Any:
        """MINIMAL while a critical fires, DEGRADED while a warning fires, else NORMAL."""
        from ..resilience.degradation import DegradationLevel
        sev = {s for _, _, s in self.firing()}
        if "critical" in sev:
            return DegradationLevel.MINIMAL
        return DegradationLevel.DEGRADED if sev else DegradationLevel.NORMAL

    def degradation_manager(self, name: str = "resources", **kwargs: Any) -> Any:
        """A :class:`swfast.resilience.degradation.DegradationManager` whose health follows the
        firing thresholds; it is re-evaluated on every breach transition."""
        from ..resilience.degradation import DegradationManager
        mgr = DegradationManager(name, health=self.degradation_level, **kwargs)
        self._managers.append(mgr)
        return mgr

    # ------------------------------------------------------------------ compatibility
    def check_thresholds(self, readings: Mapping[str, float | None], key: str = "system") -> list[Breach]:
        """Same as :meth:`check` with the key last (the upstream call shape)."""
        return self.check(key, readings)

    def is_threshold_breached(self, metric: str, value: float, key: str = "system") -> bool:
        """Whether ``value`` crosses ``metric``'s warning or critical threshold (stateless)."""
        rule = self.get_thresholds(key).get(metric)
        if rule is None:
            raise ConfigurationError("metric", f"{key!r} has no rule for {metric!r}")
        return rule.level(float(value)) > 0


__all__ = ["Breach", "Rule", "ThresholdManager"]
