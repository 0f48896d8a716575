"""``swfast demo``: the model-serving pipeline end to end, with accounting and a summary.

Producers publish ``DataRequest`` messages; workers (one consumer group) serve them through
:mod:`swfast.demo.pipeline`; the ledger reads every response and dead letter. With ``processes
> 1`` the workers run in child processes (:mod:`swfast.demo.worker`) over Kafka.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ..errors import ConfigurationError
from .accounting import Ledger
from .corpus import RequestMix
from .model import PHASES, ChaosSchedule
from .pipeline import MODELS, Components, Names, Worker, merge_counts


@dataclass
class DemoConfig:
    """What ``swfast demo`` runs; every field has a command-line option of the same name."""

    duration: float = 10.0
    rate: float = 200.0
    workers: int = 4
    processes: int = 1
    redis: str | None = None
    kafka: str | None = None
    chaos: bool = False
    seed: int = 7
    drain_timeout: float = 20.0
    progress: bool = True
    workdir: str | None = None
    partitions: int = 8
    consumer_overrides: dict[str, Any] = field(default_factory=dict)
    kill_after: float | None = None  # scale-out drill: SIGKILL one worker process after this many seconds
    pause_pids: list[int] = field(default_factory=list)  # chaos: SIGSTOP/SIGCONT these (a Redis node, the broker)
    dashboard: bool = False  # serve the live page on 127.0.0.1 (the CLI turns it on)
    dashboard_port: int = 0
    dashboard_html: str | None = None  # write the final page here

    def check(self) -> None:
        if not self.duration > 0:
            raise ConfigurationError("duration", "must be > 0 seconds")
        if not self.rate > 0:
            raise ConfigurationError("rate", "must be > 0 requests per second")
        if self.workers < 1:
            raise ConfigurationError("workers", "must be >= 1")
        if self.processes < 1:
            raise ConfigurationError("processes", "must be >= 1")
        if self.processes > 1 and not self.kafka:
            raise ConfigurationError("processes", "more than one process needs a broker: pass --kafka BOOTSTRAP "
                                     "(the embedded transport lives inside one process)")

    @property
    def total(self) -> int:
        return max(1, int(self.rate * self.duration))


def _is_cluster(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url.split(",")[0], socket_timeout=2.0)
    try:
        info = client.info("cluster")
        return bool(info.get("cluster_enabled"))
    finally:
        client.close()


def _redis_nodes(url: str, cluster: bool) -> list[Any]:
    import redis

    if not cluster:
        return [redis.Redis.from_url(u.strip(), socket_timeout=1.0) for u in url.split(",") if u.strip()]
    rc = redis.RedisCluster.from_url(url, socket_timeout=1.0)
    try:
        return [redis.Redis(host=n.host, port=n.port, socket_timeout=1.0) for n in rc.get_nodes()]  # type: ignore[no-untyped-call]
    finally:
        rc.close()


def drop_redis_connections(url: str, cluster: bool, pause_ms: int = 0) -> int:
    """The chaos 'dropped Redis': kill every client connection on the L2 node(s), then (when
    ``pause_ms``) stall the nodes for that long with ``CLIENT PAUSE`` so reads time out."""
    killed = 0
    for r in _redis_nodes(url, cluster):
        try:
            killed += int(r.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
            if pause_ms:
                r.execute_command("CLIENT", "PAUSE", str(pause_ms), "ALL")
        finally:
            r.close()
    return killed


class _Quiet:
    """Send swfast's log records to a file in the work directory for the run (not the terminal)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.logger = logging.getLogger("swfast")
        self.handler: logging.Handler | None = None

    def __enter__(self) -> "_Quiet":
        self.saved = (self.logger.propagate, self.logger.level, list(self.logger.handlers))
        self.handler = _log_handler(self.path)
        self.logger.handlers = [self.handler]
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.handler is not None
        self.handler.close()
        self.logger.propagate, level, self.logger.handlers = self.saved
        self.logger.setLevel(level)


