"""The client against the OpenAPI specs, operation by operation.

* coverage: every ``operationId`` of both specs has a method (``circleci_async.operations()``)
  with the spec's method and path, and nothing is left out unlisted;
* request shapes: each operation, performed by the client against a populated fake server,
  reaches the server as the spec and the API want it (method, path, query, body);
* the fake's answers: the same calls' responses validate against the spec's response schemas,
  strictly (no undeclared field);
* parsing: for every operation with a JSON answer, instances generated from the spec's schema
  (plus the spec's own examples, an all-nullable-fields-null variant, and one with fields the
  spec does not know yet) are served on loopback, and the method reads each into its models.

The specs are the repository's fixtures (``tests/fixtures/spec/``); a missing one fails the
collection of this module, it never skips it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import jsonschema
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings

from circleci_async import (
    OMITTED_OPERATIONS,
    AsyncPaginator,
    CircleCI,
    RateLimitConfig,
    RetryConfig,
    operations,
)
from circleci_async.testing import FakeCircleCI
from circleci_async.transport import AiohttpTransport, Request, Response

from ._openapi import (
    SpecOperation,
    example_instance,
    media_examples,
    to_json_schema,
    with_nulls,
    with_unknown_fields,
)
from ._openapi import operations as spec_operations
from ._strategies import from_schema
from ._world import CASES, build_world, fake_world, first_page

TOKEN = "conformance-token"
UNPACED = RateLimitConfig(initial_rate=None)
GENERATED_PER_SCHEMA = 12


@pytest.fixture(scope="module")
def spec_ops() -> dict[str, SpecOperation]:
    return spec_operations()


def _ids() -> list[str]:
    return sorted(CASES)


# -- coverage --------------------------------------------------------------------------------


def test_every_operation_has_a_method(spec_ops: dict[str, SpecOperation]) -> None:
    # API v3 has no saved spec: tests/test_v3_routes.py checks it against the notes' table.
    covered = {op.operation_id: op for op in operations() if op.version != "v3"}
    assert set(covered) | set(OMITTED_OPERATIONS) == set(spec_ops)
    assert not set(covered) & set(OMITTED_OPERATIONS)
    assert len(covered) == len(spec_ops) == 120
    for operation_id, spec_op in spec_ops.items():
        if operation_id in covered:
            op = covered[operation_id]
            assert (op.method, op.path) == (spec_op.method, spec_op.path), operation_id
            assert op.name.startswith("cci.")


def test_methods_carry_their_operation_id() -> None:
    cci = CircleCI("t")
    for op in operations():
        target: object = cci
        for part in op.name.split(".")[1:]:  # cci.pipelines.trigger, cci.v3.runs.get
            target = getattr(target, part)
        assert target.__operation_id__ == op.operation_id


def test_every_operation_has_a_request_case(spec_ops: dict[str, SpecOperation]) -> None:
    assert set(CASES) == set(spec_ops)


# -- request shapes and the fake's answers ---------------------------------------------------


class RecordingTransport(AiohttpTransport):
    """The client's own transport, keeping each (status, body) it received."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[tuple[str, int, bytes]] = []

    async def send(self, request: Request) -> Response:
        response = await super().send(request)
        self.responses.append((request.method, response.status, response.body))
        return response


@pytest.fixture
async def world_client() -> AsyncIterator[tuple[FakeCircleCI, CircleCI, RecordingTransport]]:
    transport = RecordingTransport()
    async with (
        FakeCircleCI(token=TOKEN) as fake,
        CircleCI(
            TOKEN,
            base_url=fake.url,
            runner_base_url=fake.runner_url,
            rate_limit=UNPACED,
            transport=transport,
        ) as cci,
    ):
        yield fake, cci, transport


