"""Generated structure functions for the library's attrs models: the converter's fast path.

A paginated walk converts every item it yields (20 per page, often 5 or 6 nested objects
each), so this is where a typed walk spends its CPU. cattrs' own generated functions route
each field through a hook call; the functions made here inline the common field types
(``str``, ``int``, ``float``, ``bool``, their optionals, datetimes through ``fromisoformat``,
UUIDs, open enums, lists of models) and write nested models into their parent's function
rather than calling one function per nested object. Instances are built directly (the models
have no validators, converters or post-init hooks, which :func:`_plain` checks), through a
*builder* (:func:`builder_for`): a plain attribute store per field, then one ``__class__``
assignment, rather than a method-wrapper call per field. Anything else goes through the
converter's hook for it, and so does a nested model that has a hook of its own.

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

__all__ = ["UUID_BUILDER", "builder_for", "make_structure_fn"]

_NONE_TYPE = type(None)
_SCALARS = (str, int, float, bool)


def _to_str(value: Any) -> str:
    """A JSON scalar as text: numbers are tolerated (``1`` -> ``"1"``); null, booleans and
    containers are not (``str(None)`` would turn a missing artifact path into ``"None"``)."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise TypeError(f"expected an integer, got {_json_type(value)}")
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise TypeError(f"expected a number, got {_json_type(value)}")
    return float(value)


def _to_bool(value: Any) -> bool:
    """Only JSON booleans: ``bool("false")`` is ``True`` and ``bool(None)`` is ``False``."""
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", dict: "an object", list: "an array"}.get(
        type(value), type(value).__name__
    )


#: The conversion of each scalar type when the JSON value is not already of that type; shared
#: by the generated functions and the converter's own hooks, so both paths agree.
SCALAR_HOOKS: dict[type, Callable[[Any], Any]] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
}
_MISSING = object()


def builder_for(cls: type) -> type | None:
    """A subclass of ``cls`` that adds no slots and undoes its ``__init__``, ``__setattr__``
    and ``__delattr__``; ``None`` when CPython would not let one stand in for ``cls``.

    Why: a frozen model (or a UUID) refuses attribute stores, so its slots are otherwise
    filled by calling each slot's setter, a method-wrapper call that packs a tuple every time.
    On a builder object each field is a plain store, which the interpreter specialises to a
    direct slot write, and one ``obj.__class__ = cls`` then makes it exactly the object
    ``cls(...)`` would have built (CPython allows the assignment because the layouts are the
    same). Callers assign ``__class__`` right after the last store, so no builder escapes.
    """
    new: Any = cls.__new__
    if new is not object.__new__:  # a builder is made without calling anything of cls
        return None
    try:
        builder = type(
            f"{cls.__name__}Builder",
            (cls,),
            {
                "__slots__": (),
                "__init__": object.__init__,
                "__setattr__": object.__setattr__,
                "__delattr__": object.__delattr__,
                "__module__": __name__,
                "__doc__": f"Builds {cls.__qualname__} objects (see builder_for).",
            },
        )
        probe = builder()
        probe.__class__ = cls
    except TypeError:
        return None
    return builder


#: Builds ``uuid.UUID`` objects: set ``int`` and ``is_safe``, then assign ``__class__``.
UUID_BUILDER = builder_for(uuid.UUID)

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


#: How deep nested models are written into their parent's function (deeper ones are called).
_INLINE_DEPTH = 3
#: Set on each generated function: the model it builds (so a parent can inline it instead).
_BUILDS = "__circleci_async_builds__"


