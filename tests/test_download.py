"""The artifact downloader end to end, over TCP: API fake + artifact host + storage host."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import attrs
import pytest

from circleci_async import CircleCI
from circleci_async.download import (
    DownloadFailed,
    DownloadOptions,
    DownloadStatus,
    PathConflictError,
    SkipPolicy,
    TqdmProgress,
    UnsafePathError,
    WriteMode,
)
from circleci_async.errors import ConfigurationError, NotFound
from circleci_async.ratelimit import AdaptiveLimiter
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._download_support import (
    SLUG,
    TOKEN,
    UNPACED,
    RecordingProgress,
    by_path,
    leftovers,
    tree,
)
from ._waiting import wait_until

MiB = 1024 * 1024
FAST = DownloadOptions(backoff_base=0.01, backoff_max=0.05, max_attempts=3)
#: Tests of the write path run with writes on the event loop (auto) and on the thread pool.
MODES = pytest.mark.parametrize("mode", [WriteMode.AUTO, WriteMode.THREAD])


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


# -- the basics --------------------------------------------------------------------------------


async def test_downloads_a_job_through_redirects_without_leaking_the_token(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    api.page_size = 4  # the listing takes several pages
    contents = {f"reports/r{i}.xml": f"<testsuite id='{i}'/>".encode() for i in range(9)}
    items = [hosts.add(path, data) for path, data in contents.items()]
    items.append(hosts.add("bin/tool", GeneratedContent(3 * MiB + 17)))
    serve_artifact_listing(api, SLUG, 12, items)

    results = await cci.artifacts.download(cci.artifacts.list(SLUG, 12), tmp_path)

    assert [r.status for r in results] == [DownloadStatus.DOWNLOADED] * 10
    assert [r.artifact.path for r in results] == [i["path"] for i in items]  # input order
    for path, data in contents.items():
        assert (tmp_path / path).read_bytes() == data
    assert GeneratedContent(3 * MiB + 17).matches_file(str(tmp_path / "bin/tool"))
    assert results[-1].bytes == results[-1].transferred == 3 * MiB + 17
    assert leftovers(tmp_path) == []
    # The token went to the artifact host (HTTPS, *.circle-artifacts.com), never to storage.
    assert hosts.credential_leaks == []
    assert all(r.headers.get("Circle-Token") == TOKEN for r in hosts.artifact_requests)
    assert len(hosts.storage_requests) == 10
    for request in hosts.storage_requests:
        assert request.headers.get("Accept-Encoding") == "identity"
        assert "X-Amz-Signature" in request.query
    assert results.summary().startswith("10 downloaded")


async def test_accepts_objects_with_attributes(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    @attrs.frozen
    class Artifact:  # what the typed API returns: any object with path, node_index, url
        path: str
        node_index: int
        url: str

    item = hosts.add("a.txt", b"typed")
    results = await cci.artifacts.download([Artifact(**item)], tmp_path)
    assert results.ok and (tmp_path / "a.txt").read_bytes() == b"typed"


async def test_typed_artifacts_from_the_jobs_namespace(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    serve_artifact_listing(api, SLUG, 5, [hosts.add("typed/a.txt", b"from a model")])
    results = await cci.artifacts.download(cci.jobs.artifacts(SLUG, 5), tmp_path)
    assert results.ok and (tmp_path / "typed/a.txt").read_bytes() == b"from a model"


async def test_direct_html_artifact_and_two_hop_redirect(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    page = hosts.add("site/index.html", b"<html>ok</html>", direct=True)
    deep = hosts.add("deep.bin", b"x" * 1000, hops=3)
    results = await cci.artifacts.download([page, deep], tmp_path)
    assert results.ok
    assert (tmp_path / "site/index.html").read_bytes() == b"<html>ok</html>"
    assert (tmp_path / "deep.bin").read_bytes() == b"x" * 1000
    assert len(hosts.requests_for(deep, "artifact")) == 3  # two hops on the artifact host
    assert hosts.credential_leaks == []


@MODES
async def test_one_gib_file_streams_in_bounded_memory(tmp_path: Path, mode: WriteMode) -> None:
    """Generated on the fly by the fake (plain HTTP here, for speed); peak RSS sampled."""
    size = 1024 * MiB
    content = GeneratedContent(size, seed=7)
    async with (
        FakeCircleCI(token=TOKEN) as api,
        ArtifactServers(token=TOKEN, tls=False) as servers,
        servers.session() as session,
        CircleCI(
            TOKEN,
            base_url=api.url,
            session=session,
            token_origins=servers.token_origins,
            rate_limit=UNPACED,
        ) as client,
    ):
        item = servers.add("images/disk.img", content)
        peak = 0.0

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mib())
                await asyncio.sleep(0.005)

        baseline = rss_mib()
        sampler = asyncio.ensure_future(sample())
        try:
            results = await client.artifacts.download(
                [item], tmp_path, options=DownloadOptions(write_mode=mode)
            )
        finally:
            sampler.cancel()
        assert servers.credential_leaks == []
    assert results.ok, results[0].error
    assert results[0].bytes == size
    assert content.matches_file(str(tmp_path / "images/disk.img"))
    # Client and both servers share this process: still far below the file's size.
    assert peak - baseline < 48, f"peak RSS grew by {peak - baseline:.1f} MiB"


# -- atomicity and resume ----------------------------------------------------------------------


async def test_nothing_under_the_final_name_until_complete(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    item = hosts.add(
        "slow.bin",
        GeneratedContent(4 * MiB),
        faults=[TransferFault("slow", delay=0.02, times=None)],
    )
    seen_partial = False

    async def watch() -> None:
        nonlocal seen_partial
        while True:
            assert not (tmp_path / "slow.bin").exists()
            seen_partial = seen_partial or bool(leftovers(tmp_path))
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    try:
        results = await cci.artifacts.download([item], tmp_path)
    finally:
        watcher.cancel()
    assert results.ok and seen_partial
    assert tree(tmp_path) == ["slow.bin"]


@MODES
async def test_resume_after_a_drop_goes_back_through_the_artifact_url(
    api: FakeCircleCI, tmp_path: Path, mode: WriteMode
) -> None:
    content = GeneratedContent(5 * MiB + 3, seed=1)
    async with (
        ArtifactServers(token=TOKEN, single_use_urls=True) as servers,
        servers.session() as session,
        CircleCI(
            TOKEN,
            base_url=api.url,
            session=session,
            token_origins=servers.token_origins,
            rate_limit=UNPACED,
        ) as client,
    ):
        item = servers.add(
            "big.bin",
            content,
            faults=[TransferFault("drop", after=2 * MiB + 5), TransferFault("drop", after=MiB)],
        )
        options = attrs.evolve(FAST, write_mode=mode)
        results = await client.artifacts.download([item], tmp_path, options=options)
        storage = servers.requests_for(item)
        artifact_host = servers.requests_for(item, "artifact")
    result = results[0]
    assert result.status is DownloadStatus.DOWNLOADED, result.error
    assert content.matches_file(str(tmp_path / "big.bin"))
    assert result.attempts == 3 and result.transferred == content.size
    # Every attempt started at the CircleCI URL (pre-signed URLs are single-use here).
    assert len(artifact_host) == 3
    assert [r.headers.get("Range") for r in storage] == [
        None,
        f"bytes={2 * MiB + 5}-",
        f"bytes={3 * MiB + 5}-",
    ]
    assert all(r.headers.get("If-Range") for r in storage[1:])
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fault", ["ignore-range", "bad-range"])
async def test_resume_restarts_unless_the_206_starts_at_the_offset(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, fault: str
) -> None:
    content = GeneratedContent(3 * MiB, seed=2)
    item = hosts.add(
        "f.bin", content, faults=[TransferFault("drop", after=MiB), TransferFault(fault)]
    )  # type: ignore[arg-type]
    progress = RecordingProgress()
    results = await cci.artifacts.download([item], tmp_path, options=FAST, progress=progress)
    assert results.ok, results[0].error
    assert content.matches_file(str(tmp_path / "f.bin"))
    assert progress.advanced("f.bin") == content.size  # restarts reported as negative advances
    assert any(kind == "advance" and n < 0 for kind, _, n in progress.calls)


@MODES
async def test_an_interrupted_file_is_resumed_by_the_next_run(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, mode: WriteMode
) -> None:
    content = GeneratedContent(6 * MiB, seed=3)
    options = attrs.evolve(FAST, resume_threshold=MiB, write_mode=mode)
    item = hosts.add("dump.bin", content, faults=[TransferFault("drop", after=MiB + 1, times=1)])
    hosts.add_fault(item, TransferFault("drop", after=0, times=None))  # then nothing more
    first = await cci.artifacts.download([item], tmp_path, options=options)
    assert first[0].status is DownloadStatus.FAILED
    assert not (tmp_path / "dump.bin").exists()
    assert sorted(leftovers(tmp_path)) == ["dump.bin.cci-partial", "dump.bin.cci-partial.json"]
    assert (tmp_path / "dump.bin.cci-partial").stat().st_size == MiB + 1

    hosts.artifact(item).faults.clear()
    hosts.clear_requests()
    second = await cci.artifacts.download([item], tmp_path, options=options)
    assert second[0].status is DownloadStatus.DOWNLOADED, second[0].error
    assert second[0].resumed_from == MiB + 1
    assert second[0].transferred == content.size - (MiB + 1)
    assert [r.headers.get("Range") for r in hosts.requests_for(item)] == [f"bytes={MiB + 1}-"]
    assert content.matches_file(str(tmp_path / "dump.bin"))
    assert leftovers(tmp_path) == []


async def test_resume_from_a_partial_file_left_by_a_crash(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    content = GeneratedContent(2 * MiB, seed=4)
    item = hosts.add("c.bin", content)
    served = hosts.artifact(item)
    (tmp_path / "c.bin.cci-partial").write_bytes(content.read(0, 700_000))
    record = {"version": 1, "url": item["url"], "size": content.size, "validator": served.etag}
    (tmp_path / "c.bin.cci-partial.json").write_text(json.dumps(record))
    results = await cci.artifacts.download([item], tmp_path)
    assert results[0].resumed_from == 700_000
    assert hosts.requests_for(item)[0].headers["If-Range"] == served.etag
    assert content.matches_file(str(tmp_path / "c.bin"))
    assert leftovers(tmp_path) == []


async def test_a_record_for_another_url_is_not_trusted(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    item = hosts.add("d.bin", b"fresh content")
    (tmp_path / "d.bin.cci-partial").write_bytes(b"stale")
    record = {"version": 1, "url": "https://elsewhere.circle-artifacts.com/d", "size": 13}
    (tmp_path / "d.bin.cci-partial.json").write_text(json.dumps(record))
    results = await cci.artifacts.download([item], tmp_path)
    assert results[0].resumed_from == 0
    assert (tmp_path / "d.bin").read_bytes() == b"fresh content"
    assert leftovers(tmp_path) == []


# -- skip policies and layout ------------------------------------------------------------------


async def test_skip_policies_are_results(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    same = hosts.add("same.txt", b"12345")
    other = hosts.add("other.txt", b"new content")
    (tmp_path / "same.txt").write_bytes(b"abcde")  # same size, different bytes
    (tmp_path / "other.txt").write_bytes(b"old")

    present = await cci.artifacts.download([same, other], tmp_path, skip="if-present")
    assert [(r.status, r.reason) for r in present] == [(DownloadStatus.SKIPPED, "present")] * 2
    assert hosts.storage_requests == [] and hosts.artifact_requests == []

    sized = await cci.artifacts.download([same, other], tmp_path, skip="if-size-matches")
    assert [(r.status, r.reason) for r in sized] == [
        (DownloadStatus.SKIPPED, "size-matches"),
        (DownloadStatus.DOWNLOADED, None),
    ]
    assert (tmp_path / "same.txt").read_bytes() == b"abcde"
    assert (tmp_path / "other.txt").read_bytes() == b"new content"

    overwritten = await cci.artifacts.download([same], tmp_path, skip=SkipPolicy.OVERWRITE)
    assert overwritten[0].status is DownloadStatus.DOWNLOADED
    assert (tmp_path / "same.txt").read_bytes() == b"12345"
    assert leftovers(tmp_path) == []
    with pytest.raises(ConfigurationError, match="skip must be one of"):
        await cci.artifacts.download([same], tmp_path, skip="sometimes")


async def test_many_files_in_one_directory_some_present_some_stale(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    items = [hosts.add(f"many/f{i:02d}.txt", f"new {i}".encode()) for i in range(24)]
    (tmp_path / "many").mkdir()
    for i in range(0, 24, 3):
        (tmp_path / f"many/f{i:02d}.txt").write_text("old")
    (tmp_path / "many/f01.txt.cci-partial").write_text("stale, and no resume record")
    results = await cci.artifacts.download(items, tmp_path, skip="if-present")
    expected = [
        DownloadStatus.SKIPPED if i % 3 == 0 else DownloadStatus.DOWNLOADED for i in range(24)
    ]
    assert [r.status for r in results] == expected
    assert (tmp_path / "many/f00.txt").read_text() == "old"
    assert (tmp_path / "many/f01.txt").read_text() == "new 1"
    assert leftovers(tmp_path) == []  # the stale partial file was tidied away


async def test_parallel_nodes_do_not_overwrite_each_other(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    items = [
        hosts.add("test-results/junit.xml", f"<node {n}/>".encode(), node_index=n) for n in range(3)
    ]
    items.append(hosts.add("coverage.txt", b"only node 0", node_index=0))
    results = await cci.artifacts.download(items, tmp_path)
    assert results.ok
    assert tree(tmp_path) == [
        "coverage.txt",
        "node-0/test-results/junit.xml",
        "node-1/test-results/junit.xml",
        "node-2/test-results/junit.xml",
    ]
    for n in range(3):
        assert (
            tmp_path / f"node-{n}/test-results/junit.xml"
        ).read_bytes() == f"<node {n}/>".encode()

    flat = await cci.artifacts.download(items, tmp_path / "flat", layout="flat")
    assert [r.status for r in flat] == [DownloadStatus.FAILED] * 3 + [DownloadStatus.DOWNLOADED]
    assert all(isinstance(r.error, PathConflictError) for r in flat[:3])


async def test_unsafe_paths_fail_alone_and_nothing_escapes(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    outside.mkdir()
    dest.mkdir()
    (dest / "link").symlink_to(outside, target_is_directory=True)
    corpus = ["../x", "/etc/x", "a/../../x", "C:\\x", "a\0b", "n" * 300, "link/escaped.txt"]
    bad = [hosts.add(f"ok-{i}", b"-") for i in range(len(corpus))]
    for item, path in zip(bad, corpus, strict=True):
        item["path"] = path  # what a hostile or broken server could list
    good = hosts.add("ünïcødé/日本語/🚀.txt", b"fine")
    results = await cci.artifacts.download([*bad, good], dest)
    for result in results[:-1]:
        assert result.status is DownloadStatus.FAILED
        assert isinstance(result.error, UnsafePathError), result.error
    assert results[-1].status is DownloadStatus.DOWNLOADED
    assert (dest / "ünïcødé/日本語/🚀.txt").read_bytes() == b"fine"
    assert list(outside.iterdir()) == []
    # Nothing was requested for the refused paths.
    assert [r.artifact for r in hosts.storage_requests] == [hosts.artifact(good).id]


# -- credentials, limits, rate limiting --------------------------------------------------------


async def test_basic_auth_never_reaches_the_storage_host(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    item = hosts.add("a.txt", b"basic")
    async with (
        hosts.session() as session,
        CircleCI(
            TOKEN,
            base_url=api.url,
            session=session,
            auth="basic",
            token_origins=hosts.token_origins,
            rate_limit=UNPACED,
        ) as client,
    ):
        results = await client.artifacts.download([item], tmp_path)
    assert results.ok
    assert hosts.artifact_requests[0].headers["Authorization"].startswith("Basic ")
    assert hosts.credential_leaks == []


async def test_no_token_over_plain_http(api: FakeCircleCI, tmp_path: Path) -> None:
    """With the default rule (HTTPS artifact hosts only) a plain-HTTP artifact URL gets no
    token; the private artifact host then refuses, and that is the file's error."""
    async with (
        ArtifactServers(token=TOKEN, tls=False) as servers,
        servers.session() as session,
        CircleCI(TOKEN, base_url=api.url, session=session, rate_limit=UNPACED) as client,
    ):
        item = servers.add("a.txt", b"x")
        results = await client.artifacts.download([item], tmp_path)
        assert "Circle-Token" not in servers.artifact_requests[0].headers
    assert results[0].status is DownloadStatus.FAILED
    assert getattr(results[0].error, "status", None) == 401


