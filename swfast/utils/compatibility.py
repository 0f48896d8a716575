"""Schema evolution: ``check_compatibility`` (is old data still valid?) and ``generate_schema``.

``check_compatibility(old, new)`` is conservative: it answers ``compatible`` only when it can
show that every instance valid under ``old`` is valid under ``new`` keyword by keyword, and
otherwise lists each reason with the schema path. Adding an optional property is compatible (a
warning notes that old data may already carry that name with another shape when additional
properties were open); removing a required field, narrowing a type, dropping an enum member,
tightening a bound or closing additional properties is not.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from .._native.jsonschema import json_equal

_KNOWN = {"type", "properties", "required", "additionalProperties", "enum", "const", "minimum",
          "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
          "pattern", "items", "minItems", "maxItems", "uniqueItems", "multipleOf",
          "minProperties", "maxProperties", "prefixItems"}
_ANNOTATIONS = {"title", "description", "default", "examples", "$comment", "format", "$schema",
                "$id", "deprecated", "readOnly", "writeOnly"}


@dataclass
class Compatibility:
    """Result of :func:`check_compatibility`; truthy when compatible."""

    compatible: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.compatible


def _types(s: dict[str, Any]) -> set[str] | None:
    t = s.get("type")
    if t is None:
        return None
    names = {t} if isinstance(t, str) else set(t)
    if "number" in names:
        names.add("integer")
    return names


def _check(old: Any, new: Any, path: str, out: Compatibility) -> None:
    if new is True or new == {}:
        return
    if old is False:
        return
    if new is False:
        out.reasons.append(f"{path}: the new schema rejects everything")
        return
    if old is True:
        old = {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        out.reasons.append(f"{path}: not a schema")
        return
    for key in new:
        if key not in _KNOWN and key not in _ANNOTATIONS and not json_equal(old.get(key),
                                                                            new[key]):
            out.reasons.append(f"{path}/{key}: changed and cannot be proven compatible")
    ot, nt = _types(old), _types(new)
    if nt is not None and (ot is None or ot - nt):
        lost = sorted((ot or {"any"}) - nt)
        out.reasons.append(f"{path}/type: narrowed; {', '.join(lost)} no longer allowed")
    if "enum" in new:
        if "enum" not in old and "const" not in old:
            out.reasons.append(f"{path}/enum: added; values outside it are now rejected")
        else:
            olds = old.get("enum", [old.get("const")])
            dropped = [v for v in olds if not any(json_equal(v, w) for w in new["enum"])]
            if dropped:
                out.reasons.append(f"{path}/enum: removed member(s) {dropped!r}")
    if "const" in new and not ("const" in old and json_equal(old["const"], new["const"])):
        out.reasons.append(f"{path}/const: added or changed")
    bounds: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (("minimum", lambda o, n: n > o), ("exclusiveMinimum", lambda o, n: n > o),
                         ("maximum", lambda o, n: n < o), ("exclusiveMaximum", lambda o, n: n < o),
                         ("minLength", lambda o, n: n > o), ("maxLength", lambda o, n: n < o),
                         ("minItems", lambda o, n: n > o), ("maxItems", lambda o, n: n < o),
                         ("minProperties", lambda o, n: n > o),
                         ("maxProperties", lambda o, n: n < o))
    for key, tighter in bounds:
        if key in new and (key not in old or tighter(old[key], new[key])):
            out.reasons.append(f"{path}/{key}: tightened to {new[key]!r}")
    for key in ("pattern", "multipleOf"):
        if key in new and not (key in old and old[key] == new[key]):
            out.reasons.append(f"{path}/{key}: added or changed to {new[key]!r}")
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        out.reasons.append(f"{path}/uniqueItems: added")
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        out.reasons.append(f"{path}/required: {name!r} became required")
    old_props = old.get("properties", {})
    new_props = new.get("properties", {})
    old_open = old.get("additionalProperties", True)
    new_add = new.get("additionalProperties", True)
    for name, sub in new_props.items():
        if name in old_props:
            _check(old_props[name], sub, f"{path}/properties/{name}", out)
        elif old_open is not False:
            out.warnings.append(f"{path}/properties/{name}: added; old data may already carry "
                                f"{name!r} with another shape")
    for name, sub in old_props.items():
        if name not in new_props and new_add is not True and new_add != {}:
            if new_add is False:
                out.reasons.append(f"{path}/properties/{name}: removed while additional "
                                   f"properties are not allowed")
            else:
                _check(sub, new_add, f"{path}/properties/{name}", out)
    if new_add is not True and new_add != {} and old_open is not False:
        if new_add is False or old_open is True or old_open == {}:
            out.reasons.append(f"{path}/additionalProperties: closed or restricted")
        else:
            _check(old_open, new_add, f"{path}/additionalProperties", out)
    _check_items(old, new, path, out)


def _check_items(old: dict[str, Any], new: dict[str, Any], path: str, out: Compatibility) -> None:
    """Array elements position by position: ``prefixItems[i]`` governs element ``i`` and
    ``items`` only the elements after the prefix (draft 2020-12), so dropping, shortening or
    lengthening ``prefixItems`` changes which schema an element of old data must meet."""
    old_prefix = old.get("prefixItems", [])
    new_prefix = new.get("prefixItems", [])
    if not isinstance(old_prefix, list) or not isinstance(new_prefix, list):
        out.reasons.append(f"{path}/prefixItems: not an array of schemas")
        return
    old_rest, new_rest = old.get("items", True), new.get("items", True)
    for i in range(max(len(old_prefix), len(new_prefix))):
        was = old_prefix[i] if i < len(old_prefix) else old_rest
        now = new_prefix[i] if i < len(new_prefix) else new_rest
        where = f"{path}/prefixItems/{i}" if i < len(new_prefix) else f"{path}/items (element {i})"
        _check(was, now, where, out)
    if "items" in new:
        _check(old_rest, new_rest, f"{path}/items", out)


def check_compatibility(old: Any, new: Any) -> Compatibility:
    """Say whether every instance valid under ``old`` stays valid under ``new``, with reasons.

    The check is structural and conservative: keywords it cannot compare (``$ref``, ``allOf``,
    ``anyOf``, ``oneOf``, ``not``, ``if``...) count as incompatible unless unchanged.
    """
    out = Compatibility(True)
    _check(old, new, "#", out)
    out.compatible = not out.reasons
    return out


# ------------------------------------------------------------------ inference
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _string_format(values: list[str]) -> str | None:
    def all_match(pred: Any) -> bool:
        return all(pred(v) for v in values)

    def is_uuid(v: str) -> bool:
        try:
            return len(v) == 36 and str(uuid.UUID(v)) == v.lower()
        except ValueError:
            return False

    def is_dt(v: str) -> bool:
        if not _DATE_TIME.match(v):
            return False
        try:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
            return True
        except ValueError:
            return False

    for name, pred in (("uuid", is_uuid), ("date-time", is_dt),
                       ("email", lambda v: bool(_EMAIL.match(v)))):
        if values and all_match(pred):
            return name
    return None


def _infer(values: list[Any]) -> dict[str, Any]:
    kinds: dict[str, list[Any]] = {}
    for v in values:
        if v is None:
            k = "null"
        elif isinstance(v, bool):
            k = "boolean"
        elif isinstance(v, int):
            k = "integer"
        elif isinstance(v, float):
            k = "number"
        elif isinstance(v, str):
            k = "string"
        elif isinstance(v, (list, tuple)):
            k = "array"
        elif isinstance(v, dict):
            k = "object"
        else:
            raise TypeError(f"samples: {type(v).__name__} is not JSON data")
        kinds.setdefault(k, []).append(v)
    if "integer" in kinds and "number" in kinds:
        kinds["number"] += kinds.pop("integer")
    parts: list[dict[str, Any]] = []
    for k in sorted(kinds):
        vs = kinds[k]
        s: dict[str, Any] = {"type": k}
        if k == "string":
            fmt = _string_format(vs)
            if fmt:
                s["format"] = fmt
        elif k == "array":
            elems = [e for arr in vs for e in arr]
            if elems:
                s["items"] = _infer(elems)
        elif k == "object":
            keys: dict[str, list[Any]] = {}
            for obj in vs:
                for key, val in obj.items():
                    keys.setdefault(key, []).append(val)
            s["properties"] = {key: _infer(vals) for key, vals in keys.items()}
            req = sorted(key for key, vals in keys.items() if len(vals) == len(vs))
            if req:
                s["required"] = req
        parts.append(s)
    if len(parts) == 1:
        return parts[0]
    if all(set(p) == {"type"} for p in parts):
        return {"type": [p["type"] for p in parts]}
    return {"anyOf": parts}


def generate_schema(samples: Iterable[Any] | Any, *, single: bool = False) -> dict[str, Any]:
    """Infer a draft 2020-12 schema that accepts every sample.

    Args:
        samples: an iterable of sample documents (or one document with ``single=True``).
        single: treat ``samples`` as one document rather than a collection.

    Object keys present in every sample become ``required``; integers mixed with floats become
    ``number``; strings that are all UUIDs, ISO date-times or emails get a ``format``.

    Raises:
        TypeError: a sample holds a value that is not JSON data.
        ValueError: no samples.
    """
    values = [samples] if single else list(samples)
    if not values:
        raise ValueError("samples: need at least one sample document")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_infer(values)}


__all__ = ["Compatibility", "check_compatibility", "generate_schema"]
