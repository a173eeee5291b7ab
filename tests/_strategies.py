"""Hypothesis strategies for JSON Schema instances, for the subset of JSON Schema the two specs
use once converted (``tests/_openapi.py``): typed objects, arrays, strings with ``date-time``,
``uuid``, patterns and enums, bounded integers, numbers, booleans, null, and the combinators.

Why not hypothesis-jsonschema: its object strategy drives a Hypothesis internal
(``conjecture.utils.many.more``) that Hypothesis 6.170 no longer has, so every object schema
fails there. This module stays on public Hypothesis API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

__all__ = ["from_schema"]

_OFFSETS = [
    dt.timezone.utc,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=-8)),
]

_json_leaf = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)
ANY_JSON = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    """Date-times in the spellings RFC 3339 allows: ``Z`` or an offset, with or without a
    fraction of 3 or 6 digits."""
    moment = draw(
        st.datetimes(
            min_value=dt.datetime(1971, 1, 1),
            max_value=dt.datetime(2099, 12, 31),
            timezones=st.sampled_from(_OFFSETS),
        )
    )
    precision = draw(st.sampled_from(["seconds", "milliseconds", "microseconds"]))
    text = moment.isoformat(timespec=precision)
    if text.endswith("+00:00") and draw(st.booleans()):
        text = text[:-6] + "Z"
    return text


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            for key, value in part.items():
                if key == "minimum":
                    merged[key] = max(value, merged.get(key, value))
                elif key == "maximum":
                    merged[key] = min(value, merged.get(key, value))
                else:
                    merged.setdefault(key, value)
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return from_schema({**merged, **rest})
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            rest = {k: v for k, v in schema.items() if k != combinator}
            return st.one_of([from_schema({**rest, **option}) for option in schema[combinator]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    if kind is None:
        return ANY_JSON
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum"),
            max_value=schema.get("maximum"),
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        if schema.get("format") == "date-time":
            return rfc3339()
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 12))
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 3), 3),
        )
    if kind == "object":
        return _object(schema)
    raise ValueError(f"no strategy for {schema!r}")


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {name: from_schema(sub) for name, sub in properties.items() if name in required}
    optional = {name: from_schema(sub) for name, sub in properties.items() if name not in required}
    extra = schema.get("additionalProperties", True if not properties else None)
    if isinstance(extra, dict):
        values: st.SearchStrategy[Any] | None = from_schema(extra) if extra else ANY_JSON
    elif extra is True:
        values = ANY_JSON
    else:
        values = None
    keys = st.text(min_size=1, max_size=8).filter(lambda k: k not in properties)
    more = st.dictionaries(keys, values, max_size=2) if values is not None else st.just({})
    return st.builds(
        lambda a, b, c: {**c, **a, **b},
        st.fixed_dictionaries(fixed),
        st.fixed_dictionaries({}, optional=optional),
        more,
    )
