"""Compile a JSON Schema (draft 7 or 2020-12) into a tree of kernel nodes.

The compiler is the policy half of the validator: it checks the schema itself, picks the draft's
keyword semantics, compiles and vets regexes, links local ``$ref`` targets (recursion allowed) and
refuses, with :class:`~swfast.errors.SchemaError`, every keyword it does not implement. The
evaluation half is the kernel ``swfast._native.jsonschema`` (Cython, with a pure-Python twin).
Nothing is generated as source code, so no schema value can reach an ``exec``.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Any

from .._native.jsonschema import TYPE_NAMES, Node
from ..errors import SchemaError
from ._regex_safety import compile_pattern

DRAFT7 = "draft7"
DRAFT2020 = "2020-12"

_COMMON = frozenset({
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "contains", "maxProperties", "minProperties", "required", "properties",
    "patternProperties", "additionalProperties", "propertyNames", "if", "then", "else", "allOf",
    "anyOf", "oneOf", "not", "$ref", "$schema", "$id", "$comment", "title", "description",
    "default", "examples", "readOnly", "writeOnly", "format", "contentMediaType",
    "contentEncoding", "contentSchema", "deprecated",
})
SUPPORTED: dict[str, frozenset[str]] = {
    DRAFT7: _COMMON | {"items", "additionalItems", "dependencies", "definitions"},
    DRAFT2020: _COMMON | {"prefixItems", "items", "minContains", "maxContains",
                          "dependentRequired", "dependentSchemas", "$defs"},
}
#: Keywords swfast knows but does not implement; a schema using one is refused at compile time.
UNSUPPORTED: dict[str, str] = {
    "$dynamicRef": "dynamic references are not supported",
    "$dynamicAnchor": "dynamic anchors are not supported",
    "$recursiveRef": "recursive references (draft 2019-09) are not supported",
    "$recursiveAnchor": "recursive anchors (draft 2019-09) are not supported",
    "$anchor": "named anchors are not supported; use a JSON-pointer $ref such as '#/$defs/x'",
    "$vocabulary": "custom vocabularies are not supported",
    "unevaluatedProperties": "unevaluatedProperties is not supported; use additionalProperties",
    "unevaluatedItems": "unevaluatedItems is not supported; use items",
}
#: Keywords of the other draft: refused so a schema written for one draft never passes silently.
CROSS_DRAFT: dict[str, dict[str, str]] = {
    DRAFT7: {"prefixItems": "use an array-valued 'items' in draft 7",
             "$defs": "use 'definitions' in draft 7",
             "dependentRequired": "use 'dependencies' in draft 7",
             "dependentSchemas": "use 'dependencies' in draft 7",
             "minContains": "minContains needs draft 2020-12",
             "maxContains": "maxContains needs draft 2020-12"},
    DRAFT2020: {"additionalItems": "use 'items' after 'prefixItems' in draft 2020-12",
                "dependencies": "use 'dependentRequired' or 'dependentSchemas' in 2020-12"},
}
_NUMBERS = (int, float)


def detect_draft(schema: Any, default: str) -> str:
    """Return the draft named by ``$schema`` (or ``default``), refusing other drafts."""
    if default not in SUPPORTED:
        raise SchemaError(f"draft: {default!r} is not supported; use 'draft7' or '2020-12'")
    uri = schema.get("$schema") if isinstance(schema, dict) else None
    if uri is None:
        return default
    if not isinstance(uri, str):
        raise SchemaError("$schema: must be a URI string")
    norm = uri.rstrip("#").replace("https://", "http://", 1)
    if norm == "http://json-schema.org/draft-07/schema":
        return DRAFT7
    if norm == "http://json-schema.org/draft/2020-12/schema":
        return DRAFT2020
    raise SchemaError(f"$schema: {uri!r} is not supported; swfast validates draft 7 and 2020-12")


def _unescape(token: str) -> str:
    return urllib.parse.unquote(token).replace("~1", "/").replace("~0", "~")


class Compiler:
    """One compilation: holds the root document, the draft and the node memo for ``$ref``."""

    def __init__(self, root: Any, draft: str, *, allow_nan: bool, safe_regex: bool,
                 node_cls: type[Node] = Node) -> None:
        self.node_cls = node_cls
        self.root = root
        self.draft = draft
        self.allow_nan = allow_nan
        self.safe_regex = safe_regex
        self.memo: dict[int, Node] = {}
        self.keep: list[Any] = []  # keeps memoised schema objects alive so ids stay unique
        self.supported = SUPPORTED[draft]
        self.cross = CROSS_DRAFT[draft]

    def compile(self) -> Node:
        try:
            return self.node(self.root, "#", root=True)
        except RecursionError:
            raise SchemaError("schema: nesting is too deep to compile; flatten it or use "
                              "$ref") from None

    # ------------------------------------------------------------------ helpers
    def _bad(self, where: str, msg: str) -> SchemaError:
        return SchemaError(f"{where}: {msg}")

    def _int(self, s: dict[str, Any], key: str, where: str) -> int:
        v = s[key]
        if isinstance(v, bool) or not isinstance(v, _NUMBERS) or v < 0 or v != int(v):
            raise self._bad(f"{where}/{key}", "must be a non-negative integer")
        return int(v)

    def _num(self, s: dict[str, Any], key: str, where: str) -> Any:
        v = s[key]
        if isinstance(v, bool) or not isinstance(v, _NUMBERS) or v != v:
            raise self._bad(f"{where}/{key}", "must be a number")
        return v

    def _schemas(self, s: dict[str, Any], key: str, where: str) -> tuple[Node, ...]:
        v = s[key]
        if not isinstance(v, list) or not v:
            raise self._bad(f"{where}/{key}", "must be a non-empty array of schemas")
        return tuple(self.node(sub, f"{where}/{key}/{i}") for i, sub in enumerate(v))

    def _schema_map(self, s: dict[str, Any], key: str, where: str) -> dict[str, Node]:
        v = s[key]
        if not isinstance(v, dict):
            raise self._bad(f"{where}/{key}", "must be an object of schemas")
        return {k: self.node(sub, f"{where}/{key}/{k}") for k, sub in v.items()}

    def _names(self, v: Any, where: str) -> tuple[str, ...]:
        if not isinstance(v, list) or not all(isinstance(n, str) for n in v):
            raise self._bad(where, "must be an array of strings")
        if len(set(v)) != len(v):
            raise self._bad(where, "must not repeat names")
        return tuple(v)

    def resolve(self, ref: str, where: str) -> Any:
        if not ref.startswith("#"):
            raise self._bad(f"{where}/$ref", f"{ref!r}: only local JSON-pointer references "
                                             "('#/...') are supported; inline remote schemas")
        frag = ref[1:]
        if frag and not frag.startswith("/"):
            raise self._bad(f"{where}/$ref", f"{ref!r}: anchor references are not supported")
        target = self.root
        for token in frag.split("/")[1:]:
            token = _unescape(token)
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                raise self._bad(f"{where}/$ref", f"{ref!r} does not resolve in this schema")
        return target

    # ------------------------------------------------------------------ one subschema
    def node(self, s: Any, where: str, root: bool = False) -> Node:
        if s is True or s is False:
            n = self.node_cls()
            n.always_false = s is False
            n.finalize()
            return n
        if not isinstance(s, dict):
            raise self._bad(where, f"a schema must be an object or a boolean, not "
                                   f"{type(s).__name__}")
        key = id(s)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        n = self.node_cls()
        self.memo[key] = n
        self.keep.append(s)
        self._fill(n, s, where, root)
        n.finalize()
        return n

    def _fill(self, n: Node, s: dict[str, Any], where: str, root: bool) -> None:
        for k in s:
            if k in UNSUPPORTED:
                raise self._bad(f"{where}/{k}", UNSUPPORTED[k])
            if k in self.cross:
                raise self._bad(f"{where}/{k}", f"not a {self.draft} keyword: {self.cross[k]}")
        if "$id" in s and not root:
            raise self._bad(f"{where}/$id", "$id in a subschema (a new base URI) is not "
                                            "supported; move the subschema under $defs")
        for defs in ("$defs", "definitions"):
            if defs in s and defs in self.supported:
                self._schema_map(s, defs, where)
        if "$ref" in s:
            ref = s["$ref"]
            if not isinstance(ref, str):
                raise self._bad(f"{where}/$ref", "must be a string")
            n.ref = self.node(self.resolve(ref, where), ref)
            if self.draft == DRAFT7:  # draft 7: $ref makes its siblings ignored
                return
        n.finite = not self.allow_nan
        self._fill_scalar(n, s, where)
        self._fill_array(n, s, where)
        self._fill_object(n, s, where)
        for key, attr in (("allOf", "all_of"), ("anyOf", "any_of"), ("oneOf", "one_of")):
            if key in s:
                setattr(n, attr, self._schemas(s, key, where))
        if "not" in s:
            n.not_ = self.node(s["not"], f"{where}/not")
        if "if" in s:
            n.if_ = self.node(s["if"], f"{where}/if")
            if "then" in s:
                n.then = self.node(s["then"], f"{where}/then")
            if "else" in s:
                n.else_ = self.node(s["else"], f"{where}/else")

    def _fill_scalar(self, n: Node, s: dict[str, Any], where: str) -> None:
        if "type" in s:
            t = s["type"]
            names = [t] if isinstance(t, str) else t
            if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
                raise self._bad(f"{where}/type", "must be a type name or an array of them")
            bits = 0
            for name in names:
                if name not in TYPE_NAMES:
                    raise self._bad(f"{where}/type", f"unknown type {name!r}; use one of "
                                                     f"{sorted(TYPE_NAMES)}")
                bits |= TYPE_NAMES[name]
            n.types = bits
        if "enum" in s:
            if not isinstance(s["enum"], list):
                raise self._bad(f"{where}/enum", "must be an array")
            n.enum = tuple(s["enum"])
        if "const" in s:
            n.has_const = True
            n.const = s["const"]
        for key, attr in (("minimum", "minimum"), ("maximum", "maximum"),
                          ("exclusiveMinimum", "exmin"), ("exclusiveMaximum", "exmax")):
            if key in s:
                setattr(n, attr, self._num(s, key, where))
        if "multipleOf" in s:
            m = self._num(s, "multipleOf", where)
            if m <= 0:
                raise self._bad(f"{where}/multipleOf", "must be greater than 0")
            n.multiple_of = m
        if "minLength" in s:
            n.min_len = self._int(s, "minLength", where)
        if "maxLength" in s:
            n.max_len = self._int(s, "maxLength", where)
        if "pattern" in s:
            n.pattern = self._pattern(s["pattern"], f"{where}/pattern")

    def _pattern(self, p: Any, where: str) -> Any:
        if not isinstance(p, str):
            raise self._bad(where, "must be a regular expression string")
        try:
            return compile_pattern(p, safe=self.safe_regex)
        except (re.error, ValueError) as exc:
            raise self._bad(where, f"{p!r}: {exc}") from None

    def _fill_array(self, n: Node, s: dict[str, Any], where: str) -> None:
        if self.draft == DRAFT7:
            items = s.get("items")
            if isinstance(items, list):
                n.prefix = tuple(self.node(sub, f"{where}/items/{i}")
                                 for i, sub in enumerate(items))
                if "additionalItems" in s:
                    n.items = self.node(s["additionalItems"], f"{where}/additionalItems")
            elif items is not None:
                n.items = self.node(items, f"{where}/items")
        else:
            if "prefixItems" in s:
                n.prefix = self._schemas(s, "prefixItems", where)
            if "items" in s:
                if isinstance(s["items"], list):
                    raise self._bad(f"{where}/items", "an array of schemas is 'prefixItems' "
                                                      "in draft 2020-12")
                n.items = self.node(s["items"], f"{where}/items")
        if "minItems" in s:
            n.min_items = self._int(s, "minItems", where)
        if "maxItems" in s:
            n.max_items = self._int(s, "maxItems", where)
        if "uniqueItems" in s:
            if not isinstance(s["uniqueItems"], bool):
                raise self._bad(f"{where}/uniqueItems", "must be a boolean")
            n.unique = s["uniqueItems"]
        if "contains" in s:
            n.contains = self.node(s["contains"], f"{where}/contains")
            if self.draft == DRAFT2020:
                if "minContains" in s:
                    n.min_contains = self._int(s, "minContains", where)
                if "maxContains" in s:
                    n.max_contains = self._int(s, "maxContains", where)

    def _fill_object(self, n: Node, s: dict[str, Any], where: str) -> None:
        if "properties" in s:
            n.properties = self._schema_map(s, "properties", where)
        if "patternProperties" in s:
            pp = s["patternProperties"]
            if not isinstance(pp, dict):
                raise self._bad(f"{where}/patternProperties", "must be an object of schemas")
            n.pattern_props = tuple(
                (self._pattern(p, f"{where}/patternProperties/{p}"),
                 self.node(sub, f"{where}/patternProperties/{p}"))
                for p, sub in pp.items())
        if "additionalProperties" in s:
            n.additional = self.node(s["additionalProperties"], f"{where}/additionalProperties")
        if "required" in s:
            n.required = self._names(s["required"], f"{where}/required") or None
        if "minProperties" in s:
            n.min_props = self._int(s, "minProperties", where)
        if "maxProperties" in s:
            n.max_props = self._int(s, "maxProperties", where)
        if "propertyNames" in s:
            n.property_names = self.node(s["propertyNames"], f"{where}/propertyNames")
        dep_req: dict[str, tuple[str, ...]] = {}
        dep_sch: dict[str, Node] = {}
        if "dependencies" in s and self.draft == DRAFT7:
            deps = s["dependencies"]
            if not isinstance(deps, dict):
                raise self._bad(f"{where}/dependencies", "must be an object")
            for k, v in deps.items():
                if isinstance(v, list):
                    dep_req[k] = self._names(v, f"{where}/dependencies/{k}")
                else:
                    dep_sch[k] = self.node(v, f"{where}/dependencies/{k}")
        if "dependentRequired" in s:
            deps = s["dependentRequired"]
            if not isinstance(deps, dict):
                raise self._bad(f"{where}/dependentRequired", "must be an object")
            for k, v in deps.items():
                dep_req[k] = self._names(v, f"{where}/dependentRequired/{k}")
        if "dependentSchemas" in s:
            dep_sch.update(self._schema_map(s, "dependentSchemas", where))
        n.dep_required = {k: v for k, v in dep_req.items() if v} or None
        n.dep_schemas = dep_sch or None


__all__ = ["CROSS_DRAFT", "Compiler", "DRAFT2020", "DRAFT7", "SUPPORTED", "UNSUPPORTED",
           "detect_draft"]
