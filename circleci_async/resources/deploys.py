"""``cci.deploys``: deploy environments, components and versions, and rollbacks (the
``Deploy`` and ``Rollback`` tags)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..models.deploys import Component, ComponentVersion, Environment, RollbackResult
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, segment

__all__ = ["DeploysAPI"]

#: ``page-size`` is required by these endpoints and undocumented in range; 20 is the page
#: size of every other CircleCI list.
DEFAULT_PAGE_SIZE = 20


class DeploysAPI(Resource):
    namespace = "deploys"

    @operation("listEnvironments", "GET", "/deploy/environments")
    def environments(
        self,
        org_id: uuid.UUID | str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Environment]:
        return self._list(
            "deploy/environments",
            Environment,
            params={"org-id": org_id, "page-size": page_size},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("getEnvironment", "GET", "/deploy/environments/{environment_id}")
    async def environment(self, environment_id: uuid.UUID | str) -> Environment:
        return await self._call(
            "getEnvironment", "GET", f"deploy/environments/{segment(environment_id)}", Environment
        )

    @operation("listComponents", "GET", "/deploy/components")
    def components(
        self,
        org_id: uuid.UUID | str,
        *,
        project_id: uuid.UUID | str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Component]:
        return self._list(
            "deploy/components",
            Component,
            params={"org-id": org_id, "project-id": project_id, "page-size": page_size},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("getComponent", "GET", "/deploy/components/{component_id}")
    async def component(self, component_id: uuid.UUID | str) -> Component:
        return await self._call(
            "getComponent", "GET", f"deploy/components/{segment(component_id)}", Component
        )

    @operation("listComponentVersions", "GET", "/deploy/components/{component_id}/versions")
    def component_versions(
        self,
        component_id: uuid.UUID | str,
        *,
        environment_id: uuid.UUID | str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ComponentVersion]:
        """A component's versions, optionally in one environment. Paginated although the spec
        declares no ``page-token``."""
        return self._list(
            f"deploy/components/{segment(component_id)}/versions",
            ComponentVersion,
            params={"environment-id": environment_id},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("rollbackProject", "POST", "/projects/{project_id}/rollback")
    async def rollback(
        self,
        project_id: uuid.UUID | str,
        *,
        component_name: str,
        environment_name: str,
        current_version: str,
        target_version: str,
        namespace: str | None = None,
        reason: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> RollbackResult:
        """Roll a component back to ``target_version`` by running the rollback pipeline."""
        payload = body(
            {
                "component_name": component_name,
                "environment_name": environment_name,
                "current_version": current_version,
                "target_version": target_version,
                "namespace": namespace,
                "reason": reason,
                "parameters": dict(parameters) if parameters is not None else None,
            }
        )
        return await self._call(
            "rollbackProject",
            "POST",
            f"projects/{segment(project_id)}/rollback",
            RollbackResult,
            body=payload,
        )
