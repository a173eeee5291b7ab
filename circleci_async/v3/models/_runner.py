"""The v3-style runner surface (``shared/notes/api-v3.md`` §2.10; known only from third-party
code, "being actively reshaped") and credit charges (§2.9, experimental)."""

from __future__ import annotations

import attrs

from ._core import Ref

__all__ = [
    "Charge",
    "ChargeAttributes",
    "ChargeReferences",
    "RunnerAgent",
    "RunnerAgentAttributes",
    "RunnerAgentReferences",
    "RunnerResourceClass",
    "RunnerResourceClassAttributes",
    "RunnerResourceClassReferences",
    "RunnerToken",
    "RunnerTokenAttributes",
    "RunnerTokenReferences",
]


@attrs.frozen(kw_only=True)
class RunnerResourceClassAttributes:
    resource_class: str | None = None
    description: str | None = None


@attrs.frozen(kw_only=True)
class RunnerResourceClassReferences:
    org: Ref | None = None


@attrs.frozen(kw_only=True)
class RunnerResourceClass:
    id: str | None = None
    attributes: RunnerResourceClassAttributes = attrs.Factory(RunnerResourceClassAttributes)
    references: RunnerResourceClassReferences = attrs.Factory(RunnerResourceClassReferences)


@attrs.frozen(kw_only=True)
class RunnerAgentAttributes:
    """[inferred] the notes give no agent fields; these are v2's names for the same facts."""

    name: str | None = None
    hostname: str | None = None
    version: str | None = None
    ip: str | None = None


@attrs.frozen(kw_only=True)
class RunnerAgentReferences:
    resource_class: Ref | None = None


@attrs.frozen(kw_only=True)
class RunnerAgent:
    id: str | None = None
    attributes: RunnerAgentAttributes = attrs.Factory(RunnerAgentAttributes)
    references: RunnerAgentReferences = attrs.Factory(RunnerAgentReferences)


@attrs.frozen(kw_only=True)
class RunnerTokenAttributes:
    nickname: str | None = None
    #: Shown only once, in the create answer.
    token: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class RunnerTokenReferences:
    resource_class: Ref | None = None


@attrs.frozen(kw_only=True)
class RunnerToken:
    id: str | None = None
    attributes: RunnerTokenAttributes = attrs.Factory(RunnerTokenAttributes)
    references: RunnerTokenReferences = attrs.Factory(RunnerTokenReferences)


@attrs.frozen(kw_only=True)
class ChargeAttributes:
    name: str | None = None
    credits: int | None = None
    runs: int | None = None
    credits_per_run: float | None = None


@attrs.frozen(kw_only=True)
class ChargeReferences:
    project: Ref | None = None


@attrs.frozen(kw_only=True)
class Charge:
    """One row of ``POST /analysis/charges``: a job, workflow or pipeline's credits."""

    id: str | None = None
    attributes: ChargeAttributes = attrs.Factory(ChargeAttributes)
    references: ChargeReferences = attrs.Factory(ChargeReferences)
