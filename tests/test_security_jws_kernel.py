"""The JWS base64url codec kernel: compiled and twin agree with the standard library."""
from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def test_selector_picks_compiled() -> None:
    from swfast._native import jws
    from swfast._native._compat import NO_EXTENSIONS

    assert jws.b64url_decode.__module__.endswith("_jws_py" if NO_EXTENSIONS else "_jws_c")


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_roundtrip_matches_stdlib(impl, data: bytes) -> None:  # type: ignore[no-untyped-def]
    k = impl.load("jws")
    text = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert k.b64url_encode(data) == text
    assert k.b64url_decode(text) == data


@pytest.mark.parametrize("bad", ["a", "abcde", "ab==", "abc=", "a+bc", "a/bc", "ab cd", "ab\ncd", "\u00e9\u00e9\u00e9\u00e9",
                                 "abc\x00", None, b"abcd", 12])
def test_strict_decode(impl, bad: object) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        impl.load("jws").b64url_decode(bad)


@settings(deadline=None)
@given(st.text(alphabet="ABCabc012-_+/=. \u00e9", max_size=40))
def test_decode_agrees_between_implementations(text: str) -> None:
    from swfast._native import _jws_py

    try:
        from swfast._native import _jws_c
    except ImportError:
        pytest.skip("compiled kernel not built")
    results = []
    for k in (_jws_c, _jws_py):
        try:
            results.append(k.b64url_decode(text))
        except ValueError:
            results.append("error")
    assert results[0] == results[1]
