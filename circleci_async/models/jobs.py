"""Job details, artifacts and test results."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from .workflows import JobStatus

__all__ = [
    "Artifact",
    "JobContext",
    "JobDetails",
    "JobExecutor",
    "JobLatestWorkflow",
    "JobMessage",
    "JobOrganization",
    "JobParallelRun",
    "JobPipeline",
    "JobProject",
    "TestResult",
]


@attrs.frozen(kw_only=True)
class JobProject:
    id: uuid.UUID
    slug: str
    name: str
    external_url: str


@attrs.frozen(kw_only=True)
class JobParallelRun:
    index: int
    status: JobStatus


@attrs.frozen(kw_only=True)
class JobLatestWorkflow:
    id: uuid.UUID
    name: str


@attrs.frozen(kw_only=True)
class JobExecutor:
    resource_class: str
    type: str | None = None


@attrs.frozen(kw_only=True)
class JobPipeline:
    id: uuid.UUID


@attrs.frozen(kw_only=True)
class JobMessage:
    type: str
    message: str
    reason: str | None = None


@attrs.frozen(kw_only=True)
class JobContext:
    name: str


@attrs.frozen(kw_only=True)
class JobOrganization:
    name: str


@attrs.frozen(kw_only=True)
class JobDetails:
    """One job in full (``getJobDetails``). The timestamps of steps a job has not reached
    are ``None``: the spec requires them, CircleCI sends null."""

    number: int
    name: str
    status: JobStatus
    web_url: str
    project: JobProject
    latest_workflow: JobLatestWorkflow
    pipeline: JobPipeline
    organization: JobOrganization
    executor: JobExecutor
    parallelism: int
    created_at: dt.datetime
    parallel_runs: list[JobParallelRun] = attrs.field(factory=list)
    messages: list[JobMessage] = attrs.field(factory=list)
    contexts: list[JobContext] = attrs.field(factory=list)
    queued_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    #: Milliseconds, once the job has stopped.
    duration: int | None = None


@attrs.frozen(kw_only=True)
class Artifact:
    """A file a job stored. ``url`` is on CircleCI's artifact host, not the API host; hand the
    model to ``cci.artifacts`` to download it."""

    path: str
    node_index: int
    url: str


@attrs.frozen(kw_only=True)
class TestResult:
    """One test case from a job's stored test metadata (``getTests``)."""

    __test__ = False  # not a pytest test class, whatever its name says

    name: str
    classname: str
    result: str
    run_time: float
    source: str
    message: str | None = None
    file: str | None = None
