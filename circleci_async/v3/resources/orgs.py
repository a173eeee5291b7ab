"""``cci.v3.orgs``: an organization's id from its slug, its settings (read and partly
updated, a *flat* body: omitted keys stay as they are), and its groups."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import attrs

from ...errors import ConfigurationError
from ...models import structure
from ...resources._base import operation, segment
from .._envelope import normalise, one
from ..models import Group, Org, OrgSettings, OrgSettingsAttributes
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["OrgsAPI", "check_settings"]


class OrgsAPI(V3Resource):
    namespace = "v3.orgs"

    @operation("v3.listOrgs", "GET", "/orgs")
    async def lookup(self, slug: str) -> Org | None:
        """The organization with this slug (``gh/acme``), or ``None``: a miss is an empty
        list, not a 404."""
        data = await self._v3.request(
            "GET", "orgs", params={"filter[slug]": slug}, operation="v3.listOrgs"
        )
        items = one(data, what="v3.listOrgs")
        if not isinstance(items, list) or not items:
            return None
        return structure(normalise(items[0]), Org, what="v3.listOrgs")

    @operation("v3.getOrgSettings", "GET", "/orgs/{id}/settings")
    async def settings(self, org_id: uuid.UUID | str) -> OrgSettings:
        path = f"orgs/{segment(org_id)}/settings"
        return await self._entity("v3.getOrgSettings", "GET", path, OrgSettings)

    @operation("v3.updateOrgSettings", "POST", "/orgs/{id}/update-settings")
    async def update_settings(self, org_id: uuid.UUID | str, **settings: Any) -> OrgSettings:
        """Change some settings (``enable_ai_agents=True``, ...; the names of
        :class:`~circleci_async.v3.models.OrgSettingsAttributes`); the answer is all of them.
        [inferred] Not retried: the notes call no POST idempotent."""
        check_settings(settings, OrgSettingsAttributes)
        path = f"orgs/{segment(org_id)}/update-settings"
        return await self._entity("v3.updateOrgSettings", "POST", path, OrgSettings,
                                  body=settings)  # fmt: skip

    @operation("v3.listGroups", "GET", "/groups")
    def groups(
        self, org_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[Group]:
        """An organization's groups (not paged: one page)."""
        return self._collection(
            "v3.listGroups", "groups", Group, params={"filter[org_id]": org_id}, max_items=max_items
        )


def check_settings(settings: dict[str, Any], model: type) -> None:
    """Refuse a setting the model does not know (CircleCI's answer to one is unknown) and an
    empty update."""
    known = set(attrs.fields_dict(model))
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigurationError(f"unknown settings {unknown}; known: {sorted(known)}")
    if not settings:
        raise ConfigurationError("update_settings needs at least one setting")
