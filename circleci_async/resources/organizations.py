"""``cci.organizations``: organizations, their URL-orb allow-list and groups (the
``Organization`` and ``Groups`` tags)."""

from __future__ import annotations

import uuid

from ..models.common import MessageResponse
from ..models.organizations import (
    Group,
    Organization,
    OrgVcsType,
    UrlOrbAllowListEntry,
    UrlOrbAllowListResult,
    UrlOrbAuth,
)
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, project_slug, segment

__all__ = ["OrganizationsAPI"]


def _org(org_slug_or_id: uuid.UUID | str) -> str:
    """An organization slug (``gh/acme``, kept whole) or id."""
    return project_slug(str(org_slug_or_id))


class OrganizationsAPI(Resource):
    namespace = "organizations"

    @operation("createOrganization", "POST", "/organization")
    async def create(self, name: str, vcs_type: OrgVcsType | str) -> Organization:
        """Create a standalone (``circleci``) organization, or connect a GitHub/Bitbucket one."""
        return await self._call(
            "createOrganization",
            "POST",
            "organization",
            Organization,
            body=body({"name": name, "vcs_type": vcs_type}),
        )

    @operation("deleteOrganization", "DELETE", "/organization/{org-slug-or-id}")
    async def delete(self, org_slug_or_id: uuid.UUID | str) -> MessageResponse:
        """Delete an organization with all its projects and their build data."""
        return await self._call(
            "deleteOrganization", "DELETE", f"organization/{_org(org_slug_or_id)}", MessageResponse
        )

    @operation(
        "listURLOrbAllowListEntries", "GET", "/organization/{org-slug-or-id}/url-orb-allow-list"
    )
    def url_orb_allow_list(
        self, org_slug_or_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[UrlOrbAllowListEntry]:
        """The allow-list entries (one page: the endpoint returns them all)."""
        return self._list(
            f"organization/{_org(org_slug_or_id)}/url-orb-allow-list",
            UrlOrbAllowListEntry,
            max_items=max_items,
        )

    @operation(
        "createURLOrbAllowListEntry", "POST", "/organization/{org-slug-or-id}/url-orb-allow-list"
    )
    async def allow_url_orbs(
        self,
        org_slug_or_id: uuid.UUID | str,
        *,
        name: str,
        prefix: str,
        auth: UrlOrbAuth | str = UrlOrbAuth.NONE,
    ) -> UrlOrbAllowListResult:
        """Allow URL orbs whose address starts with ``prefix``."""
        return await self._call(
            "createURLOrbAllowListEntry",
            "POST",
            f"organization/{_org(org_slug_or_id)}/url-orb-allow-list",
            UrlOrbAllowListResult,
            body=body({"name": name, "prefix": prefix, "auth": auth}),
        )

    @operation(
        "removeURLOrbAllowListEntry",
        "DELETE",
        "/organization/{org-slug-or-id}/url-orb-allow-list/{allow-list-entry-id}",
    )
    async def remove_url_orb_entry(
        self, org_slug_or_id: uuid.UUID | str, entry_id: str
    ) -> UrlOrbAllowListResult:
        return await self._call(
            "removeURLOrbAllowListEntry",
            "DELETE",
            f"organization/{_org(org_slug_or_id)}/url-orb-allow-list/{segment(entry_id)}",
            UrlOrbAllowListResult,
        )

    # -- groups ------------------------------------------------------------------------------

    @operation("getOrganizationGroups", "GET", "/organizations/{org_id}/groups")
    def groups(
        self,
        org_id: uuid.UUID | str,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Group]:
        """The organization's groups; ``limit`` is the page size. The total is in each page's
        ``raw["total_count"]``."""
        return self._list(
            f"organizations/{segment(org_id)}/groups",
            Group,
            params={"limit": limit},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createOrganizationGroup", "POST", "/organizations/{org_id}/groups")
    async def create_group(
        self, org_id: uuid.UUID | str, name: str, *, description: str | None = None
    ) -> Group:
        return await self._call(
            "createOrganizationGroup",
            "POST",
            f"organizations/{segment(org_id)}/groups",
            Group,
            body=body({"name": name, "description": description}),
        )

    @operation("getGroup", "GET", "/organizations/{org_id}/groups/{group_id}")
    async def get_group(self, org_id: uuid.UUID | str, group_id: uuid.UUID | str) -> Group:
        return await self._call(
            "getGroup",
            "GET",
            f"organizations/{segment(org_id)}/groups/{segment(group_id)}",
            Group,
        )

    @operation("deleteGroup", "DELETE", "/organizations/{org_id}/groups/{group_id}")
    async def delete_group(
        self, org_id: uuid.UUID | str, group_id: uuid.UUID | str
    ) -> MessageResponse:
        """Delete a group, its memberships and the role grants made through it."""
        return await self._call(
            "deleteGroup",
            "DELETE",
            f"organizations/{segment(org_id)}/groups/{segment(group_id)}",
            MessageResponse,
        )
