"""``cci.runner``: the self-hosted runner API, on its own host (``runner.circleci.com``;
``CircleCI(runner_base_url=...)`` for a server install). The token is sent there too."""

from __future__ import annotations

import uuid

from ..errors import ConfigurationError
from ..models.runner import (
    ResourceClass,
    Runner,
    RunnerToken,
    RunningTaskCount,
    UnclaimedTaskCount,
)
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, segment

__all__ = ["RunnerAPI"]


class RunnerAPI(Resource):
    namespace = "runner"
    api_version = "runner"

    def _url(self, path: str) -> str:
        return f"{self._client.runner_base_url}/{path}"

    @operation("listRunners", "GET", "/runner")
    def runners(
        self,
        *,
        resource_class: str | None = None,
        namespace: str | None = None,
        org_id: uuid.UUID | str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Runner]:
        """Runner agents of a resource class (``namespace/name``) or a whole namespace."""
        if resource_class is None and namespace is None:
            raise ConfigurationError("listing runners needs resource_class or namespace")
        return self._list(
            self._url("runner"),
            Runner,
            params={"resource-class": resource_class, "namespace": namespace, "org-id": org_id},
            max_items=max_items,
        )

    @operation("getUnclaimedTaskCount", "GET", "/runner/tasks")
    async def unclaimed_task_count(self, resource_class: str) -> UnclaimedTaskCount:
        """Tasks queued for the resource class with no runner to take them: scale on this."""
        return await self._call(
            "getUnclaimedTaskCount",
            "GET",
            self._url("runner/tasks"),
            UnclaimedTaskCount,
            params={"resource-class": resource_class},
        )

    @operation("getRunningTaskCount", "GET", "/runner/tasks/running")
    async def running_task_count(self, resource_class: str) -> RunningTaskCount:
        return await self._call(
            "getRunningTaskCount",
            "GET",
            self._url("runner/tasks/running"),
            RunningTaskCount,
            params={"resource-class": resource_class},
        )

    @operation("listResourceClasses", "GET", "/runner/resource")
    def resource_classes(
        self,
        *,
        namespace: str | None = None,
        org_id: uuid.UUID | str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ResourceClass]:
        return self._list(
            self._url("runner/resource"),
            ResourceClass,
            params={"namespace": namespace, "org-id": org_id},
            max_items=max_items,
        )

    @operation("createResourceClass", "POST", "/runner/resource")
    async def create_resource_class(
        self,
        resource_class: str,
        *,
        description: str | None = None,
        org_id: uuid.UUID | str | None = None,
    ) -> ResourceClass:
        """Create ``namespace/name``; the namespace must already belong to the organization."""
        return await self._call(
            "createResourceClass",
            "POST",
            self._url("runner/resource"),
            ResourceClass,
            body=body(
                {"resource_class": resource_class, "description": description, "org_id": org_id}
            ),
        )

    @operation("deleteResourceClass", "DELETE", "/runner/resource/{id}")
    async def delete_resource_class(self, resource_class_id: uuid.UUID | str) -> None:
        """Delete a resource class that has no tokens left."""
        await self._call_no_content(
            "DELETE", self._url(f"runner/resource/{segment(resource_class_id)}")
        )

    @operation("forceDeleteResourceClass", "DELETE", "/runner/resource/{id}/force")
    async def force_delete_resource_class(self, resource_class_id: uuid.UUID | str) -> None:
        """Delete a resource class together with its tokens."""
        await self._call_no_content(
            "DELETE", self._url(f"runner/resource/{segment(resource_class_id)}/force")
        )

    @operation("listTokens", "GET", "/runner/token")
    def tokens(
        self, resource_class: str, *, max_items: int | None = None
    ) -> AsyncPaginator[RunnerToken]:
        """The resource class's tokens (without their secrets)."""
        return self._list(
            self._url("runner/token"),
            RunnerToken,
            params={"resource-class": resource_class},
            max_items=max_items,
        )

    @operation("createToken", "POST", "/runner/token")
    async def create_token(
        self, resource_class: str, nickname: str, *, org_id: uuid.UUID | str | None = None
    ) -> RunnerToken:
        """Create a token; its secret ``token`` is in this answer only."""
        return await self._call(
            "createToken",
            "POST",
            self._url("runner/token"),
            RunnerToken,
            body=body({"resource_class": resource_class, "nickname": nickname, "org_id": org_id}),
        )

    @operation("deleteToken", "DELETE", "/runner/token/{id}")
    async def delete_token(self, token_id: uuid.UUID | str) -> None:
        await self._call_no_content("DELETE", self._url(f"runner/token/{segment(token_id)}"))
