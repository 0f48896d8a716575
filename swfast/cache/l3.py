"""L3: the long-lived persistent tier, SQLite in WAL mode in a private directory.

Why SQLite: one file, atomic transactions that survive a writer killed with SIGKILL, and
multi-process safety through its own locking. Every row holds a MAC-checked envelope
(:mod:`swfast.cache.envelope`) keyed by a per-directory secret, so a planted or corrupted entry
is a logged miss and nothing on disk is ever unpickled (the diskcache CVE-2025-69872 class).

Durability: ``synchronous=NORMAL`` in WAL mode, so a committed write survives the process
dying at any point; an operating-system crash can lose the last transactions but never leaves
a partial one. Failures (a full disk, a locked or corrupt file) are counted in
``swfast_cache_l3_errors_total`` and logged; ``persistent_set`` then returns ``False``.

Thread and process safety: one connection per thread and per process (re-opened after
``fork``); concurrent writers serialise on SQLite's lock with ``busy_timeout``.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .._durations import Duration, seconds
from .._native import cacheval as _k
from .._native.cacheval import SLOW
from ..errors import CacheValueTooLarge, ConfigurationError
from ..monitoring.metrics import REGISTRY
from .envelope import REJECT, Codec, recall_row, remember_row
from .serializer import Serializer, check_serializer
from .pattern import KeyPattern

log = logging.getLogger("swfast.cache.l3")
_ERRORS = REGISTRY.counter("swfast_cache_l3_errors_total", "L3 (disk) operations that failed", ("op", "kind"))
_TAMPERED = REGISTRY.counter("swfast_cache_l3_rejected_total", "L3 rows rejected by the integrity check")
_MISS = object()
_open_row, _open_entry, _loads = _k.open_row, _k.open_entry, json.loads  # module globals: one lookup each on the read path

# No secondary index: every write stays one B-tree update (cleanup scans the table instead).
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries ("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL, expire_at REAL, stored_at REAL NOT NULL,"
    " size INTEGER NOT NULL) WITHOUT ROWID",
)
_FORKS = [0]  # bumped in a forked child: connections from the parent are never reused
_CACHES: "weakref.WeakSet[PersistentCache]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    _FORKS[0] += 1
    for cache in list(_CACHES):  # the forking thread's read cursor belongs to the parent
        cache._local.fast = None


os.register_at_fork(after_in_child=_after_fork_in_child)

_GET1 = "SELECT value FROM entries WHERE key = ?"  # expiry is checked from the MAC-covered header
_PUT = "INSERT OR REPLACE INTO entries(key, value, expire_at, stored_at, size) VALUES (?, ?, ?, ?, ?)"
# Batched writes: one statement inserts c rows; ?1 = expire_at, ?2 = stored_at shared by the batch,
# size = length(value) computed by SQLite (the same byte count len(blob) gives).
_CHUNK = 64
_PUT_ROWS = {
    c: "INSERT OR REPLACE INTO entries(key, value, expire_at, stored_at, size) VALUES "
    + ",".join(f"(?{2 * i + 3}, ?{2 * i + 4}, ?1, ?2, length(?{2 * i + 4}))" for i in range(c))
    for c in (64, 32, 16, 8, 4, 2, 1)
}


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise ConfigurationError("directory", f"{path} belongs to uid {st.st_uid}, not to this user")
    if st.st_mode & 0o077:
        log.warning("L3 directory %s had mode %o; tightening it to 0700", path, st.st_mode & 0o777)
        path.chmod(0o700)


def _load_key(path: Path) -> bytes:
    """Read the directory's MAC key, creating it atomically (O_EXCL + link) on first use."""
    final = path / "mac.key"
    if not final.exists():
        tmp = path / f".mac.key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, final)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = final.read_bytes()
    if len(key) != 32:
        raise ConfigurationError("directory", f"{final} is not a 32-byte key; remove it to start a new cache")
    return key


