"""Outbound webhooks. Their JSON mixes dashed and plain keys (``verify-tls``, ``url``)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum, key

__all__ = ["Webhook", "WebhookEvent", "WebhookScope"]


class WebhookEvent(OpenEnum):
    WORKFLOW_COMPLETED = "workflow-completed"
    JOB_COMPLETED = "job-completed"


@attrs.frozen(kw_only=True)
class WebhookScope:
    """What the webhook watches: today always a project (``type`` ``project``)."""

    id: uuid.UUID
    type: str


@attrs.frozen(kw_only=True)
class Webhook:
    id: uuid.UUID
    name: str
    url: str
    events: list[WebhookEvent]
    scope: WebhookScope
    verify_tls: bool = attrs.field(metadata=key("verify-tls"))
    #: Masked by CircleCI in answers.
    signing_secret: str = attrs.field(metadata=key("signing-secret"))
    created_at: dt.datetime = attrs.field(metadata=key("created-at"))
    updated_at: dt.datetime = attrs.field(metadata=key("updated-at"))
