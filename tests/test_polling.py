"""The polling rules written once (circleci_async.polling): the interval rule and the
"finished" predicates, and that ``wait`` and the watcher both follow them; the one helper that
reads a pipeline with its workflows, against the fake over TCP; ``PipelineOutcome.succeeded``
on enum members, unknown values included."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from circleci_async import CircleCI, PipelineOutcome, PollSchedule
from circleci_async.models import structure
from circleci_async.models.pipelines import Pipeline, PipelineState
from circleci_async.models.workflows import Workflow, WorkflowStatus
from circleci_async.polling import (
    pipeline_finished,
    pipeline_has_workflows,
    workflow_finished,
)
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan
from circleci_async.waiting import fetch_pipeline_with_workflows, poll_until
from circleci_async.watching import PollScheduler

SLUG = "gh/acme/widgets"
ID = "00000000-0000-4000-8000-000000000001"
SCHEDULE = PollSchedule(interval=2.0, max_interval=10.0, backoff=2.0)
#: What successive polls see: a run of no change, a change, no change again.
STATUSES = ["running", "running", "running", "running", "running", "failing", "failing"]


def _workflow(status: str) -> Workflow:
    return structure(
        {
            "id": ID,
            "name": "build",
            "pipeline_id": ID,
            "pipeline_number": 1,
            "project_slug": SLUG,
            "status": status,
            "started_by": ID,
            "created_at": "2026-01-01T00:00:00Z",
        },
        Workflow,
    )


def _pipeline(state: str) -> Pipeline:
    return structure(
        {
            "id": ID,
            "number": 1,
            "project_slug": SLUG,
            "state": state,
            "created_at": "2026-01-01T00:00:00Z",
            "trigger": {
                "type": "api",
                "received_at": "2026-01-01T00:00:00Z",
                "actor": {"login": "someone"},
            },
            "errors": [],
        },
        Pipeline,
    )


def test_next_interval_starts_over_on_change_and_grows_to_the_cap_otherwise() -> None:
    assert SCHEDULE.next_interval(8.0, changed=True) == 2.0
    assert SCHEDULE.next_interval(2.0, changed=False) == 4.0
    assert SCHEDULE.next_interval(8.0, changed=False) == 10.0
    assert SCHEDULE.next_interval(10.0, changed=False) == 10.0
    assert PollSchedule(interval=1.0, max_interval=1.0, backoff=1.0).next_interval(1.0, False) == 1


async def test_wait_and_the_watcher_space_their_polls_the_same_way() -> None:
    # poll_until with a recording sleep: the gaps it waits between polls.
    answers = iter(STATUSES)
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    async def fetch() -> str:
        return next(answers, "success")

    last = await poll_until(
        fetch, lambda status: status == "success", timeout=None, schedule=SCHEDULE, sleep=record
    )
    assert last == "success"

    # The watcher's scheduler, fed the same answers: the gaps between its polls.
    plan = PollScheduler(SCHEDULE)
    plan.add("workflow", ID, now=0.0)
    now, gaps = 0.0, []
    for status in STATUSES:
        item = plan.pop_due(now)
        assert item is not None
        plan.observe_workflow(item, _workflow(status), now, at=now)
        plan.release(item)
        gaps.append(item.due - now)
        now = item.due
    assert waited == gaps == [2.0, 4.0, 8.0, 10.0, 10.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("status", "finished"),
    [
        ("success", True),
        ("failed", True),
        ("canceled", True),
        ("running", False),
        ("on_hold", False),
        ("brand_new_status", False),  # not known: waiting on is the safe choice
    ],
)
def test_workflow_finished_is_an_allow_list(status: str, finished: bool) -> None:
    workflow = _workflow(status)
    assert workflow_finished(workflow) is finished
    assert (workflow.status.known) is (status != "brand_new_status")


@pytest.mark.parametrize(
    ("state", "statuses", "finished"),
    [
        ("errored", [], True),
        ("created", [], True),
        ("created", ["success", "failed"], True),
        ("created", ["success", "on_hold"], False),
        ("created", ["success", "brand_new_status"], False),
        ("pending", [], False),
        ("setup", [], False),
        ("brand-new-state", [], False),
    ],
)
def test_pipeline_finished_and_the_watcher_agree(
    state: str, statuses: list[str], finished: bool
) -> None:
    pipeline, workflows = _pipeline(state), [_workflow(s) for s in statuses]
    assert pipeline_finished(pipeline, workflows) is finished
    assert PipelineOutcome(pipeline=pipeline, workflows=workflows).finished is finished
    plan = PollScheduler(SCHEDULE)
    item = plan.add("pipeline", ID, now=0.0)
    assert item is not None
    changes = plan.observe_pipeline(item, pipeline, workflows, now=0.0, at=0.0)
    [report] = [c for c in changes if c.kind == "pipeline"]
    assert report.final is finished
    assert (("pipeline", ID) in plan) is not finished


@pytest.mark.parametrize(
    ("state", "statuses", "succeeded"),
    [
        ("created", ["success", "success"], True),
        ("created", [], True),
        ("created", ["success", "failed"], False),
        ("created", ["success", "brand_new_status"], False),
        ("errored", [], False),
        ("brand-new-state", [], False),
    ],
)
def test_succeeded_compares_enum_members_and_unknown_values_do_not_count(
    state: str, statuses: list[str], succeeded: bool
) -> None:
    outcome = PipelineOutcome(pipeline=_pipeline(state), workflows=[_workflow(s) for s in statuses])
    assert outcome.succeeded is succeeded
    # Unknown values parsed, and were kept as they came.
    assert isinstance(outcome.pipeline.state, PipelineState)
    assert all(isinstance(w.status, WorkflowStatus) for w in outcome.workflows)
    assert [str(w.status) for w in outcome.workflows] == statuses


async def test_one_poll_reads_workflows_only_once_setup_created_them(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.setup_seconds = 2
    fake.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", seconds=5),)))
    pipeline_id = fake.trigger_pipeline(SLUG)["id"]

    def listed() -> list[Any]:
        return [r for r in fake.requests if r.path.endswith(f"{pipeline_id}/workflow")]

    pending = await fetch_pipeline_with_workflows(client.pipelines, pipeline_id)
    assert pending.pipeline.state is PipelineState.PENDING and pending.workflows == []
    assert not pipeline_has_workflows(pending.pipeline) and listed() == []
    assert not pending.finished

    fake.advance(2)
    created = await fetch_pipeline_with_workflows(client.pipelines, pipeline_id)
    assert pipeline_has_workflows(created.pipeline) and len(listed()) == 1
    assert [w.status for w in created.workflows] == [WorkflowStatus.RUNNING]
    assert not created.finished and not created.succeeded

    fake.settle()  # the job's queue time and its 5 s
    done = await fetch_pipeline_with_workflows(client.pipelines, uuid.UUID(pipeline_id))
    assert done.finished and done.succeeded
    assert [w.status for w in done.workflows] == [WorkflowStatus.SUCCESS]
