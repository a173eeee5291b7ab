"""``cci.v3.workflows``: a workflow, a run's workflows, rerun and cancel.

Neither action is documented as safe to repeat, so neither is retried after it may have
reached the server (as v2's POSTs)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...resources._base import operation, segment
from ..models import Ref, Workflow, WorkflowRerun
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["WorkflowsAPI"]


class WorkflowsAPI(V3Resource):
    namespace = "v3.workflows"

    @operation("v3.getWorkflow", "GET", "/workflows/{id}")
    async def get(self, workflow_id: uuid.UUID | str) -> Workflow:
        path = f"workflows/{segment(workflow_id)}"
        return await self._entity("v3.getWorkflow", "GET", path, Workflow)

    @operation("v3.listWorkflows", "GET", "/workflows")
    def list(
        self,
        run_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Workflow]:
        """The workflows of a run (``filter[run_id]``)."""
        return self._collection(
            "v3.listWorkflows",
            "workflows",
            Workflow,
            params={"filter[run_id]": run_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.rerunWorkflow", "POST", "/workflows/{id}/rerun")
    async def rerun(
        self, workflow_id: uuid.UUID | str, *, from_failed: bool = False
    ) -> WorkflowRerun:
        """Rerun a workflow (its failed jobs only with ``from_failed``); the answer's ``id`` is
        the new workflow's. The body member is ``is_from_failed`` (v2's ``from_failed`` is
        silently ignored by v3 and reruns everything)."""
        path = f"workflows/{segment(workflow_id)}/rerun"
        body = {"is_from_failed": from_failed}
        return await self._entity("v3.rerunWorkflow", "POST", path, WorkflowRerun, body=body)

    @operation("v3.cancelWorkflow", "POST", "/workflows/{id}/cancel")
    async def cancel(self, workflow_id: uuid.UUID | str) -> Ref:
        """Ask for the workflow to be canceled (asynchronous: poll :meth:`get`)."""
        path = f"workflows/{segment(workflow_id)}/cancel"
        return await self._entity("v3.cancelWorkflow", "POST", path, Ref)
