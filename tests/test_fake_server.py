"""Tests of the fake CircleCI server itself, spoken to over TCP with a raw aiohttp client.

The client's tests trust this fake, so it is checked here against the OpenAPI spec, the API
contract notes (pagination, error bodies, auth) and the rate-limit header semantics.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict, MultiDict

import circleci_async.testing as testing_pkg
from circleci_async import CircleCI
from circleci_async.testing import (
    FakeCircleCI,
    Fault,
    RateLimitLedger,
    RateLimitPolicy,
    RecordedRequest,
    Window,
    pytest_plugin,
    render_headers,
)

from ._openapi import V2_SPEC, load_spec
from ._waiting import wait_until
from .conftest import TOKEN

SLUG = "gh/acme/widgets"


class Clock:
    """A settable clock for the fake: rate-limit windows move only when a test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        headers={"Circle-Token": TOKEN}, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        yield session


async def get_json(
    http: aiohttp.ClientSession, url: str, **kwargs: Any
) -> tuple[int, Any, CIMultiDict[str]]:
    async with http.get(url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None), CIMultiDict(resp.headers)


async def call(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, Any]:
    status, body, _ = await get_json(http, url, **kwargs)
    return status, body


async def walk(
    http: aiohttp.ClientSession, url: str, params: dict[str, str] | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_page_token to the end."""
    pages = []
    query = dict(params or {})
    while True:
        status, body, _ = await get_json(http, url, params=query)
        assert status == 200, body
        assert set(body) == {"items", "next_page_token"}
        pages.append(body["items"])
        if body["next_page_token"] is None:
            return pages
        query["page-token"] = body["next_page_token"]


# --- authentication ------------------------------------------------------------------------


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "headers",
    [
        {"Circle-Token": TOKEN},
        {"Authorization": _basic(TOKEN)},
        {"Authorization": f"Bearer {TOKEN}"},
    ],
    ids=["circle-token", "basic", "bearer"],
)
async def test_each_accepted_auth_form(fake: FakeCircleCI, headers: dict[str, str]) -> None:
    async with aiohttp.ClientSession() as session:
        status, body, _ = await get_json(session, f"{fake.url}/me", headers=headers)
    assert status == 200
    assert body["login"] == fake.user["login"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Circle-Token": "wrong"},
        {"Authorization": _basic(TOKEN, "a-password")},
        {"Authorization": _basic("wrong")},
        {"Authorization": "Basic !!not-base64!!"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
    ],
    ids=[
        "none",
        "wrong-header",
        "basic-with-password",
        "basic-wrong",
        "basic-garbage",
        "bearer-wrong",
        "no-scheme",
    ],
)
async def test_rejected_credentials_get_circleci_401(
    fake: FakeCircleCI, headers: dict[str, str]
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.url}/project/{SLUG}", headers=headers) as resp,
    ):
        assert resp.status == 401
        assert resp.content_type == "application/json"
        raw = await resp.read()
    assert json.loads(raw) == {"message": "Invalid token provided."}
    assert TOKEN.encode() not in raw


async def test_tokens_collection_replaces_the_single_token() -> None:
    statuses = []
    async with (
        FakeCircleCI(token="ignored", tokens=["one", "two"]) as fake,
        aiohttp.ClientSession() as session,
    ):
        for token in ("one", "two", "ignored"):
            status, _, _ = await get_json(
                session, f"{fake.url}/me", headers={"Circle-Token": token}
            )
            statuses.append(status)
    assert statuses == [200, 200, 401]


async def test_auth_is_checked_before_routing(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    async with aiohttp.ClientSession() as anonymous:
        status, body, _ = await get_json(anonymous, f"{fake.url}/no/such/route")
    assert (status, body) == (401, {"message": "Invalid token provided."})
    assert await call(http, f"{fake.url}/no/such/route") == (404, {"message": "Not found"})
    assert await call(http, f"{fake.root_url}/elsewhere") == (404, {"message": "Not found"})
    status, body, _ = await get_json(http, f"{fake.url}/project/gh/acme/nothing")
    assert (status, body) == (404, {"message": "Project not found"})
    # PUT: no operation of the API (DELETE is deleteProjectBySlug since the fake serves it).
    async with http.put(f"{fake.url}/project/{SLUG}") as resp:
        assert resp.status == 405
        assert await resp.json() == {"message": "Method not allowed"}


# --- recording -------------------------------------------------------------------------------


async def test_every_request_is_recorded_in_order_even_rejected_ones() -> None:
    clock = Clock(1_700_000_000.5)
    async with FakeCircleCI(token=TOKEN, clock=clock) as fake:
        fake.add_project(SLUG)
        async with aiohttp.ClientSession() as session:
            await get_json(session, f"{fake.url}/me")  # no token: 401, still recorded
            clock.now += 2
            url = f"{fake.url}/project/gh%2Facme%2Fwidgets/pipeline?branch=a%2Fb&x=1&x=2"
            async with session.post(
                url, json={"branch": "dev"}, headers={"Circle-Token": TOKEN, "X-Trace": "t1"}
            ) as resp:
                assert resp.status == 201
        first, second = fake.requests
        assert isinstance(second, RecordedRequest)
        assert (first.method, first.path, first.time) == ("GET", "/api/v2/me", 1_700_000_000.5)
        assert second.method == "POST"
        assert second.path == "/api/v2/project/gh/acme/widgets/pipeline"  # decoded
        assert isinstance(second.query, MultiDict)
        assert second.query.getall("x") == ["1", "2"]
        assert second.query["branch"] == "a/b"
        assert isinstance(second.headers, CIMultiDict)
        assert second.headers["x-trace"] == "t1"
        assert second.json() == {"branch": "dev"}
        assert second.time == 1_700_000_002.5
        assert TOKEN not in repr(second)
        assert "'Circle-Token', '<redacted>'" in repr(second)
        fake.clear_requests()
        assert fake.requests == []


# --- pagination ------------------------------------------------------------------------------


async def test_walk_collects_every_pipeline_once_newest_first(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=95, branches=("main", "dev"))
    pages = await walk(http, f"{fake.url}/project/{SLUG}/pipeline")
    assert [len(page) for page in pages] == [20, 20, 20, 20, 15]
    numbers = [item["number"] for page in pages for item in page]
    assert numbers == list(range(95, 0, -1))
    created = [item["created_at"] for page in pages for item in page]
    assert created == sorted(created, reverse=True)


async def test_branch_filter_pages_only_that_branch(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=95, branches=("main", "dev"))
    pages = await walk(http, f"{fake.url}/project/{SLUG}/pipeline", {"branch": "dev"})
    items = [item for page in pages for item in page]
    assert {item["vcs"]["branch"] for item in items} == {"dev"}
    assert [item["number"] for item in items] == list(range(94, 0, -2))
    assert len(pages) == 3
    status, body, _ = await get_json(
        http, f"{fake.url}/project/{SLUG}/pipeline", params={"branch": "none-such"}
    )
    assert (status, body) == (200, {"items": [], "next_page_token": None})


async def test_last_page_has_null_token_and_empty_list_too(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    url = f"{fake.url}/project/{SLUG}/pipeline"
    assert await call(http, url) == (200, {"items": [], "next_page_token": None})
    fake.seed_pipelines(SLUG, count=20)
    _, body, headers = await get_json(http, url)
    assert headers["Content-Type"] == "application/json"
    assert len(body["items"]) == 20
    assert body["next_page_token"] is None  # exactly one full page: no empty page after it


@pytest.mark.parametrize("token", ["garbage!", "bm90LWEtdG9rZW4", "MTIzLmFiYw"])
async def test_undecodable_page_token_is_400(
    fake: FakeCircleCI, http: aiohttp.ClientSession, token: str
) -> None:
    fake.seed_pipelines(SLUG, count=30)
    status, body, _ = await get_json(
        http, f"{fake.url}/project/{SLUG}/pipeline", params={"page-token": token}
    )
    assert (status, body) == (400, {"message": "Invalid page token."})


async def test_page_token_is_bound_to_its_list_and_filter(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=50)
    url = f"{fake.url}/project/{SLUG}/pipeline"
    _, body, _ = await get_json(http, url, params={"branch": "dev"})
    token = body["next_page_token"]
    status, body, _ = await get_json(http, url, params={"page-token": token})
    assert (status, body) == (400, {"message": "Invalid page token."})
    status, _, _ = await get_json(http, url, params={"branch": "dev", "page-token": token})
    assert status == 200


async def test_page_size_can_change_at_runtime(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=30)
    url = f"{fake.url}/project/{SLUG}/pipeline"
    _, body, _ = await get_json(http, url)
    assert len(body["items"]) == 20
    fake.page_size = 7  # same URL again: the cached page must not be served
    pages = await walk(http, url)
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    with pytest.raises(ValueError, match="at least 1"):
        fake.page_size = 0


async def test_changes_are_visible_through_the_page_cache(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=5)
    url = f"{fake.url}/project/{SLUG}/pipeline"
    _, before, _ = await get_json(http, url)
    added = fake.add_pipeline(SLUG, branch="feature")
    _, after, _ = await get_json(http, url)
    assert before["items"][0]["number"] == 5
    assert after["items"][0] == added
    assert after["items"][0]["number"] == 6


async def test_pipeline_added_mid_walk_neither_repeats_nor_skips(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=45)
    url = f"{fake.url}/project/{SLUG}/pipeline"
    _, first, _ = await get_json(http, url)
    fake.add_pipeline(SLUG)  # newer than everything: belongs before the walk's position
    rest = await walk(http, url, {"page-token": first["next_page_token"]})
    numbers = [i["number"] for i in first["items"]] + [i["number"] for p in rest for i in p]
    assert numbers == list(range(45, 0, -1))


async def test_workflows_and_jobs_paginate_in_creation_order(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.page_size = 2
    pipeline = fake.add_pipeline(SLUG)
    workflows = [fake.add_workflow(pipeline["id"], name=f"wf{i}") for i in range(5)]
    jobs = [fake.add_job(workflows[0]["id"], name=f"job{i}") for i in range(3)]
    pages = await walk(http, f"{fake.url}/pipeline/{pipeline['id']}/workflow")
    assert [w["name"] for page in pages for w in page] == [w["name"] for w in workflows]
    assert [len(page) for page in pages] == [2, 2, 1]
    pages = await walk(http, f"{fake.url}/workflow/{workflows[0]['id']}/job")
    assert [j["id"] for page in pages for j in page] == [j["id"] for j in jobs]
    assert [j["job_number"] for j in jobs] == [1, 2, 3]
    status, empty, _ = await get_json(http, f"{fake.url}/workflow/{workflows[1]['id']}/job")
    assert (status, empty) == (200, {"items": [], "next_page_token": None})


async def test_single_resources_and_their_404s(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    pipeline = fake.add_pipeline(SLUG, tag="v1.0")
    workflow = fake.add_workflow(pipeline["id"], status="running")
    job = fake.add_job(workflow["id"], status="running")
    assert await call(http, f"{fake.url}/pipeline/{pipeline['id']}") == (200, pipeline)
    assert await call(http, f"{fake.url}/workflow/{workflow['id']}") == (200, workflow)
    _, details, _ = await get_json(http, f"{fake.url}/project/{SLUG}/job/{job['job_number']}")
    assert details["number"] == job["job_number"]
    assert details["latest_workflow"] == {"id": workflow["id"], "name": workflow["name"]}
    assert details["pipeline"] == {"id": pipeline["id"]}
    assert details["stopped_at"] is None and details["duration"] is None
    missing = str(uuid.UUID(int=0))
    for url, message in [
        (f"{fake.url}/pipeline/{missing}", "Pipeline not found"),
        (f"{fake.url}/pipeline/{missing}/workflow", "Pipeline not found"),
        (f"{fake.url}/workflow/{missing}", "Workflow not found"),
        (f"{fake.url}/workflow/{missing}/job", "Workflow not found"),
        (f"{fake.url}/project/{SLUG}/job/999", "Job not found"),
        (f"{fake.url}/project/gh/acme/nothing/pipeline", "Project not found"),
    ]:
        assert await call(http, url) == (404, {"message": message}), url


def test_seeding_is_deterministic_for_a_seed() -> None:
    def build(seed: int) -> dict[str, Any]:
        fake = FakeCircleCI(seed=seed)
        fake.add_project(SLUG)
        fake.seed_pipelines(SLUG, count=3, workflows_per_pipeline=1, jobs_per_workflow=2)
        return fake.add_pipeline(SLUG, created_at=0.0)

    assert build(1) == build(1)
    assert build(1)["id"] != build(2)["id"]


def test_seeding_rejects_what_the_api_could_not_return() -> None:
    fake = FakeCircleCI()
    with pytest.raises(KeyError, match="add_project"):
        fake.add_pipeline("gh/acme/unknown")
    fake.add_project(SLUG)
    with pytest.raises(ValueError, match="pipeline state"):
        fake.add_pipeline(SLUG, state="done")
    with pytest.raises(ValueError, match="three parts"):
        fake.add_project("gh/acme")
    pipeline = fake.add_pipeline(SLUG)
    with pytest.raises(ValueError, match="workflow status"):
        fake.add_workflow(pipeline["id"], status="passed")
    with pytest.raises(KeyError, match="unknown pipeline"):
        fake.add_workflow("no-such-id")


# --- JSON shapes against the OpenAPI spec ----------------------------------------------------

_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def schema_errors(
    value: Any, schema: dict[str, Any], spec: dict[str, Any], at: str = "$"
) -> list[str]:
    """A small validator for the subset of OpenAPI 3.0 the spec uses. Stricter than the spec in
    one way: an object may not carry properties its schema does not declare, so a misspelled
    field in the fake is caught."""
    schema = _resolve(schema, spec)
    if value is None:
        nullable = schema.get("x-nullable") or schema.get("nullable")
        return [] if nullable else [f"{at}: null, but not nullable"]
    if "anyOf" in schema:
        if all(schema_errors(value, option, spec, at) for option in schema["anyOf"]):
            return [f"{at}: {value!r} matches none of anyOf"]
        return []
    errors: list[str] = []
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {value!r}"]
        required = schema.get("required", ())
        errors += [f"{at}.{name}: required, missing" for name in required if name not in value]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                errors += schema_errors(item, properties[name], spec, f"{at}.{name}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, spec, f"{at}.{name}")
            elif properties:
                errors.append(f"{at}.{name}: not declared in the schema")
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{at}: expected an array"]
        for index, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), spec, f"{at}[{index}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{at}: expected a string, got {value!r}"]
        if schema.get("format") == "date-time":
            if not _DATE_TIME.fullmatch(value):
                errors.append(f"{at}: {value!r} is not an RFC 3339 date-time")
            else:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
        if schema.get("format") == "uuid":
            try:
                uuid.UUID(value)
            except ValueError:
                errors.append(f"{at}: {value!r} is not a uuid")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{at}: expected an integer, got {value!r}")
        elif "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{at}: {value} below the minimum")
    elif kind == "boolean" and not isinstance(value, bool):
        errors.append(f"{at}: expected a boolean")
    return errors


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec(V2_SPEC)


def response_schema(spec: dict[str, Any], operation_id: str) -> tuple[int, dict[str, Any]]:
    for methods in spec["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                for status in ("200", "201"):
                    if status in operation["responses"]:
                        response = _resolve(operation["responses"][status], spec)
                        return int(status), response["content"]["application/json"]["schema"]
    raise LookupError(operation_id)


def test_the_validator_catches_what_it_should(spec: dict[str, Any]) -> None:
    _, schema = response_schema(spec, "getCurrentUser")
    good = {"id": str(uuid.uuid4()), "login": "l", "name": "n", "avatar_url": None}
    assert schema_errors(good, schema, spec) == []
    assert schema_errors({**good, "id": "nope", "logn": "x"}, schema, spec) == [
        "$.id: 'nope' is not a uuid",
        "$.logn: not declared in the schema",
    ]
    assert "$.id: required, missing" in schema_errors({"login": "l"}, schema, spec)
    assert schema_errors({**good, "login": 1}, schema, spec) == [
        "$.login: expected a string, got 1"
    ]


@pytest.mark.parametrize(
    ("operation_id", "method", "path"),
    [
        ("getCurrentUser", "GET", "/me"),
        ("getProjectBySlug", "GET", "/project/{slug}"),
        ("listPipelinesForProject", "GET", "/project/{slug}/pipeline"),
        ("getPipelineById", "GET", "/pipeline/{pipeline}"),
        ("listWorkflowsByPipelineId", "GET", "/pipeline/{pipeline}/workflow"),
        ("getWorkflowById", "GET", "/workflow/{workflow}"),
        ("listWorkflowJobs", "GET", "/workflow/{workflow}/job"),
        ("getJobDetails", "GET", "/project/{slug}/job/{job}"),
        ("triggerPipeline", "POST", "/project/{slug}/pipeline"),
    ],
)
async def test_route_json_matches_the_spec(
    fake: FakeCircleCI,
    http: aiohttp.ClientSession,
    spec: dict[str, Any],
    operation_id: str,
    method: str,
    path: str,
) -> None:
    # Data exercising the optional and nullable fields too.
    fake.add_pipeline(SLUG, tag="v1", parameters={"deploy": True, "n": 3, "env": "prod"})
    fake.add_pipeline(SLUG, state="errored", errors=(("config", "bad yaml"),))
    pipeline = fake.add_pipeline(SLUG, branch="main")
    workflow = fake.add_workflow(pipeline["id"], status="on_hold", tag="setup")
    fake.add_workflow(pipeline["id"], status="failed")
    build = fake.add_job(workflow["id"], name="build", parallelism=2)
    fake.add_job(
        workflow["id"], name="hold", type="approval", status="on_hold", dependencies=(build["id"],)
    )
    url = fake.url + path.format(
        slug=SLUG, pipeline=pipeline["id"], workflow=workflow["id"], job=build["job_number"]
    )
    expected_status, schema = response_schema(spec, operation_id)
    async with http.request(method, url, json={"branch": "dev"} if method == "POST" else None) as r:
        assert r.status == expected_status
        assert r.headers["Content-Type"] == "application/json"
        body = await r.json()
    assert schema_errors(body, schema, spec) == []
    if "items" in body:
        assert body["items"], "validate real items, not an empty list"


# --- triggering ------------------------------------------------------------------------------


async def test_trigger_creates_a_pipeline(fake: FakeCircleCI, http: aiohttp.ClientSession) -> None:
    url = f"{fake.url}/project/{SLUG}/pipeline"
    async with http.post(url, json={"branch": "feature/x", "parameters": {"a": 1}}) as resp:
        assert resp.status == 201
        created = await resp.json()
    assert set(created) == {"id", "state", "number", "created_at"}
    assert created["number"] == 1
    async with http.post(url, json={"tag": "v2"}) as resp:
        tagged = await resp.json()
    async with http.post(url) as resp:  # no body at all: the default branch
        default = await resp.json()
    assert [tagged["number"], default["number"]] == [2, 3]
    _, page, _ = await get_json(http, url)
    newest, by_tag, first = page["items"]
    assert newest["vcs"]["branch"] == "main"
    assert by_tag["vcs"]["tag"] == "v2" and "branch" not in by_tag["vcs"]
    assert first["id"] == created["id"]
    assert first["vcs"]["branch"] == "feature/x"
    assert first["trigger_parameters"] == {"a": 1}
    assert first["trigger"]["type"] == "api"


@pytest.mark.parametrize(
    "body",
    [
        b'{"branch": "a", "tag": "b"}',
        b"{not json",
        b"[1, 2]",
        b'{"parameters": {"x": 1.5}}',
        b'{"parameters": [1]}',
        b'{"branch": 7}',
    ],
)
async def test_trigger_rejects_bad_bodies(
    fake: FakeCircleCI, http: aiohttp.ClientSession, body: bytes
) -> None:
    async with http.post(
        f"{fake.url}/project/{SLUG}/pipeline",
        data=body,
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
        error = await resp.json()
    assert isinstance(error["message"], str) and error["message"]
    _, page, _ = await get_json(http, f"{fake.url}/project/{SLUG}/pipeline")
    assert page["items"] == []


async def test_trigger_on_unknown_project_is_404(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{fake.url}/project/gh/acme/nope/pipeline", json={}) as resp:
        assert resp.status == 404
        assert await resp.json() == {"message": "Project not found"}


# --- rate limiting: the pure accounting ------------------------------------------------------


def test_ledger_windows_are_aligned_and_rejections_do_not_count() -> None:
    policy = RateLimitPolicy((Window(2, 60),))
    ledger = RateLimitLedger()
    # 59.9 and 60.0 fall in different aligned minutes (like Kong), though 0.1 s apart.
    assert [ledger.hit(policy, "k", 59.0).admitted for _ in range(3)] == [True, True, False]
    assert ledger.hit(policy, "k", 59.9).retry_after == 1
    fresh = ledger.hit(policy, "k", 60.0)
    assert fresh.admitted
    assert fresh.statuses[0].remaining == 1
    assert fresh.statuses[0].reset_at == 120
    assert ledger.hit(policy, "other-token", 61.0).statuses[0].remaining == 1


def test_ledger_needs_room_in_every_window() -> None:
    policy = RateLimitPolicy((Window(5, 1), Window(3, 60)))
    ledger = RateLimitLedger()
    decisions = [ledger.hit(policy, "k", 10.5 + i) for i in range(4)]
    assert [d.admitted for d in decisions] == [True, True, True, False]
    last = decisions[-1]
    assert [s.remaining for s in last.statuses] == [5, 0]  # the second window blocks
    assert last.retry_at == 60
    assert last.retry_after == 47  # ceil(60 - 13.5)
    # When several windows block, the wait lasts until the last of them resets.
    both = RateLimitPolicy((Window(1, 1), Window(1, 60)))
    ledger.hit(both, "j", 10.5)
    blocked = ledger.hit(both, "j", 10.6)
    assert [s.remaining for s in blocked.statuses] == [0, 0]
    assert (blocked.retry_at, blocked.retry_after) == (60, 50)


def test_render_headers_by_family_reports_the_tightest_window() -> None:
    policy = RateLimitPolicy(
        (Window(10, 1, "x"), Window(4, 60, "x"), Window(100, 3600, "ietf"), Window(7, 86400)),
        retry_after="date",
    )
    decision = RateLimitLedger().hit(policy, "k", 1_000_000.25)
    headers = render_headers(policy, decision)
    assert headers == {
        "X-RateLimit-Limit-Day": "7",
        "X-RateLimit-Remaining-Day": "6",
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "99",
        "RateLimit-Reset": "800",  # the hour ends at 1_000_800
        "X-RateLimit-Limit": "4",  # 3 left of 4 beats 9 left of 10
        "X-RateLimit-Remaining": "3",
        "X-RateLimit-Reset": "20",  # the minute ends at 1_000_020
    }


def test_policy_validation_and_parsing() -> None:
    with pytest.raises(ValueError, match="x-window"):
        Window(10, 30)
    assert Window(10, 30, "ietf").seconds == 30
    assert RateLimitPolicy.parse("none") is None
    assert RateLimitPolicy.parse("circleci") == RateLimitPolicy.circleci()
    assert RateLimitPolicy.parse("20/s, 600/m,1000/m:ietf") == RateLimitPolicy(
        (Window(20, 1), Window(600, 60), Window(1000, 60, "ietf"))
    )
    with pytest.raises(ValueError, match="bad rate-limit window"):
        RateLimitPolicy.parse("20 per second")


# --- rate limiting over HTTP -----------------------------------------------------------------


async def _statuses(http: aiohttp.ClientSession, url: str, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        async with http.get(url) as resp:
            statuses.append(resp.status)
    return statuses


async def test_rate_limit_admits_exactly_the_limit_then_resets(http: aiohttp.ClientSession) -> None:
    clock = Clock(1_800_000_000.4)
    policy = RateLimitPolicy((Window(3, 1), Window(5, 60)))
    async with FakeCircleCI(token=TOKEN, clock=clock, rate_limit=policy) as fake:
        url = f"{fake.url}/me"
        assert await _statuses(http, url, 5) == [200, 200, 200, 429, 429]
        async with http.get(url) as resp:
            assert resp.status == 429
            assert await resp.json() == {"message": "Rate limit exceeded."}
            assert resp.headers["Retry-After"] == "1"  # ceil(0.6 s) to the next second
            assert resp.headers["X-RateLimit-Limit-Second"] == "3"
            assert resp.headers["X-RateLimit-Remaining-Second"] == "0"
            assert resp.headers["X-RateLimit-Limit-Minute"] == "5"
            assert resp.headers["X-RateLimit-Remaining-Minute"] == "2"  # 429s not counted
        assert fake.rate_limited_count == 3

        clock.now += 1  # a new second: two more fit in the minute
        assert await _statuses(http, url, 3) == [200, 200, 429]
        async with http.get(url) as resp:
            assert resp.headers["Retry-After"] == "59"  # the minute ends at 1_800_000_060
            assert resp.headers["X-RateLimit-Remaining-Second"] == "1"
        clock.now = 1_800_000_060.0
        assert await _statuses(http, url, 1) == [200]


async def test_rate_limit_headers_on_admitted_and_faulted_responses(
    http: aiohttp.ClientSession,
) -> None:
    clock = Clock(1_800_000_030.0)
    async with FakeCircleCI(
        token=TOKEN, clock=clock, rate_limit=RateLimitPolicy.circleci()
    ) as fake:
        fake.add_project(SLUG)
        fake.inject(Fault("status", status=502))
        async with http.get(f"{fake.url}/project/{SLUG}") as resp:
            assert resp.status == 502
            faulted = dict(resp.headers)
        async with http.get(f"{fake.url}/project/{SLUG}") as resp:
            assert resp.status == 200
            headers = resp.headers
            # Two systems that disagree: Kong's minute (600) is lower than the gateway's (1000).
            assert headers["X-RateLimit-Limit-Second"] == "20"
            assert headers["X-RateLimit-Limit-Minute"] == "600"
            assert headers["X-RateLimit-Remaining-Minute"] == "598"  # the fault counted
            assert headers["RateLimit-Limit"] == "1000"
            assert headers["RateLimit-Remaining"] == "998"
            assert headers["RateLimit-Reset"] == "30"
            assert "Retry-After" not in headers
    assert faulted["X-RateLimit-Remaining-Minute"] == "599"


async def test_rate_limit_is_per_token_and_ignores_unauthenticated() -> None:
    clock = Clock(1_800_000_000.0)
    policy = RateLimitPolicy((Window(1, 60),))
    statuses = []
    async with (
        FakeCircleCI(tokens={"a", "b"}, clock=clock, rate_limit=policy) as fake,
        aiohttp.ClientSession() as session,
    ):
        for token in ("bad", "a", "a", "b"):
            async with session.get(f"{fake.url}/me", headers={"Circle-Token": token}) as r:
                statuses.append(r.status)
                if token == "bad":
                    assert "X-RateLimit-Limit-Minute" not in r.headers
    assert statuses == [401, 200, 429, 200]


async def test_retry_after_as_http_date(http: aiohttp.ClientSession) -> None:
    clock = Clock(1_800_000_007.3)
    policy = RateLimitPolicy((Window(1, 60),), retry_after="date")
    async with FakeCircleCI(token=TOKEN, clock=clock, rate_limit=policy) as fake:
        assert await _statuses(http, f"{fake.url}/me", 1) == [200]
        async with http.get(f"{fake.url}/me") as resp:
            assert resp.status == 429
            value = resp.headers["Retry-After"]
    assert value.endswith(" GMT")
    assert parsedate_to_datetime(value) == datetime.fromtimestamp(1_800_000_060, timezone.utc)


async def test_text_429_without_retry_after_and_runtime_policy_change(
    http: aiohttp.ClientSession,
) -> None:
    clock = Clock(1_800_000_000.0)
    async with FakeCircleCI(token=TOKEN, clock=clock) as fake:
        url = f"{fake.url}/me"
        assert await _statuses(http, url, 3) == [200, 200, 200]  # no policy: unlimited
        fake.rate_limit = RateLimitPolicy((Window(1, 1),), retry_after="none", body="text")
        assert await _statuses(http, url, 1) == [200]
        async with http.get(url) as resp:
            assert resp.status == 429
            assert resp.content_type == "text/plain"
            assert await resp.text() == "Rate limited."
            assert "Retry-After" not in resp.headers
        fake.rate_limit = None
        assert await _statuses(http, url, 2) == [200, 200]


# --- faults ----------------------------------------------------------------------------------


async def test_status_fault_with_headers_used_up_after_times(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault("status", status=503, times=2, headers={"Retry-After": "3"}))
    url = f"{fake.url}/project/{SLUG}"
    for _ in range(2):
        async with http.get(url) as resp:
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "3"
            assert await resp.json() == {"message": "Service Unavailable"}
    assert fake.pending_faults == []
    assert (await call(http, url))[0] == 200


async def test_fault_matches_method_and_path(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault("status", status=500, body="boom", method="POST", path=r"/pipeline$"))
    assert (await call(http, f"{fake.url}/project/{SLUG}/pipeline"))[0] == 200  # GET
    assert (await call(http, f"{fake.url}/me"))[0] == 200
    async with http.post(f"{fake.url}/project/{SLUG}/pipeline", json={}) as resp:
        assert resp.status == 500
        assert await resp.json() == {"message": "boom"}
    fake.inject(Fault("status", status=418))
    assert len(fake.pending_faults) == 1
    fake.clear_faults()
    assert (await call(http, f"{fake.url}/me"))[0] == 200


async def test_json_fault_sends_any_payload(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault("json", status=400, payload={"error": "bad policy bundle"}))
    assert await call(http, f"{fake.url}/me") == (400, {"error": "bad policy bundle"})


async def test_text_fault_looks_like_a_gateway_page(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.inject(Fault("text", status=502, body="<html>Bad Gateway</html>"))
    async with http.get(f"{fake.url}/me") as resp:
        assert resp.status == 502
        assert resp.content_type == "text/plain"
        assert await resp.text() == "<html>Bad Gateway</html>"


async def test_delay_fault_then_normal_answer(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    # Held: a delay far longer than the test, so "not answered yet" cannot be a race.
    fake.inject(Fault("delay", delay=60, path="/me$"))
    held = asyncio.create_task(get_json(http, f"{fake.url}/me"))
    try:
        await wait_until(lambda: not fake.pending_faults, what="the delay fault taken")
        assert [r.path for r in fake.requests] == ["/api/v2/me"]
        # a later request is not queued behind the held one
        status, body, _ = await get_json(http, f"{fake.url}/project/{SLUG}")
        assert status == 200 and body["slug"] == SLUG
        assert not held.done()
    finally:
        held.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await held
    # A short delay, then the normal answer.
    fake.inject(Fault("delay", delay=0.01))
    status, body, _ = await get_json(http, f"{fake.url}/project/{SLUG}")
    assert status == 200 and body["slug"] == SLUG
    assert not fake.pending_faults


async def test_disconnect_fault_breaks_the_payload(
    fake: FakeCircleCI, http: aiohttp.ClientSession
) -> None:
    fake.seed_pipelines(SLUG, count=20)
    fake.inject(Fault("disconnect"))
    url = f"{fake.url}/project/{SLUG}/pipeline"
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
        async with http.get(url) as resp:
            await resp.read()
    status, body, _ = await get_json(http, url)  # the next request gets a fresh connection
    assert status == 200 and len(body["items"]) == 20


async def test_malformed_json_fault(fake: FakeCircleCI, http: aiohttp.ClientSession) -> None:
    fake.inject(Fault("malformed_json", path="/me$"))
    async with http.get(f"{fake.url}/me") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        raw = await resp.read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="'kind' must be in"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'times' must be >= 1"):
        Fault("status", times=0)
    fake = FakeCircleCI()
    with pytest.raises(re.error):
        fake.inject(Fault("status", path="("))


# --- lifecycle, command line, pytest plugin --------------------------------------------------


async def test_lifecycle_without_context_manager() -> None:
    fake = FakeCircleCI()
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.url
    await fake.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v2", fake.url)
        assert fake.url == fake.root_url + "/api/v2"
        with pytest.raises(RuntimeError, match="already started"):
            await fake.start()
    finally:
        await fake.close()
    await fake.close()  # idempotent


async def _spawn(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``python -m circleci_async.testing`` on the same copy of the package this test
    imported (``-m`` puts the working directory first on the path)."""
    package_root = Path(testing_pkg.__file__).parents[2]
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "circleci_async.testing", "--port", "0", *args),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=package_root,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process, line.decode()


