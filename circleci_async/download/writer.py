"""Writing one file atomically without holding it in memory, inline or on a thread pool.

Two ways to write, chosen per call by :class:`WriteMode` (see its docstring for why):

- inline: each received chunk is written as it arrives, on the event loop, while the disk
  keeps up (page-cache writes of a chunk take tens of microseconds); a :class:`WriteStrategy`
  watches how long writes take and moves the rest of the call to the thread pool when they
  keep being slow;
- thread pool: chunks are kept as they came (no copying) until a batch is big enough, then
  written with one ``writev`` on the downloader's own pool (through ``aiofiles``) while the
  next batch is received, with at most one write in flight per file. A hop costs tens of
  microseconds, so each does as much as it can: the first creates the file and writes the first
  batch, the last writes the rest, (fsyncs,) renames and closes; a file that fits in one batch
  costs one hop of four system calls.

Atomicity: bytes go to a temporary file in the destination directory (same file system), which
is renamed onto the final name only after the caller verified the size; on failure or
cancellation it is removed. A file big enough to be worth resuming by a later run is written to
``<name>.cci-partial`` with a resume record ``<name>.cci-partial.json`` beside it, locked
(``flock``) while in use and renamed while still open and locked, so that a second process can
neither write into it nor slip in between; it is kept when a transfer fails for network reasons.
Other files use a unique ``<name>.<8 hex>.cci-partial``.

Durability: with ``fsync=True`` the file and then its directory are fsync'ed as part of the
rename; the default is off (see :meth:`ArtifactsAPI.download`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import aiofiles.base
import attrs

from ._models import DownloadOptions, WriteMode
from .errors import DownloadError, LocalFileError, UnsafePathError
from .paths import PARTIAL_SUFFIX, SIDECAR_SUFFIX, is_within

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DirectoryState",
    "Existing",
    "FileWriter",
    "ResumeRecord",
    "WriteStrategy",
    "prepare_directory",
]

_BINARY = getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY
_RESUMABLE = os.O_RDWR | os.O_CREAT | _BINARY
_IOV_MAX = 1024  # pieces per writev (the Linux and macOS limit)
_writev = getattr(os, "writev", None)
_WINDOWS = os.name == "nt"
_names = itertools.count(int.from_bytes(secrets.token_bytes(3), "big"))


def _unique() -> str:
    """Eight hex digits for a temporary name: random start, then counting (no system call)."""
    return f"{next(_names) & 0xFFFFFFFF:08x}"


_RESUME_VERSION = 1
_OVERLAP_UP_TO = 4  # files in flight up to which each file overlaps its reads and writes

logger = logging.getLogger("circleci_async.download")


class WriteStrategy:
    """Shared by the files of one call: whether writes go inline or to the thread pool
    (:class:`WriteMode`), and the batch size for the pool, a share of ``memory_limit`` among
    the files in flight within ``[min_write, buffer_size]``.

    In ``auto`` mode the event loop may wait for the disk only so much: writes slower than
    ``slow_write`` draw on a budget of 0.25 s that refills at 0.1 s per second. A one-off stall
    (a journal commit, a page-cache hiccup) fits in it; a disk that keeps being slow (dirty-page
    throttling, a network file system) empties it, and the rest of the call writes on the
    thread pool.
    """

    __slots__ = ("_budget", "_last", "_limit", "_max", "_min", "_slow", "active", "inline")

    BUDGET = 0.25
    REFILL = 0.1

    def __init__(self, options: DownloadOptions) -> None:
        self._limit = options.memory_limit
        self._max = options.buffer_size
        self._min = min(options.min_write, options.buffer_size)
        self._slow = options.slow_write if options.write_mode is WriteMode.AUTO else None
        self._budget = self.BUDGET
        self._last = time.monotonic()
        self.inline = options.write_mode is not WriteMode.THREAD
        self.active = 0

    def size(self) -> int:
        share = self._limit // (2 * self.active) if self.active > 1 else self._limit // 2
        return max(self._min, min(self._max, share))

    def took(self, seconds: float) -> None:
        """Note how long an inline write (or create, or rename) took."""
        slow = self._slow
        if slow is None or seconds <= slow:
            return
        now = time.monotonic()
        self._budget = min(self.BUDGET, self._budget + (now - self._last) * self.REFILL)
        self._last = now
        self._budget -= seconds
        if self._budget < 0:
            self.inline = False
            logger.info(
                "disk writes keep being slow (the last took %.1f ms); writing on the thread "
                "pool from now on",
                seconds * 1000,
            )


@attrs.frozen
class ResumeRecord:
    """What a kept partial file is a part of: the artifact URL it came from, the server's
    validator (ETag or Last-Modified) and the full size."""

    url: str
    size: int
    validator: str | None = None

    def dumps(self) -> bytes:
        data: dict[str, Any] = {"version": _RESUME_VERSION, "url": self.url, "size": self.size}
        if self.validator is not None:
            data["validator"] = self.validator
        return json.dumps(data).encode()

    @classmethod
    def loads(cls, data: bytes) -> ResumeRecord | None:
        try:
            raw = json.loads(data)
        except ValueError:
            return None
        if not isinstance(raw, dict) or raw.get("version") != _RESUME_VERSION:
            return None
        url, size, validator = raw.get("url"), raw.get("size"), raw.get("validator")
        if not isinstance(url, str) or not isinstance(size, int) or isinstance(size, bool):
            return None
        if validator is not None and not isinstance(validator, str):
            validator = None
        return cls(url, size, validator)


@attrs.frozen
class Existing:
    """A destination file's state on disk before the transfer."""

    #: Size of the regular file under the final name; ``None`` if there is none.
    size: int | None = None
    is_dir: bool = False
    #: A resume record (and the size of its partial file) left by an earlier run.
    partial_size: int | None = None
    record: ResumeRecord | None = None
    #: Whether a partial file or resume record is there at all (to tidy up after success).
    stale: bool = False


