"""Pure-Python twin of the ``collect_metric`` hot path (``_collect_c.pyx``); same behaviour."""
from __future__ import annotations

import math
from typing import Any, Callable


def make_collect_metric(fast: dict[str, Callable[[tuple[float, Any]], None]], routes: dict[tuple[Any, ...], Any],
                        clock: Callable[[], float], slow: Callable[..., None]) -> Callable[..., None]:
    """The ``collect_metric`` callable over a store's ``fast``/``routes`` tables."""
    isfinite = math.isfinite

    def collect_metric(name: str, value: Any, kind: str = "gauge", **labels: Any) -> None:
        tp = type(value)
        if tp is float:
            if not isfinite(value):
                return slow(name, value, kind, **labels)
        elif tp is not int:
            return slow(name, value, kind, **labels)
        if not labels and kind == "gauge":
            append = fast.get(name)
            if append is not None:
                append((clock(), value))
                return None
        else:
            route = routes.get((name, kind, *labels.items()))
            if route is not None:
                route[0].add(clock(), value * route[1])
                return None
        return slow(name, value, kind, **labels)

    return collect_metric
