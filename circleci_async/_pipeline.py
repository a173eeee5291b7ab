"""The request pipeline: concurrency slot -> limiter -> send (following redirects, credentials
decided per hop) -> learn from headers -> decode or map the error -> retry decision.

Each step's logic lives in its own module (auth, ratelimit, retry, errors); this one only puts
them in order and keeps the counters. API calls (:meth:`RequestPipeline.request`) and streamed
bodies (:meth:`RequestPipeline.stream`, artifact downloads) run the same steps: one redirect
rule, one credential rule per hop, one limiter for the origins that count against the token (the
API's and the token-receiving artifact hosts', never a storage host), one error mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDict, CIMultiDictProxy, istr
from yarl import URL

from . import _json
from ._deprecation import DeprecationNotices
from ._observe import CallWatch, Observers, deprecation, rate_limit_changed
from ._redact import redact_url
from ._slots import Slots
from .auth import TokenAuth
from .config import RetryConfig, Timeouts
from .errors import (
    APIError,
    CircleCIError,
    ConfigurationError,
    DecodeError,
    RateLimitExceeded,
    TooManyRedirects,
    error_for_status,
    extract_message,
)
from .ratelimit.bucket import RateLimitView
from .ratelimit.headers import EMPTY_SNAPSHOT, RateLimitSnapshot, parse_rate_limit_headers
from .ratelimit.limiter import AdaptiveLimiter
from .retry import RetryPolicy, RetrySchedule
from .stats import ClientStats
from .transport import ChunkReader, Request, Response, StreamedResponse, Transport

__all__ = [
    "HostSlots",
    "RequestPipeline",
    "Stream",
    "Target",
    "http_url_problem",
    "parse_http_url",
]

logger = logging.getLogger("circleci_async")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Looked up in every answer's headers: case-folded once here, not per lookup.
_DEPRECATION, _SUNSET = istr("Deprecation"), istr("Sunset")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_URL_CACHE_SIZE = 1024


def _header_set(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """A constant set of request headers, as aiohttp keeps them: given a plain dict it builds a
    ``CIMultiDict`` from it on every request; given this, it does not."""
    return CIMultiDictProxy(CIMultiDict(headers))


_ACCEPT = _header_set({"Accept": "application/json"})
_JSON_NO_AUTH = _header_set({**_ACCEPT, "Content-Type": "application/json"})
_NO_HEADERS: Mapping[str, str] = {}
_SMALL_BODY = 65536  # a redirect's body up to this size is read so its connection is reused
_ERROR_BODY = 4096
_ERROR_BODY_TIMEOUT = 5.0


class _Default:
    """The type of :data:`_DEFAULT`: "not given" where ``None`` is a value."""


_DEFAULT = _Default()


class Target:
    """A URL and the headers a request to it carries (credentials only where
    :class:`~circleci_async.auth.TokenAuth` allows them), without and with a JSON body. The repr
    shows the URL only: the headers hold the token."""

    __slots__ = ("headers", "json_headers", "url")

    def __init__(
        self, url: URL, headers: Mapping[str, str], json_headers: Mapping[str, str]
    ) -> None:
        self.url = url
        self.headers = headers
        self.json_headers = json_headers

    def __repr__(self) -> str:
        return f"Target({redact_url(self.url)})"


class HostSlots:
    """At most ``per_host`` responses open at once per origin (the downloader's per-host limit,
    held while a body streams)."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._slots: dict[tuple[str, str | None, int | None], Slots] = {}
        #: Per ``(scheme, raw authority)`` as written in URLs: the origin's slots, the auth that
        #: judged it and its verdict. The files of a batch share a few hosts, so each hop costs
        #: one lookup, not a host/port decoding and an origin check per file.
        self._origins: dict[tuple[str, str], tuple[Slots, TokenAuth, bool]] = {}

    def for_url(self, url: URL) -> Slots:
        key = (url.scheme, url.host, url.port)
        slots = self._slots.get(key)
        if slots is None:
            slots = Slots(self._per_host)
            if len(self._slots) < 4096:
                self._slots[key] = slots
        return slots

    def origin(self, url: URL, auth: TokenAuth) -> tuple[Slots, TokenAuth, bool]:
        """The slots of ``url``'s origin and whether ``auth`` lets the origin count against the
        token (:meth:`TokenAuth.allows`, a function of the origin, which its own cache assumes
        too); the tuple's middle is ``auth``. Two spellings of one origin share its slots."""
        key = (url.scheme, url.raw_authority)
        known = self._origins.get(key)
        if known is None or known[1] is not auth:
            known = (self.for_url(url), auth, auth.allows(url))
            if len(self._origins) < 4096:
                self._origins[key] = known
        return known


