"""The one environment-variable scheme of swfast: every ``SWFAST_*`` variable is read here.

Each variable is a :class:`Variable` in :data:`VARIABLES` (name, default, meaning); the table
in README.md ("Environment variables") is :func:`markdown_table` and a test keeps the two equal.
Readers are plain functions evaluated when called (nothing is cached except the one-time
deprecation notice), so tests and long-running processes see the current environment.

Services that are *configured* and do not answer are errors, never a silent switch to an
embedded stand-in: see ``KafkaService.connect`` (``BrokerUnavailable``).

Importing this module costs only ``os`` (``import swfast`` reads ``SWFAST_NO_EXTENSIONS``
through it).
"""
from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Mapping

# --- names (import these instead of spelling the strings) -------------------------------------
REDIS_URL = "SWFAST_REDIS_URL"
KAFKA_BOOTSTRAP_SERVERS = "SWFAST_KAFKA_BOOTSTRAP_SERVERS"
#: The old spelling (README and CLI used it): still read, with a DeprecationWarning.
KAFKA_BOOTSTRAP_DEPRECATED = "SWFAST_KAFKA_BOOTSTRAP"
NO_EXTENSIONS = "SWFAST_NO_EXTENSIONS"
NUMBA = "SWFAST_NUMBA"
NUMBA_CACHE = "SWFAST_NUMBA_CACHE"
#: swfast.logging.configure() settings; read with :func:`log_spec`.
LOG = "SWFAST_LOG"
LOG_PSEUDONYM_KEY = "SWFAST_LOG_PSEUDONYM_KEY"
SERVICE_NAME = "SWFAST_SERVICE_NAME"
SERVICE_VERSION = "SWFAST_SERVICE_VERSION"
MULTIPROC_DIR = "SWFAST_MULTIPROC_DIR"
REQUIRE_SERVICES = "SWFAST_REQUIRE_SERVICES"
MASTER_KEY = "SWFAST_MASTER_KEY"
MASTER_KEY_FILE = "SWFAST_MASTER_KEY_FILE"


class Variable:
    """One documented environment variable."""

    __slots__ = ("name", "default", "meaning", "secret")

    def __init__(self, name: str, default: str, meaning: str, *, secret: bool | str = False) -> None:
        self.name = name
        self.default = default
        self.meaning = meaning
        # True: the value may hold credentials (user-info is masked); "full": the value is one
        self.secret = secret

    def __repr__(self) -> str:
        return f"Variable({self.name!r})"


