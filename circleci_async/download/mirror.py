"""Mirroring a project's artifacts: pipelines -> workflows -> jobs -> artifacts -> files.

Layout under ``dest`` (every name made one safe path component)::

    <dest>/manifest.jsonl
    <dest>/<pipeline number>/<workflow name>/<job name>-<job number>/<artifact layout>

where ``<artifact layout>`` is the downloader's (``<path>``, or ``node-<n>/<path>`` for paths
that parallel nodes share). Job numbers are unique within a project, so a rerun workflow with the
same name never overwrites the first run's files.

Idempotence: files appear only complete and verified, so with the default ``skip="if-present"``
a second run downloads nothing. The manifest (JSON lines) is appended as each job finishes, so
an interrupted run leaves an accurate record, and is rewritten compactly (one line per file and
per finished job, the latest state) at the end of a run. A job that had finished on the server
and whose files were all mirrored with the same filters is not even listed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Mapping, Sequence
from concurrent.futures import Executor
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs

from ._models import (
    ArtifactRef,
    DownloadOptions,
    DownloadResult,
    DownloadResults,
    DownloadStatus,
    Layout,
    SkipPolicy,
    as_artifact,
)
from .errors import DownloadFailed
from .manager import DownloadEngine
from .paths import safe_component
from .plan import matches, plan_downloads
from .progress import ProgressReporter

if TYPE_CHECKING:
    from ..client import CircleCI

__all__ = ["MirrorEntry", "MirrorResult", "mirror"]

logger = logging.getLogger("circleci_async.download")

#: Job statuses after which a job's artifacts can still change.
_UNFINISHED = frozenset({"running", "queued", "not_running", "on_hold", "blocked"})
_MANIFEST_VERSION = 1


@attrs.frozen
class MirrorEntry:
    """One artifact file of a mirror run, with the job it belongs to."""

    pipeline_number: int | None
    pipeline_id: str | None
    workflow: str
    workflow_id: str | None
    job: str
    job_number: int
    result: DownloadResult


@attrs.define
class MirrorResult:
    """What a mirror run did. ``str(result)`` is a one-line summary."""

    dest: str
    manifest: str | None
    pipelines: int = 0
    workflows: int = 0
    jobs: int = 0
    #: Jobs not listed again: finished, and all their files already mirrored.
    jobs_up_to_date: int = 0
    entries: list[MirrorEntry] = attrs.field(factory=list)
    #: Listing failures: (what was being listed, the error).
    errors: list[tuple[str, BaseException]] = attrs.field(factory=list)

    def _count(self, status: DownloadStatus) -> int:
        return sum(1 for e in self.entries if e.result.status is status)

    @property
    def downloaded(self) -> int:
        return self._count(DownloadStatus.DOWNLOADED)

    @property
    def skipped(self) -> int:
        return self._count(DownloadStatus.SKIPPED)

    @property
    def failed(self) -> int:
        return sum(1 for e in self.entries if not e.result.ok)

    @property
    def bytes_downloaded(self) -> int:
        return sum(e.result.transferred for e in self.entries)

    @property
    def ok(self) -> bool:
        return not self.errors and self.failed == 0

    @property
    def up_to_date(self) -> bool:
        """Nothing was new: no file downloaded, none failed, no listing failed."""
        return self.ok and self.downloaded == 0

    @property
    def results(self) -> DownloadResults:
        return DownloadResults(e.result for e in self.entries)

    def __str__(self) -> str:
        head = f"{self.pipelines} pipelines, {self.workflows} workflows, {self.jobs} jobs"
        if self.jobs_up_to_date:
            head += f" ({self.jobs_up_to_date} already mirrored)"
        if self.up_to_date:
            body = f"nothing new to download; {self.skipped} files already present"
        else:
            mib = self.bytes_downloaded / (1024 * 1024)
            body = (
                f"{self.downloaded} files downloaded ({mib:.1f} MiB), {self.skipped} already "
                f"present, {self.failed} failed"
            )
            if self.errors:
                body += f", {len(self.errors)} listings failed"
        return f"{head}: {body}"


def _patterns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _as_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _name_matches(name: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or matches(name, patterns, ())


class Manifest:
    """The JSON-lines record of a mirror: appended per job while running, compacted at the end.

    Records are keyed: files by (job number, node, path), jobs by job number; the last record
    for a key wins when the file is read back, and a torn last line is ignored.
    """

    def __init__(self, path: str, executor: Executor) -> None:
        self.path = path
        self._executor = executor
        self._lock = asyncio.Lock()
        self.files: dict[tuple[int, int, str], dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def load(self) -> None:
        for record in await self._run(_read_records, self.path):
            self._remember(record)

    def _remember(self, record: dict[str, Any]) -> None:
        try:
            if record.get("type") == "job":
                self.jobs[int(record["job_number"])] = record
            elif record.get("type") == "file":
                key = (int(record["job_number"]), int(record["node_index"]), str(record["path"]))
                self.files[key] = record
        except (KeyError, TypeError, ValueError):
            pass

    def files_of(self, job_number: int) -> list[dict[str, Any]]:
        return [r for (number, _, _), r in self.files.items() if number == job_number]

    async def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        for record in records:
            self._remember(record)
        data = b"".join(_line(r) for r in records)
        async with self._lock:
            await self._run(_append_bytes, self.path, data)

    async def compact(self) -> None:
        """Rewrite with the latest record per key, newest pipelines first."""
        files = sorted(
            self.files.values(),
            key=lambda r: (-(r.get("pipeline") or 0), str(r.get("file"))),
        )
        jobs = sorted(self.jobs.values(), key=lambda r: -(r.get("job_number") or 0))
        data = b"".join(_line(r) for r in [*files, *jobs])
        async with self._lock:
            await self._run(_replace_bytes, self.path, data)


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _read_records(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line torn by a crash
        if isinstance(record, dict) and record.get("v") == _MANIFEST_VERSION:
            records.append(record)
    return records


def _append_bytes(path: str, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def _replace_bytes(path: str, data: bytes) -> None:
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _files_present(root: str, relatives: list[str]) -> bool:
    return all(os.path.isfile(os.path.join(root, *rel.split("/"))) for rel in relatives)


def _fingerprint(include: Sequence[str], exclude: Sequence[str], layout: Layout) -> str:
    text = json.dumps([list(include), list(exclude), layout.value])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Tasks:
    """Spawns bounded tasks; the first unexpected error cancels the rest and is re-raised."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None

    async def spawn(self, slots: asyncio.Semaphore, work: Awaitable[None]) -> None:
        await slots.acquire()
        if self.error is not None:
            slots.release()
            if asyncio.iscoroutine(work):
                work.close()
            raise self.error
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            slots.release()
            self._tasks.discard(finished)
            if finished.cancelled() or self.error is not None:
                return
            exc = finished.exception()
            if exc is not None:
                self.error = exc
                for other in self._tasks:
                    other.cancel()

        task.add_done_callback(done)

    async def wait(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        if self.error is not None:
            raise self.error

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        while self._tasks:
            await asyncio.wait(set(self._tasks))


async def mirror(
    client: CircleCI,
    project_slug: str,
    dest: str | os.PathLike[str],
    *,
    branch: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    workflow: str | Sequence[str] | None = None,
    job: str | Sequence[str] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_pipelines: int | None = None,
    concurrency: int = 8,
    per_host: int | None = None,
    list_concurrency: int = 4,
    skip: SkipPolicy = SkipPolicy.IF_PRESENT,
    layout: Layout = Layout.AUTO,
    fsync: bool = False,
    resume: bool = True,
    progress: ProgressReporter | None = None,
    manifest: str | None = "manifest.jsonl",
    fail_fast: bool = False,
    options: DownloadOptions | None = None,
) -> MirrorResult:
    """See :meth:`ArtifactsAPI.mirror` and the module docstring."""
    since_at, until_at = _as_utc(since), _as_utc(until)
    workflows, jobs = _patterns(workflow), _patterns(job)
    include, exclude = tuple(include), tuple(exclude)
    fingerprint = _fingerprint(include, exclude, layout)
    async with DownloadEngine(
        client.core,
        dest,
        concurrency=concurrency,
        per_host=per_host,
        skip=skip,
        fsync=fsync,
        resume=resume,
        progress=progress,
        options=options,
    ) as engine:
        root = engine.root
        book = (
            Manifest(os.path.join(root, manifest), engine.executor)
            if manifest is not None
            else None
        )
        if book is not None:
            await book.load()
        result = MirrorResult(dest=root, manifest=book.path if book is not None else None)
        tasks = _Tasks()
        pipeline_slots = asyncio.Semaphore(max(1, list_concurrency))
        walker = _Walker(
            client,
            engine,
            book,
            result,
            tasks,
            slug=project_slug,
            workflows=workflows,
            jobs=jobs,
            include=include,
            exclude=exclude,
            layout=layout,
            fingerprint=fingerprint,
            fail_fast=fail_fast,
            job_slots=asyncio.Semaphore(max(1, concurrency)),
        )
        params = {"branch": branch} if branch else None
        try:
            async for item in client.paginate(f"project/{project_slug}/pipeline", params=params):
                created = _as_utc(_field(item, "created_at"))
                if until_at is not None and created is not None and created > until_at:
                    continue
                if since_at is not None and created is not None and created < since_at:
                    break  # newest first: everything after this is older
                if max_pipelines is not None and result.pipelines >= max_pipelines:
                    break
                result.pipelines += 1
                await tasks.spawn(pipeline_slots, walker.pipeline(item))
            await tasks.wait()
        except BaseException:
            await tasks.cancel()
            raise
        finally:
            if book is not None:
                with contextlib.suppress(OSError):
                    await asyncio.shield(book.compact())
    logger.info("mirror of %s: %s", project_slug, result)
    return result


class _Walker:
    """The walk below the pipelines; job tasks share the engine and the manifest."""

    def __init__(
        self,
        client: CircleCI,
        engine: DownloadEngine,
        book: Manifest | None,
        result: MirrorResult,
        tasks: _Tasks,
        *,
        slug: str,
        workflows: tuple[str, ...],
        jobs: tuple[str, ...],
        include: tuple[str, ...],
        exclude: tuple[str, ...],
        layout: Layout,
        fingerprint: str,
        fail_fast: bool,
        job_slots: asyncio.Semaphore,
    ) -> None:
        self.client = client
        self.engine = engine
        self.book = book
        self.result = result
        self.tasks = tasks
        self.slug = slug
        self.workflows = workflows
        self.jobs = jobs
        self.include = include
        self.exclude = exclude
        self.layout = layout
        self.fingerprint = fingerprint
        self.fail_fast = fail_fast
        self.job_slots = job_slots

    def _listing_failed(self, what: str, exc: BaseException) -> None:
        if self.fail_fast:
            raise exc
        logger.warning("mirror: listing %s failed: %s", what, exc)
        self.result.errors.append((what, exc))

    async def pipeline(self, item: Any) -> None:
        pipeline_id = _field(item, "id")
        number = _field(item, "number")
        try:
            async for wf in self.client.paginate(f"pipeline/{pipeline_id}/workflow"):
                name = str(_field(wf, "name") or "")
                if not _name_matches(name, self.workflows):
                    continue
                self.result.workflows += 1
                await self._workflow(number, pipeline_id, wf, name)
        except DownloadFailed:
            raise
        except Exception as exc:
            self._listing_failed(f"pipeline {number}", exc)

    async def _workflow(self, number: Any, pipeline_id: Any, wf: Any, name: str) -> None:
        workflow_id = _field(wf, "id")
        try:
            async for job in self.client.paginate(f"workflow/{workflow_id}/job"):
                job_name = str(_field(job, "name") or "")
                job_number = _field(job, "job_number")
                if job_number is None:
                    job_number = _field(job, "number")
                if job_number is None or not _name_matches(job_name, self.jobs):
                    continue  # approval jobs and jobs that never ran have no number
                self.result.jobs += 1
                context = _JobContext(
                    pipeline_number=number,
                    pipeline_id=pipeline_id,
                    workflow=name,
                    workflow_id=workflow_id,
                    job=job_name,
                    job_number=int(job_number),
                    finished=str(_field(job, "status") or "running") not in _UNFINISHED,
                )
                await self.tasks.spawn(self.job_slots, self.job(context))
        except DownloadFailed:
            raise
        except Exception as exc:
            self._listing_failed(f"workflow {name!r} of pipeline {number}", exc)

    def _job_dir(self, ctx: _JobContext) -> str:
        pipeline = safe_component(ctx.pipeline_number if ctx.pipeline_number is not None else "_")
        workflow = safe_component(ctx.workflow)
        job = safe_component(f"{ctx.job}-{ctx.job_number}")
        return f"{pipeline}/{workflow}/{job}"

    async def job(self, ctx: _JobContext) -> None:
        if await self._already_mirrored(ctx):
            return
        try:
            items = [
                as_artifact(a)
                async for a in self.client.paginate(
                    f"project/{self.slug}/{ctx.job_number}/artifacts"
                )
            ]
        except Exception as exc:
            self._listing_failed(f"artifacts of job {ctx.job_number}", exc)
            return
        planned = plan_downloads(
            items, layout=self.layout, include=self.include, exclude=self.exclude
        )
        prefix = self._job_dir(ctx)
        planned = [
            attrs.evolve(p, relative=f"{prefix}/{p.relative}") if p.relative else p for p in planned
        ]
        results = await self.engine.run(planned, fail_fast=self.fail_fast)
        records = []
        for outcome in results:
            self.result.entries.append(ctx.entry(outcome))
            records.append(ctx.file_record(outcome))
        complete = ctx.finished and all(r.ok for r in results)
        if complete:
            records.append(ctx.job_record(len(results), self.fingerprint))
        if self.book is not None:
            await self.book.append(records)

    async def _already_mirrored(self, ctx: _JobContext) -> bool:
        book = self.book
        if book is None or not ctx.finished:
            return False
        record = book.jobs.get(ctx.job_number)
        if record is None or record.get("filters") != self.fingerprint:
            return False
        files = book.files_of(ctx.job_number)
        if any(f.get("status") not in ("downloaded", "skipped") for f in files):
            return False
        relatives = [str(f["file"]) for f in files if f.get("file")]
        loop = asyncio.get_running_loop()
        present = await loop.run_in_executor(
            self.engine.executor, _files_present, self.engine.root, relatives
        )
        if not present:
            return False
        self.result.jobs_up_to_date += 1
        for f in files:
            node = int(f.get("node_index") or 0)
            artifact = ArtifactRef(str(f.get("path")), node, str(f.get("url") or ""))
            relative = f.get("file")
            outcome = DownloadResult(
                artifact,
                DownloadStatus.SKIPPED,
                filename=self.engine.destination(relative) if relative else None,
                relative=relative,
                bytes=int(f.get("size") or 0),
                reason="present",
            )
            self.result.entries.append(ctx.entry(outcome))
        return True


@attrs.frozen
class _JobContext:
    pipeline_number: Any
    pipeline_id: Any
    workflow: str
    workflow_id: Any
    job: str
    job_number: int
    finished: bool

    def entry(self, outcome: DownloadResult) -> MirrorEntry:
        number = self.pipeline_number if isinstance(self.pipeline_number, int) else None
        return MirrorEntry(
            number,
            self.pipeline_id,
            self.workflow,
            self.workflow_id,
            self.job,
            self.job_number,
            outcome,
        )

    def _base(self, kind: str) -> dict[str, Any]:
        return {
            "v": _MANIFEST_VERSION,
            "type": kind,
            "pipeline": self.pipeline_number,
            "pipeline_id": self.pipeline_id,
            "workflow": self.workflow,
            "workflow_id": self.workflow_id,
            "job": self.job,
            "job_number": self.job_number,
        }

    def file_record(self, outcome: DownloadResult) -> dict[str, Any]:
        artifact = outcome.artifact
        record = self._base("file")
        record.update(
            path=artifact.path if isinstance(artifact.path, str) else repr(artifact.path),
            node_index=artifact.node_index if isinstance(artifact.node_index, int) else 0,
            url=artifact.url if isinstance(artifact.url, str) else None,
            file=outcome.relative,
            size=outcome.bytes if outcome.ok else None,
            status=outcome.status.value,
            error=str(outcome.error) if outcome.error is not None else None,
            time=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        return record

    def job_record(self, files: int, fingerprint: str) -> dict[str, Any]:
        record = self._base("job")
        record.update(status="complete", files=files, filters=fingerprint)
        return record
