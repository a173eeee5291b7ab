"""Pipelines: the ``Pipeline`` tag's answers (listing, triggering, config, values)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum, key
from .common import TriggerParameterValue

__all__ = [
    "Actor",
    "Commit",
    "Pipeline",
    "PipelineConfig",
    "PipelineCreation",
    "PipelineError",
    "PipelineErrorType",
    "PipelineNotTriggered",
    "PipelineRun",
    "PipelineState",
    "PipelineVcs",
    "TriggerInfo",
    "TriggerType",
]


class PipelineState(OpenEnum):
    """Where a pipeline is in its setup; ``created`` and ``errored`` are final."""

    CREATED = "created"
    ERRORED = "errored"
    SETUP_PENDING = "setup-pending"
    SETUP = "setup"
    PENDING = "pending"


class PipelineErrorType(OpenEnum):
    CONFIG = "config"
    INVALID_TRIGGER_SETUP = "invalid-trigger-setup"
    CONFIG_FETCH = "config-fetch"
    TIMEOUT = "timeout"
    PERMISSION = "permission"
    OTHER = "other"
    TRIGGER_RULE = "trigger-rule"
    PLAN = "plan"


class TriggerType(OpenEnum):
    SCHEDULED_PIPELINE = "scheduled_pipeline"
    EXPLICIT = "explicit"
    API = "api"
    WEBHOOK = "webhook"


@attrs.frozen(kw_only=True)
class PipelineError:
    """Why a pipeline could not run (bad config, missing permission, ...)."""

    type: PipelineErrorType
    message: str


@attrs.frozen(kw_only=True)
class Actor:
    """Who triggered a pipeline."""

    login: str
    avatar_url: str | None = None


@attrs.frozen(kw_only=True)
class TriggerInfo:
    type: TriggerType
    received_at: dt.datetime
    actor: Actor


@attrs.frozen(kw_only=True)
class Commit:
    subject: str | None = None
    body: str | None = None


@attrs.frozen(kw_only=True)
class PipelineVcs:
    """The commit a pipeline ran on: a ``branch`` or a ``tag``, rarely neither."""

    provider_name: str
    target_repository_url: str
    origin_repository_url: str
    revision: str | None = None
    branch: str | None = None
    tag: str | None = None
    review_id: str | None = None
    review_url: str | None = None
    commit: Commit | None = None


@attrs.frozen(kw_only=True)
class Pipeline:
    """One pipeline. ``state`` is about setup only: whether it passed lives in its workflows."""

    id: uuid.UUID
    number: int
    project_slug: str
    state: PipelineState
    created_at: dt.datetime
    trigger: TriggerInfo
    errors: list[PipelineError] = attrs.field(factory=list)
    updated_at: dt.datetime | None = None
    trigger_parameters: dict[str, TriggerParameterValue] | None = None
    vcs: PipelineVcs | None = None


@attrs.frozen(kw_only=True)
class PipelineCreation:
    """The answer to triggering a pipeline (``triggerPipeline``)."""

    id: uuid.UUID
    state: PipelineState
    number: int
    created_at: dt.datetime


@attrs.frozen(kw_only=True)
class PipelineRun:
    """A pipeline started by the pipeline-run endpoint (``triggerPipelineRun``, 201).

    The spec marks every field optional here, so each may be ``None``.
    """

    id: uuid.UUID | None = None
    number: int | None = None
    state: PipelineState | None = None
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class PipelineNotTriggered:
    """The pipeline-run endpoint's 200: the request was fine but no pipeline started
    (for example "Ignoring pipeline due to CI skip in the commit")."""

    message: str | None = None


@attrs.frozen(kw_only=True)
class PipelineConfig:
    """The configuration a pipeline ran with: as written, and compiled."""

    source: str
    compiled: str
    setup_config: str | None = attrs.field(default=None, metadata=key("setup-config"))
    compiled_setup_config: str | None = attrs.field(
        default=None, metadata=key("compiled-setup-config")
    )