#: Every variable swfast reads, in README order.
VARIABLES: tuple[Variable, ...] = (
    Variable(REDIS_URL, "(unset)",
             "Redis URL(s) of the default L2 cache tier (`redis://[:password@]host:port/db`, "
             "comma-separated for ring nodes): `TieredCache()` without `l2=` uses it, as do "
             "`swfast demo` and `swfast info`. Unset: no L2. Credentials in it never reach logs, "
             "metric labels or `swfast info`.", secret=True),
    Variable(KAFKA_BOOTSTRAP_SERVERS, "(unset)",
             "Kafka `host:port[,host:port]` for `KafkaService()` without `bootstrap_servers`. Set but "
             "unreachable: `connect()` raises `BrokerUnavailable`. Unset: the in-process embedded "
             "transport, announced once at WARNING. `SWFAST_KAFKA_BOOTSTRAP` is the deprecated "
             "spelling (read, with a `DeprecationWarning`).", secret=True),
    Variable(NO_EXTENSIONS, "(unset)",
             "Any value other than empty, `0`, `false`, `no` or `off` forces the pure-Python twins instead of the compiled "
             "kernels (read once, at `import swfast`)."),
    Variable(NUMBA, "`1`", "`0` keeps the statistics kernels off Numba even when it is installed."),
    Variable(NUMBA_CACHE, "`1`", "`0` disables Numba's on-disk compilation cache."),
    Variable(LOG, "(unset)",
             "`swfast.logging.configure()` settings, `;`-separated: `level=INFO;format=json;"
             "sinks=stderr,file:logs/app.log?max_bytes=10MB&when=1d&backup_count=7,kafka:topic,"
             "elastic:http://host:9200/index;redact=1;service=api;version=1.2` (format: json, text or ecs; "
             "arguments win; see Logging)."),
    Variable(LOG_PSEUDONYM_KEY, "(unset)",
             "Key of the keyed-hash pseudonyms (`SensitiveDataFilter(mode=\"pseudonymise\")` and security "
             "events' user ids): set it to keep pseudonyms stable across processes and restarts; unset: a "
             "random key per process (never shown).", secret="full"),
    Variable(SERVICE_NAME, "(unset)", "Service name `swfast.logging` adds to every record (`service`)."),
    Variable(SERVICE_VERSION, "(unset)", "Service version `swfast.logging` adds to every record (`version`)."),
    Variable(MASTER_KEY, "(unset)", "Base64 master key of `swfast.security` key management (never shown).",
             secret="full"),
    Variable(MASTER_KEY_FILE, "(unset)", "Path of a mode-0600 file holding the master key instead."),
    Variable(MULTIPROC_DIR, "(unset)",
             "Directory of `swfast.monitoring.MultiProcessDir` (metrics shared by worker processes) when "
             "no `path` is given."),
    Variable(REQUIRE_SERVICES, "(unset)",
             "Tests only: `1` makes a test that cannot start its Redis/Kafka server fail instead of skip."),
)

