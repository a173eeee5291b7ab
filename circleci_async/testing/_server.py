"""FakeCircleCI: a real aiohttp.web server speaking CircleCI API v2, API v3 (``fake.v3``,
``_v3.py``: the same state seen through v3) and the runner API on loopback.

Each request goes through the same steps, in the order CircleCI's edge applies them:
record, authenticate (401), rate limit (429), injected faults, then the route. Before routing,
triggered pipelines are moved along to the fake's current time. Routing is done here on the
decoded path rather than by aiohttp's router, because project slugs may arrive with their ``/``
escaped as ``%2F`` and must still match as three segments; the table is in ``_routes.py``.

Successful GET bodies of cacheable routes are cached as bytes, keyed by the raw request target,
and dropped whenever the data or the page size changes, so walking a large seeded project costs
little more than aiohttp's own per-request overhead.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict

from ._codec import dumps, loads
from ._faults import Fault, FaultQueue
from ._insights import Insights
from ._org_admin import OrgAdmin
from ._plans import WorkflowPlan
from ._project_admin import ProjectAdmin
from ._ratelimit import RateLimitLedger, RateLimitPolicy, render_headers
from ._records import ApiError
from ._routes import Handler, Route, Routes
from ._runner import RunnerState
from ._seeding import SEED_EPOCH
from ._simulation import Simulation
from ._state import FakeState
from ._v3 import V3Api

__all__ = ["FakeCircleCI", "RecordedRequest", "ScaledClock"]

_PREFIX = "/api/v2"
_RUNNER_PREFIX = "/api/v3"
_JSON = "application/json"
_INVALID_TOKEN = dumps({"message": "Invalid token provided."})
_RATE_LIMITED_JSON = dumps({"message": "Rate limit exceeded."})
_RATE_LIMITED_TEXT = b"Rate limited."
_CACHE_MAX_ENTRIES = 100_000


_SECRET_HEADERS = frozenset({"circle-token", "authorization"})


def _redacted(headers: CIMultiDict[str]) -> str:
    """Headers for repr: a failing assertion prints the request, and must not print the token."""
    shown = [(k, "<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()]
    return f"<CIMultiDict{shown!r}>"


@attrs.frozen
class RecordedRequest:
    """One request as the fake received it, before any check: copies, safe to keep.

    ``headers`` hold the credentials as sent (tests assert on them); ``repr`` hides them.
    """

    method: str
    path: str
    """The decoded URL path, e.g. ``/api/v2/project/gh/acme/widgets/pipeline``."""
    query: MultiDict[str]
    headers: CIMultiDict[str] = attrs.field(repr=_redacted)
    body: bytes
    time: float
    """When it arrived, on the fake's clock."""

    def json(self) -> Any:
        return loads(self.body)


