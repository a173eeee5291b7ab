"""API v3's envelope, in one place: ``{"data": {id, attributes, references}}`` for one entity,
``{"data": [...], "page": {"next", "prev"}}`` for a collection, and the request bodies
(``{"data": {"attributes", "references"}}``, or flat for the actions that take one).

No I/O. Reading normalises each entity before it becomes a model: ``attributes`` and
``references`` that are missing, ``null`` or not objects read as empty objects, so a model's
typed fields always exist. Unknown members are left for the converter to ignore.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import DecodeError
from ..models import structure

__all__ = ["entity", "normalise", "normalise_each", "one", "request_body"]

T = TypeVar("T")

_MEMBERS = ("attributes", "references")


def normalise(item: Any) -> Any:
    """One entity with ``attributes`` and ``references`` as objects (anything that is not a
    dict is returned as it is, for the converter to refuse with its own message)."""
    if item.__class__ is not dict:
        return item if not isinstance(item, dict) else normalise(dict(item))
    # The usual case, checked without a generator (this runs once per item of every page).
    if item.get("attributes").__class__ is dict and item.get("references").__class__ is dict:
        return item
    fixed = dict(item)
    for name in _MEMBERS:
        if not isinstance(fixed.get(name), dict):
            fixed[name] = {}
    return fixed


def normalise_each(items: list[Any]) -> list[Any]:
    """:func:`normalise` over a page's items, the usual item (both members objects) taken as
    it is without a call."""
    return [
        item
        if item.__class__ is dict
        and item.get("attributes").__class__ is dict
        and item.get("references").__class__ is dict
        else normalise(item)
        for item in items
    ]


def one(decoded: Any, *, what: str) -> Any:
    """The ``data`` of a single-entity answer (a :class:`DecodeError` when there is none)."""
    if not isinstance(decoded, dict) or "data" not in decoded:
        raise DecodeError(f"cannot read {what}: the answer has no 'data' member")
    return decoded["data"]


def entity(decoded: Any, model: type[T], *, what: str) -> T:
    """A single-entity answer as ``model``."""
    return structure(normalise(one(decoded, what=what)), model, what=what)


def request_body(
    attributes: Mapping[str, Any], references: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The create envelope ``{"data": {"attributes": ..., "references": ...}}``; references are
    given as ``{"project": id}`` and sent as ``{"project": {"id": id}}``."""
    data: dict[str, Any] = {"attributes": dict(attributes)}
    if references:
        data["references"] = {name: {"id": str(value)} for name, value in references.items()}
    return {"data": data}
