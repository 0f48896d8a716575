"""asv: the cost of ``import swfast`` (and of the cache front) in a fresh interpreter.

Goal (issue 2): under 30 ms over a bare interpreter; compare with ``timeraw_bare``.
"""


def timeraw_import_swfast():
    return "import swfast"


def timeraw_import_swfast_cache():
    return "from swfast.cache import L1Cache, cached"


def timeraw_bare():
    return "pass"
