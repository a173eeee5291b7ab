"""``cci.artifacts``: the public face of the downloader."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Iterable, Sequence
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
from .options import MirrorOptions
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
        options: MirrorOptions | DownloadOptions | None = None,
        progress: ProgressReporter | None = None,
        **changes: Any,
    ) -> MirrorResult:
        """Mirror a project's artifacts: walk pipelines (newest first), their workflows and
        jobs, and download the matching artifacts into ``dest``.

        The options are the fields of :class:`MirrorOptions`, each documented there: pass them
        as keyword arguments (``branch="main", since="7d", include=["**/*.xml"]``), as
        ``options=MirrorOptions(...)``, or both (the keywords change the given options). A bad
        value (``since="yesterday"``, ``concurrency=0``) raises :class:`ConfigurationError`
        before any request. ``progress`` is a :class:`ProgressReporter`.

        - ``since`` / ``until``: pipeline creation times: aware datetimes, ISO 8601 (naive
          means UTC) or ages (``30m``, ``12h``, ``7d``, ``2w``). The API has no time filter,
          so the walk stops at the first pipeline older than ``since``.
        - ``shard``: ``(i, n)`` or ``"i/n"`` (from 0): only the pipelines whose number is
          ``i`` modulo ``n``, with the manifest ``manifest.shard-i-of-n.jsonl``: ``n`` workers
          (processes or machines, ideally on one shared rate limit) split one mirror.
        - ``list_concurrency``: pipelines listed at once; listing calls go through the client's
          rate limiter, file transfers from the storage host do not.

        Layout: ``<dest>/<pipeline number>/<workflow name>/<job name>-<job number>/`` then the
        download layout (names too long for one path component are cut and end in a short
        hash). ``manifest`` (relative to ``dest``; ``None`` for none) is a JSON-lines record of
        every file (pipeline, workflow, job, path, file, size, status, error). With the default
        ``skip="if-present"`` the mirror is idempotent: a second run downloads nothing
        (``result.up_to_date``), an interrupted one is completed by the next. Cancelling it
        (``task.cancel()``, Ctrl-C) removes the partial files of the transfers it stops.
        """
        return await mirror(
            self._client, project_slug, dest, options=options, progress=progress, **changes
        )


async def _collect(artifacts: Iterable[Any] | AsyncIterable[Any]) -> list[Any]:
    if isinstance(artifacts, AsyncIterable):
        return [item async for item in artifacts]
    return list(artifacts)
