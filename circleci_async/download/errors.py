"""The download errors, re-exported from :mod:`circleci_async.errors` where the whole tree lives.

``TooManyRedirects`` is no longer a :class:`DownloadError`: API calls raise it too.
"""

from __future__ import annotations

from ..errors import (
    DownloadError,
    DownloadFailed,
    IntegrityError,
    LocalFileError,
    PathConflictError,
    TooManyRedirects,
    UnsafePathError,
)

__all__ = [
    "DownloadError",
    "DownloadFailed",
    "IntegrityError",
    "LocalFileError",
    "PathConflictError",
    "TooManyRedirects",
    "UnsafePathError",
]