def make_structure_fn(
    cls: type,
    hook_for: HookFor,
    parse_datetime: Callable[[Any], dt.datetime],
    parse_uuid: Callable[[Any], uuid.UUID],
) -> Callable[..., Any]:
    """A function ``(data, _type=None) -> cls`` for the attrs class ``cls``.

    ``hook_for(type)`` gives the converter's structure hook for a field type the generated
    code does not handle itself. A nested model whose hook is one of these generated functions
    is written inline (no call per nested object); one with a hook of its own is called.
    """
    ns: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_dt": parse_datetime,
        "_uuid": parse_uuid,
        "_int": int,
        "_UUID": uuid.UUID,
        "_UUIDB": UUID_BUILDER,
        "_UNKNOWN": uuid.SafeUUID.unknown,
        "_fromiso": dt.datetime.fromisoformat,
        "_UTC": dt.timezone.utc,
        "_MISSING": _MISSING,
    }
    for scalar in _SCALARS:
        ns[scalar.__name__] = scalar
        ns[f"_to_{scalar.__name__}"] = SCALAR_HOOKS[scalar]
    body = _model_lines(cls, "o", "r", "v", ns, hook_for, depth=0)
    function_name = f"structure_{cls.__name__}"
    source = f"def {function_name}(o, _=None):\n" + "\n".join(body) + "\n    return r\n"
    code = compile(source, f"<circleci_async fast structure {cls.__qualname__}>", "exec")
    exec(code, ns)  # noqa: S102 - source built above from field names and types only
    fn: Callable[..., Any] = ns[function_name]
    setattr(fn, _BUILDS, cls)
    return fn


def _model_lines(
    cls: type, source: str, out: str, prefix: str, ns: dict[str, Any], hook: HookFor, depth: int
) -> list[str]:
    """Statements that read the dict in ``source`` and leave the ``cls`` instance in ``out``.
    Local names start with ``prefix``, namespace names with ``_`` + ``prefix``."""
    hints = typing.get_type_hints(cls)
    ns[f"_c{prefix}"] = cls
    body: list[str] = []
    assigned: list[tuple[str, str]] = []
    for index, field in enumerate(attrs.fields(cls)):
        name = f"{prefix}{index}"
        key = field.metadata.get(JSON_KEY, field.name)
        tp, optional = _unwrap_optional(hints[field.name])
        default = field.default
        if default is attrs.NOTHING:
            body.append(f"    {name} = {source}[{key!r}]")
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            ns[f"_f{name}"] = default.factory
            body.append(f"    {name} = {source}.get({key!r}, _MISSING)")
            body.append(f"    if {name} is _MISSING:")
            body.append(f"        {name} = _f{name}()")
        elif default is None:
            body.append(f"    {name} = {source}.get({key!r})")
        else:
            ns[f"_d{name}"] = default
            body.append(f"    {name} = {source}.get({key!r}, _d{name})")
        nullable = optional or default is None
        if depth < _INLINE_DEPTH and _generated(tp, hook):
            nested = _model_lines(tp, name, name, f"{name}_", ns, hook, depth + 1)
            body += _unless_none(name, nested) if nullable else nested
        else:
            body += _conversion_lines(tp, name, ns, hook, nullable)
        assigned.append((field.name, name))
    builder = _slotted_builder(cls) if _plain(cls) else None
    if builder is not None:
        ns[f"_b{prefix}"] = builder
        body.append(f"    {out} = _b{prefix}()")
        body += [f"    {out}.{attr} = {name}" for attr, name in assigned]
        body.append(f"    {out}.__class__ = _c{prefix}")
    elif _plain(cls):
        body.append(f"    {out} = _new(_c{prefix})")
        for attr, name in assigned:
            setter = _slot_setter(cls, attr)
            if setter is None:
                body.append(f"    _set({out}, {attr!r}, {name})")
            else:
                ns[f"_s{name}"] = setter
                body.append(f"    _s{name}({out}, {name})")
    else:
        arguments = ", ".join(f"{attr}={name}" for attr, name in assigned)
        body.append(f"    {out} = _c{prefix}({arguments})")
    return body


def _generated(tp: Any, hook: HookFor) -> bool:
    """Whether ``tp`` is a model the converter builds with one of these functions (rather than
    a hook registered for it), so its code may be written into its parent's."""
    return isinstance(tp, type) and attrs.has(tp) and getattr(hook(tp), _BUILDS, None) is tp


def _slotted_builder(cls: type) -> type | None:
    """:func:`builder_for` ``cls`` when every field is a slot (else the setters are used)."""
    if any(_slot_setter(cls, field.name) is None for field in attrs.fields(cls)):
        return None
    return builder_for(cls)


