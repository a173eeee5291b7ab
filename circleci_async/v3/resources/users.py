"""``cci.v3.users``: the token's user (``GET /users?filter[user_id]=me``, v2's ``/me``)."""

from __future__ import annotations

from ...errors import DecodeError
from ...models import structure
from ...resources._base import operation
from .._envelope import normalise, one
from ..models import User
from ._base import V3Resource

__all__ = ["UsersAPI"]


class UsersAPI(V3Resource):
    namespace = "v3.users"

    @operation("v3.listUsers", "GET", "/users")
    async def me(self) -> User:
        """The user the token belongs to: the usual first call to check a token on v3."""
        data = await self._v3.request(
            "GET", "users", params={"filter[user_id]": "me"}, operation="v3.listUsers"
        )
        items = one(data, what="v3.listUsers")
        if not isinstance(items, list) or not items:
            raise DecodeError("cannot read v3.listUsers: no user in the answer")
        return structure(normalise(items[0]), User, what="v3.listUsers")