def _log_formatter() -> logging.Formatter:
    """One JSON object per line, URLs in messages redacted (the fallback when swfast.logging is absent)."""
    from .._redact import redact_text

    class _Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return json.dumps({"ts": record.created, "level": record.levelname, "logger": record.name,
                               "message": redact_text(record.getMessage())}, ensure_ascii=False)

    return _Redacting()


def _log_handler(path: str) -> logging.Handler:
    """JSON lines with sensitive data redacted: swfast.logging's formatter and filter when
    present, else the plain redacting formatter above."""
    handler = logging.FileHandler(path, encoding="utf-8")
    try:
        from ..logging.formatters import JSONLogFormatter
        from ..logging.redaction import SensitiveDataFilter
    except ImportError:
        handler.setFormatter(_log_formatter())
        return handler
    handler.setFormatter(JSONLogFormatter(static_fields={"service": "swfast-demo"}))
    handler.addFilter(SensitiveDataFilter())
    return handler


class _Resources:
    """The resource monitor (swfast.resource_management) sampling this process during the run."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.monitor: Any = None
        self.peak: dict[str, float] = {}
        self.latest: dict[str, float] = {}
        self.samples = 0
        try:
            from ..resource_management.monitor import ResourceMonitor
        except ImportError:
            return
        self.monitor = ResourceMonitor(interval_s=interval_s)
        self.monitor.add_listener(self._seen)

    def _seen(self, usage: Any) -> None:
        self.samples += 1
        self.latest = usage.as_dict()
        for k, v in self.latest.items():
            if v == v and v > self.peak.get(k, float("-inf")):
                self.peak[k] = v

    def start(self) -> None:
        if self.monitor is not None:
            self.monitor.start()

    def stop(self) -> dict[str, Any]:
        if self.monitor is None:
            return {"available": False}
        self.monitor.stop()
        try:
            anomalies = len(self.monitor.detect_anomalies())
        except Exception:  # a monitor without enough history has nothing to say
            anomalies = 0
        return {"available": True, "samples": self.samples, "peak": dict(self.peak), "anomalies": anomalies}


class Demo:
    """One run. ``await run()`` returns the summary dict (``summary["lost"] == 0`` on success)."""

    def __init__(self, config: DemoConfig, *, out: Any = None, on_phase: Callable[[str], object] | None = None) -> None:
        config.check()
        self.cfg = config
        self.out = out if out is not None else sys.stderr
        self.on_phase = on_phase
        self.ledger = Ledger()
        import uuid

        self.names = Names(uuid.uuid4().hex[:10] if config.kafka else "")
        self.schedule = ChaosSchedule(config.total, enabled=config.chaos)
        self.produced = 0
        self.phase = "steady" if not config.chaos else PHASES[0][0]
        self.phase_log: list[tuple[float, str]] = []
        self.remote_stats: dict[str, dict[str, Any]] = {}
        self.started = 0.0
        self.produce_started = 0.0
        self.procs: list[Any] = []
        self.killed: list[int] = []
        self.chaos_drops = 0
        self.redis_paused_ms = 0
        self.paused_pids: list[int] = []
        self._services: list[Any] = []
        self.url: str | None = None
        self.history: list[dict[str, float]] = []
        self.finished = False
        self._parts: Components | None = None
        self._resources: _Resources | None = None

    # ---------------------------------------------------------------- set-up
    async def _service(self, broker: Any, **kw: Any) -> Any:
        from ..messaging.kafka_service import KafkaService

        svc = KafkaService(self.cfg.kafka or "", embedded=broker, consumer_overrides=self.cfg.consumer_overrides, **kw)
        await svc.connect()
        self._services.append(svc)
        return svc

    async def _topics(self, svc: Any) -> None:
        n = self.names
        await svc.create_topic(n.requests, self.cfg.partitions, 1)
        await svc.create_topic(n.dlq, 1, 1)
        await svc.create_topic(n.stats, 1, 1)
        for model in MODELS:
            await svc.create_topic(n.responses(model), 3, 1)

    async def _ledger(self, broker: Any) -> None:
        from ..messaging._runner import ConsumerConfig

        n = self.names
        svc = await self._service(broker, consumer_config=ConsumerConfig(poll_timeout=0.05, max_retries=0))
        # one group per topic: a rebalance on one topic never pauses the others
        for model in MODELS:
            await svc.subscribe(n.responses(model), f"{n.ledger}-{model}", self.ledger.on_response)
        await svc.subscribe(n.dlq, f"{n.ledger}-dlq", self.ledger.on_dead_letter)
        await svc.subscribe(n.stats, f"{n.ledger}-stats", self._on_stats)

    def _on_stats(self, msg: Any) -> None:
        if type(msg) is dict and "process" in msg:
            self.remote_stats[str(msg["process"])] = msg

    # ---------------------------------------------------------------- producing
    async def _produce(self, svc: Any, parts: Components) -> None:
        from ..messaging.message_schemas import create_data_request

        cfg = self.cfg
        mix = RequestMix(cfg.seed)
        tokens = {u: parts.token_for(u) for u in ("alice", "bob", "sara", "mallory")}
        total = cfg.total
        t0 = time.monotonic()
        self.produce_started = time.time()
        batch_every = 0.01
        seq = 0
        window = asyncio.Semaphore(1000)
        pending: set[asyncio.Future[bool]] = set()
        sends: list[asyncio.Future[bool]] = []
        while seq < total:
            due = min(total, int((time.monotonic() - t0) * cfg.rate) + 1)
            reqs = []
            while seq < due:
                d = mix.draw()
                token = tokens[d["user"]]
                if d["kind"] == "bad_token":
                    token = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
                params: dict[str, Any] = {"text": d["text"], "token": token, "seq": seq, "sent_at": time.time()}
                if d["kind"] == "invalid":
                    params["text"] = ""
                req = create_data_request(d["model"], "analyze_data", parameters=params, priority=d["priority"],
                                          source="demo-producer", response_topic=self.names.responses(d["model"]))
                self.ledger.record_sent(req.metadata.request_id, seq, d["model"], params["sent_at"], d["kind"])
                reqs.append(req)
                seq += 1
            for req in reqs:  # sent concurrently: the rate holds while acknowledgements are in flight
                await window.acquire()
                task = asyncio.ensure_future(svc.send_data_request(req, self.names.requests))
                task.add_done_callback(lambda t: window.release())
                pending.add(task)
                task.add_done_callback(pending.discard)
                sends.append(task)
            self.produced = seq
            self._track_phase()
            await asyncio.sleep(batch_every)
        if not all(await asyncio.gather(*sends)):
            raise ConnectionError("demo producer: a request was not delivered")

    def _track_phase(self) -> None:
        phase = self.schedule.phase(max(0, self.produced - 1)) if self.cfg.chaos else "steady"
        if phase != self.phase or not self.phase_log:
            self.phase = phase
            self.phase_log.append((time.time() - self.started, phase))
            logging.getLogger("swfast.demo").warning("chaos phase: %s (from request %d)", phase, self.produced)
            if self.on_phase is not None:
                self.on_phase(phase)

    async def _chaos_pause(self) -> None:
        """When the cache_fault phase starts: SIGSTOP the given server pids, SIGCONT them after
        60 % of the phase (always, even if the run is cancelled meanwhile)."""
        import signal

        while self.phase != "cache_fault":
            await asyncio.sleep(0.02)
        stopped = []
        try:
            for pid in self.cfg.pause_pids:
                try:
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
                except ProcessLookupError:
                    logging.getLogger("swfast.demo").warning("chaos: no process %d to pause", pid)
            logging.getLogger("swfast.demo").warning("chaos: paused pids %s", stopped)
            await asyncio.sleep(self.cfg.duration * 0.15 * 0.6)
        finally:
            for pid in stopped:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            self.paused_pids = stopped

    async def _chaos_redis(self) -> None:
        """When the cache_fault phase starts: drop L2's connections and stall its nodes."""
        assert self.cfg.redis
        cluster = _is_cluster(self.cfg.redis)
        while self.phase != "cache_fault":
            await asyncio.sleep(0.02)
        pause_ms = int(self.cfg.duration * 0.15 * 0.6 * 1000)
        try:
            self.chaos_drops += await asyncio.to_thread(drop_redis_connections, self.cfg.redis, cluster, pause_ms)
            self.redis_paused_ms = pause_ms
        except Exception as exc:  # the drill must not stop the run
            logging.getLogger("swfast.demo").warning("chaos: dropping redis connections failed: %s", exc)

    # ---------------------------------------------------------------- live state
    def state(self) -> dict[str, Any]:
        """What the dashboard shows, now."""
        led = self.ledger
        settled = led.settled
        parts = self._parts if not self.procs else None
        st: dict[str, Any] = {
            "phase": self.phase, "phases": [{"at_s": round(t, 3), "phase": p} for t, p in self.phase_log],
            "history": list(self.history), "latency_ms": led.latency_ms(), "outcomes": dict(sorted(led.outcomes.items())),
            "accounting": {"sent": len(led.sent), "answered": len(led.answers), "dead_letters": len(led.dead),
                           "duplicates": led.duplicates(), "pending": len(led.sent) - settled,
                           "lost": (len(led.sent) - settled) if self.finished else 0},
            "resources": dict(self._resources.latest) if self._resources is not None else {},
            "finished": self.finished,
        }
        if parts is not None:
            st["breakers"] = {m: b.state.name for m, b in parts.breakers.items()}
            st["level"] = parts.degradation.level.name
            st["cache"] = parts.cache_stats()
            st["fallbacks"] = sum(w.counts.fallbacks for w in getattr(self, "_workers", []))
            st["retries"] = parts.retries
            st["trips"] = sum(1 for *_, to in parts.transitions if to == "OPEN")
            obs = getattr(self, "observe", None)
            if obs is not None and obs.available:
                st["health"] = obs.statuses[-1][1] if obs.statuses else "-"
                st["alerts"] = [a["summary"] for a in obs.active_alerts()]
        elif self.remote_stats:  # scale-out: the processes' snapshots merged into one view
            counts, cache, breaker, retries, levels = self._merged(list(self.remote_stats.values()))
            st["cache"], st["retries"], st["trips"] = cache, retries, breaker.get("trips", 0)
            st["fallbacks"] = counts.get("fallbacks", 0)
            st["level"] = "/".join(levels) or "-"
            st["breakers"] = {f"process {name}": ("KILLED" if x.get("pid") in self.killed else
                                                  "STOPPED" if x.get("final") else "SERVING")
                              for name, x in sorted(self.remote_stats.items())}
        return st

    async def _sample(self, every: float = 0.5) -> None:
        last_t, last_n, last_i = time.time(), 0, 0
        while True:
            await asyncio.sleep(every)
            now = time.time()
            n = len(self.ledger.answers) + len(self.ledger.dead)
            lat = self.ledger.latencies[last_i:]
            last_i += len(lat)
            p99 = float(sorted(lat)[int(0.99 * (len(lat) - 1))] * 1e3) if lat else 0.0
            self.history.append({"t": round(now - self.started, 2), "rate": (n - last_n) / max(now - last_t, 1e-6),
                                 "p99_ms": p99})
            obs = getattr(self, "observe", None)
            if obs is not None and obs.available and not self.procs:
                await asyncio.to_thread(obs.sample)
            last_t, last_n = now, n

    # ---------------------------------------------------------------- progress
    def _line(self, parts: Components | None) -> str:
        s = self.ledger
        el = time.time() - self.started
        lat = s.latency_ms()
        state = "-"
        level = "-"
        if parts is not None:
            states = {b.state.name for b in parts.breakers.values()}
            state = "/".join(sorted(states))
            level = parts.degradation.level.name
        return (f"[{el:5.1f}s] sent {self.produced:>6} answered {len(s.answers):>6} dlq {len(s.dead):>3} "
                f"p50 {lat['p50']:6.1f} ms p99 {lat['p99']:7.1f} ms phase {self.phase:<14} breaker {state:<9} "
                f"level {level}")

    def rich_panel(self) -> Any:
        """The progress display as a ``rich`` table (used on a TTY when rich is installed)."""
        from rich.table import Table

        st = self.state()
        acc, lat = st["accounting"], st["latency_ms"]
        t = Table(title=f"swfast demo - phase {st['phase']}", show_header=False, expand=False)
        t.add_column(style="bold")
        t.add_column()
        t.add_row("sent / answered / DLQ", f"{acc['sent']:,} / {acc['answered']:,} / {acc['dead_letters']:,}")
        t.add_row("pending / duplicates", f"{acc['pending']:,} / {acc['duplicates']:,}")
        t.add_row("latency", f"p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms")
        t.add_row("breakers", " ".join(f"{k}:{v}" for k, v in st.get("breakers", {}).items()) or "-")
        t.add_row("degradation", str(st.get("level", "-")))
        if self.url:
            t.add_row("dashboard", self.url)
        return t

    async def _progress(self, parts: Components | None) -> None:
        tty = getattr(self.out, "isatty", lambda: False)()
        if tty:
            try:
                from rich.console import Console
                from rich.live import Live
            except ImportError:
                pass
            else:
                with Live(self.rich_panel(), console=Console(file=self.out), refresh_per_second=4,
                          transient=True) as live:
                    while True:
                        await asyncio.sleep(0.25)
                        live.update(self.rich_panel())
        every = 0.5 if tty else 2.0
        while True:
            await asyncio.sleep(every)
            line = self._line(parts)
            self.out.write(("\r" + line) if tty else line + "\n")
            self.out.flush()

    # ---------------------------------------------------------------- the run
    async def run(self) -> dict[str, Any]:
        cfg = self.cfg
        workdir = cfg.workdir or tempfile.mkdtemp(prefix="swfast-demo-")
        own_dir = cfg.workdir is None
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        try:
            with _Quiet(os.path.join(workdir, "demo.log.jsonl")):
                return await self._run(workdir)
        finally:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)

    async def _run(self, workdir: str) -> dict[str, Any]:
        from ..messaging._runner import ConsumerConfig
        from ..messaging._embedded import EmbeddedBroker

        cfg = self.cfg
        log = logging.getLogger("swfast.demo")
        log.info("demo starting: %d requests at %.0f/s, %d process(es) x %d workers, kafka=%s redis=%s chaos=%s",
                 cfg.total, cfg.rate, cfg.processes, cfg.workers, cfg.kafka or "embedded", cfg.redis or "-", cfg.chaos)
        broker = None if cfg.kafka else EmbeddedBroker()
        cluster = bool(cfg.redis) and _is_cluster(cfg.redis or "")
        parts = Components(os.path.join(workdir, "parent"), redis_url=cfg.redis, cluster=cluster, seed=cfg.seed,
                           chaos=self.schedule, model_rate=max(2000.0, cfg.rate * 4))
        self.started = time.time()
        resources = self._resources = _Resources()
        resources.start()
        self._parts = parts
        from .observe import Observability

        self.observe = Observability(parts)
        tasks: list[asyncio.Task[Any]] = [asyncio.ensure_future(self._sample())]
        workers: list[Worker] = []
        self._workers = workers
        dash = None
        if cfg.dashboard:
            from .dashboard import Dashboard

            dash = Dashboard(self.state, port=cfg.dashboard_port)
            self.url = dash.start()
            self.out.write(f"dashboard: {self.url}\n")
            self.out.flush()
        try:
            admin = await self._service(broker)
            await self._topics(admin)
            await self._ledger(broker)
            wcfg = ConsumerConfig(max_retries=2, retry_delays=[0.005], batch_size=64, poll_timeout=0.05)
            if cfg.processes == 1:
                for i in range(cfg.workers):
                    svc = await self._service(broker, consumer_config=wcfg)
                    w = Worker(f"w{i}", parts, svc.send_data_response)
                    workers.append(w)
                    await svc.subscribe(self.names.requests, self.names.workers, w.handle)
            else:
                from .worker import spawn_workers

                self.procs = await spawn_workers(self, parts.secret, workdir)
            if cfg.progress:
                tasks.append(asyncio.ensure_future(self._progress(parts if cfg.processes == 1 else None)))
            if cfg.chaos and cfg.redis:
                tasks.append(asyncio.ensure_future(self._chaos_redis()))
            if cfg.chaos and cfg.pause_pids:
                tasks.append(asyncio.ensure_future(self._chaos_pause()))
            if cfg.kill_after is not None and self.procs:
                from .worker import kill_one_later

                tasks.append(asyncio.ensure_future(kill_one_later(self, cfg.kill_after)))
            producer = await self._service(broker)
            await self._produce(producer, parts)
            produced_at = time.time()
            deadline = time.monotonic() + cfg.drain_timeout
            while self.ledger.settled < len(self.ledger.sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            drained_at = time.time()
            if self.procs:
                from .worker import stop_workers

                await stop_workers(self)
            await asyncio.sleep(0.2)  # late duplicates still in flight are counted too
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for svc in reversed(self._services):
                await svc.disconnect()
            if cfg.progress:
                self.out.write(("\r" if getattr(self.out, "isatty", lambda: False)() else "")
                               + self._line(None if self.procs else parts) + "\n")
            parts.close()
            self.resources = resources.stop()
            self.finished = True
            if dash is not None:
                if cfg.dashboard_html:
                    os.makedirs(os.path.dirname(os.path.abspath(cfg.dashboard_html)), exist_ok=True)
                    dash.write(cfg.dashboard_html)
                dash.stop()
        return self._summary(parts, workers, produced_at - self.produce_started, drained_at - self.started)

    def _summary(self, parts: Components, workers: list[Worker], produce_s: float, total_s: float) -> dict[str, Any]:
        s = self.ledger.summary()
        if workers:
            counts = merge_counts([w.counts.as_dict() for w in workers])
            cache = parts.cache_stats()
            breaker = _breaker_summary(parts)
            retries = parts.retries
            levels = [lv for _, lv in parts.levels]
        else:
            snaps = list(self.remote_stats.values())
            counts, cache, breaker, retries, levels = self._merged(snaps)
            s["metrics_check"] = self._metrics_check()
            if self.cfg.redis:
                s["scheduler"] = self._schedule_check(snaps)
        s.update({
            "duration_s": round(total_s, 3), "produce_s": round(produce_s, 3),
            "requests_per_s": round(s["requests"] / produce_s, 1) if produce_s > 0 else 0.0,
            "workers": self.cfg.workers, "processes": self.cfg.processes,
            "transport": "kafka" if self.cfg.kafka else "embedded",
            "l2": "redis" if self.cfg.redis else None, "chaos": self.cfg.chaos,
            "counts": counts, "cache": cache, "breaker": breaker, "retries": retries,
            "rejections": sum(counts.get("rejected", {}).values()), "fallbacks": counts.get("fallbacks", 0),
            "degradation_levels": levels, "phases": [{"at_s": round(t, 3), "phase": p} for t, p in self.phase_log],
            "resources": getattr(self, "resources", {"available": False}),
            "observability": self.observe.summary(self.started) if getattr(self, "observe", None) else {"available": False},
            "dashboard": {"url": self.url, "html": self.cfg.dashboard_html if self.cfg.dashboard else None},
            "redis_connections_dropped": self.chaos_drops, "redis_paused_ms": self.redis_paused_ms,
            "paused_pids": list(self.paused_pids), "killed_pids": list(self.killed),
            "processes_reported": sorted(self.remote_stats),
            "config": {k: v for k, v in asdict(self.cfg).items() if k not in ("consumer_overrides",)},
        })
        if s["config"].get("redis"):
            from .._redact import redact_url

            s["config"]["redis"] = ",".join(redact_url(u) for u in str(s["config"]["redis"]).split(","))
        return s


    @staticmethod
    def _merged(snaps: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int, list[str]]:
        """The worker processes' latest snapshots added up: counts, cache, breaker, retries, levels."""
        counts = merge_counts([x["counts"] for x in snaps])
        cache = merge_counts([{"hits": x["cache"]["hits"], "misses": x["cache"]["misses"],
                               "errors": x["cache"]["errors"]} for x in snaps])
        h, m = cache.get("hits", {}), cache.get("misses", {})
        cache["hit_rate"] = {t: (h.get(t, 0) / (h.get(t, 0) + m.get(t, 0)) if h.get(t, 0) + m.get(t, 0) else 0.0)
                             for t in ("l1", "l2", "l3")}
        breaker = merge_counts([x["breaker"] for x in snaps])
        retries = sum(int(x["retries"]) for x in snaps)
        levels = sorted({lv for x in snaps for lv in x["levels"]})
        return counts, cache, breaker, retries, levels

    def _schedule_check(self, snaps: list[dict[str, Any]]) -> dict[str, Any]:
        """The 1 s job every worker process schedules: did each due second run exactly once?"""
        from .worker import redis_client, schedule_key

        assert self.cfg.redis
        client = redis_client(self.cfg.redis, _is_cluster(self.cfg.redis))
        try:
            raw = client.hgetall(schedule_key(self.names))
        finally:
            client.close()
        counts = [int(v) for v in raw.values()]
        return {"due_times": len(counts), "ran_twice": sum(1 for c in counts if c > 1),
                "invalidations_received": sum(int(x.get("invalidations_received", 0)) for x in snaps),
                "runs_reported": sum(int(x.get("scheduled_runs", 0)) for x in snaps if x.get("final"))}

    def _metrics_check(self) -> dict[str, Any]:
        """Do the processes' own counters add up to what the ledger saw from each worker?

        A process that stopped cleanly reported a final snapshot: its workers' responses must
        equal the ledger's count exactly. A SIGKILLed one's last snapshot may be up to half a
        second old: it must not exceed the ledger's count.
        """
        workers: dict[str, dict[str, Any]] = {}
        for snap in self.remote_stats.values():
            for w, n in snap["by_worker"].items():
                workers[w] = {"reported": n, "seen": self.ledger.by_worker.get(w, 0), "final": bool(snap["final"])}
        ok = all((c["reported"] == c["seen"]) if c["final"] else (c["reported"] <= c["seen"]) for c in workers.values())
        total = sum(self.ledger.by_worker.values())
        return {"workers": workers, "add_up": ok and total == sum(self.ledger.answers.values()),
                "responses_seen": total}


def _breaker_summary(parts: Components) -> dict[str, Any]:
    opened = sum(1 for *_, to in parts.transitions if to == "OPEN")
    half = sum(1 for *_, to in parts.transitions if to == "HALF_OPEN")
    closed = sum(1 for *_, to in parts.transitions if to == "CLOSED")
    return {"trips": opened, "half_open": half, "closed_again": closed,
            "final": {m: b.state.name for m, b in parts.breakers.items()}}


def _levels(levels: list[str]) -> str:
    if len(levels) <= 1:
        return levels[0] if levels else "NORMAL"
    seen = list(dict.fromkeys(levels))
    return f"{' -> '.join(seen)}; {len(levels) - 1} changes, final {levels[-1]}"


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a plain table."""
    lat = s["latency_ms"]
    cache = s.get("cache", {})
    rates = cache.get("hit_rate", {})
    b = s.get("breaker", {})
    rej = s.get("counts", {}).get("rejected", {})
    rows = [
        ("requests", f"{s['requests']:,} in {s['produce_s']:.1f} s = {s['requests_per_s']:,.0f}/s "
                     f"({s['processes']} process(es) x {s['workers']} workers, {s['transport']} transport"
                     f"{', L2 redis' if s.get('l2') else ''})"),
        ("latency", f"p50 {lat['p50']:.2f} ms  p95 {lat['p95']:.2f} ms  p99 {lat['p99']:.2f} ms  max {lat['max']:.1f} ms"),
        ("outcomes", ", ".join(f"{k} {v:,}" for k, v in s["outcomes"].items())),
        ("cache hit rate", "  ".join(f"{t.upper()} {rates.get(t, 0.0):.1%}" for t in ("l1", "l2", "l3"))
         + f"  (errors {sum(cache.get('errors', {}).values())})"),
        ("breaker", f"trips {b.get('trips', 0)}, half-open {b.get('half_open', 0)}, closed again {b.get('closed_again', 0)}"),
        ("retries", f"{s['retries']:,} (model, within the retry budget)"),
        ("rejections", f"{s['rejections']:,}" + (f" ({', '.join(f'{k} {v}' for k, v in sorted(rej.items()))})" if rej else "")),
        ("fallbacks", f"{s['fallbacks']:,}"),
        ("degradation", _levels(s["degradation_levels"])),
        ("DLQ entries", f"{s['dead_letters']:,}"),
        ("accounting", f"{s['settled']:,} of {s['requests']:,} settled (one response or one dead letter each); "
                       f"lost {s['lost']}, duplicates {s['duplicates']}, unknown {s['unknown']}"),
    ]
    if s.get("chaos"):
        rows.insert(-1, ("chaos phases", " -> ".join(f"{p['phase']}@{p['at_s']:.1f}s" for p in s["phases"])))
        for name, outcomes in s["by_phase"].items():
            rows.insert(-1, (f"  {name}", ", ".join(f"{k} {v}" for k, v in outcomes.items())))
        if s.get("redis_connections_dropped"):
            rows.insert(-1, ("  redis drops", f"{s['redis_connections_dropped']} client connections killed, "
                                              f"nodes paused {s['redis_paused_ms']} ms"))
    if s.get("killed_pids"):
        rows.insert(-1, ("scale-out", f"SIGKILLed worker pid(s) {s['killed_pids']}; reports from {len(s['processes_reported'])} processes"))
    obs = s.get("observability") or {}
    if obs.get("available"):
        rows.insert(-1, ("health", " -> ".join(f"{h['status']}@{h['at_s']:.1f}s" for h in obs["health"]) or "-"))
        rows.insert(-1, ("alerts", f"fired {obs['alerts_fired']}, resolved {obs['alerts_resolved']}, "
                                   f"active at the end {obs['alerts_active_at_end']}"))
    if (s.get("dashboard") or {}).get("html"):
        rows.insert(-1, ("dashboard", f"final page written to {s['dashboard']['html']}"))
    if "scheduler" in s:
        sc = s["scheduler"]
        rows.insert(-1, ("scheduler", f"{sc['due_times']} due times of the 1 s job across the processes, "
                                      f"{sc['ran_twice']} ran twice (Redis run lock); L1 invalidations received "
                                      f"{sc['invalidations_received']}"))
    if "metrics_check" in s:
        mc = s["metrics_check"]
        rows.insert(-1, ("merged metrics", ("add up" if mc["add_up"] else "DO NOT add up") + ": " + ", ".join(
            f"{w} {c['reported']}/{c['seen']}{'' if c['final'] else ' (killed)'}" for w, c in sorted(mc["workers"].items()))))
    res = s.get("resources") or {}
    if res.get("available") and res.get("peak"):
        pk = res["peak"]
        rows.insert(-1, ("resources", f"peak CPU {pk.get('cpu_percent', 0):.0f}% of one core, peak RSS "
                                      f"{pk.get('memory_bytes', 0) / 2**20:.0f} MiB, {pk.get('threads', 0):.0f} threads "
                                      f"({res['samples']} samples, {res['anomalies']} anomalies)"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run_demo(config: DemoConfig | None = None, **kw: Any) -> dict[str, Any]:
    """Run the demo synchronously and return the summary (see :class:`DemoConfig` for ``kw``)."""
    cfg = config or DemoConfig(**kw)
    return asyncio.run(Demo(cfg).run())


__all__ = ["Demo", "DemoConfig", "drop_redis_connections", "format_summary", "run_demo"]
