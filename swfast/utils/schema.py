"""Compiled JSON Schema validation (draft 7 and 2020-12).

``compile_schema(schema)`` turns a schema into a :class:`Validator` once, cached by the schema's
canonical hash, so the hot path is a walk over compiled kernel nodes (Cython, with a pure-Python
twin) rather than a dictionary interpretation of the schema:

>>> v = compile_schema({"type": "object", "required": ["id"]})
>>> v.is_valid({"id": 1})
True

Supported keywords and the ones refused with :class:`~swfast.errors.SchemaError` are listed in
``swfast.utils._schema_compile`` (``SUPPORTED``, ``UNSUPPORTED``, ``CROSS_DRAFT``). ``format`` is
an annotation (not asserted), as in both drafts by default. Regex ``pattern`` uses Python ``re``
syntax (as ``jsonschema`` does), so ``\\d`` matches any Unicode digit where ECMA-262 matches only
ASCII; patterns prone to catastrophic backtracking are refused unless ``safe_regex=False``.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from .._native import jsonschema as _kernel
from .._native.jsonschema import Node
from ..errors import SchemaError, ValidationError
from ..monitoring.metrics import REGISTRY
from ._schema_compile import DRAFT2020, Compiler, detect_draft

DEFAULT_MAX_DEPTH = 256
_FAILURES = REGISTRY.counter("swfast_validation_failures_total",
                             "Documents rejected by compiled schema validators, by first keyword",
                             ("keyword",))
_CACHE_SIZE = 512


def format_path(parts: tuple[Any, ...]) -> str:
    """Render a data path as ``payload.tags[2]`` (``""`` for the root)."""
    out: list[str] = []
    for p in parts:
        if isinstance(p, int):
            out.append(f"[{p}]")
        else:
            out.append(f".{p}" if out else str(p))
    return "".join(out)


def _error(entry: tuple[tuple[Any, ...], str, str], errors: list[ValidationError] | None = None
           ) -> ValidationError:
    path, keyword, message = entry
    err = ValidationError(message, path=format_path(path), keyword=keyword)
    err.path_parts = path  # type: ignore[attr-defined]
    err.errors = errors if errors is not None else [err]  # type: ignore[attr-defined]
    return err


def _twin_checker(root: Any) -> Any:
    """The Checker that matches a node implementation (tests compile with either twin)."""
    import importlib

    return importlib.import_module(type(root).__module__).Checker


class Validator:
    """A compiled schema. Thread-safe: validation keeps no state between calls.

    ``validate(data, fail_fast=None)`` raises :class:`ValidationError` (path, keyword,
    message; the first error found, ``err.errors`` lists them all unless ``fail_fast``) and
    ``is_valid(data)`` returns a bool and never raises; both are compiled entry points, so
    valid data costs one call into the kernel.

    Attributes:
        schema: the schema it was compiled from.
        draft: ``"draft7"`` or ``"2020-12"``.
        fail_fast: default for :meth:`validate` (stop at the first error).
        max_depth: how many nested subschema evaluations are allowed before the data is
            refused with keyword ``maxDepth`` (hostile nesting under recursive schemas).
    """

    __slots__ = ("schema", "draft", "fail_fast", "max_depth", "_root", "validate", "is_valid")

    def __init__(self, schema: Any, root: Node, draft: str, *, fail_fast: bool,
                 max_depth: int) -> None:
        self.schema = schema
        self.draft = draft
        self.fail_fast = fail_fast
        self.max_depth = max_depth
        self._root = root
        # The hot paths are kernel callables: valid data costs one C call.
        checker_cls = _kernel.Checker if type(root) is _kernel.Node else _twin_checker(root)
        checker = checker_cls(root, max_depth, self._fail)
        self.validate: Any = checker
        self.is_valid: Any = checker.is_valid

    def errors(self, data: Any, *, fail_fast: bool | None = None) -> list[ValidationError]:
        """Return every validation error (or only the first with ``fail_fast``)."""
        ff = self.fail_fast if fail_fast is None else fail_fast
        out: list[Any] = []
        try:
            self._root.collect(data, (), out, ff, self.max_depth)
        except RecursionError:
            out.append(((), "maxDepth", "data is nested too deeply to validate; raise "
                                        "max_depth or flatten it"))
        except (TypeError, ValueError, OverflowError) as exc:
            out.append(((), "type", f"value cannot be validated: {exc}"))
        errs: list[ValidationError] = []
        for entry in out:
            errs.append(_error(entry, errs))
        return errs

    def _fail(self, data: Any, fail_fast: bool | None) -> None:
        """Error path of :attr:`validate` (the data failed the fast check)."""
        errs = self.errors(data, fail_fast=fail_fast)
        if not errs:  # the fast path and the error path disagree only on exotic input
            errs = [ValidationError("value is not valid under the schema", keyword="type")]
        _FAILURES.labels(errs[0].keyword).inc()
        raise errs[0]

    def __call__(self, data: Any, *, fail_fast: bool | None = None) -> None:
        """Same as :attr:`validate`."""
        self.validate(data, fail_fast)

    def __repr__(self) -> str:
        return f"Validator(draft={self.draft!r}, fail_fast={self.fail_fast})"


_cache: OrderedDict[tuple[Any, ...], Validator] = OrderedDict()
_cache_lock = threading.Lock()


def _canonical(schema: Any) -> str:
    try:
        return json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"schema: must be JSON data (dicts, lists, str, numbers, bools, None):"
                          f" {exc}") from None
    except RecursionError:
        raise SchemaError("schema: nesting is too deep; flatten it or use $ref") from None


def compile_schema(schema: Any, *, draft: str = DRAFT2020, fail_fast: bool = False,
                   allow_nan: bool = False, safe_regex: bool = True,
                   max_depth: int = DEFAULT_MAX_DEPTH) -> Validator:
    """Compile ``schema`` into a cached :class:`Validator`.

    Args:
        schema: a JSON Schema (dict or bool). ``$schema`` picks the draft when present.
        draft: the draft when ``$schema`` is absent: ``"2020-12"`` (default) or ``"draft7"``.
        fail_fast: :meth:`Validator.validate` stops at the first error.
        allow_nan: accept NaN and Infinity floats where numbers are checked (JSON has none).
        safe_regex: refuse patterns prone to catastrophic backtracking.
        max_depth: nesting budget of one validation (see :class:`Validator`).

    Raises:
        SchemaError: the schema is malformed or uses an unsupported keyword; the message names
            the location (``#/properties/x/type``) and the fix.
    """
    if not isinstance(max_depth, int) or max_depth < 1:
        raise SchemaError("max_depth: must be a positive integer")
    key = (_canonical(schema), draft, fail_fast, allow_nan, safe_regex, max_depth)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    real = detect_draft(schema, draft)
    root = Compiler(schema, real, allow_nan=allow_nan, safe_regex=safe_regex).compile()
    v = Validator(schema, root, real, fail_fast=fail_fast, max_depth=max_depth)
    with _cache_lock:
        _cache[key] = v
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return v


def validate_schema(data: Any, schema: Any, **options: Any) -> None:
    """Validate ``data`` against ``schema`` (compiled once and cached); raise on failure.

    Raises:
        ValidationError: ``data`` is invalid (``.path``, ``.keyword``, ``.errors``).
        SchemaError: ``schema`` is malformed or unsupported.
    """
    compile_schema(schema, **options).validate(data)


def clear_cache() -> None:
    """Drop every cached compiled validator."""
    with _cache_lock:
        _cache.clear()


__all__ = ["Validator", "clear_cache", "compile_schema", "format_path", "validate_schema"]
