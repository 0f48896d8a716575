"""Refuse regular expressions that can backtrack catastrophically.

Python's ``re`` is a backtracking engine without a timeout, so a schema ``pattern`` such as
``^(a+)+$`` can take exponential time on ``"aaaa…b"``. Before compiling, the pattern is parsed
and refused when an unbounded repeat contains another unbounded repeat (``(a+)+``, ``(a*)*``,
``(\\w+\\s?)*``) or an alternation whose branches can match the same text under an unbounded
repeat (``(a|a)*``, ``(a|ab)*``). Such patterns can almost always be rewritten (``^a+$``).
"""
from __future__ import annotations

import importlib
import re
import sys
from functools import lru_cache
from typing import Any

_NEW_RE = sys.version_info >= (3, 11)  # the parser moved into the re package in 3.11
_sc: Any = importlib.import_module("re._constants" if _NEW_RE else "sre_constants")
_sp: Any = importlib.import_module("re._parser" if _NEW_RE else "sre_parse")

_REPEATS = {_sc.MAX_REPEAT, _sc.MIN_REPEAT, getattr(_sc, "POSSESSIVE_REPEAT", None)} - {None}
_UNBOUNDED = _sc.MAXREPEAT


def _first_chars(seq: Any) -> set[Any] | None:
    """Return the literals a subpattern can start with, or None when not a plain literal set."""
    for op, av in seq:
        if op == _sc.LITERAL:
            return {av}
        if op == _sc.SUBPATTERN:
            return _first_chars(av[-1])
        return None
    return set()


def _flat(seq: Any) -> Any:
    """Unwrap a body that is a single group: ``(...)+`` repeats the group's contents."""
    items = list(seq)
    while len(items) == 1 and items[0][0] == _sc.SUBPATTERN:
        items = list(items[0][1][-1])
    return items


def _has_unbounded(seq: Any) -> bool:
    for op, av in seq:
        if op in _REPEATS:
            if av[1] == _UNBOUNDED or _has_unbounded(av[2]):
                return True
        elif op == _sc.SUBPATTERN:
            if _has_unbounded(av[-1]):
                return True
        elif op == _sc.BRANCH:
            if any(_has_unbounded(b) for b in av[1]):
                return True
    return False


def _overlapping_branch(seq: Any) -> bool:
    for op, av in seq:
        if op == _sc.BRANCH:
            firsts = [_first_chars(b) for b in av[1]]
            seen: set[Any] = set()
            for f in firsts:
                if f is None:  # a class or category: only provable overlaps are refused
                    continue
                if f & seen or not f:
                    return True
                seen |= f
        elif op == _sc.SUBPATTERN and _overlapping_branch(av[-1]):
            return True
    return False


def _class_chars(op: Any, av: Any) -> set[int] | None:
    """Code points a one-character item matches, or None when not a small known set."""
    if op == _sc.LITERAL:
        return {av}
    if op == _sc.IN:
        out: set[int] = set()
        for iop, iav in av:
            if iop == _sc.LITERAL:
                out.add(iav)
            elif iop == _sc.RANGE and iav[1] - iav[0] < 4096:
                out.update(range(iav[0], iav[1] + 1))
            else:
                return None
        return out
    return None


def _separated(body: Any) -> bool:
    """True when every inner unbounded repeat is a character class that cannot match some
    mandatory literal of ``body``: each iteration then has an unambiguous end, as in
    ``([a-z0-9-]+\\.)+`` or ``(\\.[a-z]+)*``."""
    literals = {av for op, av in body if op == _sc.LITERAL}
    if not literals:
        return False
    for op, av in body:
        if op in _REPEATS and av[1] == _UNBOUNDED:
            inner = av[2]
            if len(inner) != 1:
                return False
            chars = _class_chars(*inner[0])
            if chars is None or not (literals - chars):
                return False
        elif op in _REPEATS or op in (_sc.SUBPATTERN, _sc.BRANCH):
            if _has_unbounded([(op, av)]):
                return False
    return True


def find_hazard(parsed: Any, inside_unbounded: bool = False) -> str | None:
    """Return a description of the first backtracking hazard in a parsed pattern, or None."""
    for op, av in parsed:
        if op in _REPEATS:
            body = av[2]
            unbounded = av[1] == _UNBOUNDED
            if unbounded and op != getattr(_sc, "POSSESSIVE_REPEAT", object()):
                if _has_unbounded(body) and not _separated(_flat(body)):
                    return "an unbounded repeat nested inside another unbounded repeat"
                if _overlapping_branch(body):
                    return "an alternation with overlapping branches under an unbounded repeat"
            hazard = find_hazard(body, inside_unbounded or unbounded)
            if hazard:
                return hazard
        elif op == _sc.SUBPATTERN:
            hazard = find_hazard(av[-1], inside_unbounded)
            if hazard:
                return hazard
        elif op == _sc.BRANCH:
            for branch in av[1]:
                hazard = find_hazard(branch, inside_unbounded)
                if hazard:
                    return hazard
    return None


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, *, safe: bool = True) -> re.Pattern[str]:
    """Compile ``pattern`` (Python ``re`` syntax, searched unanchored as JSON Schema asks).

    Args:
        pattern: the regular expression.
        safe: refuse patterns prone to catastrophic backtracking.

    Raises:
        ValueError: the pattern is unsafe (the message names the hazard and the fix).
        re.error: the pattern does not compile.
    """
    if safe:
        hazard = find_hazard(_sp.parse(pattern))
        if hazard:
            raise ValueError(f"refused: {hazard} can backtrack catastrophically; rewrite it "
                             f"(for example '(a+)+' as 'a+') or pass safe_regex=False")
    return re.compile(pattern)


__all__ = ["compile_pattern", "find_hazard"]
