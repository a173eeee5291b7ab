"""``cci.v3.deploy``: deployments, components and their versions, environments, and a
project's deploy settings (§2.6). All reads. [inferred] The lists take ``page[limit]`` beside
``page[cursor]`` (the official CLI sends both on every page); no maxima are known."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...resources._base import operation, segment
from ..models import (
    DeployComponent,
    DeployComponentVersion,
    DeployEnvironment,
    Deployment,
    DeploySettings,
)
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["DeployAPI"]


class DeployAPI(V3Resource):
    namespace = "v3.deploy"

    @operation("v3.listDeployments", "GET", "/deploy/deployments")
    def deployments(
        self,
        org_id: uuid.UUID | str,
        *,
        project_id: uuid.UUID | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Deployment]:
        """An organization's deployments (``filter[org_id]`` is always sent), or a project's."""
        return self._collection(
            "v3.listDeployments",
            "deploy/deployments",
            Deployment,
            params={"filter[org_id]": org_id, "filter[project_id]": project_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.listDeployComponents", "GET", "/deploy/components")
    def components(
        self,
        org_id: uuid.UUID | str,
        *,
        project_id: uuid.UUID | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[DeployComponent]:
        return self._collection(
            "v3.listDeployComponents",
            "deploy/components",
            DeployComponent,
            params={"filter[org_id]": org_id, "filter[project_id]": project_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.getDeployComponent", "GET", "/deploy/components/{id}")
    async def component(self, component_id: uuid.UUID | str) -> DeployComponent:
        path = f"deploy/components/{segment(component_id)}"
        return await self._entity("v3.getDeployComponent", "GET", path, DeployComponent)

    @operation("v3.listDeployComponentVersions", "GET", "/deploy/components/{id}/versions")
    def component_versions(
        self,
        component_id: uuid.UUID | str,
        *,
        environment_id: uuid.UUID | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[DeployComponentVersion]:
        """The versions of a component, or those deployed to one environment."""
        return self._collection(
            "v3.listDeployComponentVersions",
            f"deploy/components/{segment(component_id)}/versions",
            DeployComponentVersion,
            params={"filter[environment_id]": environment_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.listDeployEnvironments", "GET", "/deploy/environments")
    def environments(
        self,
        org_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[DeployEnvironment]:
        return self._collection(
            "v3.listDeployEnvironments",
            "deploy/environments",
            DeployEnvironment,
            params={"filter[org_id]": org_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.getDeployEnvironment", "GET", "/deploy/environments/{id}")
    async def environment(self, environment_id: uuid.UUID | str) -> DeployEnvironment:
        path = f"deploy/environments/{segment(environment_id)}"
        return await self._entity("v3.getDeployEnvironment", "GET", path, DeployEnvironment)

    @operation("v3.getDeploySettings", "GET", "/deploy/settings")
    async def settings(self, project_id: uuid.UUID | str) -> DeploySettings:
        """A project's deploy settings: one entity, though it is asked for by filter."""
        return await self._entity(
            "v3.getDeploySettings",
            "GET",
            "deploy/settings",
            DeploySettings,
            params={"filter[project_id]": project_id},
        )
