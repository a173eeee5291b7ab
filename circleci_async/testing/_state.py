"""The fake's CI data: users, organizations, projects, pipelines, workflows, jobs and their test
results, their JSON shapes, and pagination.

Records are compact (slotted, no nested dicts) so that tens of thousands of seeded pipelines stay
cheap; JSON is rendered from them on demand, matching the v2 OpenAPI schemas field for field.
Records made by seeding are fixed; those of triggered pipelines change as the simulation
(``_simulation.py``) moves them along, which is why they are mutable. Everything is
deterministic for a given seed and sequence of calls: ids come from a seeded RNG, seeded
timestamps from a fixed epoch.

Pages use keyset tokens (the position of the last item seen, plus a digest of which list and
filter it belongs to), so items added during a walk neither repeat nor shift the walk, as with
CircleCI's own cursors.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from ._plans import DEFAULT_PLAN, JobPlan, WorkflowPlan, check_plan

__all__ = ["SEED_EPOCH", "ApiError", "FakeState", "iso"]

SEED_EPOCH = 1767225600.0
"""2026-01-01T00:00:00Z: where :meth:`FakeState.seed_pipelines` starts its timeline by default."""

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

# vcs segment of a slug -> (provider name, repository host, vcs segment of app.circleci.com
# URLs, vcs type of an organization)
_VCS = {
    "gh": ("GitHub", "https://github.com", "github", "github"),
    "github": ("GitHub", "https://github.com", "github", "github"),
    "bb": ("Bitbucket", "https://bitbucket.org", "bitbucket", "bitbucket"),
    "bitbucket": ("Bitbucket", "https://bitbucket.org", "bitbucket", "bitbucket"),
    "circleci": ("CircleCI", "https://github.com", "circleci", "circleci"),
}

_JOB_SECONDS = 30.0
_WORKFLOW_SECONDS = 60.0
#: The most pipelines ``GET /pipeline`` returns, as documented.
ORG_PIPELINES_MAX = 250


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


def _posix(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


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


R = TypeVar("R", PipelineRec, WorkflowRec, JobRec, TestRec)


class _Listing(Generic[R]):
    """Records in creation order, with their sequence numbers alongside for bisecting."""

    __slots__ = ("keys", "records")

    def __init__(self, records: Iterable[R] = ()) -> None:
        self.records: list[R] = list(records)
        self.keys: list[int] = [record.seq for record in self.records]

    def append(self, record: R) -> None:
        self.records.append(record)
        self.keys.append(record.seq)

    def page(self, after: int | None, size: int, newest_first: bool) -> tuple[list[R], int | None]:
        """One page, and the key to continue after (None on the last page)."""
        keys = self.keys
        if newest_first:
            end = len(keys) if after is None else bisect_left(keys, after)
            start = max(0, end - size)
            return self.records[start:end][::-1], keys[start] if start > 0 else None
        begin = 0 if after is None else bisect_right(keys, after)
        stop = begin + size
        return self.records[begin:stop], keys[stop - 1] if stop < len(keys) else None


def _digest(list_id: str) -> str:
    return hashlib.blake2s(list_id.encode(), digest_size=6).hexdigest()


def encode_page_token(after: int, list_id: str) -> str:
    raw = f"{after}.{_digest(list_id)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_page_token(token: str, list_id: str) -> int:
    """The position a token continues after; ApiError 400 if it is not one of ours for this list."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        after, digest = raw.split(".")
        if not after.isdigit() or digest != _digest(list_id):
            raise ValueError(token)
        return int(after)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "Invalid page token.") from None


def _paginate(
    listing: _Listing[R], list_id: str, token: str | None, size: int, newest_first: bool
) -> dict[str, Any]:
    after = decode_page_token(token, list_id) if token else None
    items, next_after = listing.page(after, size, newest_first)
    return {
        "items": [item.to_json() for item in items],
        "next_page_token": None if next_after is None else encode_page_token(next_after, list_id),
    }