def _query(recorded: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in recorded:
        values = recorded.getall(name)
        out[name] = (
            values
            if len(values) > 1 or name in ("branches", "workflow-names", "project-names")
            else values[0]
        )
    return out


def _validator(
    schema: dict[str, Any], spec: dict[str, Any], *, strict: bool
) -> jsonschema.Draft7Validator:
    checker = jsonschema.FormatChecker()
    return jsonschema.Draft7Validator(
        to_json_schema(schema, spec, strict=strict), format_checker=checker
    )


@pytest.mark.parametrize("operation_id", _ids())
async def test_request_shape_and_the_fakes_answer(
    operation_id: str,
    spec_ops: dict[str, SpecOperation],
    world_client: tuple[FakeCircleCI, CircleCI, RecordingTransport],
) -> None:
    fake, cci, transport = world_client
    spec_op = spec_ops[operation_id]
    world = await build_world(fake, cci)
    case = CASES[operation_id]
    if case.prepare is not None:
        case.prepare(fake, world)
    transport.responses.clear()

    result = await first_page(case.call(cci, world))

    [sent] = fake.requests
    prefix = "/api/v3" if spec_op.api == "runner" else "/api/v2"
    assert sent.method == spec_op.method
    assert sent.path == prefix + case.path(world)
    assert spec_op.path_regex().fullmatch(sent.path[len(prefix) :]), (sent.path, spec_op.path)
    assert _query(sent.query) == case.query(world)
    expected_body = case.body(world)
    if expected_body is None:
        assert sent.body == b""
    else:
        assert sent.headers["Content-Type"] == "application/json"
        assert sent.json() == expected_body
    assert sent.headers["Circle-Token"] == TOKEN

    [(_, status, raw)] = transport.responses
    responses = spec_op.responses()
    assert str(status) in responses, f"{operation_id} answered {status}, not in the spec"
    content = spec_op.json_responses().get(status)
    if content is None:
        assert result is None and raw == b""
        return
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(content["schema"], spec_op.spec, strict=True).iter_errors(
            json.loads(raw)
        )
    ]
    assert errors == []
    _assert_typed(result)


def _assert_typed(result: Any) -> None:
    """What methods return is models (or lists / maps of them), never raw JSON objects."""
    if isinstance(result, list):
        for item in result:
            _assert_typed(item)
    elif isinstance(result, dict):  # pipeline values and policy bundles are maps
        for value in result.values():
            if isinstance(value, (list, dict)):
                _assert_typed(value)
            else:
                assert isinstance(value, (str, int, bool))
    else:
        assert attrs.has(type(result)), type(result)


# -- parsing what the spec allows --------------------------------------------------------------


class Loopback:
    """A server answering every request with the payload a test sets, and a client for it,
    in an event loop of their own (Hypothesis drives the examples synchronously)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.status = 200
        self.payload = b"{}"
        self.runner: web.AppRunner | None = None
        self.cci: CircleCI | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(status=self.status, body=self.payload, content_type="application/json")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        root = f"http://{host}:{port}"
        self.cci = CircleCI(
            TOKEN + "-loopback",
            base_url=root + "/api/v2",
            runner_base_url=root + "/api/v3",
            rate_limit=UNPACED,
            retry=RetryConfig(max_attempts=1),
        )

    async def _stop(self) -> None:
        if self.cci is not None:
            await self.cci.close()
        if self.runner is not None:
            await self.runner.cleanup()

    def __enter__(self) -> Loopback:
        self.loop.run_until_complete(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self._stop())
        self.loop.close()

    def answer(self, operation_id: str, status: int, instance: Any) -> Any:
        """Serve ``instance`` and return what the operation's method made of it."""
        self.status, self.payload = status, json.dumps(instance).encode()
        assert self.cci is not None
        return self.loop.run_until_complete(first_page(CASES[operation_id].call(self.cci, WORLD)))


WORLD = fake_world()


def _items_required(schema: dict[str, Any]) -> dict[str, Any]:
    """Six list answers (groups, deploys, context restrictions, pipeline definitions and
    their triggers) do not mark ``items`` required, so ``{}`` is valid for the spec. Every
    real answer has the list, and the paginator refuses a page without one rather than
    mistaking another endpoint's answer for an empty page; generation follows the API."""
    if schema.get("type") == "object" and "items" in schema.get("properties", {}):
        return {**schema, "required": sorted({*schema.get("required", ()), "items"})}
    return schema


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    with Loopback() as server:
        yield server


