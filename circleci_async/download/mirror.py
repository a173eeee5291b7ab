"""Mirroring a project's artifacts: pipelines -> workflows -> jobs -> artifacts -> files.

The walk goes through the typed namespaces (``cci.pipelines.list_for_project``,
``cci.pipelines.workflows``, ``cci.workflows.jobs``, ``cci.jobs.artifacts``). Layout under
``dest`` (every name made one safe path component)::

    <dest>/manifest.jsonl
    <dest>/<pipeline number>/<workflow name>/<job name>-<job number>/<artifact layout>

where ``<artifact layout>`` is the downloader's (``<path>``, or ``node-<n>/<path>`` for paths
that parallel nodes share). Job numbers are unique within a project and always kept, so a rerun
workflow with the same name never overwrites the first run's files; a name too long for one
component is cut and ends in a short hash of the whole name, so long names that share a prefix
stay apart.

Idempotence: files appear only complete and verified, so with the default ``skip="if-present"``
a second run downloads nothing. The manifest (:mod:`.manifest`) records each job as it ends;
a job that had finished on the server (its status is one of the model's terminal statuses: a
status this library does not know is not finished) and whose files were all mirrored with the
same filters is not even listed again.

Sharding (``shard=(i, n)``): each of ``n`` workers takes the pipelines whose number is ``i``
modulo ``n`` and keeps its own manifest (``manifest.shard-i-of-n.jsonl``); pipelines own
disjoint directories, so shards running at once into one ``dest`` never write the same file.

Tasks are started only once a slot is free (the coroutine is built after the slot is taken),
so cancelling a mirror at any point leaves no coroutine that was never awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from ..errors import ConfigurationError, DecodeError
from ..models import structure
from ..models.jobs import Artifact
from ..models.pipelines import Pipeline
from ..models.workflows import Job, Workflow
from ..pagination import AsyncPaginator
from ._models import (
    ArtifactRef,
    DownloadOptions,
    DownloadResult,
    DownloadStatus,
    as_artifact,
)
from .errors import DownloadFailed
from .manager import DownloadEngine
from .manifest import Manifest, file_record, job_record
from .mirror_result import JobRef, MirrorEntry, MirrorResult
from .options import MirrorOptions, shard_manifest
from .paths import short_component
from .plan import matches, plan_downloads
from .progress import ProgressReporter

if TYPE_CHECKING:
    from ..client import CircleCI

__all__ = [
    "MirrorEntry",
    "MirrorOptions",
    "MirrorResult",
    "in_shard",
    "mirror",
    "mirror_options",
]

logger = logging.getLogger("circleci_async.download")

T = TypeVar("T")


class _Closable(Protocol):
    async def aclose(self) -> None: ...


W = TypeVar("W", bound=_Closable)
_OPTION_NAMES = frozenset(f.name for f in attrs.fields(MirrorOptions))


def mirror_options(
    options: MirrorOptions | DownloadOptions | None, **changes: Any
) -> MirrorOptions:
    """``options`` (default: :class:`MirrorOptions`) with ``changes`` applied.

    A :class:`DownloadOptions` given as ``options`` is the downloader's tuning, as before
    :class:`MirrorOptions` existed. Unknown names are a :class:`ConfigurationError`."""
    if isinstance(options, DownloadOptions):
        changes.setdefault("download", options)
        options = None
    base = options if options is not None else MirrorOptions()
    if not isinstance(base, MirrorOptions):
        raise ConfigurationError(f"options must be a MirrorOptions, got a {type(base).__name__}")
    unknown = sorted(set(changes) - _OPTION_NAMES)
    if unknown:
        raise ConfigurationError(
            f"unknown mirror option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(sorted(_OPTION_NAMES))}"
        )
    return attrs.evolve(base, **changes) if changes else base


async def mirror(
    client: CircleCI,
    project_slug: str,
    dest: str | os.PathLike[str],
    *,
    options: MirrorOptions | DownloadOptions | None = None,
    progress: ProgressReporter | None = None,
    **changes: Any,
) -> MirrorResult:
    """See :meth:`ArtifactsAPI.mirror` and the module docstring."""
    opts = mirror_options(options, **changes)
    async with DownloadEngine(
        client.core,
        dest,
        concurrency=opts.concurrency,
        per_host=opts.per_host,
        skip=opts.skip,
        fsync=opts.fsync,
        resume=opts.resume,
        progress=progress,
        options=opts.download,
    ) as engine:
        book = (
            Manifest(engine.root, shard_manifest(opts.manifest, opts.shard), engine.executor)
            if opts.manifest is not None
            else None
        )
        if book is not None:
            await book.load()
        result = MirrorResult(dest=engine.root, manifest=book.path if book is not None else None)
        walker = _walker(opts)(client, engine, book, result, opts, project_slug)
        try:
            await walker.run()
        except BaseException:
            if book is not None:
                try:
                    await asyncio.shield(book.compact())
                except Exception as exc:  # the first error is the one to report
                    logger.warning("mirror: could not compact the manifest: %s", exc)
            raise
        if book is not None:
            await book.compact()
    logger.info("mirror of %s: %s", project_slug, result)
    return result


def _walker(options: MirrorOptions) -> type[Walker]:
    """The walk for the API the options name (v2's here, v3's in :mod:`.walk_v3`)."""
    if options.api == "v3":
        from .walk_v3 import V3Walker

        return V3Walker
    return Walker


def in_shard(pipeline_number: int, shard: tuple[int, int] | None) -> bool:
    """Whether a pipeline belongs to ``shard``: by its number modulo the shard count, an
    assignment every worker computes alike from what the API says (numbers are unique within
    a project and never change), so shards never overlap and none is left out."""
    return shard is None or pipeline_number % shard[1] == shard[0]


def _fingerprint(options: MirrorOptions) -> str:
    text = json.dumps([list(options.include), list(options.exclude), options.layout.value])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _name_matches(name: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or matches(name, patterns, ())


class _Tasks:
    """Bounded tasks; the first unexpected error cancels the rest and is re-raised.

    :meth:`spawn` takes a slot first and only then calls the factory, so a cancellation while
    waiting for a slot leaves no coroutine behind."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None

    async def spawn(
        self, slots: asyncio.Semaphore, work: Callable[[T], Awaitable[None]], arg: T
    ) -> None:
        await slots.acquire()
        if self.error is not None:
            slots.release()
            raise self.error
        try:
            task = asyncio.ensure_future(work(arg))
        except BaseException:
            slots.release()
            raise
        self._tasks.add(task)
        task.add_done_callback(lambda finished: self._done(slots, finished))

    def _done(self, slots: asyncio.Semaphore, finished: asyncio.Task[None]) -> None:
        slots.release()
        self._tasks.discard(finished)
        if finished.cancelled() or self.error is not None:
            if not finished.cancelled():
                finished.exception()  # retrieved: a later failure is not "never retrieved"
            return
        exc = finished.exception()
        if exc is not None:
            self.error = exc
            for other in self._tasks:
                other.cancel()

    async def wait(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        if self.error is not None:
            raise self.error

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        while self._tasks:
            # Shielded from our own cancellation: every task must finish its cleanup (partial
            # files) before the mirror's cancellation goes on.
            try:
                await asyncio.wait(set(self._tasks))
            except asyncio.CancelledError:
                for task in self._tasks:
                    task.cancel()
                await asyncio.wait(set(self._tasks))
                raise


class Walker:
    """The walk: pipeline tasks list workflows and jobs, job tasks list and download
    artifacts; all share the engine, the manifest and the result.

    What is API v2's own is in the five listing methods (:meth:`runs`, :meth:`workflows`,
    :meth:`jobs`, :meth:`job_ref`, :meth:`artifacts`); API v3's walk overrides them. The walked
    items need only ``id``, ``number`` and ``created_at`` (pipelines/runs) and ``id``, ``name``
    (workflows)."""

    def __init__(
        self,
        client: CircleCI,
        engine: DownloadEngine,
        book: Manifest | None,
        result: MirrorResult,
        options: MirrorOptions,
        slug: str,
    ) -> None:
        self.client = client
        self.engine = engine
        self.book = book
        self.result = result
        self.options = options
        self.slug = slug
        self.fingerprint = _fingerprint(options)
        self.tasks = _Tasks()
        self.pipeline_slots = asyncio.Semaphore(options.list_concurrency)
        self.job_slots = asyncio.Semaphore(options.concurrency)

    def _listing_failed(self, what: str, exc: BaseException) -> None:
        if self.options.fail_fast:
            raise exc
        logger.warning("mirror: listing %s failed: %s", what, exc)
        self.result.errors.append((what, exc))

    # -- API v2's listings ----------------------------------------------------------------

    def runs(self) -> AsyncPaginator[Any] | AsyncGenerator[Any, None]:
        """The project's pipelines, newest first."""
        branch = self.options.branch or None
        return self.client.pipelines.list_for_project(self.slug, branch=branch)

    def workflows(self, pipeline: Any) -> AsyncPaginator[Any] | AsyncGenerator[Any, None]:
        return self.client.pipelines.workflows(pipeline.id)

    def jobs(self, workflow: Any) -> AsyncPaginator[Any] | AsyncGenerator[Any, None]:
        return self.client.workflows.jobs(workflow.id)

    def job_ref(self, pipeline: Any, workflow: Any, job: Any) -> JobRef | None:
        """Where a listed job's files go; ``None`` for a job with no number (approval jobs
        and jobs that never ran)."""
        if job.job_number is None:
            return None
        return _job_ref(pipeline, workflow, job)

    async def artifacts(self, job: JobRef) -> tuple[Sequence[object], list[DownloadResult]]:
        return await self._artifacts(job.job_number)

    # -- the walk -------------------------------------------------------------------------

    async def run(self) -> None:
        async with _walking(self.runs()) as pipelines:
            await self._pipelines(pipelines)

    async def _pipelines(self, pipelines: AsyncPaginator[Any] | AsyncGenerator[Any, None]) -> None:
        o = self.options
        considered = 0  # every shard's, so that all shards stop at the same pipeline
        try:
            async for pipeline in pipelines:
                created = pipeline.created_at
                if o.until is not None and created is not None and created > o.until:
                    continue
                if o.since is not None and created is not None and created < o.since:
                    break  # newest first: everything after this is older
                if o.max_pipelines is not None and considered >= o.max_pipelines:
                    break
                considered += 1
                if not in_shard(pipeline.number, o.shard):
                    continue
                self.result.pipelines += 1
                await self.tasks.spawn(self.pipeline_slots, self.pipeline, pipeline)
            await self.tasks.wait()
        except BaseException:
            await self.tasks.cancel()
            raise

    async def pipeline(self, pipeline: Any) -> None:
        try:
            async with _walking(self.workflows(pipeline)) as workflows:
                async for workflow in workflows:
                    if not _name_matches(workflow.name, self.options.workflow):
                        continue
                    self.result.workflows += 1
                    await self._workflow(pipeline, workflow)
        except DownloadFailed:
            raise
        except Exception as exc:
            self._listing_failed(f"pipeline {pipeline.number}", exc)

    async def _workflow(self, pipeline: Any, workflow: Any) -> None:
        try:
            async with _walking(self.jobs(workflow)) as jobs:
                async for job in jobs:
                    ref = self.job_ref(pipeline, workflow, job)
                    if ref is None or not _name_matches(ref.job, self.options.job):
                        continue  # approval jobs and jobs that never ran have no number
                    self.result.jobs += 1
                    await self.tasks.spawn(self.job_slots, self.job, ref)
        except DownloadFailed:
            raise
        except Exception as exc:
            self._listing_failed(f"workflow {workflow.name!r} of pipeline {pipeline.number}", exc)

    async def job(self, job: JobRef) -> None:
        if self.book is not None:
            present = await self.book.mirrored(job, self.fingerprint)
            if present is not None:
                self.result.jobs_up_to_date += 1
                self.result.entries.extend(job.entry(outcome) for outcome in present)
                return
        try:
            artifacts, undecodable = await self.artifacts(job)
        except Exception as exc:
            self._listing_failed(f"artifacts of job {job.job_number}", exc)
            return
        if undecodable and self.options.fail_fast:
            first = undecodable[0]
            raise DownloadFailed(
                f"stopped at the first failure (fail_fast): an artifact of job "
                f"{job.job_number}: {first.error}",
                results=undecodable,
            )
        o = self.options
        planned = plan_downloads(
            [as_artifact(a) for a in artifacts],
            layout=o.layout,
            include=o.include,
            exclude=o.exclude,
        )
        prefix = _job_dir(job)
        planned = [
            attrs.evolve(p, relative=f"{prefix}/{p.relative}") if p.relative else p for p in planned
        ]
        outcomes = [*await self.engine.run(planned, fail_fast=o.fail_fast), *undecodable]
        records = []
        for outcome in outcomes:
            self.result.entries.append(job.entry(outcome))
            records.append(file_record(job, outcome))
        if job.finished and all(r.ok for r in outcomes):
            records.append(job_record(job, len(outcomes), self.fingerprint))
        if self.book is not None:
            await self.book.append(records)

    async def _artifacts(self, job_number: int) -> tuple[list[Artifact], list[DownloadResult]]:
        """The job's artifacts as models, and a failed result for each item that does not
        parse. The paginator converts whole pages, so when a page does not parse the job is
        listed again item by item: one bad item fails alone."""
        try:
            async with _walking(self.client.jobs.artifacts(self.slug, job_number)) as typed:
                return await typed.collect(), []
        except DecodeError:
            pass
        good: list[Artifact] = []
        bad: list[DownloadResult] = []
        what = f"an artifact of job {job_number}"
        async for item in self.client.artifacts.list(self.slug, job_number):
            try:
                good.append(structure(item, Artifact, what=what))
            except DecodeError as exc:
                ref = (
                    as_artifact(item) if isinstance(item, dict) else ArtifactRef(repr(item), 0, "")
                )
                bad.append(DownloadResult(ref, DownloadStatus.FAILED, error=exc))
                logger.info("mirror: %s", exc)
        return good, bad


@contextlib.asynccontextmanager
async def _walking(paginator: W) -> AsyncIterator[W]:
    """The paginator, closed on the way out: a walk that stops early (a break, an error, a
    cancellation) does not leave its read-ahead request running."""
    try:
        yield paginator
    finally:
        await paginator.aclose()


def _job_ref(pipeline: Pipeline, workflow: Workflow, job: Job) -> JobRef:
    assert job.job_number is not None  # checked by the caller
    return JobRef(
        pipeline_number=pipeline.number,
        pipeline_id=str(pipeline.id),
        workflow=workflow.name,
        workflow_id=str(workflow.id),
        job=job.name,
        job_number=job.job_number,
        finished=job.status.terminal,
    )


def _job_dir(job: JobRef) -> str:
    """``<pipeline>/<workflow>/<job>-<number>``: each component one safe name, cut names
    ending in a hash of the whole name (the job number is always kept)."""
    number = job.pipeline_number
    pipeline = short_component(str(number) if number is not None else "_")
    workflow = short_component(job.workflow)
    name = short_component(job.job, suffix=f"-{job.job_number}")
    return f"{pipeline}/{workflow}/{name}"
