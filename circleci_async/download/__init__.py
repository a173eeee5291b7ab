"""Artifact downloads and bulk mirroring: ``cci.artifacts``.

::

    async with CircleCI() as cci:
        items = await cci.artifacts.list("gh/acme/app", 1234).collect()
        results = await cci.artifacts.download(items, "out/")
        for r in results.failed:
            print(r.artifact.path, r.error)
        report = await cci.artifacts.mirror("gh/acme/app", "mirror/", branch="main",
                                            max_pipelines=20, include=["**/*.xml"])
        # the same options as an object: MirrorOptions(branch="main", since="7d", ...)
        print(report)   # "... nothing new to download; 57 files already present"

Every file is streamed to a partial file in its destination directory and renamed into place
only when complete and its size verified; nothing is ever left under a final name half written.
The token is sent only to CircleCI's own hosts, never to the storage host artifacts redirect to.
The library prints nothing; pass ``progress=TqdmProgress()`` for a terminal bar.
"""

from __future__ import annotations

from ._api import ArtifactsAPI
from ._models import (
    ArtifactRef,
    DownloadOptions,
    DownloadResult,
    DownloadResults,
    DownloadStatus,
    Layout,
    SkipPolicy,
    WriteMode,
)
from .errors import (
    DownloadError,
    DownloadFailed,
    IntegrityError,
    LocalFileError,
    PathConflictError,
    TooManyRedirects,
    UnsafePathError,
)
from .mirror import MirrorEntry, MirrorResult
from .options import MirrorOptions
from .progress import NullProgress, ProgressReporter, TqdmProgress

__all__ = [
    "ArtifactRef",
    "ArtifactsAPI",
    "DownloadError",
    "DownloadFailed",
    "DownloadOptions",
    "DownloadResult",
    "DownloadResults",
    "DownloadStatus",
    "IntegrityError",
    "Layout",
    "LocalFileError",
    "MirrorEntry",
    "MirrorOptions",
    "MirrorResult",
    "NullProgress",
    "PathConflictError",
    "ProgressReporter",
    "SkipPolicy",
    "TooManyRedirects",
    "TqdmProgress",
    "UnsafePathError",
    "WriteMode",
]
