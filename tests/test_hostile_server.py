"""Issue 10 item 7: malformed URLs from a hostile server (redirect ``Location`` headers,
artifact listings, storage redirects) and absurdly deep artifact paths end in a
:class:`CircleCIError` subclass, and in a download batch fail their own file alone.

The servers are raw sockets writing hand-made HTTP (``tests/_hostile.py``): no framework would
send these headers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from circleci_async import CircleCI, RateLimitConfig, RetryConfig
from circleci_async.download import DownloadStatus
from circleci_async.errors import (
    APIError,
    CircleCIError,
    DownloadError,
    TransportError,
    UnsafePathError,
)

from ._hostile import RawRequest, RawServer, response

TOKEN = "hostile-token-7c4a8d09ca3762af61e59520943dc264"
UNPACED = RateLimitConfig(initial_rate=None)
FAST_RETRY = RetryConfig(max_attempts=2, backoff_base=0.01, backoff_max=0.01)

BAD_LOCATIONS = [
    "http://[::1/x",  # an IPv6 literal without its closing bracket
    "http://[::1]:99999/x",  # a port out of range
    "http://127.0.0.1:99999/x",
    "http://127.0.0.1:abc/x",  # a port that is not a number
    "http://xn--a.com/x",  # not valid IDNA
    "http://a\x00b/x",  # a NUL in the host
    "http://ex ample.com/x",  # a space in the host
]


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _redirecting(location: str, *, good: bytes = b"hello") -> RawServer:
    """``/redirect`` answers 302 to ``location``; ``/good`` and ``/api/...`` answer ``good``."""

    async def handler(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        if request.path.endswith("/redirect"):
            writer.write(response(302, {"Location": location}))
        elif request.path.endswith("/good") or request.path.endswith("/me"):
            writer.write(response(200, {"Content-Type": "application/json"}, b'"' + good + b'"'))
        else:
            writer.write(response(404, {"Content-Type": "application/json"}, b"{}"))

    return RawServer(handler)


@pytest.mark.parametrize("location", [*BAD_LOCATIONS, "http://user:pw@127.0.0.1:1/x"])
@pytest.mark.parametrize("auth", ["circle-token", "basic"])
async def test_a_malformed_redirect_on_an_api_call_is_an_api_error(
    location: str, auth: str
) -> None:
    async with (
        _redirecting(location) as server,
        CircleCI(
            TOKEN,
            base_url=server.url + "/api/v2",
            auth=auth,  # type: ignore[arg-type]
            rate_limit=UNPACED,
            retry=FAST_RETRY,
        ) as cci,
    ):
        if "\x00" in location:  # aiohttp's parser refuses the header itself
            with pytest.raises(TransportError, match="Invalid HTTP header") as broken:
                await cci.request("GET", "redirect")
            error: CircleCIError = broken.value
        else:
            with pytest.raises(APIError, match="refusing to follow a redirect") as info:
                await cci.request("GET", "redirect")
            assert info.value.status == 302
            error = info.value
        assert not isinstance(error, UnicodeError)
        assert TOKEN not in str(error) and "pw" not in str(error)
        # The client is still usable afterwards.
        assert await cci.request("GET", "me") == "hello"
    assert all(r.path.endswith(("/redirect", "/me")) for r in server.requests)


async def test_a_redirect_with_credentials_in_it_is_refused_not_followed() -> None:
    hit: list[RawRequest] = []

    async def target(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        hit.append(request)
        writer.write(response(200, {}, b'"leaked"'))

    async with RawServer(target) as other:
        location = other.url.replace("http://", "http://user:secret@") + "/x"
        async with (
            _redirecting(location) as server,
            CircleCI(TOKEN, base_url=server.url + "/api/v2", rate_limit=UNPACED) as cci,
        ):
            with pytest.raises(APIError, match="credentials"):
                await cci.request("GET", "redirect")
    assert hit == []


async def test_bad_artifact_urls_and_storage_redirects_fail_their_file_alone(
    tmp_path: Path,
) -> None:
    async def storage(request: RawRequest, writer: asyncio.StreamWriter) -> None:
        index = int(request.path.rsplit("/", 1)[1])
        writer.write(response(302, {"Location": BAD_LOCATIONS[index]}))

    async with RawServer(storage) as bad_storage, _redirecting("unused") as server:
        artifacts = [{"path": "ok.txt", "node_index": 0, "url": server.url + "/good"}]
        for i, location in enumerate(BAD_LOCATIONS):
            # A bad URL in the listing itself, and a good one whose storage redirect is bad.
            artifacts.append({"path": f"listed-{i}.txt", "node_index": 0, "url": location})
            artifacts.append(
                {"path": f"redirect-{i}.txt", "node_index": 0, "url": f"{bad_storage.url}/{i}"}
            )
        artifacts.append(
            {"path": "creds.txt", "node_index": 0, "url": "http://u:p@127.0.0.1:1/creds"}
        )
        async with CircleCI(
            TOKEN, base_url=server.url + "/api/v2", auth="basic", rate_limit=UNPACED
        ) as cci:
            results = await cci.artifacts.download(artifacts, tmp_path)
    by_path = {r.artifact.path: r for r in results}
    assert by_path["ok.txt"].status is DownloadStatus.DOWNLOADED
    assert (tmp_path / "ok.txt").read_bytes() == b'"hello"'
    failed = [r for r in results if r.artifact.path != "ok.txt"]
    assert len(failed) == 2 * len(BAD_LOCATIONS) + 1
    for result in failed:
        assert result.status is DownloadStatus.FAILED, result
        assert isinstance(result.error, CircleCIError), result.error
        assert not isinstance(result.error, UnicodeError)
    assert _names(tmp_path) == ["ok.txt"]


async def test_a_path_a_thousand_directories_deep_fails_its_file_alone(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 1000) + "/file.txt"
    async with (
        _redirecting("unused") as server,
        CircleCI(TOKEN, base_url=server.url + "/api/v2", rate_limit=UNPACED) as cci,
    ):
        artifacts = [
            {"path": deep, "node_index": 0, "url": server.url + "/good"},
            {"path": "ok.txt", "node_index": 0, "url": server.url + "/good"},
        ]
        results = await cci.artifacts.download(artifacts, tmp_path)
    assert results[1].status is DownloadStatus.DOWNLOADED
    assert results[0].status is DownloadStatus.FAILED
    assert isinstance(results[0].error, UnsafePathError)
    assert "deep" in str(results[0].error) or "long" in str(results[0].error)
    assert isinstance(results[0].error, DownloadError)
    assert _names(tmp_path) == ["ok.txt"]