def _json_answers() -> list[tuple[str, int]]:
    ops = spec_operations()
    return [(oid, status) for oid in sorted(ops) for status in sorted(ops[oid].json_responses())]


@pytest.mark.parametrize(("operation_id", "status"), _json_answers())
def test_methods_read_whatever_the_schema_allows(
    operation_id: str, status: int, spec_ops: dict[str, SpecOperation], loopback: Loopback
) -> None:
    spec_op = spec_ops[operation_id]
    content = spec_op.json_responses()[status]
    schema = _items_required(to_json_schema(content["schema"], spec_op.spec))
    example = example_instance(content["schema"], spec_op.spec)
    fixed = [example, with_nulls(example, schema), with_unknown_fields(example, schema)]
    fixed += list(media_examples(content))
    for instance in fixed:
        loopback.answer(operation_id, status, instance)

    @settings(
        max_examples=GENERATED_PER_SCHEMA,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(from_schema(schema))
    def reads(instance: Any) -> None:
        loopback.answer(operation_id, status, instance)
        loopback.answer(operation_id, status, with_unknown_fields(instance, schema))

    reads()


# -- the nine list operations whose spec forgot ``page-token`` --------------------------------

GROUP_B = {
    "listWorkflowJobs": None,
    "getTests": None,
    "getJobTimeseries": None,
    "listComponentVersions": None,
    "listEnvVars": lambda c, w: c.projects.create_env_var("gh/acme/widgets", "SECOND", "v"),
    "listCheckoutKeys": lambda c, w: c.projects.create_checkout_key("gh/acme/widgets", "user-key"),
    "getWebhooks": lambda c, w: c.webhooks.create(
        name="two",
        url="https://x.example",
        events=["job-completed"],
        scope_id=w.project_id,
        signing_secret="secret-2",
    ),
    "getContextRestrictions": lambda c, w: c.contexts.create_restriction(
        w.context_id, "expression", "true"
    ),
    "getJobArtifacts": None,
}


@pytest.mark.parametrize("operation_id", sorted(GROUP_B))
async def test_lists_without_a_declared_page_token_still_paginate(
    operation_id: str,
    spec_ops: dict[str, SpecOperation],
    world_client: tuple[FakeCircleCI, CircleCI, RecordingTransport],
) -> None:
    fake, cci, _ = world_client
    declared = {
        p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1]
        for p in spec_ops[operation_id].op.get("parameters", [])
    }
    assert not declared & {"page-token", "page_token"}, "the spec declares it after all"
    world = await build_world(fake, cci)
    add_one = GROUP_B[operation_id]
    if add_one is not None:
        await add_one(cci, world)
    if operation_id == "getJobArtifacts":
        pages = {None: ("a", "t2"), "t2": ("b", None)}
        fake.add_route(
            r"/project/(?P<slug>[^/]+/[^/]+/[^/]+)/(?P<n>\d+)/artifacts",
            {
                "GET": lambda r, m, b: (
                    200,
                    json.dumps(
                        {
                            "items": [
                                {
                                    "path": pages[r.query.get("page-token")][0],
                                    "node_index": 0,
                                    "url": "u",
                                }
                            ],
                            "next_page_token": pages[r.query.get("page-token")][1],
                        }
                    ).encode(),
                )
            },
        )
    fake.page_size = 1
    fake.clear_requests()
    paginator = CASES[operation_id].call(cci, world)
    if operation_id == "getJobTimeseries":  # the world's runs are recent: the default window
        paginator = cci.insights.job_timeseries("gh/acme/widgets", "build-and-test")
    assert isinstance(paginator, AsyncPaginator)
    items = await paginator.collect()
    assert len(items) >= 2 and paginator.pages_fetched >= 2
    tokens = [r.query.get("page-token") for r in fake.requests]
    assert tokens[0] is None and all(tokens[1:])
