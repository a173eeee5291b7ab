"""``cci.users``: the token's user, other users, and collaborations (the ``User`` tag)."""

from __future__ import annotations

import uuid

from ..models.users import Collaboration, User
from ._base import Resource, operation, segment

__all__ = ["UsersAPI"]


class UsersAPI(Resource):
    namespace = "users"

    @operation("getCurrentUser", "GET", "/me")
    async def me(self) -> User:
        """The user the token belongs to: the usual first call to check a token works."""
        return await self._call("getCurrentUser", "GET", "me", User)

    @operation("getUser", "GET", "/user/{id}")
    async def get(self, user_id: uuid.UUID | str) -> User:
        return await self._call("getUser", "GET", f"user/{segment(user_id)}", User)

    @operation("getCollaborations", "GET", "/me/collaborations")
    async def collaborations(self) -> list[Collaboration]:
        """The organizations you belong to or collaborate on (one unpaginated list)."""
        return await self._call(
            "getCollaborations", "GET", "me/collaborations", list[Collaboration]
        )
