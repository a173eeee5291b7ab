"""``cci.artifacts``: the public face of the downloader."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._models import (
    DownloadOptions,
    DownloadResults,
    Layout,
    SkipPolicy,
    as_artifact,
    coerce_layout,
    coerce_policy,
)
from .manager import DownloadEngine
from .mirror import MirrorResult, mirror
from .plan import plan_downloads
from .progress import ProgressReporter

if TYPE_CHECKING:
    from ..client import CircleCI
    from ..pagination import AsyncPaginator

__all__ = ["ArtifactsAPI"]


class ArtifactsAPI:
    """Artifact listing, downloads and mirroring for one client (``cci.artifacts``)."""

    def __init__(self, client: CircleCI) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"ArtifactsAPI({self._client!r})"

    def list(self, project_slug: str, job_number: int | str) -> AsyncPaginator[Any]:
        """The artifacts of one job as the API sends them (mappings with ``path``,
        ``node_index`` and ``url``), paged lazily. ``cci.jobs.artifacts(...)`` gives the same
        items as typed models; :meth:`download` takes either. The mirror walks raw items, so
        that one malformed item fails alone instead of failing the job's listing."""
        return self._client.paginate(f"project/{project_slug}/{job_number}/artifacts")

    async def download(
        self,
        artifacts: Iterable[Any] | AsyncIterable[Any],
        dest: str | os.PathLike[str],
        *,
        concurrency: int = 8,
        per_host: int | None = None,
        skip: SkipPolicy | str = SkipPolicy.OVERWRITE,
        layout: Layout | str = Layout.AUTO,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        fail_fast: bool = False,
        fsync: bool = False,
        resume: bool = True,
        progress: ProgressReporter | None = None,
        options: DownloadOptions | None = None,
    ) -> DownloadResults:
        """Download ``artifacts`` (API items: mappings or objects with ``path``, ``node_index``
        and ``url``; a paginator works too) into ``dest``; one result per selected file.

        - ``concurrency``: files in flight at once; ``per_host``: at most this many talk to any
          one host at a time (default: ``concurrency``).
        - ``skip``: what to do with a file already in place (:class:`SkipPolicy`); skips are
          results, not errors.
        - ``layout``: how parallel nodes' identical paths are kept apart (:class:`Layout`:
          ``<dest>/<path>``, and ``<dest>/node-<n>/<path>`` for paths on several nodes).
        - ``include`` / ``exclude``: glob patterns on the artifact path (``*`` matches ``/``
          too); artifacts filtered out get no result.
        - ``fail_fast``: stop everything at the first failure and raise :class:`DownloadFailed`
          (its ``results`` has every file's outcome). By default one failure does not stop the
          others.
        - ``fsync``: make each file durable before it is renamed into place. **Off by default**:
          artifacts can be fetched again, fsync caps throughput at the disk's sync speed (about a
          quarter of a page-cache write here), and the rename already guarantees that a crash
          never leaves a half-written file under the final name. Turn it on when a power loss
          must not lose files already reported as downloaded.
        - ``resume``: continue a file whose connection broke from the bytes already received
          (always within this call), and keep big unfinished files (``options.resume_threshold``)
          with a small resume record so that a later call continues them.
        - ``progress``: a :class:`ProgressReporter` (e.g. ``TqdmProgress()``).

        Files are streamed: peak memory never depends on their sizes. Each chunk is written as
        it arrives while the disk keeps up (page-cache writes); once writes turn slow the rest go
        through aiofiles on the downloader's own thread pool, in batches, while the next batch
        arrives (``options.write_mode="thread"`` always does that: the loop never waits for the
        disk, at 15-25% of the throughput; see :class:`WriteMode`). Nothing is ever printed.
        Raises :class:`ConfigurationError` for bad arguments or an unusable ``dest``; a problem
        with one file (unsafe path, 404, integrity, full disk...) is in its result.
        """
        items = await _collect(artifacts)
        planned = plan_downloads(
            [as_artifact(item) for item in items],
            layout=coerce_layout(layout),
            include=tuple(include),
            exclude=tuple(exclude),
        )
        engine = DownloadEngine(
            self._client.core,
            dest,
            concurrency=concurrency,
            per_host=per_host,
            skip=coerce_policy(skip),
            fsync=fsync,
            resume=resume,
            progress=progress,
            options=options,
        )
        async with engine:
            return await engine.run(planned, fail_fast=fail_fast)

    async def mirror(
        self,
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
        skip: SkipPolicy | str = SkipPolicy.IF_PRESENT,
        layout: Layout | str = Layout.AUTO,
        fsync: bool = False,
        resume: bool = True,
        progress: ProgressReporter | None = None,
        manifest: str | None = "manifest.jsonl",
        fail_fast: bool = False,
        options: DownloadOptions | None = None,
    ) -> MirrorResult:
        """Mirror a project's artifacts: walk pipelines (newest first; ``branch`` filters on the
        server), their workflows and jobs, and download the matching artifacts.

        - ``since`` / ``until``: pipeline creation times (aware datetimes or ISO 8601; naive
          means UTC). The API has no time filter, so the walk stops at the first pipeline older
          than ``since``.
        - ``workflow`` / ``job``: glob patterns on workflow and job names.
        - ``include`` / ``exclude``: glob patterns on artifact paths.
        - ``max_pipelines``: stop after this many pipelines (within ``since``/``until``).
        - ``list_concurrency``: pipelines listed at once; listing calls go through the client's
          rate limiter, file transfers from the storage host do not.

        Layout: ``<dest>/<pipeline number>/<workflow name>/<job name>-<job number>/`` then the
        download layout. ``manifest`` (relative to ``dest``; ``None`` for none) is a JSON-lines
        record of every file (pipeline, workflow, job, path, file, size, status, error). With the
        default ``skip="if-present"`` the mirror is idempotent: a second run downloads nothing
        (``result.up_to_date``), an interrupted one is completed by the next. Other arguments as
        for :meth:`download`.
        """
        return await mirror(
            self._client,
            project_slug,
            dest,
            branch=branch,
            since=since,
            until=until,
            workflow=workflow,
            job=job,
            include=include,
            exclude=exclude,
            max_pipelines=max_pipelines,
            concurrency=concurrency,
            per_host=per_host,
            list_concurrency=list_concurrency,
            skip=coerce_policy(skip),
            layout=coerce_layout(layout),
            fsync=fsync,
            resume=resume,
            progress=progress,
            manifest=manifest,
            fail_fast=fail_fast,
            options=options,
        )


async def _collect(artifacts: Iterable[Any] | AsyncIterable[Any]) -> list[Any]:
    if isinstance(artifacts, AsyncIterable):
        return [item async for item in artifacts]
    return list(artifacts)
