"""``FileLogHandler``: one writer per file, rotation by size and time, retention, gzip.

* ``write_log(line)`` appends one whole line under the file's writer lock; a rotation happens
  *between* lines, so no record is split or lost across files.
* ``rotate_files()`` renames ``app.log`` → ``app.log.1`` → … (``.gz`` when ``compress``) when the
  next line would pass ``max_bytes`` (``"10 MB"``) or the ``when`` interval (``"1 day"``) elapsed.
* ``cleanup_old()`` deletes rotated files beyond ``backup_count`` or older than ``max_age``.
* All handlers of one path in a process share one writer (one descriptor, one lock); the same
  record reaching two of them is written once. Another *process* opening the path is refused
  with :class:`~swfast.errors.LogFileInUse` (an advisory ``flock`` on ``<file>.lock``): route its
  records through one writer (``logging.handlers.QueueHandler`` → a ``QueueListener`` holding
  this handler) instead. A forked child re-acquires the lock, so it is refused the same way.

Clock injection (``clock=``) keeps time-rotation tests off the wall clock.
"""
from __future__ import annotations

import gzip
import logging
import os
import shutil
import sys
import threading
import time
from typing import Any, Callable

from swfast.logging._common import Counters, duration, size
from swfast.logging.formatters import JSONLogFormatter, escape_line

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no cross-process lock
    fcntl = None  # type: ignore[assignment]


class _Writer:
    """The single writer of one path in this process."""

    def __init__(self, path: str, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.lock = threading.RLock()
        self.fd = -1
        self.lock_fd = -1
        self.size = 0
        self.users = 0
        self.last_record: Any = None
        self.pid = os.getpid()

    def open(self) -> None:
        from swfast.errors import ConfigurationError, LogFileInUse

        directory = os.path.dirname(self.path) or "."
        try:
            os.makedirs(directory, exist_ok=True)
            if fcntl is not None and self.lock_fd < 0:
                lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(lock_fd)
                    raise LogFileInUse(
                        f"{self.path} is already written by another process; send this process's records "
                        "to that writer (logging.handlers.QueueHandler + QueueListener) or use another file"
                    ) from None
                self.lock_fd = lock_fd
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.size = os.fstat(self.fd).st_size
        except (PermissionError, IsADirectoryError, NotADirectoryError, FileNotFoundError) as exc:
            raise ConfigurationError("filename", f"cannot write {self.path!r}: {exc.strerror or exc}") from None

    def close(self) -> None:
        for attr in ("fd", "lock_fd"):
            fd = getattr(self, attr)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, -1)


_WRITERS: dict[str, _Writer] = {}
_WRITERS_LOCK = threading.Lock()


def _after_fork_child() -> None:
    global _WRITERS_LOCK
    _WRITERS_LOCK = threading.Lock()
    for writer in list(_WRITERS.values()):
        writer.lock = threading.RLock()
        # The inherited descriptors share the parent's lock: drop them; the child re-opens (and
        # is refused while the parent writes) on its first record.
        writer.close()
        writer.pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)


