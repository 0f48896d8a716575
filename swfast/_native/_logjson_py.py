"""Pure-Python twin of the compiled log-record JSON renderer (``_logjson_c.pyx``).

Same signature and the same document: the fixed fields, then every extra of ``d`` in insertion
order (``extra.<name>`` for names in ``taken``), serialised by ``fallback`` (the formatter's
encoder). Numbers may differ in spelling only (``1e-05`` against ``1e-5``), never in value.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Collection, Mapping


def render(d: Mapping[str, Any], skip: int, first: str, reserved: Collection[str], taken: Collection[str],
           names: tuple[str, str, str, str], stamp: str, level: str, logger: str, message: str,
           fallback: Callable[[Any], bytes], adds: Mapping[str, Any] | None = None) -> bytes:
    """The JSON line of one record (``adds``: fields written after its extras)."""
    out: dict[str, Any] = {names[0]: stamp, names[1]: level, names[2]: logger, names[3]: message}
    items = islice(d.items(), skip, None) if next(iter(d), None) == first and len(d) >= skip else d.items()
    for key, value in items:
        key = key if isinstance(key, str) else str(key)
        if key not in reserved:
            out["extra." + key if key in taken else key] = value
    for key, value in (adds or {}).items():
        out["extra." + key if key in taken else key] = value
    return fallback(out)


_MS = [f".{i:03d}Z" for i in range(1001)]


class RecordRenderer:
    """``JSONLogFormatter.render`` for the common record, in one call: ``renderer(record)`` is the
    JSON line, or ``None`` when the record needs the general path (an exception or stack, a
    non-str ``msg``/``name``/``levelname``, a failing ``msg % args``, a record subclass, a
    ``created`` that is not a float in [0, 1e17)).

    The timestamp is ``record.created`` in UTC with milliseconds, the per-second prefix cached
    (``time.strftime`` once a second), exactly as ``swfast.logging._common.UTCStamp``.
    """

    def __init__(self, cls: type, skip: int, first: str, reserved: Collection[str], taken: Collection[str],
                 names: tuple[str, str, str, str], fallback: Callable[[Any], bytes],
                 gmstrftime: Callable[[int], str]) -> None:
        self.cls, self.skip, self.first, self.reserved, self.taken = cls, skip, first, reserved, taken
        self.names, self.fallback, self.gmstrftime = names, fallback, gmstrftime
        self._cache: tuple[int | None, str] = (None, "")

    def stamp(self, created: float) -> str:
        sec = int(created)
        cached, prefix = self._cache
        if sec != cached:
            prefix = self.gmstrftime(sec)
            self._cache = (sec, prefix)
        return prefix + _MS[int((created - sec) * 1000)]

    def render_with(self, record: Any, message: str, adds: Mapping[str, Any]) -> bytes | None:
        """The line of ``record`` with ``message`` as its message and the str-keyed fields ``adds``
        appended after its extras (``None`` when the record needs the general path); what a
        processed copy (``msg`` replaced, fields added) would render as, without the copy."""
        if type(record) is not self.cls:
            return None
        return self._line(record.__dict__, message, adds)

    def render_processed(self, record: Any, message: str, ctx: Mapping[str, Any],
                         fields: tuple[tuple[str, Any], ...], as_str: bool = False) -> bytes | str | None:
        """``render_with(record, message, adds)`` where ``adds`` are the entries of ``ctx`` (str
        keys) and then the ``(name, value)`` pairs ``fields`` whose names are neither in the
        record, nor reserved, nor (for ``fields``) in ``ctx``; as str when ``as_str``."""
        if type(record) is not self.cls:
            return None
        d = record.__dict__
        adds: dict[str, Any] = {}
        for key, value in ctx.items():
            if type(key) is not str:
                return None
            if key not in d and key not in self.reserved:
                adds[key] = value
        for key, value in fields:
            if key not in d and key not in self.reserved and key not in ctx:
                adds[key] = value
        line = self._line(d, message, adds)
        return line.decode("utf-8", "surrogatepass") if as_str and line is not None else line

    def _line(self, d: Mapping[str, Any], message: str, adds: Mapping[str, Any] | None) -> bytes | None:
        level, name, created = d.get("levelname"), d.get("name"), d.get("created")
        if type(level) is not str or type(name) is not str or type(created) is not float:
            return None
        if not 0.0 <= created < 1e17:  # negative, NaN, huge: the general path
            return None
        return render(d, self.skip, self.first, self.reserved, self.taken, self.names, self.stamp(created), level,
                      name, message, self.fallback, adds)

    def __call__(self, record: Any) -> bytes | None:
        if type(record) is not self.cls:
            return None
        d = record.__dict__
        if any(d.get(key, 0) is not None for key in ("exc_info", "exc_text", "stack_info")) or "_swfast_exc" in d:
            return None
        level, name, msg = d.get("levelname"), d.get("name"), d.get("msg")
        if type(level) is not str or type(name) is not str or type(msg) is not str:
            return None
        if d.get("_swfast_done"):
            message = msg
        else:
            if "args" not in d:
                return None
            args = d["args"]
            if args:
                try:
                    message = msg % args
                except Exception:  # noqa: BLE001 - the general path reports it
                    return None
                if type(message) is not str:
                    return None
            else:
                message = msg
        return self._line(d, message, None)
