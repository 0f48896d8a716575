"""Key patterns for ``pattern_invalidate``: ``*`` and ``?`` are the only wildcards.

Every other character is literal, including the glob metacharacters ``[``, ``]`` and ``\\``
that Redis and SQLite would otherwise interpret; write ``\\*`` or ``\\?`` for a literal star or
question mark. So ``"user:[1]*"`` means "keys starting with the literal text ``user:[1]``",
and each backend gets a correctly escaped translation.
"""
from __future__ import annotations

import re
from typing import Final

_ANY: Final = object()
_ONE: Final = object()


class KeyPattern:
    """A parsed key pattern with translations for Redis ``SCAN MATCH``, SQLite ``GLOB`` and Python.

    Args:
        pattern: the pattern text (``*`` any run, ``?`` one character, ``\\`` escapes).
    """

    __slots__ = ("text", "_parts", "_regex")

    def __init__(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"pattern: must be a non-empty str, got {pattern!r}")
        parts: list[object] = []
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):
                parts.append(pattern[i + 1])
                i += 2
                continue
            parts.append(_ANY if ch == "*" else _ONE if ch == "?" else ch)
            i += 1
        self.text = pattern
        self._parts = parts
        self._regex = re.compile(
            "".join(".*" if p is _ANY else "." if p is _ONE else re.escape(str(p)) for p in parts),
            re.DOTALL,
        )

    def matches(self, key: str) -> bool:
        """Whether ``key`` matches the whole pattern."""
        return self._regex.fullmatch(key) is not None

    def literal_prefix(self) -> str:
        """The literal text before the first wildcard."""
        out = []
        for p in self._parts:
            if p is _ANY or p is _ONE:
                break
            out.append(str(p))
        return "".join(out)

    @property
    def exact_in_redis(self) -> bool:
        """Whether :meth:`redis` matches exactly the keys :meth:`matches` does.

        Redis' ``?`` matches one *byte*, so a pattern with ``?`` is sent with ``*`` in its
        place (a superset) and the scanned keys are filtered with :meth:`matches`.
        """
        return not any(p is _ONE for p in self._parts)

    def redis(self, prefix: str = "") -> str:
        """Redis glob (for ``SCAN MATCH``) with literal parts escaped, behind ``prefix``.

        ``?`` becomes ``*`` (see :attr:`exact_in_redis`): filter the results with :meth:`matches`.
        """
        esc = {"*", "?", "[", "]", "\\", "^", "-"}
        lit = "".join("\\" + c if c in esc else c for c in prefix)
        return lit + "".join(
            "*" if p is _ANY or p is _ONE else ("\\" + str(p) if p in esc else str(p))
            for p in self._parts
        )

    def sqlite_glob(self) -> str:
        """SQLite ``GLOB`` pattern with literal ``*``, ``?`` and ``[`` put in classes."""
        def lit(c: str) -> str:
            return f"[{c}]" if c in "*?[" else c

        return "".join("*" if p is _ANY else "?" if p is _ONE else lit(str(p)) for p in self._parts)

    def __repr__(self) -> str:
        return f"KeyPattern({self.text!r})"


__all__ = ["KeyPattern"]
