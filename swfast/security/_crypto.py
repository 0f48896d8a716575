"""The ``cryptography`` package is optional (``swfast[security]``): name the extra when it is missing."""
from __future__ import annotations

import sys


def need_cryptography(feature: str) -> None:
    """Raise :class:`~swfast._optional.MissingDependency` (``pip install "swfast[security]"``) without it."""
    if "cryptography" in sys.modules:
        return
    from .._optional import require

    require("cryptography", "security", feature=feature)
