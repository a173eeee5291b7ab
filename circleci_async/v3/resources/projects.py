"""``cci.v3.projects``: a project by id, lists by slug, organization or following, and
settings. v2's slugs become ids here: :meth:`ProjectsAPI.lookup` resolves one."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...resources._base import operation, segment
from ..models import Project, ProjectSettings
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["ProjectsAPI"]


class ProjectsAPI(V3Resource):
    namespace = "v3.projects"

    @operation("v3.getProject", "GET", "/projects/{id}")
    async def get(self, project_id: uuid.UUID | str) -> Project:
        path = f"projects/{segment(project_id)}"
        return await self._entity("v3.getProject", "GET", path, Project)

    @operation("v3.listProjects", "GET", "/projects")
    def list(
        self,
        *,
        slug: str | None = None,
        org_id: uuid.UUID | str | None = None,
        name: str | None = None,
        following: bool = False,
        order_by: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Project]:
        """Projects by ``slug``, by ``org_id`` (optionally ``name``), or the ones you follow:
        exactly one scope (CircleCI answers 400 without one). ``limit`` is at most 50."""
        scopes = sum((slug is not None, org_id is not None, following))
        if scopes != 1:
            raise ConfigurationError("projects.list needs exactly one of slug, org_id, following")
        if name is not None and org_id is None:
            raise ConfigurationError("projects.list: name= filters an org_id= listing")
        params: dict[str, Any] = {
            "filter[slug]": slug,
            "filter[org_id]": org_id,
            "filter[name]": name,
            "filter[following]": True if following else None,
            "order_by": order_by,
        }
        return self._collection(
            "v3.listProjects",
            "projects",
            Project,
            params=params,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    async def lookup(self, slug: str) -> Project | None:
        """The project with this v2 slug (``gh/acme/app``), or ``None``."""
        found = await self.list(slug=slug, max_items=1).collect()
        return found[0] if found else None

    @operation("v3.getProjectSettings", "GET", "/projects/{id}/settings")
    async def settings(self, project_id: uuid.UUID | str) -> ProjectSettings:
        path = f"projects/{segment(project_id)}/settings"
        return await self._entity("v3.getProjectSettings", "GET", path, ProjectSettings)
