"""Watching over API v3 (``cci.watch(..., api="v3")``): runs and workflows polled through
``cci.v3`` with the same scheduler, their states ``phase[/outcome]``, final only once
``ended``; the pure rules, and the watcher over TCP against the fake with its clock driven."""

from __future__ import annotations

import pytest

from circleci_async import CircleCI, PollSchedule
from circleci_async.errors import NotFound
from circleci_async.models import structure
from circleci_async.polling import v3_finished, v3_run_finished, v3_state
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan
from circleci_async.v3.models import Run, Workflow
from circleci_async.watching import PollScheduler, StateChange

SLUG = "gh/acme/widgets"
FAST = PollSchedule(interval=0.005, max_interval=0.02, backoff=2.0)
MISSING = "00000000-0000-4000-8000-000000000000"


def _flow(phase: str | None, outcome: str | None = None, current: str | None = None) -> Workflow:
    attributes = {"name": "build", "phase": phase, "outcome": outcome, "current_outcome": current}
    return structure({"id": MISSING, "attributes": attributes, "references": {}}, Workflow)


def _run(phase: str, current: str | None = None) -> Run:
    attributes = {"phase": phase, "current_outcome": current}
    return structure({"id": MISSING, "attributes": attributes, "references": {}}, Run)


def test_the_v3_rules_finish_only_in_the_ended_phase() -> None:
    assert v3_state(_flow("started", current="failed").attributes) == "started/failed"
    assert v3_state(_flow("ended", outcome="succeeded").attributes) == "ended/succeeded"
    assert v3_state(_flow("queued").attributes) == "queued"
    assert v3_state(_flow(None).attributes) == "unknown"
    assert v3_finished(_flow("ended", outcome="canceled").attributes)
    for phase in ("created", "queued", "started", "paused-for-review", None):
        assert not v3_finished(_flow(phase).attributes), phase
    ended, going = _flow("ended", outcome="failed"), _flow("started")
    assert v3_run_finished(_run("ended", "failed"), [ended])
    assert v3_run_finished(_run("ended", "errored"), [])  # setup errored: no workflows
    assert not v3_run_finished(_run("ended", "failed"), [ended, going])  # a rerun is going
    assert not v3_run_finished(_run("created"), [])


def test_the_scheduler_reports_a_v3_workflow_until_it_ends() -> None:
    plan = PollScheduler(FAST)
    plan.add("v3workflow", MISSING, 0.0)
    item = plan.pop_due(0.0)
    assert item is not None
    [first] = plan.observe_v3_workflow(item, _flow("started"), 0.0, 1.0)
    plan.release(item)
    assert (first.kind, first.previous, first.current, first.final) == (
        "workflow",
        None,
        "started",
        False,
    )
    item = plan.pop_due(1.0)
    assert item is not None
    assert plan.observe_v3_workflow(item, _flow("started"), 1.0, 2.0) == []  # no change
    plan.release(item)
    item = plan.pop_due(2.0)
    assert item is not None
    [last] = plan.observe_v3_workflow(item, _flow("ended", outcome="failed"), 2.0, 3.0)
    plan.release(item)
    assert (last.previous, last.current, last.final) == ("started", "ended/failed", True)
    assert len(plan) == 0


async def test_a_v3_workflow_watch_over_tcp(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    [workflow_id] = fake.start_workflows(SLUG, [10.0])
    seen: list[StateChange] = []
    async with circleci_client.watch(workflows=[workflow_id], schedule=FAST, api="v3") as w:
        async for change in w:
            seen.append(change)
            fake.advance(11)
    assert [(c.kind, c.previous, c.current, c.final) for c in seen] == [
        ("workflow", None, "started", False),
        ("workflow", "started", "ended/succeeded", True),
    ]
    assert all(isinstance(c.item, Workflow) and c.id == workflow_id for c in seen)
    polled = {r.path for r in fake.requests}
    assert f"/api/v3/workflows/{workflow_id}" in polled
    assert not [p for p in polled if p.startswith("/api/v2/")]  # v3 only


async def test_a_v3_run_watch_reports_its_workflows_then_itself(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    fake.set_plan(
        SLUG,
        WorkflowPlan("build", (JobPlan("compile", seconds=5),)),
        WorkflowPlan("lint", (JobPlan("ruff", seconds=10, outcome="failed"),)),
    )
    run_id = fake.trigger_pipeline(SLUG)["id"]
    seen: list[StateChange] = []
    async for change in circleci_client.watch(pipelines=[run_id], schedule=FAST, api="v3"):
        seen.append(change)
        fake.advance(5)
    names = {str(c.item.id): c.item.attributes.name for c in seen if isinstance(c.item, Workflow)}
    rows = [(c.kind, names.get(c.id, "run"), c.current, c.final) for c in seen]
    assert rows[0][0] == "run" and not rows[0][3]
    assert rows[-1] == ("run", "run", "ended/failed", True)
    finals = [
        (name, current) for kind, name, current, final in rows if kind == "workflow" and final
    ]
    assert sorted(finals) == [("build", "ended/succeeded"), ("lint", "ended/failed")]
    # Workflows are reported before the run's final report, and each ends exactly once.
    assert all(row[0] == "workflow" for row in rows[-3:-1])
    assert all(c.pipeline_id == run_id for c in seen)


async def test_a_missing_v3_workflow_is_a_final_error_report(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    seen = [c async for c in circleci_client.watch(workflows=[MISSING], schedule=FAST, api="v3")]
    [report] = seen
    assert report.kind == "workflow" and report.final and report.current == "unknown"
    assert isinstance(report.error, NotFound)


def test_an_unknown_api_is_refused(circleci_client: CircleCI) -> None:
    with pytest.raises(ValueError, match="api must be"):
        circleci_client.watch(workflows=[MISSING], api="v4")
