"""Generated structure functions for the library's attrs models: the converter's fast path.

A paginated walk converts every item it yields (20 per page, often 5 or 6 nested objects
each), so this is where a typed walk spends its CPU. cattrs' own generated functions route
each field through a hook call; the functions made here inline the common field types
(``str``, ``int``, ``float``, ``bool``, their optionals, datetimes, UUIDs, open enums, nested
models and lists of them) and build frozen instances directly (the models have no
validators, converters or post-init hooks, which :func:`make_structure_fn` checks), which
roughly halves the cost per item. Anything else goes through the converter's hook for it.

These functions raise plain exceptions (``KeyError`` for a missing field, ``ValueError``,
``TypeError``); turning a failure into a precise message is the diagnostic converter's job.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ._base import JSON_KEY, OpenEnum

__all__ = ["make_structure_fn"]

_NONE_TYPE = type(None)
_SCALARS = (str, int, float, bool)
_MISSING = object()

HookFor = Callable[[Any], Callable[[Any, Any], Any]]


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if (origin is typing.Union or origin is types.UnionType) and _NONE_TYPE in tp.__args__:
        rest = [arg for arg in tp.__args__ if arg is not _NONE_TYPE]
        if len(rest) == 1:
            return rest[0], True
    return tp, False


def _plain(cls: type) -> bool:
    """Whether instances may be built without ``__init__`` (nothing would run in it but
    attribute assignment)."""
    if getattr(cls, "__attrs_post_init__", None) or getattr(cls, "__attrs_pre_init__", None):
        return False
    return all(
        f.init and f.validator is None and f.converter is None and f.alias == f.name.lstrip("_")
        for f in attrs.fields(cls)
    )


def make_structure_fn(
    cls: type,
    hook_for: HookFor,
    parse_datetime: Callable[[Any], dt.datetime],
    parse_uuid: Callable[[Any], uuid.UUID],
) -> Callable[..., Any]:
    """A function ``(data, _type=None) -> cls`` for the attrs class ``cls``.

    ``hook_for(type)`` gives the converter's structure hook for a field type the generated
    code does not handle itself (nested models included, so their own fast functions are
    used).
    """
    hints = typing.get_type_hints(cls)
    ns: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_dt": parse_datetime,
        "_uuid": parse_uuid,
        "_MISSING": _MISSING,
    }
    for scalar in _SCALARS:
        ns[scalar.__name__] = scalar
    body: list[str] = []
    assigned: list[tuple[str, str]] = []
    for index, field in enumerate(attrs.fields(cls)):
        name = f"v{index}"
        key = field.metadata.get(JSON_KEY, field.name)
        tp, optional = _unwrap_optional(hints[field.name])
        default = field.default
        if default is attrs.NOTHING:
            body.append(f"    {name} = o[{key!r}]")
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            ns[f"_f{index}"] = default.factory
            body.append(f"    {name} = o.get({key!r}, _MISSING)")
            body.append(f"    if {name} is _MISSING:")
            body.append(f"        {name} = _f{index}()")
        elif default is None:
            body.append(f"    {name} = o.get({key!r})")
        else:
            ns[f"_d{index}"] = default
            body.append(f"    {name} = o.get({key!r}, _d{index})")
        expression = _conversion(tp, name, index, ns, hook_for)
        if expression != name:
            if optional or default is None:
                body.append(f"    if {name} is not None:")
                body.append(f"        {name} = {expression}")
            else:
                body.append(f"    {name} = {expression}")
        assigned.append((field.name, name))
    if _plain(cls):
        body.append("    r = _new(_cls)")
        body += [f"    _set(r, {attr!r}, {name})" for attr, name in assigned]
        body.append("    return r")
    else:
        body.append("    return _cls(" + ", ".join(f"{a}={n}" for a, n in assigned) + ")")
    function_name = f"structure_{cls.__name__}"
    source = f"def {function_name}(o, _=None):\n" + "\n".join(body) + "\n"
    code = compile(source, f"<circleci_async fast structure {cls.__qualname__}>", "exec")
    exec(code, ns)  # noqa: S102 - source built above from field names and types only
    fn: Callable[..., Any] = ns[function_name]
    return fn


def _conversion(tp: Any, name: str, index: int, ns: dict[str, Any], hook_for: HookFor) -> str:
    """The expression that turns the JSON value in ``name`` into a ``tp``."""
    if tp in _SCALARS:
        # Exact-type fast check, else what cattrs does (``str(value)``, ``int(value)``...).
        return f"{name} if {name}.__class__ is {tp.__name__} else {tp.__name__}({name})"
    if tp is Any:
        return name
    if tp is dt.datetime:
        return f"_dt({name})"
    if tp is uuid.UUID:
        return f"_uuid({name})"
    if isinstance(tp, type) and issubclass(tp, OpenEnum):
        ns[f"_m{index}"] = tp._value2member_map_
        ns[f"_e{index}"] = tp
        return f"(_m{index}.get({name}) if {name}.__class__ is str else None) or _e{index}({name})"
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        if attrs.has(item):
            ns[f"_h{index}"] = hook_for(item)
            ns[f"_t{index}"] = item
            return f"[_h{index}(e, _t{index}) for e in {name}]"
    ns[f"_h{index}"] = hook_for(tp)
    ns[f"_t{index}"] = tp
    return f"_h{index}({name}, _t{index})"
