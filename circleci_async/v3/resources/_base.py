"""What the v3 namespaces share: registration as ``cci.v3.<family>.<method>`` with
``version="v3"``, and the calls that go through the envelope.

Operation ids are the library's own (``v3.getRun``) [inferred]: the official spec, and so its
``operationId`` values, could not be read. Paths are written as the notes write them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ...resources._base import Resource, query
from .._envelope import entity

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator
    from ..client import V3

__all__ = ["V3Resource"]

T = TypeVar("T")


class V3Resource(Resource):
    """Base of the v3 namespaces (``namespace`` is ``"v3.runs"`` and so on)."""

    api_version = "v3"

    def __init__(self, v3: V3) -> None:
        super().__init__(v3.client)
        self._v3 = v3

    async def _entity(
        self,
        operation_id: str,
        method: str,
        path: str,
        model: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> T:
        """One request whose answer is a single entity, read as ``model``."""
        data = await self._v3.request(
            method, path, params=query(params), json=body, operation=operation_id
        )
        return entity(data, model, what=operation_id)

    def _collection(
        self,
        operation_id: str,
        path: str,
        model: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of ``model`` over a ``GET`` collection."""
        return self._v3.paginate(
            path,
            params=query(params),
            cursor=cursor,
            limit=limit,
            max_items=max_items,
            item_type=model,
            operation=operation_id,
        )

    def _search(
        self,
        operation_id: str,
        path: str,
        model: type[T],
        body: Mapping[str, Any],
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of ``model`` over a search POST (cursor in the body)."""
        return self._v3.search(
            path,
            body,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
            item_type=model,
            operation=operation_id,
        )
