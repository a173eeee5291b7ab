"""API calls and artifact downloads run on one request path: the same Retry-After parser, the
same retryable statuses, the same redirect rules and errors, the same sanitized causes.

Every server here is a hostile one the test builds itself (aiohttp apps and raw sockets on
127.0.0.1); the token is sent to each of them (they are the API, or a token origin), so an
error that kept the HTTP stack's exception would carry it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import circleci_async
from circleci_async import CircleCI, RateLimitConfig, RetryConfig, Timeouts, errors, waiting
from circleci_async import download as download_package
from circleci_async.download import DownloadOptions, DownloadStatus
from circleci_async.download import errors as download_errors
from circleci_async.errors import (
    APIError,
    CircleCIError,
    ConnectError,
    MaxWaitExceeded,
    RateLimitExceeded,
    RequestTimeout,
    SanitizedCause,
    ServerError,
    TooManyRedirects,
    TransportError,
)
from circleci_async.ratelimit.backends import InMemoryBackend
from circleci_async.ratelimit.headers import RateLimitSnapshot

TOKEN = "one-path-token-6b1f0c9e2d7a4f38"
UNPACED = RateLimitConfig(initial_rate=None)
FAST = DownloadOptions(backoff_base=0.01, backoff_max=0.05, max_attempts=3, read_timeout=0.5)


# -- a hostile HTTP server: redirect loops, odd schemes, Retry-After dates, flaky statuses ------


class Hostile:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.path.rsplit("/", 1)[-1]
        count = self.hits[request.path] = self.hits.get(request.path, 0) + 1
        if name == "loop":
            return web.Response(status=302, headers={"Location": request.path})
        if name == "ftp":
            return web.Response(status=302, headers={"Location": "ftp://example.com/x"})
        if name == "dated":  # a Retry-After as an HTTP date, an hour from now
            later = formatdate(time.time() + 3600, usegmt=True)
            return web.Response(status=503, headers={"Retry-After": later}, text="busy")
        if name == "flaky408":
            if count == 1:
                return web.Response(status=408, text="request timeout")
            return web.json_response({"ok": True}) if "api" in request.path else _file()
        if name == "always503":
            return web.Response(status=503, text="unavailable")
        return web.Response(status=404)


def _file() -> web.Response:
    return web.Response(body=b"hello", content_type="application/octet-stream")


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    async for server in _hostile():
        yield server


@pytest.fixture
async def other() -> AsyncIterator[Hostile]:
    async for server in _hostile():
        yield server


async def _hostile() -> AsyncIterator[Hostile]:
    server = Hostile()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


def _client(base: str, **kwargs: Any) -> CircleCI:
    """A client whose API is ``base`` and whose token also goes to ``base``'s artifact paths."""
    kwargs.setdefault("rate_limit", UNPACED)
    return CircleCI(TOKEN, base_url=f"{base}/api/v2", token_origins=[base], **kwargs)


def _item(url: str) -> dict[str, Any]:
    return {"path": url.rsplit("/", 1)[-1], "node_index": 0, "url": url}


async def test_retry_after_http_dates_are_read_on_both_paths(
    hostile: Hostile, other: Hostile, tmp_path: Path
) -> None:
    # An hour's Retry-After does not fit: both paths give up after one attempt, and say why.
    # The download's host is not the client's API (a storage host, as S3 is): its wait is the
    # retry loop's, not the limiter's.
    async with CircleCI(TOKEN, base_url=f"{other.url}/api/v2", rate_limit=UNPACED) as cci:
        results = await cci.artifacts.download([_item(f"{hostile.url}/art/dated")], tmp_path)
    async with _client(hostile.url) as cci:
        with pytest.raises(ServerError) as info:
            await cci.request("GET", "dated")
    api_wait = info.value.rate_limit.retry_after if info.value.rate_limit else None
    assert api_wait is not None and 3000 < api_wait <= 3600
    error = results[0].error
    assert isinstance(error, ServerError) and error.status == 503
    download_wait = error.rate_limit.retry_after if error.rate_limit else None
    assert download_wait is not None and 3000 < download_wait <= 3600
    assert results[0].attempts == 1
    assert hostile.hits == {"/api/v2/dated": 1, "/art/dated": 1}


