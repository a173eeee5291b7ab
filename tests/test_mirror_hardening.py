"""The mirror against odd inputs, hostile file systems and interruptions, over TCP.

Times that do not parse, job names too long for one path component, job statuses this
library does not know, artifact items that do not parse, manifests that are torn, mistyped,
symlinked or on a full disk, and cancellation at every stage of the walk.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from circleci_async import CircleCI
from circleci_async.download import (
    DownloadError,
    DownloadStatus,
    LocalFileError,
    MirrorOptions,
    PathConflictError,
    UnsafePathError,
)
from circleci_async.errors import ConfigurationError, DecodeError
from circleci_async.testing import FakeCircleCI, Fault
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._download_support import SLUG, RecordingProgress, leftovers, tree
from ._waiting import wait_until


def one_job(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    *,
    status: str = "success",
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    pipeline = api.add_pipeline(SLUG, "main")
    workflow = api.add_workflow(pipeline["id"], "build")
    job = api.add_job(workflow["id"], "test", status)
    listing = items if items is not None else [hosts.add("out/a.txt", b"a", job=job["id"])]
    serve_artifact_listing(api, SLUG, job["job_number"], listing)
    return job


def listings(api: FakeCircleCI) -> int:
    return sum(1 for r in api.requests if r.path.endswith("/artifacts"))


def manifest(dest: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (dest / "manifest.jsonl").read_text().splitlines()]


# -- since / until -----------------------------------------------------------------------------


async def test_since_takes_the_cli_ages(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    now = time.time()
    for hours_ago in (30, 5, 0.5):
        pipeline = api.add_pipeline(SLUG, "main", created_at=now - hours_ago * 3600)
        workflow = api.add_workflow(pipeline["id"], "build")
        job = api.add_job(workflow["id"], "test")
        serve_artifact_listing(
            api, SLUG, job["job_number"], [hosts.add("a.txt", b"a", job=job["id"])]
        )
    assert (await cci.artifacts.mirror(SLUG, tmp_path / "1h", since="1h")).pipelines == 1
    assert (await cci.artifacts.mirror(SLUG, tmp_path / "12h", since="12h")).pipelines == 2
    assert (await cci.artifacts.mirror(SLUG, tmp_path / "2d", since="2d")).pipelines == 3
    window = await cci.artifacts.mirror(SLUG, tmp_path / "w", since="2d", until="90m")
    assert window.pipelines == 2
    assert (await cci.artifacts.mirror(SLUG, tmp_path / "m", since="45m")).pipelines == 1


@pytest.mark.parametrize("value", ["yesterday", "1x", "", "  ", "12", "2026-13-01", "7 days"])
@pytest.mark.parametrize("option", ["since", "until"])
async def test_a_time_that_does_not_parse_fails_before_any_request(
    api: FakeCircleCI, cci: CircleCI, tmp_path: Path, option: str, value: str
) -> None:
    api.clear_requests()
    with pytest.raises(ConfigurationError, match=rf"{option}.*ISO 8601.*30m, 12h, 7d, 2w"):
        await cci.artifacts.mirror(SLUG, tmp_path, **{option: value})
    assert api.requests == []
    assert not (tmp_path / "manifest.jsonl").exists()


async def test_unknown_or_bad_options_fail_before_any_request(
    api: FakeCircleCI, cci: CircleCI, tmp_path: Path
) -> None:
    api.clear_requests()
    with pytest.raises(ConfigurationError, match=r"unknown mirror option\(s\) sinse"):
        await cci.artifacts.mirror(SLUG, tmp_path, sinse="1h")
    with pytest.raises(ConfigurationError, match="concurrency must be >= 1"):
        await cci.artifacts.mirror(SLUG, tmp_path, concurrency=0)
    with pytest.raises(ConfigurationError, match="manifest must be a path inside dest"):
        await cci.artifacts.mirror(SLUG, tmp_path / "d", manifest="../outside.jsonl")
    assert api.requests == []
    assert not (tmp_path / "outside.jsonl").exists()


async def test_options_object_and_keywords_combine(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    one_job(api, hosts)
    other = api.add_pipeline(SLUG, "dev")
    workflow = api.add_workflow(other["id"], "build")
    job = api.add_job(workflow["id"], "test")
    serve_artifact_listing(api, SLUG, job["job_number"], [hosts.add("b.txt", b"b", job=job["id"])])
    options = MirrorOptions(branch="dev", manifest=None)
    only_dev = await cci.artifacts.mirror(SLUG, tmp_path / "a", options=options)
    assert only_dev.pipelines == 1 and tree(tmp_path / "a")[0].endswith("b.txt")
    both = await cci.artifacts.mirror(SLUG, tmp_path / "b", options=options, branch=None)
    assert both.pipelines == 2 and both.manifest is None


# -- layout --------------------------------------------------------------------------------------


async def test_long_job_names_sharing_a_prefix_get_a_directory_each(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    prefix = "é" * 60  # 120 bytes of UTF-8
    names = [prefix + chr(ord("a") + i) * 80 for i in range(4)]  # 200 characters each
    pipeline = api.add_pipeline(SLUG, "main")
    workflows = [api.add_workflow(pipeline["id"], prefix + tail * 80) for tail in "xy"]
    for index, name in enumerate(names):
        job = api.add_job(workflows[index % 2]["id"], name)
        item = hosts.add("reports/result.txt", f"job {index}".encode(), job=job["id"])
        serve_artifact_listing(api, SLUG, job["job_number"], [item])
    first = await cci.artifacts.mirror(SLUG, tmp_path)
    assert first.ok and first.downloaded == 4
    files = [p for p in tree(tmp_path) if p != "manifest.jsonl"]
    assert len(files) == 4
    contents = sorted((tmp_path / p).read_text() for p in files)
    assert contents == [f"job {i}" for i in range(4)]
    for path in files:
        for component in path.split("/"):
            assert len(component.encode()) <= 120
    assert len({p.split("/")[1] for p in files}) == 2  # the two workflows apart too
    for entry in first.entries:
        assert str(entry.job_number) in entry.result.relative.split("/")[2]
    records = [r for r in manifest(tmp_path) if r["type"] == "file"]
    assert len(records) == 4 and len({r["file"] for r in records}) == 4

    hosts.clear_requests()
    again = await cci.artifacts.mirror(SLUG, tmp_path)
    assert again.up_to_date and again.skipped == 4 and again.jobs_up_to_date == 4
    assert hosts.artifact_requests == [] and hosts.storage_requests == []


# -- the walk: typed models, the terminal allow-list, bad items ---------------------------------


async def test_a_job_status_this_library_does_not_know_counts_as_unfinished(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    job = one_job(api, hosts)
    # CircleCI adds statuses over time; the fake only knows today's, so this route answers
    # the workflow's job listing with one it has never heard of.
    listed = {**job, "status": "brand_new_status"}

    def jobs(request: Any, groups: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return 200, json.dumps({"items": [listed], "next_page_token": None}).encode()

    api.add_route(r"/workflow/(?P<id>[^/]+)/job", {"GET": jobs})
    first = await cci.artifacts.mirror(SLUG, tmp_path)
    assert first.downloaded == 1
    assert not any(r["type"] == "job" for r in manifest(tmp_path))
    api.clear_requests()
    second = await cci.artifacts.mirror(SLUG, tmp_path)
    assert second.skipped == 1 and second.jobs_up_to_date == 0
    assert listings(api) == 1  # listed again: its artifacts may still change


async def test_an_artifact_item_that_does_not_parse_fails_alone(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    api.page_size = 2
    good = [hosts.add(f"ok/{i}.txt", f"{i}".encode()) for i in range(3)]
    bad = {"path": "bad.txt", "node_index": "zero", "url": good[0]["url"]}
    job = one_job(api, hosts, items=[good[0], bad, good[1], good[2]])
    result = await cci.artifacts.mirror(SLUG, tmp_path)
    assert not result.errors  # the listing itself did not fail
    assert result.downloaded == 3 and result.failed == 1
    failed = next(e.result for e in result.entries if not e.result.ok)
    assert failed.status is DownloadStatus.FAILED and isinstance(failed.error, DecodeError)
    assert failed.artifact.path == "bad.txt"
    assert sorted(p for p in tree(tmp_path) if p.endswith(".txt")) == [
        f"1/build/test-{job['job_number']}/ok/{i}.txt" for i in range(3)
    ]
    records = manifest(tmp_path)
    assert not any(r["type"] == "job" for r in records)  # so the next run lists it again
    assert {r["status"] for r in records if r["type"] == "file"} == {"downloaded", "failed"}


# -- the manifest ---------------------------------------------------------------------------------


async def test_mistyped_and_torn_manifest_lines_are_skipped_with_one_warning(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    cci: CircleCI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = [one_job(api, hosts) for _ in range(3)]
    await cci.artifacts.mirror(SLUG, tmp_path)
    suspect = jobs[1]["job_number"]
    with (tmp_path / "manifest.jsonl").open("a") as handle:
        record = {"v": 1, "type": "file", "job_number": suspect, "node_index": "zero"}
        handle.write(json.dumps(record) + "\n")
        handle.write('{"v": 1, "type": "job", "job_number": "7", "files": [], "filters": 3}\n')
        handle.write("[1, 2]\n")
        handle.write('{"v": 1, "type": "file", "job_nu')  # a crash mid-line
    api.clear_requests()
    hosts.clear_requests()
    with caplog.at_level(logging.WARNING, logger="circleci_async.download"):
        again = await cci.artifacts.mirror(SLUG, tmp_path)
    warned = [r for r in caplog.records if "manifest" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert "4 unreadable line(s)" in warned[0].getMessage()
    assert again.ok and again.downloaded == 0
    assert again.jobs_up_to_date == 2
    listed = [r.path for r in api.requests if r.path.endswith("/artifacts")]
    assert listed == [f"/api/v2/project/{SLUG}/{suspect}/artifacts"]  # its job re-checked
    assert hosts.storage_requests == []
    lines = (tmp_path / "manifest.jsonl").read_text().splitlines()
    assert all(json.loads(line)["job_number"] in {j["job_number"] for j in jobs} for line in lines)


@pytest.mark.parametrize("kind", ["symlink", "dangling-symlink", "fifo", "directory"])
async def test_the_manifest_must_be_a_regular_file_in_dest(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, kind: str
) -> None:
    one_job(api, hosts)
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = tmp_path / "outside.txt"
    planted = dest / "manifest.jsonl"
    if kind == "symlink":
        outside.write_text("precious\n")
        planted.symlink_to(outside)
    elif kind == "dangling-symlink":
        planted.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(planted)
    else:
        planted.mkdir()
    api.clear_requests()
    expected = UnsafePathError if "symlink" in kind else PathConflictError
    with pytest.raises(expected) as raised:
        await cci.artifacts.mirror(SLUG, dest)
    assert isinstance(raised.value, DownloadError)
    assert "manifest" in str(raised.value)
    assert api.requests == []  # refused before the walk
    if kind == "symlink":
        assert outside.read_text() == "precious\n"
    else:
        assert not outside.exists()
    assert sorted(os.listdir(dest)) == ["manifest.jsonl"]
    assert planted.is_symlink() == ("symlink" in kind)


async def test_a_manifest_directory_symlinked_outside_dest_is_refused(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    one_job(api, hosts)
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "meta").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside dest"):
        await cci.artifacts.mirror(SLUG, dest, manifest="meta/sub/manifest.jsonl")
    assert list(outside.iterdir()) == []


def _run(command: str, *args: str) -> tuple[bool, str]:
    executable = shutil.which(command)
    if executable is None:
        return False, f"no {command} command"
    # A fixed command on the test's own temporary directory.
    done = subprocess.run([executable, *args], capture_output=True, check=False)  # noqa: S603
    return done.returncode == 0, done.stderr.decode().strip()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs mounted inside ``tmp_path`` (to be filled by :func:`fill`)."""
    mount = tmp_path / "dest" / "meta"
    mount.mkdir(parents=True)
    mounted, why = _run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount))
    if not mounted:
        pytest.skip(f"cannot mount a tmpfs: {why}")
    try:
        yield mount
    finally:
        _run("umount", "-l", str(mount))


