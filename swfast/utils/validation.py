"""Input validation: ``validate_input``, ``sanitize_data``, ``check_constraints``.

``validate_input`` is the front door for untrusted JSON: it bounds the size, parses strictly (no
NaN/Infinity tokens, an explicit duplicate-key policy, a nesting limit) and validates against a
compiled schema. ``sanitize_data`` cleans strings inside any JSON-like value (control characters,
Persian normalisation); ``check_constraints`` applies declarative per-field rules, callables
included, with errors naming the field and the rule.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

from ..errors import ConfigurationError, ValidationError
from .schema import Validator, compile_schema, format_path
from .text import normalize_text

DEFAULT_MAX_SIZE = 1024 * 1024
DEFAULT_MAX_NESTING = 512


def _reject_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not valid JSON; send numbers or null", keyword="finite")


def _pairs_reject(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValidationError(f"duplicate key {k!r} in a JSON object; send each key once",
                                  keyword="duplicateKeys")
        out[k] = v
    return out


def _nesting(data: Any, limit: int) -> int:
    """Return the nesting depth of parsed JSON, stopping past ``limit`` (iterative)."""
    stack = [(data, 1)]
    deepest = 0
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


def validate_input(data: Any, schema: Any = None, *, max_size: int = DEFAULT_MAX_SIZE,
                   duplicate_keys: str = "reject", max_nesting: int = DEFAULT_MAX_NESTING,
                   **schema_options: Any) -> Any:
    """Parse (when given text) and validate untrusted input; return the parsed value.

    Args:
        data: a JSON document as ``str``/``bytes``, or already-parsed Python data.
        schema: a JSON Schema, a compiled :class:`~swfast.utils.schema.Validator`, or None to
            only parse and bound the input.
        max_size: largest accepted document in bytes (text input only).
        duplicate_keys: ``"reject"`` (default) or ``"last"`` (the last value wins, as ``json``
            does).
        max_nesting: deepest accepted nesting of arrays and objects.
        **schema_options: passed to :func:`~swfast.utils.schema.compile_schema`.

    Raises:
        ValidationError: too large (keyword ``maxSize``), not JSON (``json``), NaN/Infinity
            (``finite``), a duplicate key (``duplicateKeys``), too deep (``maxDepth``) or
            invalid under the schema (the failing keyword, with the data path).
        SchemaError: the schema is malformed or unsupported.
    """
    if duplicate_keys not in ("reject", "last"):
        raise ConfigurationError("duplicate_keys", "use 'reject' or 'last'")
    if isinstance(data, (str, bytes, bytearray, memoryview)):
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else \
            len(bytes(data))
        if size > max_size:
            raise ValidationError(f"document is {size} bytes, above max_size={max_size}; send "
                                  f"less or raise max_size", keyword="maxSize")
        raw = bytes(data) if isinstance(data, (bytearray, memoryview)) else data
        try:
            data = json.loads(raw, parse_constant=_reject_constant,
                              object_pairs_hook=_pairs_reject if duplicate_keys == "reject"
                              else None)
        except ValidationError:
            raise
        except RecursionError:
            raise ValidationError("document is nested too deeply to parse", keyword="maxDepth") \
                from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"not valid JSON: {exc}", keyword="json") from None
    if _nesting(data, max_nesting) > max_nesting:
        raise ValidationError(f"data is nested deeper than max_nesting={max_nesting}",
                              keyword="maxDepth")
    if schema is not None:
        validator = schema if isinstance(schema, Validator) else \
            compile_schema(schema, **schema_options)
        validator.validate(data)
    return data


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200d\u200e\u200f"
                      "\u202a-\u202e\u2066-\u2069\ufeff]")


def sanitize_data(data: Any, *, normalize: bool = True, lang: str = "fa",
                  digits: str | None = None, max_string_length: int | None = None,
                  max_nesting: int = DEFAULT_MAX_NESTING) -> Any:
    """Return a copy of ``data`` with every string cleaned; other values are kept as they are.

    Strings lose control characters, zero-width spaces and bidi marks; with ``normalize`` they
    also get :func:`~swfast.utils.text.normalize_text` (Persian letters, ZWNJ rules, whitespace;
    digits only when ``digits`` is given). Dict keys lose control characters only. Clean data
    comes back equal, and sanitising twice changes nothing.

    Raises:
        ValidationError: a string is longer than ``max_string_length`` (keyword ``maxLength``)
            or the data is nested deeper than ``max_nesting`` (``maxDepth``).
    """

    def clean(s: str, path: tuple[Any, ...]) -> str:
        if max_string_length is not None and len(s) > max_string_length:
            raise ValidationError(f"string of {len(s)} characters is longer than "
                                  f"max_string_length={max_string_length}",
                                  path=format_path(path), keyword="maxLength")
        s = _CONTROL.sub("", s)
        return normalize_text(s, lang=lang, digits=digits) if normalize else s

    def walk(value: Any, path: tuple[Any, ...]) -> Any:
        if len(path) > max_nesting:
            raise ValidationError(f"data is nested deeper than max_nesting={max_nesting}",
                                  path=format_path(path), keyword="maxDepth")
        if isinstance(value, str):
            return clean(value, path)
        if isinstance(value, dict):
            return {(_CONTROL.sub("", k) if isinstance(k, str) else k): walk(v, path + (k,))
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(walk(v, path + (i,)) for i, v in enumerate(value))
        return value

    return walk(data, ())


_RULES = ("required", "type", "min", "max", "min_length", "max_length", "pattern", "choices",
          "check", "message")


def _get(data: Any, dotted: str) -> tuple[bool, Any]:
    cur = data
    for part in dotted.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        else:
            return False, None
    return True, cur


def check_constraints(data: Any, constraints: Mapping[str, Mapping[str, Any]], *,
                      fail_fast: bool = False) -> None:
    """Apply declarative per-field constraints to a mapping; raise on the first violation.

    Args:
        data: the mapping to check (dotted field names reach nested mappings: ``"a.b"``).
        constraints: ``{field: rules}`` with rules among ``required`` (bool, default False),
            ``type`` (a type or tuple of types), ``min``/``max`` (inclusive bounds),
            ``min_length``/``max_length``, ``pattern`` (searched), ``choices`` (a collection),
            ``check`` (a callable returning truthy when valid) and ``message`` (text used when
            ``check`` fails).
        fail_fast: stop at the first failure (otherwise ``err.errors`` lists them all).

    Raises:
        ValidationError: ``path`` is the field, ``keyword`` the rule (``check`` for callables;
            an exception raised by a callable counts as a failure, named in the message).
        ConfigurationError: an unknown rule name.
    """
    errors: list[ValidationError] = []

    def fail(field: str, rule: str, msg: str) -> bool:
        err = ValidationError(msg, path=field, keyword=rule)
        err.errors = errors  # type: ignore[attr-defined]
        errors.append(err)
        return fail_fast

    for field, rules in constraints.items():
        unknown = set(rules) - set(_RULES)
        if unknown:
            raise ConfigurationError("constraints", f"{field}: unknown rule(s) {sorted(unknown)};"
                                                    f" use {list(_RULES)}")
        present, value = _get(data, field)
        if not present:
            if rules.get("required") and fail(field, "required", "is required"):
                break
            continue
        if "type" in rules and not isinstance(value, rules["type"]):
            if fail(field, "type", f"{value!r} is not of type {rules['type']}"):
                break
            continue
        stop = False
        if "min" in rules and value < rules["min"]:
            stop = fail(field, "min", f"{value!r} is less than {rules['min']!r}")
        if not stop and "max" in rules and value > rules["max"]:
            stop = fail(field, "max", f"{value!r} is greater than {rules['max']!r}")
        if not stop and "min_length" in rules and len(value) < rules["min_length"]:
            stop = fail(field, "min_length", f"length {len(value)} is below {rules['min_length']}")
        if not stop and "max_length" in rules and len(value) > rules["max_length"]:
            stop = fail(field, "max_length", f"length {len(value)} is above {rules['max_length']}")
        if not stop and "pattern" in rules and re.search(rules["pattern"], str(value)) is None:
            stop = fail(field, "pattern", f"{value!r} does not match {rules['pattern']!r}")
        if not stop and "choices" in rules and value not in rules["choices"]:
            stop = fail(field, "choices", f"{value!r} is not one of {list(rules['choices'])!r}")
        if not stop and "check" in rules:
            stop = _run_check(field, value, rules, fail)
        if stop:
            break
    if errors:
        raise errors[0]


def _run_check(field: str, value: Any, rules: Mapping[str, Any],
               fail: Callable[[str, str, str], bool]) -> bool:
    check = rules["check"]
    message = rules.get("message") or f"{value!r} failed {getattr(check, '__name__', 'check')}"
    try:
        ok = check(value)
    except Exception as exc:  # a raising check is a failed check, reported with its cause
        return fail(field, "check", f"{message} ({type(exc).__name__}: {exc})")
    return fail(field, "check", message) if not ok else False


__all__ = ["check_constraints", "sanitize_data", "validate_input"]
