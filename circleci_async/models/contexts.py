"""Contexts: shared environment variables, and the restrictions on who may use them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import cattrs

from ._base import OpenEnum
from ._converter import register_structure_hook
from .common import MessageResponse

__all__ = [
    "Context",
    "ContextEnvironmentVariable",
    "ContextRestriction",
    "OwnerType",
    "RestrictionType",
]


class OwnerType(OpenEnum):
    ACCOUNT = "account"
    ORGANIZATION = "organization"


class RestrictionType(OpenEnum):
    PROJECT = "project"
    EXPRESSION = "expression"
    GROUP = "group"


@attrs.frozen(kw_only=True)
class Context:
    id: uuid.UUID
    name: str
    created_at: dt.datetime


@attrs.frozen(kw_only=True)
class ContextEnvironmentVariable:
    """A variable in a context: its name and dates, never its value."""

    variable: str
    context_id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime


@attrs.frozen(kw_only=True)
class ContextRestriction:
    """A project, expression or group restriction. The spec marks every field optional."""

    id: uuid.UUID | None = None
    context_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    name: str | None = None
    restriction_type: RestrictionType | None = None
    restriction_value: str | None = None


def _variable_or_message(
    conv: cattrs.Converter,
) -> Callable[[Any, Any], ContextEnvironmentVariable | MessageResponse]:
    """``addEnvironmentVariableToContext`` answers either shape; the variable has ``variable``."""

    def structure_answer(data: Any, _: Any) -> ContextEnvironmentVariable | MessageResponse:
        if isinstance(data, dict) and "variable" in data:
            variable: ContextEnvironmentVariable = conv.structure(data, ContextEnvironmentVariable)
            return variable
        message: MessageResponse = conv.structure(data, MessageResponse)
        return message

    return structure_answer


register_structure_hook(ContextEnvironmentVariable | MessageResponse, _variable_or_message)