class RequestPipeline:
    def __init__(
        self,
        *,
        base_url: URL,
        auth: TokenAuth,
        transport: Transport,
        limiter: AdaptiveLimiter,
        retry: RetryConfig,
        max_concurrency: int,
        stats: ClientStats,
        max_redirects: int = 5,
        max_wait: float | _Default | None = _DEFAULT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observers: Observers | None = None,
    ) -> None:
        sends_credentials = getattr(transport, "sends_credentials", None)  # older transports
        if sends_credentials is not None and sends_credentials():
            # Session headers ride along on every request and every redirect hop, to any host.
            raise ConfigurationError(
                "the aiohttp session sends credentials on every request; pass the token to "
                "CircleCI(...) instead, which sends it only where it belongs"
            )
        self.base_url = base_url
        self._base = str(base_url).rstrip("/")
        self.auth = auth
        self.transport = transport
        self.limiter = limiter
        #: The longest wait a server may ask for (``RateLimitConfig.max_wait``; by default the
        #: limiter's): the one bound of the limiter's gate and of the retry loops' sleeps.
        self.max_wait = limiter.config.max_wait if isinstance(max_wait, _Default) else max_wait
        self.policy = RetryPolicy(retry, max_wait=self.max_wait)
        self.stats = stats
        self._slots = Slots(max_concurrency)
        self.max_redirects = max_redirects
        self._clock = clock
        self._sleep = sleep
        self._targets: dict[str, Target] = {}  # by path
        # Header sets with the credentials in them, by the credentials mapping's identity
        # (TokenAuth's are constant: Circle-Token on v2, Bearer on v3): without, with a body.
        self._merged: dict[int, tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]]]
        self._merged = {}
        #: The client's observers (events); empty: nothing is built for them.
        self.observers = observers if observers is not None else Observers()
        self._view: RateLimitView | None = None  # the last binding window observers were told
        #: Operations whose answers announced a deprecation (each reported once).
        self.deprecations = DeprecationNotices()

    def target(self, path: str) -> Target:
        """Where a path relative to the base URL (slugs keep their ``/``), or an absolute URL,
        is requested, and with which headers; cached per path."""
        target = self._targets.get(path)
        if target is None:
            if path.startswith(("https://", "http://")):
                parsed = parse_http_url(path)
                if isinstance(parsed, str):
                    raise ConfigurationError(f"cannot request this URL: it {parsed}")
                url = parsed
            else:
                quoted = quote(path.lstrip("/"), safe=_PATH_SAFE)
                url = URL(f"{self._base}/{quoted}", encoded=True)
            if len(self._targets) >= _URL_CACHE_SIZE:
                self._targets.clear()
            target = self._targets[path] = self._target_for(url)
        return target

    def _target_for(self, url: URL) -> Target:
        """``url`` with its headers: credentials only where :class:`TokenAuth` allows them,
        decided for every URL (every redirect hop too)."""
        credentials = self.auth.headers_for(url)
        if not credentials:
            return Target(url, _ACCEPT, _JSON_NO_AUTH)
        merged = self._merged.get(id(credentials))  # (the auth module's mappings are constant)
        if merged is None or merged[0] is not credentials:
            plain = {**_ACCEPT, **credentials}
            merged = (
                credentials,
                _header_set(plain),
                _header_set({**plain, "Content-Type": "application/json"}),
            )
            self._merged[id(credentials)] = merged
        return Target(url, merged[1], merged[2])

    # -- API calls ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        operation: str | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Await it for the decoded body. ``idempotent`` overrides the method's default for the
        retry decision (an operation documented as safe to repeat, or one that is not);
        ``operation`` names the call in deprecation reports (else the namespace method's id,
        else method and path).
        Watched (observers, or DEBUG logging) through a :class:`CallWatch`; otherwise the call
        itself, with nothing built for telemetry."""
        method = method.upper()
        target = self._targets.get(path)
        if target is None:
            target = self.target(path)
        body = _json.dumps(json) if json is not None else None
        if self.observers or logger.isEnabledFor(logging.DEBUG):
            watch = CallWatch(self.observers, method, target.url, params, self._clock)
            call = self._attempt(method, target, params, body, idempotent, operation, watch)
            return self._watched(watch, call)
        return self._attempt(method, target, params, body, idempotent, operation, None)

    async def _watched(self, watch: CallWatch, call: Coroutine[Any, Any, Any]) -> Any:
        watch.start()
        try:
            result = await call
        except BaseException as exc:
            watch.finish(exc)
            raise
        watch.finish(None)
        return result

    async def _attempt(
        self,
        method: str,
        target: Target,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        idempotent: bool | None,
        operation: str | None,
        watch: CallWatch | None,
        attempt: int = 1,
    ) -> Any:
        """One attempt: take a slot, acquire rate, send, learn, redirect or decode. When the
        first attempt fails, :meth:`_retry` decides and makes the next ones (so that a call
        answered at once is one coroutine, not a retry loop around an attempt)."""
        slots, limiter, stats = self._slots, self.limiter, self.stats
        started = self._clock()
        failure: CircleCIError
        if not slots.try_take():
            await slots.take()
        try:
            if not limiter.try_acquire_nowait():
                # Awaited first, then added: ``stats.waited += await ...`` reads the counter
                # before the wait, and concurrent waiters would overwrite each other's time.
                waited = await (
                    limiter.acquire() if watch is None else limiter.acquire(on_wait=watch.waited)
                )
                stats.waited += waited
            try:
                # This hop's (a redirect changes them; a retry starts from the call's again).
                verb, where, query, payload, hops = method, target, params, body, 0
                while True:
                    stats.requests += 1
                    url = where.url
                    # The headers stay in the target and the Request (whose reprs hide them),
                    # never in a local of this frame: error trackers that capture locals walk
                    # dicts (and send them home).
                    request = Request(
                        verb,
                        url,
                        where.json_headers if payload is not None else where.headers,
                        query,
                        payload,
                    )
                    if watch is None:
                        response = await self.transport.send(request)
                    else:
                        response = await self._send_watched(watch, request, hops, attempt)
                    status = response.status
                    snapshot = limiter.answered(response.headers, status)
                    if status == 429:
                        stats.rate_limited += 1
                    if watch is not None:
                        watch.received(url, status, len(response.body), snapshot)
                        if self.observers:
                            self._observed(status, snapshot)
                    if _DEPRECATION in response.headers or _SUNSET in response.headers:
                        deprecation(
                            self.observers,
                            self.deprecations,
                            verb,
                            url,
                            response.headers,
                            operation,
                        )
                    following = (  # (the call only for a redirect: one frame less per answer)
                        self._redirect(verb, status, response.headers, response.url, hops)
                        if status in _REDIRECTS
                        else None
                    )
                    if following is None:
                        return _decode(verb, response, snapshot, self.auth)
                    # The Location has its query; a 303 (or a 301/302 to a POST) becomes a GET.
                    hops, where, query = hops + 1, self._target_for(following), None
                    if status == 303 or (status in (301, 302) and verb == "POST"):
                        verb, payload = "GET", None
            finally:
                limiter.release_nowait()
        except CircleCIError as exc:
            if attempt > 1:
                raise  # one of _retry's attempts: it decides
            failure = exc
        finally:
            slots.give()
        again = functools.partial(
            self._attempt, method, target, params, body, idempotent, operation, watch
        )
        return await self._retry(failure, started, method, idempotent, watch, again)

    async def _retry(
        self,
        failure: CircleCIError,
        started: float,
        method: str,
        idempotent: bool | None,
        watch: CallWatch | None,
        again: Callable[[int], Awaitable[Any]],
    ) -> Any:
        """After a failed first attempt (begun at ``started``): retry as the policy decides
        (``again(attempt)`` makes one), or raise what it gives up with."""
        schedule = RetrySchedule(self.policy.config)
        attempt = 1
        while True:
            decision = self.policy.decide(
                failure,
                method=method,
                attempt=attempt,
                elapsed=self._clock() - started,
                schedule=schedule,
                idempotent=idempotent,
            )
            if not decision.retry:
                self.stats.failures += 1
                if attempt > 1 or decision.refused_wait is not None:
                    logger.info("giving up on %s %s: %s", method, failure.url, decision.reason)
                final = self.policy.final_error(failure, decision)
                if final is failure:
                    raise failure
                raise final from failure
            self.stats.retries += 1
            attempt += 1
            logger.info(
                "retrying %s %s (attempt %d) in %.2f s: %s",
                method,
                failure.url,
                attempt,
                decision.delay,
                decision.reason,
                extra={
                    "event": "RetryScheduled",
                    "method": method,
                    "url": redact_url(failure.url) if failure.url is not None else None,
                    "attempt": attempt,
                    "delay": decision.delay,
                    "reason": decision.reason,
                    "error_type": type(failure).__name__,
                },
            )
            if watch is not None:
                watch.retry(attempt, decision.delay, decision.reason, failure)
            if decision.delay > 0:
                self.stats.waited += decision.delay
                await self._sleep(decision.delay)
            try:
                return await again(attempt)
            except CircleCIError as exc:
                failure = exc

    # -- streamed bodies ----------------------------------------------------------------------

    def stream(
        self,
        method: str,
        url: URL,
        *,
        headers: Mapping[str, str] = _NO_HEADERS,
        timeouts: Timeouts | None = None,
        per_host: HostSlots | None = None,
        max_redirects: int | None = None,
        expect: frozenset[int] = frozenset(),
    ) -> contextlib.AbstractAsyncContextManager[Stream]:
        """``async with pipeline.stream("GET", url) as response:`` a success's body, unread.

        The same steps as :meth:`request`, per hop: a slot (``per_host``'s for the hop's origin,
        held while the body streams; else the client's), the limiter and learning for origins
        that count against the token, credentials where :class:`TokenAuth` allows them. A
        redirect's body is drained and its connection reused; an error status raises the error
        API calls raise, except for the statuses in ``expect`` (handed over like a success: the
        downloader's 416). One attempt: retries are the caller's (it knows about resuming).
        """
        limit = self.max_redirects if max_redirects is None else max_redirects
        if self.observers or logger.isEnabledFor(logging.DEBUG):
            watch = CallWatch(self.observers, method, url, None, self._clock, "download")
            return self._watched_stream(
                watch, Stream(self, method, url, headers, timeouts, per_host, limit, expect, watch)
            )
        # Unwatched: the stream itself, with no context-manager layer for telemetry (one per
        # file of a batch of small artifacts shows).
        return Stream(self, method, url, headers, timeouts, per_host, limit, expect, None)

    @contextlib.asynccontextmanager
    async def _watched_stream(
        self, watch: CallWatch, hops: contextlib.AbstractAsyncContextManager[Stream]
    ) -> AsyncIterator[Stream]:
        watch.start()
        failure: BaseException | None = None
        try:
            async with hops as stream:
                yield stream
        except BaseException as exc:
            failure = exc
            raise
        finally:
            if watch is not None:
                watch.finish(failure)

    # -- the steps ------------------------------------------------------------------------------

    async def _send_watched(
        self, watch: CallWatch, request: Request, hop: int, attempt: int
    ) -> Response:
        """One hop of a watched call: sent, then answered or failed."""
        method, url = request.method, request.url
        watch.sent(method, url, request.params, hop, attempt)
        try:
            return await self.transport.send(request)
        except CircleCIError as exc:
            watch.failed(url, exc)
            raise

    def _observed(self, status: int, snapshot: RateLimitSnapshot) -> None:
        """Tell observers when the binding window changed (after a response that was read)."""
        if snapshot or status == 429:
            self._view = rate_limit_changed(self.observers, self._view, self.limiter.view())

    def _redirect(
        self,
        method: str,
        status: int,
        headers: Mapping[str, str],
        url: URL,
        hops: int,
        limit: int | None = None,
    ) -> URL | None:
        """Where a redirect leads (``None``: not a redirect); raises for one not followed."""
        if status not in _REDIRECTS:
            return None
        location = headers.get("Location")
        if not location:
            raise APIError(
                f"HTTP {status} redirect without a Location header",
                status=status,
                method=method,
                url=url,
            )
        limit = self.max_redirects if limit is None else limit
        if hops >= limit:
            raise TooManyRedirects(
                f"more than {limit} redirects (a redirect loop?)", method=method, url=url
            )
        target = parse_http_url(location, base=url)
        if isinstance(target, str):
            scheme = location.partition(":")[0].lower() if ":" in location else ""
            if scheme in ("http", "https"):
                problem = f"whose Location {target}"
            else:  # a relative one resolves to http(s): only another scheme is left
                problem = f"to a {scheme!r} URL"
            raise APIError(
                f"refusing to follow a redirect {problem}",
                status=status,
                method=method,
                url=url,
            )
        return target


class Stream:
    """One streamed request (from :meth:`RequestPipeline.stream`): ``async with`` sends its hops
    and gives itself once a success (or an ``expect`` status) answers, status and headers read,
    the body not yet; its slot and connection are given back on exit.

    ``content.readchunk()`` reads the body; an exception it raises is one of ``read_errors``,
    which :meth:`body_error` turns into the library's error. ``url`` is the final URL, ``hops``
    the number of redirects followed to reach it.

    One object is both the hops and the answer, and a plain class rather than a generator-based
    context manager: one is entered per file of a batch of small artifacts, and each object, frame
    and generator shows in the CPU time of such a batch."""

    __slots__ = (
        "_expect",
        "_headers",
        "_held",
        "_limit",
        "_method",
        "_per_host",
        "_pipeline",
        "_response",
        "_timeouts",
        "_url",
        "_watch",
        "content",
        "content_length",
        "headers",
        "hops",
        "read_errors",
        "status",
    )

    content: ChunkReader
    content_length: int | None
    headers: CIMultiDictProxy[str]
    hops: int
    read_errors: tuple[type[BaseException], ...]
    status: int

    def __init__(
        self,
        pipeline: RequestPipeline,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        timeouts: Timeouts | None,
        per_host: HostSlots | None,
        limit: int,
        expect: frozenset[int],
        watch: CallWatch | None,
    ) -> None:
        self._pipeline = pipeline
        self._method = method
        self._url = url
        self._headers = headers
        self._timeouts = timeouts
        self._per_host = per_host
        self._limit = limit
        self._expect = expect
        self._watch = watch
        #: The success being read: its response context and its slot, until the exit.
        self._held: tuple[contextlib.AbstractAsyncContextManager[StreamedResponse], Slots] | None
        self._held = None
        self._response: StreamedResponse | None = None

    @property
    def url(self) -> URL:
        """The final URL (the requested one until an answer is held)."""
        response = self._response
        return self._url if response is None else response.url

    def body_error(self, exc: BaseException) -> CircleCIError:
        assert self._response is not None
        return self._response.body_error(exc)

    def interrupt(self, reason: str) -> None:
        """Fail the pending body read as a read timeout saying ``reason`` (too slow)."""
        assert self._response is not None
        self._response.interrupt(reason)

    async def __aenter__(self) -> Stream:
        pipeline, method, url, watch = self._pipeline, self._method, self._url, self._watch
        auth, stats, per_host = pipeline.auth, pipeline.stats, self._per_host
        hops = 0
        while True:
            if per_host is not None:  # one lookup per hop: the origin's slots and verdict
                slots, _, counted = per_host.origin(url, auth)
            else:
                slots, counted = pipeline._slots, auth.allows(url)
            if not slots.try_take():
                await slots.take()
            held = False  # True once the answer is a success handed over, slot and all
            try:
                rate = pipeline.limiter if counted else None
                if rate is not None and not rate.try_acquire_nowait():
                    waited = await (  # then added (see _attempt)
                        rate.acquire() if watch is None else rate.acquire(on_wait=watch.waited)
                    )
                    stats.waited += waited
                # Credentials only inside the Request (whose repr hides them), never in a local
                # of this frame: an error raised here carries the frame to error trackers.
                request = Request(
                    method,
                    url,
                    {**self._headers, **auth.headers_for(url)} if counted else self._headers,
                    timeouts=self._timeouts,
                )
                released = rate is None
                try:
                    stats.requests += 1
                    if not counted:  # a storage host: counted apart, within requests
                        stats.storage_requests += 1
                    opened = pipeline.transport.stream(request)
                    if watch is not None:
                        watch.sent(method, url, None, hops, 1)
                        opened = _WatchedOpen(opened, watch, url)
                    response = await opened.__aenter__()
                    try:
                        status = response.status
                        # A paced origin's answer teaches the limiter; a storage host's is
                        # not paced, but an error's Retry-After is still read (the caller's
                        # retry waits it).
                        if rate is not None:
                            snapshot = rate.answered(response.headers, status)
                        elif status < 400:
                            snapshot = EMPTY_SNAPSHOT
                        else:
                            snapshot = parse_rate_limit_headers(response.headers, status=status)
                        if rate is not None:
                            released = True
                            rate.release_nowait()
                        if status == 429:
                            stats.rate_limited += 1
                        if watch is not None:
                            watch.received(url, status, response.content_length, snapshot)
                            if counted and pipeline.observers:
                                pipeline._observed(status, snapshot)
                        target = (  # (the call only for a redirect: one frame less per file)
                            pipeline._redirect(
                                method, status, response.headers, response.url, hops, self._limit
                            )
                            if status in _REDIRECTS
                            else None
                        )
                        if target is None and (200 <= status < 300 or status in self._expect):
                            self._held, held = (opened, slots), True
                            self._response = response
                            self.status = status
                            self.headers = response.headers
                            self.content = response.content
                            self.content_length = response.content_length
                            self.read_errors = response.read_errors
                            self.hops = hops
                            return self
                        if target is None:
                            error_body = await response.read_at_most(
                                _ERROR_BODY, timeout=_ERROR_BODY_TIMEOUT
                            )
                            raise _error(
                                method,
                                status,
                                response.headers,
                                auth.scrub(error_body or b""),
                                url,
                                snapshot,
                                gated=counted,
                            )
                        await response.read_at_most(_SMALL_BODY)  # reuse the connection
                    except BaseException as exc:
                        await opened.__aexit__(type(exc), exc, exc.__traceback__)
                        raise
                    await opened.__aexit__(None, None, None)  # a redirect, its body drained
                    hops, url = hops + 1, target
                    if status == 303:
                        method = "GET"
                finally:
                    if not released and rate is not None:
                        rate.release_nowait()
            finally:
                if not held:
                    slots.give()

    async def __aexit__(self, *exc_info: Any) -> None:
        held, self._held = self._held, None
        if held is not None:
            opened, slots = held
            try:
                await opened.__aexit__(*exc_info)
            finally:
                slots.give()


class _WatchedOpen:
    """A watched hop's ``transport.stream(...)``: a failure to get a response is reported."""

    __slots__ = ("_opened", "_url", "_watch")

    def __init__(
        self,
        opened: contextlib.AbstractAsyncContextManager[StreamedResponse],
        watch: CallWatch,
        url: URL,
    ) -> None:
        self._opened, self._watch, self._url = opened, watch, url

    async def __aenter__(self) -> StreamedResponse:
        try:
            return await self._opened.__aenter__()
        except CircleCIError as exc:
            self._watch.failed(self._url, exc)
            raise

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self._opened.__aexit__(*exc_info)


# What a host (a name, an IPv4 or an IPv6 literal, percent-escapes included) is made of: a space,
# a NUL or a control character in it would be sent on as they are.
_HOST = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=%:-]+")


def http_url_problem(url: URL) -> str | None:
    """Why ``url`` is not one the client requests (``None``: it is), said for a message:
    not http(s), no host or a malformed one, a port out of range, or credentials embedded in
    it (``user:password@``: never sent, and never combined with the client's own). yarl
    computes some parts lazily and refuses them only then, so each is read here once."""
    key = (url.scheme, url.raw_authority)  # (plain strings yarl keeps: they cannot refuse)
    if key in _GOOD_AUTHORITIES:  # artifact URLs of a batch share their host: checked once
        return None
    try:
        # Only the port and host parts can fail to render, so a known-good authority (with
        # its scheme) vouches for every URL on it: each is not rendered again.
        str(url)
    except ValueError as exc:
        return f"is malformed ({_short(exc)})"
    problem = _authority_problem(url)
    if problem is None and len(_GOOD_AUTHORITIES) < 1024:
        _GOOD_AUTHORITIES.add(key)
    return problem


#: ``(scheme, raw authority)`` pairs already found fine by :func:`_authority_problem`.
_GOOD_AUTHORITIES: set[tuple[str, str]] = set()


def _authority_problem(url: URL) -> str | None:
    try:
        scheme = url.scheme
        host = url.raw_host
        url.host  # noqa: B018 - IDNA decoding, which may refuse
        url.port  # noqa: B018 - the range check
        userinfo = url.raw_user is not None or url.raw_password is not None
    except ValueError as exc:
        return f"is malformed ({_short(exc)})"
    if scheme not in ("http", "https"):
        return f"is not an http(s) URL (scheme {scheme or 'none'!r})"
    if not host:
        return "has no host"
    if _HOST.fullmatch(host) is None:
        return "has a host with characters no host name has"
    if userinfo:
        return "has credentials in it (user:password@), which are never sent"
    return None


def parse_http_url(text: object, *, base: URL | None = None) -> URL | str:
    """``text`` (resolved against ``base``) as a URL the client requests, or why it is not one
    (see :func:`http_url_problem`)."""
    if not isinstance(text, str):
        return "is not a string"
    try:
        url = URL(text)
        if base is not None:
            url = base.join(url)
    except ValueError as exc:  # UnicodeError (IDNA) included
        return f"is malformed ({_short(exc)})"
    problem = http_url_problem(url)
    return url if problem is None else problem


def _short(exc: BaseException) -> str:
    text = str(exc)[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _decode(method: str, response: Response, snapshot: RateLimitSnapshot, auth: TokenAuth) -> Any:
    """The decoded body of a success, or the error an error status maps to (its body scrubbed
    of anything the server echoed of the credentials)."""
    status, body = response.status, response.body
    if 200 <= status < 300:
        if status == 204 or not body:
            return None
        try:
            return _json.loads(body)
        except _json.JSONDecodeError as exc:
            raise DecodeError(
                f"the response is not valid JSON ({exc})",
                method=method,
                url=response.url,
                status=status,
                body=auth.scrub(body),
            ) from None
    raise _error(
        method, status, response.headers, auth.scrub(body), response.url, snapshot, gated=True
    )


def _error(
    method: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    url: URL,
    snapshot: RateLimitSnapshot,
    *,
    gated: bool,
) -> APIError:
    """The error an error status maps to, for API calls and streams alike. ``gated``: the
    answer came from an origin the limiter paces (so it waits out a 429's Retry-After)."""
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": url,
        "body": body,
        "request_id": headers.get("X-Request-Id") or headers.get("x-amz-request-id"),
        "rate_limit": snapshot,
    }
    message = _message(status, body)
    cls = error_for_status(status)
    if cls is RateLimitExceeded:
        return RateLimitExceeded(message, retry_after=snapshot.retry_after, gated=gated, **kwargs)
    if 300 <= status < 400:
        message = f"unexpected redirect ({message})"
    return cls(message, **kwargs)


_S3_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
_S3_MESSAGE = re.compile(rb"<Message>([^<]{1,300})</Message>")


def _message(status: int, body: bytes) -> str:
    """CircleCI's JSON message, an S3 XML error's code and message, or the body's text."""
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        try:
            return extract_message(body, _json.loads(body))
        except _json.JSONDecodeError:
            pass
    elif start == b"<":
        parts = [
            m.group(1).decode("utf-8", "replace")
            for m in (_S3_CODE.search(body), _S3_MESSAGE.search(body))
            if m is not None
        ]
        if parts:
            return ": ".join(parts)
        return f"HTTP {status} with an HTML or XML body"
    return extract_message(body)
