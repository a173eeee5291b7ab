"""Issue 10 item 8: every wait a server asks for is bounded by ``RateLimitConfig.max_wait``.

A ``Retry-After`` longer than ``max_wait``, from a 429, a 503 or any other retried status, makes
the call raise instead of sleeping; a hostile value never holds the limiter's gate (and so the
client's other requests) for longer than ``max_wait``. Each call is awaited under a deadline far
shorter than the wait the server asked for: a call that slept would fail the test.
"""

from __future__ import annotations

import asyncio
import gzip
import resource
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from circleci_async import CircleCI, RateLimitConfig, RetryConfig
from circleci_async.download import DownloadOptions, DownloadResult, DownloadStatus
from circleci_async.errors import (
    APIError,
    DecodeError,
    IntegrityError,
    MaxWaitExceeded,
    RateLimitExceeded,
    RequestTimeout,
    ResponseTooLarge,
    ServerError,
    TransportError,
)

from ._download_support import leftovers, tree
from ._hostile import RawRequest, RawServer, response

TOKEN = "limits-token-9f86d081884c7d659a2feaa0c55ad015"
JSON = {"Content-Type": "application/json"}
UNPACED_LIMITS = RateLimitConfig(initial_rate=None)
DEADLINE = 20.0  # seconds; far below every Retry-After these tests send


