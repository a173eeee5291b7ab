"""Watching many pipelines and workflows: the pure scheduler, the async watcher against the
fake over TCP, and the fake's support for it (timed workflows, a sped-up clock, a simulation
that stays cheap with thousands of workflows in motion)."""

from __future__ import annotations

import asyncio
import collections
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any

import pytest

from circleci_async import CircleCI, PollSchedule, RateLimitConfig, WaitTimeout
from circleci_async.errors import NotFound, ServerError
from circleci_async.models import structure
from circleci_async.models.pipelines import Pipeline
from circleci_async.models.workflows import Workflow
from circleci_async.testing import (
    FakeCircleCI,
    JobPlan,
    RateLimitPolicy,
    ScaledClock,
    Window,
    WorkflowPlan,
)
from circleci_async.watching import PollScheduler, StateChange, Watcher

from ._waiting import wait_until

SLUG = "gh/acme/widgets"
FAST = PollSchedule(interval=0.005, max_interval=0.02, backoff=2.0)
MISSING = "00000000-0000-4000-8000-000000000000"
HELD = WorkflowPlan("held", (JobPlan("hold", type="approval"),))


# -- the pure scheduler -------------------------------------------------------------------------


def _workflow(status: str, workflow_id: str = MISSING, pipeline_id: str = MISSING) -> Workflow:
    return structure(
        {
            "id": workflow_id,
            "name": "build",
            "pipeline_id": pipeline_id,
            "pipeline_number": 1,
            "project_slug": SLUG,
            "status": status,
            "started_by": MISSING,
            "created_at": "2026-01-01T00:00:00.000Z",
            "stopped_at": None,
        },
        Workflow,
    )


def _pipeline(state: str, pipeline_id: str = MISSING, number: int = 1) -> Pipeline:
    return structure(
        {
            "id": pipeline_id,
            "number": number,
            "project_slug": SLUG,
            "state": state,
            "created_at": "2026-01-01T00:00:00.000Z",
            "trigger": {
                "type": "api",
                "received_at": "2026-01-01T00:00:00.000Z",
                "actor": {"login": "someone", "avatar_url": None},
            },
            "errors": [],
        },
        Pipeline,
    )


def _ids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1, version=4)) for i in range(n)]


def test_scheduler_hands_out_items_earliest_due_first() -> None:
    plan = PollScheduler(PollSchedule(interval=2.0, max_interval=30.0))
    a, b, c = _ids(3)
    assert plan.add("workflow", a, now=5.0) is not None
    plan.add("workflow", b, now=1.0)
    plan.add("pipeline", c, now=3.0)
    assert plan.add("workflow", a, now=0.0) is None  # already watched
    assert plan.pop_due(0.5) is None
    assert plan.next_due() == 1.0
    # Overdue items (a limiter that could not keep up) come out in due order, not all at once.
    order = [plan.pop_due(100.0) for _ in range(3)]
    assert [(i.kind, i.id) for i in order if i] == [
        ("workflow", b),
        ("pipeline", c),
        ("workflow", a),
    ]
    assert plan.pop_due(100.0) is None and len(plan) == 3


def test_count_due_counts_only_what_is_due_and_stops_at_the_limit() -> None:
    plan = PollScheduler()
    for i, wid in enumerate(_ids(50)):
        plan.add("workflow", wid, now=float(i % 10))  # five each due at 0, 1, ..., 9
    assert plan.count_due(-1.0, 100) == 0
    assert plan.count_due(2.0, 100) == 15
    assert plan.count_due(2.0, 4) == 4
    assert plan.count_due(9.0, 100) == 50


def test_interval_grows_while_nothing_changes_and_resets_on_change() -> None:
    plan = PollScheduler(PollSchedule(interval=2.0, max_interval=10.0, backoff=2.0))
    [wid] = _ids(1)
    plan.add("workflow", wid, now=0.0)
    now, gaps, reports = 0.0, [], []
    for status in ["running", "running", "running", "running", "running", "failing", "failing"]:
        item = plan.pop_due(now)
        assert item is not None and item.polling
        reports += plan.observe_workflow(item, _workflow(status, wid), now, at=now)
        plan.release(item)
        assert not item.polling
        gaps.append(item.due - now)
        now = item.due
    assert gaps == [2.0, 4.0, 8.0, 10.0, 10.0, 2.0, 4.0]
    assert [(r.previous, r.current, r.final) for r in reports] == [
        (None, "running", False),
        ("running", "failing", False),
    ]