@pytest.mark.parametrize("header", ["Circle-Token", "authorization"])
async def test_a_session_that_sends_credentials_everywhere_is_refused(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path, header: str
) -> None:
    # Refused before any request, for API calls and downloads alike: session headers would
    # follow an API redirect or an artifact redirect to any host.
    async with hosts.session(headers={header: TOKEN}) as session:
        client = CircleCI(TOKEN, base_url=api.url, session=session)
        with pytest.raises(ConfigurationError, match="credentials on every request"):
            await client.request("GET", "me")
        with pytest.raises(ConfigurationError, match="credentials on every request"):
            await client.artifacts.download([hosts.add(f"a-{header}", b"a")], tmp_path)
        await client.close()
    assert api.requests == [] and hosts.artifact_requests == []


async def test_global_and_per_host_limits(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    slow = TransferFault("slow", delay=0.01, times=None)
    items = [hosts.add(f"f{i}.bin", GeneratedContent(MiB, i), faults=[slow]) for i in range(8)]
    results = await cci.artifacts.download(items, tmp_path, concurrency=6, per_host=2)
    assert results.ok
    assert hosts.max_in_flight["storage"] == 2
    hosts.max_in_flight["storage"] = 0
    results = await cci.artifacts.download(items, tmp_path / "b", concurrency=3)
    assert results.ok
    assert hosts.max_in_flight["storage"] == 3


class CountingLimiter(AdaptiveLimiter):
    """Counts the slots it hands out, on the synchronous fast path and the waiting one."""

    def __init__(self) -> None:
        super().__init__(UNPACED)
        self.acquired = 0

    def try_acquire_nowait(self) -> bool:
        taken = super().try_acquire_nowait()
        self.acquired += taken
        return taken

    async def acquire(self) -> float:
        self.acquired += 1
        return await super().acquire()


async def test_circleci_hosts_use_the_rate_limiter_and_storage_does_not(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    limiter = CountingLimiter()
    items = [hosts.add(f"f{i}", b"x" * 10) for i in range(5)]
    hosts.add_fault(
        items[0],
        TransferFault("status", where="artifact", status=429),
    )
    async with (
        hosts.session() as session,
        CircleCI(
            TOKEN,
            base_url=api.url,
            session=session,
            limiter=limiter,
            token_origins=hosts.token_origins,
        ) as client,
    ):
        results = await client.artifacts.download(items, tmp_path, options=FAST)
        stats = client.stats
    assert results.ok
    assert limiter.acquired == len(hosts.artifact_requests) == 6  # one 429, retried
    assert len(hosts.storage_requests) == 5
    assert stats.rate_limited == 1


# -- progress --------------------------------------------------------------------------------


async def test_progress_protocol_and_the_library_prints_nothing(
    hosts: ArtifactServers,
    cci: CircleCI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ok = hosts.add("ok.bin", GeneratedContent(2 * MiB + 1))
    missing = hosts.add("missing.bin", b"", faults=[TransferFault("status", status=404)])
    progress = RecordingProgress()
    await cci.artifacts.download([ok, missing], tmp_path, progress=progress)
    assert ("start", "ok.bin", 2 * MiB + 1) in progress.calls
    assert progress.advanced("ok.bin") == 2 * MiB + 1
    finishes = [(name, status) for kind, name, status in progress.calls if kind == "finish"]
    assert sorted(finishes) == [("missing.bin", "failed"), ("ok.bin", "downloaded")]
    out, err = capsys.readouterr()
    assert out == "" and err == ""

    stream = io.StringIO()
    with TqdmProgress(file=stream, mininterval=0) as bar:
        await cci.artifacts.download([ok], tmp_path / "t", progress=bar)
    assert bar.files_done == 1 and "files=1" in stream.getvalue()


# -- failures: each file on its own ------------------------------------------------------------


async def test_bad_conditions_are_clear_per_file_errors(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    good = hosts.add("good.txt", b"good")
    not_found = hosts.add(
        "gone.txt", b"", faults=[TransferFault("status", where="artifact", status=404)]
    )
    forbidden = hosts.add("denied.bin", b"", faults=[TransferFault("status", status=403)])
    html = hosts.add("report.json", b"{}", faults=[TransferFault("html", where="artifact")])
    loop = hosts.add("loop.bin", b"", faults=[TransferFault("loop", where="artifact", times=None)])
    flaky = hosts.add(
        "flaky.bin", GeneratedContent(MiB), faults=[TransferFault("status", status=503, times=2)]
    )
    broken = hosts.add(
        "broken.bin",
        GeneratedContent(2 * MiB),
        faults=[TransferFault("drop", after=1000, times=None)],
    )
    items = [good, not_found, forbidden, html, loop, flaky, broken]
    results = by_path(await cci.artifacts.download(items, tmp_path, options=FAST))

    assert results["good.txt"].status is DownloadStatus.DOWNLOADED
    assert results["flaky.bin"].status is DownloadStatus.DOWNLOADED
    assert results["flaky.bin"].attempts == 3
    assert isinstance(results["gone.txt"].error, NotFound)
    assert getattr(results["denied.bin"].error, "status", None) == 403
    assert "HTML page" in str(results["report.json"].error)
    assert "redirects" in str(results["loop.bin"].error)
    assert "closed before the whole body" in str(results["broken.bin"].error)
    assert "after 3 attempts" in str(results["broken.bin"].error)
    for name in ("gone.txt", "denied.bin", "report.json", "loop.bin", "broken.bin"):
        assert results[name].status is DownloadStatus.FAILED
        assert results[name].error is not None
        assert "X-Amz-Signature=***" in str(results[name].error) or "Signature" not in str(
            results[name].error
        )  # signed URLs are redacted in messages
    assert tree(tmp_path) == ["flaky.bin", "good.txt"]


async def test_html_page_with_wrong_length_for_an_html_artifact_is_not_saved(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    """An .html artifact may be HTML, so the length is what gives the error page away."""
    page = hosts.add(
        "index.html",
        b"<html>real</html>",
        direct=True,
        faults=[TransferFault("html", where="artifact", times=None)],
    )
    results = await cci.artifacts.download([page], tmp_path, options=FAST)
    assert results[0].status is DownloadStatus.FAILED
    assert "closed before the whole body" in str(results[0].error)
    assert tree(tmp_path) == []


async def test_read_only_destination(hosts: ArtifactServers, cci: CircleCI, tmp_path: Path) -> None:
    dest = tmp_path / "ro"
    dest.mkdir()
    mounted = _mount(dest, "tmpfs", "ro,size=1m") if os.geteuid() == 0 else False
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("cannot make a read-only directory as root without a mount")
        dest.chmod(0o555)
    try:
        results = await cci.artifacts.download([hosts.add("sub/a.txt", b"a")], dest)
        assert results[0].status is DownloadStatus.FAILED
        assert "could not write" in str(results[0].error) or "Read-only" in str(results[0].error)
        assert tree(dest) == []
    finally:
        if mounted:
            _umount(dest)
        else:
            dest.chmod(0o755)


@MODES
async def test_full_disk(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, mode: WriteMode
) -> None:
    """A 1 MiB tmpfs when this runs as root (CI does); each file fails or succeeds alone."""
    dest = tmp_path / "small"
    dest.mkdir()
    if os.geteuid() != 0 or not _mount(dest, "tmpfs", "size=1m"):
        pytest.skip("needs root to mount a small file system (the injected fault test covers it)")
    try:
        big = hosts.add("big.bin", GeneratedContent(3 * MiB))
        small = hosts.add("small.txt", b"fits")
        options = DownloadOptions(write_mode=mode)
        results = await cci.artifacts.download([big, small], dest, concurrency=1, options=options)
        assert results[0].status is DownloadStatus.FAILED
        assert getattr(results[0].error, "errno", None) == 28  # ENOSPC
        assert "No space left" in str(results[0].error)
        assert results[1].status is DownloadStatus.DOWNLOADED
        assert tree(dest) == ["small.txt"]
    finally:
        _umount(dest)


@MODES
async def test_injected_write_failure(
    hosts: ArtifactServers,
    cci: CircleCI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: WriteMode,
) -> None:
    """The same as a full disk, without a mount: the disk fills after 1 MiB (ENOSPC)."""
    from circleci_async.download import writer

    original = writer._write_all
    calls = 0

    def failing(fd: int, chunks: list[bytes]) -> None:
        nonlocal calls
        if os.fstat(fd).st_size + sum(map(len, chunks)) > MiB:
            calls += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        original(fd, chunks)

    monkeypatch.setattr(writer, "_write_all", failing)
    big = hosts.add("big.bin", GeneratedContent(8 * MiB))
    results = await cci.artifacts.download(
        [big, hosts.add("s.txt", b"s")], tmp_path, options=DownloadOptions(write_mode=mode)
    )
    assert calls >= 1
    assert results[0].status is DownloadStatus.FAILED
    assert getattr(results[0].error, "errno", None) == errno.ENOSPC
    assert "No space left" in str(results[0].error)
    assert results[1].status is DownloadStatus.DOWNLOADED
    assert tree(tmp_path) == ["s.txt"]


async def test_auto_mode_moves_writes_off_the_loop_when_the_disk_is_slow(
    hosts: ArtifactServers,
    cci: CircleCI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from circleci_async.download import writer

    original = writer._write_all
    on_loop_thread: list[bool] = []

    def slow_disk(fd: int, chunks: list[bytes]) -> None:
        on_loop_thread.append(threading.current_thread() is threading.main_thread())
        # A disk this slow empties the 0.25 s budget in three writes, however slow the rest of
        # the machine is: the budget refills by a tenth of the time between writes, so only
        # more than 0.9 s of other work per write would keep it topped up.
        time.sleep(0.1)
        original(fd, chunks)

    monkeypatch.setattr(writer, "_write_all", slow_disk)
    content = GeneratedContent(6 * MiB, seed=9)
    item = hosts.add("slow-disk.bin", content)
    with caplog.at_level(logging.INFO, logger="circleci_async.download"):
        results = await cci.artifacts.download(
            [item], tmp_path, options=DownloadOptions(write_mode="auto")
        )
    assert results.ok, results[0].error
    assert content.matches_file(str(tmp_path / "slow-disk.bin"))
    assert "writing on the thread pool from now on" in caplog.text
    assert on_loop_thread[0] is True and on_loop_thread[-1] is False


@MODES
async def test_cancellation_mid_download_leaves_no_temp_files(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, mode: WriteMode
) -> None:
    slow = TransferFault("slow", delay=0.01, times=None)
    items = [
        hosts.add(f"d{i}/f.bin", GeneratedContent(4 * MiB, i), faults=[slow]) for i in range(4)
    ]
    progress = RecordingProgress()
    task = asyncio.ensure_future(
        cci.artifacts.download(
            items,
            tmp_path,
            progress=progress,
            options=DownloadOptions(resume_threshold=MiB, write_mode=mode),
        )
    )
    # Well into the transfers, partial files on disk.
    await wait_until(
        lambda: (
            sum(1 for kind, *_ in progress.calls if kind == "advance") >= 4 and leftovers(tmp_path)
        ),
        timeout=10,
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(tmp_path) == []
    assert [p for p in tree(tmp_path) if p.endswith("f.bin")] == []


async def test_fail_fast_stops_the_batch(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    slow = TransferFault("slow", delay=0.02, times=None)
    items = [hosts.add(f"s{i}.bin", GeneratedContent(4 * MiB, i), faults=[slow]) for i in range(3)]
    items.insert(1, hosts.add("missing", b"", faults=[TransferFault("status", status=404)]))
    with pytest.raises(DownloadFailed) as info:
        await cci.artifacts.download(items, tmp_path, concurrency=2, fail_fast=True)
    statuses = [r.status for r in info.value.results]
    assert statuses[1] is DownloadStatus.FAILED
    assert DownloadStatus.CANCELLED in statuses
    assert "missing" in str(info.value)
    assert leftovers(tmp_path) == []


async def test_unusable_destination_is_a_configuration_error(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigurationError, match="download directory"):
        await cci.artifacts.download([hosts.add("a", b"a")], tmp_path / "file")


async def test_a_directory_in_the_way_is_a_conflict(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    (tmp_path / "out.txt").mkdir()
    results = await cci.artifacts.download([hosts.add("out.txt", b"x")], tmp_path)
    assert isinstance(results[0].error, PathConflictError)


async def test_connection_refused_is_a_transport_error(
    cci: CircleCI, tmp_path: Path, unused_tcp_port: int
) -> None:
    item = {"path": "a", "node_index": 0, "url": f"http://127.0.0.1:{unused_tcp_port}/a"}
    results = await cci.artifacts.download([item], tmp_path, options=FAST)
    assert results[0].status is DownloadStatus.FAILED
    assert "could not connect" in str(results[0].error)


def _mount(path: Path, fstype: str, options: str) -> bool:
    return _run("mount", "-t", fstype, "-o", options, fstype, str(path))


def _umount(path: Path) -> None:
    _run("umount", str(path))


def _run(command: str, *args: str) -> bool:
    executable = shutil.which(command)
    if executable is None:
        return False
    # A fixed command on the test's own temporary directory.
    done = subprocess.run([executable, *args], capture_output=True, check=False)  # noqa: S603
    return done.returncode == 0
