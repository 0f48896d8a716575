"""The shared alert store (fed by resources' alert generator and any caller)."""
from __future__ import annotations

import pytest

import swfast.monitoring as mon
from swfast.errors import ValidationError
from swfast.monitoring.alerts import AlertStore


def _ev(fp: str = "cpu|host=a", **kw: object) -> dict[str, object]:
    base: dict[str, object] = {"fingerprint": fp, "name": "HighCPU", "severity": "warning", "state": "firing",
                               "labels": {"host": "a"}, "value": 0.9, "started_at": 100.0, "updated_at": 100.0,
                               "summary": "cpu high"}
    base.update(kw)
    return base


def test_shared_instance() -> None:
    assert mon.alert_store() is mon.alert_store()


def test_grouping_by_fingerprint_peak_count_and_states() -> None:
    st = AlertStore()
    st.publish(_ev(state="pending", value=0.85, updated_at=100.0))
    st.publish(_ev(value=0.97, updated_at=110.0))
    st.publish(_ev(value=0.91, updated_at=120.0))
    st.publish(_ev("mem|host=a", name="HighMem", severity="critical", value=0.99, updated_at=115.0))
    active = st.active()
    assert [a["name"] for a in active] == ["HighMem", "HighCPU"]  # critical first
    cpu = active[1]
    assert cpu["count"] == 3 and cpu["peak"] == 0.97 and cpu["value"] == 0.91 and cpu["started_at"] == 100.0
    st.publish(_ev(state="resolved", value=0.5, updated_at=130.0))
    assert [a["name"] for a in st.active()] == ["HighMem"]
    recent = st.recent()
    assert recent[0]["state"] == "resolved" and recent[0]["resolved_at"] == 130.0 and recent[0]["peak"] == 0.97


@pytest.mark.parametrize("bad,field", [
    ({"name": "x"}, "fingerprint"),
    (_ev(severity="fatal"), "severity"),
    (_ev(state="open"), "state"),
    (_ev(value="high"), "value"),
    (_ev(labels=["a"]), "labels"),
])
def test_malformed_events_name_the_field(bad: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        AlertStore().publish(bad)


def test_bounded_capacity_drops_resolved_first() -> None:
    st = AlertStore(capacity=3)
    st.publish(_ev("a", state="resolved"))
    st.publish(_ev("b"))
    st.publish(_ev("c"))
    st.publish(_ev("d"))
    assert {a["fingerprint"] for a in st.recent()} == {"b", "c", "d"}
