"""The shared alert store: resource management's alert generator (and any caller) publishes,
:class:`~swfast.monitoring.dashboard.AlertVisualizer` reads.

An event is a plain mapping (the convention shared by monitoring, logging and resources)::

    {"fingerprint": str, "name": str, "severity": "info"|"warning"|"critical",
     "state": "pending"|"firing"|"resolved", "labels": {str: str}, "value": float,
     "peak": float, "count": int, "started_at": epoch s, "updated_at": epoch s, "summary": str}

Events are grouped by ``fingerprint``: the latest event replaces the alert's state, ``peak`` is
the maximum seen, ``count`` the number of events (unless the publisher's ``count`` is larger).
``active()`` is every pending or firing alert; ``recent()`` the last ``history`` alerts, resolved
ones included, newest first. Memory is bounded by ``capacity`` alerts (oldest resolved first).
A malformed event raises :class:`~swfast.errors.ValidationError` naming the field.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any, Mapping

from .._redact import redact_text
from ..errors import ValidationError

SEVERITIES = ("info", "warning", "critical")
STATES = ("pending", "firing", "resolved")


def _field(event: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    v = event.get(key, default)
    if v is None and default is None:
        raise ValidationError(f"{key}: missing from the alert event", path=key)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise ValidationError(f"{key}: expected {getattr(kind, '__name__', kind)}, got {type(v).__name__}", path=key)
    return v


class AlertStore:
    """Thread-safe, bounded store of alerts keyed by fingerprint."""

    def __init__(self, capacity: int = 1000, *, clock: Any = time.time) -> None:
        self.capacity = int(capacity)
        self._clock = clock
        self._alerts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.published = 0

    def publish(self, event: Mapping[str, Any]) -> None:
        """Add or update an alert from an event mapping."""
        if not isinstance(event, Mapping):
            raise ValidationError(f"event: expected a mapping, got {type(event).__name__}", path="event")
        fp = _field(event, "fingerprint", str)
        name = _field(event, "name", str)
        severity = _field(event, "severity", str, "warning")
        state = _field(event, "state", str, "firing")
        if severity not in SEVERITIES:
            raise ValidationError(f"severity: {severity!r} is not one of {SEVERITIES}", path="severity")
        if state not in STATES:
            raise ValidationError(f"state: {state!r} is not one of {STATES}", path="state")
        now = self._clock()
        value = float(_field(event, "value", (int, float), math.nan))
        labels = event.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ValidationError("labels: expected a mapping", path="labels")
        with self._lock:
            old = self._alerts.pop(fp, None)
            count = (old["count"] if old else 0) + 1
            peak_in = event.get("peak")
            peaks = [x for x in (value, peak_in, old["peak"] if old else None)
                     if isinstance(x, (int, float)) and not isinstance(x, bool) and x == x]
            alert = {
                "fingerprint": fp, "name": name, "severity": severity, "state": state,
                "labels": {str(k): redact_text(str(v)) for k, v in labels.items()},
                "value": value,
                "peak": max(peaks) if peaks else math.nan,
                "count": max(count, int(event.get("count") or 0)),
                "started_at": float(event.get("started_at") or (old["started_at"] if old else now)),
                "updated_at": float(event.get("updated_at") or now),
                "summary": redact_text(str(event.get("summary") or "")),
            }
            if state == "resolved":
                alert["resolved_at"] = alert["updated_at"]
            self._alerts[fp] = alert
            self.published += 1
            while len(self._alerts) > self.capacity:
                victim = next((k for k, a in self._alerts.items() if a["state"] == "resolved"), None)
                self._alerts.pop(victim if victim is not None else next(iter(self._alerts)))

    def active(self) -> list[dict[str, Any]]:
        """Pending and firing alerts, most severe first, then newest."""
        with self._lock:
            alerts = [dict(a) for a in self._alerts.values() if a["state"] != "resolved"]
        alerts.sort(key=lambda a: (-SEVERITIES.index(a["severity"]), -a["updated_at"]))
        return alerts

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` alerts in any state, newest first."""
        with self._lock:
            alerts = [dict(a) for a in self._alerts.values()]
        alerts.sort(key=lambda a: -a["updated_at"])
        return alerts[: max(int(limit), 0)]

    def clear(self) -> None:
        with self._lock:
            self._alerts.clear()

    def __len__(self) -> int:
        return len(self._alerts)


_STORE: AlertStore | None = None
_LOCK = threading.Lock()


def alert_store() -> AlertStore:
    """The process-wide alert store."""
    global _STORE
    if _STORE is None:
        with _LOCK:
            if _STORE is None:
                _STORE = AlertStore()
    return _STORE


__all__ = ["AlertStore", "SEVERITIES", "STATES", "alert_store"]
