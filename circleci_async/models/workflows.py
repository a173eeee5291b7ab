"""Workflows and the jobs listed in them."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum

__all__ = [
    "Job",
    "JobStatus",
    "JobType",
    "RerunWorkflowResult",
    "Workflow",
    "WorkflowStatus",
    "WorkflowTag",
]


class WorkflowStatus(OpenEnum):
    SUCCESS = "success"
    RUNNING = "running"
    NOT_RUN = "not_run"
    FAILED = "failed"
    ERROR = "error"
    FAILING = "failing"
    ON_HOLD = "on_hold"
    CANCELED = "canceled"
    UNAUTHORIZED = "unauthorized"

    @property
    def terminal(self) -> bool:
        """True once the workflow will not change any more. A status this library does not
        know is not terminal: waiting on stays safe, stopping early would not be."""
        return self._value_ in _WORKFLOW_TERMINAL


_WORKFLOW_TERMINAL = frozenset(
    {"success", "not_run", "failed", "error", "canceled", "unauthorized"}
)


class WorkflowTag(OpenEnum):
    SETUP = "setup"


@attrs.frozen(kw_only=True)
class Workflow:
    id: uuid.UUID
    name: str
    pipeline_id: uuid.UUID
    pipeline_number: int
    project_slug: str
    status: WorkflowStatus
    started_by: uuid.UUID
    created_at: dt.datetime
    stopped_at: dt.datetime | None = None
    canceled_by: uuid.UUID | None = None
    errored_by: uuid.UUID | None = None
    tag: WorkflowTag | None = None
    auto_rerun_number: int | None = None
    max_auto_reruns: int | None = None


class JobStatus(OpenEnum):
    SUCCESS = "success"
    RUNNING = "running"
    NOT_RUN = "not_run"
    FAILED = "failed"
    RETRIED = "retried"
    QUEUED = "queued"
    NOT_RUNNING = "not_running"
    INFRASTRUCTURE_FAIL = "infrastructure_fail"
    TIMEDOUT = "timedout"
    ON_HOLD = "on_hold"
    TERMINATED_UNKNOWN = "terminated-unknown"
    BLOCKED = "blocked"
    CANCELED = "canceled"
    UNAUTHORIZED = "unauthorized"

    @property
    def terminal(self) -> bool:
        """True once the job will not change any more (unknown statuses are not terminal)."""
        return self._value_ in _JOB_TERMINAL


_JOB_TERMINAL = frozenset(
    {
        "success",
        "not_run",
        "failed",
        "retried",
        "infrastructure_fail",
        "timedout",
        "terminated-unknown",
        "canceled",
        "unauthorized",
    }
)


class JobType(OpenEnum):
    BUILD = "build"
    APPROVAL = "approval"


@attrs.frozen(kw_only=True)
class Job:
    """A job as listed in its workflow. Approval jobs have no ``job_number``; jobs that have
    not started have no ``started_at`` (the spec says otherwise, CircleCI sends null)."""

    id: uuid.UUID
    name: str
    project_slug: str
    status: JobStatus
    type: JobType
    dependencies: list[uuid.UUID] = attrs.field(factory=list)
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    job_number: int | None = None
    canceled_by: uuid.UUID | None = None
    approved_by: uuid.UUID | None = None
    approval_request_id: uuid.UUID | None = None
    #: Job id -> the statuses of that job which satisfy this one's dependency on it.
    requires: dict[str, list[str]] | None = None


@attrs.frozen(kw_only=True)
class RerunWorkflowResult:
    """The id of the new workflow a rerun started."""

    workflow_id: uuid.UUID
