"""What a triggered pipeline runs in the fake: workflows of jobs, each with a duration and an
outcome. Plain data, so a test states the scenario it needs in a line or two::

    fake.set_plan("gh/acme/widgets", WorkflowPlan("deploy", (
        JobPlan("build", seconds=20),
        JobPlan("hold", type="approval", requires=("build",)),
        JobPlan("ship", requires=("hold",), outcome="failed"),
    )))
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = ["DEFAULT_PLAN", "JobPlan", "WorkflowPlan", "check_plan"]

#: Statuses a build job may end with in a plan.
JOB_OUTCOMES = ("success", "failed", "infrastructure_fail", "timedout")


@attrs.frozen
class JobPlan:
    """One job: ``queue_seconds`` queued, then ``seconds`` running, then ``outcome``.

    An ``approval`` job waits ``on_hold`` until approved. ``tests`` is how many test results
    the job stores (the last fails when the job fails). A ``resource_class`` with a ``/``
    (``acme/linux``) is a self-hosted runner class: its queued and running jobs are the
    runner API's task counts.
    """

    name: str
    requires: tuple[str, ...] = ()
    seconds: float = 30.0
    queue_seconds: float = 1.0
    outcome: str = "success"
    type: str = "build"
    parallelism: int = 1
    resource_class: str = "medium"
    tests: int = 0


@attrs.frozen
class WorkflowPlan:
    name: str
    jobs: tuple[JobPlan, ...]


#: Build, then test: what a pipeline triggered in a project without a plan of its own runs.
DEFAULT_PLAN = (
    WorkflowPlan(
        "build-and-test",
        (
            JobPlan("build", seconds=20.0),
            JobPlan("test", requires=("build",), seconds=40.0, tests=5),
        ),
    ),
)


def check_plan(workflows: Sequence[WorkflowPlan]) -> tuple[WorkflowPlan, ...]:
    """The plan, or ValueError when it names a job twice, requires one that does not exist or
    comes later, or has an outcome or type the API does not have."""
    for workflow in workflows:
        seen: set[str] = set()
        for job in workflow.jobs:
            if job.name in seen:
                raise ValueError(f"job {job.name!r} twice in workflow {workflow.name!r}")
            for required in job.requires:
                if required not in seen:
                    raise ValueError(
                        f"job {job.name!r} requires {required!r}, which is not an earlier job "
                        f"of workflow {workflow.name!r}"
                    )
            if job.type not in ("build", "approval"):
                raise ValueError(f"job type {job.type!r} is not build or approval")
            if job.outcome not in JOB_OUTCOMES:
                raise ValueError(f"job outcome {job.outcome!r} is not one of {JOB_OUTCOMES}")
            if job.seconds < 0 or job.queue_seconds < 0 or job.parallelism < 1 or job.tests < 0:
                raise ValueError(f"job {job.name!r}: negative time, count or parallelism")
            seen.add(job.name)
    return tuple(workflows)
