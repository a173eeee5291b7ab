"""``cci.v3.projects``: a project by id, lists by slug, organization or following,
settings (read and partly updated with a *flat* body), purging its Docker layer cache, and a
deploy rollback. v2's slugs become ids here: :meth:`ProjectsAPI.lookup` resolves one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...resources._base import operation, segment
from ..models import Project, ProjectSettings, ProjectSettingsAttributes, Rollback
from ._base import V3Resource
from .orgs import check_settings

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

    @operation("v3.updateProjectSettings", "POST", "/projects/{id}/update-settings")
    async def update_settings(
        self, project_id: uuid.UUID | str, **settings: Any
    ) -> ProjectSettings:
        """Change some settings (the names of
        :class:`~circleci_async.v3.models.ProjectSettingsAttributes`); omitted ones stay as
        they are, and the answer is all of them. Not retried after a 5xx."""
        check_settings(settings, ProjectSettingsAttributes)
        path = f"projects/{segment(project_id)}/update-settings"
        return await self._entity("v3.updateProjectSettings", "POST", path, ProjectSettings,
                                  body=settings)  # fmt: skip

    @operation("v3.purgeProjectDlc", "DELETE", "/projects/{id}/dlc")
    async def purge_dlc(self, project_id: uuid.UUID | str) -> None:
        """Purge the project's Docker layer cache (a 410 once CircleCI retires it:
        :class:`~circleci_async.errors.Gone`)."""
        await self._v3.request(
            "DELETE", f"projects/{segment(project_id)}/dlc", operation="v3.purgeProjectDlc"
        )

    @operation("v3.rollbackProject", "POST", "/projects/{id}/rollback")
    async def rollback(
        self,
        project_id: uuid.UUID | str,
        *,
        component_id: uuid.UUID | str,
        environment_id: uuid.UUID | str,
        current_version: str,
        target_version: str,
        namespace: str | None = None,
        reason: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        checkout_ref: str | None = None,
        config_ref: str | None = None,
    ) -> Rollback:
        """Roll a deployed component back to ``target_version``; CircleCI does it only if the
        component really runs ``current_version``. A flat body; never retried."""
        body: dict[str, Any] = {
            "component_id": str(component_id),
            "environment_id": str(environment_id),
            "current_version": current_version,
            "target_version": target_version,
        }
        optional = {"namespace": namespace, "reason": reason, "checkout_ref": checkout_ref,
                    "config_ref": config_ref}  # fmt: skip
        body.update({name: value for name, value in optional.items() if value is not None})
        if parameters is not None:
            body["parameters"] = dict(parameters)
        path = f"projects/{segment(project_id)}/rollback"
        return await self._entity("v3.rollbackProject", "POST", path, Rollback, body=body)
