"""A self-contained live dashboard (one HTML file, inline SVG charts) and the alert view.

``DashboardGenerator.generate_dashboard(path)`` writes one HTML page: no CDN, no external
request, its data embedded as JSON and drawn as inline SVG by the page's own small script.
``serve(port)`` serves the page at ``/`` and its data at ``/dashboard.json``; the page then
refreshes itself from that endpoint. Everything shown is discovered from the registry (and the
collector's series), by metric type and name convention only:

* counters -> throughput (rate per second) per component (``swfast_<component>_...``),
* histograms -> p50/p95/p99 latency per component,
* ``swfast_cache_tier_hits_total``/``misses_total`` -> hit rate per tier,
* ``swfast_resilience_breaker_state`` and ``..._transitions_total`` -> breaker states,
* names with ``reject`` (rate limiters), ``lag`` or ``dlq`` (messaging) -> their own group,
* the process sampler -> CPU and memory against the container limits,
* names with ``anomal`` and alert start times -> marks on the charts,
* the shared alert store -> active and recent alerts (:class:`AlertVisualizer`).

Labels are Persian (``lang="fa"``, right to left) by default; ``lang="en"`` gives English.
"""
from __future__ import annotations

import html
import json
import math
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Mapping

from ._http import HttpServer, Route
from .aggregator import _bucket_quantile
from .alerts import AlertStore, alert_store
from .metrics import REGISTRY, Registry

_TEXT = {
    "fa": {"title": "داشبورد پایش swfast", "throughput": "توان عملیاتی (در ثانیه)", "latency": "تأخیر (ثانیه)",
           "cache": "نرخ برخورد کش به تفکیک لایه", "breakers": "وضعیت قطع‌کننده‌های مدار",
           "limits": "رد درخواست‌ها، تأخیر و صف پیام‌های مرده", "resources": "مصرف منابع نسبت به سقف کانتینر",
           "gauges": "سنجه‌ها", "alerts": "هشدارهای فعال", "recent": "هشدارهای اخیر", "none": "موردی نیست",
           "updated": "به‌روزرسانی", "severity": "شدت", "state": "وضعیت", "since": "از", "duration": "مدت",
           "peak": "اوج", "count": "تعداد", "name": "نام", "value": "مقدار", "cpu": "پردازنده", "memory": "حافظه",
           "pending": "در انتظار", "firing": "فعال", "resolved": "رفع‌شده", "info": "اطلاع", "warning": "هشدار",
           "critical": "بحرانی", "closed": "بسته", "open": "باز", "half_open": "نیمه‌باز"},
    "en": {"title": "swfast monitoring dashboard", "throughput": "Throughput (per second)", "latency": "Latency (s)",
           "cache": "Cache hit rate per tier", "breakers": "Circuit breaker states",
           "limits": "Rejections, lag and dead letters", "resources": "Resource use against container limits",
           "gauges": "Gauges", "alerts": "Active alerts", "recent": "Recent alerts", "none": "none",
           "updated": "updated", "severity": "severity", "state": "state", "since": "since", "duration": "duration",
           "peak": "peak", "count": "count", "name": "name", "value": "value", "cpu": "CPU", "memory": "memory",
           "pending": "pending", "firing": "firing", "resolved": "resolved", "info": "info", "warning": "warning",
           "critical": "critical", "closed": "closed", "open": "open", "half_open": "half-open"},
}
_BREAKER_STATES = {0: "closed", 1: "open", 2: "half_open", 3: "open", 4: "closed"}


def _component(name: str) -> str:
    parts = name.split("_")
    if parts[0] == "swfast" and len(parts) > 2:
        return parts[1]
    return parts[0]


