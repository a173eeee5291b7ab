"""Pipeline definitions and their triggers (GitHub App and Bitbucket Data Center projects)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum

__all__ = [
    "CheckoutSource",
    "ConfigSource",
    "PipelineDefinition",
    "RepoRef",
    "Trigger",
    "TriggerEventPreset",
    "TriggerEventSource",
    "TriggerWebhook",
]


@attrs.frozen(kw_only=True)
class RepoRef:
    """A repository: ``external_id`` is the provider's id for it (a GitHub repository id)."""

    external_id: str | None = None
    full_name: str | None = None


@attrs.frozen(kw_only=True)
class ConfigSource:
    """Where the config file comes from (``provider`` ``github_app`` or ``circleci``)."""

    provider: str | None = None
    repo: RepoRef | None = None
    file_path: str | None = None


@attrs.frozen(kw_only=True)
class CheckoutSource:
    """Which repository the jobs check out."""

    provider: str | None = None
    repo: RepoRef | None = None


@attrs.frozen(kw_only=True)
class PipelineDefinition:
    """A named pipeline of a project: a config source plus a checkout source. The spec marks
    every field optional."""

    id: uuid.UUID | None = None
    name: str | None = None
    description: str | None = None
    created_at: dt.datetime | None = None
    config_source: ConfigSource | None = None
    checkout_source: CheckoutSource | None = None


class TriggerEventPreset(OpenEnum):
    """Which repository events start a pipeline."""

    ALL_PUSHES = "all-pushes"
    ONLY_TAGS = "only-tags"
    DEFAULT_BRANCH_PUSHES = "default-branch-pushes"
    ONLY_BUILD_PRS = "only-build-prs"
    ONLY_OPEN_PRS = "only-open-prs"
    ONLY_LABELED_PRS = "only-labeled-prs"
    ONLY_MERGED_PRS = "only-merged-prs"
    ONLY_READY_FOR_REVIEW_PRS = "only-ready-for-review-prs"
    ONLY_BRANCH_DELETE = "only-branch-delete"
    ONLY_BUILD_PUSHES_TO_NON_DRAFT_PRS = "only-build-pushes-to-non-draft-prs"
    ONLY_MERGED_OR_CLOSED_PRS = "only-merged-or-closed-prs"


@attrs.frozen(kw_only=True)
class TriggerWebhook:
    url: str | None = None
    sender: str | None = None


@attrs.frozen(kw_only=True)
class TriggerEventSource:
    provider: str | None = None
    repo: RepoRef | None = None
    webhook: TriggerWebhook | None = None


@attrs.frozen(kw_only=True)
class Trigger:
    """What starts a pipeline definition: repository events or an inbound webhook."""

    id: uuid.UUID | None = None
    event_name: str | None = None
    created_at: dt.datetime | None = None
    event_source: TriggerEventSource | None = None
    event_preset: TriggerEventPreset | None = None
    checkout_ref: str | None = None
    config_ref: str | None = None
    disabled: bool | None = None