def fill(directory: Path) -> None:
    """Write zeros to ``directory`` until the file system says it is full."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    errors: list[int | None] = []
    try:
        for size in (4096, 1):  # whole blocks, then the last bytes
            for _ in range(100_000):
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    errors.append(exc.errno)
                    break
    finally:
        os.close(fd)
    assert errors == [errno.ENOSPC, errno.ENOSPC]


async def test_a_full_disk_while_appending_to_the_manifest_is_a_download_error(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, full_disk: Path
) -> None:
    one_job(api, hosts)
    fill(full_disk)
    dest = full_disk.parent
    with pytest.raises(LocalFileError) as raised:
        await cci.artifacts.mirror(SLUG, dest, manifest="meta/manifest.jsonl")
    assert raised.value.errno == errno.ENOSPC
    assert str(full_disk / "manifest.jsonl") in str(raised.value)
    assert sorted(os.listdir(full_disk)) in (["filler"], ["filler", "manifest.jsonl"])


async def test_a_full_disk_while_compacting_the_manifest_keeps_the_old_one(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, full_disk: Path
) -> None:
    for _ in range(3):
        one_job(api, hosts)
    dest = full_disk.parent
    await cci.artifacts.mirror(SLUG, dest, manifest="meta/manifest.jsonl")
    before = (full_disk / "manifest.jsonl").read_bytes()
    fill(full_disk)
    with pytest.raises(LocalFileError, match=r"manifest\.jsonl.*No space left"):
        await cci.artifacts.mirror(SLUG, dest, manifest="meta/manifest.jsonl")
    assert (full_disk / "manifest.jsonl").read_bytes() == before
    assert sorted(os.listdir(full_disk)) == ["filler", "manifest.jsonl"]  # no temp file left


# -- cancellation ---------------------------------------------------------------------------------


def _seed_many(api: FakeCircleCI, hosts: ArtifactServers, *, pipelines: int, size: int) -> None:
    for index in range(pipelines):
        pipeline = api.add_pipeline(SLUG, "main", created_at=1_700_000_000 + index)
        workflow = api.add_workflow(pipeline["id"], "build")
        for name in ("a", "b"):
            job = api.add_job(workflow["id"], name)
            items = [
                hosts.add(f"f{n}.bin", GeneratedContent(size, seed=n), job=job["id"])
                for n in range(2)
            ]
            serve_artifact_listing(api, SLUG, job["job_number"], items)


@pytest.mark.parametrize("stage", ["listing pipelines", "waiting for a job slot", "downloading"])
async def test_cancelling_a_mirror_leaves_no_coroutine_unawaited(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, stage: str
) -> None:
    _seed_many(api, hosts, pipelines=6, size=512 * 1024)
    progress = RecordingProgress()
    if stage == "listing pipelines":
        # Pipeline slots all taken by slow workflow listings: the walk waits for a slot.
        api.inject(Fault("delay", delay=2.0, path=r"/pipeline/[^/]+/workflow", times=100))
        ready = lambda: sum(1 for r in api.requests if r.path.endswith("/workflow")) >= 1  # noqa: E731
    else:
        for item in hosts.artifacts:
            hosts.add_fault(item.url, TransferFault("slow", delay=0.05, times=None))
        if stage == "waiting for a job slot":
            ready = lambda: sum(1 for r in api.requests if r.path.endswith("/job")) >= 2  # noqa: E731
        else:
            ready = lambda: bool(leftovers(tmp_path))  # noqa: E731
    unraisable: list[Any] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            task = asyncio.ensure_future(
                cci.artifacts.mirror(
                    SLUG, tmp_path, progress=progress, concurrency=1, list_concurrency=1
                )
            )
            await wait_until(ready, 15, what=stage)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gc.collect()
            await asyncio.sleep(0)
            gc.collect()
    finally:
        sys.unraisablehook = previous_hook
    assert [str(u.exc_value) for u in unraisable] == []
    assert leftovers(tmp_path) == []
