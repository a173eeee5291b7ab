"""Building the fake's data: organizations, projects, pipelines, workflows, jobs and test
results, one at a time (``FakeCircleCI.add_*``, the simulation) or in bulk for tests, benchmarks
and the demo (:meth:`Seeding.seed_pipelines`).

Seeding checks what it is given against the API's vocabulary and raises ``ValueError`` or
``KeyError`` (a test's mistake, not an HTTP answer). Everything is deterministic for a given
seed and sequence of calls: ids come from the stores' seeded RNG, seeded timestamps from a fixed
epoch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ._plans import JobPlan, WorkflowPlan, check_plan
from ._records import (
    JOB_STATUSES,
    JOB_TYPES,
    JOB_UNFINISHED,
    PIPELINE_ERROR_TYPES,
    PIPELINE_STATES,
    TRIGGER_TYPES,
    WORKFLOW_STATUSES,
    WORKFLOW_UNFINISHED,
    JobRec,
    OrgRec,
    PipelineRec,
    ProjectRec,
    TestRec,
    WorkflowRec,
)
from ._stores import Stores

__all__ = ["SEED_EPOCH", "Seeding"]

SEED_EPOCH = 1767225600.0
"""2026-01-01T00:00:00Z: where :meth:`Seeding.seed_pipelines` starts its timeline by default."""

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

K = TypeVar("K")
V = TypeVar("V")


def _posix(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


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


class Seeding(Stores):
    """The stores, plus the ways to fill them."""

    def add_org(self, slug: str, name: str, vcs_type: str, org_id: str | None = None) -> OrgRec:
        """Register an organization (projects register theirs on the way)."""
        known = self.org_with_slug(slug)
        if known is not None:
            return known
        org = OrgRec(org_id or self.new_id(), name, slug, vcs_type)
        self.insert_org(org)
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
            id=self.new_id(),
            name=name if name is not None else repo,
            organization_name=organization_name if organization_name is not None else org,
            organization_slug=org_slug,
            organization_id=org_rec.id,
            provider=provider,
            vcs_url=vcs_url if vcs_url is not None else f"{host}/{org}/{repo}",
            default_branch=default_branch,
            web_vcs=web_vcs,
        )
        self.insert_project(project)
        self.touch()
        return project

    def project(self, slug: str) -> ProjectRec:
        """A project for seeding: a KeyError saying to add it first when it is unknown."""
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
        number = self.take_pipeline_numbers(slug)
        pipeline = PipelineRec(
            seq=self.next_seq(),
            id=self.new_id(),
            number=number,
            project=project,
            state=state,
            created_at=self.clock() if created_at is None else _posix(created_at),
            branch=None if tag is not None else (branch or project.default_branch),
            tag=tag,
            revision=revision if revision is not None else f"{self.random().getrandbits(160):040x}",
            subject=subject if subject is not None else f"Change {number}",
            trigger_type=trigger_type,
            actor=self.user,
            parameters=dict(parameters) if parameters is not None else None,
            errors=tuple((kind, message) for kind, message in errors),
        )
        self.insert_pipeline(pipeline)
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
        created = (
            pipeline.created_at + 1.0 + len(self.workflows_of(pipeline))
            if created_at is None
            else _posix(created_at)
        )
        workflow = WorkflowRec(
            seq=self.next_seq(),
            id=self.new_id(),
            name=name,
            pipeline=pipeline,
            status=status,
            created_at=created,
            started_by=self.user.id,
            tag=tag,
            stopped_at=None if status in WORKFLOW_UNFINISHED else created + _WORKFLOW_SECONDS,
            plan=plan,
        )
        self.insert_workflow(workflow)
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
        job_id = self.new_id()
        queued: float | None
        started: float | None
        stopped: float | None
        if plan is None:
            start = (
                workflow.created_at + 1.0 + len(self.jobs_of(workflow))
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
        self.insert_job(job)
        self.touch()
        return job

    def add_tests(self, job: JobRec, results: Iterable[tuple[str, str, float, str | None]]) -> None:
        """Store test results ``(name, result, run_time, message)`` for a job."""
        classname = f"tests.{job.name}"
        for name, result, run_time, message in results:
            self.insert_test(
                job,
                TestRec(
                    seq=self.next_seq(),
                    name=name,
                    classname=classname,
                    file=f"tests/test_{job.name}.py",
                    result=result,
                    run_time=run_time,
                    message=message,
                ),
            )
        self.touch()

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
        t0 = _posix(start)
        getrandbits = self.random().getrandbits
        next_seq = self.next_seq
        insert = self.insert_pipeline
        user = self.user
        first = self.take_pipeline_numbers(slug, count)
        for index in range(count):
            number = first + index
            pipeline = PipelineRec(
                seq=next_seq(),
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
            insert(pipeline)
            for w in range(workflows_per_pipeline):
                workflow = self.add_workflow(pipeline.id, f"workflow-{w + 1}")
                for j in range(jobs_per_workflow):
                    self.add_job(workflow.id, f"job-{j + 1}")
        self.touch()