async def test_one_set_of_retryable_statuses(hostile: Hostile, tmp_path: Path) -> None:
    fast = RetryConfig(backoff_base=0.01, backoff_max=0.05)
    async with _client(hostile.url, retry=fast) as cci:
        assert await cci.request("GET", "flaky408") == {"ok": True}  # 408 is in the set
        results = await cci.artifacts.download(
            [_item(f"{hostile.url}/art/flaky408")], tmp_path / "a", options=FAST
        )
    assert results[0].ok and results[0].attempts == 2
    assert (tmp_path / "a" / "flaky408").read_bytes() == b"hello"
    assert hostile.hits == {"/api/v2/flaky408": 2, "/art/flaky408": 2}

    # A client that does not retry 503 does not retry it in downloads either.
    only_500 = RetryConfig(retry_statuses=frozenset({500}), backoff_base=0.01)
    async with _client(hostile.url, retry=only_500) as cci:
        with pytest.raises(ServerError):
            await cci.request("GET", "always503")
        results = await cci.artifacts.download(
            [_item(f"{hostile.url}/art/always503")], tmp_path / "b", options=FAST
        )
    assert results[0].status is DownloadStatus.FAILED and results[0].attempts == 1
    assert hostile.hits["/api/v2/always503"] == hostile.hits["/art/always503"] == 1


async def test_redirect_loops_raise_the_one_too_many_redirects(
    hostile: Hostile, tmp_path: Path
) -> None:
    async with _client(hostile.url) as cci:
        with pytest.raises(TooManyRedirects, match="redirects"):
            await cci.request("GET", "loop")
        results = await cci.artifacts.download([_item(f"{hostile.url}/art/loop")], tmp_path)
    # The request and five redirects followed, on each path.
    assert hostile.hits == {"/api/v2/loop": 6, "/art/loop": 6}
    assert isinstance(results[0].error, TooManyRedirects)
    assert download_errors.TooManyRedirects is errors.TooManyRedirects
    assert os.listdir(tmp_path) == []


async def test_redirects_to_other_schemes_are_refused_the_same_way(
    hostile: Hostile, tmp_path: Path
) -> None:
    refused = "refusing to follow a redirect to a 'ftp' URL"
    async with _client(hostile.url) as cci:
        with pytest.raises(APIError, match=refused) as info:
            await cci.request("GET", "ftp")
        results = await cci.artifacts.download([_item(f"{hostile.url}/art/ftp")], tmp_path)
    error = results[0].error
    assert type(error) is type(info.value) and error.status == info.value.status == 302
    assert refused in str(error)


# -- causes without credentials ---------------------------------------------------------------


def _credential_strings() -> tuple[str, ...]:
    basic = base64.b64encode(f"{TOKEN}:".encode()).decode()
    return TOKEN, basic


def _assert_clean(error: BaseException) -> None:
    """No credential anywhere in the error, its causes and contexts (str, repr, args, vars,
    recursively), and no exception of the HTTP stack among them."""
    secrets = _credential_strings()
    seen: set[int] = set()
    chain: list[BaseException] = []

    def walk(obj: object, depth: int) -> None:
        if depth > 8 or id(obj) in seen or obj is None:
            return
        seen.add(id(obj))
        if isinstance(obj, bytes):
            obj = obj.decode("utf-8", "replace")
        if isinstance(obj, str):
            assert not any(secret in obj for secret in secrets), obj
            return
        if isinstance(obj, int | float | bool | type):
            return
        assert not any(secret in str(obj) or secret in repr(obj) for secret in secrets)
        if isinstance(obj, BaseException):
            chain.append(obj)
            walk(obj.args, depth + 1)
            walk(obj.__cause__, depth + 1)
            walk(obj.__context__, depth + 1)
        if isinstance(obj, dict):
            for key, value in obj.items():
                walk(key, depth + 1)
                walk(value, depth + 1)
        elif isinstance(obj, list | tuple | set | frozenset):
            for value in obj:
                walk(value, depth + 1)
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            walk(attributes, depth + 1)
        for name in getattr(type(obj), "__slots__", ()):
            walk(getattr(obj, name, None), depth + 1)

    walk(error, 0)
    assert all(not type(e).__module__.startswith("aiohttp") for e in chain), chain
    assert any(isinstance(e, SanitizedCause) for e in chain), chain  # a cause was kept


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def _drop_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_head(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 1000\r\n\r\n" + b"x" * 10
    )
    await writer.drain()
    writer.close()


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers and a few bytes, then silence until the client gives up and closes."""
    await _read_head(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 1000\r\n\r\n" + b"x" * 10
    )
    await writer.drain()
    await reader.read()  # returns when the client closes the connection
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Never answers: reads until the client closes."""
    await reader.read()
    writer.close()


async def _raw_server(handler: Handler) -> tuple[asyncio.Server, str, list[asyncio.StreamWriter]]:
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", writers


async def _stop(server: asyncio.Server, writers: list[asyncio.StreamWriter]) -> None:
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("auth", ["circle-token", "basic"])
async def test_a_refused_connection_keeps_a_clean_cause(auth: str, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_unused_port()}"
    retry = RetryConfig(max_attempts=1)
    async with _client(base, retry=retry, auth=auth) as cci:
        with pytest.raises(ConnectError) as info:
            await cci.request("GET", "me")
        results = await cci.artifacts.download(
            [_item(f"{base}/art/a")], tmp_path, options=attrs_evolve(FAST, max_attempts=1)
        )
    _assert_clean(info.value)
    error = results[0].error
    assert isinstance(error, ConnectError)
    _assert_clean(error)