async def test_command_line_serves_until_terminated() -> None:
    process, line = await _spawn(
        "--token", "cli-secret", "--pipelines", "45", "--rate-limit", "100/s,1000/m:ietf"
    )
    try:
        match = re.fullmatch(r"READY (http://127\.0\.0\.1:\d+/api/v2)\n", line)
        assert match, line
        async with aiohttp.ClientSession(headers={"Circle-Token": "cli-secret"}) as session:
            status, body, headers = await get_json(
                session, f"{match[1]}/project/{SLUG}/pipeline", timeout=aiohttp.ClientTimeout(10)
            )
        assert status == 200
        assert [item["number"] for item in body["items"]] == list(range(45, 25, -1))
        assert headers["X-RateLimit-Limit-Second"] == "100"
        assert headers["RateLimit-Limit"] == "1000"
    finally:
        process.terminate()
        returncode = await asyncio.wait_for(process.wait(), timeout=10)
    assert returncode == 0
    assert process.stdout is not None
    assert b"cli-secret" not in line.encode() + await process.stdout.read()


async def test_command_line_exits_when_stdin_closes() -> None:
    process, line = await _spawn()
    assert line.startswith("READY http://127.0.0.1:")
    assert process.stdin is not None
    process.stdin.close()
    try:
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_pytest_fixture_is_started_with_the_project(fake_circleci: FakeCircleCI) -> None:
    async with aiohttp.ClientSession(headers={"Circle-Token": "test-token"}) as http:
        status, body, _ = await get_json(http, f"{fake_circleci.url}/project/{SLUG}")
    assert status == 200
    assert body["slug"] == SLUG
    assert body["vcs_info"] == {
        "vcs_url": "https://github.com/acme/widgets",
        "provider": "GitHub",
        "default_branch": "main",
    }


async def test_pytest_client_fixture_reaches_the_fake_with_the_plugins_token(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI, fake_circleci_token: str
) -> None:
    assert fake_circleci_token == pytest_plugin.TOKEN == "test-token"
    await circleci_client.request("GET", f"project/{SLUG}")
    await circleci_client.runner.runners(namespace="acme").collect()
    sent = fake_circleci.requests
    assert [r.headers["Circle-Token"] for r in sent] == ["test-token"] * 2
    assert [r.path.split("/")[2] for r in sent] == ["v2", "v3"]


async def test_the_plugins_helpers_take_another_token_and_projects() -> None:
    async with pytest_plugin.serve_fake("other", projects=["gh/a/b", "gh/a/c"]) as fake:
        async with pytest_plugin.client_for(fake, "other") as cci:
            slugs = [
                (await cci.request("GET", f"project/{slug}"))["slug"]
                for slug in ("gh/a/b", "gh/a/c")
            ]
        assert slugs == ["gh/a/b", "gh/a/c"]
        assert {r.headers["Circle-Token"] for r in fake.requests} == {"other"}
