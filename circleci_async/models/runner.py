"""The self-hosted runner API (``runner.circleci.com/api/v3``)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

__all__ = ["ResourceClass", "Runner", "RunnerToken", "RunningTaskCount", "UnclaimedTaskCount"]


@attrs.frozen(kw_only=True)
class Runner:
    """A runner agent. The timestamps are optional in CircleCI's own CLI: a runner that never
    ran a task has no ``last_used``."""

    resource_class: str
    hostname: str
    name: str
    version: str
    first_connected: dt.datetime | None = None
    last_connected: dt.datetime | None = None
    last_used: dt.datetime | None = None
    ip: str | None = None
    status: str | None = None


@attrs.frozen(kw_only=True)
class UnclaimedTaskCount:
    """Tasks waiting for a runner of the resource class: the autoscaling signal."""

    unclaimed_task_count: int


@attrs.frozen(kw_only=True)
class RunningTaskCount:
    running_runner_tasks: int


@attrs.frozen(kw_only=True)
class ResourceClass:
    id: uuid.UUID
    resource_class: str
    description: str | None = None


@attrs.frozen(kw_only=True)
class RunnerToken:
    """A resource-class token. ``token`` (the secret) is present only in the answer to
    creating it."""

    id: uuid.UUID | None = None
    resource_class: str | None = None
    nickname: str | None = None
    created_at: dt.datetime | None = None
    token: str | None = None
