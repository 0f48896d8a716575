"""Shared helpers for the messaging tests: sample messages and a seeded fuzz generator."""
from __future__ import annotations

import copy
import random
from typing import Any, Iterator

VALID_REQUEST: dict[str, Any] = {
    "metadata": {
        "request_id": "0b6a7f0e-8d43-4c1e-9a51-2f1c4e5d6a7b",
        "timestamp": "2026-11-24T12:00:00.123456+00:00",
        "source": "model-7",
        "destination": "data",
        "priority": 2,
        "request_source": "model",
        "correlation_id": None,
        "trace_id": "trace-1",
        "session_id": None,
        "retry_count": 0,
        "ttl": 60,
        "expires_at": "2026-11-24T12:01:00.123456+00:00",
    },
    "payload": {
        "operation": "fetch_data",
        "model_id": "model-7",
        "data_type": "text",
        "data_source": "wiki",
        "parameters": {"query": "whales", "lang": "fa", "limit": 20},
        "response_topic": "smartwhale.data.responses.model-7",
        "batch_id": None,
        "timeout": 30,
        "max_size": 1000000,
        "require_fresh": False,
        "tags": ["nlp", "daily"],
        "context": {"user": "u-1"},
    },
}

VALID_RESPONSE: dict[str, Any] = {
    "metadata": dict(VALID_REQUEST["metadata"], request_source="system"),
    "payload": {
        "operation": "fetch_data",
        "status": "success",
        "data_type": "text",
        "data_source": None,
        "data": {"items": [1, 2, 3]},
        "error_message": None,
        "error_code": None,
        "metrics": {"latency_ms": 3.5},
        "batch_id": None,
        "next_cursor": "c2",
        "total_items": 3,
        "page_info": None,
        "metadata": {},
        "source_url": "https://example.invalid/x",
        "last_updated": None,
        "processing_time": 0.01,
        "cached": True,
        "additional_info": {},
    },
}

WEIRD: list[Any] = [
    None, True, False, 0, -1, 1, 5, 6, 2**70, -(2**70), 1.5, -0.5, float("nan"), float("inf"),
    "", "x", "fetch_data", "FETCH_DATA", "0b6a7f0e-8d43-4c1e-9a51-2f1c4e5d6a7", "\ud800", "ß" * 36,
    "2026-11-24T12:00:00", "2026-11-24T12:00:00Z", "2026-02-30T00:00:00Z", "2026-11-24T25:00:00Z",
    "2026-11-24T12:00:00+0330", "2026-11-24T12:00:00.Z", "1999-01-01T00:00:00-23:59", "٢٠٢٦-11-24T12:00:00Z",
    [], ["a", 1], {}, {"a": 1}, b"bytes", (1, 2),
]


def mutations(seed: int, count: int) -> Iterator[Any]:
    """``count`` mutated messages (field replaced, removed or added), deterministic per seed."""
    rng = random.Random(seed)
    bases = (VALID_REQUEST, VALID_RESPONSE)
    for i in range(count):
        msg = copy.deepcopy(bases[i % 2])
        for _ in range(rng.randint(1, 3)):
            part = rng.choice(("metadata", "payload", None))
            if part is None:
                target: Any = msg
            else:
                target = msg.get(part)
                if not isinstance(target, dict):
                    msg[part] = rng.choice(WEIRD)
                    continue
            key = rng.choice(list(target) or ["k"]) if target else "k"
            r = rng.random()
            if r < 0.6:
                target[key] = rng.choice(WEIRD)
            elif r < 0.8:
                target.pop(key, None)
            else:
                target[rng.choice(["extra", "x-y", "metadata2"])] = rng.choice(WEIRD)
        yield msg


def random_values(seed: int, count: int) -> Iterator[Any]:
    """Arbitrary JSON-ish values and byte strings."""
    rng = random.Random(seed)

    def value(depth: int) -> Any:
        r = rng.random()
        if depth > 2 or r < 0.5:
            return rng.choice(WEIRD)
        if r < 0.75:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(["metadata", "payload", "a", ""]): value(depth + 1) for _ in range(rng.randint(0, 3))}

    for i in range(count):
        if i % 3 == 0:
            yield bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
        else:
            yield value(0)
