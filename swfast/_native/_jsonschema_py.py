"""Pure-Python twin of the compiled JSON-Schema evaluation kernel (``_jsonschema_c.pyx``).

A schema is compiled (by :mod:`swfast.utils.schema`) into a tree of :class:`Node` objects, one per
subschema, whose attributes hold the keyword values already converted (regexes compiled, ``$ref``
targets linked). No source code is generated from the schema, so schema values cannot inject
code. Each node answers two questions:

* ``ok(x, depth)``: the fast boolean path, no allocation on success;
* ``collect(x, path, out, fail_fast, depth)``: the slow path that appends
  ``(path_tuple, keyword, message)`` for every failure (or the first one with ``fail_fast``).

``depth`` counts down; reaching 0 fails with keyword ``maxDepth`` so hostile nesting under a
recursive schema ends in a clean error instead of a stack overflow.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

_T_NULL = 1
_T_BOOL = 2
_T_INT = 4
_T_NUM = 8
_T_STR = 16
_T_ARR = 32
_T_OBJ = 64

TYPE_NAMES = {
    "null": _T_NULL, "boolean": _T_BOOL, "integer": _T_INT, "number": _T_NUM,
    "string": _T_STR, "array": _T_ARR, "object": _T_OBJ,
}


def type_bits(x: Any) -> int:
    """Return the JSON type bits of ``x`` (an integral float is also an integer)."""
    t = type(x)
    if t is str:
        return _T_STR
    if t is int:
        return _T_INT | _T_NUM
    if t is float:
        return (_T_INT | _T_NUM) if x.is_integer() else _T_NUM
    if t is bool:
        return _T_BOOL
    if x is None:
        return _T_NULL
    if t is dict:
        return _T_OBJ
    if t is list:
        return _T_ARR
    if isinstance(x, bool):
        return _T_BOOL
    if isinstance(x, str):
        return _T_STR
    if isinstance(x, int):
        return _T_INT | _T_NUM
    if isinstance(x, float):
        return (_T_INT | _T_NUM) if float(x).is_integer() else _T_NUM
    if isinstance(x, dict):
        return _T_OBJ
    if isinstance(x, list):
        return _T_ARR
    return 0


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``; containers compared deeply."""
    if a is b:
        return True
    ta = type_bits(a)
    tb = type_bits(b)
    if ta & _T_NUM and tb & _T_NUM:
        return bool(a == b)
    if ta != tb:
        return False
    if ta == _T_ARR:
        if len(a) != len(b):
            return False
        for i in range(len(a)):
            if not json_equal(a[i], b[i]):
                return False
        return True
    if ta == _T_OBJ:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not json_equal(v, b[k]):
                return False
        return True
    return bool(a == b)


def _freeze(x: Any, depth: int) -> Any:
    """Return a hashable key equal for JSON-equal values (``1`` and ``1.0``, not ``True``)."""
    if depth <= 0:
        raise RecursionError("uniqueItems: array items are nested too deeply to compare")
    bits = type_bits(x)
    if bits & _T_NUM:
        return (1, x)
    if bits == _T_STR:
        return (3, x)
    if bits == _T_BOOL:
        return (2, bool(x))
    if bits == _T_NULL:
        return (0,)
    if bits == _T_ARR:
        return (4, tuple([_freeze(v, depth - 1) for v in x]))
    if bits == _T_OBJ:
        return (5, frozenset([(k, _freeze(v, depth - 1)) for k, v in x.items()]))
    return (6, id(x))


def _all_unique(items: list[Any]) -> bool:
    seen = set()
    for v in items:
        key = _freeze(v, 512)
        if key in seen:
            return False
        seen.add(key)
    return True


def _is_multiple(x: Any, m: Any) -> bool:
    if isinstance(m, float):
        try:  # the division itself overflows for integers beyond ~1.8e308: exact fallback
            q = x / m
            return bool(int(q) == q)
        except (OverflowError, ValueError):
            return (Fraction(x) / Fraction(m)).denominator == 1
    return not (x % m)


def _describe_types(bits: int) -> str:
    return ", ".join(repr(n) for n, b in TYPE_NAMES.items() if bits & b)


