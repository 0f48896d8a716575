"""Logging: stdlib-compatible formatters, redacting processors and non-blocking handlers.

Everything here is a real :mod:`logging` class (``Formatter``, ``Filter``, ``Handler``), usable
with no arguments, from ``logging.config.dictConfig`` and beside any stdlib handler:

* :class:`JSONLogFormatter` / :class:`TextLogFormatter` (one record, one line);
* :class:`SensitiveDataFilter` (``filter_sensitive``: e-mail, Luhn cards in any digit script, JWT,
  bearer, AWS keys, ``password=``…, URL user-info, PEM keys, Iranian national ids, IBANs and
  mobiles) and :class:`LogProcessor` (``process_log``: enrich + redact once, before fan-out);
* :class:`FileLogHandler` (size/time rotation, retention, gzip, one writer per file),
  :class:`KafkaLogHandler` and :class:`ElasticLogHandler` (bounded queue, background thread,
  counted drops, flush at exit with a deadline, recursion guard, fork-safe);
* :func:`configure` — one call (or ``SWFAST_LOG``) sets level, format, sinks and redaction.

Names load lazily: ``import swfast.logging`` imports nothing heavy. This package is always
imported by its full name; ``import logging`` inside swfast is the standard library.
"""
from __future__ import annotations

from swfast._lazy import attach

_EXPORTS = {
    "JSONLogFormatter": "formatters",
    "TextLogFormatter": "formatters",
    "SensitiveDataFilter": "redaction",
    "redact_text": "redaction",
    "LogProcessor": "processors",
    "ProcessingHandler": "processors",
    "bind_context": "processors",
    "log_context": "processors",
    "structlog_processors": "processors",
    "FileLogHandler": "file_handler",
    "KafkaLogHandler": "kafka_handler",
    "ElasticLogHandler": "elastic_handler",
    "configure": "setup",
    "ENV_VAR": "setup",
}

__getattr__, __dir__ = attach(__name__, _EXPORTS)

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from swfast.logging.elastic_handler import ElasticLogHandler
    from swfast.logging.file_handler import FileLogHandler
    from swfast.logging.formatters import JSONLogFormatter, TextLogFormatter
    from swfast.logging.kafka_handler import KafkaLogHandler
    from swfast.logging.processors import (
        LogProcessor, ProcessingHandler, bind_context, log_context, structlog_processors)
    from swfast.logging.redaction import SensitiveDataFilter, redact_text
    from swfast.logging.setup import ENV_VAR, configure

__all__ = sorted(_EXPORTS)