@pytest.mark.parametrize("auth", ["circle-token", "basic"])
async def test_a_timeout_keeps_a_clean_cause(auth: str, tmp_path: Path) -> None:
    server, base, writers = await _raw_server(_silent)
    try:
        async with _client(
            base, retry=RetryConfig(max_attempts=1), timeouts=Timeouts(total=0.3), auth=auth
        ) as cci:
            with pytest.raises(RequestTimeout) as info:
                await cci.request("GET", "me")
        _assert_clean(info.value)
    finally:
        await _stop(server, writers)

    server, base, writers = await _raw_server(_stall)
    try:
        async with _client(base, auth=auth) as cci:
            options = attrs_evolve(FAST, max_attempts=1, read_timeout=0.3)
            results = await cci.artifacts.download(
                [_item(f"{base}/art/a")], tmp_path, options=options
            )
    finally:
        await _stop(server, writers)
    error = results[0].error
    assert isinstance(error, RequestTimeout), error
    _assert_clean(error)
    assert "a" not in os.listdir(tmp_path)  # nothing under the final name


@pytest.mark.parametrize("auth", ["circle-token", "basic"])
async def test_a_dropped_body_keeps_a_clean_cause(auth: str, tmp_path: Path) -> None:
    server, base, writers = await _raw_server(_drop_body)
    try:
        async with _client(base, retry=RetryConfig(max_attempts=1), auth=auth) as cci:
            with pytest.raises(TransportError) as info:
                await cci.request("GET", "me")
            results = await cci.artifacts.download(
                [_item(f"{base}/art/a")], tmp_path, options=attrs_evolve(FAST, max_attempts=1)
            )
    finally:
        await _stop(server, writers)
    _assert_clean(info.value)
    error = results[0].error
    assert isinstance(error, TransportError) and "before the whole body" in str(error)
    _assert_clean(error)


def attrs_evolve(options: DownloadOptions, **changes: Any) -> DownloadOptions:
    import attrs

    return attrs.evolve(options, **changes)


# -- one limiter code path --------------------------------------------------------------------


class AsyncCountingMemory(InMemoryBackend):
    """In-memory state that counts how often the limiter fell back to the async forms."""

    def __init__(self, config: RateLimitConfig) -> None:
        super().__init__(config)
        self.async_calls = 0

    async def try_acquire(self, key: str, now: float) -> float:
        self.async_calls += 1
        return await super().try_acquire(key, now)

    async def release(self, key: str) -> None:
        self.async_calls += 1
        await super().release(key)

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None:
        self.async_calls += 1
        await super().observe(key, snapshot, status=status, now=now, wall=wall)


async def test_a_backend_that_answers_at_once_is_never_awaited(
    hostile: Hostile, tmp_path: Path
) -> None:
    # Any backend answering the fast forms (here a subclass, so no isinstance shortcut could
    # recognise it as "the" in-memory one) runs without a coroutine per step.
    backend = AsyncCountingMemory(UNPACED)
    limiter = circleci_async.AdaptiveLimiter(UNPACED, key="k", backend=backend)
    fast = RetryConfig(backoff_base=0.01, backoff_max=0.05)
    async with _client(hostile.url, limiter=limiter, retry=fast) as cci:
        await asyncio.gather(*(cci.request("GET", "flaky408") for _ in range(5)))
        results = await cci.artifacts.download(
            [_item(f"{hostile.url}/art/flaky408")], tmp_path, options=FAST
        )
    assert results.ok
    assert hostile.hits == {"/api/v2/flaky408": 6, "/art/flaky408": 2}  # a 408 each, retried
    assert limiter.view().in_flight == 0
    assert backend.async_calls == 0


# -- the tree ---------------------------------------------------------------------------------


def test_every_public_error_is_in_one_tree_and_drawn() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        obj = getattr(errors, name)
        if not isinstance(obj, type) or obj is SanitizedCause:
            continue
        assert issubclass(obj, CircleCIError), name
        assert f" {name} " in doc or doc.count(name) >= 1, name
    assert not issubclass(SanitizedCause, CircleCIError)  # a cause, never raised on its own
    assert issubclass(MaxWaitExceeded, RateLimitExceeded)
    for module in (download_errors, download_package):
        for name in ("DownloadError", "IntegrityError", "LocalFileError", "TooManyRedirects"):
            assert getattr(module, name) is getattr(errors, name)
    assert waiting.WaitTimeout is errors.WaitTimeout is circleci_async.WaitTimeout
    assert circleci_async.MaxWaitExceeded is MaxWaitExceeded
