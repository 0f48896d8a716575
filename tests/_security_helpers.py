"""Helpers for the security tests: a fake clock, token forging, vector file locations."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

NOW = 1_700_000_000.0


class FakeClock:
    """A callable wall clock that only moves when told."""

    def __init__(self, t: float = NOW) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs256(secret: bytes, header: Any, payload: Any, *, raw_header: "bytes | None" = None,
                raw_payload: "bytes | None" = None) -> str:
    """A compact JWS signed HS256 with ``secret`` over arbitrary header/payload JSON."""
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    p = raw_payload if raw_payload is not None else json.dumps(payload).encode()
    signing_input = f"{b64(h)}.{b64(p)}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"


def vectors_dir(package: str) -> Path:
    import importlib

    mod = importlib.import_module(package)
    return Path(next(iter(mod.__path__)))


def nist_records(path: Path) -> list[dict[str, str]]:
    """Parse a pyca ``KEY = value`` vector file into one dict per ``COUNT`` block."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        key, value = key.strip().upper(), value.strip()
        if key == "COUNT" and current:
            records.append(current)
            current = {}
        current[key] = value
    if current:
        records.append(current)
    return records
