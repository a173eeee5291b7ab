"""Contexts, their environment variables and restrictions (``shared/notes/api-v3.md`` §2.4),
and an organization's groups (§2.1), which context restrictions name."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ...models import OpenEnum
from ._core import Ref

__all__ = [
    "Context",
    "ContextAttributes",
    "ContextEnvVar",
    "ContextEnvVarAttributes",
    "ContextEnvVarReferences",
    "ContextReferences",
    "ContextRestriction",
    "ContextRestrictionAttributes",
    "ContextRestrictionReferences",
    "Group",
    "GroupAttributes",
    "RestrictionType",
]


class RestrictionType(OpenEnum):
    PROJECT = "project"
    GROUP = "group"
    EXPRESSION = "expression"


@attrs.frozen(kw_only=True)
class ContextAttributes:
    name: str | None = None
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ContextReferences:
    """Only ``GET /contexts/{id}`` carries the org; the list has no references."""

    org: Ref | None = None


@attrs.frozen(kw_only=True)
class Context:
    id: uuid.UUID
    attributes: ContextAttributes = attrs.Factory(ContextAttributes)
    references: ContextReferences = attrs.Factory(ContextReferences)


@attrs.frozen(kw_only=True)
class ContextEnvVarAttributes:
    name: str | None = None
    #: The value's first characters, masked: values are never read back.
    truncated_value: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ContextEnvVarReferences:
    context: Ref | None = None


@attrs.frozen(kw_only=True)
class ContextEnvVar:
    """Entries have no id: a variable is known by its name within its context."""

    id: str | None = None
    attributes: ContextEnvVarAttributes = attrs.Factory(ContextEnvVarAttributes)
    references: ContextEnvVarReferences = attrs.Factory(ContextEnvVarReferences)


@attrs.frozen(kw_only=True)
class ContextRestrictionAttributes:
    restriction_type: RestrictionType | None = None
    #: A project id, a group id, or an expression, per ``restriction_type``.
    match_pattern: str | None = None
    #: Best effort: the project's or group's name.
    name: str | None = None


@attrs.frozen(kw_only=True)
class ContextRestrictionReferences:
    context: Ref | None = None


@attrs.frozen(kw_only=True)
class ContextRestriction:
    """A restriction id is unique only within its context."""

    id: str | None = None
    attributes: ContextRestrictionAttributes = attrs.Factory(ContextRestrictionAttributes)
    references: ContextRestrictionReferences = attrs.Factory(ContextRestrictionReferences)


@attrs.frozen(kw_only=True)
class GroupAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class Group:
    id: uuid.UUID
    attributes: GroupAttributes = attrs.Factory(GroupAttributes)