_warned: set[str] = set()


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def get(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of a documented variable, or None when unset or blank."""
    if name not in _BY_NAME:
        raise KeyError(f"{name!r} is not a documented swfast variable; see swfast.config.VARIABLES")
    value = _env(env).get(name, "").strip()
    return value or None


def redis_url(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_REDIS_URL``: the default L2's Redis URL, or None."""
    return get(REDIS_URL, env)


def _deprecated(old: str, new: str) -> None:
    if old in _warned:
        return
    _warned.add(old)
    import logging
    import warnings

    msg = f"{old} is deprecated; set {new} instead (same value)"
    warnings.warn(msg, DeprecationWarning, stacklevel=4)
    logging.getLogger("swfast.config").warning(msg)


def kafka_bootstrap(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_KAFKA_BOOTSTRAP_SERVERS`` (or, deprecated, ``SWFAST_KAFKA_BOOTSTRAP``), or None."""
    value = get(KAFKA_BOOTSTRAP_SERVERS, env)
    old = _env(env).get(KAFKA_BOOTSTRAP_DEPRECATED, "").strip()
    if old:
        _deprecated(KAFKA_BOOTSTRAP_DEPRECATED, KAFKA_BOOTSTRAP_SERVERS)
        if value is None:
            return old
    return value


def kafka_variable(env: Mapping[str, str] | None = None) -> str:
    """The name the Kafka bootstrap value came from (the deprecated one only when it alone is set)."""
    e = _env(env)
    if not e.get(KAFKA_BOOTSTRAP_SERVERS, "").strip() and e.get(KAFKA_BOOTSTRAP_DEPRECATED, "").strip():
        return KAFKA_BOOTSTRAP_DEPRECATED
    return KAFKA_BOOTSTRAP_SERVERS


def _flag(name: str, default: bool, env: Mapping[str, str] | None) -> bool:
    value = _env(env).get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def no_extensions(env: Mapping[str, str] | None = None) -> bool:
    """``SWFAST_NO_EXTENSIONS``: True forces the pure-Python twins."""
    return _flag(NO_EXTENSIONS, False, env)


def numba_enabled(env: Mapping[str, str] | None = None) -> bool:
    """``SWFAST_NUMBA`` (default on)."""
    return _flag(NUMBA, True, env)


def numba_cache(env: Mapping[str, str] | None = None) -> bool:
    """``SWFAST_NUMBA_CACHE`` (default on)."""
    return _flag(NUMBA_CACHE, True, env)


def log_spec(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_LOG``, for the logging component."""
    return get(LOG, env)


def log_pseudonym_key(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_LOG_PSEUDONYM_KEY``: the pseudonym key of swfast.logging and security events."""
    return get(LOG_PSEUDONYM_KEY, env)


def service_name(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_SERVICE_NAME``, added to log records."""
    return get(SERVICE_NAME, env)


def service_version(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_SERVICE_VERSION``, added to log records."""
    return get(SERVICE_VERSION, env)


def master_key(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_MASTER_KEY`` (base64), for swfast.security."""
    return get(MASTER_KEY, env)


def master_key_file(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_MASTER_KEY_FILE``, for swfast.security."""
    return get(MASTER_KEY_FILE, env)


def multiproc_dir(env: Mapping[str, str] | None = None) -> str | None:
    """``SWFAST_MULTIPROC_DIR``: the directory of :class:`swfast.monitoring.MultiProcessDir`."""
    return get(MULTIPROC_DIR, env)


def require_services(env: Mapping[str, str] | None = None) -> bool:
    """``SWFAST_REQUIRE_SERVICES`` (tests)."""
    return _flag(REQUIRE_SERVICES, False, env)


def snapshot(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Every documented variable's value (None when unset); secrets redacted (user-info masked)."""
    from ._redact import redact_servers

    e = _env(env)
    out: dict[str, str | None] = {}
    for var in (*VARIABLES[:2], Variable(KAFKA_BOOTSTRAP_DEPRECATED, "", "", secret=True), *VARIABLES[2:]):
        value = e.get(var.name)
        if value is not None and var.secret == "full":
            value = "***" if value else value
        elif value is not None and var.secret:
            value = redact_servers(value)
        out[var.name] = value
    return out


def markdown_table() -> str:
    """The README table of :data:`VARIABLES`."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(rows)


_BY_NAME = {v.name: v for v in VARIABLES}
_BY_NAME[KAFKA_BOOTSTRAP_DEPRECATED] = Variable(KAFKA_BOOTSTRAP_DEPRECATED, "", "", secret=True)


def _reset_warnings() -> None:
    """Forget which deprecation notices were given (tests)."""
    _warned.clear()


__all__ = [
    "KAFKA_BOOTSTRAP_DEPRECATED", "KAFKA_BOOTSTRAP_SERVERS", "LOG", "LOG_PSEUDONYM_KEY", "MASTER_KEY", "MASTER_KEY_FILE", "MULTIPROC_DIR", "NO_EXTENSIONS", "NUMBA", "NUMBA_CACHE",
    "REDIS_URL", "REQUIRE_SERVICES", "VARIABLES", "Variable", "get", "kafka_bootstrap", "kafka_variable",
    "log_spec", "markdown_table", "master_key", "master_key_file", "multiproc_dir", "no_extensions", "numba_cache", "numba_enabled", "redis_url",
    "require_services", "snapshot",
]


# The one default bound on a whole operation, in SECONDS (SPEC: ``DEFAULT_OPERATION_TIMEOUT = 30``):
# a request/response exchange over messaging, the default ``timeout`` of a DataRequest, and the
# overall deadline of ``Retrying``. ``swfast.messaging.constants`` and ``swfast.resilience``
# re-export this object.
DEFAULT_OPERATION_TIMEOUT: float = 30
# The bound on ONE network call of the L2 tier, in SECONDS (0.05 = 50 ms): each connect and each
# reply of a Redis call waits at most this long, with no retries, so a refused or hung server
# costs at most this per cache call (the cache then serves the other tiers).
L2_CALL_TIMEOUT: float = 0.05
__all__ += ["DEFAULT_OPERATION_TIMEOUT", "L2_CALL_TIMEOUT"]