def page_of(
    items: Sequence[tuple[int, dict[str, Any]]], list_id: str, token: str | None, size: int
) -> dict[str, Any]:
    """A page of ``(seq, json)`` pairs in ascending ``seq`` order (for the admin stores)."""
    after = decode_page_token(token, list_id) if token else None
    keys = [seq for seq, _ in items]
    begin = 0 if after is None else bisect_right(keys, after)
    chunk = items[begin : begin + size]
    more = begin + size < len(items)
    return {
        "items": [item for _, item in chunk],
        "next_page_token": encode_page_token(chunk[-1][0], list_id) if more else None,
    }


K = TypeVar("K")
V = TypeVar("V")


def _known(records: Mapping[K, V], key: K, what: str) -> V:
    """A seeding lookup: a KeyError naming what is missing (routes answer 404 instead)."""
    try:
        return records[key]
    except KeyError:
        hint = ": add_project() it first" if what == "project" else ""
        raise KeyError(f"unknown {what} {key!r}{hint}") from None


def _split_slug(slug: str) -> tuple[str, str, str]:
    parts = slug.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"a project slug has three parts, vcs/org/repo: {slug!r}")
    return parts[0], parts[1], parts[2]


class FakeState:
    """Everything the fake serves. Every change bumps :attr:`version`, so caches can tell."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._rng = random.Random(seed)
        self.clock = clock
        self.version = 0
        self._seq = 0
        self.user = UserRec(self._uuid(), "fake-user", "Fake User", None)
        self.users: dict[str, UserRec] = {self.user.id: self.user}
        self.orgs: dict[str, OrgRec] = {}
        self.projects: dict[str, ProjectRec] = {}
        self._org_ids: dict[str, str] = {}
        self._pipelines: dict[str, _Listing[PipelineRec]] = {}
        self._pipelines_by_branch: dict[tuple[str, str], _Listing[PipelineRec]] = {}
        self._pipeline_numbers: dict[str, int] = {}
        self.pipelines: dict[str, PipelineRec] = {}
        self._workflows_of: dict[str, _Listing[WorkflowRec]] = {}
        self.workflows: dict[str, WorkflowRec] = {}
        self._jobs_of: dict[str, _Listing[JobRec]] = {}
        self._job_numbers: dict[str, int] = {}
        self.jobs: dict[tuple[str, int], JobRec] = {}
        self.jobs_by_id: dict[str, JobRec] = {}
        self.tests: dict[str, _Listing[TestRec]] = {}
        self.plans: dict[str, tuple[WorkflowPlan, ...]] = {}
        #: How long a triggered pipeline stays ``pending`` before its workflows exist.
        self.setup_seconds = 0.0
        #: Told about every pipeline started by a trigger (the simulation tracks them).
        self.on_pipeline_started: Callable[[PipelineRec], None] | None = None

    # ids -------------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def new_id(self) -> str:
        """A fresh deterministic UUID (for the other stores of the fake)."""
        return self._uuid()

    def random(self) -> random.Random:
        return self._rng

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def touch(self) -> None:
        """Record a change: cached answers are stale from now on."""
        self.version += 1
        self._pipelines_by_branch.clear()

    # seeding ---------------------------------------------------------------------------

    def add_org(self, slug: str, name: str, vcs_type: str, org_id: str | None = None) -> OrgRec:
        """Register an organization (projects register theirs on the way)."""
        known = self._org_ids.get(slug)
        if known is not None:
            return self.orgs[known]
        org = OrgRec(org_id or self._uuid(), name, slug, vcs_type)
        self.orgs[org.id] = org
        self._org_ids[slug] = org.id
        self.touch()
        return org

    def add_project(
        self,
        slug: str,
        *,
        name: str | None = None,
        default_branch: str = "main",
        vcs_url: str | None = None,
        organization_name: str | None = None,
    ) -> ProjectRec:
        vcs, org, repo = _split_slug(slug)
        if slug in self.projects:
            raise ValueError(f"project {slug!r} already exists")
        if vcs not in _VCS:
            raise ValueError(f"unknown vcs {vcs!r} in {slug!r}: use gh, bb or circleci")
        provider, host, web_vcs, vcs_type = _VCS[vcs]
        org_slug = f"{vcs}/{org}"
        org_rec = self.add_org(org_slug, organization_name or org, vcs_type)
        project = ProjectRec(
            slug=slug,
            id=self._uuid(),
            name=name if name is not None else repo,
            organization_name=organization_name if organization_name is not None else org,
            organization_slug=org_slug,
            organization_id=org_rec.id,
            provider=provider,
            vcs_url=vcs_url if vcs_url is not None else f"{host}/{org}/{repo}",
            default_branch=default_branch,
            web_vcs=web_vcs,
        )
        self.projects[slug] = project
        self._pipelines.setdefault(slug, _Listing())
        self._pipeline_numbers.setdefault(slug, 0)
        self._job_numbers.setdefault(slug, 0)
        self.touch()
        return project

    def project(self, slug: str) -> ProjectRec:
        return _known(self.projects, slug, "project")

    def set_plan(self, slug: str, workflows: Sequence[WorkflowPlan]) -> None:
        self.project(slug)
        self.plans[slug] = check_plan(workflows)

    def add_pipeline(
        self,
        slug: str,
        branch: str | None = None,
        state: str = "created",
        *,
        tag: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        created_at: float | datetime | None = None,
        trigger_type: str = "api",
        revision: str | None = None,
        subject: str | None = None,
        errors: Sequence[tuple[str, str]] = (),
    ) -> PipelineRec:
        project = self.project(slug)
        if branch is not None and tag is not None:
            raise ValueError("a pipeline has a branch or a tag, not both")
        _check(state, PIPELINE_STATES, "pipeline state")
        _check(trigger_type, TRIGGER_TYPES, "trigger type")
        for kind, _ in errors:
            _check(kind, PIPELINE_ERROR_TYPES, "pipeline error type")
        number = self._pipeline_numbers[slug] + 1
        self._pipeline_numbers[slug] = number
        pipeline = PipelineRec(
            seq=self.next_seq(),
            id=self._uuid(),
            number=number,
            project=project,
            state=state,
            created_at=self.clock() if created_at is None else _posix(created_at),
            branch=None if tag is not None else (branch or project.default_branch),
            tag=tag,
            revision=revision if revision is not None else f"{self._rng.getrandbits(160):040x}",
            subject=subject if subject is not None else f"Change {number}",
            trigger_type=trigger_type,
            actor=self.user,
            parameters=dict(parameters) if parameters is not None else None,
            errors=tuple((kind, message) for kind, message in errors),
        )
        self._pipelines[slug].append(pipeline)
        self.pipelines[pipeline.id] = pipeline
        self.touch()
        return pipeline

    def add_workflow(
        self,
        pipeline_id: str,
        name: str = "build",
        status: str = "success",
        *,
        created_at: float | datetime | None = None,
        tag: str | None = None,
        plan: WorkflowPlan | None = None,
    ) -> WorkflowRec:
        pipeline = _known(self.pipelines, pipeline_id, "pipeline")
        _check(status, WORKFLOW_STATUSES, "workflow status")
        if tag not in (None, "setup"):
            raise ValueError(f"workflow tag {tag!r} is not 'setup'")
        siblings = self._workflows_of.setdefault(pipeline_id, _Listing())
        created = (
            pipeline.created_at + 1.0 + len(siblings.records)
            if created_at is None
            else _posix(created_at)
        )
        workflow = WorkflowRec(
            seq=self.next_seq(),
            id=self._uuid(),
            name=name,
            pipeline=pipeline,
            status=status,
            created_at=created,
            started_by=self.user.id,
            tag=tag,
            stopped_at=None if status in WORKFLOW_UNFINISHED else created + _WORKFLOW_SECONDS,
            plan=plan,
        )
        siblings.append(workflow)
        self.workflows[workflow.id] = workflow
        self.touch()
        return workflow

    def add_job(
        self,
        workflow_id: str,
        name: str = "test",
        status: str = "success",
        type: str = "build",
        *,
        dependencies: Sequence[str] = (),
        started_at: float | datetime | None = None,
        parallelism: int = 1,
        resource_class: str = "medium",
        executor_type: str = "docker",
        plan: JobPlan | None = None,
    ) -> JobRec:
        """A job. Seeded jobs (no ``plan``) have every timestamp; planned jobs start blocked or
        queued, and the simulation fills the rest in."""
        workflow = _known(self.workflows, workflow_id, "workflow")
        _check(status, JOB_STATUSES, "job status")
        _check(type, JOB_TYPES, "job type")
        siblings = self._jobs_of.setdefault(workflow_id, _Listing())
        job_id = self._uuid()
        queued: float | None
        started: float | None
        stopped: float | None
        if plan is None:
            start = (
                workflow.created_at + 1.0 + len(siblings.records)
                if started_at is None
                else _posix(started_at)
            )
            created, queued, started = start - 1.0, start - 0.5, start
            stopped = None if status in JOB_UNFINISHED else start + _JOB_SECONDS
        else:
            created = workflow.created_at if started_at is None else _posix(started_at)
            queued = created if status == "queued" else None
            started = stopped = None
        job = JobRec(
            seq=self.next_seq(),
            id=job_id,
            name=name,
            number=None,
            type=type,
            status=status,
            workflow=workflow,
            created_at=created,
            queued_at=queued,
            started_at=started,
            stopped_at=stopped,
            dependencies=tuple(dependencies),
            approval_request_id=job_id if type == "approval" else None,
            parallelism=parallelism,
            resource_class=resource_class,
            executor_type=executor_type,
            plan=plan,
        )
        # Approval jobs have no number in CircleCI either; planned jobs get theirs when
        # they are queued, as CircleCI numbers jobs when they are about to run.
        if type == "build" and (plan is None or status == "queued"):
            self.number_job(job)
        siblings.append(job)
        self.jobs_by_id[job.id] = job
        self.touch()
        return job

    def number_job(self, job: JobRec) -> None:
        slug = job.slug
        number = self._job_numbers[slug] + 1
        self._job_numbers[slug] = number
        job.number = number
        self.jobs[slug, number] = job

    def add_tests(self, job: JobRec, results: Iterable[tuple[str, str, float, str | None]]) -> None:
        """Store test results ``(name, result, run_time, message)`` for a job."""
        listing = self.tests.setdefault(job.id, _Listing())
        classname = f"tests.{job.name}"
        for name, result, run_time, message in results:
            listing.append(
                TestRec(
                    seq=self.next_seq(),
                    name=name,
                    classname=classname,
                    file=f"tests/test_{job.name}.py",
                    result=result,
                    run_time=run_time,
                    message=message,
                )
            )
        self.touch()

    def jobs_of(self, workflow: WorkflowRec) -> list[JobRec]:
        listing = self._jobs_of.get(workflow.id)
        return [] if listing is None else listing.records

    def workflows_of(self, pipeline: PipelineRec) -> list[WorkflowRec]:
        listing = self._workflows_of.get(pipeline.id)
        return [] if listing is None else listing.records

    def pipelines_of(self, slug: str) -> list[PipelineRec]:
        listing = self._pipelines.get(slug)
        return [] if listing is None else listing.records

    def tests_of(self, job: JobRec) -> list[TestRec]:
        listing = self.tests.get(job.id)
        return [] if listing is None else listing.records

    def seed_pipelines(
        self,
        slug: str,
        count: int,
        branches: Sequence[str] = ("main", "dev"),
        *,
        state: str = "created",
        start: float | datetime = SEED_EPOCH,
        interval: float = 60.0,
        workflows_per_pipeline: int = 0,
        jobs_per_workflow: int = 0,
    ) -> None:
        """Bulk-add ``count`` pipelines, branches round-robin, one every ``interval`` seconds."""
        project = self.project(slug)
        _check(state, PIPELINE_STATES, "pipeline state")
        if count < 0:
            raise ValueError(f"cannot seed {count} pipelines")
        if not branches:
            raise ValueError("seed_pipelines needs at least one branch")
        listing = self._pipelines[slug]
        t0 = _posix(start)
        getrandbits = self._rng.getrandbits
        user = self.user
        first = self._pipeline_numbers[slug] + 1
        for index in range(count):
            number = first + index
            self._seq += 1
            pipeline = PipelineRec(
                seq=self._seq,
                id=str(uuid.UUID(int=getrandbits(128), version=4)),
                number=number,
                project=project,
                state=state,
                created_at=t0 + index * interval,
                branch=branches[index % len(branches)],
                tag=None,
                revision=f"{getrandbits(160):040x}",
                subject=f"Change {number}",
                trigger_type="webhook",
                actor=user,
                parameters=None,
                errors=(),
            )
            listing.append(pipeline)
            self.pipelines[pipeline.id] = pipeline
            for w in range(workflows_per_pipeline):
                workflow = self.add_workflow(pipeline.id, f"workflow-{w + 1}")
                for j in range(jobs_per_workflow):
                    self.add_job(workflow.id, f"job-{j + 1}")
        self._pipeline_numbers[slug] = first + count - 1
        self.touch()

    # lookups the routes use --------------------------------------------------------------

    def api_pipeline(self, pipeline_id: str) -> PipelineRec:
        try:
            return self.pipelines[pipeline_id]
        except KeyError:
            raise ApiError(404, "Pipeline not found") from None

    def api_workflow(self, workflow_id: str) -> WorkflowRec:
        try:
            return self.workflows[workflow_id]
        except KeyError:
            raise ApiError(404, "Workflow not found") from None

    def api_project(self, slug: str) -> ProjectRec:
        project = self.projects.get(slug)
        if project is None:
            raise ApiError(404, "Project not found")
        return project

    def api_project_by_id(self, project_id: str) -> ProjectRec:
        for project in self.projects.values():
            if project.id == project_id:
                return project
        raise ApiError(404, "Project not found")

    def api_job(self, slug: str, number: str) -> JobRec:
        self.api_project(slug)
        job = self.jobs.get((slug, int(number))) if number.isascii() and number.isdigit() else None
        if job is None:
            raise ApiError(404, "Job not found")
        return job

    def api_job_by_id(self, job_id: str) -> JobRec:
        job = self.jobs_by_id.get(job_id)
        if job is None:
            raise ApiError(404, "Job not found")
        return job

    def api_org(self, slug_or_id: str) -> OrgRec:
        org = self.orgs.get(slug_or_id)
        if org is None and slug_or_id in self._org_ids:
            org = self.orgs[self._org_ids[slug_or_id]]
        if org is None:
            raise ApiError(404, "Organization not found")
        return org

    def get_project(self, slug: str) -> dict[str, Any]:
        return self.api_project(slug).to_json()

    def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return self.api_pipeline(pipeline_id).to_json()

    def get_pipeline_by_number(self, slug: str, number: str) -> dict[str, Any]:
        self.api_project(slug)
        if number.isascii() and number.isdigit():
            for pipeline in reversed(self.pipelines_of(slug)):
                if pipeline.number == int(number):
                    return pipeline.to_json()
        raise ApiError(404, "Pipeline not found")

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        return self.api_workflow(workflow_id).to_json()

    def get_job_details(self, slug: str, number: str) -> dict[str, Any]:
        return self.api_job(slug, number).details_json()

    def get_user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(404, "User not found")
        return user.to_json()

    def collaborations(self) -> list[dict[str, Any]]:
        return [org.collaboration_json() for org in self.orgs.values()]

    def list_pipelines(
        self, slug: str, branch: str | None, token: str | None, size: int
    ) -> dict[str, Any]:
        self.api_project(slug)
        listing = self._pipelines[slug]
        if branch is not None:
            key = (slug, branch)
            if key not in self._pipelines_by_branch:
                self._pipelines_by_branch[key] = _Listing(
                    p for p in listing.records if p.branch == branch
                )
            listing = self._pipelines_by_branch[key]
        list_id = f"pipelines|{slug}|{'' if branch is None else branch}"
        return _paginate(listing, list_id, token, size, newest_first=True)

    def list_my_pipelines(self, slug: str, token: str | None, size: int) -> dict[str, Any]:
        """Every pipeline of the fake is triggered by its one user."""
        self.api_project(slug)
        listing = _Listing(p for p in self._pipelines[slug].records if p.actor is self.user)
        return _paginate(listing, f"mine|{slug}", token, size, newest_first=True)

    def list_org_pipelines(
        self, org_slug: str | None, mine: bool, token: str | None, size: int
    ) -> dict[str, Any]:
        """``GET /pipeline``: the most recent pipelines of an organization's projects (all
        organizations when none is given), newest first, at most 250."""
        if org_slug is not None:
            self.api_org(org_slug)
        chosen = [
            p
            for slug, project in self.projects.items()
            if org_slug is None or project.organization_slug == org_slug
            for p in self.pipelines_of(slug)
            if not mine or p.actor is self.user
        ]
        chosen.sort(key=lambda p: p.seq)
        listing = _Listing(chosen[-ORG_PIPELINES_MAX:])
        return _paginate(listing, f"org|{org_slug}|{mine}", token, size, newest_first=True)

    def list_workflows(self, pipeline_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.api_pipeline(pipeline_id)
        listing = self._workflows_of.get(pipeline_id, _Listing[WorkflowRec]())
        return _paginate(listing, f"workflows|{pipeline_id}", token, size, newest_first=False)

    def list_jobs(self, workflow_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.api_workflow(workflow_id)
        listing = self._jobs_of.get(workflow_id, _Listing[JobRec]())
        return _paginate(listing, f"jobs|{workflow_id}", token, size, newest_first=False)

    def list_tests(self, slug: str, number: str, token: str | None, size: int) -> dict[str, Any]:
        job = self.api_job(slug, number)
        listing = self.tests.get(job.id, _Listing[TestRec]())
        return _paginate(listing, f"tests|{job.id}", token, size, newest_first=False)

    def pipeline_config(self, pipeline_id: str) -> dict[str, Any]:
        pipeline = self.api_pipeline(pipeline_id)
        plan = pipeline.plan if pipeline.plan is not None else self._plan_of_seeded(pipeline)
        source = render_config(plan)
        return {"source": source, "compiled": source}

    def pipeline_values(self, pipeline_id: str) -> dict[str, Any]:
        """The pipeline values CircleCI documents, for this pipeline."""
        pipeline = self.api_pipeline(pipeline_id)
        values: dict[str, Any] = {
            "pipeline.id": pipeline.id,
            "pipeline.number": pipeline.number,
            "pipeline.project.git_url": pipeline.project.vcs_url,
            "pipeline.project.type": pipeline.project.provider.lower(),
            "pipeline.git.revision": pipeline.revision,
            "pipeline.trigger_source": pipeline.trigger_type,
        }
        if pipeline.tag is not None:
            values["pipeline.git.tag"] = pipeline.tag
        else:
            values["pipeline.git.branch"] = pipeline.branch
        return values

    def _plan_of_seeded(self, pipeline: PipelineRec) -> tuple[WorkflowPlan, ...]:
        return tuple(
            WorkflowPlan(w.name, tuple(JobPlan(j.name) for j in self.jobs_of(w)))
            for w in self.workflows_of(pipeline)
        )

    # projects --------------------------------------------------------------------------

    def create_project(self, org_slug_or_id: str, name: str) -> ProjectRec:
        """``POST /organization/{org}/project``: a project named ``name`` in the org."""
        org = self.api_org(org_slug_or_id)
        if not name or "/" in name:
            raise ApiError(400, "Invalid project name.")
        slug = f"{org.slug}/{name}"
        if slug in self.projects:
            raise ApiError(409, "Project already exists.")
        return self.add_project(slug, organization_name=org.name)

    def delete_project(self, slug: str) -> None:
        self.api_project(slug)
        del self.projects[slug]
        self.touch()

    # triggering ------------------------------------------------------------------------

    def trigger(self, slug: str, body: Any) -> dict[str, Any]:
        """``POST /project/{slug}/pipeline``: validate like CircleCI, then start a pipeline."""
        self.api_project(slug)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        branch, tag, parameters = body.get("branch"), body.get("tag"), body.get("parameters")
        if branch is not None and tag is not None:
            raise ApiError(400, "Cannot specify both branch and tag.")
        for field, value in (("branch", branch), ("tag", tag)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ApiError(400, f"Field {field} must be a non-empty string.")
        if parameters is not None:
            check_parameters(parameters)
        return self.start_pipeline(slug, branch, tag, parameters).creation_json()

    def start_pipeline(
        self,
        slug: str,
        branch: str | None,
        tag: str | None,
        parameters: Mapping[str, Any] | None,
        trigger_type: str = "api",
    ) -> PipelineRec:
        """A pipeline that will run the project's plan: ``pending`` until set up."""
        pipeline = self.add_pipeline(
            slug, branch, "pending", tag=tag, parameters=parameters, trigger_type=trigger_type
        )
        pipeline.plan = self.plans.get(slug, DEFAULT_PLAN)
        if self.on_pipeline_started is not None:
            self.on_pipeline_started(pipeline)
        return pipeline


