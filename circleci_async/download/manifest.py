"""The mirror's manifest: a JSON-lines record of every file and every finished job.

Records are appended per job while a mirror runs, so an interrupted run leaves an accurate
record, and rewritten compactly (the latest record per key) at the end. Files are keyed by
(job number, node, path), jobs by job number; the last record for a key wins.

The file is untrusted on the way in: a line that is torn (a crash mid-write), not JSON, or of
the wrong shape is skipped with one warning for the whole file, and the job it names (when it
names one) is treated as not mirrored, so the next walk lists it again. It is opened without
following symbolic links and must be a regular file inside ``dest``; anything else in its place
is refused. Failing to write it (a full disk) is a :class:`LocalFileError` naming the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs

from ._models import ArtifactRef, DownloadResult, DownloadStatus
from .errors import DownloadError, LocalFileError, PathConflictError, UnsafePathError
from .mirror_result import JobRef
from .paths import is_within

__all__ = ["MANIFEST_VERSION", "Manifest", "check_record", "file_record", "job_record"]

logger = logging.getLogger("circleci_async.download")

MANIFEST_VERSION = 1
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO in the way must not block the open
_JOB_NUMBER = re.compile(rb'"job_number":\s*(\d{1,18})')
T = TypeVar("T")


# -- records (pure) ----------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(kind: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or kind(value)


def _is_str(value: object) -> bool:
    return isinstance(value, str)


_FILE_FIELDS: Mapping[str, Callable[[object], bool]] = {
    "job_number": _is_int,
    "node_index": _is_int,
    "path": _is_str,
    "status": _is_str,
    "file": _optional(_is_str),
    "url": _optional(_is_str),
    "size": _optional(_is_int),
    "pipeline": _optional(_is_int),
}
_JOB_FIELDS: Mapping[str, Callable[[object], bool]] = {
    "job_number": _is_int,
    "status": _is_str,
    "filters": _is_str,
    "files": _is_int,
}


def check_record(record: object) -> str | None:
    """Why a decoded manifest line is unusable, or ``None`` when it is a good record."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("v") != MANIFEST_VERSION:
        return f"not a version {MANIFEST_VERSION} record"
    kind = record.get("type")
    fields = _FILE_FIELDS if kind == "file" else _JOB_FIELDS if kind == "job" else None
    if fields is None:
        return f"unknown record type {kind!r}"
    for name, valid in fields.items():
        if not valid(record.get(name)):
            return f"{name} is missing or of the wrong type"
    return None


def _base(job: JobRef, kind: str) -> dict[str, Any]:
    return {
        "v": MANIFEST_VERSION,
        "type": kind,
        "pipeline": job.pipeline_number,
        "pipeline_id": job.pipeline_id,
        "workflow": job.workflow,
        "workflow_id": job.workflow_id,
        "job": job.job,
        "job_number": job.job_number,
    }


