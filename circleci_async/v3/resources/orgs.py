"""``cci.v3.orgs``: an organization's id from its slug, and its settings."""

from __future__ import annotations

import uuid

from ...models import structure
from ...resources._base import operation, segment
from .._envelope import normalise, one
from ..models import Org, OrgSettings
from ._base import V3Resource

__all__ = ["OrgsAPI"]


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