def check_parameters(parameters: Any) -> None:
    """CircleCI's documented limits on pipeline parameters, as 400s."""
    if not isinstance(parameters, dict):
        raise ApiError(400, "Field parameters must be an object.")
    if len(parameters) > 100:
        raise ApiError(400, "Too many pipeline parameters (at most 100).")
    for key, value in parameters.items():
        if len(key) > 128:
            raise ApiError(400, "Pipeline parameter names are at most 128 characters.")
        if not isinstance(value, (str, int)):  # bool is an int
            raise ApiError(400, f"Pipeline parameter {key!r} must be a string, integer or boolean.")
        if isinstance(value, str) and len(value) > 512:
            raise ApiError(400, "Pipeline parameter values are at most 512 characters.")


def render_config(plan: Sequence[WorkflowPlan]) -> str:
    """A CircleCI config (YAML text) that would run ``plan``."""
    jobs: dict[str, JobPlan] = {}
    for workflow in plan:
        for job in workflow.jobs:
            if job.type == "build":
                jobs.setdefault(job.name, job)
    lines = ["version: 2.1", "jobs:"]
    for name, job in jobs.items():
        lines += [
            f"  {name}:",
            "    docker:",
            "      - image: cimg/base:current",
            f"    resource_class: {job.resource_class}",
            f"    parallelism: {job.parallelism}",
            "    steps:",
            "      - checkout",
            f"      - run: sleep {job.seconds:g}",
        ]
    lines.append("workflows:")
    for workflow in plan:
        lines += [f"  {workflow.name}:", "    jobs:"]
        for job in workflow.jobs:
            extra = []
            if job.type == "approval":
                extra.append("type: approval")
            if job.requires:
                extra.append(f"requires: [{', '.join(job.requires)}]")
            if extra:
                lines.append(f"      - {job.name}:")
                lines += [f"          {item}" for item in extra]
            else:
                lines.append(f"      - {job.name}")
    return "\n".join(lines) + "\n"
