"""A keyed table of JSON rows for the fake's many small create/list/get/delete resources
(contexts, webhooks, schedules, ...): insertion order, keyset pages, CircleCI-style 404s.

Each row keeps the JSON the API shows and, apart, whatever the fake needs to know about it
but does not show (``meta``: an owner, a scope, the unmasked value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from ._queries import page_of
from ._records import ApiError

if TYPE_CHECKING:
    from ._state import FakeState

__all__ = ["Row", "Table"]


@attrs.define
class Row:
    seq: int
    json: dict[str, Any]
    meta: dict[str, Any] = attrs.field(factory=dict)


class Table:
    """Rows by key. Changes bump the fake's version, so cached answers are dropped."""

    def __init__(self, state: FakeState, what: str, error_key: str = "message") -> None:
        self._state = state
        self._rows: dict[str, Row] = {}
        self.what = what
        self.error_key = error_key

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[Row]:
        return iter(list(self._rows.values()))

    def put(self, key: str, json: dict[str, Any], /, **meta: Any) -> Row:
        """Add a row, or replace one keeping its place in the order."""
        old = self._rows.get(key)
        row = Row(old.seq if old is not None else self._state.next_seq(), json, dict(meta))
        self._rows[key] = row
        self._state.touch()
        return row

    def row(self, key: str) -> Row:
        row = self._rows.get(key)
        if row is None:
            raise ApiError(404, f"{self.what} not found.", self.error_key)
        return row

    def get(self, key: str) -> dict[str, Any]:
        return self.row(key).json

    def delete(self, key: str) -> Row:
        row = self.row(key)
        del self._rows[key]
        self._state.touch()
        return row

    def find(self, where: Callable[[Row], bool]) -> Row | None:
        return next((row for row in self._rows.values() if where(row)), None)

    def page(
        self,
        list_id: str,
        token: str | None,
        size: int,
        where: Callable[[Row], bool] | None = None,
    ) -> dict[str, Any]:
        rows = [
            (row.seq, row.json)
            for row in sorted(self._rows.values(), key=lambda r: r.seq)
            if where is None or where(row)
        ]
        return page_of(rows, list_id, token, size)
