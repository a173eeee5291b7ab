"""Smaller pieces of the downloader and of the fake hosts, each on its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from circleci_async import CircleCI
from circleci_async.download import (
    ArtifactRef,
    DownloadFailed,
    DownloadResult,
    DownloadResults,
    DownloadStatus,
)
from circleci_async.download import writer as writer_module
from circleci_async.download.fetch import (
    ContentRange,
    html_expected,
    is_html,
    parse_content_range,
    strong_validator,
)
from circleci_async.download.writer import ResumeRecord
from circleci_async.errors import NotFound
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    LoopbackResolver,
    serve_artifact_listing,
)

from ._download_support import SLUG, TOKEN, UNPACED

# -- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 100-199/1000", ContentRange(100, 199, 1000)),
        ("bytes */1000", ContentRange(None, None, 1000)),
        ("bytes 0-9/*", ContentRange(0, 9, None)),
        ("  BYTES 5-5/6 ", ContentRange(5, 5, 6)),
        ("bytes 9-0/10", None),
        ("items 0-1/2", None),
        ("bytes=0-1/2", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_content_range(value: str | None, expected: ContentRange | None) -> None:
    assert parse_content_range(value) == expected


def test_html_detection_and_validators() -> None:
    assert is_html("text/html; charset=utf-8") and is_html("application/xhtml+xml")
    assert not is_html("text/plain") and not is_html(None)
    assert html_expected("site/INDEX.HTM") and not html_expected("report.json")
    assert strong_validator({"ETag": '"abc"'}) == '"abc"'
    assert strong_validator({"ETag": 'W/"abc"', "Last-Modified": "x"}) == "x"
    assert strong_validator({}) is None


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"version": 2, "url": "u", "size": 1}',
        b'{"version": 1, "url": 5, "size": 1}',
        b'{"version": 1, "url": "u", "size": true}',
    ],
)
def test_resume_records_are_validated(data: bytes) -> None:
    assert ResumeRecord.loads(data) is None


def test_resume_record_round_trip() -> None:
    record = ResumeRecord("https://x.circle-artifacts.com/a", 10, '"etag"')
    assert ResumeRecord.loads(record.dumps()) == record
    bare = ResumeRecord.loads(b'{"version": 1, "url": "u", "size": 3, "validator": 7}')
    assert bare == ResumeRecord("u", 3, None)


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def at_most_five(fd: int, buffers: list[bytes]) -> int:
        budget = 5
        for buffer in buffers:
            take = min(len(buffer), budget)
            os.write(fd, memoryview(buffer)[:take])
            budget -= take
            if not budget:
                break
        return 5 - budget

    monkeypatch.setattr(writer_module, "_writev", at_most_five)
    path = tmp_path / "f"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        writer_module._write_all(fd, [b"hello world", b"", b"abc", b"0123456789"])
        writer_module._write_all(fd, [bytes([i]) for i in range(200)] * 6)  # > IOV_MAX pieces
    finally:
        os.close(fd)
    assert path.read_bytes() == b"hello worldabc0123456789" + bytes(range(200)) * 6


def test_results_helpers() -> None:
    ref = ArtifactRef("a", 0, "https://x/a")
    results = DownloadResults(
        [
            DownloadResult(ref, DownloadStatus.DOWNLOADED, bytes=2 * 1024 * 1024),
            DownloadResult(ref, DownloadStatus.SKIPPED, reason="present"),
            DownloadResult(ref, DownloadStatus.FAILED, error=NotFound("gone", status=404)),
        ]
    )
    assert results.summary() == "1 downloaded (2.0 MiB), 1 skipped, 1 failed"
    assert not results.ok and len(results.failed) == 1
    assert results[0].destination is None
    with pytest.raises(DownloadFailed, match="1 of 3 files failed") as info:
        results.raise_for_failures()
    assert len(info.value.results) == 3


def test_generated_content_is_consistent_across_chunking() -> None:
    content = GeneratedContent(3 * 1024 * 1024 + 5, seed=3)
    whole = content.read(0, content.size)
    assert len(whole) == content.size
    pieces = b"".join(bytes(v) for v in content.chunks(1000, 2_500_000, 77_777))
    assert pieces == whole[1000:2_500_000]
    assert GeneratedContent(10, seed=4).read(0, 10) != GeneratedContent(10, seed=5).read(0, 10)


# -- the fake hosts' own contract ---------------------------------------------------------------


async def test_resolver_refuses_names_it_does_not_serve() -> None:
    resolver = LoopbackResolver({"known.example": 1234})
    assert (await resolver.resolve("KNOWN.example."))[0]["port"] == 1234
    with pytest.raises(OSError, match="not one of the fake hosts"):
        await resolver.resolve("circleci.com")


async def test_storage_host_behaves_like_s3(hosts: ArtifactServers) -> None:
    item = hosts.add("a.bin", b"0123456789")
    async with hosts.session() as http:
        async with http.get(item["url"], allow_redirects=False) as resp:
            assert resp.status == 401  # private: the artifact host wants the token
        headers = {"Circle-Token": TOKEN}
        async with http.get(item["url"], headers=headers, allow_redirects=False) as resp:
            assert resp.status == 302
            signed = resp.headers["Location"]
        assert "X-Amz-Signature=" in signed
        async with http.get(signed, headers={"Range": "bytes=-4"}) as resp:
            assert resp.status == 206 and await resp.read() == b"6789"
            assert resp.headers["Content-Range"] == "bytes 6-9/10"
        async with http.get(signed, headers={"Range": "bytes=10-"}) as resp:
            assert resp.status == 416 and resp.headers["Content-Range"] == "bytes */10"
        async with http.get(signed, headers={"Range": "bytes=2-", "If-Range": '"other"'}) as resp:
            assert resp.status == 200 and await resp.read() == b"0123456789"
        async with http.get(signed, headers={"Circle-Token": TOKEN}) as resp:
            assert resp.status == 400
            assert "Only one auth mechanism allowed" in await resp.text()
        async with http.get(signed.replace("X-Amz-Signature=", "X-Amz-Signature=0")) as resp:
            assert resp.status == 403
    assert len(hosts.credential_leaks) == 1
    assert "<redacted>" in repr(hosts.credential_leaks[0]) and TOKEN not in repr(
        hosts.credential_leaks[0]
    )


async def test_presigned_urls_expire(hosts: ArtifactServers) -> None:
    item = hosts.add("a.bin", b"x")
    now = [1_800_000_000.0]
    hosts.clock = lambda: now[0]
    async with hosts.session() as http:
        headers = {"Circle-Token": TOKEN}
        async with http.get(item["url"], headers=headers, allow_redirects=False) as resp:
            signed = resp.headers["Location"]
        now[0] += hosts.url_ttl + 5
        async with http.get(signed) as resp:
            assert resp.status == 403 and "expired" in await resp.text()


async def test_listing_route_pages_and_rejects_foreign_tokens(
    api: FakeCircleCI, hosts: ArtifactServers
) -> None:
    api.page_size = 2
    items = [hosts.add(f"f{i}", b"x") for i in range(5)]
    serve_artifact_listing(api, SLUG, 7, items)
    serve_artifact_listing(api, SLUG, 8, items[:1])
    headers = {"Circle-Token": TOKEN}
    async with aiohttp.ClientSession(headers=headers) as http:
        url = f"{api.url}/project/{SLUG}/7/artifacts"
        seen, token = [], None
        while True:
            params = {"page-token": token} if token else None
            async with http.get(url, params=params) as resp:
                page = await resp.json()
            seen += [i["path"] for i in page["items"]]
            token = page["next_page_token"]
            if not token:
                break
        assert seen == [f"f{i}" for i in range(5)]
        other = f"{api.url}/project/{SLUG}/8/artifacts"
        async with http.get(url, params={"page-token": "bm9wZQ"}) as resp:
            assert resp.status == 400
        async with http.get(f"{api.url}/project/{SLUG}/99/artifacts") as resp:
            assert (await resp.json()) == {"items": [], "next_page_token": None}
        async with http.get(other) as resp:
            assert len((await resp.json())["items"]) == 1


def test_adding_the_same_artifact_twice_is_refused(hosts: ArtifactServers) -> None:
    hosts.add("a", b"1")
    with pytest.raises(ValueError, match="already served"):
        hosts.add("a", b"2")
    hosts.add("a", b"2", job="another-job")


# -- redirects the downloader must refuse -------------------------------------------------------


@pytest.fixture
async def odd_redirects() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        target = {"/ftp": "ftp://example.com/x", "/file": "file:///etc/passwd"}.get(request.path)
        if request.path == "/nolocation":
            return web.Response(status=302)
        if target is None:
            return web.Response(status=404)
        return web.Response(status=302, headers={"Location": target})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_redirects_to_other_schemes_or_nowhere_fail(
    api: FakeCircleCI, odd_redirects: str, tmp_path: Path
) -> None:
    items = [
        {"path": name, "node_index": 0, "url": f"{odd_redirects}/{name}"}
        for name in ("ftp", "file", "nolocation")
    ]
    async with CircleCI(TOKEN, base_url=api.url, rate_limit=UNPACED) as client:
        results = await client.artifacts.download(items, tmp_path)
    messages = [str(r.error) for r in results]
    assert "refusing to follow a redirect to a 'ftp' URL" in messages[0]
    assert "refusing to follow a redirect to a 'file' URL" in messages[1]
    assert "without a Location header" in messages[2]
    assert os.listdir(tmp_path) == []
