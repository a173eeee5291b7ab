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
Other files use a unique ``<name>.<8 hex>.cci-partial``, also locked while written.

Hostile file systems (the threat model: whoever can write into ``dest`` before or between runs,
or a server whose artifacts plant names there, must not make the downloader write anywhere
else, block, or lose a file):

- every file is opened without following a symbolic link: new temporary files with
  ``O_CREAT | O_EXCL | O_NOFOLLOW``; the resumable partial file and its record with
  ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO cannot block the open), then ``fstat`` must show a regular
  file with no other hard link (a hard link would write into a file outside ``dest``), and a
  partial file being continued must be the very file that was inspected (device and inode);
- the final name is checked when the file is created: a symbolic link, FIFO, socket, device
  or directory in the way fails that one file (:class:`UnsafePathError` for a link,
  :class:`PathConflictError` for the rest) and is left alone. What is in the way is known from
  the directory's listing, taken once before its first file (:attr:`DirectoryState.special`:
  what the listing's entry types show is not a regular file), and looked at with ``lstat``
  when the listing showed something there; a name the listing did not show as special costs
  no system call. The rename itself replaces a name and never follows one, so a link planted
  during the run (after the listing) is replaced, not written through (hence no second look
  just before it);
- reading a resume record in :func:`prepare_directory` follows the same rules; a record that is
  not a regular file is not trusted;
- temporary files a killed process left behind (``SIGKILL``, power loss) are removed by the
  next run that writes into the directory, but only those that are provably abandoned: named
  like ours, regular, and not locked (a running download holds its lock until the rename).
  A unique temporary file that is also empty and less than an hour old is left for a later
  run: its writer may be between its ``open`` and its ``flock`` (it writes no byte before the
  lock), so the writer never has to check that its new file still has a name. A resumable
  partial file with a valid record is kept for resuming.

Out of scope: an attacker racing this process in real time to swap a *directory* of the
destination for a link between the containment check and the open (that needs ``openat``
walks from a directory descriptor).

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
from .errors import DownloadError, LocalFileError, PathConflictError, UnsafePathError
from .paths import PARTIAL_SUFFIX, SIDECAR_SUFFIX, is_temporary_name, is_within

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
_CAN_LOCK: bool = fcntl is not None

__all__ = [
    "DirectoryState",
    "Existing",
    "FileWriter",
    "ResumeRecord",
    "WriteStrategy",
    "prepare_directory",
]

_BINARY = getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # no effect on regular files; a FIFO cannot block
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
_RESUMABLE = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _BINARY
_RECORD = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _BINARY
_INSPECT = os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _BINARY
_CREATE_TRIES = 16
_IOV_MAX = 1024  # pieces per writev (the Linux and macOS limit)
_writev = getattr(os, "writev", None)
#: Whether ``os.access`` can look at a name without following a link (not on Windows).
_ACCESS_NOFOLLOW = os.access in os.supports_follow_symlinks
_WINDOWS = os.name == "nt"
_names = itertools.count(int.from_bytes(secrets.token_bytes(3), "big"))


def _unique() -> str:
    """Eight hex digits for a temporary name: random start, then counting (no system call)."""
    return f"{next(_names) & 0xFFFFFFFF:08x}"


_RESUME_VERSION = 1
#: Seconds a unique temporary file may stay empty before a sweep takes it for abandoned: far
#: more than a writer's open-to-flock (two system calls in a row), and than clock skew on a
#: network file system (whose server sets the mtime).
_EMPTY_GRACE = 3600.0
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
    #: ``(st_dev, st_ino)`` of the partial file inspected: a resume continues that file only.
    partial_identity: tuple[int, int] | None = None


@attrs.frozen
class DirectoryState:
    """One destination directory, checked once for all the files going into it."""

    error: DownloadError | None
    exists: bool = False
    entries: dict[str, Existing] = attrs.field(factory=dict)
    #: The names the listing showed as anything but a regular file (links, FIFOs, sockets,
    #: devices, directories): the final names a writer must look at before using them.
    special: frozenset[str] = frozenset()


def prepare_directory(root: str, directory: str, names: Iterable[str]) -> DirectoryState:
    """Check that ``directory`` (absolute, under the resolved ``root``) does not resolve outside
    ``root`` through a symbolic link already on disk, remove the temporary files that earlier,
    killed runs abandoned there, and look at what is there for ``names``.

    Runs in the thread pool: one listing, then a few ``stat`` calls per file found.
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
    present: set[str] = set()
    special: set[str] = set()
    with os.scandir(real) as listing:
        for entry in listing:  # the entry type comes with the listing: no stat for it
            present.add(entry.name)
            if not entry.is_file(follow_symlinks=False):
                special.add(entry.name)
    present -= sweep_abandoned(real, present)

    for name in names:
        path = os.path.join(real, name)
        size: int | None = None
        is_dir = False
        if name in present:
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
        identity: tuple[int, int] | None = None
        stale = name + PARTIAL_SUFFIX in present or name + SIDECAR_SUFFIX in present
        if stale:
            record = _read_record(path + SIDECAR_SUFFIX)
            partial = _regular_stat(path + PARTIAL_SUFFIX)
            if record is None or partial is None:
                record = None
            else:
                partial_size = partial.st_size
                identity = (partial.st_dev, partial.st_ino)
        if size is not None or is_dir or stale:
            entries[name] = Existing(size, is_dir, partial_size, record, stale, identity)
    return DirectoryState(None, True, entries, frozenset(special))


def _regular_stat(path: str) -> os.stat_result | None:
    """``lstat`` of a regular file with no other hard link; ``None`` for anything else."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        return None
    return st


