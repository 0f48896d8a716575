"""Pure-Python twin of the JWS codec kernel (``_jws_c.pyx``): unpadded base64url, strictly.

``b64url_decode`` accepts only the URL-safe alphabet without padding and refuses impossible
lengths (``len % 4 == 1``) and non-canonical spellings (unused trailing bits set, RFC 4648 §3.5)
with ``ValueError``: each byte string has exactly one accepted encoding, as in PyJWT and joserfc.
"""
from __future__ import annotations

import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
# The last character of a 2- or 3-character tail carries 4 or 2 unused bits, which must be zero.
_CANONICAL_2 = frozenset("AQgw")
_CANONICAL_3 = frozenset("AEIMQUYcgkosw048")
_TO_STD = bytes.maketrans(b"-_", b"+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url text of ``data``."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Bytes of an unpadded base64url ``segment``; ``ValueError`` for anything else."""
    if type(segment) is not str or len(segment) % 4 == 1 or _ALPHABET.fullmatch(segment) is None:
        raise ValueError("segment: not unpadded base64url")
    tail = len(segment) % 4
    if (tail == 2 and segment[-1] not in _CANONICAL_2) or (tail == 3 and segment[-1] not in _CANONICAL_3):
        raise ValueError("segment: non-canonical base64url (unused bits set)")
    return binascii.a2b_base64(segment.encode("ascii").translate(_TO_STD) + b"=" * (-len(segment) % 4))


__all__ = ["b64url_decode", "b64url_encode"]
