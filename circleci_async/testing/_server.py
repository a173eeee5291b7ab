"""FakeCircleCI: a real aiohttp.web server speaking a slice of CircleCI API v2 on loopback.

Each request goes through the same steps, in the order CircleCI's edge applies them:
record, authenticate (401), rate limit (429), injected faults, then the route. Routing is done
here on the decoded path rather than by aiohttp's router, because project slugs may arrive with
their ``/`` escaped as ``%2F`` and must still match as three segments.

Successful GET bodies are cached as bytes, keyed by the raw request target, and dropped whenever
the data or the page size changes, so walking a large seeded project costs little more than
aiohttp's own per-request overhead.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Mapping, Callable, Collection
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict

from ._codec import dumps, loads
from ._faults import Fault, FaultQueue
from ._ratelimit import RateLimitLedger, RateLimitPolicy, render_headers
from ._state import SEED_EPOCH, ApiError, FakeState

__all__ = ["FakeCircleCI", "RecordedRequest"]

_PREFIX = "/api/v2"
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


Handler = Callable[[web.Request, dict[str, str], bytes], tuple[int, bytes]]
_Handler = Handler


class FakeCircleCI:
    """A fake CircleCI API v2 server for tests and benchmarks; see the package docstring."""

    def __init__(
        self,
        token: str = "test-token",  # noqa: S107 - a fake's token, not a secret
        *,
        tokens: Collection[str] | None = None,
        page_size: int = 20,
        rate_limit: RateLimitPolicy | None = None,
        clock: Callable[[], float] | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self._tokens = frozenset(tokens) if tokens is not None else frozenset((token,))
        self._state = FakeState(seed, clock if clock is not None else time.time)
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
        project = r"/project/(?P<slug>[^/]+/[^/]+/[^/]+)"  # slugs are always three segments
        table: list[tuple[str, dict[str, _Handler]]] = [
            ("/me", {"GET": self._get_me}),
            (project, {"GET": self._get_project}),
            (project + "/pipeline", {"GET": self._list_pipelines, "POST": self._trigger_pipeline}),
            (project + "/job/(?P<number>[^/]+)", {"GET": self._get_job}),
            ("/pipeline/(?P<id>[^/]+)", {"GET": self._get_pipeline}),
            ("/pipeline/(?P<id>[^/]+)/workflow", {"GET": self._list_workflows}),
            ("/workflow/(?P<id>[^/]+)", {"GET": self._get_workflow}),
            ("/workflow/(?P<id>[^/]+)/job", {"GET": self._list_jobs}),
        ]
        self._routes = [(re.compile(pattern), handlers) for pattern, handlers in table]
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    # configuration -----------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """POSIX seconds; drives rate-limit windows, recorded times and default timestamps."""
        return self._state.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self._state.clock = clock

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
        self._routes.insert(0, (re.compile(pattern), dict(handlers)))
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
        token = self._authenticate(request.headers)
        if token is None:
            return _response(401, _INVALID_TOKEN, {})

        headers: dict[str, str] = {}
        policy = self.rate_limit
        if policy is not None:
            decision = self._ledger.hit(policy, token, now)
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

        status, payload = self._route(request, method, path, body)
        if fault is not None and fault.kind == "disconnect":
            return await _disconnect(request, status, payload, headers)
        if fault is not None and fault.kind == "malformed_json":
            # Any strict prefix of a JSON object is undecodable.
            return _response(200, payload[: max(1, len(payload) // 2)], headers)
        return _response(status, payload, headers)

    def _route(
        self, request: web.Request, method: str, path: str, body: bytes
    ) -> tuple[int, bytes]:
        cacheable = method == "GET"
        if cacheable:
            if self._cache_version != self._state.version:
                self._cache.clear()
                self._cache_version = self._state.version
            cached = self._cache.get(request.raw_path)
            if cached is not None:
                return 200, cached
        if not path.startswith(_PREFIX + "/"):
            return 404, dumps({"message": "Not found"})
        tail = path[len(_PREFIX) :]
        for pattern, handlers in self._routes:
            match = pattern.fullmatch(tail)
            if match is None:
                continue
            handler = handlers.get(method)
            if handler is None:
                return 405, dumps({"message": "Method not allowed"})
            try:
                status, payload = handler(request, match.groupdict(), body)
            except ApiError as error:
                return error.status, dumps({"message": error.message})
            if cacheable and status == 200:
                if len(self._cache) >= _CACHE_MAX_ENTRIES:
                    self._cache.clear()
                self._cache[request.raw_path] = payload
            return status, payload
        return 404, dumps({"message": "Not found"})

    # routes ------------------------------------------------------------------------------

    def _get_me(self, request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return 200, dumps(self._state.user.to_json())

    def _get_project(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        return 200, dumps(self._state.get_project(m["slug"]))

    def _list_pipelines(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        query = request.query
        page = self._state.list_pipelines(
            m["slug"], query.get("branch"), query.get("page-token"), self._page_size
        )
        return 200, dumps(page)

    def _trigger_pipeline(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        try:
            parsed = loads(body) if body.strip() else None
        except ValueError:
            raise ApiError(400, "Request body is not valid JSON.") from None
        return 201, dumps(self._state.trigger(m["slug"], parsed))

    def _get_job(self, request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return 200, dumps(self._state.get_job_details(m["slug"], m["number"]))

    def _get_pipeline(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        return 200, dumps(self._state.get_pipeline(m["id"]))

    def _list_workflows(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        page = self._state.list_workflows(m["id"], request.query.get("page-token"), self._page_size)
        return 200, dumps(page)

    def _get_workflow(
        self, request: web.Request, m: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        return 200, dumps(self._state.get_workflow(m["id"]))

    def _list_jobs(self, request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
        page = self._state.list_jobs(m["id"], request.query.get("page-token"), self._page_size)
        return 200, dumps(page)


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
