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
# a scheme may hold "_" (Kafka listener names: SASL_SSL://); the look-behind replaces \b so that
# "sasl_ssl://u:p@h" is one URL, not "ssl://u:p@h" after a word character
_URL = re.compile(r"(?<![a-zA-Z0-9+._-])[a-zA-Z][a-zA-Z0-9+._-]*://[^\s'\"<>,]+")
MASK = "***"
# the user-info of every authority in a URL, the outer one and any URL nested in its path, query or
# fragment ("http://proxy/go?to=redis://:pw@h", "a://b://u:p@h"): "://", then authority characters
# (greedy, so up to the last "@" before the authority ends), then "@"
_USERINFO = re.compile(r"://[^/?#&\s'\"<>,]*@")
# the same, percent-encoded once ("?to=redis%3A%2F%2Fu%3Ap%40h"): %3A%2F%2F ... %40, the authority
# ending at an encoded or plain "/", "?", "#"
_USERINFO_ENCODED = re.compile(r"%3A%2F%2F(?:(?!%2F|%3F|%23)[^/?#&\s'\"<>,])*%40", re.I)


def redact_url(url: str) -> str:
    """``url`` with user-info replaced by ``***`` and secret query values masked.

    URLs nested in it (``http://proxy/redirect?to=redis://:pw@host``, ``kafka://x/https://u:p@h``,
    once percent-encoded too) lose their user-info as well.
    """
    if url.count("://") > 1:
        url = _USERINFO.sub("://" + MASK + "@", url)
    if "%" in url:
        url = _USERINFO_ENCODED.sub("%3A%2F%2F" + MASK + "%40", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    scheme, sep, rest = url.partition("://")
    if sep and "_" in scheme:  # a scheme urlsplit does not take ("SASL_SSL://u:p@h:9092")
        return scheme + redact_url("x://" + rest)[1:]  # same rules under a scheme urlsplit takes
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


def redact_servers(value: str) -> str:
    """A comma-separated server list (``host:port``, ``user:pw@host:port`` or URLs) without user-info."""
    out = []
    for item in value.split(","):
        if "://" in item:
            out.append(redact_url(item.strip()) if item.strip() else item)
        elif "@" in item:
            out.append(MASK + "@" + item.rpartition("@")[2])
        else:
            out.append(item)
    return ",".join(out)


def redact_known(text: str, servers: str) -> str:
    """``text`` (a client's error message) with URLs redacted and the user-info of ``servers`` masked.

    Clients quote the address they were given in their own format (``bob:pw@host:9092/bootstrap``),
    which no URL pattern finds; every user-info spelled in ``servers`` is masked wherever it appears.
    """
    for item in servers.split(","):
        head = item.partition("://")[2] if "://" in item else item
        if "@" in head:
            info = head.rpartition("@")[0]
            if info:
                text = text.replace(info, MASK)
    return redact_text(text)


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:  # most log lines: no URL, no regex scan
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