def _read_record(path: str) -> ResumeRecord | None:
    """The resume record at ``path``, read without following a link or blocking on a FIFO;
    ``None`` when it is missing, not a regular file, or not a valid record."""
    try:
        fd = os.open(path, _INSPECT)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return ResumeRecord.loads(os.read(fd, 4096))
    except OSError:
        return None
    finally:
        os.close(fd)


def sweep_abandoned(directory: str, names: Iterable[str]) -> set[str]:
    """Remove, among ``names`` (entries of ``directory``), the temporary files of ours that no
    process is writing any more; returns the names removed.

    Ours by name only (``<name>.<8 hex>.cci-partial``, or a ``<name>.cci-partial`` with no
    valid resume record beside it, or a record whose partial file is gone), and only a regular
    file whose ``flock`` can be taken: every download holds the lock on its temporary file
    until the rename, so a file that can be locked was abandoned by a process that died. A
    unique temporary file that is empty and new is not even locked (:data:`_EMPTY_GRACE`: it
    may be a writer's that has not taken its lock yet). Never follows a link; without
    ``flock`` (Windows) nothing is removed.
    """
    if not _CAN_LOCK:  # pragma: no cover - Windows
        return set()
    names = set(names)
    removed: set[str] = set()
    for name in names:
        if is_temporary_name(name):
            if _remove_unlocked(os.path.join(directory, name), spare_new_empty=True):
                removed.add(name)
        elif name.endswith(PARTIAL_SUFFIX):
            path = os.path.join(directory, name)
            sidecar = name + ".json"
            if sidecar in names and _read_record(path + ".json") is not None:
                continue  # resumable: a later download of that name continues it
            if _remove_unlocked(path):
                removed.add(name)
        elif name.endswith(SIDECAR_SUFFIX) and name[: -len(".json")] not in names:
            path = os.path.join(directory, name)
            if _regular_stat(path) is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
                    removed.add(name)
    return removed