class Node:
    """One compiled subschema. Attributes are set by the schema compiler, then ``finalize()``."""

    __slots__ = (
        "always_false", "types", "finite", "enum", "has_const", "const", "minimum", "maximum",
        "exmin", "exmax", "multiple_of", "min_len", "max_len", "pattern", "prefix", "items",
        "min_items", "max_items", "unique", "contains", "min_contains", "max_contains",
        "properties", "pattern_props", "additional", "required", "min_props", "max_props",
        "dep_required", "dep_schemas", "property_names", "all_of", "any_of", "one_of", "not_",
        "if_", "then", "else_", "ref", "trivial", "has_num", "has_str", "has_arr", "has_obj",
        "has_logic", "props_only",
    )

    def __init__(self) -> None:
        self.always_false = False
        self.types = 0
        self.finite = True
        self.enum: tuple[Any, ...] | None = None
        self.has_const = False
        self.const: Any = None
        self.minimum: Any = None
        self.maximum: Any = None
        self.exmin: Any = None
        self.exmax: Any = None
        self.multiple_of: Any = None
        self.min_len = -1
        self.max_len = -1
        self.pattern: Any = None
        self.prefix: tuple[Node, ...] | None = None
        self.items: Node | None = None
        self.min_items = -1
        self.max_items = -1
        self.unique = False
        self.contains: Node | None = None
        self.min_contains = 1
        self.max_contains = -1
        self.properties: dict[str, Node] | None = None
        self.pattern_props: tuple[tuple[Any, Node], ...] | None = None
        self.additional: Node | None = None
        self.required: tuple[str, ...] | None = None
        self.min_props = -1
        self.max_props = -1
        self.dep_required: dict[str, tuple[str, ...]] | None = None
        self.dep_schemas: dict[str, Node] | None = None
        self.property_names: Node | None = None
        self.all_of: tuple[Node, ...] | None = None
        self.any_of: tuple[Node, ...] | None = None
        self.one_of: tuple[Node, ...] | None = None
        self.not_: Node | None = None
        self.if_: Node | None = None
        self.then: Node | None = None
        self.else_: Node | None = None
        self.ref: Node | None = None
        self.trivial = False
        self.has_num = self.has_str = self.has_arr = self.has_obj = self.has_logic = False
        self.props_only = False

    def finalize(self) -> None:
        """Compute the derived flags once every attribute is set."""
        self.has_num = not (self.minimum is None and self.maximum is None and self.exmin is None
                            and self.exmax is None and self.multiple_of is None)
        self.has_str = self.min_len >= 0 or self.max_len >= 0 or self.pattern is not None
        self.has_arr = (self.prefix is not None or self.items is not None or self.min_items >= 0
                        or self.max_items >= 0 or self.unique or self.contains is not None)
        self.has_obj = (self.properties is not None or self.pattern_props is not None
                        or self.additional is not None or self.required is not None
                        or self.min_props >= 0 or self.max_props >= 0
                        or self.dep_required is not None or self.dep_schemas is not None
                        or self.property_names is not None)
        self.props_only = self.pattern_props is None and self.additional is None
        self.has_logic = (self.all_of is not None or self.any_of is not None
                          or self.one_of is not None or self.not_ is not None
                          or self.if_ is not None or self.ref is not None)
        self.trivial = not (self.always_false or self.types or self.enum is not None
                            or self.has_const or self.has_num or self.has_str or self.has_arr
                            or self.has_obj or self.has_logic)

    # ------------------------------------------------------------------ fast path
    def ok(self, x: Any, depth: int) -> bool:
        """Return whether ``x`` is valid, without building errors."""
        if self.trivial:
            return True
        if self.always_false or depth <= 0:
            return False
        bits = type_bits(x)
        if self.types and not (self.types & bits):
            return False
        if bits & _T_NUM and type(x) is float and self.finite and (self.types or self.has_num) \
                and not math.isfinite(x):
            return False
        if self.enum is not None:
            for e in self.enum:
                if json_equal(x, e):
                    break
            else:
                return False
        if self.has_const and not json_equal(x, self.const):
            return False
        if self.has_num and bits & _T_NUM and not self._num_ok(x):
            return False
        if self.has_str and bits == _T_STR and not self._str_ok(x):
            return False
        d = depth - 1
        if self.has_arr and bits == _T_ARR and not self._arr_ok(x, d):
            return False
        if self.has_obj and bits == _T_OBJ and not self._obj_ok(x, d):
            return False
        if self.has_logic and not self._logic_ok(x, d):
            return False
        return True

    def _num_ok(self, x: Any) -> bool:
        if self.minimum is not None and x < self.minimum:
            return False
        if self.maximum is not None and x > self.maximum:
            return False
        if self.exmin is not None and x <= self.exmin:
            return False
        if self.exmax is not None and x >= self.exmax:
            return False
        if self.multiple_of is not None and not _is_multiple(x, self.multiple_of):
            return False
        return True

    def _str_ok(self, x: str) -> bool:
        n = len(x)
        if self.min_len >= 0 and n < self.min_len:
            return False
        if self.max_len >= 0 and n > self.max_len:
            return False
        if self.pattern is not None and self.pattern.search(x) is None:
            return False
        return True

    def _arr_ok(self, x: list[Any], d: int) -> bool:
        n = len(x)
        if self.min_items >= 0 and n < self.min_items:
            return False
        if self.max_items >= 0 and n > self.max_items:
            return False
        start = 0
        if self.prefix is not None:
            start = min(n, len(self.prefix))
            for i in range(start):
                if not self.prefix[i].ok(x[i], d):
                    return False
        if self.items is not None:
            for i in range(start, n):
                if not self.items.ok(x[i], d):
                    return False
        if self.contains is not None:
            found = 0
            for v in x:
                if self.contains.ok(v, d):
                    found += 1
            if found < self.min_contains:
                return False
            if self.max_contains >= 0 and found > self.max_contains:
                return False
        if self.unique and not _all_unique(x):
            return False
        return True

    def _obj_ok(self, x: dict[str, Any], d: int) -> bool:
        n = len(x)
        if self.min_props >= 0 and n < self.min_props:
            return False
        if self.max_props >= 0 and n > self.max_props:
            return False
        if self.required is not None:
            for k in self.required:
                if k not in x:
                    return False
        if self.properties is not None and self.props_only:
            for k, sub in self.properties.items():
                if k in x and not sub.ok(x[k], d):
                    return False
        elif not self.props_only:
            for k, v in x.items():
                matched = False
                if self.properties is not None:
                    found = self.properties.get(k)
                    if found is not None:
                        matched = True
                        if not found.ok(v, d):
                            return False
                if self.pattern_props is not None:
                    for rx, psub in self.pattern_props:
                        if rx.search(k) is not None:
                            matched = True
                            if not psub.ok(v, d):
                                return False
                if not matched and self.additional is not None and not self.additional.ok(v, d):
                    return False
        if self.property_names is not None:
            for k in x:
                if not self.property_names.ok(k, d):
                    return False
        if self.dep_required is not None:
            for k, names in self.dep_required.items():
                if k in x:
                    for name in names:
                        if name not in x:
                            return False
        if self.dep_schemas is not None:
            for k, sub in self.dep_schemas.items():
                if k in x and not sub.ok(x, d):
                    return False
        return True

    def _logic_ok(self, x: Any, d: int) -> bool:
        if self.ref is not None and not self.ref.ok(x, d):
            return False
        if self.all_of is not None:
            for sub in self.all_of:
                if not sub.ok(x, d):
                    return False
        if self.any_of is not None:
            for sub in self.any_of:
                if sub.ok(x, d):
                    break
            else:
                return False
        if self.one_of is not None:
            count = 0
            for sub in self.one_of:
                if sub.ok(x, d):
                    count += 1
                    if count > 1:
                        return False
            if count != 1:
                return False
        if self.not_ is not None and self.not_.ok(x, d):
            return False
        if self.if_ is not None:
            if self.if_.ok(x, d):
                if self.then is not None and not self.then.ok(x, d):
                    return False
            elif self.else_ is not None and not self.else_.ok(x, d):
                return False
        return True

    # ------------------------------------------------------------------ error path
    def collect(self, x: Any, path: tuple[Any, ...], out: list[Any], fail_fast: bool,
                depth: int) -> bool:
        """Append ``(path, keyword, message)`` for each failure; return whether ``x`` is valid."""
        if self.trivial:
            return True
        if self.always_false:
            out.append((path, "false", "False schema does not allow %r" % (x,)))
            return False
        if depth <= 0:
            out.append((path, "maxDepth", "nesting is deeper than max_depth; raise max_depth "
                                          "or flatten the data"))
            return False
        n0 = len(out)
        bits = type_bits(x)
        if self.types and not (self.types & bits):
            out.append((path, "type", "%r is not of type %s" % (x, _describe_types(self.types))))
            return False
        if bits & _T_NUM and type(x) is float and self.finite and (self.types or self.has_num) \
                and not math.isfinite(x):
            out.append((path, "finite", "%r is not a finite number (NaN and Infinity are "
                                        "not JSON)" % (x,)))
            return False
        if self.enum is not None and not any(json_equal(x, e) for e in self.enum):
            out.append((path, "enum", "%r is not one of %r" % (x, list(self.enum))))
            if fail_fast:
                return False
        if self.has_const and not json_equal(x, self.const):
            out.append((path, "const", "%r was expected" % (self.const,)))
            if fail_fast:
                return False
        if self.has_num and bits & _T_NUM:
            self._num_errors(x, path, out)
        if self.has_str and bits == _T_STR:
            self._str_errors(x, path, out)
        if fail_fast and len(out) > n0:
            return False
        d = depth - 1
        if self.has_arr and bits == _T_ARR:
            self._arr_errors(x, path, out, fail_fast, d)
        if fail_fast and len(out) > n0:
            return False
        if self.has_obj and bits == _T_OBJ:
            self._obj_errors(x, path, out, fail_fast, d)
        if fail_fast and len(out) > n0:
            return False
        if self.has_logic:
            self._logic_errors(x, path, out, fail_fast, d)
        return len(out) == n0

    def _num_errors(self, x: Any, path: tuple[Any, ...], out: list[Any]) -> None:
        if self.minimum is not None and x < self.minimum:
            out.append((path, "minimum", "%r is less than the minimum of %r" % (x, self.minimum)))
        if self.maximum is not None and x > self.maximum:
            out.append((path, "maximum", "%r is greater than the maximum of %r"
                        % (x, self.maximum)))
        if self.exmin is not None and x <= self.exmin:
            out.append((path, "exclusiveMinimum", "%r is less than or equal to the minimum of %r"
                        % (x, self.exmin)))
        if self.exmax is not None and x >= self.exmax:
            out.append((path, "exclusiveMaximum",
                        "%r is greater than or equal to the maximum of %r" % (x, self.exmax)))
        if self.multiple_of is not None and not _is_multiple(x, self.multiple_of):
            out.append((path, "multipleOf", "%r is not a multiple of %r" % (x, self.multiple_of)))

    def _str_errors(self, x: str, path: tuple[Any, ...], out: list[Any]) -> None:
        n = len(x)
        if self.min_len >= 0 and n < self.min_len:
            out.append((path, "minLength", "%s is shorter than %d characters"
                        % (_short(x), self.min_len)))
        if self.max_len >= 0 and n > self.max_len:
            out.append((path, "maxLength", "%s is longer than %d characters"
                        % (_short(x), self.max_len)))
        if self.pattern is not None and self.pattern.search(x) is None:
            out.append((path, "pattern", "%s does not match %r" % (_short(x),
                                                                   self.pattern.pattern)))

    def _arr_errors(self, x: list[Any], path: tuple[Any, ...], out: list[Any], ff: bool,
                    d: int) -> None:
        n = len(x)
        if self.min_items >= 0 and n < self.min_items:
            out.append((path, "minItems", "array has %d items, fewer than %d"
                        % (n, self.min_items)))
        if self.max_items >= 0 and n > self.max_items:
            out.append((path, "maxItems", "array has %d items, more than %d"
                        % (n, self.max_items)))
        if ff and out:
            return
        start = 0
        if self.prefix is not None:
            start = min(n, len(self.prefix))
            for i in range(start):
                if not self.prefix[i].collect(x[i], path + (i,), out, ff, d) and ff:
                    return
        if self.items is not None:
            for i in range(start, n):
                if not self.items.collect(x[i], path + (i,), out, ff, d) and ff:
                    return
        if self.contains is not None:
            found = sum(1 for v in x if self.contains.ok(v, d))
            if found < self.min_contains:
                out.append((path, "contains" if self.min_contains == 1 else "minContains",
                            "array contains %d matching items, fewer than %d"
                            % (found, self.min_contains)))
            elif self.max_contains >= 0 and found > self.max_contains:
                out.append((path, "maxContains", "array contains %d matching items, more "
                                                 "than %d" % (found, self.max_contains)))
        if self.unique and not _all_unique(x):
            out.append((path, "uniqueItems", "array has non-unique elements"))

    def _obj_errors(self, x: dict[str, Any], path: tuple[Any, ...], out: list[Any], ff: bool,
                    d: int) -> None:
        n = len(x)
        n0 = len(out)
        if self.min_props >= 0 and n < self.min_props:
            out.append((path, "minProperties", "object has %d properties, fewer than %d"
                        % (n, self.min_props)))
        if self.max_props >= 0 and n > self.max_props:
            out.append((path, "maxProperties", "object has %d properties, more than %d"
                        % (n, self.max_props)))
        if self.required is not None:
            for k in self.required:
                if k not in x:
                    out.append((path, "required", "%r is a required property" % (k,)))
                    if ff:
                        return
        if ff and len(out) > n0:
            return
        for k, v in x.items():
            matched = False
            if self.properties is not None:
                sub = self.properties.get(k)
                if sub is not None:
                    matched = True
                    if not sub.collect(v, path + (k,), out, ff, d) and ff:
                        return
            if self.pattern_props is not None:
                for rx, psub in self.pattern_props:
                    if rx.search(k) is not None:
                        matched = True
                        if not psub.collect(v, path + (k,), out, ff, d) and ff:
                            return
            if not matched and self.additional is not None:
                if self.additional.always_false:
                    out.append((path, "additionalProperties",
                                "additional property %r is not allowed" % (k,)))
                    if ff:
                        return
                elif not self.additional.collect(v, path + (k,), out, ff, d) and ff:
                    return
        if self.property_names is not None:
            for k in x:
                if not self.property_names.ok(k, d):
                    out.append((path, "propertyNames", "property name %r is invalid" % (k,)))
                    if ff:
                        return
        if self.dep_required is not None:
            for k, names in self.dep_required.items():
                if k in x:
                    for name in names:
                        if name not in x:
                            out.append((path, "dependentRequired",
                                        "%r is a dependency of %r" % (name, k)))
                            if ff:
                                return
        if self.dep_schemas is not None:
            for k, sub in self.dep_schemas.items():
                if k in x and not sub.collect(x, path, out, ff, d) and ff:
                    return

    def _logic_errors(self, x: Any, path: tuple[Any, ...], out: list[Any], ff: bool,
                      d: int) -> None:
        if self.ref is not None and not self.ref.collect(x, path, out, ff, d) and ff:
            return
        if self.all_of is not None:
            for sub in self.all_of:
                if not sub.collect(x, path, out, ff, d) and ff:
                    return
        if self.any_of is not None and not any(sub.ok(x, d) for sub in self.any_of):
            out.append((path, "anyOf", "%s is not valid under any of the given schemas"
                        % _short(x)))
            if ff:
                return
        if self.one_of is not None:
            count = sum(1 for sub in self.one_of if sub.ok(x, d))
            if count == 0:
                out.append((path, "oneOf", "%s is not valid under any of the given schemas"
                            % _short(x)))
            elif count > 1:
                out.append((path, "oneOf", "%s is valid under more than one of the given "
                                           "schemas" % _short(x)))
            if count != 1 and ff:
                return
        if self.not_ is not None and self.not_.ok(x, d):
            out.append((path, "not", "%s should not be valid under the 'not' schema" % _short(x)))
            if ff:
                return
        if self.if_ is not None:
            if self.if_.ok(x, d):
                if self.then is not None:
                    self.then.collect(x, path, out, ff, d)
            elif self.else_ is not None:
                self.else_.collect(x, path, out, ff, d)


class Checker:
    """The validator's entry points: ``__call__`` (validate) and ``is_valid``.

    Valid data costs one walk of the node tree; invalid data goes to ``on_fail(x, fail_fast)``
    (the error path, which raises).
    """

    __slots__ = ("root", "depth", "on_fail")

    def __init__(self, root: Node, depth: int, on_fail: Any) -> None:
        self.root = root
        self.depth = depth
        self.on_fail = on_fail

    def __call__(self, x: Any, fail_fast: bool | None = None) -> None:
        try:
            if self.root.ok(x, self.depth):
                return None
        except (RecursionError, TypeError, ValueError, OverflowError):
            pass
        return self.on_fail(x, fail_fast)  # type: ignore[no-any-return]

    def is_valid(self, x: Any) -> bool:
        try:
            return self.root.ok(x, self.depth)
        except (RecursionError, TypeError, ValueError, OverflowError):
            return False


def _short(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 80 else r[:77] + "..."


__all__ = ["Checker", "Node", "TYPE_NAMES", "json_equal", "type_bits"]
