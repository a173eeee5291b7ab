"""``cci.v3.connections``: an organization's provider connections (GitHub App and the like),
their setup, and the repositories they reach (§2.5).

A setup mints a fresh state token on every call (valid for an hour), so it is never retried.
``/provider/repositories`` takes ``page[limit]`` (≤ 100) on the first request only: the
cursor carries it after that, and a limit sent beside a cursor is a 400."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ...models import structure
from ...pagination import V3_CURSOR_PARAM, V3_LIMIT_PARAM, V3_PAGES, AsyncPaginator
from ...resources._base import operation, query
from .._envelope import normalise
from .._limits import check_limit
from ..models import ConnectionSetup, ProviderConnection, ProviderRepository
from ._base import V3Resource

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["ConnectionsAPI"]


class ConnectionsAPI(V3Resource):
    namespace = "v3.connections"

    @operation("v3.listProviderConnections", "GET", "/provider/connections")
    def list(
        self, org_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[ProviderConnection]:
        """The organization's connections to VCS providers."""
        return self._collection(
            "v3.listProviderConnections",
            "provider/connections",
            ProviderConnection,
            params={"filter[org_id]": org_id},
            max_items=max_items,
        )

    @operation("v3.setupProviderConnection", "POST", "/provider/connections/setup")
    async def setup(
        self, org_id: uuid.UUID | str, provider: str, return_url: str
    ) -> ConnectionSetup:
        """Start connecting a provider: the answer says what to do next (``redirect`` to
        ``url``, or ``register``). The body is flat."""
        body = {"type": "vcs", "vcs": {"provider": provider}, "return_url": return_url}
        return await self._entity(
            "v3.setupProviderConnection",
            "POST",
            "provider/connections/setup",
            ConnectionSetup,
            params={"filter[org_id]": org_id},
            body=body,
        )

    @operation("v3.listProviderRepositories", "GET", "/provider/repositories")
    def repositories(
        self,
        org_id: uuid.UUID | str,
        provider: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ProviderRepository]:
        """The repositories a connection reaches. ``limit`` (≤ 100) goes on the first request
        only; a resumed walk (``cursor``) keeps the limit its cursor was made with."""
        check_limit("v3.listProviderRepositories", limit)
        fixed = query({"filter[org_id]": org_id, "filter[provider]": provider}) or {}
        what = "v3.listProviderRepositories"

        def fetch(token: str | None) -> Awaitable[Any]:
            params = dict(fixed)
            if token:
                params[V3_CURSOR_PARAM] = token
            elif limit is not None:
                params[V3_LIMIT_PARAM] = str(limit)
            return self._v3.request("GET", "provider/repositories", params=params, operation=what)

        def convert(item: Any) -> ProviderRepository:
            return structure(normalise(item), ProviderRepository, what=what)

        return AsyncPaginator(
            fetch, page_token=cursor, max_items=max_items, convert=convert, style=V3_PAGES
        )