def _remove_unlocked(path: str, *, spare_new_empty: bool = False) -> bool:
    """Unlink ``path`` if it is a regular file nobody holds a lock on (see above); with
    ``spare_new_empty``, not if it is empty and younger than :data:`_EMPTY_GRACE` either (then
    without trying its lock: its writer, between open and lock, must get it)."""
    try:
        fd = os.open(path, _INSPECT)
    except OSError:  # gone, a link (ELOOP), no permission: not ours to judge
        return False
    try:
        held = os.fstat(fd)
        if not stat.S_ISREG(held.st_mode):
            return False
        if spare_new_empty and not held.st_size and time.time() - held.st_mtime < _EMPTY_GRACE:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a running download holds it (or the file system has no flock)
            return False
        now = os.stat(path, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            return False  # renamed or replaced since it was opened
        os.unlink(path)
        logger.info("removed an abandoned temporary file: %s", path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


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
        check_final: bool = True,
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
        #: Whether the final name needs a look (``False``: the directory's listing showed
        #: nothing but a regular file there, if anything; see the module docstring).
        self._check_final_name = check_final
        #: Bytes accepted so far (written, being written, or waiting): the resume offset.
        self.size = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._fd = -1
        self._op: asyncio.Future[Any] | None = None
        self._append_at = 0  # continue an existing partial file at this offset
        self._append_to: tuple[int, int] | None = None  # (st_dev, st_ino) of that file
        self._record: ResumeRecord | None = None
        self._owns_temp = False
        self._record_on_disk = False
        self._finished = False

    # -- setup --------------------------------------------------------------------------------

    def continue_partial(self, size: int, identity: tuple[int, int] | None = None) -> None:
        """Append to the partial file an earlier run left (``size`` bytes, already checked;
        ``identity``: :attr:`Existing.partial_identity`, the file that was inspected)."""
        self._append_at = size
        self._append_to = identity
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
        if self._check_final_name:
            self._check_final()
        if not self.resumable:
            return self._create_unique()
        self.temp = self.resumable_path
        fd = self._open_resumable()
        try:
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
                self._write_record(self._record)
                self._record_on_disk = True
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _create_unique(self) -> int:
        """A new ``<name>.<8 hex>.cci-partial``, locked: ``open``, ``flock``. Nothing is written
        before the lock, and a sweep leaves a new empty file alone (see
        :func:`sweep_abandoned`), so no sweep can have removed it in between: no ``fstat`` to
        check that it still has its name."""
        for _ in range(_CREATE_TRIES):
            self.temp = f"{self.final}.{_unique()}{PARTIAL_SUFFIX}"
            try:
                fd = os.open(self.temp, _NEW, 0o666)
            except FileExistsError:  # pragma: no cover - another process, same counter
                continue
            if not _CAN_LOCK:  # pragma: no cover - Windows: no sweep either
                self._owns_temp = True
                return fd
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # pragma: no cover - a sweep that ignored the grace
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(self.temp)
                continue
            except BaseException:
                os.close(fd)
                raise
            self._owns_temp = True
            return fd
        raise OSError(errno.EAGAIN, "could not create a temporary file")

    def _open_resumable(self) -> int:
        """``<name>.cci-partial``, opened without following a link or blocking on a FIFO,
        locked, and checked: a regular file with no other hard link, and the inspected file
        when continuing one."""
        for _ in range(_CREATE_TRIES):
            fd = self._open_checked(self.resumable_path, _RESUMABLE, "partial file")
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                st = os.fstat(fd)
                if st.st_nlink == 0:
                    if self._append_at:
                        raise OSError(errno.EIO, "the partial file was removed")
                    os.close(fd)  # a sweep removed it after the open: create it again
                    continue
                if self._append_to is not None and (st.st_dev, st.st_ino) != self._append_to:
                    raise OSError(errno.EIO, "the partial file was replaced since it was checked")
            except BaseException:
                os.close(fd)
                raise
            return fd
        raise OSError(errno.EAGAIN, "could not open the partial file")

    def _write_record(self, record: ResumeRecord) -> None:
        fd = self._open_checked(self.sidecar, _RECORD, "resume record")
        try:
            if os.fstat(fd).st_size:
                os.ftruncate(fd, 0)
            _write_all(fd, (record.dumps(),))
        finally:
            os.close(fd)

    def _open_checked(self, path: str, flags: int, what: str) -> int:
        """Open ``path`` with ``flags`` (``O_NOFOLLOW``): a link, or anything but a regular
        file with one name, is this file's error (see the module docstring), left alone."""
        try:
            fd = os.open(path, flags, 0o666)
        except OSError:
            # ELOOP for a link, ENXIO for a FIFO nobody reads, ENODEV...: say what is there.
            try:
                mode = os.stat(path, follow_symlinks=False).st_mode
            except OSError:
                mode = stat.S_IFREG
            if stat.S_ISLNK(mode):
                raise UnsafePathError(
                    f"a symbolic link is in the way of the {what}; it is left alone",
                    path=self._display,
                ) from None
            if not stat.S_ISREG(mode):
                raise PathConflictError(
                    f"a {_kind(mode)} is in the way of the {what} of {self._display!r}; "
                    "it is left alone"
                ) from None
            raise
        try:
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        if stat.S_ISREG(st.st_mode) and st.st_nlink <= 1:
            return fd
        os.close(fd)
        if stat.S_ISREG(st.st_mode):
            raise UnsafePathError(
                f"the {what} has other hard links (writing would change a file elsewhere); "
                "it is left alone",
                path=self._display,
            )
        raise PathConflictError(
            f"a {_kind(st.st_mode)} is in the way of the {what} of {self._display!r}; "
            "it is left alone"
        )

    def _check_final(self) -> None:
        """The final name is free or a regular file (replaced by the rename); anything else
        in the way (a link above all) fails this file and is left alone."""
        if _ACCESS_NOFOLLOW and not os.access(self.final, os.F_OK, follow_symlinks=False):
            return  # nothing there, the usual case: no stat result or exception to build
        try:
            st = os.stat(self.final, follow_symlinks=False)
        except FileNotFoundError:
            return
        mode = st.st_mode
        if stat.S_ISREG(mode):
            return
        if stat.S_ISLNK(mode):
            raise UnsafePathError(
                "a symbolic link is in the way of the file; it is left alone",
                path=self._display,
            )
        raise PathConflictError(
            f"a {_kind(mode)} is in the way of {self._display!r}; it is left alone"
        )

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
            # No second look at the final name: it was checked when the file was created, and
            # rename(2) replaces whatever is there now (a link planted since included) without
            # following it, so nothing outside the destination can be written through it.
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
        """Remove an earlier run's partial file and record, unless a download holds it or it
        is not a regular file (a planted link is left alone, never followed)."""
        try:
            fd = os.open(self.resumable_path, _INSPECT)
        except OSError:
            fd = -1
        try:
            if fd >= 0:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        return  # another process is resuming it
            for leftover in (self.resumable_path, self.sidecar):
                try:
                    st = os.stat(leftover, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
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


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    return "special file"


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