@attrs.frozen
class DirectoryState:
    """One destination directory, checked once for all the files going into it."""

    error: DownloadError | None
    exists: bool = False
    entries: dict[str, Existing] = attrs.field(factory=dict)


def prepare_directory(root: str, directory: str, names: Iterable[str]) -> DirectoryState:
    """Check that ``directory`` (absolute, under the resolved ``root``) does not resolve outside
    ``root`` through a symbolic link already on disk, and look at what is there for ``names``.

    Runs in the thread pool: a few ``stat`` calls per file, or one listing for many files.
    """
    real = os.path.realpath(directory)
    if not is_within(root, real):
        return DirectoryState(
            UnsafePathError(
                "the destination resolves outside the download directory (symbolic link)",
                path=os.path.relpath(directory, root),
            )
        )
    entries: dict[str, Existing] = {}
    if not os.path.isdir(real):
        if os.path.lexists(real):
            return DirectoryState(
                LocalFileError(
                    f"a file is in the way of the directory {os.path.relpath(directory, root)!r}"
                )
            )
        return DirectoryState(None, False, entries)
    names = list(names)
    present: set[str] | None = None
    if len(names) > 16:  # one listing beats three failing lookups per name
        with os.scandir(real) as listing:
            present = {entry.name for entry in listing}

    def exists(name: str) -> bool:
        if present is not None:
            return name in present
        return os.path.lexists(os.path.join(real, name))

    for name in names:
        path = os.path.join(real, name)
        size: int | None = None
        is_dir = False
        if present is None or name in present:
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                pass
            else:
                is_dir = stat.S_ISDIR(st.st_mode)
                if stat.S_ISREG(st.st_mode):
                    size = st.st_size
        partial_size: int | None = None
        record: ResumeRecord | None = None
        stale = exists(name + PARTIAL_SUFFIX) or exists(name + SIDECAR_SUFFIX)
        if stale:
            try:
                with open(path + SIDECAR_SUFFIX, "rb") as sidecar:
                    record = ResumeRecord.loads(sidecar.read(4096))
                partial_size = os.stat(path + PARTIAL_SUFFIX, follow_symlinks=False).st_size
            except OSError:
                record = partial_size = None
        if size is not None or is_dir or stale:
            entries[name] = Existing(size, is_dir, partial_size, record, stale)
    return DirectoryState(None, True, entries)


def _write_all(fd: int, chunks: Sequence[bytes]) -> None:
    """Write every byte of ``chunks``: one ``writev`` in the usual case, more after a partial
    write or beyond ``IOV_MAX`` pieces."""
    if _writev is None:  # pragma: no cover - Windows
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        return
    if len(chunks) <= _IOV_MAX:
        written = _writev(fd, chunks)
        if written == sum(map(len, chunks)):
            return
    else:
        written = 0
    # A short write (rare for regular files) or too many pieces: the slow, careful way.
    pending: list[bytes | memoryview] = [chunk for chunk in chunks if len(chunk)]
    while pending:
        while written and pending:
            if written >= len(pending[0]):
                written -= len(pending.pop(0))
            else:
                pending[0] = memoryview(pending[0])[written:]
                written = 0
        if pending:
            written = _writev(fd, pending[:_IOV_MAX])
            if not written:
                raise OSError(errno.EIO, "the file system accepted no bytes")


def _write_all_late(fd: int, chunks: Sequence[bytes]) -> None:
    _write_all(fd, chunks)  # looked up at call time, so a test can inject a disk fault


