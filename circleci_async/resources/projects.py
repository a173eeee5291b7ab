"""``cci.projects``: projects, their settings, checkout keys and environment variables."""

from __future__ import annotations

from ..models.common import MessageResponse
from ..models.projects import (
    AdvancedSettings,
    CheckoutKey,
    CheckoutKeyInputType,
    EnvironmentVariable,
    Project,
    ProjectSettings,
)
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, project_slug, segment

__all__ = ["ProjectsAPI"]


class ProjectsAPI(Resource):
    namespace = "projects"

    @operation("getProjectBySlug", "GET", "/project/{project-slug}")
    async def get(self, project: str) -> Project:
        return await self._call(
            "getProjectBySlug", "GET", f"project/{project_slug(project)}", Project
        )

    @operation("deleteProjectBySlug", "DELETE", "/project/{project-slug}")
    async def delete(self, project: str) -> MessageResponse:
        return await self._call(
            "deleteProjectBySlug", "DELETE", f"project/{project_slug(project)}", MessageResponse
        )

    @operation("createProject", "POST", "/organization/{org-slug-or-id}/project")
    async def create(self, organization: str, name: str) -> Project:
        """Create a project in an organization (given by slug or id); works for every
        organization type."""
        return await self._call(
            "createProject",
            "POST",
            f"organization/{project_slug(organization)}/project",
            Project,
            body={"name": name},
        )

    @operation("createProject1", "POST", "/project/{provider}/{organization}/{project}")
    async def create_by_slug(self, project: str) -> ProjectSettings:
        """Deprecated form of :meth:`create`: set up a project by its three-part slug;
        answers with the project's default advanced settings."""
        return await self._call(
            "createProject1",
            "POST",
            f"project/{project_slug(project, three_parts=True)}",
            ProjectSettings,
        )

    @operation("getProjectSettings", "GET", "/project/{provider}/{organization}/{project}/settings")
    async def settings(self, project: str) -> ProjectSettings:
        """The project's advanced settings (experimental endpoint)."""
        return await self._call(
            "getProjectSettings",
            "GET",
            f"project/{project_slug(project, three_parts=True)}/settings",
            ProjectSettings,
        )

    @operation(
        "patchProjectSettings", "PATCH", "/project/{provider}/{organization}/{project}/settings"
    )
    async def update_settings(self, project: str, advanced: AdvancedSettings) -> ProjectSettings:
        """Change some advanced settings: only the fields set (not ``None``) are sent."""
        return await self._call(
            "patchProjectSettings",
            "PATCH",
            f"project/{project_slug(project, three_parts=True)}/settings",
            ProjectSettings,
            body=body({"advanced": advanced}),
        )

    # -- checkout keys -----------------------------------------------------------------------

    @operation("listCheckoutKeys", "GET", "/project/{project-slug}/checkout-key")
    def checkout_keys(
        self,
        project: str,
        *,
        digest: str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[CheckoutKey]:
        """Checkout keys; ``digest`` (``sha256`` or ``md5``) picks the fingerprint format."""
        return self._list(
            f"project/{project_slug(project)}/checkout-key",
            CheckoutKey,
            params={"digest": digest},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createCheckoutKey", "POST", "/project/{project-slug}/checkout-key")
    async def create_checkout_key(
        self, project: str, type: CheckoutKeyInputType | str
    ) -> CheckoutKey:
        """Create a ``user-key`` (needs a user token) or a ``deploy-key``."""
        return await self._call(
            "createCheckoutKey",
            "POST",
            f"project/{project_slug(project)}/checkout-key",
            CheckoutKey,
            body=body({"type": type}),
        )

    @operation("getCheckoutKey", "GET", "/project/{project-slug}/checkout-key/{fingerprint}")
    async def get_checkout_key(self, project: str, fingerprint: str) -> CheckoutKey:
        return await self._call(
            "getCheckoutKey",
            "GET",
            f"project/{project_slug(project)}/checkout-key/{segment(fingerprint)}",
            CheckoutKey,
        )

    @operation("deleteCheckoutKey", "DELETE", "/project/{project-slug}/checkout-key/{fingerprint}")
    async def delete_checkout_key(self, project: str, fingerprint: str) -> MessageResponse:
        return await self._call(
            "deleteCheckoutKey",
            "DELETE",
            f"project/{project_slug(project)}/checkout-key/{segment(fingerprint)}",
            MessageResponse,
        )

    # -- environment variables -----------------------------------------------------------

    @operation("listEnvVars", "GET", "/project/{project-slug}/envvar")
    def env_vars(
        self, project: str, *, page_token: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[EnvironmentVariable]:
        """The project's variables, values masked. Paginated although the spec declares no
        ``page-token``."""
        return self._list(
            f"project/{project_slug(project)}/envvar",
            EnvironmentVariable,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createEnvVar", "POST", "/project/{project-slug}/envvar")
    async def create_env_var(self, project: str, name: str, value: str) -> EnvironmentVariable:
        return await self._call(
            "createEnvVar",
            "POST",
            f"project/{project_slug(project)}/envvar",
            EnvironmentVariable,
            body={"name": name, "value": value},
        )

    @operation("getEnvVar", "GET", "/project/{project-slug}/envvar/{name}")
    async def get_env_var(self, project: str, name: str) -> EnvironmentVariable:
        """One variable, value masked."""
        return await self._call(
            "getEnvVar",
            "GET",
            f"project/{project_slug(project)}/envvar/{segment(name)}",
            EnvironmentVariable,
        )

    @operation("deleteEnvVar", "DELETE", "/project/{project-slug}/envvar/{name}")
    async def delete_env_var(self, project: str, name: str) -> MessageResponse:
        return await self._call(
            "deleteEnvVar",
            "DELETE",
            f"project/{project_slug(project)}/envvar/{segment(name)}",
            MessageResponse,
        )
