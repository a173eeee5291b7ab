"""``client.pipelines`` against the stateful fake: listing, triggering (and its limits), the
pipeline-run endpoint, continuation, and waiting for a pipeline to finish."""

from __future__ import annotations

import pytest

from circleci_async import CircleCI, PollSchedule, WaitTimeout
from circleci_async.errors import BadRequest, ConfigurationError, NotFound
from circleci_async.models import (
    Pipeline,
    PipelineCreation,
    PipelineNotTriggered,
    PipelineRun,
    PipelineState,
    WorkflowStatus,
)
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan

SLUG = "gh/acme/widgets"
FAST = PollSchedule(interval=0.005, max_interval=0.02)


async def test_list_for_project_yields_models_newest_first(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.seed_pipelines(SLUG, count=45, branches=("main", "dev"))
    everything = await client.pipelines.list_for_project(SLUG).collect()
    assert [p.number for p in everything] == list(range(45, 0, -1))
    assert all(isinstance(p, Pipeline) for p in everything)
    dev = await client.pipelines.list_for_project(SLUG, branch="dev").collect()
    assert {p.vcs.branch for p in dev if p.vcs} == {"dev"} and len(dev) == 22
    walk = client.pipelines.list_for_project(SLUG, max_items=25)
    assert len(await walk.collect()) == 25 and walk.truncated
    rest = await client.pipelines.list_for_project(SLUG, page_token=walk.resume_token).collect()
    assert rest[0].number == 25  # the page holding the next unseen item, from its start


async def test_org_listing_mine_and_by_number(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.add_project("gh/acme/gadgets")
    fake.add_project("gh/other/thing")
    fake.add_pipeline(SLUG)
    fake.add_pipeline("gh/acme/gadgets")
    fake.add_pipeline("gh/other/thing")
    acme = await client.pipelines.list(org_slug="gh/acme").collect()
    assert sorted(p.project_slug for p in acme) == ["gh/acme/gadgets", SLUG]
    assert len(await client.pipelines.list(mine=True).collect()) == 3
    assert [p.number for p in await client.pipelines.list_mine(SLUG).collect()] == [1]
    assert (await client.pipelines.get_by_number(SLUG, 1)).project_slug == SLUG
    with pytest.raises(NotFound):
        await client.pipelines.get_by_number(SLUG, 99)


async def test_trigger_runs_the_plan_as_time_passes(fake: FakeCircleCI, client: CircleCI) -> None:
    created = await client.pipelines.trigger(SLUG, branch="feature/x", parameters={"deploy": True})
    assert isinstance(created, PipelineCreation) and created.state is PipelineState.PENDING
    pipeline = await client.pipelines.get(created.id)
    assert pipeline.state is PipelineState.CREATED
    assert pipeline.trigger_parameters == {"deploy": True}
    assert pipeline.vcs is not None and pipeline.vcs.branch == "feature/x"
    [workflow] = await client.pipelines.workflows(created.id).collect()
    assert (workflow.name, workflow.status) == ("build-and-test", WorkflowStatus.RUNNING)
    jobs = await client.workflows.jobs(workflow.id).collect()
    assert [(j.name, j.status) for j in jobs] == [("build", "queued"), ("test", "blocked")]
    assert jobs[0].job_number == 1 and jobs[1].job_number is None
    fake.advance(5)
    assert (await client.jobs.get(SLUG, 1)).status == "running"
    fake.advance(20)  # build done at 21 s, test queued then
    jobs = await client.workflows.jobs(workflow.id).collect()
    assert [j.status for j in jobs] == ["success", "running"]
    fake.settle()
    assert (await client.workflows.get(workflow.id)).status is WorkflowStatus.SUCCESS
    values = await client.pipelines.values(created.id)
    assert values["pipeline.git.branch"] == "feature/x" and values["pipeline.number"] == 1
    config = await client.pipelines.config(created.id)
    assert "build-and-test" in config.source and config.setup_config is None


async def test_wait_returns_the_finished_pipeline(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.set_plan(
        SLUG,
        WorkflowPlan("lint", (JobPlan("lint", seconds=0.01, queue_seconds=0),)),
        WorkflowPlan("test", (JobPlan("unit", seconds=0.02, queue_seconds=0, outcome="failed"),)),
    )
    created = await client.pipelines.trigger(SLUG)
    outcome = await client.pipelines.wait(created.id, timeout=5, schedule=FAST)
    assert {w.name: w.status for w in outcome.workflows} == {"lint": "success", "test": "failed"}
    assert not outcome.succeeded and outcome.pipeline.state is PipelineState.CREATED


async def test_wait_on_an_errored_pipeline_returns_at_once(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    errored = fake.add_pipeline(SLUG, state="errored", errors=(("config", "bad yaml"),))
    outcome = await client.pipelines.wait(errored["id"], timeout=1, schedule=FAST)
    assert outcome.pipeline.errors[0].message == "bad yaml" and outcome.workflows == []
    assert len(fake.requests) == 1


async def test_wait_times_out_on_a_hold_with_the_last_answer(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.set_plan(SLUG, WorkflowPlan("deploy", (JobPlan("hold", type="approval"),)))
    created = await client.pipelines.trigger(SLUG)
    with pytest.raises(WaitTimeout) as info:
        await client.pipelines.wait(created.id, timeout=0.05, schedule=FAST)
    assert isinstance(info.value, TimeoutError)
    assert info.value.last.workflows[0].status is WorkflowStatus.ON_HOLD


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"branch": "a", "tag": "b"}, "not both"),
        ({"parameters": {f"p{i}": i for i in range(101)}}, "at most 100"),
        ({"parameters": {"k" * 129: 1}}, "at most 128"),
        ({"parameters": {"k": "v" * 513}}, "longer than 512"),
        ({"parameters": {"k": 1.5}}, "float"),
        ({"parameters": {"k": [1]}}, "list"),
    ],
)
async def test_trigger_limits_are_checked_before_sending(
    fake: FakeCircleCI, client: CircleCI, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        await client.pipelines.trigger(SLUG, **kwargs)  # type: ignore[arg-type]
    assert fake.requests == []


async def test_trigger_accepts_exactly_the_limits(fake: FakeCircleCI, client: CircleCI) -> None:
    parameters: dict[str, str | int | bool] = {
        f"p{i:03d}" + "k" * 124: "v" * 512 for i in range(100)
    }
    created = await client.pipelines.trigger(SLUG, tag="v1.0", parameters=parameters)
    assert (await client.pipelines.get(created.id)).vcs.tag == "v1.0"  # type: ignore[union-attr]


async def test_pipeline_run_started_or_not(fake: FakeCircleCI, client: CircleCI) -> None:
    started = await client.pipelines.run(SLUG, checkout_branch="main", parameters={"x": "y"})
    assert isinstance(started, PipelineRun) and started.number == 1
    fake.skip_ci(SLUG)
    skipped = await client.pipelines.run(SLUG, config_tag="v2")
    assert isinstance(skipped, PipelineNotTriggered)
    assert skipped.message is not None and "CI skip" in skipped.message
    assert len(await client.pipelines.list_for_project(SLUG).collect()) == 1
    with pytest.raises(NotFound):
        await client.pipelines.run(SLUG, definition_id="5034460f-c7c4-4c43-9457-de07e2029e7b")
    with pytest.raises(ConfigurationError, match="not both"):
        await client.pipelines.run(SLUG, config_branch="a", config_tag="b")
    with pytest.raises(ConfigurationError, match="three-part"):
        await client.pipelines.run("gh/acme")


async def test_continue_once(fake: FakeCircleCI, client: CircleCI) -> None:
    pipeline = fake.add_pipeline(SLUG, state="setup")
    key = fake.continuation_key(pipeline["id"])
    done = await client.pipelines.continue_(key, "version: 2.1\n", parameters={"run_tests": True})
    assert done.message == "Pipeline continued."
    with pytest.raises(BadRequest, match="already been continued"):
        await client.pipelines.continue_(key, "version: 2.1\n")
