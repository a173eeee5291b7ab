"""``CircleCI``: the client a user holds. It owns one HTTP session and its pool, wires the
pipeline together, and is where resource namespaces (``cci.pipelines``, ...) hang off."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from yarl import URL

from ._core import ClientCore
from ._observe import Observer, Observers, current_operation, pool_wait_trace_config, with_operation
from .auth import DEFAULT_TOKEN_ORIGINS, AuthScheme, TokenAuth
from .config import RateLimitConfig, RetryConfig, Timeouts
from .errors import ConfigurationError
from .models import structure_each
from .pagination import PAGE_TOKEN_PARAM, AsyncPaginator
from .ratelimit.backends import LimiterBackend
from .ratelimit.bucket import RateLimitView
from .ratelimit.limiter import AdaptiveLimiter
from .resources import ResourceNamespaces
from .stats import ClientStats
from .transport import DEFAULT_MAX_RESPONSE_SIZE, AiohttpTransport, Transport

if TYPE_CHECKING:
    import aiohttp

    from .download import ArtifactsAPI
    from .v3 import V3
    from .waiting import PollSchedule
    from .watching import Watcher

__all__ = [
    "BASE_URL_ENV_VAR",
    "DEFAULT_BASE_URL",
    "RUNNER_BASE_URL",
    "RUNNER_URL_ENV_VAR",
    "TOKEN_ENV_VARS",
    "V3_BASE_URL_ENV_VAR",
    "CircleCI",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://circleci.com/api/v2"
RUNNER_BASE_URL = "https://runner.circleci.com/api/v3"
#: Environment variables read, in order, when no token is passed.
TOKEN_ENV_VARS = ("CIRCLECI_TOKEN", "CIRCLE_TOKEN")
#: Read when no ``base_url`` / ``runner_base_url`` is passed (CircleCI server installs).
BASE_URL_ENV_VAR = "CIRCLECI_BASE_URL"
RUNNER_URL_ENV_VAR = "CIRCLECI_RUNNER_URL"
#: Read when no ``v3_base_url`` is passed; else API v3 is derived from the base URL.
V3_BASE_URL_ENV_VAR = "CIRCLECI_V3_BASE_URL"

_NO_VIEW = RateLimitView(None, None, None, None, None, None, None, 0.0, 0)


class CircleCI(ResourceNamespaces):
    """An async CircleCI API client.

    ::

        async with CircleCI() as cci:                     # token from CIRCLECI_TOKEN
            me = await cci.request("GET", "me")
            async for p in cci.paginate("project/gh/acme/app/pipeline"):
                ...

    With no ``base_url``, ``$CIRCLECI_BASE_URL`` or cloud's; with no ``runner_base_url``,
    ``$CIRCLECI_RUNNER_URL``, else ``/api/v3`` on a server install's host, else cloud's. API v3
    (``cci.v3``) lives at ``v3_base_url``, else ``$CIRCLECI_V3_BASE_URL``, else the base URL
    with its final ``v2`` made ``v3`` (same host: a proxy or the fake work unchanged).

    Every client using the same token against the same API in one process shares one rate
    limiter, because the server counts requests per token. ``max_concurrency`` bounds requests
    in flight for this client; the limiter bounds their rate. Both are separate knobs.
    ``limiter_backend=`` (e.g. :class:`~circleci_async.ratelimit.redis.RedisBackend`) shares that
    budget with every process and machine on the same backend; the caller closes it.

    A ``session=`` of your own is used as is, but one whose default headers carry
    ``Circle-Token`` or ``Authorization`` is refused (:class:`ConfigurationError` on first use):
    those headers would follow every redirect, of API calls and artifact downloads alike, to
    any host.

    ``max_response_size`` caps an API response's body once decompressed (64 MiB; ``None``: no
    cap): a bigger one raises :class:`~circleci_async.errors.ResponseTooLarge` (artifact
    downloads have their own limits, in ``DownloadOptions``).

    ``observers``: callables given every event of :mod:`circleci_async.events` (requests,
    responses, retries, rate-limit waits, downloads), synchronously; none by default, and then
    none is built. ``trace_configs``: aiohttp trace configs for the client's own session.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        runner_base_url: str | None = None,
        v3_base_url: str | None = None,
        auth: AuthScheme = "circle-token",
        timeouts: Timeouts | None = None,
        retry: RetryConfig | None = None,
        rate_limit: RateLimitConfig | None = None,
        limiter: AdaptiveLimiter | None = None,
        limiter_backend: LimiterBackend | None = None,
        max_concurrency: int = 32,
        pool_size: int = 100,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        token_origins: Iterable[str] = DEFAULT_TOKEN_ORIGINS,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        observers: Iterable[Observer] = (),
        trace_configs: Iterable[aiohttp.TraceConfig] = (),
    ) -> None:
        token = _resolve_token(token)
        base_url, runner_base_url, v3_base_url = _resolve_urls(
            base_url, runner_base_url, v3_base_url
        )
        url = URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be >= 1")
        if limiter is not None and limiter_backend is not None:
            raise ConfigurationError("pass a limiter or a limiter_backend, not both")
        runner = URL(runner_base_url.rstrip("/"))
        if runner.scheme not in ("http", "https") or not runner.host:
            raise ConfigurationError(
                f"runner_base_url must be an http(s) URL, got {runner_base_url!r}"
            )
        v3 = URL(v3_base_url.rstrip("/"))
        if v3.scheme not in ("http", "https") or not v3.host:
            raise ConfigurationError(f"v3_base_url must be an http(s) URL, got {v3_base_url!r}")
        self.base_url = url
        #: API v3's base (``cci.v3``); its origin receives the token (as Bearer).
        self.v3_base_url = v3
        #: The runner API's base (``runner.circleci.com/api/v3`` on cloud). Its origin receives
        #: the token too; runner methods call it with absolute URLs.
        self.runner_base_url = runner
        origins = (*token_origins, str(runner.origin()), str(v3.origin()))
        self._auth = TokenAuth(
            token,
            base_url=url,
            scheme=auth,
            extra_origins=origins,
            v3_base_url=v3,
            runner_base_url=runner,
        )
        watchers = Observers(observers)
        traces = list(trace_configs)
        if traces and (session is not None or transport is not None):
            raise ConfigurationError(
                "trace_configs= applies to the client's own session: add them to your "
                "session (or transport) instead"
            )
        if watchers and session is None and transport is None:
            traces.append(pool_wait_trace_config(watchers))
        #: The internals that namespaces, downloads and watchers share (see ``_core``).
        self.core = ClientCore(
            base_url=url,
            auth=self._auth,
            transport=transport
            or AiohttpTransport(
                timeouts=timeouts or Timeouts(),
                pool_size=pool_size,
                session=session,
                max_response_size=max_response_size,
                trace_configs=traces,
            ),
            retry=retry or RetryConfig(),
            rate_limit=rate_limit or RateLimitConfig(),
            max_concurrency=max_concurrency,
            limiter=limiter,
            limiter_backend=limiter_backend,
            observers=watchers,
        )
        if watchers and limiter_backend is not None:
            add_observer = getattr(limiter_backend, "add_observer", None)
            if add_observer is not None:  # a shared backend's down / up transitions
                add_observer(watchers.emit)
        self.stats: ClientStats = self.core.stats

    def __repr__(self) -> str:
        return f"CircleCI(base_url={str(self.base_url)!r}, auth={self._auth!r})"

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> CircleCI:
        self.core.pipeline  # noqa: B018 - built inside the running loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop running watchers and close the HTTP session (unless it was passed in by the
        caller)."""
        await self.core.close()

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Coroutine[Any, Any, Any]:
        """Send a request through the whole pipeline; await it for the decoded JSON body.

        ``path`` is relative to ``base_url`` (``"project/gh/acme/app"``); project slugs are
        passed through as they are, ``/`` included.
        """
        return self.core.pipeline.request(method, path, params=params, json=json)

    @overload
    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = ...,
        page_token: str | None = ...,
        max_items: int | None = ...,
        item_type: None = ...,
        read_ahead: bool | None = ...,
    ) -> AsyncPaginator[Any]: ...

    @overload
    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = ...,
        page_token: str | None = ...,
        max_items: int | None = ...,
        item_type: type[T],
        read_ahead: bool | None = ...,
    ) -> AsyncPaginator[T]: ...

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
        item_type: type[Any] | None = None,
        read_ahead: bool | None = None,
    ) -> AsyncPaginator[Any]:
        """Walk a list endpoint lazily: ``async for item in cci.paginate(path)``.

        ``page_token`` resumes a walk; ``max_items`` stops early (the paginator's ``truncated``
        says so); ``item_type`` converts each item to that attrs model. With
        ``read_ahead`` (default: when ``item_type`` is given) the next page is requested while
        the current one is converted and handed out.
        """
        base = dict(params or {})
        if PAGE_TOKEN_PARAM in base:
            raise ConfigurationError(f"pass page_token=..., not params[{PAGE_TOKEN_PARAM!r}]")

        operation = current_operation()  # a namespace method's, for events about each page

        send = self.core.pipeline.request  # looked up once per walk, not once per page
        no_token = base or None

        def fetch(token: str | None) -> Awaitable[Any]:
            query = {**base, PAGE_TOKEN_PARAM: token} if token else no_token
            request = send("GET", path, params=query)
            return request if operation is None else with_operation(operation, request)

        convert_items = None
        if item_type is not None:
            what = f"{item_type.__name__} from {path}"
            convert_items = functools.partial(structure_each, cls=item_type, what=what)

        return AsyncPaginator(
            fetch,
            page_token=page_token,
            max_items=max_items,
            convert_items=convert_items,
            read_ahead=read_ahead,
        )

    def watch(
        self,
        *,
        workflows: Iterable[uuid.UUID | str] = (),
        pipelines: Iterable[uuid.UUID | str] = (),
        schedule: PollSchedule | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        api: str = "v2",
    ) -> Watcher:
        """A :class:`~circleci_async.watching.Watcher` reporting every state change of these
        workflows and pipelines (and of the pipelines' workflows) until all are final.
        ``api="v3"`` polls them as API v3 runs and workflows (states ``phase[/outcome]``).

        All polls share this client's pool and rate limiter; ``concurrency`` bounds those in
        flight (default: ``max_concurrency``).
        """
        from .waiting import DEFAULT_POLL
        from .watching import Watcher

        return Watcher(
            self,
            workflows=workflows,
            pipelines=pipelines,
            schedule=schedule or DEFAULT_POLL,
            timeout=timeout,
            concurrency=concurrency,
            api=api,
        )

    @functools.cached_property
    def artifacts(self) -> ArtifactsAPI:
        """Artifact downloads and mirroring (``await cci.artifacts.download(...)``)."""
        from .download import ArtifactsAPI

        return ArtifactsAPI(self)

    @functools.cached_property
    def v3(self) -> V3:
        """API v3 (``cci.v3.runs``, ``cci.v3.workflows``, ...): this client's session, limiter
        and pool, Bearer credentials, cursor pages."""
        from .v3 import V3

        return V3(self)

    # -- state --------------------------------------------------------------------------------

    @property
    def max_concurrency(self) -> int:
        """The most requests this client has in flight at once."""
        return self.core.max_concurrency

    @property
    def limiter(self) -> AdaptiveLimiter | None:
        """The rate limiter this client uses (shared per token; created on first request)."""
        return self.core.limiter_if_created

    @property
    def rate_limit(self) -> RateLimitView:
        """What the server last said about rate limits, merged (the binding window)."""
        limiter = self.core.limiter_if_created
        return limiter.view() if limiter is not None else _NO_VIEW


def _resolve_urls(
    base_url: str | None, runner_base_url: str | None, v3_base_url: str | None = None
) -> tuple[str, str, str]:
    """The API, runner API and API v3 bases: as passed, else from the environment, else
    derived. A server install serves the runner API at ``/api/v3`` on its own host, so a
    non-cloud base URL moves the runner default there too. API v3 sits beside v2 on the same
    host: a final ``v2`` path segment becomes ``v3`` (``/api/v2`` -> ``/api/v3``), and a base
    without one gets ``/api/v3`` at its origin."""
    base = base_url or os.environ.get(BASE_URL_ENV_VAR, "").strip() or DEFAULT_BASE_URL
    runner = runner_base_url or os.environ.get(RUNNER_URL_ENV_VAR, "").strip()
    if not runner:
        runner = RUNNER_BASE_URL
        parsed = URL(base.rstrip("/"))
        if str(parsed) != DEFAULT_BASE_URL and parsed.absolute:  # a bad one fails later
            runner = str(parsed.origin() / "api" / "v3")
    v3 = v3_base_url or os.environ.get(V3_BASE_URL_ENV_VAR, "").strip()
    if not v3:
        v3 = _derive_v3(base)
    return base, runner, v3


def _derive_v3(base: str) -> str:
    parsed = URL(base.rstrip("/"))
    if not parsed.absolute:
        return base  # refused later, with the base URL's own message
    if parsed.name == "v2":
        return str(parsed.parent / "v3")
    return str(parsed.origin() / "api" / "v3")


def _resolve_token(token: str | None) -> str:
    if token is None:
        for name in TOKEN_ENV_VARS:
            value = os.environ.get(name)
            if value and value.strip():
                token = value
                break
        else:
            raise ConfigurationError(
                "no CircleCI token: pass token=... or set " + " or ".join(TOKEN_ENV_VARS)
            )
    token = token.strip()
    if not token:
        raise ConfigurationError("the CircleCI token is empty")
    if any(ch in token for ch in "\r\n\0"):
        raise ConfigurationError("the CircleCI token contains a line break or NUL character")
    return token
