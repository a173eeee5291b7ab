"""``cci.workflows``: inspect, cancel, rerun, approve and wait for workflows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..models.common import MessageResponse
from ..models.workflows import Job, RerunWorkflowResult, Workflow
from ..pagination import AsyncPaginator
from ..polling import DEFAULT_POLL, PollSchedule, workflow_finished
from ..waiting import poll_until
from ._base import Resource, body, operation, segment

if TYPE_CHECKING:
    from ..watching import Watcher

__all__ = ["WorkflowsAPI"]


class WorkflowsAPI(Resource):
    namespace = "workflows"

    @operation("getWorkflowById", "GET", "/workflow/{id}")
    async def get(self, workflow_id: uuid.UUID | str) -> Workflow:
        return await self._call(
            "getWorkflowById", "GET", f"workflow/{segment(workflow_id)}", Workflow
        )

    @operation("listWorkflowJobs", "GET", "/workflow/{id}/job")
    def jobs(
        self,
        workflow_id: uuid.UUID | str,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Job]:
        """The workflow's jobs. Paginated although the spec declares no ``page-token``."""
        return self._list(
            f"workflow/{segment(workflow_id)}/job",
            Job,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("cancelWorkflow", "POST", "/workflow/{id}/cancel")
    async def cancel(self, workflow_id: uuid.UUID | str) -> MessageResponse:
        return await self._call(
            "cancelWorkflow", "POST", f"workflow/{segment(workflow_id)}/cancel", MessageResponse
        )

    @operation(
        "approvePendingApprovalJobById", "POST", "/workflow/{id}/approve/{approval_request_id}"
    )
    async def approve(
        self, workflow_id: uuid.UUID | str, approval_request_id: uuid.UUID | str
    ) -> MessageResponse:
        """Approve a hold: ``approval_request_id`` is the approval job's
        ``approval_request_id`` (its id, in practice)."""
        return await self._call(
            "approvePendingApprovalJobById",
            "POST",
            f"workflow/{segment(workflow_id)}/approve/{segment(approval_request_id)}",
            MessageResponse,
        )

    @operation("rerunWorkflow", "POST", "/workflow/{id}/rerun")
    async def rerun(
        self,
        workflow_id: uuid.UUID | str,
        *,
        jobs: Sequence[uuid.UUID | str] | None = None,
        from_failed: bool | None = None,
        sparse_tree: bool | None = None,
        enable_ssh: bool | None = None,
    ) -> RerunWorkflowResult:
        """Rerun the whole workflow, only ``jobs`` (by id), or ``from_failed``."""
        payload = body(
            {
                "jobs": [str(job) for job in jobs] if jobs is not None else None,
                "from_failed": from_failed,
                "sparse_tree": sparse_tree,
                "enable_ssh": enable_ssh,
            }
        )
        return await self._call(
            "rerunWorkflow",
            "POST",
            f"workflow/{segment(workflow_id)}/rerun",
            RerunWorkflowResult,
            body=payload,
        )

    async def wait(
        self,
        workflow_id: uuid.UUID | str,
        *,
        timeout: float | None = 3600.0,
        schedule: PollSchedule = DEFAULT_POLL,
    ) -> Workflow:
        """Poll until the workflow reaches a final status and return it; raises
        :class:`~circleci_async.waiting.WaitTimeout` after ``timeout`` seconds.

        ``on_hold`` (waiting for an approval) is not final, and neither is a status this
        library does not know yet.
        """
        return await poll_until(
            lambda: self.get(workflow_id),
            workflow_finished,
            timeout=timeout,
            schedule=schedule,
            what=f"workflow {workflow_id}",
        )

    def watch(
        self,
        workflow_ids: Iterable[uuid.UUID | str],
        *,
        schedule: PollSchedule = DEFAULT_POLL,
        timeout: float | None = None,
        concurrency: int | None = None,
    ) -> Watcher:
        """A :class:`~circleci_async.watching.Watcher` of these workflows: ``async for`` it
        for each status change, until all are final. Cheaper than many :meth:`wait` calls:
        a few workers poll them all, earliest due first."""
        return self._client.watch(
            workflows=workflow_ids, schedule=schedule, timeout=timeout, concurrency=concurrency
        )