class FileLogHandler(logging.Handler):
    """A file handler with size/time rotation and retention (see the module docstring).

    Args:
        filename: log file path (default ``swfast.log``).
        max_bytes: rotate before a line would pass this size (int or ``"10 MB"``; 0 = never).
        when: rotate after this interval (``"1 day"``, ``"1h"``, seconds; None = never).
        backup_count: rotated files to keep (0 = keep all, subject to ``max_age``).
        max_age: delete rotated files older than this (``"7 days"``).
        compress: gzip rotated files.
        encoding: file encoding (UTF-8).
        delay: open the file on the first record instead of now.
        clock: time source (seconds since the epoch), for tests.
    """

    def __init__(self, filename: str | os.PathLike[str] = "swfast.log", *, max_bytes: int | str = 0,
                 when: float | str | None = None, backup_count: int = 0, max_age: float | str | None = None,
                 compress: bool = False, encoding: str = "utf-8", delay: bool = False,
                 clock: Callable[[], float] = time.time, level: int = logging.NOTSET) -> None:
        from swfast.errors import ConfigurationError

        super().__init__(level)
        self.baseFilename = os.path.abspath(os.fspath(filename))
        self.max_bytes = size(max_bytes, param="max_bytes")
        self.interval = duration(when, param="when") if when is not None else None
        if not isinstance(backup_count, int) or backup_count < 0:
            raise ConfigurationError("backup_count", f"must be an int >= 0, got {backup_count!r}")
        self.backup_count = backup_count
        self.max_age = duration(max_age, param="max_age") if max_age is not None else None
        self.compress = bool(compress)
        self.encoding = encoding
        self.clock = clock
        self.counters = Counters("file")
        self.formatter = JSONLogFormatter()
        self._next_rollover = self.clock() + self.interval if self.interval else float("inf")
        with _WRITERS_LOCK:
            writer = _WRITERS.get(self.baseFilename)
            if writer is None:
                writer = _WRITERS[self.baseFilename] = _Writer(self.baseFilename, encoding)
            writer.users += 1
        self._writer = writer
        self._closed = False
        if not delay:
            with writer.lock:
                if writer.fd < 0:
                    writer.open()

    # ----------------------------------------------------------------- write
    def write_log(self, line: str | bytes) -> None:
        """Append one line (a newline is added; embedded line breaks are escaped)."""
        if isinstance(line, str):
            if "\n" in line or "\r" in line:
                line = escape_line(line)
            data = (line + "\n").encode(self.encoding, "surrogateescape")
        else:
            data = line.replace(b"\n", b"\\n").replace(b"\r", b"\\r") + b"\n"
        w = self._writer
        with w.lock:
            if w.fd < 0 or w.pid != os.getpid():
                w.pid = os.getpid()
                w.open()
            if self._should_rotate(w, len(data)):
                if w.size:
                    self._rotate_locked(w)
                else:  # nothing written this interval: no empty file, just the next deadline
                    self._advance()
            os.write(w.fd, data)
            w.size += len(data)

    def _should_rotate(self, w: _Writer, incoming: int) -> bool:
        if self.max_bytes and w.size > 0 and w.size + incoming > self.max_bytes:
            return True
        return self.interval is not None and self.clock() >= self._next_rollover

    def emit(self, record: logging.LogRecord) -> None:
        w = self._writer
        if w.last_record is record:  # two handlers of one file carry the same record: write once
            return
        try:
            fmt = self.formatter
            if isinstance(fmt, JSONLogFormatter):
                data: str | bytes = fmt.render(record)
            else:
                data = self.format(record)
            self.write_log(data)
            w.last_record = record
            self.counters.add("written")
        except Exception as exc:  # noqa: BLE001 - a full disk must not crash the application
            self.counters.add("dropped")
            if not getattr(self, "_reported", False):
                self._reported = True
                try:
                    sys.stderr.write(f"swfast.logging: cannot write {self.baseFilename}: {exc}; "
                                     "records are dropped and counted\n")
                except Exception:  # noqa: BLE001
                    pass

    # --------------------------------------------------------------- rotation
    def rotate_files(self) -> None:
        """Rotate now: ``app.log`` becomes ``app.log.1`` (``.gz`` when compressing)."""
        w = self._writer
        with w.lock:
            if w.fd < 0:
                w.open()
            self._rotate_locked(w)

    def _name(self, n: int) -> str:
        return f"{self.baseFilename}.{n}" + (".gz" if self.compress else "")

    def _rotated(self) -> list[tuple[int, str]]:
        directory = os.path.dirname(self.baseFilename)
        base = os.path.basename(self.baseFilename) + "."
        out = []
        for name in os.listdir(directory):
            if name.startswith(base):
                rest = name[len(base):].removesuffix(".gz")
                if rest.isdigit():
                    out.append((int(rest), os.path.join(directory, name)))
        return sorted(out)

    def _rotate_locked(self, w: _Writer) -> None:
        os.close(w.fd)
        w.fd = -1
        existing = self._rotated()
        for n, path in reversed(existing):
            if self.backup_count and n >= self.backup_count:
                os.remove(path)
                continue
            os.replace(path, self._shift(path, n))
        first = f"{self.baseFilename}.1"
        if os.path.exists(self.baseFilename):
            os.replace(self.baseFilename, first)
            if self.compress:
                with open(first, "rb") as src, gzip.open(first + ".gz", "wb", compresslevel=6) as dst:
                    shutil.copyfileobj(src, dst)
                os.remove(first)
        w.fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        w.size = 0
        self._advance()
        self.counters.add("rotations")
        self.cleanup_old()

    def _advance(self) -> None:
        if self.interval:
            now = self.clock()
            while self._next_rollover <= now:
                self._next_rollover += self.interval

    def _shift(self, path: str, n: int) -> str:
        suffix = ".gz" if path.endswith(".gz") else ""
        return f"{self.baseFilename}.{n + 1}{suffix}"

    def cleanup_old(self, max_age: float | str | None = None, keep: int | None = None) -> list[str]:
        """Delete rotated files older than ``max_age`` or beyond ``keep``; returns the removed paths."""
        age = duration(max_age, param="max_age") if max_age is not None else self.max_age
        keep = self.backup_count if keep is None else keep
        removed = []
        now = self.clock()
        for n, path in self._rotated():
            too_many = bool(keep) and n > keep
            try:
                too_old = age is not None and now - os.path.getmtime(path) > age
            except OSError:
                continue
            if too_many or too_old:
                try:
                    os.remove(path)
                    removed.append(path)
                except OSError:
                    pass
        return removed

    # -------------------------------------------------------------- lifecycle
    def flush(self) -> None:  # os.write is unbuffered: nothing to flush
        pass

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with _WRITERS_LOCK:
                w = self._writer
                w.users -= 1
                if w.users <= 0:
                    with w.lock:
                        w.close()
                    _WRITERS.pop(self.baseFilename, None)
        super().close()

    def __repr__(self) -> str:
        return f"<FileLogHandler {self.baseFilename} ({logging.getLevelName(self.level)})>"


__all__ = ["FileLogHandler"]
