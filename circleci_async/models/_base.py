"""Building blocks the model modules share: open enums, the ``UNSET`` marker, JSON key metadata.

Kept apart from the converter so that model modules depend on these small pieces only, and the
converter on nothing that defines a model.
"""

from __future__ import annotations

import enum
from typing import Any, Final, Literal

__all__ = ["UNSET", "OpenEnum", "Unset", "key", "nullable_key"]

#: attrs field metadata naming the JSON key when it is not the attribute name.
JSON_KEY: Final = "json"
#: attrs field metadata: send an explicit ``None`` as JSON ``null`` (the spec allows null there).
NULLABLE: Final = "nullable"


def key(name: str) -> dict[str, Any]:
    """Field metadata for a JSON key that is not a Python name (``created-at``, ``vcs-type``)."""
    return {JSON_KEY: name}


def nullable_key(name: str | None = None) -> dict[str, Any]:
    """Field metadata for a request field where ``None`` means "send null" (clear the value)."""
    return {NULLABLE: True} if name is None else {NULLABLE: True, JSON_KEY: name}


class OpenEnum(str, enum.Enum):
    """A string enum that also holds values it does not define.

    CircleCI adds states over time; a client built against today's list must keep working
    when a new ``status`` arrives, so an unknown value becomes a member-like instance of the
    enum (equal to its string, ``known`` false) instead of an error.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """False for a value this version of the library does not define."""
        return type(self)._value2member_map_.get(self._value_) is self

    def __str__(self) -> str:
        return str(self._value_)


class _UnsetType(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: "Not given": a request field left at ``UNSET`` is not sent at all.
UNSET: Final = _UnsetType.UNSET
Unset = Literal[_UnsetType.UNSET]