class ScaledClock:
    """Real time sped up, for ``fake.clock``: ``speed`` fake seconds pass per real second.

    Fake time starts at ``origin`` (default: now) and stands still until :meth:`start`
    (called at construction unless ``started=False``), so a benchmark can set up thousands of
    workflows and start the clock when its client is ready. Pipelines move along on every read
    of the fake, as with any clock; :meth:`FakeCircleCI.advance` still jumps ahead of it.
    """

    def __init__(
        self,
        speed: float,
        *,
        origin: float | None = None,
        started: bool = True,
        real: Callable[[], float] = time.time,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = speed
        self._real = real
        self.origin = real() if origin is None else origin
        self._started_at: float | None = None
        if started:
            self.start()

    def start(self) -> None:
        """Let the clock run (from its origin); a second call changes nothing."""
        if self._started_at is None:
            self._started_at = self._real()

    @property
    def started_at(self) -> float | None:
        """The real time at which :meth:`start` was called, if it was."""
        return self._started_at

    def __call__(self) -> float:
        started = self._started_at
        if started is None:
            return self.origin
        return self.origin + (self._real() - started) * self.speed


class FakeCircleCI:
    """A fake CircleCI (API v2 under ``url``, the runner API under ``runner_url``) for tests
    and benchmarks; see the package docstring."""

    def __init__(
        self,
        token: str = "test-token",  # noqa: S107 - a fake's token, not a secret
        *,
        tokens: Collection[str] | None = None,
        page_size: int = 20,
        rate_limit: RateLimitPolicy | None = None,
        clock: Callable[[], float] | None = None,
        rate_limit_clock: Callable[[], float] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self._tokens = frozenset(tokens) if tokens is not None else frozenset((token,))
        self._base_clock: Callable[[], float] = clock if clock is not None else time.time
        self._offset = 0.0
        #: What the rate-limit windows count in (default: the fake's clock). A sped-up fake
        #: sets real time here, so that limits and ``Retry-After`` mean what a client's own
        #: pacing, which runs in real time, takes them to mean.
        self.rate_limit_clock = rate_limit_clock
        self._state = FakeState(seed, self._now)
        self._simulation = Simulation(self._state)
        self._state.on_pipeline_started = self._simulation.track
        self._projects = ProjectAdmin(self._state)
        self._orgs = OrgAdmin(self._state)
        self._runner_state = RunnerState(self._state)
        self._cache: dict[str, bytes] = {}
        self._cache_version = -1
        self._page_size = 0
        self.page_size = page_size
        self.rate_limit = rate_limit
        self.rate_limited_count = 0
        self.record = record
        """Whether to keep every request in :attr:`requests` (off for long benchmarks)."""
        self.requests: list[RecordedRequest] = []
        self._ledger = RateLimitLedger()
        self._faults = FaultQueue()
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._bound: tuple[str, int] | None = None
        self._routes = Routes(
            state=self._state,
            simulation=self._simulation,
            projects=self._projects,
            orgs=self._orgs,
            insights=Insights(self._state),
            runner=self._runner_state,
            page_size=lambda: self._page_size,
        )
        self._v2: list[Route] = self._routes.v2()
        self._v3: list[Route] = self._routes.v3()
        #: API v3 beside v2, from the same state: its switches (410, deprecation headers,
        #: artifacts, ``accept_circle_token``) live here.
        self.v3 = V3Api(self._state, self._simulation, lambda: self._page_size)
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # configuration -----------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """POSIX seconds; drives rate-limit windows, recorded times, default timestamps and
        the simulation. Setting it replaces the underlying clock; :meth:`advance` shifts it."""
        return self._now

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._base_clock = clock

    def _now(self) -> float:
        return self._base_clock() + self._offset

    @property
    def now(self) -> float:
        """The fake's current time (POSIX seconds)."""
        return self._now()

    @property
    def page_size(self) -> int:
        return self._page_size

    @page_size.setter
    def page_size(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"page_size must be at least 1, not {size}")
        self._page_size = size
        self._cache.clear()

    @property
    def user(self) -> dict[str, Any]:
        """The ``GET /me`` user, who is also the actor of every pipeline."""
        return self._state.user.to_json()

    def add_route(self, pattern: str, handlers: Mapping[str, Handler]) -> None:
        """Serve more endpoints under ``/api/v2``: ``pattern`` is a regex matched against the
        path after the prefix (named groups reach the handler), ``handlers`` maps methods to
        ``handler(request, groups, body) -> (status, json bytes)``. Added routes win over the
        built-in ones, so a test can also replace one. Auth, rate limits and faults apply."""
        self._v2.insert(0, (re.compile(pattern), dict(handlers), True))
        self._cache.clear()

    def clear_cache(self) -> None:
        """Forget cached GET answers: call it after changing data that an added route serves
        (the built-in state invalidates the cache by itself)."""
        self._cache.clear()

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> list[tuple[Fault, int]]:
        """Injected faults not yet used up, each with its remaining uses."""
        return self._faults.pending

    def clear_requests(self) -> None:
        self.requests.clear()

    # seeding (returns are copies: changing them changes nothing served) ------------------

    def add_project(
        self,
        slug: str,
        *,
        name: str | None = None,
        default_branch: str = "main",
        vcs_url: str | None = None,
        organization_name: str | None = None,
    ) -> dict[str, Any]:
        return self._state.add_project(
            slug,
            name=name,
            default_branch=default_branch,
            vcs_url=vcs_url,
            organization_name=organization_name,
        ).to_json()

    def add_pipeline(
        self,
        slug: str,
        branch: str | None = None,
        state: str = "created",
        *,
        tag: str | None = None,
        parameters: dict[str, Any] | None = None,
        created_at: float | datetime | None = None,
        trigger_type: str = "api",
        revision: str | None = None,
        subject: str | None = None,
        errors: tuple[tuple[str, str], ...] = (),
    ) -> dict[str, Any]:
        """Add a pipeline (numbered next in its project; default branch unless ``tag``)."""
        return self._state.add_pipeline(
            slug,
            branch,
            state,
            tag=tag,
            parameters=parameters,
            created_at=created_at,
            trigger_type=trigger_type,
            revision=revision,
            subject=subject,
            errors=errors,
        ).to_json()

    def add_workflow(
        self,
        pipeline_id: str,
        name: str = "build",
        status: str = "success",
        *,
        created_at: float | datetime | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        return self._state.add_workflow(
            pipeline_id, name, status, created_at=created_at, tag=tag
        ).to_json()

    def add_job(
        self,
        workflow_id: str,
        name: str = "test",
        status: str = "success",
        type: str = "build",
        *,
        dependencies: tuple[str, ...] = (),
        started_at: float | datetime | None = None,
        parallelism: int = 1,
        resource_class: str = "medium",
        executor_type: str = "docker",
    ) -> dict[str, Any]:
        """Add a job (the workflow-job item); build jobs get the project's next job number."""
        return self._state.add_job(
            workflow_id,
            name,
            status,
            type,
            dependencies=dependencies,
            started_at=started_at,
            parallelism=parallelism,
            resource_class=resource_class,
            executor_type=executor_type,
        ).to_json()

    def seed_pipelines(
        self,
        slug: str,
        count: int,
        branches: tuple[str, ...] = ("main", "dev"),
        *,
        state: str = "created",
        start: float | datetime = SEED_EPOCH,
        interval: float = 60.0,
        workflows_per_pipeline: int = 0,
        jobs_per_workflow: int = 0,
    ) -> None:
        """Bulk-add ``count`` pipelines quickly and deterministically (branches round-robin,
        timestamps ``interval`` apart from ``start``), optionally each with workflows and jobs."""
        self._state.seed_pipelines(
            slug,
            count,
            branches,
            state=state,
            start=start,
            interval=interval,
            workflows_per_pipeline=workflows_per_pipeline,
            jobs_per_workflow=jobs_per_workflow,
        )

    def org_id(self, org_slug: str) -> str:
        """The id of an organization known to the fake (``gh/acme``, or a created one's slug)."""
        return self._state.api_org(org_slug).id

    def add_organization(self, name: str, vcs_type: str = "circleci") -> dict[str, Any]:
        """An organization with no projects yet (as ``createOrganization`` makes one)."""
        return self._orgs.create_org({"name": name, "vcs_type": vcs_type})

    def add_context(
        self, name: str, *, owner_slug: str | None = None, owner_id: str | None = None
    ) -> dict[str, Any]:
        owner = {"slug": owner_slug} if owner_slug is not None else {"id": owner_id}
        return self._orgs.create_context({"name": name, "owner": owner})

    def add_environment(
        self, org_id: str, name: str, *, description: str = "", labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A deploy environment of an organization."""
        return self._orgs.add_environment(org_id, name, description, labels)

    def add_component(
        self, org_id: str, project_id: str, name: str, *, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """A deployable component of a project."""
        return self._orgs.add_component(org_id, project_id, name, labels)

    def add_component_version(
        self, component_id: str, environment_id: str, name: str, *, live: bool = True
    ) -> dict[str, Any]:
        """A version of a component deployed to an environment (the newest live one wins)."""
        return self._orgs.add_version(component_id, environment_id, name, live=live)

    def add_resource_class(self, resource_class: str, description: str = "") -> dict[str, Any]:
        """A self-hosted runner resource class, ``namespace/name``."""
        return self._runner_state.add_resource_class(resource_class, description)

    def add_runner(self, resource_class: str, name: str, **details: Any) -> dict[str, Any]:
        """A runner agent of a resource class (``hostname``, ``version``, ... optional)."""
        return self._runner_state.add_runner(resource_class, name, **details)

    def add_unclaimed_tasks(self, resource_class: str, count: int) -> None:
        """Tasks waiting for a runner, on top of those of simulated jobs."""
        extra = self._runner_state.extra_unclaimed
        extra[resource_class] = extra.get(resource_class, 0) + count
        self._state.touch()

    # simulation --------------------------------------------------------------------------

    def set_plan(self, slug: str, *workflows: WorkflowPlan) -> None:
        """What pipelines triggered in ``slug`` run from now on (default: build, then test)."""
        self._state.set_plan(slug, workflows)

    @property
    def setup_seconds(self) -> float:
        """How long a triggered pipeline stays ``pending`` before its workflows exist."""
        return self._state.setup_seconds

    @setup_seconds.setter
    def setup_seconds(self, seconds: float) -> None:
        self._state.setup_seconds = seconds

    def trigger_pipeline(
        self,
        slug: str,
        branch: str | None = None,
        *,
        tag: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start a pipeline that runs the project's plan, as an API trigger would."""
        pipeline = self._state.start_pipeline(slug, branch, tag, parameters)
        return pipeline.to_json()

    def start_workflows(
        self, slug: str, durations: Sequence[float], *, outcome: str = "success"
    ) -> list[str]:
        """Start, now, one workflow per duration, each in a pipeline of its own that is already
        set up, running one job that ends ``duration`` fake seconds later with ``outcome``;
        returns the workflow ids in order. For watching many workflows finish at chosen times:
        each workflow's ``stopped_at`` then records when it changed."""
        now = self._now()
        started = self._simulation.start_timed_workflows(slug, durations, outcome, now)
        return [workflow.id for workflow in started]

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward; triggered pipelines progress accordingly."""
        if seconds < 0:
            raise ValueError("the fake's clock only moves forward")
        self._offset += seconds
        self._simulation.run_until(self._now())
        self._state.touch()

    def settle(self, limit: float = 86400.0) -> float:
        """Advance until nothing is left to happen by itself (jobs waiting for an approval
        stay on hold); returns the fake seconds that took. ``limit`` bounds the jump."""
        start = self._now()
        while True:
            due = self._simulation.next_due()
            if due is None or due - start > limit:
                break
            self.advance(max(0.0, due - self._now()))
        return self._now() - start

    def continuation_key(self, pipeline_id: str) -> str:
        """The key ``POST /pipeline/continue`` accepts for a pipeline (once)."""
        self._state.api_pipeline(pipeline_id)
        return f"ck-{pipeline_id}"

    def skip_ci(self, slug: str) -> None:
        """Make the next pipeline-run of ``slug`` answer 200 "not triggered", as for a commit
        marked ``[ci skip]``."""
        self._state.api_project(slug)
        self._routes.ci_skip.add(slug)

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeCircleCI is already started")
        # Short shutdown grace: a test that leaves a delayed request in flight should not
        # make close() hang for aiohttp's default minute.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._bound = (host, port)

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeCircleCI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>``, once started."""
        if self._bound is None:
            raise RuntimeError("FakeCircleCI is not started: no URL yet")
        host, port = self._bound
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The API base URL for the client: ``http://127.0.0.1:<port>/api/v2``."""
        return self.root_url + _PREFIX

    @property
    def runner_url(self) -> str:
        """The runner API's base URL: ``CircleCI(runner_base_url=fake.runner_url)``."""
        return self.root_url + _RUNNER_PREFIX

    # request pipeline --------------------------------------------------------------------

    def _authenticate(self, headers: CIMultiDictProxy[str]) -> str | None:
        """The accepted token this request presents, if any (``Circle-Token``, basic with the
        token as user name and no password, or bearer)."""
        token = headers.get("Circle-Token")
        if token is None:
            scheme, _, value = headers.get("Authorization", "").partition(" ")
            scheme = scheme.lower()
            if scheme == "bearer":
                token = value.strip()
            elif scheme == "basic":
                try:
                    user, _, password = (
                        base64.b64decode(value.strip(), validate=True).decode().partition(":")
                    )
                except ValueError:
                    return None
                if password:
                    return None
                token = user
        return token if token in self._tokens else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read() if request.body_exists else b""
        now = self._state.clock()
        method = request.method
        path = request.path
        if self.record:
            self.requests.append(
                RecordedRequest(
                    method, path, MultiDict(request.query), CIMultiDict(request.headers), body, now
                )
            )
        v3 = self.v3.serves(path)
        if v3:
            token = self.v3.authenticate(request.headers, self._tokens)
            if token is None:
                return _response(401, self.v3.unauthorized(), {})
        else:
            token = self._authenticate(request.headers)
            if token is None:
                return _response(401, _INVALID_TOKEN, {})

        headers: dict[str, str] = {}
        policy = self.rate_limit
        if policy is not None:
            rate_clock = self.rate_limit_clock
            decision = self._ledger.hit(policy, token, now if rate_clock is None else rate_clock())
            headers = render_headers(policy, decision)
            if not decision.admitted:
                self.rate_limited_count += 1
                if policy.body == "text":
                    return _response(429, _RATE_LIMITED_TEXT, headers, "text/plain")
                return _response(429, _RATE_LIMITED_JSON, headers)

        fault = self._faults.take(method, path) if self._faults else None
        if fault is not None:
            headers.update(fault.headers)
            if fault.kind == "status":
                message = fault.body if fault.body is not None else _reason(fault.status)
                return _response(fault.status, dumps({"message": message}), headers)
            if fault.kind == "json":
                return _response(fault.status, dumps(fault.payload), headers)
            if fault.kind == "text":
                text = fault.body if fault.body is not None else _reason(fault.status)
                return _response(fault.status, text.encode(), headers, "text/plain")
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay)

        content_type = _JSON
        if v3:
            if not self._simulation.idle:
                self._simulation.run_until(self._now())
            status, payload, extra = self.v3.handle(request, method, path, body)
            content_type = extra.pop("Content-Type", _JSON)  # step output, NDJSON
            headers.update(extra)
        else:
            status, payload = self._route(request, method, path, body)
        if fault is not None and fault.kind == "disconnect":
            return await _disconnect(request, status, payload, headers)
        if fault is not None and fault.kind == "malformed_json":
            # Any strict prefix of a JSON object is undecodable.
            return _response(200, payload[: max(1, len(payload) // 2)], headers)
        return _response(status, payload, headers, content_type)

    def _route(
        self, request: web.Request, method: str, path: str, body: bytes
    ) -> tuple[int, bytes]:
        simulation = self._simulation
        if not simulation.idle:
            simulation.run_until(self._now())
        get = method == "GET"
        if get:
            if self._cache_version != self._state.version:
                self._cache.clear()
                self._cache_version = self._state.version
            cached = self._cache.get(request.raw_path)
            if cached is not None:
                return 200, cached
        if path.startswith(_PREFIX + "/"):
            routes, tail = self._v2, path[len(_PREFIX) :]
        elif path.startswith(_RUNNER_PREFIX + "/"):
            routes, tail = self._v3, path[len(_RUNNER_PREFIX) :]
        else:
            return 404, dumps({"message": "Not found"})
        for pattern, handlers, cacheable in routes:
            match = pattern.fullmatch(tail)
            if match is None:
                continue
            handler = handlers.get(method)
            if handler is None:
                return 405, dumps({"message": "Method not allowed"})
            try:
                status, payload = handler(request, match.groupdict(), body)
            except ApiError as error:
                return error.status, dumps({error.key: error.message})
            if get and cacheable and status == 200:
                if len(self._cache) >= _CACHE_MAX_ENTRIES:
                    self._cache.clear()
                self._cache[request.raw_path] = payload
            return status, payload
        return 404, dumps({"message": "Not found"})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _response(
    status: int, body: bytes, headers: dict[str, str], content_type: str = _JSON
) -> web.Response:
    headers["Content-Type"] = content_type
    return web.Response(status=status, body=body, headers=headers)


async def _disconnect(
    request: web.Request, status: int, payload: bytes, headers: dict[str, str]
) -> web.StreamResponse:
    """Promise the whole body, send half, and close: the client must see a truncated payload."""
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = _JSON
    declared = max(len(payload), 2)
    response.content_length = declared
    response.force_close()
    await response.prepare(request)
    await response.write(payload[: declared // 2])
    transport = request.transport
    if transport is not None:
        transport.close()
    return response