def test_a_final_workflow_is_reported_once_and_forgotten() -> None:
    plan = PollScheduler()
    [wid] = _ids(1)
    item = plan.add("workflow", wid, now=0.0)
    assert item is not None and plan.pop_due(0.0) is item
    [change] = plan.observe_workflow(item, _workflow("success", wid, pipeline_id=wid), 1.0, 9.0)
    assert change == StateChange(
        kind="workflow",
        id=wid,
        previous=None,
        current="success",
        final=True,
        item=change.item,
        pipeline_id=wid,
        at=9.0,
    )
    plan.release(item)
    assert len(plan) == 0 and plan.next_due() is None
    with pytest.raises(AttributeError):
        change.extra = 1  # type: ignore[attr-defined]  # slotted and frozen


def test_pipeline_reports_itself_first_while_running_and_last_when_final() -> None:
    plan = PollScheduler()
    pid, w1, w2 = _ids(3)
    item = plan.add("pipeline", pid, now=0.0)
    assert item is not None

    def poll(state: str, *workflows: Workflow) -> list[tuple[str, str | None, str, bool]]:
        taken = plan.pop_due(1e9)
        assert taken is item
        changes = plan.observe_pipeline(item, _pipeline(state, pid), workflows, 0.0, 0.0)
        plan.release(item)
        assert all(c.pipeline_id == pid for c in changes)
        return [(c.kind, c.previous, c.current, c.final) for c in changes]

    assert poll("pending") == [("pipeline", None, "pending", False)]
    assert poll("pending") == []
    assert poll("created", _workflow("running", w1), _workflow("on_hold", w2)) == [
        ("pipeline", "pending", "created", False),
        ("workflow", None, "running", False),
        ("workflow", None, "on_hold", False),
    ]
    assert poll("created", _workflow("failed", w1), _workflow("on_hold", w2)) == [
        ("workflow", "running", "failed", True),
    ]
    assert poll("created", _workflow("failed", w1), _workflow("canceled", w2)) == [
        ("workflow", "on_hold", "canceled", True),
        ("pipeline", "created", "created", True),
    ]
    assert len(plan) == 0


def test_errored_setup_is_final_and_a_created_pipeline_without_workflows_too() -> None:
    plan = PollScheduler()
    a, b = _ids(2)
    for pid, state in ((a, "errored"), (b, "created")):
        item = plan.add("pipeline", pid, now=0.0)
        assert item is not None and plan.pop_due(0.0) is item
        [change] = plan.observe_pipeline(item, _pipeline(state, pid), [], 0.0, 0.0)
        assert (change.previous, change.current, change.final) == (None, state, True)
    assert len(plan) == 0


def test_follow_sets_a_baseline_then_adds_each_new_pipeline_once() -> None:
    plan = PollScheduler(PollSchedule(interval=1.0, max_interval=8.0, backoff=2.0))
    old, new, newer = _ids(3)
    follow = plan.add("follow", SLUG, now=0.0)
    assert follow is not None and plan.pop_due(0.0) is follow
    assert plan.observe_follow(follow, [_pipeline("created", old, 7)], 0.0, 0.0) == []
    plan.release(follow)
    assert plan.pop_due(1.9) is None  # backed off: nothing new on the first look
    assert plan.pop_due(2.0) is follow
    page = [
        _pipeline("pending", newer, 9),
        _pipeline("created", new, 8),
        _pipeline("created", old, 7),
    ]
    changes = plan.observe_follow(follow, page, 2.0, 2.0)
    assert [(c.kind, c.id, c.previous, c.current) for c in changes] == [
        ("pipeline", new, None, "created"),
        ("pipeline", newer, None, "pending"),
    ]
    plan.release(follow)
    assert ("pipeline", new) in plan and ("pipeline", old) not in plan
    assert follow.due == 3.0  # something new: back to the start interval
    # The new pipelines are due at once; the same page again adds nothing.
    assert {plan.pop_due(2.0).id, plan.pop_due(2.0).id} == {new, newer}  # type: ignore[union-attr]
    assert plan.pop_due(3.0) is follow
    assert plan.observe_follow(follow, page, 3.0, 3.0) == []


