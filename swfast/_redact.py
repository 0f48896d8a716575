"""One place that keeps credentials out of logs, metric labels, messages and ``repr``s.

* :func:`redact_url` drops the user-info of a URL (``redis://:s3cret@host:6379/0`` →
  ``redis://***@host:6379/0``) and masks secret-looking query parameters.
* :func:`node_name` names a server by ``host:port/db`` only: what metric labels and log lines use.
* :func:`redact_text` applies :func:`redact_url` to every URL inside free text (exception messages
  from clients often quote the URL they were given).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "secret", "token", "api_key", "apikey",
                            "access_token", "sasl_password", "sasl.password", "key"})
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
MASK = "***"


def redact_url(url: str) -> str:
    """``url`` with user-info replaced by ``***`` and secret query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def node_name(url: str) -> str:
    """``host:port/db`` for a server URL: no scheme, no credentials, no query."""
    try:
        parts = urlsplit(url if "://" in url else "redis://" + url)
        host = parts.hostname or "localhost"
        port = parts.port
    except ValueError:
        return MASK
    if ":" in host:
        host = f"[{host}]"
    path = parts.path.strip("/")
    out = f"{host}:{port}" if port is not None else host
    return f"{out}/{path}" if path else out


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
