"""``swfast demo`` on embedded defaults: every request answered once or dead-lettered, nothing lost."""
from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from swfast.demo.accounting import Ledger
from swfast.demo.model import ChaosSchedule, ModelError, PoisonRequest, SimulatedModel
from swfast.demo.pipeline import Components, Worker, merge_counts
from swfast.demo.runner import Demo, DemoConfig, format_summary
from swfast.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]


def _demo(tmp_path: Path, **kw: object) -> dict:
    cfg = DemoConfig(**{"duration": 1.5, "rate": 200.0, "workers": 3, "progress": False,
                        "workdir": str(tmp_path), **kw})  # type: ignore[arg-type]
    return asyncio.run(Demo(cfg).run())


def test_embedded_demo_settles_every_request(tmp_path):
    s = _demo(tmp_path)
    assert s["requests"] == 300
    assert s["lost"] == 0 and s["duplicates"] == 0 and s["unknown"] == 0
    assert s["settled"] == s["requests"] == s["answered"] + s["dead_letters"]
    assert s["mismatched"] == 0  # each kind of request got the answer its kind calls for
    out = s["outcomes"]
    # the seeded mix has poison, forbidden, tampered-token and invalid requests in 300
    assert out["dead_letter"] == s["dead_letters"] >= 1
    assert out["forbidden"] >= 1 and out["unauthenticated"] >= 1 and out["invalid_parameters"] >= 1
    assert out["cache"] > out["model"] > 0  # normalisation folds spellings onto few keys
    assert s["rejections"] == out["forbidden"] + out["unauthenticated"] + out["invalid_parameters"]
    assert s["cache"]["hits"]["l1"] > 0 and s["cache"]["hit_rate"]["l1"] > 0.5
    # the workers' own counters add up to what the ledger saw
    c = s["counts"]
    assert c["ok"] + s["rejections"] == s["answered"]
    assert c["cache_hits"] == out["cache"]
    assert sum(s["by_worker"].values()) == s["responses"]
    assert s["latency_ms"]["p50"] > 0
    table = format_summary(s)
    assert "lost 0" in table and "DLQ entries" in table and "p99" in table


def test_dead_letters_are_exactly_the_poison_requests(tmp_path):
    cfg = DemoConfig(duration=1.0, rate=200.0, workers=2, progress=False, workdir=str(tmp_path))
    demo = Demo(cfg)
    s = asyncio.run(demo.run())
    poison = {rid for rid, (_, _, _, kind) in demo.ledger.sent.items() if kind == "poison"}
    assert poison and set(demo.ledger.dead) == poison
    assert s["dead_letters"] == s["outcomes"]["dead_letter"] == len(poison)


def test_lost_request_fails_the_run(tmp_path, monkeypatch):
    """A handler that swallows a request without answering makes lost > 0 and the exit code 1."""
    real = Worker.handle
    swallowed: list[str] = []

    async def lossy(self, msg):  # type: ignore[no-untyped-def]
        if not swallowed and msg["payload"]["parameters"].get("seq") == 5:
            swallowed.append(msg["metadata"]["request_id"])
            return None
        return await real(self, msg)

    monkeypatch.setattr(Worker, "handle", lossy)
    from swfast.demo import cli

    parser = __import__("argparse").ArgumentParser()
    cli.add_demo_arguments(parser)
    # the swallowed request is waited for --drain-timeout, then counted lost
    args = parser.parse_args(["--duration", "0.5", "--rate", "40", "--no-progress", "--no-dashboard", "--json",
                              "--drain-timeout", "1"])
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli.run_from_args(args) == 1
    summary = json.loads(out.getvalue())
    assert summary["lost"] == 1 and len(swallowed) == 1


def test_ledger_counts_duplicates_and_lost():
    led = Ledger(clock=lambda: 10.0)
    for i, kind in enumerate(("ok", "ok", "ok", "poison")):
        led.record_sent(f"r{i}", i, "m", 9.0, kind)
    resp = lambda rid: {"metadata": {"request_id": rid},  # noqa: E731
                        "payload": {"status": "success", "additional_info": {"worker": "w0", "outcome": "model"}}}
    led.on_response(resp("r0"))
    led.on_response(resp("r0"))  # duplicate
    led.on_response(resp("r1"))
    led.on_dead_letter({"metadata": {"request_id": "r3"}})
    led.on_dead_letter({"metadata": {"request_id": "r1"}})  # answered and dead-lettered: a duplicate
    assert led.lost_ids() == ["r2"]
    assert led.duplicates() == 2 and led.settled == 3
    s = led.summary()
    assert s["lost"] == 1 and s["outcomes"] == {"dead_letter": 1, "model": 2}
    assert s["latency_ms"]["p50"] == pytest.approx(1000.0)


