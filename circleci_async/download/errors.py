"""Errors specific to downloads. Each failed file's result carries one of these, or an error of
the main hierarchy (``NotFound`` for a 404, ``TransportError`` for a dropped connection).

::

    CircleCIError
    └── DownloadError               one file could not be downloaded
        ├── UnsafePathError         the server's artifact path would leave the destination
        ├── PathConflictError       two artifacts would land on the same file
        ├── IntegrityError          the bytes received are not the file the server described
        ├── TooManyRedirects        the artifact URL redirects in a loop or too often
        ├── LocalFileError          the local disk refused (full, read-only, permissions)
        └── DownloadFailed          raised by ``fail_fast=True``; holds every file's result
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CircleCIError

if TYPE_CHECKING:
    from ._models import DownloadResult

__all__ = [
    "DownloadError",
    "DownloadFailed",
    "IntegrityError",
    "LocalFileError",
    "PathConflictError",
    "TooManyRedirects",
    "UnsafePathError",
]


class DownloadError(CircleCIError):
    """One file could not be downloaded; the others are not affected."""


class UnsafePathError(DownloadError):
    """The artifact path is absolute, contains ``..``, a drive letter, a NUL or control
    character, a reserved name, or would otherwise resolve outside the destination."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return f"{self.message}: {self.path!r}"


class PathConflictError(DownloadError):
    """Two artifacts map to the same local file (or one needs a directory where the other is a
    file). Neither silently overwrites the other."""


class IntegrityError(DownloadError):
    """The transfer ended with a different number of bytes than the server announced, or the
    server sent something that is not the artifact (an HTML page for a non-HTML file)."""

    def __init__(
        self,
        message: str,
        *,
        expected: int | None = None,
        received: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.received = received


class TooManyRedirects(DownloadError):
    """The artifact URL redirected more than ``max_redirects`` times (a loop, usually)."""


class LocalFileError(DownloadError):
    """Writing the file failed locally: disk full, read-only file system, permissions.

    ``errno`` is the operating system's error number (``errno.ENOSPC`` for a full disk).
    """

    def __init__(self, message: str, *, errno: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errno = errno


class DownloadFailed(DownloadError):
    """``fail_fast=True`` stopped a batch at its first failure.

    ``results`` holds one result per file: the failure that stopped the batch, what finished
    before it, and ``cancelled`` for the rest.
    """

    def __init__(self, message: str, *, results: list[DownloadResult]) -> None:
        super().__init__(message)
        self.results = results
