"""A URL nested in another URL (path, query, fragment; once percent-encoded too) loses its user-info."""
from __future__ import annotations

import pytest

from swfast._redact import redact_known, redact_servers, redact_text, redact_url

NESTED = [
    ("a://b://user:pass@h", "a://b://***@h"),
    ("http://proxy/redirect?to=redis://:s3cret@host", "http://proxy/redirect?to=redis://***@host"),
    ("kafka://x/https://u:p@h", "kafka://x/https://***@h"),
    ("http://u:p@proxy/https://v:q@h/x?y=1", "http://***@proxy/https://***@h/x?y=1"),
    ("x://h/p#frag://u:p@h", "x://h/p#frag://***@h"),
    ("sasl_ssl://h/sasl_ssl://u:p@h:9092", "sasl_ssl://h/sasl_ssl://***@h:9092"),
    ("http://h/p?x=a://u:p@h&y=b://v:q@i", "http://h/p?x=a://***@h&y=b://***@i"),
    ("http://h/go?to=redis://:p@ss@host:6379/0", "http://h/go?to=redis://***@host:6379/0"),
    ("http://proxy/r?to=redis%3A%2F%2F%3As3cret%40host", "http://proxy/r?to=redis%3A%2F%2F***%40host"),
    ("http://h/r?to=redis%3a%2f%2fu%3ap%40h%2Fdb", "http://h/r?to=redis%3A%2F%2F***%40h%2Fdb"),
]
SECRETS = ("user", "pass", "s3cret", ":p@", "u:p", "v:q", "u%3ap", "%3As3cret")


@pytest.mark.parametrize(("url", "want"), NESTED)
def test_nested_url_user_info_is_redacted(url: str, want: str) -> None:
    assert redact_url(url) == want
    out = redact_text(f"error: {url} refused")
    assert out == f"error: {want} refused"
    assert not any(s in out for s in SECRETS)


def test_nested_value_next_to_a_secret_parameter_is_not_re_encoded_in_clear() -> None:
    out = redact_url("http://h/?u=redis://a:b@c&password=z")
    assert "a:b" not in out and "a%3Ab" not in out and "z" not in out.rpartition("=")[2]
    assert out == "http://h/?u=redis%3A%2F%2F***%40c&password=***"


@pytest.mark.parametrize("url", ["https://github.com/@user", "http://h/x://foo/bar@baz", "http://h/a?b=c@d",
                                 "redis://host:6379/0", "http://h/r?to=redis%3A%2F%2Fhost%2Fx%40y"])
def test_no_user_info_means_no_change(url: str) -> None:
    assert redact_url(url) == url
    assert redact_text(f"see {url}") == f"see {url}"


def test_server_lists_and_known_servers_with_nested_urls() -> None:
    assert redact_servers("h1:9092,http://proxy/https://u:p@h2") == "h1:9092,http://proxy/https://***@h2"
    assert "p@" not in redact_known("failed: kafka://x/https://u:p@h", "h1:9092")


def test_text_without_a_url_comes_back_unchanged() -> None:
    for text in ("", "plain line", "user@example.com wrote a:b@c", "ratio 3:1 @ noon"):
        assert redact_text(text) is text
