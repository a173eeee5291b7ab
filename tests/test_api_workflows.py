"""``client.workflows`` and ``client.jobs`` against the stateful fake: approvals, cancellation,
reruns, failures, job details, the paginated job lists the spec forgot to paginate, and the
polling helper's schedule."""

from __future__ import annotations

import json

import pytest

from circleci_async import CircleCI, PollSchedule, WaitTimeout
from circleci_async.errors import BadRequest, NotFound
from circleci_async.models import Artifact, JobStatus, WorkflowStatus
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan
from circleci_async.waiting import poll_until

SLUG = "gh/acme/widgets"
FAST = PollSchedule(interval=0.005, max_interval=0.02)
DEPLOY = WorkflowPlan(
    "deploy",
    (
        JobPlan("build", seconds=10),
        JobPlan("hold", type="approval", requires=("build",)),
        JobPlan("ship", requires=("hold",), seconds=5),
    ),
)


async def _workflow(fake: FakeCircleCI, client: CircleCI, *plan: WorkflowPlan) -> str:
    fake.set_plan(SLUG, *plan)
    pipeline = fake.trigger_pipeline(SLUG)
    fake.advance(0)
    [workflow] = await client.pipelines.workflows(pipeline["id"]).collect()
    return str(workflow.id)


async def test_approval_holds_until_approved(fake: FakeCircleCI, client: CircleCI) -> None:
    workflow_id = await _workflow(fake, client, DEPLOY)
    fake.settle()
    held = await client.workflows.get(workflow_id)
    assert held.status is WorkflowStatus.ON_HOLD and held.stopped_at is None
    with pytest.raises(WaitTimeout):
        await client.workflows.wait(workflow_id, timeout=0.03, schedule=FAST)
    jobs = await client.workflows.jobs(workflow_id).collect()
    hold = jobs[1]
    assert hold.type == "approval" and hold.status is JobStatus.ON_HOLD and hold.job_number is None
    assert hold.approval_request_id == hold.id
    assert jobs[2].status is JobStatus.BLOCKED and jobs[2].dependencies == [hold.id]
    assert jobs[2].requires == {str(hold.id): ["success"]}
    await client.workflows.approve(workflow_id, hold.approval_request_id)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="not on hold"):
        await client.workflows.approve(workflow_id, hold.approval_request_id)  # type: ignore[arg-type]
    fake.settle()
    done = await client.workflows.wait(workflow_id, timeout=1, schedule=FAST)
    assert done.status is WorkflowStatus.SUCCESS and done.stopped_at is not None
    approved = (await client.workflows.jobs(workflow_id).collect())[1]
    assert approved.approved_by == (await client.users.me()).id


async def test_cancel_a_running_workflow(fake: FakeCircleCI, client: CircleCI) -> None:
    workflow_id = await _workflow(fake, client, DEPLOY)
    fake.advance(2)
    await client.workflows.cancel(workflow_id)
    canceled = await client.workflows.wait(workflow_id, timeout=1, schedule=FAST)
    assert canceled.status is WorkflowStatus.CANCELED and canceled.canceled_by is not None
    statuses = [j.status for j in await client.workflows.jobs(workflow_id).collect()]
    assert statuses == ["canceled", "canceled", "canceled"]
    with pytest.raises(BadRequest):
        await client.workflows.cancel(workflow_id)


