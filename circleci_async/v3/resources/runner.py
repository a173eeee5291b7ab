"""``cci.v3.runner``: the newer, v3-style runner surface (§2.10): resource classes, agents and
tokens with v3's filters and envelope. It is known only from third-party code and CircleCI is
said to be reshaping it, so treat it as provisional; the legacy runner API (``cci.runner``,
``{items}`` bodies) is the one CircleCI's own CLI uses."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...errors import ConfigurationError
from ...resources._base import operation, segment
from .._envelope import request_body
from ..models import RunnerAgent, RunnerResourceClass, RunnerToken
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["RunnerV3API"]


class RunnerV3API(V3Resource):
    namespace = "v3.runner"

    @operation("v3.listRunnerResourceClasses", "GET", "/runner/resource-classes")
    def resource_classes(
        self, org_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[RunnerResourceClass]:
        return self._collection(
            "v3.listRunnerResourceClasses",
            "runner/resource-classes",
            RunnerResourceClass,
            params={"filter[org_id]": org_id},
            max_items=max_items,
        )

    @operation("v3.createRunnerResourceClass", "POST", "/runner/resource-classes")
    async def create_resource_class(
        self, org_id: uuid.UUID | str, resource_class: str, description: str = ""
    ) -> RunnerResourceClass:
        """A resource class (``namespace/name``) of an organization."""
        body = request_body(
            {"resource_class": resource_class, "description": description}, {"org": org_id}
        )
        return await self._entity(
            "v3.createRunnerResourceClass",
            "POST",
            "runner/resource-classes",
            RunnerResourceClass,
            body=body,
        )

    @operation("v3.getRunnerResourceClass", "GET", "/runner/resource-classes/{id}")
    async def resource_class(self, resource_class_id: str) -> RunnerResourceClass:
        path = f"runner/resource-classes/{segment(resource_class_id)}"
        return await self._entity("v3.getRunnerResourceClass", "GET", path, RunnerResourceClass)

    @operation("v3.updateRunnerResourceClass", "POST", "/runner/resource-classes/{id}/update")
    async def update_resource_class(
        self, resource_class_id: str, description: str
    ) -> RunnerResourceClass:
        """Change the description (a flat body)."""
        path = f"runner/resource-classes/{segment(resource_class_id)}/update"
        return await self._entity(
            "v3.updateRunnerResourceClass",
            "POST",
            path,
            RunnerResourceClass,
            body={"description": description},
        )

    @operation("v3.deleteRunnerResourceClass", "DELETE", "/runner/resource-classes/{id}")
    async def delete_resource_class(self, resource_class_id: str, *, force: bool = False) -> None:
        """Delete a resource class; ``force`` also deletes its tokens."""
        await self._v3.request(
            "DELETE",
            f"runner/resource-classes/{segment(resource_class_id)}",
            params={"force": "true"} if force else None,
            operation="v3.deleteRunnerResourceClass",
        )

    @operation("v3.listRunnerAgents", "GET", "/runner/agents")
    def agents(
        self,
        *,
        org_id: uuid.UUID | str | None = None,
        resource_class: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[RunnerAgent]:
        """Agents of an organization or of one resource class (exactly one of the two)."""
        if (org_id is None) == (resource_class is None):
            raise ConfigurationError("runner.agents needs exactly one of org_id, resource_class")
        params = {"filter[org_id]": org_id, "filter[resource_class]": resource_class}
        return self._collection(
            "v3.listRunnerAgents",
            "runner/agents",
            RunnerAgent,
            params=params,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.createRunnerToken", "POST", "/runner/tokens")
    async def create_token(self, resource_class_id: str, nickname: str) -> RunnerToken:
        """A token for agents of a resource class; ``attributes.token`` is shown only once."""
        body = request_body({"nickname": nickname}, {"resource_class": resource_class_id})
        return await self._entity(
            "v3.createRunnerToken", "POST", "runner/tokens", RunnerToken, body=body
        )
