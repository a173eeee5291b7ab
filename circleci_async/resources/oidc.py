"""``cci.oidc``: custom claims of the OIDC tokens issued to jobs (org and project level)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..errors import ConfigurationError
from ..models.oidc import OidcClaims
from ._base import Resource, body, operation, segment

__all__ = ["OidcAPI"]

_CLAIMS = ("audience", "ttl")


def _claims(claims: Sequence[str]) -> str:
    """The ``claims`` query value: a comma-separated subset of ``audience`` and ``ttl``."""
    if isinstance(claims, str):
        claims = [c.strip() for c in claims.split(",")]
    unknown = [c for c in claims if c not in _CLAIMS]
    if unknown or not claims:
        raise ConfigurationError(f"claims to delete are 'audience' and/or 'ttl', got {claims!r}")
    return ",".join(claims)


class OidcAPI(Resource):
    namespace = "oidc"

    @operation("GetOrgClaims", "GET", "/org/{orgID}/oidc-custom-claims")
    async def org_claims(self, org_id: uuid.UUID | str) -> OidcClaims:
        return await self._call(
            "GetOrgClaims", "GET", f"org/{segment(org_id)}/oidc-custom-claims", OidcClaims
        )

    @operation("PatchOrgClaims", "PATCH", "/org/{orgID}/oidc-custom-claims")
    async def update_org_claims(
        self,
        org_id: uuid.UUID | str,
        *,
        audience: Sequence[str] | None = None,
        ttl: str | None = None,
    ) -> OidcClaims:
        """Set the audience list and/or the token lifetime (``ttl`` such as ``1h``)."""
        return await self._call(
            "PatchOrgClaims",
            "PATCH",
            f"org/{segment(org_id)}/oidc-custom-claims",
            OidcClaims,
            body=body({"audience": list(audience) if audience is not None else None, "ttl": ttl}),
        )

    @operation("DeleteOrgClaims", "DELETE", "/org/{orgID}/oidc-custom-claims")
    async def delete_org_claims(
        self, org_id: uuid.UUID | str, claims: Sequence[str] = _CLAIMS
    ) -> OidcClaims:
        """Remove custom claims (``audience``, ``ttl`` or both), back to CircleCI's defaults."""
        return await self._call(
            "DeleteOrgClaims",
            "DELETE",
            f"org/{segment(org_id)}/oidc-custom-claims",
            OidcClaims,
            params={"claims": _claims(claims)},
        )

    @operation("GetProjectClaims", "GET", "/org/{orgID}/project/{projectID}/oidc-custom-claims")
    async def project_claims(
        self, org_id: uuid.UUID | str, project_id: uuid.UUID | str
    ) -> OidcClaims:
        return await self._call(
            "GetProjectClaims",
            "GET",
            f"org/{segment(org_id)}/project/{segment(project_id)}/oidc-custom-claims",
            OidcClaims,
        )

    @operation("PatchProjectClaims", "PATCH", "/org/{orgID}/project/{projectID}/oidc-custom-claims")
    async def update_project_claims(
        self,
        org_id: uuid.UUID | str,
        project_id: uuid.UUID | str,
        *,
        audience: Sequence[str] | None = None,
        ttl: str | None = None,
    ) -> OidcClaims:
        return await self._call(
            "PatchProjectClaims",
            "PATCH",
            f"org/{segment(org_id)}/project/{segment(project_id)}/oidc-custom-claims",
            OidcClaims,
            body=body({"audience": list(audience) if audience is not None else None, "ttl": ttl}),
        )

    @operation(
        "DeleteProjectClaims", "DELETE", "/org/{orgID}/project/{projectID}/oidc-custom-claims"
    )
    async def delete_project_claims(
        self,
        org_id: uuid.UUID | str,
        project_id: uuid.UUID | str,
        claims: Sequence[str] = _CLAIMS,
    ) -> OidcClaims:
        return await self._call(
            "DeleteProjectClaims",
            "DELETE",
            f"org/{segment(org_id)}/project/{segment(project_id)}/oidc-custom-claims",
            OidcClaims,
            params={"claims": _claims(claims)},
        )