def file_record(job: JobRef, outcome: DownloadResult) -> dict[str, Any]:
    """The record of one file's outcome."""
    artifact = outcome.artifact
    record = _base(job, "file")
    record.update(
        path=artifact.path if isinstance(artifact.path, str) else repr(artifact.path),
        node_index=artifact.node_index if _is_int(artifact.node_index) else 0,
        url=artifact.url if isinstance(artifact.url, str) else None,
        file=outcome.relative,
        size=outcome.bytes if outcome.ok else None,
        status=outcome.status.value,
        error=str(outcome.error) if outcome.error is not None else None,
        time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return record


def job_record(job: JobRef, files: int, fingerprint: str) -> dict[str, Any]:
    """The record saying a finished job was mirrored completely with these filters."""
    record = _base(job, "job")
    record.update(status="complete", files=files, filters=fingerprint)
    return record


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@attrs.frozen
class _Read:
    records: list[dict[str, Any]]
    #: (1-based line number, why) of each unusable line.
    bad: list[tuple[int, str]]
    #: The job numbers the unusable lines name, as far as they can be read.
    suspect_jobs: set[int]


def parse_lines(data: bytes) -> _Read:
    """The records of a manifest's bytes, and what was wrong with the other lines."""
    records: list[dict[str, Any]] = []
    bad: list[tuple[int, str]] = []
    suspects: set[int] = set()
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            why: str | None = "not valid JSON (torn?)"
        else:
            why = check_record(record)
        if why is None:
            records.append(record)
            continue
        bad.append((number, why))
        found = _JOB_NUMBER.search(line)
        if found is not None:
            suspects.add(int(found.group(1)))
    return _Read(records, bad, suspects)


# -- the file (I/O, run on the engine's executor) ----------------------------------------------


def _open(path: str, flags: int) -> int:
    """Open ``path`` without following a symbolic link there; it must be a regular file."""
    try:
        fd = os.open(path, flags | _NOFOLLOW | _CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise UnsafePathError(
                "the manifest is a symbolic link; refusing to follow it", path=path
            ) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise PathConflictError(f"the manifest {path!r} is not a regular file")
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _local_error(path: str, exc: OSError) -> LocalFileError:
    return LocalFileError(
        f"cannot write the manifest {path!r}: {exc.strerror or exc}", errno=exc.errno
    )


def _read(root: str, path: str) -> bytes:
    directory = os.path.dirname(path)
    try:
        # Checked before and after creating it: a planted directory symlink must not make
        # makedirs create anything outside dest.
        if not is_within(root, os.path.realpath(directory)):
            raise UnsafePathError("the manifest's directory leads outside dest", path=path)
        os.makedirs(directory, exist_ok=True)
        if not is_within(root, os.path.realpath(directory)):
            raise UnsafePathError("the manifest's directory leads outside dest", path=path)
        fd = _open(path, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        return b""
    except DownloadError:
        raise
    except OSError as exc:
        raise LocalFileError(
            f"cannot read the manifest {path!r}: {exc.strerror or exc}", errno=exc.errno
        ) from exc
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _append(path: str, data: bytes) -> None:
    try:
        fd = _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NONBLOCK)
    except OSError as exc:
        raise _local_error(path, exc) from exc
    try:
        _write_all(fd, data)
    except OSError as exc:
        raise _local_error(path, exc) from exc
    finally:
        os.close(fd)


def _replace(path: str, data: bytes) -> None:
    """Write ``data`` to a new temporary file beside ``path`` and rename it over ``path``."""
    temp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644)
    except OSError as exc:
        raise _local_error(path, exc) from exc
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError as exc:
        _unlink(temp)
        raise _local_error(path, exc) from exc
    except BaseException:
        _unlink(temp)
        raise


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _files_present(root: str, relatives: list[str]) -> bool:
    return all(os.path.isfile(os.path.join(root, *rel.split("/"))) for rel in relatives)


# -- the manifest of one run --------------------------------------------------------------------


class Manifest:
    """The manifest of a mirror into ``root``: loaded once, appended per job, compacted last."""

    def __init__(self, root: str, relative: str, executor: Executor) -> None:
        self.root = root
        self.path = os.path.join(root, *relative.split("/"))
        self._executor = executor
        self._lock = asyncio.Lock()
        self.files: dict[tuple[int, int, str], dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def load(self) -> None:
        """Read the records back; refuses a manifest that is not a regular file in ``dest``."""
        read = parse_lines(await self._run(_read, self.root, self.path))
        for record in read.records:
            self._remember(record)
        if read.bad:
            number, why = read.bad[0]
            logger.warning(
                "manifest %s: skipped %d unreadable line(s) (first: line %d, %s); "
                "the jobs they name are checked again",
                self.path,
                len(read.bad),
                number,
                why,
            )
        for job_number in read.suspect_jobs:
            self.jobs.pop(job_number, None)

    def _remember(self, record: dict[str, Any]) -> None:
        if record["type"] == "job":
            self.jobs[record["job_number"]] = record
        else:
            key = (record["job_number"], record["node_index"], record["path"])
            self.files[key] = record

    def files_of(self, job_number: int) -> list[dict[str, Any]]:
        return [r for (number, _, _), r in self.files.items() if number == job_number]

    async def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        for record in records:
            self._remember(record)
        data = b"".join(_line(r) for r in records)
        async with self._lock:
            await self._run(_append, self.path, data)

    async def compact(self) -> None:
        """Rewrite with the latest record per key, newest pipelines first."""
        files = sorted(
            self.files.values(),
            key=lambda r: (-(r.get("pipeline") or 0), str(r.get("file"))),
        )
        jobs = sorted(self.jobs.values(), key=lambda r: -r["job_number"])
        data = b"".join(_line(r) for r in [*files, *jobs])
        async with self._lock:
            await self._run(_replace, self.path, data)

    async def mirrored(self, job: JobRef, fingerprint: str) -> list[DownloadResult] | None:
        """The skipped results of a finished job already mirrored completely with the same
        filters (its files still in place), or ``None`` when it must be listed again."""
        if not job.finished:
            return None
        record = self.jobs.get(job.job_number)
        if record is None or record.get("filters") != fingerprint:
            return None
        files = self.files_of(job.job_number)
        if any(f["status"] not in ("downloaded", "skipped") for f in files):
            return None
        relatives: list[str] = [f["file"] for f in files if f["file"]]
        if not await self._run(_files_present, self.root, relatives):
            return None
        results = []
        for f in files:
            relative = f["file"]
            results.append(
                DownloadResult(
                    ArtifactRef(f["path"], f["node_index"], f["url"] or ""),
                    DownloadStatus.SKIPPED,
                    filename=os.path.join(self.root, *relative.split("/")) if relative else None,
                    relative=relative,
                    bytes=f["size"] or 0,
                    reason="present",
                )
            )
        return results
