"""Results at the documented paths are typed, not Any: each marked line must fail mypy --strict
with the error code after ``# E:`` (checked by tests/test_typing.py)."""
from __future__ import annotations

from swfast.cache import TieredCache, cached
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


@cached(ttl=60.0)  # keeps the wrapped signature; cache_info() is a typed CacheStats
def tokenize(text: str) -> list[str]:
    return text.split()


tokenize(3)  # E: arg-type
words: str = tokenize("a b")  # E: assignment
hits: str = tokenize.cache_info()["hits"]  # E: assignment
tokenize.cache_info()["no_such_counter"]  # E: typeddict-item


@TieredCache().cached("user:{user_id}", ttl="5m")  # keeps the wrapped signature
def load_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


load_user("7")  # E: arg-type
name: str = load_user(7)  # E: assignment
