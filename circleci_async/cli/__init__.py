"""The ``circleci-async`` command line (``pip install "circleci-async[cli]"``).

Nothing here is imported by ``import circleci_async``: click and rich are optional, and only
the entry point below loads them. Without them the command says how to get them and exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["main"]

MISSING_EXTRA = 'circleci-async: error: the command line needs click and rich: pip install "circleci-async[cli]"'


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``circleci-async`` console script."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        sys.stderr.write(MISSING_EXTRA + "\n")
        sys.exit(2)
    from .app import main as run

    run(argv)
