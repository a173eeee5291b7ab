"""Shapes shared by several parts of the API."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Label", "MessageResponse", "ParameterValue", "TriggerParameterValue"]

#: A pipeline parameter or pipeline value: the API allows strings, integers and booleans.
ParameterValue = str | int | bool
#: A value of a pipeline's ``trigger_parameters``: a parameter, or an object (the trigger's
#: own data, such as a webhook's payload fields).
TriggerParameterValue = str | int | bool | dict[str, Any]


@attrs.frozen(kw_only=True)
class MessageResponse:
    """The ``{"message": ...}`` answer of actions that return nothing else (cancel, delete)."""

    message: str | None = None


@attrs.frozen(kw_only=True)
class Label:
    """A key/value label on a deploy environment or component."""

    key: str | None = None
    value: str | None = None
