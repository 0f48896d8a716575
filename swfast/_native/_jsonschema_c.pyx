# cython: freethreading_compatible = False, cdivision = False
"""Compiled JSON-Schema evaluation kernel; the pure-Python twin is ``_jsonschema_py.py``.

Nodes are built by ``swfast.utils._schema_compile`` (no source code is generated from a schema).
``ok`` is the allocation-free fast path; ``collect`` gathers ``(path, keyword, message)`` tuples.
``depth`` counts down so hostile nesting ends in a clean ``maxDepth`` failure, never a C stack
overflow.
"""
from cpython.dict cimport PyDict_GetItem, PyDict_Next, PyDict_Contains
from cpython.object cimport PyObject
from cpython.long cimport PyLong_AsLongLongAndOverflow
from libc.math cimport floor, isfinite
from fractions import Fraction

cdef int T_NULL = 1
cdef int T_BOOL = 2
cdef int T_INT = 4
cdef int T_NUM = 8
cdef int T_STR = 16
cdef int T_ARR = 32
cdef int T_OBJ = 64

TYPE_NAMES = {
    "null": 1, "boolean": 2, "integer": 4, "number": 8, "string": 16, "array": 32, "object": 64,
}


cdef inline int _bits(object x) except -1:
    cdef type t = type(x)
    if t is str:
        return T_STR
    if t is int:
        return T_INT | T_NUM
    cdef double v
    if t is float:
        v = <double>x
        return (T_INT | T_NUM) if isfinite(v) and v == floor(v) else T_NUM
    if t is bool:
        return T_BOOL
    if x is None:
        return T_NULL
    if t is dict:
        return T_OBJ
    if t is list:
        return T_ARR
    if isinstance(x, bool):
        return T_BOOL
    if isinstance(x, str):
        return T_STR
    if isinstance(x, int):
        return T_INT | T_NUM
    if isinstance(x, float):
        return _float_bits(float(x))
    if isinstance(x, dict):
        return T_OBJ
    if isinstance(x, list):
        return T_ARR
    return 0


cdef int _float_bits(object x) except -1:
    return (T_INT | T_NUM) if float(x).is_integer() else T_NUM


def type_bits(x):
    """Return the JSON type bits of ``x`` (an integral float is also an integer)."""
    return _bits(x)


cdef bint _eq(object a, object b) except -1:
    if a is b:
        return True
    cdef int ta = _bits(a)
    cdef int tb = _bits(b)
    cdef Py_ssize_t i, n
    if ta & T_NUM and tb & T_NUM:
        return bool(a == b)
    if ta != tb:
        return False
    if ta == T_ARR:
        n = len(a)
        if n != len(b):
            return False
        for i in range(n):
            if not _eq(a[i], b[i]):
                return False
        return True
    if ta == T_OBJ:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not _eq(v, b[k]):
                return False
        return True
    return bool(a == b)


def json_equal(a, b):
    """JSON equality: ``1 == 1.0`` but ``True != 1``; containers compared deeply."""
    return _eq(a, b)


cdef object _freeze(object x, int depth):
    if depth <= 0:
        raise RecursionError("uniqueItems: array items are nested too deeply to compare")
    cdef int bits = _bits(x)
    if bits & T_NUM:
        return (1, x)
    if bits == T_STR:
        return (3, x)
    if bits == T_BOOL:
        return (2, bool(x))
    if bits == T_NULL:
        return (0,)
    if bits == T_ARR:
        return (4, tuple([_freeze(v, depth - 1) for v in x]))
    if bits == T_OBJ:
        return (5, frozenset([(k, _freeze(v, depth - 1)) for k, v in x.items()]))
    return (6, id(x))


cdef bint _all_unique(list items) except -1:
    cdef set seen = set()
    for v in items:
        key = _freeze(v, 512)
        if key in seen:
            return False
        seen.add(key)
    return True


cdef bint _is_multiple(object x, object m) except -1:
    if isinstance(m, float):
        try:  # the division itself overflows for integers beyond ~1.8e308: exact fallback
            q = x / m
            return int(q) == q
        except (OverflowError, ValueError):
            return (Fraction(x) / Fraction(m)).denominator == 1
    return not (x % m)


cdef bint _exact_double(object b):
    """Whether bound ``b`` converts to a double without changing its value."""
    if type(b) is float:
        return True
    if type(b) is int:
        return -9007199254740992 <= b <= 9007199254740992
    return False


