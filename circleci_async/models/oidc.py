"""Custom claims of the OIDC identity tokens CircleCI issues to jobs."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

__all__ = ["OidcClaims"]


@attrs.frozen(kw_only=True)
class OidcClaims:
    """Org-level (``project_id`` is ``None``) or project-level custom claims. ``ttl`` is a
    duration such as ``1h`` or ``30m``."""

    org_id: uuid.UUID
    project_id: uuid.UUID | None = None
    audience: list[str] | None = None
    audience_updated_at: dt.datetime | None = None
    ttl: str | None = None
    ttl_updated_at: dt.datetime | None = None
