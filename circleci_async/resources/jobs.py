"""``cci.jobs``: job details, cancellation, artifacts and test results (the ``Job`` tag)."""

from __future__ import annotations

import uuid

from ..models.common import MessageResponse
from ..models.jobs import Artifact, JobDetails, TestResult
from ..pagination import AsyncPaginator
from ._base import Resource, operation, project_slug, segment

__all__ = ["JobsAPI"]


class JobsAPI(Resource):
    namespace = "jobs"

    @operation("getJobDetails", "GET", "/project/{project-slug}/job/{job-number}")
    async def get(self, project: str, job_number: int) -> JobDetails:
        return await self._call(
            "getJobDetails",
            "GET",
            f"project/{project_slug(project)}/job/{int(job_number)}",
            JobDetails,
        )

    @operation("cancelJobByJobNumber", "POST", "/project/{project-slug}/job/{job-number}/cancel")
    async def cancel_by_number(self, project: str, job_number: int) -> MessageResponse:
        return await self._call(
            "cancelJobByJobNumber",
            "POST",
            f"project/{project_slug(project)}/job/{int(job_number)}/cancel",
            MessageResponse,
        )

    @operation("cancelJobByJobID", "POST", "/jobs/{job-id}/cancel")
    async def cancel(self, job_id: uuid.UUID | str) -> MessageResponse:
        """Cancel by job id: the only way for jobs without a number (approval jobs)."""
        return await self._call(
            "cancelJobByJobID", "POST", f"jobs/{segment(job_id)}/cancel", MessageResponse
        )

    @operation("getJobArtifacts", "GET", "/project/{project-slug}/{job-number}/artifacts")
    def artifacts(
        self,
        project: str,
        job_number: int,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Artifact]:
        """The job's artifacts; pass them to ``cci.artifacts`` to download. Paginated although
        the spec declares no ``page-token``."""
        return self._list(
            f"project/{project_slug(project)}/{int(job_number)}/artifacts",
            Artifact,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("getTests", "GET", "/project/{project-slug}/{job-number}/tests")
    def tests(
        self,
        project: str,
        job_number: int,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[TestResult]:
        """The job's stored test results (none when it stored more than 250 MB of them)."""
        return self._list(
            f"project/{project_slug(project)}/{int(job_number)}/tests",
            TestResult,
            page_token=page_token,
            max_items=max_items,
        )
