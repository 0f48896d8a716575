"""``configure()``: one call (or the ``SWFAST_LOG`` variable) sets up logging the swfast way.

``SWFAST_LOG`` holds ``;``-separated settings, e.g.
``level=INFO;format=json;sinks=stderr,file:logs/app.log?max_bytes=10MB&when=1d&backup_count=7;service=api``.
Arguments passed to :func:`configure` win over the variable.

Sinks: ``stderr``, ``stdout``, ``file:<path>[?max_bytes=…&when=…&backup_count=…&max_age=…&compress=1]``,
``kafka[:<topic>]`` (bootstrap servers from ``SWFAST_KAFKA_BOOTSTRAP_SERVERS``),
``elastic:<http(s)://host:port>[/<index>]``, or any :class:`logging.Handler`.

The root logger (or ``logger``) gets exactly one :class:`ProcessingHandler` (calling
``configure`` again replaces it, never stacks a second), which enriches and redacts each record
once, then fans it out to the sinks. The ``swfast.security`` logger always redacts its events.
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from swfast.logging.formatters import JSONLogFormatter, TextLogFormatter
from swfast.logging.processors import LogProcessor, ProcessingHandler
from swfast.logging.redaction import SensitiveDataFilter

ENV_VAR = "SWFAST_LOG"  # swfast.config.LOG
_FORMATS = ("json", "text", "ecs")


def _parse_env(raw: str) -> dict[str, str]:
    from swfast.errors import ConfigurationError

    out: dict[str, str] = {}
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ConfigurationError(ENV_VAR, f"expected key=value pairs separated by ';', got {part!r}")
        out[key.strip().lower()] = value.strip()
    return out


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "text":
        return TextLogFormatter()
    return JSONLogFormatter(preset="ecs" if fmt == "ecs" else "default")


def _sink(spec: str | logging.Handler, fmt: str) -> logging.Handler:
    from swfast.errors import ConfigurationError

    if isinstance(spec, logging.Handler):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigurationError("sinks", f"expected a sink name or a logging.Handler, got {spec!r}")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    handler: logging.Handler
    if kind in ("stderr", "stdout"):
        handler = logging.StreamHandler(sys.stderr if kind == "stderr" else sys.stdout)
        if fmt == "text":
            handler.setFormatter(TextLogFormatter(colors="auto" if kind == "stderr" else False))
            return handler
    elif kind == "file":
        from swfast.logging.file_handler import FileLogHandler

        path, _, query = rest.partition("?")
        if not path:
            raise ConfigurationError("sinks", "file sink needs a path: 'file:logs/app.log'")
        opts: dict[str, Any] = dict(parse_qsl(query))
        if "backup_count" in opts:
            opts["backup_count"] = int(opts["backup_count"])
        if "compress" in opts:
            opts["compress"] = _truthy(opts["compress"])
        unknown = set(opts) - {"max_bytes", "when", "backup_count", "max_age", "compress"}
        if unknown:
            raise ConfigurationError("sinks", f"unknown file sink options {sorted(unknown)}")
        if "max_bytes" in opts and str(opts["max_bytes"]).isdigit():
            opts["max_bytes"] = int(opts["max_bytes"])
        handler = FileLogHandler(path, **opts)
    elif kind == "kafka":
        from swfast.logging.kafka_handler import KafkaLogHandler

        handler = KafkaLogHandler(rest or None)
    elif kind == "elastic":
        from swfast.logging.elastic_handler import ElasticLogHandler

        parts = urlsplit(rest)
        index = parts.path.strip("/") or "swfast-logs"
        handler = ElasticLogHandler(f"{parts.scheme}://{parts.netloc}", index)
    else:
        raise ConfigurationError("sinks", f"unknown sink {kind!r}; use stderr, stdout, file:…, kafka[:topic] "
                                          "or elastic:http://host:9200/index")
    handler.setFormatter(_formatter(fmt))
    return handler


def protect_security_events() -> None:
    """Make sure every ``swfast.security`` event is redacted before any handler sees it."""
    from swfast.logging.redaction import default_filter

    log = logging.getLogger("swfast.security")
    flt = default_filter()
    if flt not in log.filters:
        log.addFilter(flt)


def configure(level: int | str | None = None, format: str | None = None,
              sinks: Iterable[str | logging.Handler] | None = None, *, redact: bool | SensitiveDataFilter | None = None,
              service: str | None = None, version: str | None = None, logger: str | logging.Logger | None = None,
              env: Mapping[str, str] | None = None) -> ProcessingHandler:
    """Set up logging in one call; returns the installed :class:`ProcessingHandler`.

    Args:
        level: ``"INFO"``, ``logging.DEBUG``, … (default ``INFO``).
        format: ``"json"`` (default), ``"text"`` or ``"ecs"``.
        sinks: where records go (default ``["stderr"]``; see the module docstring).
        redact: ``True`` (default), ``False``, or a configured :class:`SensitiveDataFilter`.
        service, version: added to every record.
        logger: the logger to configure (default the root logger).
        env: the environment to read ``SWFAST_LOG`` from (default ``os.environ``).
    """
    from swfast.errors import ConfigurationError

    from swfast import config as _config

    settings = _parse_env(_config.log_spec(env) or "")
    unknown = set(settings) - {"level", "format", "sinks", "redact", "service", "version"}
    if unknown:
        raise ConfigurationError(ENV_VAR, f"unknown settings {sorted(unknown)}")
    level = level if level is not None else settings.get("level", "INFO")
    if isinstance(level, str):
        resolved = logging.getLevelName(level.strip().upper())
        if not isinstance(resolved, int):
            raise ConfigurationError("level", f"unknown level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        level = resolved
    fmt = (format or settings.get("format") or "json").lower()
    if fmt not in _FORMATS:
        raise ConfigurationError("format", f"expected one of {list(_FORMATS)}, got {fmt!r}")
    if sinks is None:
        sinks = [s for s in settings.get("sinks", "stderr").split(",") if s.strip()]
    if redact is None:
        redact = _truthy(settings["redact"]) if "redact" in settings else True
    handlers = [_sink(s, fmt) for s in sinks]
    processor = LogProcessor(redact=redact, service=service or settings.get("service"),
                             version=version or settings.get("version"))
    fan = ProcessingHandler(handlers, processor)
    fan._swfast_configured = True  # type: ignore[attr-defined]
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    for old in [h for h in target.handlers if getattr(h, "_swfast_configured", False)]:
        target.removeHandler(old)
        old.close()
    target.addHandler(fan)
    target.setLevel(level)
    protect_security_events()
    return fan


__all__ = ["ENV_VAR", "configure", "protect_security_events"]
