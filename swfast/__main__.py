"""``python -m swfast``: see :mod:`swfast.cli`."""
from .cli import main

raise SystemExit(main())