class _Local(threading.local):
    """Per-thread connection, its fork generation, and the cursor for point reads.

    ``fast`` is cleared in a forked child (:func:`_after_fork_in_child`), so the read path
    needs no generation check.
    """

    conn: sqlite3.Connection | None = None
    gen = -1
    fast: sqlite3.Cursor | None = None


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends some failed ones itself)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


class PersistentCache:
    """L3 cache in ``directory`` (created 0700).

    Args:
        directory: where the database and its key live; private to this user.
        max_bytes: size limit for stored values, enforced by :meth:`cleanup` (oldest first).
        default_ttl: lifetime when ``persistent_set`` gets none (``None`` = forever): float
            seconds, a ``timedelta`` or a string such as ``"7d"``.
        max_key_bytes: longer keys raise :class:`CacheValueTooLarge`.
        max_value_bytes: larger encoded values raise :class:`CacheValueTooLarge`.
        compress_threshold: values at least this long are lz4-compressed.
        busy_timeout: how long a writer waits for another process's lock (seconds,
            ``timedelta`` or ``"10s"``).
        clock: wall clock in Unix seconds (entries outlive the process, so not monotonic).
        serializer: stores values other than bytes/str/exact JSON data (see
            :mod:`swfast.cache.serializer`; e.g. :class:`~swfast.cache.TaggedSerializer`).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int = 1 << 30,
        default_ttl: Duration | None = 7 * 86400.0,
        max_key_bytes: int = 1024,
        max_value_bytes: int = 64 << 20,
        compress_threshold: int | None = 4096,
        busy_timeout: Duration = 10.0,
        clock: Callable[[], float] = time.time,
        serializer: Serializer | None = None,
    ) -> None:
        check_serializer(serializer)
        if max_bytes < 1:
            raise ConfigurationError("max_bytes", "must be >= 1")
        default_ttl = seconds(default_ttl, param="default_ttl", allow_zero=False, allow_none=True)
        wait = seconds(busy_timeout, param="busy_timeout")
        self.directory = Path(directory)
        _private_dir(self.directory)
        self.codec = Codec(
            mac_key=_load_key(self.directory), compress_threshold=compress_threshold,
            max_value_bytes=max_value_bytes, serializer=serializer,
        )
        self.max_bytes = max_bytes
        self.default_ttl = default_ttl
        self.max_key_bytes = max_key_bytes
        self.busy_timeout: float = wait  # type: ignore[assignment]
        self.clock = clock
        self._path = str(self.directory / "cache.sqlite3")
        self._local = _Local()
        self._sip: bytes = self.codec._sip  # type: ignore[assignment]  # the 32-byte MAC key
        _CACHES.add(self)
        self._conn()  # create the schema now, so configuration errors surface here

    # -- connections ---------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = local.conn
        if conn is not None and local.gen == _FORKS[0]:
            return conn
        conn = sqlite3.connect(self._path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for stmt in _SCHEMA:
            conn.execute(stmt)
        os.chmod(self._path, 0o600)
        local.conn, local.gen = conn, _FORKS[0]
        local.fast = conn.cursor()  # reused by single-row reads (no cursor per call)
        return conn

    def _cursor(self) -> sqlite3.Cursor:
        """This thread's cursor for single-row reads (never shared across threads or forks)."""
        self._conn()
        return self._local.fast  # type: ignore[return-value]

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = self._local.conn
        if conn is not None and self._local.gen == _FORKS[0]:
            conn.close()
        self._local.conn = self._local.fast = None

    def _fail(self, op: str, exc: BaseException) -> None:
        text = str(exc).lower()
        kind = "full" if ("full" in text or getattr(exc, "errno", None) == 28) else (
            "locked" if "locked" in text or "busy" in text else "error")
        _ERRORS.labels(op, kind).inc()
        log.error("L3 %s failed (%s): %s", op, kind, exc)

    def _key(self, key: str) -> bytes:
        if not isinstance(key, str):
            raise TypeError(f"key: L3 keys must be str, got {type(key).__name__}")
        raw = key.encode()
        if len(raw) > self.max_key_bytes:
            raise CacheValueTooLarge(
                f"key: {len(raw)} bytes exceeds max_key_bytes={self.max_key_bytes}; hash long keys first",
                size=len(raw), limit=self.max_key_bytes,
            )
        return raw

    def _expiry(self, ttl: float | None, now: float) -> float | None:
        ttl = self.default_ttl if ttl is None else ttl
        if ttl is not None and ttl < 0:
            raise ValueError(f"ttl: must be >= 0 seconds, got {ttl!r}")
        return None if ttl is None else now + ttl

    def encode(self, key: str, value: Any, ttl: float | None = None) -> bytes:
        """The row blob for a write, without writing: every check of :meth:`persistent_set`.

        Raises:
            CacheValueTooLarge: the key or value is over its limit.
            CacheSerializationError: (a ``TypeError``) the value would not read back unchanged.
        """
        now = self.clock()
        exp = self._expiry(ttl, now)
        blob = self.codec.encode(value, exp, self._key(key))
        remember_row(self, key, value, ttl, (now, exp, blob))  # the write that follows reuses it
        return blob

    # -- public API ----------------------------------------------------------------------
    def get_entry(self, key: str) -> tuple[Any, float | None] | None:
        """``(value, expires_at)`` for a fresh, intact entry, else ``None``; errors are misses."""
        if type(key) is not str:
            raise TypeError(f"key: L3 keys must be str, got {type(key).__name__}")
        try:
            row = (self._local.fast or self._cursor()).execute(_GET1, (key,)).fetchone()
        except sqlite3.Error as exc:
            self._fail("get", exc)
            return None
        entry = _open_entry(row, self._sip, key, self.clock(), _loads)  # one kernel call
        if entry is SLOW:  # lz4-compressed: the codec's Python path (it checks the MAC again)
            entry = self.codec.decode(row[0], key.encode(), self.clock())
        if entry is REJECT:
            _TAMPERED.inc()
            log.warning("L3 entry %r failed its integrity check; treated as a miss", key)
            return None
        return entry  # type: ignore[no-any-return]

    def persistent_get(self, key: str, default: Any = None) -> Any:
        """The stored value of ``key``, or ``default`` when absent, expired or rejected."""
        if type(key) is not str:
            raise TypeError(f"key: L3 keys must be str, got {type(key).__name__}")
        cur = self._local.fast or self._cursor()
        try:
            row = cur.execute(_GET1, (key,)).fetchone()
        except sqlite3.Error as exc:
            self._fail("get", exc)
            return default
        # MAC check, expiry, header parse and decode in one kernel call
        value = _open_row(row, self._sip, key, self.clock(), _loads, default)
        if value is SLOW:  # lz4-compressed: the codec's Python path (it checks the MAC again)
            value = self.codec.decode(row[0], key.encode(), self.clock())
            value = default if value is None else value if value is REJECT else value[0]
        if value is REJECT:
            _TAMPERED.inc()
            log.warning("L3 entry %r failed its integrity check; treated as a miss", key)
            return default
        return value

    def persistent_set(self, key: str, value: Any, ttl: float | None = None) -> bool:
        """Store ``value`` for ``ttl`` seconds (default ``default_ttl``); ``ttl=0`` deletes.

        Returns:
            ``True`` when committed, ``False`` when the disk refused it (counted and logged).

        Raises:
            CacheValueTooLarge: the key or value is over its limit; nothing is written.
            CacheSerializationError: (a ``TypeError``) the value would not read back unchanged
                (see :mod:`swfast.cache.serializer`).
        """
        row = recall_row(self, key, value, ttl)  # checked and encoded by encode() just before
        if row is not None:
            now, exp, blob = row
        else:
            now = self.clock()
            exp = self._expiry(ttl, now)
            raw = self._key(key)
            blob = None if exp is not None and exp <= now else self.codec.encode(value, exp, raw)
        if blob is None or (exp is not None and exp <= now):
            return self.persistent_set_many({key: value}, ttl)  # ttl=0: a delete
        try:
            self._conn().execute(_PUT, (key, blob, exp, now, len(blob)))  # its own transaction
        except (sqlite3.Error, OSError) as exc:
            self._fail("set", exc)
            return False
        return True

    def persistent_set_many(self, items: Mapping[str, Any], ttl: float | None = None) -> bool:
        """Store many entries in one transaction (the batched write path); all or nothing."""
        now = self.clock()
        exp = self._expiry(ttl, now)
        if exp is not None and exp <= now:  # ttl=0: a delete
            for key in items:
                self._key(key)  # invalid keys raise before any write
            return self._delete_batch([(k,) for k in items])
        params: list[Any] = []
        pending: Iterable[tuple[str, Any]] = items.items()
        if type(items) is dict:
            # bytes/str values: envelope + MAC for the whole batch in one kernel call
            th = self.codec.compress_threshold
            params, pending = _k.encode_rows(items, self._sip, 0 if exp is None else max(1, int(exp * 1000)),
                                             self.max_key_bytes, self.codec.max_value_bytes, -1 if th is None else th)
        for key, value in pending:  # JSON, compressed, or invalid (raises before any write)
            params += (key, self.codec.encode(value, exp, self._key(key)))
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                i, n = 0, len(params) // 2
                while i < n:  # multi-row INSERTs of 64, 32, ... 1 rows: a handful of cached statements
                    c = _CHUNK if n - i >= _CHUNK else 1 << ((n - i).bit_length() - 1)
                    conn.execute(_PUT_ROWS[c], [exp, now, *params[2 * i : 2 * (i + c)]])
                    i += c
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        except (sqlite3.Error, OSError) as exc:
            self._fail("set", exc)
            return False
        return True

    def _delete_batch(self, keys: list[tuple[str]]) -> bool:
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM entries WHERE key = ?", keys)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        except (sqlite3.Error, OSError) as exc:
            self._fail("set", exc)
            return False
        return True

    def persistent_delete(self, keys: Iterable[str]) -> int:
        """Delete ``keys``; returns how many existed. Raises ``sqlite3.Error`` on failure."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            n = conn.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k in keys]).rowcount
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return max(n, 0)

    def delete_matching(self, pattern: KeyPattern) -> int:
        """Delete every key matching ``pattern``; returns the count."""
        cur = self._conn().execute("DELETE FROM entries WHERE key GLOB ?", (pattern.sqlite_glob(),))
        return max(cur.rowcount, 0)

    def clear(self) -> None:
        """Delete every entry."""
        self._conn().execute("DELETE FROM entries")

    def cleanup(self) -> dict[str, int]:
        """Remove expired rows, then the oldest rows until stored bytes fit ``max_bytes``.

        Returns:
            ``{"expired": n, "evicted": m, "bytes": remaining_bytes}``.
        """
        now = self.clock()
        conn = self._conn()
        try:
            expired = conn.execute("DELETE FROM entries WHERE expire_at IS NOT NULL AND expire_at <= ?", (now,)).rowcount
            total = conn.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0]
            evicted = 0
            if total > self.max_bytes:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for key, size in conn.execute("SELECT key, size FROM entries ORDER BY stored_at").fetchall():
                        if total <= self.max_bytes:
                            break
                        conn.execute("DELETE FROM entries WHERE key = ?", (key,))
                        total -= size
                        evicted += 1
                    conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            self._fail("cleanup", exc)
            raise
        return {"expired": max(expired, 0), "evicted": evicted, "bytes": int(total)}

    def stats(self) -> dict[str, int]:
        """Entry count and stored bytes (expired rows included until :meth:`cleanup`)."""
        n, b = self._conn().execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()
        return {"entries": int(n), "bytes": int(b)}


__all__ = ["PersistentCache"]
