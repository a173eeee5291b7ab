"""``cci.v3.contexts``: contexts, their environment variables and restrictions (§2.4).

Variables are set with a *flat* ``{name, value}`` (created or overwritten alike) and deleted by
``filter[name]``, not by path; restrictions are created with the envelope. [inferred] Setting a
variable repeats harmlessly, but the notes call no POST idempotent, so it is not retried."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ...resources._base import operation, segment
from .._envelope import request_body
from ..models import Context, ContextEnvVar, ContextRestriction, RestrictionType
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["ContextsAPI"]


class ContextsAPI(V3Resource):
    namespace = "v3.contexts"

    @operation("v3.listContexts", "GET", "/contexts")
    def list(
        self,
        org_id: uuid.UUID | str,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Context]:
        """An organization's contexts (``name`` is matched server-side); ``limit`` ≤ 100."""
        return self._collection(
            "v3.listContexts",
            "contexts",
            Context,
            params={"filter[org_id]": org_id, "filter[name]": name},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.getContext", "GET", "/contexts/{id}")
    async def get(self, context_id: uuid.UUID | str) -> Context:
        path = f"contexts/{segment(context_id)}"
        return await self._entity("v3.getContext", "GET", path, Context)

    @operation("v3.listContextEnvVars", "GET", "/contexts/{id}/env-vars")
    def env_vars(
        self,
        context_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ContextEnvVar]:
        """A context's variables (names and truncated values); ``limit`` ≤ 100. The answer
        may have no ``page`` block at all: that ends the walk."""
        return self._collection(
            "v3.listContextEnvVars",
            f"contexts/{segment(context_id)}/env-vars",
            ContextEnvVar,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.setContextEnvVar", "POST", "/contexts/{id}/env-vars/set")
    async def set_env_var(self, context_id: uuid.UUID | str, name: str, value: str) -> None:
        """Create or overwrite a variable (the answer is an empty ``data``)."""
        path = f"contexts/{segment(context_id)}/env-vars/set"
        await self._v3.request(
            "POST", path, json={"name": name, "value": value}, operation="v3.setContextEnvVar"
        )

    @operation("v3.deleteContextEnvVar", "DELETE", "/contexts/{id}/env-vars")
    async def delete_env_var(self, context_id: uuid.UUID | str, name: str) -> None:
        path = f"contexts/{segment(context_id)}/env-vars"
        await self._v3.request(
            "DELETE", path, params={"filter[name]": name}, operation="v3.deleteContextEnvVar"
        )

    @operation("v3.listContextRestrictions", "GET", "/context-restrictions")
    def restrictions(
        self, context_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[ContextRestriction]:
        """A context's restrictions (not paged: one page)."""
        return self._collection(
            "v3.listContextRestrictions",
            "context-restrictions",
            ContextRestriction,
            params={"filter[context_id]": context_id},
            max_items=max_items,
        )

    @operation("v3.createContextRestriction", "POST", "/context-restrictions")
    async def create_restriction(
        self,
        context_id: uuid.UUID | str,
        restriction_type: RestrictionType | str,
        match_pattern: str,
    ) -> ContextRestriction:
        """Restrict a context to a project (its id), a group (its id) or an expression."""
        attributes = {"restriction_type": str(restriction_type), "match_pattern": match_pattern}
        body = request_body(attributes, {"context": context_id})
        return await self._entity(
            "v3.createContextRestriction",
            "POST",
            "context-restrictions",
            ContextRestriction,
            body=body,
        )

    @operation("v3.deleteContextRestriction", "DELETE", "/context-restrictions/{id}")
    async def delete_restriction(self, context_id: uuid.UUID | str, restriction_id: str) -> None:
        """Delete a restriction: its id is unique only within ``context_id``."""
        await self._v3.request(
            "DELETE",
            f"context-restrictions/{segment(restriction_id)}",
            params={"filter[context_id]": str(context_id)},
            operation="v3.deleteContextRestriction",
        )
