"""The values a download takes and returns: artifacts, policies, options, results."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..errors import CircleCIError, ConfigurationError

__all__ = [
    "ArtifactRef",
    "DownloadOptions",
    "DownloadResult",
    "DownloadResults",
    "DownloadStatus",
    "Layout",
    "SkipPolicy",
    "WriteMode",
    "as_artifact",
]

MiB = 1024 * 1024


class SkipPolicy(str, enum.Enum):
    """What to do when the destination file already exists.

    - ``overwrite``: download again and replace it (atomically).
    - ``if-present``: leave it alone; no request is made. Safe for mirroring, because a file only
      ever appears under its final name complete and verified.
    - ``if-size-matches``: ask the server; keep the file when its size equals the announced
      ``Content-Length`` (the transfer is abandoned right after the headers), else download.
    """

    OVERWRITE = "overwrite"
    IF_PRESENT = "if-present"
    IF_SIZE_MATCHES = "if-size-matches"


class Layout(str, enum.Enum):
    """Where an artifact lands under the destination directory.

    Parallel nodes of a job may upload artifacts with the same ``path``.

    - ``auto`` (default): ``<dest>/<path>``; when the same path (compared case- and
      Unicode-insensitively) comes from more than one node, *every* copy of it goes to
      ``<dest>/node-<node_index>/<path>`` instead, so no node silently wins and the result does
      not depend on listing order.
    - ``per-node``: always ``<dest>/node-<node_index>/<path>``.
    - ``flat``: always ``<dest>/<path>``; colliding artifacts are all refused with
      :class:`PathConflictError`.

    Independently of the layout, two artifacts that still map to one file (a literal
    ``node-1/x`` path next to a node-1 ``x``), or a file where another artifact needs a directory,
    are refused with :class:`PathConflictError` rather than overwritten.
    """

    AUTO = "auto"
    PER_NODE = "per-node"
    FLAT = "flat"


class DownloadStatus(str, enum.Enum):
    DOWNLOADED = "downloaded"
    SKIPPED = "skipped"
    FAILED = "failed"
    #: Not attempted or interrupted because ``fail_fast`` stopped the batch.
    CANCELLED = "cancelled"


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


class WriteMode(str, enum.Enum):
    """Where disk writes happen.

    - ``auto`` (default): ``inline`` while the disk keeps up, and ``thread`` for the rest of
      the call once writes slower than ``slow_write`` (2 ms) add up to more than 0.25 s beyond
      a tenth of the time elapsed (dirty-page throttling, network file systems; a one-off
      stall does not count). The loop waits only for page-cache writes of one chunk, tens to
      hundreds of microseconds, about what decoding a JSON page costs.
    - ``thread``: always on the downloader's thread pool (through aiofiles), in 1 MiB batches,
      while the next batch is received. The event loop never waits for the disk at all; for
      services where even that is too much, at a price in throughput.
    - ``inline``: each chunk is written as it arrives, on the event loop, as raw aiohttp scripts
      do, however slow the disk.

    Why ``auto`` is the default: on the benchmark machine (2 cores, loop and pool sharing one)
    a batch handed to a thread after it was received costs 15-25% of the throughput of writing
    each chunk as it arrives (0.75-0.85x raw aiohttp with 1 MiB batches; bigger batches were
    no better, 4 MiB ones much worse), while ``auto`` matches raw aiohttp and curl and still
    moves to the pool when the disk turns slow. Figures: ``benchmarks/bench_download.py``.
    """

    AUTO = "auto"
    THREAD = "thread"
    INLINE = "inline"


@attrs.frozen
class DownloadOptions:
    """Tuning for transfers; the defaults suit CircleCI and S3.

    Memory never depends on file sizes. Inline writes hold nothing beyond the chunk received.
    Thread-pool writes hold, per file in flight, the batch being filled and (with up to four
    files in flight) the batch being written: batches are ``memory_limit / (2 * files in
    flight)`` within ``[min_write, buffer_size]`` (so up to four concurrent files write 1 MiB at
    a time), plus one received chunk (up to 256 KiB). Measured at 32 files in flight: inline adds
    what raw aiohttp adds (about 17 MiB, its per-connection buffers), thread mode about 15 MiB
    more.
    """

    write_mode: WriteMode = attrs.field(default=WriteMode.AUTO, converter=WriteMode)
    #: In ``auto`` mode, a write (or create, or rename) slower than this, in seconds, is slow:
    #: twenty times what writing a chunk to the page cache usually takes.
    slow_write: float = attrs.field(default=0.002, validator=_positive)

    #: Failed attempts in a row before a file is given up. An attempt that brought at least
    #: 64 KiB of new bytes before failing starts the count again (the transfer resumes there at
    #: once), up to 20 times ``max_attempts`` attempts in all. These three fields are the
    #: downloads' :class:`~circleci_async.config.RetryConfig` (the client's ``retry_statuses``
    #: apply; no deadline): the decisions are :class:`~circleci_async.retry.RetryPolicy`'s.
    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    #: Waits between failed attempts: ``backoff``'s exponential schedule with full jitter.
    backoff_base: float = attrs.field(default=0.5, validator=_positive)
    backoff_max: float = attrs.field(default=10.0, validator=_positive)
    connect_timeout: float | None = attrs.field(default=30.0, validator=_positive)
    #: The longest silence while reading a body. There is no total timeout: big files take long.
    read_timeout: float | None = attrs.field(default=60.0, validator=_positive)
    #: The slowest a body may arrive, in bytes per second averaged over each
    #: ``min_rate_window`` seconds: a server trickling a byte at a time never goes silent long
    #: enough for ``read_timeout``. A slower attempt fails as a ``RequestTimeout`` (retried and
    #: resumed like a dropped connection). Checked on a timer, not per chunk. ``None``: no
    #: minimum.
    min_rate: float | None = attrs.field(default=1024.0, validator=_positive)
    min_rate_window: float = attrs.field(default=60.0, validator=_positive)
    #: The largest file accepted, in bytes: a body without ``Content-Length`` is cut and the
    #: file fails (``IntegrityError``) past it, and an announced size past it is refused before
    #: any byte is written. ``None`` (the default): no maximum. A body longer than its
    #: ``Content-Length`` is never written past it, whatever this says.
    max_size: int | None = attrs.field(default=None, validator=_positive)
    max_redirects: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    buffer_size: int = attrs.field(default=MiB, validator=attrs.validators.ge(4096))
    min_write: int = attrs.field(default=128 * 1024, validator=attrs.validators.ge(4096))
    memory_limit: int = attrs.field(default=8 * MiB, validator=attrs.validators.ge(64 * 1024))
    #: Files at least this big keep a resume record beside their partial file, so a later run
    #: can continue them (smaller ones just start again).
    resume_threshold: int = attrs.field(default=8 * MiB, validator=attrs.validators.ge(0))
    #: Refuse a ``text/html`` answer for an artifact whose name is not HTML: that is a login or
    #: error page, not the artifact.
    reject_html: bool = True


@attrs.frozen
class ArtifactRef:
    """One artifact as listed by the API: the server-supplied ``path``, the node that stored it,
    and the URL to fetch it from (on CircleCI's artifact host, which usually redirects)."""

    path: str
    node_index: int
    url: str


def as_artifact(obj: object) -> ArtifactRef:
    """An :class:`ArtifactRef` from an API item: a mapping or any object with ``path``,
    ``node_index`` and ``url``. Values are kept as given; they are validated per file."""
    if isinstance(obj, ArtifactRef):
        return obj
    if isinstance(obj, Mapping):
        path, node, url = obj.get("path"), obj.get("node_index"), obj.get("url")
    else:
        path = getattr(obj, "path", None)
        node = getattr(obj, "node_index", None)
        url = getattr(obj, "url", None)
    if node is None:
        node = 0
    return ArtifactRef(path, node, url)  # type: ignore[arg-type]  # validated later, per file


@attrs.frozen
class DownloadResult:
    """What happened to one file.

    ``bytes`` is the size of the file in place afterwards (for a skip, the existing file's);
    ``transferred`` counts bytes received in this call (resumed bytes are not counted twice).
    ``relative`` is the destination relative to ``dest`` with ``/`` separators, ``filename`` the
    absolute local path (both ``None`` when the path was refused).
    """

    artifact: ArtifactRef
    status: DownloadStatus
    filename: str | None = None
    relative: str | None = None
    bytes: int = 0
    transferred: int = 0
    error: CircleCIError | None = None
    #: Why a file was skipped: ``"present"``, ``"size-matches"`` or ``"duplicate"``.
    reason: str | None = None
    attempts: int = 0
    #: Where this call's transfer started, when it continued a partial file of an earlier run.
    resumed_from: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in (DownloadStatus.DOWNLOADED, DownloadStatus.SKIPPED)

    @property
    def destination(self) -> Path | None:
        """The local file, as a :class:`~pathlib.Path`."""
        return Path(self.filename) if self.filename is not None else None


class DownloadResults(list[DownloadResult]):
    """One :class:`DownloadResult` per file, in the order the artifacts were given."""

    def with_status(self, status: DownloadStatus) -> list[DownloadResult]:
        return [r for r in self if r.status is status]

    @property
    def downloaded(self) -> list[DownloadResult]:
        return self.with_status(DownloadStatus.DOWNLOADED)

    @property
    def skipped(self) -> list[DownloadResult]:
        return self.with_status(DownloadStatus.SKIPPED)

    @property
    def failed(self) -> list[DownloadResult]:
        return [r for r in self if not r.ok]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self)

    @property
    def transferred(self) -> int:
        return sum(r.transferred for r in self)

    def summary(self) -> str:
        """One line for humans: ``3 downloaded (12.0 MiB), 1 skipped, 0 failed``."""
        done = self.downloaded
        size = sum(r.bytes for r in done) / MiB
        text = f"{len(done)} downloaded ({size:.1f} MiB), {len(self.skipped)} skipped"
        return f"{text}, {len(self.failed)} failed"

    def raise_for_failures(self) -> None:
        """Raise :class:`DownloadFailed` if any file failed."""
        from .errors import DownloadFailed

        failed = self.failed
        if failed:
            first = failed[0]
            raise DownloadFailed(
                f"{len(failed)} of {len(self)} files failed; first: "
                f"{first.artifact.path!r}: {first.error}",
                results=list(self),
            )


def coerce_policy(value: SkipPolicy | str) -> SkipPolicy:
    try:
        return SkipPolicy(value)
    except ValueError:
        choices = ", ".join(p.value for p in SkipPolicy)
        raise ConfigurationError(f"skip must be one of {choices}; got {value!r}") from None


def coerce_layout(value: Layout | str) -> Layout:
    try:
        return Layout(value)
    except ValueError:
        choices = ", ".join(p.value for p in Layout)
        raise ConfigurationError(f"layout must be one of {choices}; got {value!r}") from None
