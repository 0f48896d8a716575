"""Tiny HTTP plumbing shared by the exporter, health reporter and dashboard.

A *route* is ``handler(query: dict[str, str], headers: dict[str, str]) -> (status, content_type,
body)``. :class:`HttpServer` serves routes from a stdlib ``ThreadingHTTPServer`` in a daemon
thread (started only by :meth:`HttpServer.start`); :func:`wsgi_app` and :func:`asgi_app` serve
the same routes inside an application that already has an HTTP server. A handler that raises
answers 500 (logged), never crashing the server.
"""
from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

Response = tuple[int, str, bytes]
Route = Callable[[dict[str, str], dict[str, str]], Response]
log = logging.getLogger("swfast.monitoring")
_REASONS = {200: "OK", 204: "No Content", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def dispatch(routes: Mapping[str, Route], path: str, query: dict[str, str], headers: dict[str, str]) -> Response:
    handler = routes.get(path) or routes.get(path.rstrip("/") or "/")
    if handler is None:
        return 404, "text/plain; charset=utf-8", b"not found\n"
    try:
        return handler(query, headers)
    except Exception:
        log.exception("monitoring HTTP handler for %s failed", path)
        return 500, "text/plain; charset=utf-8", b"internal error\n"


class HttpServer:
    """Serve ``routes`` on ``host:port`` (port 0 picks a free one) from a daemon thread."""

    def __init__(self, routes: Mapping[str, Route], host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes = dict(routes)
        self.host = host
        self.port = int(port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "HttpServer":
        if self._server is not None:
            return self
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, ctype, body = dispatch(routes, parts.path, query, headers)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("monitoring http: " + fmt, *args)

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"swfast-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> "HttpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def wsgi_app(routes: Mapping[str, Route]) -> Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]:
    """A WSGI application serving ``routes``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        status, ctype, body = dispatch(routes, environ.get("PATH_INFO", "/"), query, headers)
        start_response(f"{status} {_REASONS.get(status, 'OK')}",
                       [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    return app


def asgi_app(routes: Mapping[str, Route]) -> Callable[[dict[str, Any], Callable[[], Awaitable[Any]],
                                                      Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]:
    """An ASGI (HTTP) application serving ``routes``; handlers run in a worker thread."""
    import asyncio

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope.get("type") != "http":
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        status, ctype, body = await asyncio.to_thread(dispatch, routes, scope.get("path", "/"), query, headers)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


__all__ = ["HttpServer", "Response", "Route", "asgi_app", "dispatch", "wsgi_app"]
