"""``cci.contexts``: contexts, their environment variables and restrictions."""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import ConfigurationError
from ..models.common import MessageResponse
from ..models.contexts import (
    Context,
    ContextEnvironmentVariable,
    ContextRestriction,
    OwnerType,
    RestrictionType,
)
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, segment

__all__ = ["ContextsAPI"]


def _owner(owner_id: uuid.UUID | str | None, owner_slug: str | None) -> None:
    if (owner_id is None) == (owner_slug is None):
        raise ConfigurationError("give the owner as owner_id or owner_slug (exactly one)")


class ContextsAPI(Resource):
    namespace = "contexts"

    @operation("listContexts", "GET", "/context")
    def list(
        self,
        *,
        owner_id: uuid.UUID | str | None = None,
        owner_slug: str | None = None,
        owner_type: OwnerType | str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Context]:
        """The contexts of an owner: an organization by id or slug, or (server) an account."""
        _owner(owner_id, owner_slug)
        return self._list(
            "context",
            Context,
            params={"owner-id": owner_id, "owner-slug": owner_slug, "owner-type": owner_type},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createContext", "POST", "/context")
    async def create(
        self,
        name: str,
        *,
        owner_id: uuid.UUID | str | None = None,
        owner_slug: str | None = None,
        owner_type: OwnerType | str | None = None,
    ) -> Context:
        _owner(owner_id, owner_slug)
        owner: dict[str, Any] = body({"id": owner_id, "slug": owner_slug, "type": owner_type})
        return await self._call(
            "createContext", "POST", "context", Context, body={"name": name, "owner": owner}
        )

    @operation("getContext", "GET", "/context/{context_id}")
    async def get(self, context_id: uuid.UUID | str) -> Context:
        return await self._call("getContext", "GET", f"context/{segment(context_id)}", Context)

    @operation("deleteContext", "DELETE", "/context/{context_id}")
    async def delete(self, context_id: uuid.UUID | str) -> MessageResponse:
        """Delete a context and every variable in it."""
        return await self._call(
            "deleteContext", "DELETE", f"context/{segment(context_id)}", MessageResponse
        )

    @operation(
        "listEnvironmentVariablesFromContext", "GET", "/context/{context_id}/environment-variable"
    )
    def env_vars(
        self,
        context_id: uuid.UUID | str,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ContextEnvironmentVariable]:
        """The context's variables: names and dates, never values."""
        return self._list(
            f"context/{segment(context_id)}/environment-variable",
            ContextEnvironmentVariable,
            page_token=page_token,
            max_items=max_items,
        )

    @operation(
        "addEnvironmentVariableToContext",
        "PUT",
        "/context/{context_id}/environment-variable/{env_var_name}",
    )
    async def set_env_var(
        self, context_id: uuid.UUID | str, name: str, value: str
    ) -> ContextEnvironmentVariable | MessageResponse:
        """Create or replace a variable. The spec allows either answer shape."""
        return await self._call(
            "addEnvironmentVariableToContext",
            "PUT",
            f"context/{segment(context_id)}/environment-variable/{segment(name)}",
            ContextEnvironmentVariable | MessageResponse,  # type: ignore[arg-type]
            body={"value": value},
        )

    @operation(
        "deleteEnvironmentVariableFromContext",
        "DELETE",
        "/context/{context_id}/environment-variable/{env_var_name}",
    )
    async def delete_env_var(self, context_id: uuid.UUID | str, name: str) -> MessageResponse:
        return await self._call(
            "deleteEnvironmentVariableFromContext",
            "DELETE",
            f"context/{segment(context_id)}/environment-variable/{segment(name)}",
            MessageResponse,
        )

    @operation("getContextRestrictions", "GET", "/context/{context_id}/restrictions")
    def restrictions(
        self,
        context_id: uuid.UUID | str,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ContextRestriction]:
        """Project, expression and group restrictions. Paginated although the spec declares
        no ``page-token``."""
        return self._list(
            f"context/{segment(context_id)}/restrictions",
            ContextRestriction,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createContextRestriction", "POST", "/context/{context_id}/restrictions")
    async def create_restriction(
        self,
        context_id: uuid.UUID | str,
        restriction_type: RestrictionType | str,
        restriction_value: str,
    ) -> ContextRestriction:
        """Restrict the context to a project (value: project id), an expression, or a group."""
        return await self._call(
            "createContextRestriction",
            "POST",
            f"context/{segment(context_id)}/restrictions",
            ContextRestriction,
            body=body(
                {"restriction_type": restriction_type, "restriction_value": restriction_value}
            ),
        )

    @operation(
        "deleteContextRestriction", "DELETE", "/context/{context_id}/restrictions/{restriction_id}"
    )
    async def delete_restriction(
        self, context_id: uuid.UUID | str, restriction_id: uuid.UUID | str
    ) -> MessageResponse:
        return await self._call(
            "deleteContextRestriction",
            "DELETE",
            f"context/{segment(context_id)}/restrictions/{segment(restriction_id)}",
            MessageResponse,
        )