def test_errors_end_the_item_only_when_polling_again_cannot_help() -> None:
    plan = PollScheduler(PollSchedule(interval=1.0, max_interval=4.0, backoff=2.0))
    gone, flaky = _ids(2)
    for wid in (gone, flaky):
        plan.add("workflow", wid, now=0.0)
    item = plan.pop_due(0.0)
    assert item is not None and item.id == gone
    [report] = plan.observe_error(item, NotFound("nope", status=404), 0.0, 0.0)
    assert report.final and report.current == "unknown" and report.item is None
    assert isinstance(report.error, NotFound)
    item = plan.pop_due(0.0)
    assert item is not None and item.id == flaky
    plan.observe_workflow(item, _workflow("running", flaky), 0.0, 0.0)
    plan.release(item)
    item = plan.pop_due(1.0)
    assert item is not None
    [report] = plan.observe_error(item, ServerError("down", status=503), 1.0, 1.0)
    plan.release(item)
    assert (report.previous, report.current, report.final) == ("running", "running", False)
    assert len(plan) == 1 and item.due == 3.0  # backed off, still watched


# -- the watcher against the fake ------------------------------------------------------------


def _trigger_workflow(fake: FakeCircleCI, plan: WorkflowPlan) -> tuple[str, str]:
    """A triggered pipeline running ``plan`` (set up at once): (pipeline id, workflow id)."""
    fake.set_plan(SLUG, plan)
    pipeline = fake.trigger_pipeline(SLUG)
    fake.advance(0)
    [workflow] = fake._state.workflows_of(fake._state.pipelines[pipeline["id"]])
    return pipeline["id"], workflow.id


def _no_watcher_tasks() -> bool:
    current = asyncio.current_task()
    return not [
        t
        for t in asyncio.all_tasks()
        if t is not current and "Watcher." in repr(t.get_coro()) and not t.done()
    ]