cdef str _describe_types(int bits):
    return ", ".join([repr(n) for n, b in TYPE_NAMES.items() if bits & b])


cdef str _short(object x):
    r = repr(x)
    return r if len(r) <= 80 else r[:77] + "..."


cdef class Node:
    """One compiled subschema. Attributes are set by the schema compiler, then ``finalize()``."""

    cdef public bint always_false, has_const, unique, finite
    cdef public int types
    cdef public object enum, const, minimum, maximum, exmin, exmax, multiple_of, pattern
    cdef public Py_ssize_t min_len, max_len, min_items, max_items, min_contains, max_contains
    cdef public Py_ssize_t min_props, max_props
    cdef public object prefix, items, contains, properties, pattern_props, additional, required
    cdef public object dep_required, dep_schemas, property_names, all_of, any_of, one_of
    cdef public object not_, if_, then, else_, ref
    cdef public bint trivial, has_num, has_str, has_arr, has_obj, has_logic, props_only
    cdef object _search
    cdef frozenset _enum_strs
    cdef bint _enum_only_strs, _num_fast
    cdef double _dmin, _dmax, _dexmin, _dexmax
    cdef bint _hmin, _hmax, _hexmin, _hexmax

    def __init__(self):
        self.always_false = False
        self.types = 0
        self.finite = True
        self.enum = None
        self.has_const = False
        self.const = None
        self.minimum = self.maximum = self.exmin = self.exmax = self.multiple_of = None
        self.min_len = self.max_len = -1
        self.pattern = None
        self.prefix = self.items = None
        self.min_items = self.max_items = -1
        self.unique = False
        self.contains = None
        self.min_contains = 1
        self.max_contains = -1
        self.properties = self.pattern_props = self.additional = self.required = None
        self.min_props = self.max_props = -1
        self.dep_required = self.dep_schemas = self.property_names = None
        self.all_of = self.any_of = self.one_of = None
        self.not_ = self.if_ = self.then = self.else_ = self.ref = None
        self.trivial = False
        self.has_num = self.has_str = self.has_arr = self.has_obj = self.has_logic = False
        self.props_only = False

    def finalize(self):
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
        self._search = self.pattern.search if self.pattern is not None else None
        self._enum_strs = None
        self._enum_only_strs = False
        if self.enum is not None:
            self._enum_strs = frozenset([e for e in self.enum if type(e) is str])
            self._enum_only_strs = len(self._enum_strs) == len(self.enum)
        self._num_fast = self.multiple_of is None and all(
            [b is None or _exact_double(b) for b in
             (self.minimum, self.maximum, self.exmin, self.exmax)])
        self._hmin = self.minimum is not None
        self._hmax = self.maximum is not None
        self._hexmin = self.exmin is not None
        self._hexmax = self.exmax is not None
        if self._num_fast:
            self._dmin = self.minimum if self._hmin else 0.0
            self._dmax = self.maximum if self._hmax else 0.0
            self._dexmin = self.exmin if self._hexmin else 0.0
            self._dexmax = self.exmax if self._hexmax else 0.0

    # ------------------------------------------------------------------ fast path
    def ok(self, x, int depth):
        """Return whether ``x`` is valid, without building errors."""
        return self._ok(x, depth)

    cdef bint _ok(self, object x, int depth) except -1:
        if self.trivial:
            return True
        if self.always_false or depth <= 0:
            return False
        cdef int bits = _bits(x)
        if self.types and not (self.types & bits):
            return False
        if bits & T_NUM and type(x) is float and self.finite and (self.types or self.has_num) \
                and not isfinite(<double>x):
            return False
        if self.enum is not None:
            if bits == T_STR and self._enum_strs is not None:
                if x not in self._enum_strs:
                    return False
            elif self._enum_only_strs:
                return False
            else:
                for e in <tuple>self.enum:
                    if _eq(x, e):
                        break
                else:
                    return False
        if self.has_const and not _eq(x, self.const):
            return False
        if self.has_num and bits & T_NUM and not self._num_ok(x):
            return False
        if self.has_str and bits == T_STR and not self._str_ok(<str>x):
            return False
        cdef int d = depth - 1
        if self.has_arr and bits == T_ARR and not self._arr_ok(x, d):
            return False
        if self.has_obj and bits == T_OBJ and not self._obj_ok(x, d):
            return False
        if self.has_logic and not self._logic_ok(x, d):
            return False
        return True

    cdef bint _num_ok(self, object x) except -1:
        cdef double v
        cdef long long iv
        cdef int overflow = 0
        if self._num_fast:
            if type(x) is float:
                v = <double>x
                return self._dnum_ok(v)
            if type(x) is int:
                iv = PyLong_AsLongLongAndOverflow(x, &overflow)
                if not overflow and -9007199254740992 <= iv <= 9007199254740992:
                    return self._dnum_ok(<double>iv)
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

    cdef inline bint _dnum_ok(self, double v) noexcept:
        if self._hmin and v < self._dmin:
            return False
        if self._hmax and v > self._dmax:
            return False
        if self._hexmin and v <= self._dexmin:
            return False
        if self._hexmax and v >= self._dexmax:
            return False
        return True

    cdef bint _str_ok(self, str x) except -1:
        cdef Py_ssize_t n = len(x)
        if self.min_len >= 0 and n < self.min_len:
            return False
        if self.max_len >= 0 and n > self.max_len:
            return False
        if self._search is not None and self._search(x) is None:
            return False
        return True

    cdef bint _arr_ok(self, list x, int d) except -1:
        cdef Py_ssize_t n = len(x), i, start = 0, found
        cdef tuple prefix
        cdef Node sub
        if self.min_items >= 0 and n < self.min_items:
            return False
        if self.max_items >= 0 and n > self.max_items:
            return False
        if self.prefix is not None:
            prefix = <tuple>self.prefix
            start = min(n, len(prefix))
            for i in range(start):
                if not (<Node>prefix[i])._ok(x[i], d):
                    return False
        if self.items is not None:
            sub = <Node>self.items
            if not sub.trivial:
                for i in range(start, n):
                    if not sub._ok(x[i], d):
                        return False
        if self.contains is not None:
            sub = <Node>self.contains
            found = 0
            for v in x:
                if sub._ok(v, d):
                    found += 1
            if found < self.min_contains:
                return False
            if self.max_contains >= 0 and found > self.max_contains:
                return False
        if self.unique and not _all_unique(x):
            return False
        return True

    cdef bint _obj_ok(self, dict x, int d) except -1:
        cdef Py_ssize_t n = len(x), pos = 0
        cdef PyObject* kp
        cdef PyObject* vp
        cdef PyObject* hit
        cdef Node sub
        cdef bint matched
        cdef dict props
        if self.min_props >= 0 and n < self.min_props:
            return False
        if self.max_props >= 0 and n > self.max_props:
            return False
        if self.required is not None:
            for k in <tuple>self.required:
                if not PyDict_Contains(x, k):
                    return False
        if self.properties is not None and self.props_only:
            props = <dict>self.properties
            if n < len(props):
                while PyDict_Next(x, &pos, &kp, &vp):
                    hit = PyDict_GetItem(props, <object>kp)
                    if hit is not NULL and not (<Node>hit)._ok(<object>vp, d):
                        return False
            else:
                while PyDict_Next(props, &pos, &kp, &vp):
                    hit = PyDict_GetItem(x, <object>kp)
                    if hit is not NULL and not (<Node>vp)._ok(<object>hit, d):
                        return False
        elif not self.props_only:
            while PyDict_Next(x, &pos, &kp, &vp):
                matched = False
                if self.properties is not None:
                    hit = PyDict_GetItem(<dict>self.properties, <object>kp)
                    if hit is not NULL:
                        matched = True
                        if not (<Node>hit)._ok(<object>vp, d):
                            return False
                if self.pattern_props is not None:
                    for rx, psub in <tuple>self.pattern_props:
                        if rx.search(<object>kp) is not None:
                            matched = True
                            if not (<Node>psub)._ok(<object>vp, d):
                                return False
                if not matched and self.additional is not None and \
                        not (<Node>self.additional)._ok(<object>vp, d):
                    return False
        if self.property_names is not None:
            sub = <Node>self.property_names
            for k in x:
                if not sub._ok(k, d):
                    return False
        if self.dep_required is not None:
            for k, names in (<dict>self.dep_required).items():
                if k in x:
                    for name in names:
                        if name not in x:
                            return False
        if self.dep_schemas is not None:
            for k, dsub in (<dict>self.dep_schemas).items():
                if k in x and not (<Node>dsub)._ok(x, d):
                    return False
        return True

    cdef bint _logic_ok(self, object x, int d) except -1:
        cdef Py_ssize_t count
        if self.ref is not None and not (<Node>self.ref)._ok(x, d):
            return False
        if self.all_of is not None:
            for sub in <tuple>self.all_of:
                if not (<Node>sub)._ok(x, d):
                    return False
        if self.any_of is not None:
            for sub in <tuple>self.any_of:
                if (<Node>sub)._ok(x, d):
                    break
            else:
                return False
        if self.one_of is not None:
            count = 0
            for sub in <tuple>self.one_of:
                if (<Node>sub)._ok(x, d):
                    count += 1
                    if count > 1:
                        return False
            if count != 1:
                return False
        if self.not_ is not None and (<Node>self.not_)._ok(x, d):
            return False
        if self.if_ is not None:
            if (<Node>self.if_)._ok(x, d):
                if self.then is not None and not (<Node>self.then)._ok(x, d):
                    return False
            elif self.else_ is not None and not (<Node>self.else_)._ok(x, d):
                return False
        return True

    # ------------------------------------------------------------------ error path
    def collect(self, x, tuple path, list out, bint fail_fast, int depth):
        """Append ``(path, keyword, message)`` for each failure; return whether ``x`` is valid."""
        return self._collect(x, path, out, fail_fast, depth)

    cdef bint _collect(self, object x, tuple path, list out, bint ff, int depth) except -1:
        if self.trivial:
            return True
        if self.always_false:
            out.append((path, "false", "False schema does not allow %r" % (x,)))
            return False
        if depth <= 0:
            out.append((path, "maxDepth", "nesting is deeper than max_depth; raise max_depth "
                                          "or flatten the data"))
            return False
        cdef Py_ssize_t n0 = len(out)
        cdef int bits = _bits(x)
        if self.types and not (self.types & bits):
            out.append((path, "type", "%r is not of type %s" % (x, _describe_types(self.types))))
            return False
        if bits & T_NUM and type(x) is float and self.finite and (self.types or self.has_num) \
                and not isfinite(<double>x):
            out.append((path, "finite", "%r is not a finite number (NaN and Infinity are "
                                        "not JSON)" % (x,)))
            return False
        if self.enum is not None and not any([_eq(x, e) for e in self.enum]):
            out.append((path, "enum", "%r is not one of %r" % (x, list(self.enum))))
            if ff:
                return False
        if self.has_const and not _eq(x, self.const):
            out.append((path, "const", "%r was expected" % (self.const,)))
            if ff:
                return False
        if self.has_num and bits & T_NUM:
            self._num_errors(x, path, out)
        if self.has_str and bits == T_STR:
            self._str_errors(x, path, out)
        if ff and len(out) > n0:
            return False
        cdef int d = depth - 1
        if self.has_arr and bits == T_ARR:
            self._arr_errors(x, path, out, ff, d)
        if ff and len(out) > n0:
            return False
        if self.has_obj and bits == T_OBJ:
            self._obj_errors(x, path, out, ff, d)
        if ff and len(out) > n0:
            return False
        if self.has_logic:
            self._logic_errors(x, path, out, ff, d)
        return len(out) == n0

    cdef _num_errors(self, object x, tuple path, list out):
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

    cdef _str_errors(self, str x, tuple path, list out):
        cdef Py_ssize_t n = len(x)
        if self.min_len >= 0 and n < self.min_len:
            out.append((path, "minLength", "%s is shorter than %d characters"
                        % (_short(x), self.min_len)))
        if self.max_len >= 0 and n > self.max_len:
            out.append((path, "maxLength", "%s is longer than %d characters"
                        % (_short(x), self.max_len)))
        if self.pattern is not None and self.pattern.search(x) is None:
            out.append((path, "pattern", "%s does not match %r" % (_short(x),
                                                                   self.pattern.pattern)))

    cdef _arr_errors(self, list x, tuple path, list out, bint ff, int d):
        cdef Py_ssize_t n = len(x), i, start = 0, found
        if self.min_items >= 0 and n < self.min_items:
            out.append((path, "minItems", "array has %d items, fewer than %d"
                        % (n, self.min_items)))
        if self.max_items >= 0 and n > self.max_items:
            out.append((path, "maxItems", "array has %d items, more than %d"
                        % (n, self.max_items)))
        if ff and out:
            return
        if self.prefix is not None:
            start = min(n, len(self.prefix))
            for i in range(start):
                if not (<Node>self.prefix[i])._collect(x[i], path + (i,), out, ff, d) and ff:
                    return
        if self.items is not None:
            for i in range(start, n):
                if not (<Node>self.items)._collect(x[i], path + (i,), out, ff, d) and ff:
                    return
        if self.contains is not None:
            found = 0
            for v in x:
                if (<Node>self.contains)._ok(v, d):
                    found += 1
            if found < self.min_contains:
                out.append((path, "contains" if self.min_contains == 1 else "minContains",
                            "array contains %d matching items, fewer than %d"
                            % (found, self.min_contains)))
            elif self.max_contains >= 0 and found > self.max_contains:
                out.append((path, "maxContains", "array contains %d matching items, more "
                                                 "than %d" % (found, self.max_contains)))
        if self.unique and not _all_unique(x):
            out.append((path, "uniqueItems", "array has non-unique elements"))

    cdef _obj_errors(self, dict x, tuple path, list out, bint ff, int d):
        cdef Py_ssize_t n = len(x), n0 = len(out)
        cdef bint matched
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
                    if not (<Node>sub)._collect(v, path + (k,), out, ff, d) and ff:
                        return
            if self.pattern_props is not None:
                for rx, psub in self.pattern_props:
                    if rx.search(k) is not None:
                        matched = True
                        if not (<Node>psub)._collect(v, path + (k,), out, ff, d) and ff:
                            return
            if not matched and self.additional is not None:
                if (<Node>self.additional).always_false:
                    out.append((path, "additionalProperties",
                                "additional property %r is not allowed" % (k,)))
                    if ff:
                        return
                elif not (<Node>self.additional)._collect(v, path + (k,), out, ff, d) and ff:
                    return
        if self.property_names is not None:
            for k in x:
                if not (<Node>self.property_names)._ok(k, d):
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
                if k in x and not (<Node>sub)._collect(x, path, out, ff, d) and ff:
                    return

    cdef _logic_errors(self, object x, tuple path, list out, bint ff, int d):
        cdef Py_ssize_t count
        if self.ref is not None and not (<Node>self.ref)._collect(x, path, out, ff, d) and ff:
            return
        if self.all_of is not None:
            for sub in self.all_of:
                if not (<Node>sub)._collect(x, path, out, ff, d) and ff:
                    return
        if self.any_of is not None and not any([(<Node>sub)._ok(x, d) for sub in self.any_of]):
            out.append((path, "anyOf", "%s is not valid under any of the given schemas"
                        % _short(x)))
            if ff:
                return
        if self.one_of is not None:
            count = 0
            for sub in self.one_of:
                if (<Node>sub)._ok(x, d):
                    count += 1
            if count == 0:
                out.append((path, "oneOf", "%s is not valid under any of the given schemas"
                            % _short(x)))
            elif count > 1:
                out.append((path, "oneOf", "%s is valid under more than one of the given "
                                           "schemas" % _short(x)))
            if count != 1 and ff:
                return
        if self.not_ is not None and (<Node>self.not_)._ok(x, d):
            out.append((path, "not", "%s should not be valid under the 'not' schema" % _short(x)))
            if ff:
                return
        if self.if_ is not None:
            if (<Node>self.if_)._ok(x, d):
                if self.then is not None:
                    (<Node>self.then)._collect(x, path, out, ff, d)
            elif self.else_ is not None:
                (<Node>self.else_)._collect(x, path, out, ff, d)


cdef class Checker:
    """The validator's entry points in C: ``__call__`` (validate) and ``is_valid``.

    Valid data costs one C call into the node tree; invalid data goes to ``on_fail(x,
    fail_fast)`` (the Python error path, which raises).
    """

    cdef Node root
    cdef int depth
    cdef object on_fail

    def __init__(self, Node root, int depth, on_fail):
        self.root = root
        self.depth = depth
        self.on_fail = on_fail

    def __call__(self, x, fail_fast=None):
        try:
            if self.root._ok(x, self.depth):
                return None
        except (RecursionError, TypeError, ValueError, OverflowError):
            pass
        return self.on_fail(x, fail_fast)

    def is_valid(self, x):
        try:
            return self.root._ok(x, self.depth)
        except (RecursionError, TypeError, ValueError, OverflowError):
            return False