def _scripted(*answers: bytes) -> RawServer:
    """Answers requests with ``answers`` in turn, then ``"ok"`` for every request after."""
    queue = list(answers)

    async def handler(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(queue.pop(0) if queue else response(200, JSON, b'"ok"'))

    return RawServer(handler)


def _client(server: RawServer, *, max_wait: float | None, deadline: float | None) -> CircleCI:
    return CircleCI(
        TOKEN,
        base_url=server.url + "/api/v2",
        rate_limit=RateLimitConfig(initial_rate=None, max_wait=max_wait),
        retry=RetryConfig(deadline=deadline, backoff_base=0.01, backoff_max=0.05),
    )


@pytest.mark.parametrize("status", [503, 500, 502, 504, 408])
async def test_a_retry_after_from_any_status_beyond_max_wait_raises(status: int) -> None:
    answer = response(status, {**JSON, "Retry-After": "60"}, b"{}")
    async with _scripted(answer) as server, _client(server, max_wait=3.0, deadline=None) as cci:
        with pytest.raises(APIError) as info:
            await asyncio.wait_for(cci.request("GET", "me"), DEADLINE)
        assert isinstance(info.value, ServerError) == (status >= 500)
        assert "Retry-After" in str(info.value) and "max_wait=3 s" in str(info.value)
        assert info.value.status == status
        assert len(server.requests) == 1  # not retried
        # The gate holds no longer than max_wait: the next request goes through.
        assert await asyncio.wait_for(cci.request("GET", "me"), DEADLINE) == "ok"


async def test_a_429_beyond_max_wait_raises_max_wait_exceeded() -> None:
    answer = response(429, {"Retry-After": "60"}, b"Rate limited.")
    async with _scripted(answer) as server, _client(server, max_wait=3.0, deadline=300.0) as cci:
        with pytest.raises(MaxWaitExceeded, match="max_wait=3 s") as info:
            await asyncio.wait_for(cci.request("GET", "me"), DEADLINE)
        assert isinstance(info.value, RateLimitExceeded) and info.value.retry_after == 60
        assert isinstance(info.value.__cause__, RateLimitExceeded)
        assert len(server.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("retry_after", ["999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
async def test_an_absurd_retry_after_never_blocks_the_other_requests(
    status: int, retry_after: str
) -> None:
    answer = response(status, {"Retry-After": retry_after}, b"{}")
    async with _scripted(answer) as server, _client(server, max_wait=1.0, deadline=None) as cci:
        with pytest.raises((MaxWaitExceeded, ServerError), match="max_wait=1 s"):
            await asyncio.wait_for(cci.request("GET", "me"), DEADLINE)
        assert cci.rate_limit.blocked_for <= 1.0
        # The next request waits out the (clamped) gate and goes through.
        assert await asyncio.wait_for(cci.request("GET", "me"), DEADLINE) == "ok"


@pytest.mark.parametrize("status", [429, 503])
async def test_requests_in_line_behind_an_absurd_retry_after_end_promptly(status: int) -> None:
    answer = response(status, {"Retry-After": "999999999"}, b"{}")
    async with _scripted(answer) as server, _client(server, max_wait=1.0, deadline=None) as cci:
        calls = [asyncio.ensure_future(cci.request("GET", "me")) for _ in range(5)]
        done, pending = await asyncio.wait(calls, timeout=DEADLINE)
        assert not pending, "a request waited far longer than max_wait"
        for call in done:  # answered, or refused for what the server asked: never a sleep
            error = call.exception()
            assert error is None or "max_wait=1 s" in str(error), error
        assert await asyncio.wait_for(cci.request("GET", "me"), DEADLINE) == "ok"


@pytest.mark.parametrize("retry_after", ["-5", "nan", "inf", "soon", "-1e9", ""])
async def test_a_retry_after_that_means_nothing_falls_back_to_backoff(retry_after: str) -> None:
    answer = response(429, {"Retry-After": retry_after}, b"Rate limited.")
    async with _scripted(answer) as server, _client(server, max_wait=1.0, deadline=None) as cci:
        assert await asyncio.wait_for(cci.request("GET", "me"), DEADLINE) == "ok"
    assert len(server.requests) == 2


async def test_a_download_whose_storage_asks_for_a_long_wait_fails_alone(tmp_path: Path) -> None:
    async def storage(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response(503, {"Retry-After": "3600"}, b"busy"))

    async def artifacts_host(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        if request.path == "/slow":
            writer.write(response(302, {"Location": busy.url + "/object"}))
        else:
            writer.write(response(200, {}, b"fine"))

    async with (
        RawServer(storage) as busy,
        RawServer(artifacts_host) as server,
        _client(server, max_wait=2.0, deadline=None) as cci,
    ):
        artifacts = [
            {"path": "slow.txt", "node_index": 0, "url": server.url + "/slow"},
            {"path": "fine.txt", "node_index": 0, "url": server.url + "/fine"},
        ]
        results = await asyncio.wait_for(cci.artifacts.download(artifacts, tmp_path), DEADLINE)
    assert results[1].status is DownloadStatus.DOWNLOADED
    assert results[0].status is DownloadStatus.FAILED
    assert isinstance(results[0].error, ServerError)
    assert "max_wait=2 s" in str(results[0].error)
    assert len(busy.requests) == 1  # refused, not retried after a shortened wait
    assert (tmp_path / "fine.txt").read_bytes() == b"fine"
    assert not (tmp_path / "slow.txt").exists()


# -- item 9: the size of an API response -----------------------------------------------------

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """gzip of 1 GiB of zeros (about 1 MiB), compressed a chunk at a time: the GiB never
    exists in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    zeros = bytes(MiB)
    parts = [compressor.compress(zeros) for _ in range(1024)]
    parts.append(compressor.flush())
    return b"".join(parts)


def _serving(
    body: bytes, headers: dict[str, str] | None = None, *, length: bool = True
) -> RawServer:
    async def handler(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response(200, {**JSON, **(headers or {})}, body, length=length))

    return RawServer(handler)


def _capped(server: RawServer, cap: int | None) -> CircleCI:
    return CircleCI(
        TOKEN,
        base_url=server.url + "/api/v2",
        rate_limit=RateLimitConfig(initial_rate=None),
        max_response_size=cap,
    )


def _peak_rss() -> int:
    """The process's peak resident set so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def test_a_gzip_bomb_is_refused_while_it_is_decompressed(gzip_bomb: bytes) -> None:
    assert len(gzip_bomb) < 2 * MiB
    before = _peak_rss()
    bomb = _serving(gzip_bomb, {"Content-Encoding": "gzip"})
    async with bomb as server, _capped(server, 1 * MiB) as cci:
        with pytest.raises(ResponseTooLarge, match="max_response_size") as info:
            await asyncio.wait_for(cci.request("GET", "bomb"), DEADLINE)
    assert isinstance(info.value, DecodeError) and info.value.limit == MiB
    assert _peak_rss() - before < 100 * MiB  # far below the GiB the bomb holds


@pytest.mark.parametrize("length", [True, False])
async def test_a_plain_body_past_the_cap_is_refused(length: bool) -> None:
    body = b'"' + b"a" * (10 * MiB) + b'"'
    async with _serving(body, length=length) as server, _capped(server, MiB) as cci:
        with pytest.raises(ResponseTooLarge, match=f"max_response_size={MiB} bytes"):
            await asyncio.wait_for(cci.request("GET", "big"), DEADLINE)


@pytest.mark.parametrize("length", [True, False])
async def test_a_body_exactly_at_the_cap_is_accepted(length: bool) -> None:
    body = b'"' + b"a" * (MiB - 2) + b'"'
    async with _serving(body, length=length) as server, _capped(server, MiB) as cci:
        assert await asyncio.wait_for(cci.request("GET", "exact"), DEADLINE) == "a" * (MiB - 2)


@pytest.mark.parametrize("size", [999, 1000, 1001])
async def test_a_small_compressed_answer_is_held_to_the_cap_too(size: int) -> None:
    """A small answer arrives whole with its headers (and is taken without awaiting): its
    decompressed size is held to the cap all the same, to the byte."""
    body = b'"' + b"a" * (size - 2) + b'"'
    compressed = gzip.compress(body)
    assert len(compressed) < 200
    served = _serving(compressed, {"Content-Encoding": "gzip"})
    async with served as server, _capped(server, 1000) as cci:
        if size <= 1000:
            assert await asyncio.wait_for(cci.request("GET", "small"), DEADLINE) == "a" * (size - 2)
        else:
            with pytest.raises(ResponseTooLarge, match="passed 1001 bytes"):
                await asyncio.wait_for(cci.request("GET", "small"), DEADLINE)


async def test_the_default_cap_is_64_mib_and_none_disables_it() -> None:
    body = b'"' + b"a" * (2 * MiB) + b'"'
    async with _serving(body) as server:
        async with _capped(server, None) as cci:
            assert len(await cci.request("GET", "x")) == 2 * MiB
        async with CircleCI(TOKEN, base_url=server.url, rate_limit=UNPACED_LIMITS) as cci:
            assert cci.core.transport.max_response_size == 64 * MiB  # type: ignore[attr-defined]


# -- item 9: downloads that trickle, overrun their length or never end -------------------------


def _download_server(
    bodies: dict[str, Callable[[asyncio.StreamWriter], Awaitable[None]]],
) -> RawServer:
    async def handler(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        send = bodies.get(request.path)
        if send is None:
            writer.write(response(200, {}, b"fine"))
        else:
            await send(writer)

    return RawServer(handler)


async def _download(
    server: RawServer, tmp_path: Path, names: list[str], options: DownloadOptions
) -> dict[str, DownloadResult]:
    artifacts = [{"path": name, "node_index": 0, "url": f"{server.url}/{name}"} for name in names]
    async with CircleCI(TOKEN, base_url=server.url, rate_limit=UNPACED_LIMITS) as cci:
        results = await asyncio.wait_for(
            cci.artifacts.download(artifacts, tmp_path, options=options), DEADLINE
        )
    return {r.artifact.path: r for r in results}


async def test_a_body_that_trickles_fails_as_too_slow(tmp_path: Path) -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):  # one byte every half second: never silent for read_timeout
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.5)

    options = DownloadOptions(min_rate=50.0, min_rate_window=1.0, max_attempts=1)
    async with _download_server({"/slow.bin": trickle}) as server:
        results = await _download(server, tmp_path, ["slow.bin", "fine.txt"], options)
    assert results["fine.txt"].status is DownloadStatus.DOWNLOADED
    slow = results["slow.bin"]
    assert slow.status is DownloadStatus.FAILED
    assert isinstance(slow.error, RequestTimeout) and isinstance(slow.error, TransportError)
    assert "too slowly" in str(slow.error) and "min_rate=50" in str(slow.error)
    assert tree(tmp_path) == ["fine.txt"]


async def test_a_fast_body_is_not_cut_by_the_rate_check(tmp_path: Path) -> None:
    async def steady(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 40960\r\n\r\n")
        for _ in range(40):  # 1 KiB every 10 ms: 100 KiB/s, well above min_rate
            writer.write(b"y" * 1024)
            await writer.drain()
            await asyncio.sleep(0.01)

    options = DownloadOptions(min_rate=1024.0, min_rate_window=0.1, max_attempts=1)
    async with _download_server({"/steady.bin": steady}) as server:
        results = await _download(server, tmp_path, ["steady.bin"], options)
    assert results["steady.bin"].status is DownloadStatus.DOWNLOADED, results["steady.bin"].error
    assert (tmp_path / "steady.bin").read_bytes() == b"y" * 40960


async def test_the_rate_check_judges_each_of_many_transfers_on_its_own(tmp_path: Path) -> None:
    """One timer serves the rate checks of all the transfers: a steady one is looked at over
    several windows while many quick ones come and go (their entries dropped), and a slow one
    that starts after them still fails."""

    async def steady(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 61440\r\n\r\n")
        for _ in range(60):  # 1 KiB every 10 ms for six windows
            writer.write(b"y" * 1024)
            await writer.drain()
            await asyncio.sleep(0.01)

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    quick = [f"f{i}.txt" for i in range(150)]
    options = DownloadOptions(min_rate=1024.0, min_rate_window=0.1, max_attempts=1)
    async with _download_server({"/steady.bin": steady, "/slow.bin": trickle}) as server:
        results = await _download(server, tmp_path, ["steady.bin", *quick, "slow.bin"], options)
    assert results["steady.bin"].status is DownloadStatus.DOWNLOADED, results["steady.bin"].error
    assert all(results[name].status is DownloadStatus.DOWNLOADED for name in quick)
    slow = results["slow.bin"]
    assert slow.status is DownloadStatus.FAILED and "too slowly" in str(slow.error)
    assert sorted(tree(tmp_path)) == sorted(["steady.bin", *quick])


@pytest.mark.parametrize("pause", [0.0, 0.2])
async def test_a_body_longer_than_its_content_length_is_cut_there(
    tmp_path: Path, pause: float
) -> None:
    async def overrun(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345")
        if pause:
            await writer.drain()
            await asyncio.sleep(pause)
        writer.write(b"EXTRA" * 20000)

    # Extra bytes that come after the body land on the pooled connection, and the next request
    # on it fails with them (then is retried on a new connection): any HTTP/1.1 client's lot.
    options = DownloadOptions(max_attempts=2, backoff_base=0.01, backoff_max=0.01)
    async with _download_server({"/a.bin": overrun}) as server:
        results = await _download(server, tmp_path, ["a.bin", "fine.txt"], options)
    assert results["fine.txt"].status is DownloadStatus.DOWNLOADED
    result = results["a.bin"]
    if result.status is DownloadStatus.DOWNLOADED:  # the extra bytes came after the body
        assert (tmp_path / "a.bin").read_bytes() == b"12345"
    else:  # they came with it: the stack refuses the connection's garbage
        assert isinstance(result.error, TransportError), result.error
        assert len(str(result.error)) < 1000  # the garbage is not quoted whole
        assert not (tmp_path / "a.bin").exists()
    assert leftovers(tmp_path) == []


async def _endless(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    block = b"z" * 65536
    for _ in range(4096):  # 256 MiB at most: "endless" for a 1 MiB max_size
        writer.write(block)
        await writer.drain()


async def _exactly_one_mib(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"w" * MiB)


async def _announces_too_much(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n" + b"v" * 65536)


async def test_a_body_without_length_stops_at_max_size(tmp_path: Path) -> None:
    bodies = {"/endless": _endless, "/exact": _exactly_one_mib, "/announced": _announces_too_much}
    options = DownloadOptions(max_size=MiB, max_attempts=1)
    async with _download_server(bodies) as server:
        results = await _download(server, tmp_path, ["endless", "exact", "announced"], options)
    assert results["exact"].status is DownloadStatus.DOWNLOADED
    assert (tmp_path / "exact").stat().st_size == MiB
    for name, what in (("endless", "passed max_size=1048576"), ("announced", "1048577 bytes")):
        result = results[name]
        assert result.status is DownloadStatus.FAILED
        assert isinstance(result.error, IntegrityError) and what in str(result.error)
    assert tree(tmp_path) == ["exact"]