async def test_changes_arrive_in_order_and_finals_end_the_iteration(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    # Two jobs side by side, queued for a second: one fails at 11 s (failing), the other ends
    # at 21 s (failed).
    plan = WorkflowPlan("w", (JobPlan("a", seconds=10, outcome="failed"), JobPlan("b", seconds=20)))
    _, workflow_id = _trigger_workflow(fake, plan)
    seen: list[StateChange] = []
    watcher = circleci_client.workflows.watch([workflow_id], schedule=FAST)
    assert isinstance(watcher, Watcher)
    async with watcher:
        async for change in watcher:
            seen.append(change)
            fake.advance(11)
    assert [(c.previous, c.current, c.final) for c in seen] == [
        (None, "running", False),
        ("running", "failing", False),
        ("failing", "failed", True),
    ]
    assert all(c.kind == "workflow" and c.id == workflow_id and c.error is None for c in seen)
    last = seen[-1].item
    assert isinstance(last, Workflow) and last.stopped_at is not None
    assert seen[0].at <= seen[1].at <= seen[2].at <= time.time()
    assert watcher.closed and watcher.watching == 0 and _no_watcher_tasks()


async def test_add_while_iterating(fake_circleci: FakeCircleCI, circleci_client: CircleCI) -> None:
    fake = fake_circleci
    first, second = fake.start_workflows(SLUG, [5.0, 10.0])
    seen = []
    async with circleci_client.watch(workflows=[first], schedule=FAST) as watcher:
        async for change in watcher:
            seen.append((change.id, change.current))
            if change.id == first and change.previous is None:
                watcher.add_workflow(second)
                watcher.add_workflow(first)  # already watched: nothing happens
            elif change.id == second or change.final:
                fake.advance(5)
    assert seen == [
        (first, "running"),
        (second, "running"),
        (first, "success"),
        (second, "success"),
    ]
    with pytest.raises(RuntimeError, match="closed"):
        watcher.add_workflow(first)


async def test_pipeline_watch_reports_its_workflows(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    fake.setup_seconds = 2
    fake.set_plan(
        SLUG,
        WorkflowPlan("build", (JobPlan("compile", seconds=5),)),
        WorkflowPlan("lint", (JobPlan("ruff", seconds=10, outcome="failed"),)),
    )
    pipeline_id = fake.trigger_pipeline(SLUG)["id"]
    seen = []
    async for change in circleci_client.pipelines.watch([pipeline_id], schedule=FAST):
        seen.append(change)
        fake.advance(5)
    names = {str(c.item.id): c.item.name for c in seen if isinstance(c.item, Workflow)}
    rows = [(c.kind, names.get(c.id, "pipeline"), c.previous, c.current, c.final) for c in seen]
    assert rows == [
        ("pipeline", "pipeline", None, "pending", False),
        ("pipeline", "pipeline", "pending", "created", False),
        ("workflow", "build", None, "running", False),
        ("workflow", "lint", None, "running", False),
        ("workflow", "build", "running", "success", True),
        ("workflow", "lint", "running", "failed", True),
        ("pipeline", "pipeline", "created", "created", True),
    ]
    assert {c.pipeline_id for c in seen} == {pipeline_id}
    # One pipeline read, and once created one workflow list, per poll.
    paths = [r.path.rsplit("/", 1)[-1] for r in fake.requests]
    assert paths.count("workflow") <= paths.count(pipeline_id)


async def test_follow_picks_up_a_newly_triggered_pipeline(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    fake.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", seconds=5),)))
    fake.setup_seconds = 2
    old = fake.trigger_pipeline(SLUG)["id"]
    fake.add_pipeline(SLUG, "other-branch")
    listing = f"/api/v2/project/{SLUG}/pipeline"
    async with circleci_client.pipelines.follow(SLUG, branch="main", schedule=FAST) as watcher:
        iterator = aiter(watcher)
        first = asyncio.ensure_future(anext(iterator))
        # The first look at the project sets what is old.
        await wait_until(lambda: any(r.path == listing for r in fake.requests), 10)
        assert {r.query.get("branch") for r in fake.requests if r.path == listing} == {"main"}
        assert not first.done()
        new = fake.trigger_pipeline(SLUG)["id"]
        change = await asyncio.wait_for(first, 5)
        assert (change.kind, change.id, change.previous, change.current) == (
            "pipeline",
            new,
            None,
            "pending",
        )
        assert isinstance(change.item, Pipeline) and str(change.item.id) == new
        fake.advance(5)
        rest = []
        while len(rest) < 4:
            change = await asyncio.wait_for(anext(iterator), 5)
            rest.append((change.kind, change.previous, change.current, change.final))
            fake.advance(5)
        assert rest == [
            ("pipeline", "pending", "created", False),
            ("workflow", None, "running", False),
            ("workflow", "running", "success", True),
            ("pipeline", "created", "created", True),
        ]
        assert watcher.watching == 1  # only the project is still followed: it never ends
    assert watcher.closed and _no_watcher_tasks()
    assert not any(old in r.path for r in fake.requests)


async def test_follow_of_a_missing_project_raises(circleci_client: CircleCI) -> None:
    with pytest.raises(NotFound):
        async for _ in circleci_client.pipelines.follow("gh/acme/nothing", schedule=FAST):
            pass
    assert _no_watcher_tasks()


async def test_a_missing_item_is_reported_and_the_others_carry_on(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    [good] = fake.start_workflows(SLUG, [5.0])
    seen = []
    async with circleci_client.watch(
        workflows=[MISSING, good], pipelines=[MISSING], schedule=FAST
    ) as watcher:
        async for change in watcher:
            seen.append(change)
            if change.id == good:
                fake.advance(5)
    errors = [c for c in seen if c.error is not None]
    assert sorted(c.kind for c in errors) == ["pipeline", "workflow"]
    assert all(
        isinstance(c.error, NotFound) and c.final and c.id == MISSING and c.item is None
        for c in errors
    )
    assert [(c.previous, c.current) for c in seen if c.id == good] == [
        (None, "running"),
        ("running", "success"),
    ]
    assert circleci_client.stats.retries == 0  # a 404 is not retried, and not polled again


async def test_transient_errors_are_retried_by_the_client(
    fake_circleci: FakeCircleCI,
) -> None:
    from circleci_async import RetryConfig
    from circleci_async.testing import Fault

    fake = fake_circleci
    [wid] = fake.start_workflows(SLUG, [0.0])
    fake.inject(Fault("status", status=503, times=2))
    async with CircleCI(
        "test-token",
        base_url=fake.url,
        rate_limit=RateLimitConfig(initial_rate=None),
        retry=RetryConfig(backoff_base=0.001, backoff_max=0.005),
    ) as cci:
        changes = [c async for c in cci.workflows.watch([wid], schedule=FAST)]
        assert [(c.current, c.final, c.error) for c in changes] == [("success", True, None)]
        assert cci.stats.retries == 2


async def test_timeout_raises_with_what_was_last_seen(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    _, held = _trigger_workflow(fake_circleci, HELD)
    watcher = circleci_client.watch(workflows=[held], schedule=FAST, timeout=0.5)
    seen = []

    async def consume() -> None:
        async for change in watcher:
            seen.append(change.current)

    with pytest.raises(WaitTimeout) as raised:
        await consume()
    assert seen == ["on_hold"]
    assert raised.value.last == {held: "on_hold"}
    assert watcher.closed and _no_watcher_tasks()


async def test_cancel_and_close_leave_no_tasks_behind(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    _, held = _trigger_workflow(fake_circleci, HELD)
    started = asyncio.Event()

    async def consume() -> None:
        async with circleci_client.watch(workflows=[held], schedule=FAST) as watcher:
            async for _ in watcher:
                started.set()

    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(started.wait(), 5)
    assert not _no_watcher_tasks()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _no_watcher_tasks()

    # A bare iterator, closed by hand; and one left running is stopped by the client's close.
    bare = circleci_client.watch(workflows=[held], schedule=FAST)
    assert (await anext(aiter(bare))).current == "on_hold"
    await bare.aclose()
    assert _no_watcher_tasks()
    with pytest.raises(StopAsyncIteration):
        await anext(aiter(bare))
    left = circleci_client.watch(workflows=[held], schedule=FAST)
    await anext(aiter(left))
    await circleci_client.close()
    assert left.closed and _no_watcher_tasks()


async def test_a_slow_consumer_holds_polling_back(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    fake = fake_circleci
    ids = fake.start_workflows(SLUG, [0.0] * 40)  # all final at the first poll
    fake.advance(0)
    fake.clear_requests()
    watcher = Watcher(circleci_client, workflows=ids, schedule=FAST, concurrency=4, buffer=2)
    async with watcher:
        first = await anext(aiter(watcher))
        # Not reading: the workers fill the buffer, then each holds one change it cannot put.
        # Every workflow is final at its first poll, so ``watching`` counts the polls answered.
        stalled = 1 + 2 + 4  # one in the consumer's hands, two buffered, one in each worker
        await wait_until(lambda: len(ids) - watcher.watching >= stalled, 10)
        # Stalled: every worker holds a change, so none has a poll in flight or can start one.
        assert len(ids) - watcher.watching == stalled
        assert len(fake.requests) == stalled
        rest = [change async for change in watcher]
    assert sorted(c.id for c in [first, *rest]) == sorted(ids)
    assert len(fake.requests) == len(ids)


async def test_an_empty_watch_ends_at_once(circleci_client: CircleCI) -> None:
    assert [c async for c in circleci_client.watch()] == []


class WindowCounter:
    """The fake's rate-limit clock (real time), counting each request the fake accounts in
    each aligned one-second window: what the server itself saw, per window."""

    def __init__(self) -> None:
        self.per_window: collections.Counter[int] = collections.Counter()

    def __call__(self) -> float:
        now = time.time()
        self.per_window[int(now)] += 1
        return now


LIMIT = 100  # requests per aligned second: far below what polling hundreds of workflows asks


@pytest.fixture
async def limited() -> AsyncIterator[tuple[FakeCircleCI, CircleCI, WindowCounter]]:
    """A fake whose clock runs 20 times faster than real time, with a rate limit (in real
    seconds) far below what polling hundreds of workflows at the schedule's pace would take."""
    windows = WindowCounter()
    async with FakeCircleCI(
        token="test-token",
        clock=ScaledClock(20.0),
        rate_limit=RateLimitPolicy((Window(LIMIT, 1),)),
        rate_limit_clock=windows,
        record=False,
    ) as fake:
        fake.add_project(SLUG)
        async with CircleCI(
            "test-token", base_url=fake.url, rate_limit=RateLimitConfig(initial_rate=None)
        ) as cci:
            yield fake, cci, windows


async def test_many_workflows_through_one_pool_under_a_binding_rate_limit(
    limited: tuple[FakeCircleCI, CircleCI, WindowCounter],
) -> None:
    fake, cci, windows = limited
    n = 3 * LIMIT  # the first polls alone are three windows' worth, all due at once
    ids = fake.start_workflows(SLUG, [i * 10.0 / n for i in range(n)])  # all done in 0.5 s
    finals: dict[str, Any] = {}
    watcher = cci.watch(workflows=ids, schedule=PollSchedule(interval=0.02, max_interval=0.1))
    async with watcher:
        async for change in watcher:
            assert change.error is None
            if change.final:
                finals[change.id] = change.item
    assert sorted(finals) == sorted(ids)
    assert all(w.status == "success" for w in finals.values())
    # Nothing was refused, and by the fake's own count no window took more than its limit.
    assert fake.rate_limited_count == 0 and cci.stats.rate_limited == 0
    assert sum(windows.per_window.values()) == cci.stats.requests >= n
    assert max(windows.per_window.values()) <= LIMIT
    assert len(windows.per_window) >= n // LIMIT
    # The limit bound: n polls were due at once, and the limiter held some of them back.
    assert cci.stats.waited > 0


async def test_many_waits_at_once(limited: tuple[FakeCircleCI, CircleCI, WindowCounter]) -> None:
    fake, cci, windows = limited
    ids = fake.start_workflows(SLUG, [i / 20 for i in range(200)])  # within 10 fake seconds
    schedule = PollSchedule(interval=0.02, max_interval=0.1)
    done = await asyncio.wait_for(
        asyncio.gather(*(cci.workflows.wait(i, schedule=schedule) for i in ids)), 20
    )
    assert [str(w.id) for w in done] == ids and {w.status for w in done} == {"success"}
    assert fake.rate_limited_count == 0 and cci.stats.rate_limited == 0
    assert max(windows.per_window.values()) <= LIMIT


# -- the fake at scale -------------------------------------------------------------------------


async def test_timed_workflows_finish_when_told_and_record_when() -> None:
    clock = ScaledClock(1000.0, origin=1_000_000.0, started=False)
    async with FakeCircleCI(clock=clock) as fake:
        fake.add_project(SLUG)
        ids = fake.start_workflows(SLUG, [30.0, 10.0], outcome="failed")
        assert clock() == 1_000_000.0  # held until started
        fake.advance(20)
        workflows = [fake._state.workflows[w] for w in ids]
        assert [w.status for w in workflows] == ["running", "failed"]
        assert workflows[1].stopped_at == 1_000_010.0
        clock.start()
        await wait_until(lambda: fake.now > 1_000_040.0, 10)  # 20 fake seconds and more
        fake.advance(0)  # what any request does first
        assert workflows[0].status == "failed" and workflows[0].stopped_at == 1_000_030.0
        with pytest.raises(ValueError, match="outcome"):
            fake.start_workflows(SLUG, [1.0], outcome="maybe")


def test_scaled_clock() -> None:
    real = [100.0]
    clock = ScaledClock(10.0, origin=5.0, started=False, real=lambda: real[0])
    real[0] = 150.0
    assert clock() == 5.0 and clock.started_at is None
    clock.start()
    real[0] = 151.5
    assert clock() == 20.0 and clock.started_at == 150.0
    with pytest.raises(ValueError, match="speed"):
        ScaledClock(0)


def _lines_run(action: Callable[[], object]) -> int:
    """How many lines of Python ``action`` executes: a measure of work that does not depend
    on the machine's speed."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


async def _simulate(n: int) -> int:
    """Start ``n`` timed workflows (0 to 60 s, shuffled), run them to the end, check every
    history; the lines of Python the fake ran to do it."""
    t0 = 2_000_000.0
    async with FakeCircleCI(clock=lambda: t0) as fake:
        fake.add_project(SLUG)
        durations = [(i * 7919 % n) * 60.0 / n for i in range(n)]  # 0 to 60 s, shuffled
        ids = fake.start_workflows(SLUG, durations)
        lines = _lines_run(lambda: fake.advance(30))
        running = sum(fake._state.workflows[w].status == "running" for w in ids)
        assert running == sum(d > 30 for d in durations) > 0
        settled: list[float] = []
        lines += _lines_run(lambda: settled.append(fake.settle()))
        assert settled == [pytest.approx(max(durations) - 30)]
        stopped = [fake._state.workflows[w].stopped_at for w in ids]
        assert stopped == [t0 + d for d in durations]
        return lines


async def test_the_simulation_stays_cheap_with_thousands_of_workflows_in_motion() -> None:
    # Counted in lines run, not seconds: twice the workflows cost about twice the work
    # (a heap: n log n). Scanning every running job per transition made it four times.
    small, large = await _simulate(2500), await _simulate(5000)
    assert large < 2.5 * small
