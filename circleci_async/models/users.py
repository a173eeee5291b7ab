"""Users: the token's owner, other users, and the organizations they collaborate on."""

from __future__ import annotations

import uuid

import attrs

from ._base import key

__all__ = ["Collaboration", "User"]


@attrs.frozen(kw_only=True)
class User:
    id: uuid.UUID
    login: str
    name: str
    avatar_url: str | None = None


@attrs.frozen(kw_only=True)
class Collaboration:
    """An organization the user belongs to or collaborates on (``getCollaborations``)."""

    id: uuid.UUID | None
    vcs_type: str = attrs.field(metadata=key("vcs-type"))
    name: str
    avatar_url: str
    slug: str
