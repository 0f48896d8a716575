"""Health checks and alerts for the demo, through swfast.monitoring when it provides them.

* :class:`~swfast.monitoring.health.HealthChecker` with the demo's checks: the model breakers
  (``warn`` while any is open or half-open) and the degradation level (``warn`` above NORMAL);
  the run samples its readiness verdict twice a second and keeps every change.
* the shared alert store (:func:`swfast.monitoring.alerts.alert_store`): a breaker opening
  fires ``ModelBreakerOpen`` (critical) and closing again resolves it.

Without those modules the demo runs the same and reports ``available: false``.
"""
from __future__ import annotations

import time
from typing import Any


class Observability:
    """Health and alerts over one process's :class:`~swfast.demo.pipeline.Components`."""

    def __init__(self, parts: Any) -> None:
        self.parts = parts
        self.health: Any = None
        self.store: Any = None
        self.statuses: list[tuple[float, str]] = []
        self.fired = 0
        self.resolved = 0
        import importlib

        try:  # imported by name: the monitoring parts may not be installed yet
            alert_store = importlib.import_module("swfast.monitoring.alerts").alert_store
            health_checker = importlib.import_module("swfast.monitoring.health").HealthChecker
        except (ImportError, AttributeError):
            return
        self.health = health_checker(ttl=0.2, timeout=0.5)
        self.health.add_check("model:breakers", self._breakers, critical=False, component_type="component")
        self.health.add_check("demo:degradation", self._level, critical=False, component_type="system")
        self.store = alert_store()
        parts.transition_hooks.append(self._alert)

    @property
    def available(self) -> bool:
        return self.health is not None

    def _breakers(self) -> dict[str, Any]:
        bad = [m for m, b in self.parts.breakers.items() if b.state.name in ("OPEN", "HALF_OPEN", "FORCED_OPEN")]
        return {"status": "warn" if bad else "pass", "observedValue": len(bad), "observedUnit": "breakers",
                "output": ", ".join(bad)}

    def _level(self) -> dict[str, Any]:
        level = self.parts.degradation.level
        return {"status": "warn" if int(level) else "pass", "observedValue": int(level), "output": level.name}

    def _alert(self, t: Any) -> None:
        to = t.to_state.name
        if to not in ("OPEN", "CLOSED"):
            return
        now = time.time()
        firing = to == "OPEN"
        self.store.publish({
            "fingerprint": f"demo:breaker:{t.name}", "name": "ModelBreakerOpen",
            "severity": "critical" if firing else "info", "state": "firing" if firing else "resolved",
            "labels": {"breaker": t.name}, "value": 1.0 if firing else 0.0, "updated_at": now,
            "summary": f"breaker {t.name} {t.from_state.name} -> {to}: {t.reason}",
        })
        if firing:
            self.fired += 1
        else:
            self.resolved += 1

    def sample(self) -> str | None:
        """Run the readiness checks; record the verdict when it changed."""
        if self.health is None:
            return None
        status = str(self.health.check("readiness").get("status"))
        if not self.statuses or self.statuses[-1][1] != status:
            self.statuses.append((time.time(), status))
        return status

    def active_alerts(self) -> list[dict[str, Any]]:
        if self.store is None:
            return []
        return [a for a in self.store.active() if str(a.get("fingerprint", "")).startswith("demo:")]

    def summary(self, started: float) -> dict[str, Any]:
        if self.health is None:
            return {"available": False}
        return {"available": True, "health": [{"at_s": round(t - started, 3), "status": s} for t, s in self.statuses],
                "alerts_fired": self.fired, "alerts_resolved": self.resolved,
                "alerts_active_at_end": len(self.active_alerts())}


__all__ = ["Observability"]
