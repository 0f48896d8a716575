"""Helpers for the schema tests: the vendored JSON-Schema-Test-Suite and per-impl compilation."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from swfast.utils._schema_compile import UNSUPPORTED, Compiler, detect_draft
from swfast.utils.schema import Validator

SUITE = Path(__file__).parent / "data" / "jsonschema_suite"
DRAFTS = {"draft7": "draft7", "draft2020-12": "2020-12"}


def compile_with(schema: Any, node_cls: type, *, draft: str = "2020-12", **kw: Any) -> Validator:
    """Compile ``schema`` with an explicit kernel ``Node`` class (compiled or twin)."""
    real = detect_draft(schema, draft)
    root = Compiler(schema, real, allow_nan=kw.pop("allow_nan", False),
                    safe_regex=kw.pop("safe_regex", True), node_cls=node_cls).compile()
    return Validator(schema, root, real, fail_fast=kw.pop("fail_fast", False),
                     max_depth=kw.pop("max_depth", 256))


def suite_groups(folder: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(file_stem, group)`` for every required group of one draft folder."""
    for path in sorted((SUITE / folder).glob("*.json")):
        for group in json.loads(path.read_text(encoding="utf-8")):
            yield path.stem, group


def _walk(schema: Any, root: bool = True) -> Iterator[tuple[str, Any, bool]]:
    if isinstance(schema, dict):
        for k, v in schema.items():
            yield k, v, root
            if k in ("enum", "const", "default", "examples"):
                continue
            if k in ("properties", "patternProperties", "$defs", "definitions",
                     "dependentSchemas", "dependencies"):
                if isinstance(v, dict):
                    for sub in v.values():
                        yield from _walk(sub, False)
            elif isinstance(v, (dict, list)):
                yield from _walk(v, False)
    elif isinstance(schema, list):
        for sub in schema:
            yield from _walk(sub, False)


def unsupported_reason(schema: Any) -> str | None:
    """Return why a suite schema is outside what swfast claims, or None if it is claimed."""
    for key, value, root in _walk(schema):
        if key in UNSUPPORTED:
            return key
        if key == "$ref" and isinstance(value, str) and not value.startswith("#/") \
                and value != "#":
            return "non-local $ref"
        if key == "$id" and not root:
            return "$id in a subschema"
        if key == "$schema" and isinstance(value, str) and "json-schema.org" not in value:
            return "custom metaschema"
    return None


__all__ = ["DRAFTS", "SUITE", "compile_with", "suite_groups", "unsupported_reason"]
