"""Pipelines (v3's name for v2's *pipeline definitions*), their triggers, and compiled config
(``shared/notes/api-v3.md`` §2.3). Providers seen: ``github_app``, ``github_server``,
``github_oauth``, ``origin``, ``webhook``, ``schedule`` and ``circleci`` (hosted config); a
``repo_id`` is the provider's own id, kept as a string."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ...models import OpenEnum
from ._core import Ref

__all__ = [
    "CompileMessage",
    "CompiledConfig",
    "CompiledConfigAttributes",
    "ConfigSourceType",
    "PipelineCheckout",
    "PipelineConfig",
    "PipelineDefinition",
    "PipelineDefinitionAttributes",
    "PipelineDefinitionReferences",
    "PipelineHosted",
    "PipelineVcs",
    "Trigger",
    "TriggerAttributes",
    "TriggerEvent",
    "TriggerEventType",
    "TriggerFilter",
    "TriggerRef",
    "TriggerReferences",
    "TriggerSchedule",
    "TriggerWebhook",
]


class ConfigSourceType(OpenEnum):
    VCS = "vcs"
    HOSTED = "hosted"


class TriggerEventType(OpenEnum):
    VCS = "vcs"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"


@attrs.frozen(kw_only=True)
class PipelineVcs:
    provider: str | None = None
    repo_id: str | None = None
    repo_full_name: str | None = None


@attrs.frozen(kw_only=True)
class PipelineHosted:
    provider: str | None = None


@attrs.frozen(kw_only=True)
class PipelineConfig:
    type: ConfigSourceType | None = None
    file_path: str | None = None
    vcs: PipelineVcs | None = None
    hosted: PipelineHosted | None = None


@attrs.frozen(kw_only=True)
class PipelineCheckout:
    type: str | None = None
    vcs: PipelineVcs | None = None


@attrs.frozen(kw_only=True)
class PipelineDefinitionAttributes:
    name: str | None = None
    description: str | None = None
    created_at: dt.datetime | None = None
    config: PipelineConfig | None = None
    checkout: PipelineCheckout | None = None


@attrs.frozen(kw_only=True)
class PipelineDefinitionReferences:
    project: Ref | None = None


@attrs.frozen(kw_only=True)
class PipelineDefinition:
    """``GET /pipelines``, ``POST /pipelines``: what v2 calls a pipeline definition."""

    id: uuid.UUID
    attributes: PipelineDefinitionAttributes = attrs.Factory(PipelineDefinitionAttributes)
    references: PipelineDefinitionReferences = attrs.Factory(PipelineDefinitionReferences)


@attrs.frozen(kw_only=True)
class TriggerWebhook:
    name: str | None = None
    source: str | None = None


@attrs.frozen(kw_only=True)
class TriggerSchedule:
    """The notes list ``name`` and ``cron_expression`` "and more": the rest is unknown."""

    name: str | None = None
    cron_expression: str | None = None


@attrs.frozen(kw_only=True)
class TriggerFilter:
    preset: str | None = None


@attrs.frozen(kw_only=True)
class TriggerEvent:
    type: TriggerEventType | None = None
    vcs: PipelineVcs | None = None
    webhook: TriggerWebhook | None = None
    schedule: TriggerSchedule | None = None
    filter: TriggerFilter | None = None


@attrs.frozen(kw_only=True)
class TriggerRef:
    ref: str | None = None


@attrs.frozen(kw_only=True)
class TriggerAttributes:
    is_disabled: bool | None = None
    created_at: dt.datetime | None = None
    event: TriggerEvent | None = None
    config: TriggerRef | None = None
    checkout: TriggerRef | None = None


@attrs.frozen(kw_only=True)
class TriggerReferences:
    project: Ref | None = None
    pipeline: Ref | None = None


@attrs.frozen(kw_only=True)
class Trigger:
    id: uuid.UUID
    attributes: TriggerAttributes = attrs.Factory(TriggerAttributes)
    references: TriggerReferences = attrs.Factory(TriggerReferences)


@attrs.frozen(kw_only=True)
class CompiledConfigAttributes:
    phase: str | None = None
    #: ``succeeded`` or ``failed``; a failure's reasons are :attr:`CompiledConfig.messages`.
    outcome: str | None = None
    compiled_config: str | None = None


@attrs.frozen(kw_only=True)
class CompileMessage:
    title: str | None = None


@attrs.frozen(kw_only=True)
class CompiledConfig:
    """``POST /configs/compile``: always a 200; ``attributes.outcome`` says whether it compiled
    and ``messages`` (the answer's top-level ``meta.messages``) why not."""

    id: str | None = None
    attributes: CompiledConfigAttributes = attrs.Factory(CompiledConfigAttributes)
    messages: list[CompileMessage] = attrs.Factory(list)

    @property
    def succeeded(self) -> bool:
        return self.attributes.outcome == "succeeded"