def test_chaos_schedule_phases_by_sequence():
    sch = ChaosSchedule(100)
    assert [sch.phase(i) for i in (0, 19, 20, 40, 60, 75, 99)] == [
        "warmup", "warmup", "model_slow", "burst_failures", "cache_fault", "recovery", "recovery"]
    assert ChaosSchedule(100, enabled=False).phase(50) == "steady"


def test_model_latency_failures_and_poison():
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)

    m = SimulatedModel("m", failure_rate=0.0, burst_failure_rate=1.0, sleep=fake_sleep)

    async def go() -> None:
        r = await m.infer("hello")
        assert r["label"] in ("positive", "negative") and r["model"] == "m"
        assert r == await m.infer("hello")  # deterministic in the text
        with pytest.raises(ModelError):
            await m.infer("hello", "burst_failures")
        with pytest.raises(PoisonRequest):
            await m.infer("\u2620 x")
        await m.infer("hello", "model_slow")

    asyncio.run(go())
    assert waits[-1] > 5 * sorted(waits[:3])[1]  # the slow phase multiplies the latency
    with pytest.raises(ConfigurationError):
        SimulatedModel("m", failure_rate=2.0)


def test_worker_rejections_answer_with_an_error_response(tmp_path):
    from swfast.messaging import create_data_request

    parts = Components(tmp_path)
    sent: list = []

    async def send(resp, topic=None):  # type: ignore[no-untyped-def]
        sent.append(resp)
        return True

    w = Worker("w", parts, send)

    def req(user: str, model: str = "sentiment-en", **params: object) -> dict:
        p = {"text": "Great value", "token": parts.token_for(user), "seq": 1, **params}
        return create_data_request(model, "analyze_data", parameters=p).to_dict()

    async def go() -> None:
        await w.handle(req("bob"))
        await w.handle(req("bob"))  # the second is a cache hit
        await w.handle(req("mallory"))
        await w.handle(req("bob", token="x" * 40))
        await w.handle(req("bob", extra=1))
        await w.handle(req("sara"))  # sara may not call the English model

    asyncio.run(go())
    info = [r.payload.additional_info["outcome"] for r in sent]
    assert info == ["model", "cache", "forbidden", "unauthenticated", "invalid_parameters", "forbidden"]
    assert sent[2].payload.status == "error" and sent[2].payload.error_code == "forbidden"
    assert sent[1].payload.cached is True
    assert w.counts.as_dict()["rejected"] == {"forbidden": 2, "unauthenticated": 1, "invalid_parameters": 1}
    parts.close()


def test_merge_counts_adds_nested():
    assert merge_counts([{"a": 1, "r": {"x": 1}}, {"a": 2, "r": {"x": 1, "y": 3}}]) == {"a": 3, "r": {"x": 2, "y": 3}}


def test_config_checks():
    with pytest.raises(ConfigurationError, match="processes"):
        DemoConfig(processes=2).check()
    with pytest.raises(ConfigurationError, match="rate"):
        DemoConfig(rate=0).check()


def test_cli_demo_json(tmp_path):
    out = subprocess.run([sys.executable, "-m", "swfast", "demo", "--duration", "1", "--rate", "60", "--json",
                          "--no-progress", "--no-dashboard"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert s["lost"] == 0 and s["requests"] == 60 and s["transport"] == "embedded"


def test_rich_progress_panel_shows_live_state(tmp_path):
    pytest.importorskip("rich")
    from rich.console import Console

    cfg = DemoConfig(duration=0.5, rate=40.0, workers=1, progress=True, workdir=str(tmp_path))
    plain = io.StringIO()  # not a TTY: plain progress lines, the last one at the end of the run
    demo = Demo(cfg, out=plain)
    asyncio.run(demo.run())
    last = plain.getvalue().splitlines()[-1]
    assert "\r" not in plain.getvalue() and last.startswith("[") and "sent     20 answered" in last
    buf = io.StringIO()
    Console(file=buf, width=100).print(demo.rich_panel())
    text = buf.getvalue()
    assert "swfast demo - phase steady" in text and "sent / answered / DLQ" in text and "20 / " in text
