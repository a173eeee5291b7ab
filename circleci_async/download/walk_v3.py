"""The mirror's walk over API v3: runs -> workflows -> jobs -> artifacts through ``cci.v3``.

Everything else (layout, manifest, idempotence, filters, concurrency, error handling) is the
shared walk's in :mod:`.mirror`; this module only lists. The project's v2 slug is resolved to
its id once (``GET /projects?filter[slug]``), runs come from ``POST /runs/search`` (the branch
as a filter expression, ``since``/``until`` as the scope's ``from``/``to``), and a v3 run is
the same execution as the v2 pipeline with the same id and number, so a v3 mirror files every
artifact where a v2 mirror of the same project does.

"Finished" is an allow-list, as on v2: a job counts as finished only in phase ``ended``, the one
phase known to be final (§3.4 of the v3 notes); an unknown phase is not finished, so its job is
listed again next time.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import attrs

from ..errors import CircleCIError, DecodeError
from ..models import structure
from ..v3.models import Artifact, Job, Phase, Run, Workflow
from ..v3.resources.runs import search_filter
from ._models import ArtifactRef, DownloadResult, DownloadStatus
from .mirror import Walker
from .mirror_result import JobRef

__all__ = ["V3Walker", "artifact_ref", "job_finished"]

logger = logging.getLogger("circleci_async.download")


@attrs.frozen
class RunView:
    """A run as the shared walk reads a pipeline."""

    id: uuid.UUID
    number: int | None
    created_at: dt.datetime | None


@attrs.frozen
class WorkflowView:
    """A workflow as the shared walk reads one."""

    id: uuid.UUID
    name: str


def job_finished(job: Job) -> bool:
    """Whether a job's artifacts can no longer change: its phase is ``ended`` (allow-list:
    any other phase, known or not, is not finished)."""
    return job.attributes.phase == Phase.ENDED


def artifact_ref(artifact: Artifact) -> ArtifactRef:
    """The downloader's view of a v3 artifact (``execution`` is v2's ``node_index``)."""
    a = artifact.attributes
    return ArtifactRef(a.path, a.execution or 0, a.url)  # type: ignore[arg-type]  # checked per file


class V3Walker(Walker):
    """:class:`~.mirror.Walker` with API v3's listings."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Job number -> job id: v3 lists artifacts by id, the manifest files jobs by number.
        self.job_ids: dict[int, uuid.UUID] = {}

    async def runs(self) -> AsyncGenerator[Any, None]:
        v3, o = self.client.v3, self.options
        project = await v3.projects.lookup(self.slug)
        if project is None:
            raise CircleCIError(f"API v3 knows no project {self.slug!r}")
        listing = v3.runs.search(
            [project.id],
            since=o.since,
            until=o.until,
            filter=search_filter(branch=o.branch) if o.branch else None,
        )
        try:
            async for run in listing:
                yield _run_view(run)
        finally:
            await listing.aclose()

    async def workflows(self, pipeline: Any) -> AsyncGenerator[Any, None]:
        listing = self.client.v3.workflows.list(pipeline.id)
        try:
            async for workflow in listing:
                yield _workflow_view(workflow)
        finally:
            await listing.aclose()

    def jobs(self, workflow: Any) -> Any:
        return self.client.v3.jobs.list(workflow.id)

    def job_ref(self, pipeline: Any, workflow: Any, job: Any) -> JobRef | None:
        assert isinstance(job, Job)
        number = job.attributes.number
        if number is None:
            return None  # approval jobs and jobs that never ran have no number
        self.job_ids[number] = job.id
        return JobRef(
            pipeline_number=pipeline.number,
            pipeline_id=str(pipeline.id),
            workflow=workflow.name,
            workflow_id=str(workflow.id),
            job=job.attributes.name or "",
            job_number=number,
            finished=job_finished(job),
        )

    async def artifacts(self, job: JobRef) -> tuple[Sequence[object], list[DownloadResult]]:
        """The job's artifacts; when a page does not parse, the job is listed again item by
        item, so one bad item fails alone (as on v2)."""
        job_id = self.job_ids[job.job_number]
        jobs = self.client.v3.jobs
        typed = jobs.artifacts(job_id)
        try:
            return [artifact_ref(a) for a in await typed.collect()], []
        except DecodeError:
            pass
        finally:
            await typed.aclose()
        good: list[ArtifactRef] = []
        bad: list[DownloadResult] = []
        what = f"an artifact of job {job.job_number}"
        raw = self.client.v3.paginate(f"jobs/{job_id}/artifacts", operation="v3.listJobArtifacts")
        try:
            async for item in raw:
                try:
                    good.append(artifact_ref(structure(_entity(item), Artifact, what=what)))
                except DecodeError as exc:
                    bad.append(DownloadResult(_loose_ref(item), DownloadStatus.FAILED, error=exc))
                    logger.info("mirror: %s", exc)
        finally:
            await raw.aclose()
        return good, bad


def _run_view(run: Run) -> RunView:
    return RunView(run.id, run.attributes.number, run.attributes.created_at)


def _workflow_view(workflow: Workflow) -> WorkflowView:
    return WorkflowView(workflow.id, workflow.attributes.name or "")


def _entity(item: Any) -> Any:
    """An entity whose ``attributes``/``references`` are objects, as the models expect."""
    if not isinstance(item, dict):
        return item
    fixed = dict(item)
    for member in ("attributes", "references"):
        if fixed.get(member) is None:
            fixed[member] = {}
    return fixed


def _loose_ref(item: Any) -> ArtifactRef:
    attributes = item.get("attributes") if isinstance(item, dict) else None
    if isinstance(attributes, dict):
        node = attributes.get("execution")
        path, url = attributes.get("path"), attributes.get("url")
        return ArtifactRef(
            path if isinstance(path, str) else repr(path),
            node if isinstance(node, int) else 0,
            url if isinstance(url, str) else "",
        )
    return ArtifactRef(repr(item), 0, "")
