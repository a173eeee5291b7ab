"""``cci.v3.jobs``: a job (by UUID: v3 keys jobs by id, not number), a workflow's jobs, a
job's artifacts.

Step output (``/jobs/{id}/stdout``, ``stderr``, ``stdout/condensed``: Range and
``X-Terminal``), tests (NDJSON) and resource usage are not here yet. They belong in this class
as methods over ``self._v3.client.core.pipeline.stream`` (a streamed body, the same credential
and redirect rules), registered with :func:`operation` like the others, and in
``tests/fixtures/v3_routes.json``'s expected-missing list until then.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...resources._base import operation, segment
from ..models import Artifact, Job
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["JobsAPI"]


class JobsAPI(V3Resource):
    namespace = "v3.jobs"

    @operation("v3.getJob", "GET", "/jobs/{id}")
    async def get(self, job_id: uuid.UUID | str) -> Job:
        """A job with its ``parallel_executions`` and their steps."""
        return await self._entity("v3.getJob", "GET", f"jobs/{segment(job_id)}", Job)

    @operation("v3.listJobs", "GET", "/jobs")
    def list(
        self,
        workflow_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Job]:
        """The jobs of a workflow (``filter[workflow_id]``, required)."""
        return self._collection(
            "v3.listJobs",
            "jobs",
            Job,
            params={"filter[workflow_id]": workflow_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.listJobArtifacts", "GET", "/jobs/{id}/artifacts")
    def artifacts(
        self,
        job_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Artifact]:
        """A job's artifacts; ``url`` is absolute. [inferred] Whether the list pages is unknown
        (§6.8): a missing ``page`` block ends the walk after one page."""
        return self._collection(
            "v3.listJobArtifacts",
            f"jobs/{segment(job_id)}/artifacts",
            Artifact,
            cursor=cursor,
            max_items=max_items,
        )
