"""Pure-Python twin of the compiled redaction scanner (``_redscan_c.pyx``).

``scan(text, enabled, keys) -> (spans, steps)`` walks ``text`` once, left to right, and returns
the spans ``(start, end, kind)`` of sensitive data (non-overlapping, increasing) plus the number of
elementary steps it took. There are no regular expressions and no backtracking: every look-ahead
is bounded (at most 64 characters before an ``@``, 255 after it, 8 spaces around ``=``/``:``) or
consumes what it reads, so the work is linear in ``len(text)`` (tests assert on ``steps``).

Kinds (bit ``1 << kind`` of ``enabled`` switches a detector on):

1 EMAIL, 2 CARD (13-19 digits, IIN 2-6, Luhn; groups of 4 or Amex 4-6-5 when separated),
3 JWT (``eyJ….eyJ….sig``; the caller checks that the header decodes to JSON), 4 BEARER,
5 AWS_KEY (``AKIA``/``ASIA``/… + 16), 6 SECRET (the value of ``password=``/``token: …``/JSON
``"secret": "…"`` whose key ``keys`` accepts), 7 URL_CREDENTIALS (user-info of ``scheme://u:p@h``),
8 PRIVATE_KEY (PEM block), 9 NATIONAL_ID (Iranian, checksum), 10 IBAN (``IR`` + 24 digits,
mod 97), 11 PHONE (Iranian mobile: ``09…``, ``+98 9…``, ``0098 9…``).

Digits may be ASCII, Persian (U+06F0-06F9) or Arabic-Indic (U+0660-0669), separated by single
spaces or dashes.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Collection, Iterable, Mapping

EMAIL, CARD, JWT, BEARER, AWS_KEY, SECRET, URL_CREDENTIALS, PRIVATE_KEY, NATIONAL_ID, IBAN, PHONE = range(1, 12)

_AWS_PREFIXES = frozenset({"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "APKA"})
_NID_CONTEXT = ("ملی", "national", "melli", "nid", "کد")
_VALUE_END = frozenset(" \t\r\n&,;\"'})]<>")
_URL_END = frozenset(" \t\r\n/?#\"'<>")
_BEARER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/")


def _digit_value(c: int) -> int:
    """0-9 for an ASCII, Persian or Arabic-Indic digit; -1 otherwise."""
    if 48 <= c <= 57:
        return c - 48
    if 0x06F0 <= c <= 0x06F9:
        return c - 0x06F0
    if 0x0660 <= c <= 0x0669:
        return c - 0x0660
    return -1


def _alpha(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


def _word(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57 or c == 95


def _b64url(c: int) -> bool:
    return _word(c) or c == 45


def _local(c: int) -> bool:  # e-mail local part
    return _word(c) or c in (46, 37, 43, 45)


def _label(c: int) -> bool:  # e-mail domain label
    return _word(c) and c != 95 or c == 45


def _luhn(d: list[int], a: int, b: int) -> bool:
    total = 0
    odd = False
    for k in range(b - 1, a - 1, -1):
        v = d[k]
        if odd:
            v *= 2
            if v > 9:
                v -= 9
        total += v
        odd = not odd
    return total % 10 == 0


def _national_id_ok(d: list[int], a: int) -> bool:
    first = d[a]
    if all(d[a + k] == first for k in range(10)):
        return False
    s = 0
    for k in range(9):
        s += d[a + k] * (10 - k)
    s %= 11
    check = d[a + 9]
    return check == s if s < 2 else check == 11 - s


def _classify(d: list[int], a: int, b: int, nseg: int, fours: bool, last: int, lens3: tuple[int, int, int],
              plus: bool) -> int:
    """Kind of the digit window ``d[a:b]`` made of ``nseg`` segments, or 0."""
    n = b - a
    if n == 11 and d[a] == 0 and d[a + 1] == 9:
        return PHONE
    if n == 12 and plus and d[a] == 9 and d[a + 1] == 8 and d[a + 2] == 9:
        return PHONE
    if n == 14 and d[a] == 0 and d[a + 1] == 0 and d[a + 2] == 9 and d[a + 3] == 8 and d[a + 4] == 9:
        return PHONE
    if 13 <= n <= 19 and 2 <= d[a] <= 6:
        shape = nseg == 1 or (fours and last <= 4) or lens3 == (4, 6, 5) or lens3 == (4, 6, 4)
        if shape and _luhn(d, a, b):
            return CARD
    if n == 10 and nseg == 1 and _national_id_ok(d, a):
        return NATIONAL_ID
    return 0


def _looks_epoch(d: list[int], a: int) -> bool:
    value = 0
    for k in range(10):
        value = value * 10 + d[a + k]
    return 1_000_000_000 <= value < 2_100_000_000


def scan(text: str, enabled: int, keys: Callable[[str], bool]) -> tuple[list[tuple[int, int, int]], int]:
    """Spans ``(start, end, kind)`` of sensitive data in ``text`` and the steps taken."""
    n = len(text)
    cp = [ord(ch) for ch in text]
    spans: list[tuple[int, int, int]] = []
    steps = 0
    i = 0
    last_end = 0

    def emit(s: int, e: int, kind: int) -> None:
        nonlocal last_end
        if enabled >> kind & 1 and s >= last_end and e > s:
            spans.append((s, e, kind))
            last_end = e

    while i < n:
        steps += 1
        c = cp[i]
        prev = cp[i - 1] if i else 0
        if _digit_value(c) >= 0:
            if i and (_word(prev) or _digit_value(prev) >= 0):
                i += 1
                continue
            # ---- a number: segments of digits joined by single spaces or dashes
            d: list[int] = []
            seg_start: list[int] = []   # text offset of each segment
            seg_end: list[int] = []
            seg_pos: list[int] = [0]    # offset in d where each segment begins
            j = i
            while True:
                s0 = j
                while j < n and _digit_value(cp[j]) >= 0:
                    d.append(_digit_value(cp[j]))
                    j += 1
                    steps += 1
                seg_start.append(s0)
                seg_end.append(j)
                seg_pos.append(len(d))
                if j + 1 < n and cp[j] in (32, 45) and _digit_value(cp[j + 1]) >= 0:
                    j += 1
                    continue
                break
            nseg = len(seg_start)
            if j < n and _word(cp[j]):  # glued to letters: the last segment is part of a word
                nseg -= 1
                while j < n and _word(cp[j]):
                    j += 1
                    steps += 1
            plus = i > 0 and prev == 43
            s = 0
            while s < nseg:
                found = 0
                found_e = -1
                fours = True
                for e in range(s, nseg):
                    steps += 1
                    a, b = seg_pos[s], seg_pos[e + 1]
                    if b - a > 19:
                        break
                    if e > s and seg_pos[e] - seg_pos[e - 1] != 4:
                        fours = False
                    if b - a < 10:
                        continue
                    if e - s == 0 or fours or e == s + 2:  # shapes that run a checksum
                        steps += b - a
                    lens3 = ((seg_pos[s + 1] - a, seg_pos[s + 2] - seg_pos[s + 1], b - seg_pos[s + 2])
                             if e == s + 2 else (0, 0, 0))
                    kind = _classify(d, a, b, e - s + 1, fours, seg_pos[e + 1] - seg_pos[e], lens3,
                                     plus and s == 0)
                    if kind == NATIONAL_ID and _looks_epoch(d, a):
                        window = text[max(0, seg_start[s] - 24):seg_start[s]].lower()
                        if not any(w in window for w in _NID_CONTEXT):
                            kind = 0
                    if kind and enabled >> kind & 1:
                        found, found_e = kind, e
                if found:
                    start = seg_start[s] - 1 if (s == 0 and plus and found == PHONE) else seg_start[s]
                    emit(start, seg_end[found_e], found)
                    s = found_e + 1
                else:
                    s += 1
            i = j
            continue
        if _alpha(c) and not (i and (_word(prev) or _digit_value(prev) >= 0)):
            i, steps = _scan_word(text, cp, i, n, steps, keys, emit)
            continue
        if c == 64:  # '@': e-mail
            a = i
            while a > 0 and i - a < 64 and _local(cp[a - 1]):
                a -= 1
                steps += 1
            if a < i and a >= last_end:
                j = i + 1
                dots = 0
                label = 0
                tld_alpha = True
                while j < n and j - i <= 255:
                    steps += 1
                    ch = cp[j]
                    if _label(ch):
                        if label == 0:
                            tld_alpha = True
                        if not _alpha(ch):
                            tld_alpha = False
                        label += 1
                    elif ch == 46 and label and j + 1 < n and _label(cp[j + 1]):
                        dots += 1
                        label = 0
                    else:
                        break
                    j += 1
                if dots and label >= 2 and tld_alpha:
                    emit(a, j, EMAIL)
                    i = j
                    continue
            i += 1
            continue
        if c == 45 and text.startswith("-----BEGIN ", i):  # PEM
            head = text.find("-----", i + 11, i + 100)
            if head >= 0 and "PRIVATE KEY" in text[i + 11:head]:
                end = text.find("-----END", head + 5)
                if end < 0:
                    end = n  # fail closed: an unterminated key is redacted to the end
                else:
                    close = text.find("-----", end + 8, end + 100)
                    end = close + 5 if close >= 0 else n
                steps += end - i
                emit(i, end, PRIVATE_KEY)
                i = end
                continue
        i += 1
    return spans, steps


def _scan_word(text: str, cp: list[int], i: int, n: int, steps: int, keys: Callable[[str], bool],
               emit: Callable[[int, int, int], None]) -> tuple[int, int]:
    j = i
    while j < n and (_word(cp[j]) or (cp[j] == 45 and j + 1 < n and _alpha(cp[j + 1]))):
        j += 1
        steps += 1
    c0 = cp[i]
    # IBAN: IR + 24 digits (single spaces/dashes allowed between digits)
    if (c0 | 32) == 105 and i + 2 < n and (cp[i + 1] | 32) == 114 and _digit_value(cp[i + 2]) >= 0:
        k = i + 2
        digits: list[int] = []
        while k < n and len(digits) < 24:
            steps += 1
            v = _digit_value(cp[k])
            if v >= 0:
                digits.append(v)
                k += 1
            elif cp[k] in (32, 45) and k + 1 < n and _digit_value(cp[k + 1]) >= 0:
                k += 1
            else:
                break
        if len(digits) == 24 and not (k < n and (_word(cp[k]) or _digit_value(cp[k]) >= 0)):
            r = 0
            for v in digits[2:] + [1, 8, 2, 7] + digits[:2]:
                r = (r * 10 + v) % 97
            if r == 1:
                emit(i, k, IBAN)
                return k, steps + 26
    length = j - i
    # JWT: eyJ<b64url>.eyJ<b64url>.<b64url>
    if text.startswith("eyJ", i):  # JWT: a header of >= 16 base64url chars, then ".eyJ", then one more dot
        h = i
        while h < n and _b64url(cp[h]):
            h += 1
            steps += 1
        if h - i >= 16 and text.startswith(".eyJ", h):
            k = h + 1
            dots = 1
            while k < n:
                steps += 1
                ch = cp[k]
                if _b64url(ch):
                    k += 1
                elif ch == 46 and dots < 2:
                    dots += 1
                    k += 1
                else:
                    break
            if dots == 2:
                emit(i, k, JWT)
                return k, steps
    if length == 20 and text[i:i + 4] in _AWS_PREFIXES:
        if all(48 <= cp[k] <= 57 or 65 <= cp[k] <= 90 for k in range(i, j)):
            emit(i, j, AWS_KEY)
            return j, steps + 20
    if length == 6 and text[i:j].lower() == "bearer":
        k = j
        while k < n and k - j < 8 and cp[k] == 32:
            k += 1
        if k > j:
            t = k
            while t < n and text[t] in _BEARER_CHARS:
                t += 1
                steps += 1
            while t < n and cp[t] == 61:
                t += 1
            if t - k >= 8:
                emit(k, t, BEARER)
                return t, steps
    if text.startswith("://", j):  # URL user-info
        k = j + 3
        at = -1
        while k < n and k - j < 512 and text[k] not in _URL_END:
            steps += 1
            if cp[k] == 64:
                at = k
            k += 1
        if at > j + 3:
            emit(j + 3, at, URL_CREDENTIALS)
            return at + 1, steps
        return j + 3, steps
    # key = value / key: value / "key": "value"
    k = j
    if k < n and cp[k] in (34, 39):
        k += 1
    while k < n and k - j < 8 and cp[k] in (32, 9):
        k += 1
    if k < n and cp[k] in (61, 58) and keys(text[i:j]):
        k += 1
        while k < n and k - j < 16 and cp[k] in (32, 9):
            k += 1
        quote = cp[k] if k < n and cp[k] in (34, 39) else 0
        if quote:
            k += 1
        v = k
        while v < n:
            steps += 1
            ch = cp[v]
            if quote:
                if ch == quote or ch in (10, 13):
                    break
                if ch == 92 and v + 1 < n:
                    v += 1
            elif text[v] in _VALUE_END:
                break
            v += 1
        if not quote and v > k and text[k:v].lower() in ("bearer", "basic"):  # scheme + credential
            t = v
            while t < n and cp[t] == 32 and t - v < 8:
                t += 1
            while t < n and text[t] not in _VALUE_END:
                t += 1
                steps += 1
            v = t
        if v > k:
            emit(k, v, SECRET)
            return v, steps
    return j, steps


_SCALAR_TYPES = (str, int, float, bool, type(None))
_MISSING = object()


def _check_value(value: object, texts: list[str]) -> bool:
    t = type(value)
    if t is str:
        texts.append(value)  # type: ignore[arg-type]
    elif t is int:
        return -1_000_000_000 < value < 1_000_000_000  # type: ignore[operator]
    elif not (t is float or t is bool or value is None):
        return False
    return True


def _clean(d: Mapping[str, object], skip: int, first: str, reserved: Collection[str], key_cache: Mapping[str, bool],
           message: str, ctx: Mapping[str, object] | None, enabled: int, keys: Callable[[str], bool]) -> bool:
    items: Iterable[tuple[str, object]] = d.items()
    if len(d) >= skip and next(iter(d), None) == first:
        items = islice(items, skip, None)
    texts = [message]
    for key, value in items:
        if type(key) is not str:
            return False
        if key in reserved:
            continue
        if key_cache.get(key) is not False or not _check_value(value, texts):
            return False
    for key, value in (ctx or {}).items():
        if type(key) is not str:
            return False
        if key in d:
            continue  # setdefault: the record's own value wins
        if key_cache.get(key) is not False or not _check_value(value, texts):
            return False
    return not scan("\n".join(texts), enabled, keys)[0]


def clean_record(d: Mapping[str, object], skip: int, first: str, reserved: Collection[str],
                 key_cache: Mapping[str, bool], message: str, enabled: int, keys: Callable[[str], bool]) -> bool:
    """Whether a record needs no redaction at all (the common clean record, in one call).

    ``True`` only when every ``extra=`` key of ``d`` (a record's ``__dict__``; its first ``skip``
    entries are the standard attributes when its first key is ``first``, otherwise every key is
    checked against ``reserved``) is cached as not sensitive in ``key_cache``, every extra value is
    a str, float, bool, None or an int of magnitude < 10**9, and one scan of ``message`` and the str
    extras joined by newlines finds nothing. ``False`` means: take the general path (a key not yet
    cached or sensitive, a container, a big int, a detection); nothing is changed either way.
    """
    return _clean(d, skip, first, reserved, key_cache, message, None, enabled, keys)


def process_clean(record: Any, cls: type, ctx: Mapping[str, object], fields: tuple[tuple[str, object], ...], skip: int,
                  first: str, reserved: Collection[str], key_cache: Mapping[str, bool], enabled: int,
                  keys: Callable[[str], bool]) -> Any:
    """``LogProcessor.process_log`` for a clean record of exactly type ``cls``, in one call.

    The record must not be processed yet, carry no exception or stack, have a str ``msg`` and
    scalar ``args``; its extras and the context fields ``ctx`` it lacks must pass
    :func:`clean_record`. Then the processed copy is returned: ``msg % args`` applied, ``args``
    cleared, ``ctx`` added (record values win), marked processed, then ``fields`` ((name, value)
    pairs: host, pid, service, version) added. ``None`` means: take the general path (nothing
    was changed).
    """
    if type(record) is not cls:
        return None
    d = record.__dict__
    if "_swfast_done" in d or any(d.get(name, 0) is not None for name in ("exc_info", "exc_text", "stack_info")):
        return None
    msg, args = d.get("msg"), d.get("args", _MISSING)
    if type(msg) is not str or args is _MISSING:
        return None
    if args:
        if type(args) is not tuple or any(type(a) not in _SCALAR_TYPES for a in args):
            return None
        try:
            message = msg % args
        except Exception:  # noqa: BLE001 - the general path reports it
            return None
        if type(message) is not str:
            return None
    else:
        message = msg
    if not _clean(d, skip, first, reserved, key_cache, message, ctx, enabled, keys):
        return None
    new = object.__new__(cls)
    nd = dict(d)
    new.__dict__ = nd
    nd["msg"] = message
    nd["args"] = None
    for key, value in (ctx or {}).items():
        nd.setdefault(key, value)
    nd["_swfast_done"] = True
    for key, value in fields:
        nd.setdefault(key, value)
    return new


def process_render(record: Any, cls: type, ctx: Mapping[str, object], fields: tuple[tuple[str, object], ...],
                   skip: int, first: str, reserved: Collection[str], key_cache: Mapping[str, bool], enabled: int,
                   keys: Callable[[str], bool], renderer: Any) -> bytes | None:
    """The JSON line that ``renderer`` (a ``RecordRenderer``) gives the processed copy of a clean
    record (:func:`process_clean`), without making the copy: ``renderer.render_processed(record,
    message, ctx, fields)`` (the context fields and ``fields`` the record lacks, after its extras).
    ``None``: take the general path."""
    new = process_clean(record, cls, ctx, (), skip, first, reserved, key_cache, enabled, keys)
    if new is None:
        return None
    out: bytes | None = renderer.render_processed(record, new.msg, ctx, fields)
    return out


class FusedJSON:
    """``JSONLogFormatter(processor=p).render(record)`` for the clean common record in one call:
    ``fused.render(record, as_str)`` is :func:`process_render`'s line (str when ``as_str``), with the
    processor's state read on every call; ``False`` when the record is not a clean common
    record (:func:`process_clean` declines: the processor's general path, without the fused
    kernels), ``None`` when the fused kernels do not apply here (``p`` has steps, custom
    patterns, no redactor or no enrichment; an OpenTelemetry span is active (``p._span_active()``, asked
    only when ``opentelemetry.trace`` is in ``modules``); the
    context value is not a dict) or the renderer declines.

    ``forks`` is the processor module's fork counter (a one-item list): the host/pid fields are
    taken from ``p._process_fields()`` again after a fork or when ``p.service``/``p.version``
    change. The redactor's key cache, detector mask and text-key test are taken once per
    redactor object (they are fixed when it is made).
    """

    def __init__(self, processor: Any, renderer: Any, ctxvar: Any, modules: Mapping[str, object], forks: list[int],
                 cls: type, skip: int, first: str, reserved: Collection[str]) -> None:
        self.processor, self.renderer, self.ctxvar, self.modules, self.forks = processor, renderer, ctxvar, modules, forks
        self.cls, self.skip, self.first, self.reserved = cls, skip, first, reserved

    def render(self, record: Any, as_str: bool = False) -> bytes | str | bool | None:
        p = self.processor
        red = p.redactor
        if red is None or not p.enrich or p.steps or red.patterns:
            return None
        if "opentelemetry.trace" in self.modules and p._span_active():
            return None  # an active span adds its ids: LogProcessor.render_json decides
        fields = p._process_fields()
        ctx = self.ctxvar.get()
        if type(fields) is not tuple or type(ctx) is not dict:
            return None
        new = process_clean(record, self.cls, ctx, (), self.skip, self.first, self.reserved, red._key_cache,
                            red._mask, red._text_key)
        if new is None:
            return False
        out: bytes | str | None = self.renderer.render_processed(record, new.msg, ctx, fields, as_str)
        return out