def _key(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _finite(v: float) -> float | None:
    return round(v, 6) if isinstance(v, (int, float)) and math.isfinite(v) else None


class AlertVisualizer:
    """Active and recent alerts from the shared store, grouped by fingerprint.

    Args:
        store: the alert store (the shared :func:`~swfast.monitoring.alerts.alert_store`).
        lang: ``fa`` (default, right to left) or ``en``.
    """

    def __init__(self, store: AlertStore | None = None, *, lang: str = "fa",
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.lang = lang if lang in _TEXT else "fa"
        self._clock = clock

    @property
    def store(self) -> AlertStore:
        return self._store if self._store is not None else alert_store()

    def data(self, limit: int = 50) -> dict[str, Any]:
        """``{"active": [...], "recent": [...]}`` with ``duration`` (s) added to each alert."""
        now = self._clock()

        def view(a: dict[str, Any]) -> dict[str, Any]:
            end = a.get("resolved_at", now) if a["state"] == "resolved" else now
            return {**a, "value": _finite(a["value"]), "peak": _finite(a["peak"]),
                    "duration": max(end - a["started_at"], 0.0)}

        return {"active": [view(a) for a in self.store.active()[:limit]],
                "recent": [view(a) for a in self.store.recent(limit)]}

    def visualize_alerts(self, path: str | Path | None = None) -> str:
        """An HTML fragment (a table of active and recent alerts); written to ``path`` if given."""
        t = _TEXT[self.lang]
        d = self.data()
        out = []
        for title, rows in ((t["alerts"], d["active"]), (t["recent"], d["recent"])):
            out.append(f'<section class="alerts"><h2>{html.escape(title)}</h2>')
            if not rows:
                out.append(f'<p class="none">{html.escape(t["none"])}</p></section>')
                continue
            out.append("<table><thead><tr>" + "".join(
                f"<th>{html.escape(t[c])}</th>" for c in ("name", "severity", "state", "since", "duration",
                                                         "peak", "count")) + "</tr></thead><tbody>")
            for a in rows:
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(a["started_at"]))
                peak = "" if a["peak"] is None else f"{a['peak']:.4g}"
                out.append(
                    f'<tr class="sev-{a["severity"]} st-{a["state"]}" data-fingerprint="{html.escape(a["fingerprint"])}">'
                    f'<td><bdi>{html.escape(a["name"])}</bdi><div class="sum">{html.escape(a["summary"])}</div></td>'
                    f'<td>{html.escape(t[a["severity"]])}</td><td>{html.escape(t[a["state"]])}</td>'
                    f'<td><bdi>{since}</bdi></td><td><bdi>{_fmt_duration(a["duration"])}</bdi></td>'
                    f'<td><bdi>{peak}</bdi></td><td>{a["count"]}</td></tr>')
            out.append("</tbody></table></section>")
        fragment = "".join(out)
        if path is not None:
            Path(path).write_text(_page(self.lang, t["alerts"], fragment, "{}"), encoding="utf-8")
        return fragment


def _fmt_duration(s: float) -> str:
    s = int(s)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class DashboardGenerator:
    """Builds the dashboard from a registry; keeps a bounded history for the charts.

    Args:
        registry: the registry to discover metrics from (shared by default).
        collector: a :class:`~swfast.monitoring.collector.MetricsCollector` whose series and
            sampler are shown (a default one when None).
        alerts: the :class:`AlertVisualizer` (default: the shared alert store).
        history: resource readings kept (default 120); ``points`` kept and sent per series
            (default 60); ``max_series`` charts at most (default 2,000).
        refresh: seconds between live refreshes of the served page (default 5).
        lang: ``fa`` (default) or ``en``.
    """

    def __init__(self, registry: Registry | None = None, collector: Any = None, alerts: AlertVisualizer | None = None,
                 *, history: int = 120, points: int = 60, refresh: float = 5.0, lang: str = "fa",
                 max_series: int = 2000,
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry if registry is not None else REGISTRY
        self._collector = collector
        self.lang = lang if lang in _TEXT else "fa"
        self.alerts = alerts if alerts is not None else AlertVisualizer(lang=self.lang, clock=clock)
        self.points = int(points)
        self.refresh = float(refresh)
        self._clock = clock
        self._res_hist: deque[tuple[float, float, float]] = deque(maxlen=max(int(history), 2))
        self._times: deque[float] = deque(maxlen=self.points)
        self._series: dict[str, dict[str, Any]] = {}
        self._marks: deque[float] = deque(maxlen=256)
        self._prev: tuple[float, dict[str, Any] | None] = (0.0, None)
        self.max_series = int(max_series)
        self._json_cache: tuple[tuple[int, int], bytes] | None = None
        self._ticks = 0
        self._lock = threading.Lock()
        self._server: HttpServer | None = None
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def collector(self) -> Any:
        if self._collector is None:
            from .collector import MetricsCollector

            self._collector = MetricsCollector(self.registry)
        return self._collector

    def tick(self) -> None:
        """Record one registry snapshot: every chart series gets its point for this instant.

        Points are computed here (rates from the previous tick, percentiles of the bucket
        increase), so rendering only assembles bounded lists."""
        now = self._clock()
        idx: dict[str, tuple[str, dict[Any, Any]]] = {}
        for snap in self.registry.collect():
            vals: dict[Any, Any] = {}
            if snap.kind == "histogram":
                for s in snap.samples:
                    if s.name.endswith("_bucket"):
                        le = s.labels.get("le", "+Inf")
                        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                        vals.setdefault(key, []).append((math.inf if le == "+Inf" else float(le), s.value))
            else:
                for s in snap.samples:
                    vals[tuple(sorted(s.labels.items()))] = s.value
            idx[snap.name] = (snap.kind, vals)
        t = _TEXT[self.lang]
        with self._lock:
            prev_t, prev = self._prev
            dt = now - prev_t if prev is not None else 0.0
            n = len(self._times)
            seen: set[str] = set()

            def put(sid: str, meta: dict[str, Any], point: Any, lines: bool = False) -> None:
                rec = self._series.get(sid)
                if rec is None:
                    if len(self._series) >= self.max_series:
                        return
                    rec = self._series[sid] = {**meta, "_d": {q: deque([None] * n, maxlen=self.points)
                                                              for q in (("p50", "p95", "p99") if lines else ("v",))}}
                for q, d in rec["_d"].items():
                    d.append(point[q] if lines and point is not None else point)
                seen.add(sid)

            empty: tuple[str, dict[Any, Any]] = ("", {})
            for name, (kind, vals) in idx.items():
                old = prev.get(name, empty)[1] if prev is not None else {}
                comp = _component(name)
                if kind == "counter":
                    if name.startswith(("swfast_cache_tier_", "swfast_process_", "swfast_system_")):
                        continue
                    group = "limits" if any(w in name for w in ("reject", "dlq", "lag", "dead_letter")) else "throughput"
                    for key, value in vals.items():
                        rate = _finite(max(value - old.get(key, 0.0), 0.0) / dt) if dt > 0 else None
                        put(f"{name}{{{_key(dict(key))}}}", {"group": group, "title": name, "labels": dict(key),
                                                             "component": comp, "unit": "1/s"}, rate)
                elif kind == "histogram":
                    for key, cur in vals.items():
                        o = dict(old.get(key, []))
                        delta = [(le, c - o.get(le, 0.0)) for le, c in cur] if prev is not None else cur
                        point = {q: _finite(_bucket_quantile(x, delta)) for q, x in
                                 (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))} if delta and delta[-1][1] > 0 else None
                        put(f"{name}{{{_key(dict(key))}}}", {"group": "latency", "title": name, "labels": dict(key),
                                                             "component": comp, "unit": "s"}, point, lines=True)
                elif kind == "gauge" and not name.startswith(("swfast_process_", "swfast_system_",
                                                              "swfast_resilience_breaker_")):
                    group = "limits" if any(w in name for w in ("lag", "dlq", "reject")) else "gauges"
                    for key, value in vals.items():
                        put(f"{name}{{{_key(dict(key))}}}", {"group": group, "title": name, "labels": dict(key),
                                                             "component": comp}, _finite(value))
                if "anomal" in name and kind != "histogram" and any(vals.values()):
                    self._marks.append(now)
            hits = idx.get("swfast_cache_tier_hits_total", empty)[1]
            misses = idx.get("swfast_cache_tier_misses_total", empty)[1]
            for key, h in hits.items():
                m = misses.get(key, 0.0)
                put(f"hit_ratio{{{_key(dict(key))}}}", {"group": "cache", "title": t["cache"], "labels": dict(key),
                                                       "component": "cache", "unit": "ratio"},
                    _finite(h / (h + m)) if h + m > 0 else None)
            for sid, rec in list(self._series.items()):
                if sid not in seen:
                    for d in rec["_d"].values():
                        d.append(None)
                    if all(x is None for d in rec["_d"].values() for x in d):
                        del self._series[sid]
            self._times.append(now)
            self._prev = (now, idx)
            self._ticks += 1

    # -- data -------------------------------------------------------------------------------
    def dashboard_data(self, *, tick: bool = True) -> dict[str, Any]:
        """The JSON document the page draws (also served at ``/dashboard.json``).

        Series share the time axis ``t`` (epoch seconds); each has values ``v`` aligned to it
        (``null`` where missing); latency series have ``lines`` p50/p95/p99 instead."""
        if tick or not self._times:
            self.tick()
        t = _TEXT[self.lang]
        groups: dict[str, list[dict[str, Any]]] = {"throughput": [], "latency": [], "cache": [], "limits": [],
                                                   "gauges": [], "resources": []}
        with self._lock:
            times = list(self._times)
            for sid, rec in self._series.items():
                out = {"id": sid, "title": rec["title"], "labels": rec["labels"], "component": rec["component"],
                       "unit": rec.get("unit", "")}
                d = rec["_d"]
                if "v" in d:
                    out["v"] = list(d["v"])
                else:
                    out["lines"] = {q: list(x) for q, x in d.items()}
                groups[rec["group"]].append(out)
            marks = list(self._marks)
            _, latest = self._prev
        breakers = self._breakers(latest or {}, t)
        resources = self._resources(t)
        groups["resources"] = resources["series"]
        alerts = self.alerts.data()
        marks += [a["started_at"] for a in alerts["recent"]]
        return {"title": t["title"], "lang": self.lang, "generated_at": self._clock(),
                "refresh": self.refresh, "text": t, "t": times, "groups": groups, "breakers": breakers,
                "limits": resources["limits"], "marks": sorted(set(m for m in marks if times and m >= times[0])),
                "alerts": alerts}

    @staticmethod
    def _breakers(latest: Mapping[str, Any], t: Mapping[str, str]) -> list[dict[str, Any]]:
        out = []
        states = latest.get("swfast_resilience_breaker_state", ("", {}))[1]
        trans = latest.get("swfast_resilience_breaker_transitions_total", ("", {}))[1]
        for key, value in states.items():
            name = dict(key).get("name", "?")
            n = sum(x for k, x in trans.items() if dict(k).get("name") == name)
            state = _BREAKER_STATES.get(int(value), "closed")
            out.append({"name": name, "state": state, "label": t[state], "transitions": n})
        return out

    def _resources(self, t: Mapping[str, str]) -> dict[str, Any]:
        try:
            s = self.collector.sampler.sample()
        except Exception:
            s = {}
        if s:
            with self._lock:
                self._res_hist.append((self._clock(), s.get("process_cpu_usage_ratio", math.nan),
                                       s.get("system_memory_usage_ratio", math.nan)))
        res = list(self._res_hist)[-self.points:]
        series = [{"id": name, "title": name, "labels": {}, "component": "resources", "unit": "ratio",
                   "t": [r[0] for r in res], "v": [_finite(r[i]) for r in res]}
                  for i, name in ((1, "swfast_process_cpu_usage_ratio"), (2, "swfast_system_memory_usage_ratio"))]
        limits = [
            {"label": t["cpu"], "used": _finite(s.get("process_cpu_usage_ratio", math.nan) *
                                                s.get("system_cpu_limit_cores", math.nan)),
             "limit": _finite(s.get("system_cpu_limit_cores", math.nan)), "unit": "cores"},
            {"label": t["memory"], "used": _finite(s.get("system_memory_used_bytes", math.nan)),
             "limit": _finite(s.get("system_memory_limit_bytes", math.nan)), "unit": "bytes"},
        ] if s else []
        return {"series": series, "limits": limits}

    def render_json(self, *, tick: bool = False) -> bytes:
        """``dashboard_data()`` as compact UTF-8 JSON (what ``/dashboard.json`` returns).

        Uses orjson when installed. The bytes are cached until the next :meth:`tick` or alert,
        so polling clients cost nothing between ticks (the live page's ticker ticks)."""
        stamp = (self._ticks, self.alerts.store.published)
        cached = self._json_cache
        if not tick and cached is not None and cached[0] == stamp:
            return cached[1]
        data = self.dashboard_data(tick=tick)
        try:
            import orjson

            body: bytes = orjson.dumps(data)
        except ImportError:
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        self._json_cache = ((self._ticks, self.alerts.store.published), body)
        return body

    # -- page -------------------------------------------------------------------------------
    def render_html(self, *, live: bool = False) -> str:
        """The whole page; ``live=True`` makes it refresh from ``dashboard.json``."""
        data = self.dashboard_data()
        data["live"] = live
        t = _TEXT[self.lang]
        alerts = self.alerts.visualize_alerts()
        body = (f'<header><h1>{html.escape(t["title"])}</h1><span id="updated"></span></header>'
                f'<main id="panels"></main><div id="alerts">{alerts}</div>')
        blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        return _page(self.lang, t["title"], body, blob)

    def generate_dashboard(self, path: str | Path = "swfast-dashboard.html") -> Path:
        """Write the self-contained page to ``path`` and return it."""
        p = Path(path)
        p.write_text(self.render_html(), encoding="utf-8")
        return p

    def routes(self) -> dict[str, Route]:
        def page(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
            return 200, "text/html; charset=utf-8", self.render_html(live=True).encode()

        def data(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
            return 200, "application/json; charset=utf-8", self.render_json()

        def alerts(query: dict[str, str], headers: dict[str, str]) -> tuple[int, str, bytes]:
            return 200, "application/json; charset=utf-8", json.dumps(self.alerts.data(), ensure_ascii=False).encode()

        return {"/": page, "/dashboard": page, "/dashboard.json": data, "/alerts.json": alerts}

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> HttpServer:
        """Serve the live page (``/``) and its data (``/dashboard.json``), ticking every
        ``refresh`` seconds in a background thread; idempotent."""
        with self._lock:
            if self._server is None:
                self._server = HttpServer(self.routes(), host, port).start()
                self._stop.clear()
                self._ticker = threading.Thread(target=self._tick_loop, name="swfast-dashboard", daemon=True)
                self._ticker.start()
            return self._server

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.refresh):
            try:
                self.tick()
            except Exception:  # a broken collector must not stop the dashboard
                import logging

                logging.getLogger("swfast.monitoring").exception("dashboard tick failed")

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            server, self._server = self._server, None
            ticker, self._ticker = self._ticker, None
        if server is not None:
            server.close()
        if ticker is not None:
            ticker.join(timeout=5.0)

    def __enter__(self) -> "DashboardGenerator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_CSS = """
:root{--bg:#0f172a;--card:#111c33;--fg:#e2e8f0;--mut:#94a3b8;--grid:#23304d;--a:#38bdf8;--b:#f59e0b;--c:#f43f5e;--ok:#22c55e}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 "Noto Sans Arabic","Vazirmatn",Tahoma,"DejaVu Sans",sans-serif}
header{display:flex;justify-content:space-between;align-items:baseline;padding:12px 20px;border-bottom:1px solid var(--grid)}
h1{font-size:20px;margin:0}h2{font-size:15px;margin:4px 0 8px}#updated{color:var(--mut)}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px;padding:14px 20px}
.card{background:var(--card);border:1px solid var(--grid);border-radius:8px;padding:10px 12px}
.chart{direction:ltr}.chart svg{width:100%;height:140px;display:block}.lbl{color:var(--mut);font-size:12px}
.legend span{margin-inline-end:10px;font-size:12px}.none{color:var(--mut)}
table{width:100%;border-collapse:collapse;font-size:13px}th,td{padding:4px 6px;border-bottom:1px solid var(--grid);text-align:start}
.sev-critical td:first-child{border-inline-start:4px solid var(--c)}.sev-warning td:first-child{border-inline-start:4px solid var(--b)}
.sev-info td:first-child{border-inline-start:4px solid var(--a)}.st-resolved{opacity:.65}.sum{color:var(--mut);font-size:12px}
#alerts{padding:0 20px 20px}.bar{height:10px;background:var(--grid);border-radius:5px;overflow:hidden}.bar i{display:block;height:100%;background:var(--a)}
.state-open{color:var(--c)}.state-half_open{color:var(--b)}.state-closed{color:var(--ok)}
"""

_JS = r"""
(function(){
'use strict';
var NS='http://www.w3.org/2000/svg',COLORS=['#38bdf8','#f59e0b','#f43f5e','#22c55e','#a78bfa','#fb7185'];
function el(tag,attrs,parent){var e=document.createElementNS(NS,tag);for(var k in attrs)e.setAttribute(k,attrs[k]);if(parent)parent.appendChild(e);return e;}
function h(tag,text,cls){var e=document.createElement(tag);if(text!=null)e.textContent=text;if(cls)e.className=cls;return e;}
function fmt(v){if(v==null)return '–';var a=Math.abs(v);if(a>=1e9)return (v/1e9).toFixed(2)+'G';if(a>=1e6)return (v/1e6).toFixed(2)+'M';if(a>=1e3)return (v/1e3).toFixed(1)+'k';if(a>=1||a===0)return v.toFixed(2);return v.toPrecision(3);}
function chart(card,lines,marks){
  var W=360,H=140,P=28,pts=[];lines.forEach(function(l){l.points.forEach(function(p){if(p[1]!=null)pts.push(p);});});
  var box=h('div',null,'chart');card.appendChild(box);
  var svg=el('svg',{viewBox:'0 0 '+W+' '+H,preserveAspectRatio:'none',role:'img'},box);
  if(!pts.length){var t=el('text',{x:W/2,y:H/2,fill:'#94a3b8','text-anchor':'middle'},svg);t.textContent='…';return 0;}
  var t0=Math.min.apply(null,pts.map(function(p){return p[0];})),t1=Math.max.apply(null,pts.map(function(p){return p[0];}));
  var v1=Math.max.apply(null,pts.map(function(p){return p[1];})),v0=Math.min(0,Math.min.apply(null,pts.map(function(p){return p[1];})));
  if(t1===t0)t1=t0+1;if(v1===v0)v1=v0+1;
  function X(t){return P+(W-P-6)*(t-t0)/(t1-t0);}function Y(v){return H-16-(H-26)*(v-v0)/(v1-v0);}
  for(var g=0;g<=2;g++){var gy=Y(v0+(v1-v0)*g/2);el('line',{x1:P,x2:W-6,y1:gy,y2:gy,stroke:'#23304d'},svg);var gl=el('text',{x:2,y:gy+4,fill:'#94a3b8','font-size':9},svg);gl.textContent=fmt(v0+(v1-v0)*g/2);}
  (marks||[]).forEach(function(m){if(m>=t0&&m<=t1){el('line',{x1:X(m),x2:X(m),y1:6,y2:H-16,stroke:'#f43f5e','stroke-dasharray':'3 3','class':'mark'},svg);}});
  var n=0;lines.forEach(function(l,i){var d='',c=COLORS[i%COLORS.length];l.points.forEach(function(p){if(p[1]==null)return;d+=(d?'L':'M')+X(p[0]).toFixed(1)+' '+Y(p[1]).toFixed(1);});
    if(d)el('path',{d:d,fill:'none',stroke:c,'stroke-width':1.6,'class':'line'},svg);
    l.points.forEach(function(p){if(p[1]==null)return;n++;var dot=el('circle',{cx:X(p[0]).toFixed(1),cy:Y(p[1]).toFixed(1),r:1.8,fill:c,'class':'pt'},svg);var tt=el('title',{},dot);tt.textContent=l.name+': '+fmt(p[1]);});});
  var leg=h('div',null,'legend');lines.forEach(function(l,i){var s=h('span',l.name);s.style.color=COLORS[i%COLORS.length];s.dir='ltr';leg.appendChild(s);});card.appendChild(leg);
  return n;}
function render(D){
  var T=D.text,main=document.getElementById('panels'),total=0;main.textContent='';
  var order=['throughput','latency','cache','limits','resources','gauges'];
  order.forEach(function(g){(D.groups[g]||[]).forEach(function(s){
    var card=h('section',null,'card');card.dataset.group=g;card.appendChild(h('h2',T[g]));
    var lbl=h('div',null,'lbl');var b=document.createElement('bdi');b.textContent=s.id;lbl.appendChild(b);card.appendChild(lbl);
    var tt=s.t||D.t,zip=function(v){return v.map(function(x,i){return [tt[i],x];});};
    var lines=s.lines?Object.keys(s.lines).map(function(k){return {name:k,points:zip(s.lines[k])};}):[{name:s.title,points:zip(s.v)}];
    total+=chart(card,lines,D.marks);main.appendChild(card);});});
  if(D.breakers&&D.breakers.length){var c=h('section',null,'card');c.appendChild(h('h2',T.breakers));var tb=h('table');
    D.breakers.forEach(function(b){var tr=h('tr');var n=h('td');var bd=document.createElement('bdi');bd.textContent=b.name;n.appendChild(bd);tr.appendChild(n);tr.appendChild(h('td',b.label,'state-'+b.state));tr.appendChild(h('td',String(b.transitions)));tb.appendChild(tr);});
    c.appendChild(tb);main.appendChild(c);}
  if(D.limits&&D.limits.length){var r=h('section',null,'card');r.appendChild(h('h2',T.resources));
    D.limits.forEach(function(l){var row=h('div');row.appendChild(h('span',l.label+' '));var v=h('bdi',fmt(l.used)+' / '+fmt(l.limit)+' '+l.unit);row.appendChild(v);
      var bar=h('div',null,'bar');var i=document.createElement('i');i.style.width=(l.limit?Math.min(100,100*l.used/l.limit):0).toFixed(1)+'%';bar.appendChild(i);row.appendChild(bar);r.appendChild(row);});main.appendChild(r);}
  document.body.dataset.points=String(total);
  var u=document.getElementById('updated');u.textContent=T.updated+': ';var ub=document.createElement('bdi');ub.textContent=new Date(D.generated_at*1000).toISOString().replace('T',' ').slice(0,19)+' UTC';u.appendChild(ub);}
var D=JSON.parse(document.getElementById('swfast-data').textContent||'{}');
if(D.groups)render(D);
if(D.live&&location.protocol.indexOf('http')===0){
  var refresh=function(){fetch('dashboard.json',{cache:'no-store'}).then(function(r){return r.json();}).then(function(n){n.live=true;render(n);}).catch(function(e){document.body.dataset.refreshError=String(e);});};
  setInterval(refresh,Math.max(1,D.refresh||5)*1000);refresh();}
})();
"""


def _page(lang: str, title: str, body: str, data_json: str) -> str:
    direction = "rtl" if lang == "fa" else "ltr"
    return (f'<!DOCTYPE html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; '
            f'script-src \'unsafe-inline\'; style-src \'unsafe-inline\'; img-src data:; connect-src \'self\'">'
            f'<link rel="icon" href="data:,">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>{body}"
            f'<script id="swfast-data" type="application/json">{data_json}</script>'
            f"<script>{_JS}</script></body></html>")


__all__ = ["AlertVisualizer", "DashboardGenerator"]