def _slot_setter(cls: type, attr: str) -> Callable[[Any, Any], None] | None:
    """The setter of ``attr``'s slot (cheaper than ``object.__setattr__``, which looks the
    name up on every call); ``None`` when the attribute is not a slot."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(attr)
        if descriptor is not None:
            if isinstance(descriptor, types.MemberDescriptorType):
                setter: Callable[[Any, Any], None] = descriptor.__set__
                return setter
            return None
    return None


def _conversion_lines(
    tp: Any, name: str, ns: dict[str, Any], hook_for: HookFor, nullable: bool
) -> list[str]:
    """Statements that turn the JSON value in ``name`` into a ``tp`` in place (leaving a
    ``None`` alone when ``nullable``)."""
    if tp in _SCALARS:
        # Exact-type fast check, else the strict scalar conversion (``SCALAR_HOOKS``).
        guard = f" and {name} is not None" if nullable else ""
        return [
            f"    if {name}.__class__ is not {tp.__name__}{guard}:",
            f"        {name} = _to_{tp.__name__}({name})",
        ]
    if tp is Any:
        return []
    if tp is dt.datetime:
        # ``fromisoformat`` inline: it reads CircleCI's timestamps; anything it refuses (or a
        # non-string) takes the full parser, which also raises the clear error.
        lines = [
            "    try:",
            f"        {name} = _fromiso({name})",
            "    except (TypeError, ValueError):",
            f"        {name} = _dt({name})",
            f"    if {name}.tzinfo is None:",
            f"        {name} = {name}.replace(tzinfo=_UTC)",
        ]
        return _unless_none(name, lines) if nullable else lines
    if tp is uuid.UUID and UUID_BUILDER is not None:
        lines = _uuid_lines(name)
        return _unless_none(name, lines) if nullable else lines
    expression = _conversion(tp, name, ns, hook_for)
    if nullable:
        return [f"    if {name} is not None:", f"        {name} = {expression}"]
    return [f"    {name} = {expression}"]


def _uuid_lines(name: str) -> list[str]:
    """The converter's ``parse_uuid`` written inline (ids are in every item): 32 characters
    without the dashes that ``int(..., 16)`` reads are the number ``uuid.UUID`` would read;
    anything else is the hook's to parse or refuse."""
    digits = f"{name}_h"
    return [
        f"    {digits} = {name}.replace('-', '') if {name}.__class__ is str else ''",
        f"    if len({digits}) == 32:",
        "        try:",
        f"            {digits} = _int({digits}, 16)",
        "        except ValueError:",
        f"            {name} = _uuid({name})",
        "        else:",
        f"            {name} = _UUIDB()",
        f"            {name}.int = {digits}",
        f"            {name}.is_safe = _UNKNOWN",
        f"            {name}.__class__ = _UUID",
        "    else:",
        f"        {name} = _uuid({name})",
    ]


def _unless_none(name: str, lines: list[str]) -> list[str]:
    return [f"    if {name} is not None:", *("    " + line for line in lines)]


def _conversion(tp: Any, name: str, ns: dict[str, Any], hook_for: HookFor) -> str:
    """The expression that turns the JSON value in ``name`` into a ``tp``."""
    if tp is uuid.UUID:  # only when no UUID builder could be made
        return f"_uuid({name})"
    if isinstance(tp, type) and issubclass(tp, OpenEnum):
        ns[f"_m{name}"] = tp._value2member_map_
        ns[f"_e{name}"] = tp
        return f"(_m{name}.get({name}) if {name}.__class__ is str else None) or _e{name}({name})"
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        if attrs.has(item):
            ns[f"_h{name}"] = hook_for(item)
            ns[f"_t{name}"] = item
            # An empty list (the usual ``errors``) skips the comprehension.
            return (
                f"[_h{name}(e, _t{name}) for e in {name}] "
                f"if {name} or {name}.__class__ is not list else []"
            )
    ns[f"_h{name}"] = hook_for(tp)
    ns[f"_t{name}"] = tp
    return f"_h{name}({name}, _t{name})"
