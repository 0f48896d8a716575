"""Logging without a server: JSON lines with redaction, a rotating file, context ids, security events.

Run: ``python examples/logging_example.py`` (writes under a temporary directory, prints what landed).
The Kafka and Elasticsearch sinks are the same one-liners (``"kafka:logs.topic"``,
``"elastic:http://localhost:9200/logs"``); they are left out so the example needs no server.
"""
from __future__ import annotations

import io
import json
import logging
import tempfile
from pathlib import Path

from swfast.logging import (
    FileLogHandler, JSONLogFormatter, SensitiveDataFilter, TextLogFormatter, bind_context, configure)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="swfast-logging-example-"))
    console = io.StringIO()  # stands in for stderr so the output below is deterministic
    text = logging.StreamHandler(console)
    text.setFormatter(TextLogFormatter(colors=False, fmt="%(levelname)s %(name)s: %(message)s"))
    rotating = FileLogHandler(tmp / "app.log", max_bytes="10 MB", when="1 day", backup_count=7, compress=True)

    # One call: level, sinks, redaction (the same can come from SWFAST_LOG).
    configure("INFO", "json", [text, rotating], service="orders", version="1.4.2", env={})
    log = logging.getLogger("orders.checkout")

    with bind_context(request_id="req-7f3a", trace_id="4bf92f3577b34da6a3ce929d0e0e4736"):
        log.info("payment by %s with card %s", "sara@example.com", "6037-9912-3456-7893")
        log.warning("retrying gateway call", extra={"gateway": {"url": "https://api:s3cr3t@pay.example/v1",
                                                                "headers": {"Authorization": "Bearer eyJhbGciOi"}}})
        log.info("forged line attempt\nINFO orders: refund approved")
    try:
        raise ConnectionError("gateway said: token=tk_live_123 rejected")
    except ConnectionError:
        log.exception("gateway failed for %s", "+98 912 345 6789")

    from swfast.security import security_event

    security_event("auth", "failure", user="sara@example.com", method="password", level=logging.WARNING)

    print("--- console (text formatter: one record, one line) ---")
    print(console.getvalue(), end="")
    print("--- file (JSON lines) ---")
    for line in (tmp / "app.log").read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        print({k: doc[k] for k in ("level", "logger", "message") if k in doc},
              {k: doc[k] for k in ("request_id", "gateway", "exception") if k in doc})

    # Redaction on its own, and the pseudonymise mode with a fleet-wide key.
    print("--- redaction ---")
    print(SensitiveDataFilter().redact_text("کارت ۶۰۳۷-۹۹۱۲-۳۴۵۶-۷۸۹۳ و کد ملی 0012345679"))
    print(SensitiveDataFilter(mode="pseudonymise", key="fleet-key").redact_text("user sara@example.com"))
    print(JSONLogFormatter(preset="ecs").format(logging.makeLogRecord({"msg": "ECS names", "levelname": "INFO",
                                                                        "levelno": 20, "created": 0.0})))
    rotating.close()


if __name__ == "__main__":
    main()
