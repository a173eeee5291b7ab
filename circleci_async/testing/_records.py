"""What the fake stores: the records of users, organizations, projects, pipelines, workflows,
jobs and test results, their JSON shapes, and the vocabulary (statuses, states) they use.

Records are compact (slotted, no nested dicts) so that tens of thousands of seeded pipelines stay
cheap; JSON is rendered from them on demand, matching the v2 OpenAPI schemas field for field.
Records made by seeding are fixed; those of triggered pipelines change as the simulation
(``_simulation.py``) moves them along, which is why they are mutable. :class:`ApiError` lives
here because every layer above (stores, queries, the admin stores) answers with it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from ._plans import JobPlan, WorkflowPlan

__all__ = [
    "JOB_STATUSES",
    "JOB_TYPES",
    "JOB_UNFINISHED",
    "PIPELINE_ERROR_TYPES",
    "PIPELINE_STATES",
    "TRIGGER_TYPES",
    "WORKFLOW_STATUSES",
    "WORKFLOW_UNFINISHED",
    "ApiError",
    "JobRec",
    "OrgRec",
    "PipelineRec",
    "ProjectRec",
    "TestRec",
    "UserRec",
    "WorkflowRec",
    "iso",
]

PIPELINE_STATES = ("created", "errored", "setup-pending", "setup", "pending")
PIPELINE_ERROR_TYPES = (
    "config",
    "invalid-trigger-setup",
    "config-fetch",
    "timeout",
    "permission",
    "other",
    "trigger-rule",
    "plan",
)
TRIGGER_TYPES = ("scheduled_pipeline", "explicit", "api", "webhook")
WORKFLOW_STATUSES = (
    "success",
    "running",
    "not_run",
    "failed",
    "error",
    "failing",
    "on_hold",
    "canceled",
    "unauthorized",
)
JOB_STATUSES = (
    "success",
    "running",
    "not_run",
    "failed",
    "retried",
    "queued",
    "not_running",
    "infrastructure_fail",
    "timedout",
    "on_hold",
    "terminated-unknown",
    "blocked",
    "canceled",
    "unauthorized",
)
JOB_TYPES = ("build", "approval")
WORKFLOW_UNFINISHED = frozenset({"running", "failing", "on_hold"})
JOB_UNFINISHED = frozenset({"running", "queued", "not_running", "on_hold", "blocked"})


class ApiError(Exception):
    """An answer other than 2xx. ``key`` is the body's field: ``message`` for most of the API,
    ``error`` for the Policy and OIDC endpoints."""

    def __init__(self, status: int, message: str, key: str = "message") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key


def iso(t: float) -> str:
    """RFC 3339 in UTC with milliseconds, as CircleCI writes it: 2026-01-01T00:00:00.000Z."""
    seconds, millis = divmod(round(t * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


@attrs.frozen
class OrgRec:
    id: str
    name: str
    slug: str
    vcs_type: str

    def collaboration_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "vcs-type": self.vcs_type,
            "name": self.name,
            "avatar_url": f"https://avatars.example/{self.name}.png",
            "slug": self.slug,
        }


@attrs.frozen
class ProjectRec:
    slug: str
    id: str
    name: str
    organization_name: str
    organization_slug: str
    organization_id: str
    provider: str
    vcs_url: str
    default_branch: str
    web_vcs: str

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "id": self.id,
            "organization_name": self.organization_name,
            "organization_slug": self.organization_slug,
            "organization_id": self.organization_id,
            "vcs_info": {
                "vcs_url": self.vcs_url,
                "provider": self.provider,
                "default_branch": self.default_branch,
            },
        }


@attrs.frozen
class UserRec:
    id: str
    login: str
    name: str
    avatar_url: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "avatar_url": self.avatar_url,
        }


@attrs.define(eq=False)
class PipelineRec:
    seq: int
    id: str
    number: int
    project: ProjectRec
    state: str
    created_at: float
    branch: str | None
    tag: str | None
    revision: str
    subject: str
    trigger_type: str
    actor: UserRec
    parameters: Mapping[str, Any] | None
    errors: tuple[tuple[str, str], ...]
    updated_at: float | None = None
    #: What a triggered pipeline runs; ``None`` for seeded ones, which never change.
    plan: tuple[WorkflowPlan, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        created = iso(self.created_at)
        vcs: dict[str, Any] = {
            "provider_name": self.project.provider,
            "origin_repository_url": self.project.vcs_url,
            "target_repository_url": self.project.vcs_url,
            "revision": self.revision,
            "commit": {"subject": self.subject, "body": ""},
        }
        if self.tag is not None:
            vcs["tag"] = self.tag
        else:
            vcs["branch"] = self.branch
        out: dict[str, Any] = {
            "id": self.id,
            "errors": [{"type": kind, "message": message} for kind, message in self.errors],
            "project_slug": self.project.slug,
            "updated_at": created if self.updated_at is None else iso(self.updated_at),
            "number": self.number,
            "state": self.state,
            "created_at": created,
            "trigger": {
                "type": self.trigger_type,
                "received_at": created,
                "actor": {"login": self.actor.login, "avatar_url": self.actor.avatar_url},
            },
            "vcs": vcs,
        }
        if self.parameters is not None:
            out["trigger_parameters"] = dict(self.parameters)
        return out

    def creation_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "number": self.number,
            "created_at": iso(self.created_at),
        }


@attrs.define(eq=False)
class WorkflowRec:
    seq: int
    id: str
    name: str
    pipeline: PipelineRec
    status: str
    created_at: float
    started_by: str
    tag: str | None
    stopped_at: float | None = None
    canceled_by: str | None = None
    plan: WorkflowPlan | None = None

    def to_json(self) -> dict[str, Any]:
        stopped = self.stopped_at
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "pipeline_id": self.pipeline.id,
            "pipeline_number": self.pipeline.number,
            "project_slug": self.pipeline.project.slug,
            "status": self.status,
            "started_by": self.started_by,
            "created_at": iso(self.created_at),
            "stopped_at": None if stopped is None else iso(stopped),
        }
        if self.tag is not None:
            out["tag"] = self.tag
        if self.canceled_by is not None:
            out["canceled_by"] = self.canceled_by
        return out


@attrs.define(eq=False)
class JobRec:
    seq: int
    id: str
    name: str
    number: int | None
    type: str
    status: str
    workflow: WorkflowRec
    created_at: float
    queued_at: float | None
    started_at: float | None
    stopped_at: float | None
    dependencies: tuple[str, ...]
    approval_request_id: str | None
    parallelism: int
    resource_class: str
    executor_type: str
    plan: JobPlan | None = None
    approved_by: str | None = None
    canceled_by: str | None = None

    @property
    def slug(self) -> str:
        return self.workflow.pipeline.project.slug

    def to_json(self) -> dict[str, Any]:
        """The workflow-job list item. The spec requires ``started_at``; a job that has not
        started reports when it was created (CircleCI itself sends null there)."""
        stopped = self.stopped_at
        started = self.started_at if self.started_at is not None else self.created_at
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "project_slug": self.slug,
            "status": self.status,
            "type": self.type,
            "started_at": iso(started),
            "stopped_at": None if stopped is None else iso(stopped),
            "dependencies": list(self.dependencies),
        }
        if self.number is not None:
            out["job_number"] = self.number
        if self.approval_request_id is not None:
            out["approval_request_id"] = self.approval_request_id
        if self.approved_by is not None:
            out["approved_by"] = self.approved_by
        if self.canceled_by is not None:
            out["canceled_by"] = self.canceled_by
        if self.plan is not None and self.dependencies:
            out["requires"] = {dependency: ["success"] for dependency in self.dependencies}
        return out

    def details_json(self) -> dict[str, Any]:
        """``GET /project/{slug}/job/{number}``."""
        workflow = self.workflow
        pipeline = workflow.pipeline
        project = pipeline.project
        stopped = self.stopped_at
        queued = self.queued_at if self.queued_at is not None else self.created_at
        started = self.started_at if self.started_at is not None else queued
        duration = None
        if stopped is not None and self.started_at is not None:
            duration = round((stopped - self.started_at) * 1000)
        return {
            "number": self.number,
            "name": self.name,
            "status": self.status,
            "created_at": iso(self.created_at),
            "queued_at": iso(queued),
            "started_at": iso(started),
            "stopped_at": None if stopped is None else iso(stopped),
            "duration": duration,
            "parallelism": self.parallelism,
            "parallel_runs": [
                {"index": index, "status": self.status} for index in range(self.parallelism)
            ],
            "executor": {"resource_class": self.resource_class, "type": self.executor_type},
            "project": {
                "id": project.id,
                "slug": project.slug,
                "name": project.name,
                "external_url": project.vcs_url,
            },
            "organization": {"name": project.organization_name},
            "contexts": [],
            "messages": [],
            "latest_workflow": {"id": workflow.id, "name": workflow.name},
            "pipeline": {"id": pipeline.id},
            "web_url": (
                f"https://app.circleci.com/pipelines/{project.web_vcs}/"
                f"{project.slug.split('/', 1)[1]}/{pipeline.number}/workflows/{workflow.id}"
                f"/jobs/{self.number}"
            ),
        }


@attrs.frozen
class TestRec:
    """One stored test result of a job."""

    __test__ = False  # not a pytest test class

    seq: int
    name: str
    classname: str
    file: str
    result: str
    run_time: float
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "source": "junit",
            "run_time": self.run_time,
            "file": self.file,
            "result": self.result,
            "name": self.name,
            "classname": self.classname,
        }
