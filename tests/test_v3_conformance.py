"""The v3 models against the notes' field tables, kept as data in
``tests/fixtures/v3_routes.json`` (each route's ``response``: the model that reads it and the
attributes and references ``shared/notes/api-v3.md`` §2 documents for it).

Conformance: every documented field is declared by its model under its wire name. Hypothesis:
answers generated over the documented fields (plus the model's other fields, optionally), with
nulls wherever a field is optional, unknown members at every level and enum values this library
has never seen, all parse, and what was sent is what is read."""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circleci_async.models._base import JSON_KEY
from circleci_async.v3 import models
from circleci_async.v3._envelope import entity

TABLE = Path(__file__).parent / "fixtures" / "v3_routes.json"
ROUTES = json.loads(TABLE.read_text())["routes"]
DOCUMENTED = [route for route in ROUTES if "response" in route]
MODELS = sorted({route["response"]["model"] for route in DOCUMENTED})
#: One route per distinct documented answer (many routes share a model and its fields).
DISTINCT = list({json.dumps(r["response"], sort_keys=True): r for r in DOCUMENTED}.values())


def _wire(cls: type) -> dict[str, attrs.Attribute[Any]]:
    """An attrs class's fields by wire name."""
    return {f.metadata.get(JSON_KEY, f.name): f for f in attrs.fields(cls)}


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _strip(tp: Any) -> tuple[Any, bool]:
    """(the type without ``None``, whether ``None`` was allowed)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True  # noqa: UP007
    return tp, False


def _member_type(model: type, member: str) -> type | None:
    """The attrs class of ``model.attributes`` or ``model.references`` (None if it has none)."""
    hints = _hints(model)
    if member not in hints:
        return None
    inner, _ = _strip(hints[member])
    return inner if attrs.has(inner) else None


# -- conformance --------------------------------------------------------------------------------


def test_the_table_documents_a_model_for_every_route_with_an_answer() -> None:
    assert len(DOCUMENTED) >= 60
    for name in MODELS:
        assert attrs.has(getattr(models, name)), name


@pytest.mark.parametrize("route", DOCUMENTED, ids=lambda r: f"{r['method']} {r['path']}")
def test_each_model_declares_the_documented_fields(route: dict[str, Any]) -> None:
    response = route["response"]
    model = getattr(models, response["model"])
    assert "id" in _wire(model), model
    for member in ("attributes", "references"):
        documented = response[member]
        if not documented:
            continue
        cls = _member_type(model, member)
        assert cls is not None, f"{model.__name__} has no typed {member}"
        missing = set(documented) - set(_wire(cls))
        assert not missing, f"{model.__name__}.{member} lacks {sorted(missing)}"


# -- generated answers ------------------------------------------------------------------------

_KEY = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_SCALAR = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)
_JSONISH = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_KEY, inner, max_size=2),
    max_leaves=4,
)
_MOMENT = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1))


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _value(tp: Any) -> st.SearchStrategy[Any]:
    """Wire values for a field of type ``tp`` (null too, where it is optional)."""
    inner, optional = _strip(tp)
    strategy = _plain(inner)
    return st.none() | strategy if optional else strategy


def _plain(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return st.lists(_value(item), max_size=3)
    if origin is dict:
        _, item = typing.get_args(tp)
        return st.dictionaries(_KEY, _value(item), max_size=3)
    if tp is Any:
        return _JSONISH
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**40), 2**40)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False, width=32) | st.integers(0, 99)
    if tp is str:
        return st.text(max_size=12)
    if tp is uuid.UUID:
        return st.uuids().map(str)
    if tp is dt.datetime:
        return _MOMENT.map(_iso)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        known = st.sampled_from([member.value for member in tp])
        return known | st.text(alphabet="xyz_", min_size=1, max_size=8)  # new values too
    if attrs.has(tp):
        return _object(tp, required=())
    raise AssertionError(f"no strategy for {tp!r}")


def _object(cls: type, required: typing.Iterable[str]) -> st.SearchStrategy[dict[str, Any]]:
    """An object for ``cls``: the ``required`` wire names always present, the others maybe,
    plus unknown members the model must ignore."""
    hints = _hints(cls)
    fields = {wire: _value(hints[f.name]) for wire, f in _wire(cls).items()}
    must = {name: fields[name] for name in required}
    maybe = {name: s for name, s in fields.items() if name not in must}
    known = st.fixed_dictionaries(must, optional=maybe)
    extra = st.dictionaries(_KEY.filter(lambda k: k not in fields), _JSONISH, max_size=3)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


def _answer(route: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    response = route["response"]
    model = getattr(models, response["model"])
    hints = _hints(model)
    top: dict[str, st.SearchStrategy[Any]] = {"id": _value(hints["id"])}
    for member in ("attributes", "references"):
        cls = _member_type(model, member)
        if cls is not None:
            # The documented fields always sent (null where optional); a member itself may
            # also be null or missing, which reads as empty.
            top[member] = (
                st.none() | _object(cls, response[member])
                if not response[member]
                else _object(cls, response[member])
            )
    extra = st.dictionaries(_KEY.filter(lambda k: k not in top), _JSONISH, max_size=2)
    return st.tuples(st.fixed_dictionaries(top), extra).map(
        lambda pair: {"data": {**pair[1], **pair[0]}, "meta": {"anything": True}}
    )


def _check(sent: Any, read: Any, tp: Any) -> None:
    """What was sent is what was read, for scalars (enums as their string, new values kept)."""
    inner, _ = _strip(tp)
    if sent is None or attrs.has(inner) or typing.get_origin(inner) in (list, dict):
        return
    if inner is uuid.UUID or (isinstance(inner, type) and issubclass(inner, enum.Enum)):
        assert str(read) == sent
    elif inner in (str, bool, int):
        assert read == sent


@pytest.mark.parametrize("route", DISTINCT, ids=lambda r: f"{r['method']} {r['path']}")
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_generated_answers_with_extras_and_nulls_parse(
    route: dict[str, Any], data: st.DataObject
) -> None:
    answer = data.draw(_answer(route))
    model = getattr(models, route["response"]["model"])
    parsed = entity(answer, model, what=route["path"])
    item = answer["data"]
    _check(item["id"], parsed.id, _hints(model)["id"])
    for member in ("attributes", "references"):
        cls = _member_type(model, member)
        sent = item.get(member)
        if cls is None or not isinstance(sent, dict):
            continue
        read = getattr(parsed, member)
        hints = _hints(cls)
        for wire, f in _wire(cls).items():
            if wire in sent:
                _check(sent[wire], getattr(read, f.name), hints[f.name])


NESTED = [route for route in DOCUMENTED if route["response"].get("nested")]


@pytest.mark.parametrize("route", NESTED, ids=lambda r: f"{r['method']} {r['path']}")
def test_each_model_declares_the_documented_nested_fields(route: dict[str, Any]) -> None:
    """Dotted wire paths (``attributes.config.vcs.repo_id``) through objects and lists."""
    model = getattr(models, route["response"]["model"])
    for path in route["response"]["nested"]:
        cls: Any = model
        for part in path.split("."):
            assert attrs.has(cls), f"{path}: {cls!r} is not an object"
            fields = _wire(cls)
            assert part in fields, f"{model.__name__}: {path} ({part!r} missing)"
            tp, _ = _strip(_hints(cls)[fields[part].name])
            while typing.get_origin(tp) is list:
                (tp,) = typing.get_args(tp)
                tp, _ = _strip(tp)
            cls = tp
