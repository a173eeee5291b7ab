"""``cci.v3`` against the fake over TCP: where it goes, which credentials it sends, the
envelope, cursor pages, limits, the v3 error object, 410, deprecation notices, POST retries,
and a run seen through v3 being the pipeline seen through v2."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings

import aiohttp
import pytest

from circleci_async import CircleCI, ConfigurationError, NotFound, RetryConfig
from circleci_async.errors import BadRequest, CircleCIError, Gone, ServerError, Unauthorized
from circleci_async.testing import FakeCircleCI, Fault, RecordedRequest
from circleci_async.testing.pytest_plugin import client_for
from circleci_async.v3.models import Outcome, Phase
from circleci_async.v3.resources.runs import search_filter

from .conftest import TOKEN

SLUG = "gh/acme/widgets"


def _v3_requests(fake: FakeCircleCI) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.path.startswith("/api/v3/") and "/runner" not in r.path]


# -- where it goes and with which credentials ------------------------------------------------


def test_the_v3_base_is_derived_beside_v2_and_can_be_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CIRCLECI_V3_BASE_URL", raising=False)
    monkeypatch.delenv("CIRCLECI_BASE_URL", raising=False)
    assert str(CircleCI("t").v3_base_url) == "https://circleci.com/api/v3"
    proxied = CircleCI("t", base_url="http://proxy.local:8080/cci/api/v2/")
    assert str(proxied.v3_base_url) == "http://proxy.local:8080/cci/api/v3"
    odd = CircleCI("t", base_url="http://proxy.local/circle")
    assert str(odd.v3_base_url) == "http://proxy.local/api/v3"
    monkeypatch.setenv("CIRCLECI_V3_BASE_URL", "https://v3.example/api/v3")
    assert str(CircleCI("t").v3_base_url) == "https://v3.example/api/v3"
    explicit = CircleCI("t", v3_base_url="https://other.example/api/v3")
    assert str(explicit.v3_base_url) == "https://other.example/api/v3"
    with pytest.raises(ConfigurationError, match="v3_base_url"):
        CircleCI("t", v3_base_url="ftp://nope")


async def test_bearer_goes_to_v3_and_circle_token_to_v2_and_the_runner_api(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    me = await client.v3.users.me()
    v2_me = await client.users.me()
    await client.runner.resource_classes(namespace="acme").collect()
    assert str(me.id) == str(v2_me.id) == fake.user["id"]
    assert me.attributes.login == fake.user["login"]
    by_path = {r.path: r.headers for r in fake.requests}
    v3 = by_path["/api/v3/users"]
    assert v3["Authorization"] == f"Bearer {TOKEN}"
    assert "Circle-Token" not in v3
    assert by_path["/api/v2/me"]["Circle-Token"] == TOKEN
    assert "Authorization" not in by_path["/api/v2/me"]
    assert by_path["/api/v3/runner/resource"]["Circle-Token"] == TOKEN
    assert all(TOKEN not in str(r.query) for r in fake.requests)


async def test_the_fake_refuses_circle_token_on_v3_with_the_error_object(
    fake: FakeCircleCI,
) -> None:
    url = fake.root_url + "/api/v3/users?filter[user_id]=me"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Circle-Token": TOKEN}) as response,
    ):
        assert response.status == 401
        body = await response.json()
    assert body["error"]["type"] == "unauthorized"
    assert body["error"]["id"]
    async with client_for(fake, "wrong-token") as cci:
        with pytest.raises(Unauthorized) as caught:
            await cci.v3.users.me()
    assert caught.value.error is not None
    assert caught.value.error.type == "unauthorized"
    assert f"error id {caught.value.error_id}" in str(caught.value)
    assert "wrong-token" not in str(caught.value) and "wrong-token" not in repr(caught.value)


# -- one state, two APIs ------------------------------------------------------------------------


@pytest.fixture
async def seeded(fake: FakeCircleCI) -> dict[str, str]:
    pipeline = fake.add_pipeline(SLUG, "main")
    workflow = fake.add_workflow(pipeline["id"], "build", "failed")
    job = fake.add_job(workflow["id"], "test", "failed")
    fake.add_job(workflow["id"], "lint", "success")
    return {"pipeline": pipeline["id"], "workflow": workflow["id"], "job": job["id"]}


async def test_a_run_through_v3_is_the_pipeline_through_v2(
    fake: FakeCircleCI, client: CircleCI, seeded: dict[str, str]
) -> None:
    v2 = await client.pipelines.get(seeded["pipeline"])
    run = await client.v3.runs.get(seeded["pipeline"])
    assert run.id == v2.id
    assert run.attributes.number == v2.number
    assert run.attributes.created_at == v2.created_at
    assert run.attributes.phase is Phase.ENDED
    assert run.attributes.current_outcome is Outcome.FAILED
    project = await client.projects.get(SLUG)
    assert run.references.project is not None and run.references.project.id == project.id
    event = run.references.event
    assert event is not None and event.attributes is not None and event.attributes.vcs is not None
    assert event.attributes.vcs.branch == "main"

    workflows = await client.v3.workflows.list(run.id).collect()
    assert [w.id for w in workflows] == [uuid.UUID(seeded["workflow"])]
    workflow = await client.v3.workflows.get(seeded["workflow"])
    assert workflow.attributes.outcome is Outcome.FAILED
    assert workflow.references.run is not None and workflow.references.run.id == run.id

    jobs = await client.v3.jobs.list(workflow.id).collect()
    v2_jobs = await client.workflows.jobs(seeded["workflow"]).collect()
    assert [j.id for j in jobs] == [j.id for j in v2_jobs]
    assert [j.attributes.name for j in jobs] == ["test", "lint"]
    job = await client.v3.jobs.get(seeded["job"])
    assert job.attributes.outcome is Outcome.FAILED
    assert job.references.workflow is not None and job.references.workflow.id == workflow.id


async def test_artifacts_list_with_absolute_urls(
    fake: FakeCircleCI, client: CircleCI, seeded: dict[str, str]
) -> None:
    fake.v3.set_artifacts(
        seeded["job"],
        [{"path": "out/report.xml", "url": "https://output.example/a/report.xml", "execution": 0}],
    )
    artifacts = await client.v3.jobs.artifacts(seeded["job"]).collect()
    assert [(a.attributes.path, a.attributes.url, a.attributes.execution) for a in artifacts] == [
        ("out/report.xml", "https://output.example/a/report.xml", 0)
    ]


# -- cursor pages ---------------------------------------------------------------------------


async def test_cursor_pages_walk_everything_and_resume(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.seed_pipelines(SLUG, 45)
    expected = [str(p.id) async for p in client.pipelines.list_for_project(SLUG)]
    fake.clear_requests()
    runs = [str(r.id) async for r in client.v3.runs.list(limit=10)]
    assert sorted(runs) == sorted(expected) and len(runs) == 45
    pages = _v3_requests(fake)
    assert len(pages) == 5
    assert "page[cursor]" not in pages[0].query
    assert all(p.query["page[limit]"] == "10" and p.query["filter[user_id]"] == "me"
               for p in pages)  # fmt: skip
    cursors = [p.query["page[cursor]"] for p in pages[1:]]
    assert len(set(cursors)) == 4

    walk = client.v3.runs.list(limit=10, max_items=15)
    first = [str(r.id) async for r in walk]
    assert first == runs[:15] and walk.truncated
    rest = [str(r.id) async for r in client.v3.runs.list(limit=10, cursor=walk.resume_token)]
    assert rest == runs[10:]


async def test_a_repeated_cursor_stops_the_walk(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.seed_pipelines(SLUG, 3)
    loop = {"data": [], "page": {"next": "same", "prev": None}}
    loop["data"] = [{"id": str(uuid.uuid4()), "attributes": {}}]
    fake.inject(Fault("json", times=3, path="/api/v3/runs$", status=200, payload=loop))
    from circleci_async import PaginationError

    with pytest.raises(PaginationError, match="second time"):
        await client.v3.runs.list().collect()


async def test_page_limits_are_checked_before_sending_and_by_the_fake(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    with pytest.raises(ConfigurationError, match="at most 20"):
        client.v3.runs.list(limit=21)
    with pytest.raises(ConfigurationError, match="at most 50"):
        client.v3.projects.list(following=True, limit=51)
    with pytest.raises(ConfigurationError, match="positive"):
        client.v3.jobs.list(str(uuid.uuid4()), limit=0)
    assert not _v3_requests(fake)
    with pytest.raises(BadRequest) as caught:
        await client.v3.request("GET", "runs", params={"filter[user_id]": "me",
                                                       "page[limit]": "21"})  # fmt: skip
    error = caught.value.error
    assert error is not None and error.type == "validation_error"
    assert error.pointer == "page[limit]"
    assert "Invalid page size" in str(caught.value)


async def test_search_sends_its_cursor_and_limit_in_the_body(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.seed_pipelines(SLUG, 12, branches=("main", "dev"))
    project = await client.v3.projects.lookup(SLUG)
    assert project is not None
    expression = search_filter(branch="main")
    found = await client.v3.runs.search([project.id], filter=expression, limit=4).collect()
    assert len(found) == 6
    searches = [r for r in _v3_requests(fake) if r.path == "/api/v3/runs/search"]
    assert len(searches) == 2
    bodies = [r.json() for r in searches]
    assert bodies[0]["page"] == {"cursor": "", "limit": 4}
    assert bodies[1]["page"]["cursor"] and bodies[1]["page"]["limit"] == 4
    assert bodies[0]["scope"] == {"project_ids": [str(project.id)]}
    assert bodies[0]["filter"] == 'pipeline.git.branch == "main"'
    assert all(not r.query for r in searches)


# -- time windows (filter[from]/filter[to], scope.from/scope.to) -----------------------------

WINDOW_START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


async def _thirty_runs(fake: FakeCircleCI, client: CircleCI) -> list[tuple[str, dt.datetime]]:
    """Thirty runs a minute apart from WINDOW_START, as (id, created_at), oldest first."""
    fake.seed_pipelines(SLUG, 30, start=WINDOW_START, interval=60.0)
    runs = []
    async for run in client.v3.runs.list(limit=20):
        assert run.attributes.created_at is not None
        runs.append((str(run.id), run.attributes.created_at))
    fake.clear_requests()
    runs.sort(key=lambda item: item[1])
    assert [t for _, t in runs] == [WINDOW_START + dt.timedelta(minutes=i) for i in range(30)]
    return runs


async def test_a_bounded_listing_is_exactly_the_window_on_every_page(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    runs = await _thirty_runs(fake, client)
    since, until = runs[5][1], runs[24][1]  # both bounds are run times: inclusive keeps them
    found = [str(r.id) async for r in client.v3.runs.list(since=since, until=until, limit=6)]
    assert found == [run_id for run_id, _ in runs[5:25]][::-1]  # 20 runs, newest first
    pages = _v3_requests(fake)
    assert len(pages) == 4  # 6 + 6 + 6 + 2
    assert "page[cursor]" not in pages[0].query
    assert all("page[cursor]" in p.query for p in pages[1:])
    assert {(p.query["filter[from]"], p.query["filter[to]"]) for p in pages} == {
        ("2026-03-01T00:05:00Z", "2026-03-01T00:24:00Z")
    }


async def test_either_bound_alone_an_offset_and_an_empty_window(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    runs = await _thirty_runs(fake, client)
    ids = [run_id for run_id, _ in runs]
    since_only = [str(r.id) async for r in client.v3.runs.list(since=runs[25][1])]
    assert since_only == ids[25:][::-1]
    until_only = [str(r.id) async for r in client.v3.runs.list(until=runs[2][1], limit=2)]
    assert until_only == ids[:3][::-1]
    plus_two = dt.timezone(dt.timedelta(hours=2))  # the same instants, written at +02:00
    shifted = client.v3.runs.list(
        since=runs[10][1].astimezone(plus_two), until=runs[11][1].astimezone(plus_two)
    )
    assert [str(r.id) async for r in shifted] == [ids[11], ids[10]]
    assert _v3_requests(fake)[-1].query["filter[from]"] == "2026-03-01T02:10:00+02:00"
    between = dt.timedelta(seconds=30)  # bounds between runs: nothing on the bound to keep
    narrow = client.v3.runs.list(since=runs[3][1] + between, until=runs[4][1] + between)
    assert [str(r.id) async for r in narrow] == [ids[4]]
    backwards = client.v3.runs.list(since=runs[20][1], until=runs[10][1])
    assert await backwards.collect() == []


async def test_a_bounded_search_keeps_its_scope_on_every_page(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    runs = await _thirty_runs(fake, client)
    project = await client.v3.projects.lookup(SLUG)
    assert project is not None
    fake.clear_requests()
    found = client.v3.runs.search([project.id], since=runs[3][1], until=runs[12][1], limit=4)
    assert [str(r.id) async for r in found] == [run_id for run_id, _ in runs[3:13]][::-1]
    scopes = [r.json()["scope"] for r in _v3_requests(fake) if r.path == "/api/v3/runs/search"]
    assert len(scopes) == 3  # 4 + 4 + 2
    assert all(s == {"project_ids": [str(project.id)], "from": "2026-03-01T00:03:00Z",
                     "to": "2026-03-01T00:12:00Z"} for s in scopes)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("from", "2026-03-01"),  # a date alone
        ("from", "2026-03-01T00:00:00"),  # no offset
        ("to", "yesterday"),
        ("to", "2026-02-30T00:00:00Z"),  # no such day
        ("to", ""),
    ],
)
async def test_a_malformed_bound_is_a_bad_request_naming_the_filter(
    fake: FakeCircleCI, client: CircleCI, name: str, value: str
) -> None:
    params = {"filter[user_id]": "me", f"filter[{name}]": value}
    with pytest.raises(BadRequest) as caught:
        await client.v3.request("GET", "runs", params=params)
    assert isinstance(caught.value, CircleCIError) and caught.value.status == 400
    error = caught.value.error
    assert error is not None and error.type == "validation_error"
    assert error.title == "Invalid filter" and error.pointer == f"filter[{name}]"
    assert f"filter[{name}] must be an RFC 3339 date-time" in str(caught.value)
    assert repr(value) in str(caught.value)


async def test_a_malformed_search_bound_points_into_the_scope(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    project_id = str(uuid.uuid4())
    cases: list[tuple[dict[str, object], str]] = [
        ({"from": "2026-03-01 00:00:00Z"}, "/scope/from"),  # a space for the T
        ({"to": 1772323200}, "/scope/to"),  # epoch seconds, not a string
    ]
    for scope, pointer in cases:
        body = {"scope": {"project_ids": [project_id], **scope}, "page": {"limit": 5}}
        with pytest.raises(BadRequest) as caught:
            await client.v3.request("POST", "runs/search", json=body)
        error = caught.value.error
        assert error is not None and error.type == "validation_error"
        assert error.pointer == pointer
        assert "must be an RFC 3339 date-time" in str(caught.value)


# -- errors, removal, deprecation -----------------------------------------------------------


async def test_errors_carry_the_v3_error_object(fake: FakeCircleCI, client: CircleCI) -> None:
    with pytest.raises(NotFound) as caught:
        await client.v3.workflows.get(str(uuid.uuid4()))
    error = caught.value.error
    assert error is not None and error.type == "not_found" and error.id
    assert error.id in str(caught.value)
    with pytest.raises(BadRequest) as missing:
        await client.v3.request("GET", "jobs")
    assert missing.value.error is not None
    assert missing.value.error.title == "Missing Required Filter"
    assert missing.value.error.pointer == "filter[workflow_id]"


async def test_a_removed_operation_is_gone(
    fake: FakeCircleCI, client: CircleCI, seeded: dict[str, str]
) -> None:
    fake.v3.remove("GET", "/runs/{id}")
    with pytest.raises(Gone) as caught:
        await client.v3.runs.get(seeded["pipeline"])
    assert caught.value.status == 410
    assert caught.value.error is not None and caught.value.error.type == "gone"
    assert len([r for r in _v3_requests(fake) if r.path.startswith("/api/v3/runs/")]) == 1


async def test_deprecation_headers_warn_once_per_operation(
    fake: FakeCircleCI, client: CircleCI, seeded: dict[str, str]
) -> None:
    fake.v3.deprecate("GET", "/workflows/{id}", sunset="Wed, 01 Dec 2027 00:00:00 GMT",
                      link="https://circleci.com/changelog/x")  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await client.v3.workflows.get(seeded["workflow"])
        await client.v3.workflows.get(seeded["workflow"])
        await client.v3.runs.get(seeded["pipeline"])
    notices = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(notices) == 1
    text = str(notices[0].message)
    assert "v3.getWorkflow" in text and "2027-12-01" in text and "changelog/x" in text
    assert client.v3.deprecations.reported == {"v3.getWorkflow"}


# -- actions and retries --------------------------------------------------------------------


async def test_rerun_and_cancel(
    fake: FakeCircleCI, client: CircleCI, seeded: dict[str, str]
) -> None:
    rerun = await client.v3.workflows.rerun(seeded["workflow"], from_failed=True)
    assert str(rerun.id) != seeded["workflow"]
    last = fake.requests[-1]
    assert last.json() == {"is_from_failed": True}
    v2_workflows = await client.pipelines.workflows(seeded["pipeline"]).collect()
    assert rerun.id in {w.id for w in v2_workflows}

    (running,) = fake.start_workflows(SLUG, [600.0])
    before = await client.v3.workflows.get(running)
    assert before.attributes.phase is Phase.STARTED
    cancelled = await client.v3.workflows.cancel(running)
    assert str(cancelled.id) == running
    after = await client.v3.workflows.get(running)
    assert after.attributes.phase is Phase.ENDED
    assert after.attributes.outcome is Outcome.CANCELED


async def test_a_post_is_retried_only_where_it_is_marked_idempotent(fake: FakeCircleCI) -> None:
    async with client_for(
        fake, TOKEN, retry=RetryConfig(backoff_base=0.01, backoff_max=0.02)
    ) as cci:
        project = await cci.v3.projects.lookup(SLUG)
        assert project is not None
        fake.inject(Fault("status", status=503, method="POST", path="/runs/search$"))
        assert await cci.v3.runs.search([project.id]).collect() == []
        searches = [r for r in fake.requests if r.path == "/api/v3/runs/search"]
        assert len(searches) == 2

        workflow = fake.add_workflow(fake.add_pipeline(SLUG)["id"], "build", "success")
        fake.inject(Fault("status", status=503, method="POST", path="/rerun$"))
        with pytest.raises(ServerError):
            await cci.v3.workflows.rerun(workflow["id"])
        reruns = [r for r in fake.requests if r.path.endswith("/rerun")]
        assert len(reruns) == 1


# -- users, orgs, projects ------------------------------------------------------------------


async def test_orgs_and_projects(fake: FakeCircleCI, client: CircleCI) -> None:
    org = await client.v3.orgs.lookup("gh/acme")
    assert org is not None and str(org.id) == fake.org_id("gh/acme")
    assert await client.v3.orgs.lookup("gh/nobody") is None
    settings = await client.v3.orgs.settings(org.id)
    assert settings.attributes.is_running_disabled is False

    v2 = await client.projects.get(SLUG)
    project = await client.v3.projects.lookup(SLUG)
    assert project is not None and project.id == v2.id
    assert project.attributes.name == v2.name
    assert project.references.org is not None and project.references.org.id == org.id
    assert (await client.v3.projects.get(project.id)).id == project.id
    listed = await client.v3.projects.list(org_id=org.id).collect()
    assert project.id in {p.id for p in listed}
    project_settings = await client.v3.projects.settings(project.id)
    assert project_settings.attributes.pr_only_branch_overrides == ["main"]
    with pytest.raises(ConfigurationError, match="exactly one"):
        client.v3.projects.list()
    with pytest.raises(BadRequest):
        await client.v3.request("GET", "projects")
