"""Results at the documented paths are typed, not Any: each marked line must fail mypy --strict
with the error code after ``# E:`` (checked by tests/test_typing.py)."""
from __future__ import annotations

from swfast.cache import cached
from swfast.monitoring import Counter, Histogram
from swfast.security import RBAC, TokenManager
from swfast.utils import normalize_text

c = Counter("typed_total", "Typed.", labelnames=("k",))
c.labels("a").no_such_method()  # E: attr-defined
text: int = normalize_text("x")  # E: assignment
allowed: str = RBAC().check_permission("u", "p")  # E: assignment
Histogram("typed_seconds", "Typed.", labelnames=("k",)).labels("a").observe("slow")  # E: arg-type


def wrong(manager: TokenManager) -> int:
    return manager.issue_tokens("u")  # E: return-value


@cached(ttl=60.0)  # keeps the wrapped signature (TieredCache.cached and cache_info: see the cache area)
def tokenize(text: str) -> list[str]:
    return text.split()


tokenize(3)  # E: arg-type
words: str = tokenize("a b")  # E: assignment