_write_all_async = aiofiles.base.wrap(_write_all_late)


class FileWriter:
    """One file being written; see the module docstring. Used by one task at a time."""

    def __init__(
        self,
        final: str,
        *,
        executor: Executor,
        strategy: WriteStrategy,
        fsync: bool = False,
        display: str | None = None,
        make_directory: bool = True,
        stale: bool = False,
    ) -> None:
        self.final = final
        self.resumable_path = final + PARTIAL_SUFFIX
        self.sidecar = final + SIDECAR_SUFFIX
        self.temp = ""  # the temporary file in use, once decided
        self._display = display or os.path.basename(final)
        self._executor = executor
        self._loop = asyncio.get_running_loop()
        self._strategy = strategy
        self._fsync = fsync
        self._make_directory = make_directory
        self._stale = stale  # an earlier run's partial file or record to tidy up
        #: Bytes accepted so far (written, being written, or waiting): the resume offset.
        self.size = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._fd = -1
        self._op: asyncio.Future[Any] | None = None
        self._append_at = 0  # continue an existing partial file at this offset
        self._record: ResumeRecord | None = None
        self._owns_temp = False
        self._record_on_disk = False
        self._finished = False

    # -- setup --------------------------------------------------------------------------------

    def continue_partial(self, size: int) -> None:
        """Append to the partial file an earlier run left (``size`` bytes, already checked)."""
        self._append_at = size
        self.size = size
        self._record_on_disk = True  # its resume record is there; removed when done

    def keep_resume_record(self, record: ResumeRecord | None) -> None:
        """Write to ``<name>.cci-partial`` with ``record`` beside it (call before the first
        :meth:`flush`), so that an interrupted transfer can be resumed by a later run."""
        self._record = record

    @property
    def resumable(self) -> bool:
        return self._record is not None or self._append_at > 0

    # -- streaming ------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk: write it now (inline mode), or keep it for the next batch; ``True``
        when a batch is ready and :meth:`flush` should be awaited."""
        self.size += len(chunk)
        if self._strategy.inline and self._op is None and not self._pending:
            started = time.perf_counter()
            try:
                if self._fd < 0:
                    self._fd = self._create_sync()
                _write_all(self._fd, (chunk,))
            except OSError as exc:
                raise self._local_error(exc) from None
            self._strategy.took(time.perf_counter() - started)
            return False
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        return self._pending_bytes >= self._strategy.size()

    async def flush(self) -> None:
        """Hand the waiting batch to the thread pool (after the previous write finished). With
        few files in flight it returns at once, so the next batch is received meanwhile; with
        many, the other files keep the loop busy and waiting here halves the memory held."""
        if not self._pending:
            return
        chunks = self._take()
        await self._wait()
        if self._fd < 0:
            self._start(self._open_sync, chunks)
        else:
            self._op = asyncio.ensure_future(
                _write_all_async(self._fd, chunks, executor=self._executor)
            )
        if self._strategy.active > _OVERLAP_UP_TO:
            await self._wait()

    async def restart(self) -> None:
        """Drop everything: the server is sending the file again from its first byte."""
        self._take()
        self.size = 0
        self._append_at = 0
        await self._wait()
        if self._fd >= 0:
            self._start(_truncate_sync, self._fd)
            await self._wait()

    async def commit(self) -> None:
        """Write what is left, (fsync,) rename onto the final name and close: one hop (or
        none, inline)."""
        chunks = self._take()
        await self._wait()
        if self._strategy.inline and not chunks and not self._fsync:
            started = time.perf_counter()
            try:
                if self._fd < 0:
                    self._fd = self._create_sync()
                self._finish_sync([])
            except OSError as exc:
                raise self._local_error(exc) from None
            self._strategy.took(time.perf_counter() - started)
            self._finished = True
            return
        if self._fd < 0:
            self._start(self._whole_sync, chunks)
        else:
            self._start(self._finish_sync, chunks)
        await self._wait()
        self._finished = True

    async def discard(self, *, keep_partial: bool = False) -> bool:
        """Clean up after a failure or cancellation. With ``keep_partial`` (and a resume record
        on disk) the partial file stays for a later run; returns whether it did."""
        if self._finished:
            return False
        op = self._op
        if op is not None and not op.done():
            try:
                await asyncio.shield(op)
            except asyncio.CancelledError:
                # Cancelled again while waiting: clean up when the write returns.
                op.add_done_callback(lambda _: self._cleanup_sync(False))
                raise
            except BaseException:  # noqa: S110 - its error is already being reported
                pass
        self._collect(op)
        keep = keep_partial and self._record_on_disk and self._owns_temp
        if keep and self._pending and self._fd >= 0:
            try:
                await _write_all_async(self._fd, self._take(), executor=self._executor)
            except OSError:
                keep = False
        self._cleanup_sync(keep)
        return keep

    # -- internals ------------------------------------------------------------------------------

    def _take(self) -> list[bytes]:
        chunks = self._pending
        self._pending = []
        self._pending_bytes = 0
        return chunks

    def _start(self, fn: Any, *args: Any) -> None:
        self._op = self._loop.run_in_executor(self._executor, fn, *args)

    async def _wait(self) -> None:
        """Wait for the write in flight; it keeps running if this task is cancelled."""
        op = self._op
        if op is None:
            return
        try:
            await asyncio.shield(op)
        except OSError as exc:
            self._collect(op)
            raise self._local_error(exc) from None
        self._collect(op)

    def _collect(self, op: asyncio.Future[Any] | None) -> None:
        if op is not None and op.done() and self._op is op:
            self._op = None

    def _local_error(self, exc: OSError) -> LocalFileError:
        if isinstance(exc, BlockingIOError):
            message = f"another download is writing {self._display!r} (its partial file is locked)"
        else:
            reason = exc.strerror or str(exc) or type(exc).__name__
            message = f"could not write {self._display!r}: {reason}"
        return LocalFileError(message, errno=exc.errno)

    # The rest runs in the thread pool. Each function is one hop and as few system calls as
    # the job allows; ``self._fd`` and ``self._owns_temp`` are set as soon as they are true,
    # so that a cleanup after a failure halfway knows what to remove.

    def _create_sync(self) -> int:
        if self._make_directory:
            os.makedirs(os.path.dirname(self.final), exist_ok=True)
        if not self.resumable:
            while True:
                self.temp = f"{self.final}.{_unique()}{PARTIAL_SUFFIX}"
                try:
                    fd = os.open(self.temp, _NEW, 0o666)
                except FileExistsError:  # pragma: no cover - another process, same counter
                    continue
                self._owns_temp = True
                return fd
        self.temp = self.resumable_path
        fd = os.open(self.temp, _RESUMABLE, 0o666)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._owns_temp = True
            if self._append_at:
                if os.fstat(fd).st_size < self._append_at:
                    raise OSError(errno.EIO, "the partial file shrank since it was checked")
                os.ftruncate(fd, self._append_at)
                os.lseek(fd, self._append_at, os.SEEK_SET)
            elif os.fstat(fd).st_size:
                # Only when needed: on ext4 a truncation to zero makes close() flush the file
                # (the "replace via truncate" heuristic), which costs 0.1 s per 256 MiB.
                os.ftruncate(fd, 0)
            if self._record is not None:
                with open(self.sidecar, "wb") as sidecar:
                    sidecar.write(self._record.dumps())
                self._record_on_disk = True
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open_sync(self, chunks: list[bytes]) -> None:
        """Create the temporary file and write the first batch."""
        self._fd = self._create_sync()
        _write_all(self._fd, chunks)

    def _whole_sync(self, chunks: list[bytes]) -> None:
        """A file that fits in one batch: create, write, rename, close."""
        self._fd = self._create_sync()
        self._finish_sync(chunks)

    def _finish_sync(self, chunks: list[bytes]) -> None:
        """Last batch, (fsync,) rename while still open (and locked), close, tidy up."""
        fd = self._fd
        try:
            if chunks:
                _write_all(fd, chunks)
            if self._fsync:
                os.fsync(fd)
            if _WINDOWS:  # pragma: no cover - Windows cannot rename an open file
                os.close(fd)
                self._fd = -1
            os.replace(self.temp, self.final)
            self._owns_temp = False
        finally:
            if self._fd >= 0:
                self._fd = -1
                os.close(fd)
        if self._record_on_disk:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.sidecar)
        elif self._stale:
            self._tidy_stale()
        if self._fsync:
            _fsync_directory(os.path.dirname(self.final))

    def _tidy_stale(self) -> None:
        """Remove an earlier run's partial file and record, unless a download holds it."""
        try:
            fd = os.open(self.resumable_path, os.O_RDONLY | _BINARY)
        except FileNotFoundError:
            fd = -1
        try:
            if fd >= 0 and fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process is resuming it
            for leftover in (self.resumable_path, self.sidecar):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)
        finally:
            if fd >= 0:
                os.close(fd)

    def _cleanup_sync(self, keep: bool) -> None:
        """Close and (unless kept) remove the temporary file and its record. Runs on the loop
        thread when no write is in flight, or as the in-flight write's callback."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if keep or not self._owns_temp:
            return
        self._owns_temp = False
        paths = [self.temp, self.sidecar] if self._record_on_disk else [self.temp]
        for path in paths:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _truncate_sync(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)


def _fsync_directory(path: str) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