async def test_a_failed_job_fails_the_workflow_and_skips_its_dependents(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    plan = WorkflowPlan(
        "ci",
        (
            JobPlan("lint", seconds=5),
            JobPlan("unit", seconds=10, outcome="failed", tests=4),
            JobPlan("deploy", requires=("lint", "unit")),
        ),
    )
    workflow_id = await _workflow(fake, client, plan)
    fake.advance(8)  # lint done at 6 s; unit runs until 11 s
    assert (await client.workflows.get(workflow_id)).status is WorkflowStatus.RUNNING
    fake.settle()
    assert (await client.workflows.get(workflow_id)).status is WorkflowStatus.FAILED
    jobs = await client.workflows.jobs(workflow_id).collect()
    assert [j.status for j in jobs] == ["success", "failed", "not_run"]
    unit = await client.jobs.get(SLUG, jobs[1].job_number)  # type: ignore[arg-type]
    assert unit.status is JobStatus.FAILED and unit.duration == 10_000
    results = await client.jobs.tests(SLUG, jobs[1].job_number).collect()  # type: ignore[arg-type]
    assert [t.result for t in results] == ["success"] * 3 + ["failure"]
    assert results[-1].message == "assertion failed"


async def test_failing_while_other_jobs_run(fake: FakeCircleCI, client: CircleCI) -> None:
    plan = WorkflowPlan(
        "ci", (JobPlan("fast", seconds=1, outcome="failed"), JobPlan("slow", seconds=60))
    )
    workflow_id = await _workflow(fake, client, plan)
    fake.advance(5)
    assert (await client.workflows.get(workflow_id)).status is WorkflowStatus.FAILING


async def test_rerun_starts_a_new_workflow_of_the_same_pipeline(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    workflow_id = await _workflow(
        fake, client, WorkflowPlan("ci", (JobPlan("unit", outcome="failed"),))
    )
    with pytest.raises(BadRequest, match="still running"):
        await client.workflows.rerun(workflow_id)
    fake.settle()
    rerun = await client.workflows.rerun(workflow_id, from_failed=True)
    assert str(rerun.workflow_id) != workflow_id
    old, new = (
        await client.workflows.get(workflow_id),
        await client.workflows.get(rerun.workflow_id),
    )
    assert new.pipeline_id == old.pipeline_id and new.name == old.name
    assert new.status is WorkflowStatus.RUNNING


async def test_cancel_jobs_by_number_and_by_id(fake: FakeCircleCI, client: CircleCI) -> None:
    plan = WorkflowPlan("ci", (JobPlan("a"), JobPlan("gate", type="approval")))
    workflow_id = await _workflow(fake, client, plan)
    a, gate = await client.workflows.jobs(workflow_id).collect()
    await client.jobs.cancel_by_number(SLUG, a.job_number)  # type: ignore[arg-type]
    await client.jobs.cancel(gate.id)
    assert (await client.workflows.get(workflow_id)).status is WorkflowStatus.CANCELED
    with pytest.raises(BadRequest):
        await client.jobs.cancel(gate.id)
    with pytest.raises(NotFound):
        await client.jobs.cancel("5034460f-c7c4-4c43-9457-de07e2029e7b")


async def test_tests_and_artifacts_paginate_with_page_token(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.page_size = 2
    workflow_id = await _workflow(fake, client, WorkflowPlan("ci", (JobPlan("unit", tests=5),)))
    fake.settle()
    [job] = await client.workflows.jobs(workflow_id).collect()
    fake.clear_requests()
    tests = await client.jobs.tests(SLUG, job.job_number).collect()  # type: ignore[arg-type]
    assert len(tests) == 5 and len(fake.requests) == 3
    assert [r.query.get("page-token") is not None for r in fake.requests] == [False, True, True]

    pages = {
        None: {
            "items": [{"path": "a.txt", "node_index": 0, "url": "https://x/a"}],
            "next_page_token": "p2",
        },
        "p2": {
            "items": [{"path": "b.txt", "node_index": 1, "url": "https://x/b"}],
            "next_page_token": None,
        },
    }
    fake.add_route(
        r"/project/(?P<slug>[^/]+/[^/]+/[^/]+)/(?P<n>\d+)/artifacts",
        {"GET": lambda r, m, b: (200, json.dumps(pages[r.query.get("page-token")]).encode())},
    )
    artifacts = await client.jobs.artifacts(SLUG, job.job_number).collect()  # type: ignore[arg-type]
    assert artifacts == [
        Artifact(path="a.txt", node_index=0, url="https://x/a"),
        Artifact(path="b.txt", node_index=1, url="https://x/b"),
    ]


async def test_wait_survives_a_status_it_does_not_know(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    workflow = fake.add_workflow(fake.add_pipeline(SLUG)["id"], status="running")
    body = json.dumps({**workflow, "status": "quarantined"}).encode()
    fake.add_route(r"/workflow/[^/]+", {"GET": lambda r, m, b: (200, body)})
    with pytest.raises(WaitTimeout) as info:
        await client.workflows.wait(workflow["id"], timeout=0.03, schedule=FAST)
    assert info.value.last.status == "quarantined" and not info.value.last.status.known


async def test_poll_interval_backs_off_while_nothing_changes() -> None:
    answers = iter([1, 1, 1, 1, 2, 2, 2, 3])
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    async def fetch() -> int:
        return next(answers)

    result = await poll_until(
        fetch,
        lambda value: value == 3,
        timeout=None,
        schedule=PollSchedule(interval=1.0, max_interval=3.0, backoff=2.0),
        sleep=sleep,
    )
    assert result == 3
    assert delays == [1.0, 2.0, 3.0, 3.0, 1.0, 2.0, 3.0]


def test_poll_schedule_is_checked() -> None:
    with pytest.raises(ValueError, match="interval"):
        PollSchedule(interval=0)
    with pytest.raises(ValueError, match="backoff"):
        PollSchedule(backoff=0.5)
