"""The demo's ledger: every request published must end in exactly one response or one dead letter.

The ledger reads the model response topics and the requests' dead-letter topic in its own
consumer group, so it sees what a caller would see. A second response (or a response and a dead
letter) for one request id is a duplicate: counted and reported, never hidden.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np


class Ledger:
    """Requests sent, responses and dead letters seen, and the accounting they add up to."""

    def __init__(self, clock: Any = time.time) -> None:
        self.clock = clock
        self.sent: dict[str, tuple[int, str, float, str]] = {}  # rid -> (seq, model, sent_at, kind)
        self.answers: dict[str, int] = {}
        self.dead: dict[str, int] = {}
        self.outcomes: dict[str, int] = {}
        self.by_worker: dict[str, int] = {}
        self.by_phase: dict[str, dict[str, int]] = {}
        self.latencies: list[float] = []
        self.unknown = 0
        self.mismatched = 0  # a request of kind k answered with an unexpected outcome

    def record_sent(self, rid: str, seq: int, model: str, sent_at: float, kind: str) -> None:
        self.sent[rid] = (seq, model, sent_at, kind)

    def _first(self, rid: str) -> tuple[int, str, float, str] | None:
        info = self.sent.get(rid)
        if info is None:
            self.unknown += 1
        return info

    def on_response(self, msg: Any) -> None:
        rid = msg["metadata"]["request_id"]
        n = self.answers.get(rid, 0) + 1
        self.answers[rid] = n
        info = self._first(rid)
        payload = msg["payload"]
        extra = payload.get("additional_info") or {}
        worker = str(extra.get("worker", "?"))
        self.by_worker[worker] = self.by_worker.get(worker, 0) + 1
        if n > 1 or rid in self.dead or info is None:
            return
        outcome = str(extra.get("outcome") or payload.get("status"))
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        phase = str(extra.get("phase", "rejected (before the model)"))
        ph = self.by_phase.setdefault(phase, {})
        ph[outcome] = ph.get(outcome, 0) + 1
        self.latencies.append(self.clock() - info[2])
        expected = {"ok": ("cache", "model", "fallback", "rate_limited"), "forbidden": ("forbidden",),
                    "bad_token": ("unauthenticated",), "invalid": ("invalid_parameters",)}.get(info[3])
        if expected is not None and outcome not in expected:
            self.mismatched += 1

    def on_dead_letter(self, msg: Any) -> None:
        rid = msg["metadata"]["request_id"] if type(msg) is dict else None
        if not isinstance(rid, str):
            self.unknown += 1
            return
        self.dead[rid] = self.dead.get(rid, 0) + 1
        if self.dead[rid] == 1 and rid not in self.answers and self._first(rid) is not None:
            self.outcomes["dead_letter"] = self.outcomes.get("dead_letter", 0) + 1

    @property
    def settled(self) -> int:
        return sum(1 for rid in self.sent if rid in self.answers or rid in self.dead)

    def lost_ids(self) -> list[str]:
        return [rid for rid in self.sent if rid not in self.answers and rid not in self.dead]

    def duplicates(self) -> int:
        extra = sum(n - 1 for n in self.answers.values()) + sum(n - 1 for n in self.dead.values())
        return extra + sum(1 for rid in self.dead if rid in self.answers)

    def latency_ms(self) -> dict[str, float]:
        if not self.latencies:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        a = np.asarray(self.latencies) * 1e3
        p50, p95, p99 = np.percentile(a, [50, 95, 99])
        return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(a.max())}

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.sent), "responses": sum(self.answers.values()),
            "answered": len(self.answers), "dead_letters": len(self.dead), "settled": self.settled,
            "lost": len(self.lost_ids()), "lost_ids": self.lost_ids()[:20], "duplicates": self.duplicates(), "unknown": self.unknown,
            "mismatched": self.mismatched, "outcomes": dict(sorted(self.outcomes.items())),
            "by_worker": dict(sorted(self.by_worker.items())),
            "by_phase": {k: dict(sorted(v.items())) for k, v in self.by_phase.items()},
            "latency_ms": self.latency_ms(),
        }


__all__ = ["Ledger"]
