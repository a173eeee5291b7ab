"""Mirroring a project's artifacts over TCP: idempotence, filters, layout, the manifest."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from circleci_async import CircleCI
from circleci_async.download import DownloadFailed, DownloadStatus
from circleci_async.testing import FakeCircleCI, Fault
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._download_support import (
    SLUG,
    interrupt_mirror,
    leftovers,
    tree,
)

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()


def seed(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    *,
    pipelines: int = 3,
    branches: tuple[str, ...] = ("main",),
    workflows: tuple[str, ...] = ("build",),
    jobs: tuple[str, ...] = ("test", "lint"),
    job_status: str = "success",
    content: Any = None,
) -> list[dict[str, Any]]:
    """Pipelines (an hour apart, oldest first) whose jobs each have two artifacts, one of them
    uploaded by two parallel nodes."""
    seeded = []
    for index in range(pipelines):
        pipeline = api.add_pipeline(
            SLUG, branches[index % len(branches)], created_at=T0 + index * 3600
        )
        for workflow_name in workflows:
            workflow = api.add_workflow(pipeline["id"], workflow_name)
            for job_name in jobs:
                job = api.add_job(workflow["id"], job_name, job_status)
                number = job["job_number"]
                items = [
                    hosts.add(
                        "results/junit.xml",
                        f"<{job_name} {number} node {node}/>".encode(),
                        node_index=node,
                        job=job["id"],
                    )
                    for node in (0, 1)
                ]
                items.append(
                    hosts.add(
                        f"logs/{job_name}.log",
                        content if content is not None else f"log of {number}".encode(),
                        job=job["id"],
                    )
                )
                serve_artifact_listing(api, SLUG, number, items)
                seeded.append({"pipeline": pipeline, "workflow": workflow, "job": job})
    return seeded


def manifest(dest: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (dest / "manifest.jsonl").read_text().splitlines()]


def artifact_listings(api: FakeCircleCI) -> int:
    return sum(1 for r in api.requests if r.path.endswith("/artifacts"))


async def test_mirror_twice_downloads_once(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seeded = seed(api, hosts)
    first = await cci.artifacts.mirror(SLUG, tmp_path)
    assert first.ok, first.errors
    assert (first.pipelines, first.workflows, first.jobs) == (3, 3, 6)
    assert first.downloaded == 18 and first.skipped == 0
    newest = seeded[-1]
    job_dir = f"{newest['pipeline']['number']}/build/lint-{newest['job']['job_number']}"
    files = tree(tmp_path)
    assert f"{job_dir}/node-0/results/junit.xml" in files
    assert f"{job_dir}/node-1/results/junit.xml" in files
    assert f"{job_dir}/logs/lint.log" in files
    number = newest["job"]["job_number"]
    node1 = tmp_path / f"{job_dir}/node-1/results/junit.xml"
    assert node1.read_bytes() == f"<lint {number} node 1/>".encode()
    assert len(files) == 19  # 18 artifacts and the manifest
    records = manifest(tmp_path)
    file_records = [r for r in records if r["type"] == "file"]
    assert len(file_records) == 18
    assert {r["status"] for r in file_records} == {"downloaded"}
    sample = next(r for r in file_records if r["file"] == f"{job_dir}/logs/lint.log")
    assert sample["pipeline"] == newest["pipeline"]["number"]
    assert (sample["workflow"], sample["job"]) == ("build", "lint")
    assert (sample["path"], sample["size"]) == (
        "logs/lint.log",
        len(f"log of {newest['job']['job_number']}"),
    )
    assert len([r for r in records if r["type"] == "job"]) == 6

    hosts.clear_requests()
    api.clear_requests()
    second = await cci.artifacts.mirror(SLUG, tmp_path)
    assert second.up_to_date and second.downloaded == 0
    assert second.skipped == 18 and second.jobs_up_to_date == 6
    assert "nothing new to download; 18 files already present" in str(second)
    assert hosts.artifact_requests == [] and hosts.storage_requests == []
    assert artifact_listings(api) == 0  # finished, fully mirrored jobs are not listed again
    assert manifest(tmp_path) == records  # compacted: the same state, not appended twice


async def test_skip_if_present_without_a_manifest(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=1)
    await cci.artifacts.mirror(SLUG, tmp_path, manifest=None)
    hosts.clear_requests()
    again = await cci.artifacts.mirror(SLUG, tmp_path, manifest=None)
    assert again.up_to_date and again.skipped == 6 and again.jobs_up_to_date == 0
    assert hosts.storage_requests == []
    assert not (tmp_path / "manifest.jsonl").exists()


async def test_filters(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seeded = seed(api, hosts, pipelines=4, branches=("main", "dev"), workflows=("build", "deploy"))
    by_branch = await cci.artifacts.mirror(SLUG, tmp_path / "a", branch="dev")
    assert by_branch.pipelines == 2
    names = await cci.artifacts.mirror(
        SLUG, tmp_path / "b", workflow="dep*", job=["lint"], include=["**/*.log"]
    )
    assert (names.pipelines, names.workflows, names.jobs, names.downloaded) == (4, 4, 4, 4)
    assert all(p.endswith("/lint.log") or p == "manifest.jsonl" for p in tree(tmp_path / "b"))
    excluded = await cci.artifacts.mirror(
        SLUG, tmp_path / "c", max_pipelines=1, exclude=["results/*"]
    )
    assert (excluded.pipelines, excluded.downloaded) == (1, 4)
    assert {e.pipeline_number for e in excluded.entries} == {seeded[-1]["pipeline"]["number"]}
    window = await cci.artifacts.mirror(
        SLUG,
        tmp_path / "d",
        since=datetime.fromtimestamp(T0 + 3600, timezone.utc),
        until="2026-03-01T02:30:00Z",
    )
    numbers = {e.pipeline_number for e in window.entries}
    assert numbers == {seeded[4]["pipeline"]["number"], seeded[8]["pipeline"]["number"]}
    # The walk stopped at the first pipeline older than `since`: no listing beyond it.
    assert window.pipelines == 2


async def test_a_rerun_workflow_with_the_same_name_is_kept_apart(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    pipeline = api.add_pipeline(SLUG, "main")
    numbers = []
    for attempt in range(2):
        workflow = api.add_workflow(pipeline["id"], "build")
        job = api.add_job(workflow["id"], "test")
        numbers.append(job["job_number"])
        serve_artifact_listing(
            api,
            SLUG,
            job["job_number"],
            [hosts.add("out.txt", f"run {attempt}".encode(), job=job["id"])],
        )
    result = await cci.artifacts.mirror(SLUG, tmp_path)
    assert result.downloaded == 2
    for attempt, number in enumerate(numbers):
        path = tmp_path / f"{pipeline['number']}/build/test-{number}/out.txt"
        assert path.read_text() == f"run {attempt}"


async def test_an_unfinished_job_is_listed_again(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seeded = seed(api, hosts, pipelines=1, jobs=("test",), job_status="running")
    first = await cci.artifacts.mirror(SLUG, tmp_path)
    assert first.downloaded == 3
    number = seeded[0]["job"]["job_number"]
    late = hosts.add("late.txt", b"uploaded at the end", job=seeded[0]["job"]["id"])
    previous = [hosts.artifact(r.artifact).item() for r in first.results]  # what it listed
    serve_artifact_listing(api, SLUG, number, [*previous, late])
    second = await cci.artifacts.mirror(SLUG, tmp_path)
    assert second.downloaded == 1 and second.skipped == 3
    assert any(p.endswith("/late.txt") for p in tree(tmp_path))


async def test_an_interrupted_mirror_is_finished_by_the_next_run(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=2, content=GeneratedContent(2 * 1024 * 1024))
    for item in hosts.artifacts:
        if item.path.startswith("logs/"):
            hosts.add_fault(item.url, TransferFault("slow", delay=0.01, times=None))
    await interrupt_mirror(cci, tmp_path)
    interrupted = len(tree(tmp_path))
    for item in hosts.artifacts:
        item.faults.clear()
    done = await cci.artifacts.mirror(SLUG, tmp_path)
    assert done.ok and done.downloaded > 0
    assert done.downloaded + done.skipped == 12
    assert len(tree(tmp_path)) == 13 > interrupted
    statuses = {r["status"] for r in manifest(tmp_path) if r["type"] == "file"}
    assert statuses <= {"downloaded", "skipped"}


async def test_a_listing_failure_is_reported_and_the_rest_goes_on(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seeded = seed(api, hosts, pipelines=2)
    broken = seeded[0]["workflow"]["id"]
    api.inject(Fault("status", status=404, path=f"/workflow/{broken}/job", times=10))
    result = await cci.artifacts.mirror(SLUG, tmp_path)
    assert not result.ok and len(result.errors) == 1
    assert "workflow 'build'" in result.errors[0][0]
    assert result.downloaded == 6
    assert "1 listings failed" in str(result)


async def test_failed_files_are_in_the_manifest_and_retried(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    pipeline = api.add_pipeline(SLUG, "main")
    workflow = api.add_workflow(pipeline["id"], "build")
    job = api.add_job(workflow["id"], "test")
    item = hosts.add("a.txt", b"a", faults=[TransferFault("status", status=403)])
    serve_artifact_listing(api, SLUG, job["job_number"], [item])
    first = await cci.artifacts.mirror(SLUG, tmp_path)
    assert first.failed == 1
    record = next(r for r in manifest(tmp_path) if r["type"] == "file")
    assert record["status"] == "failed" and "403" in record["error"]
    assert not any(r["type"] == "job" for r in manifest(tmp_path))
    second = await cci.artifacts.mirror(SLUG, tmp_path)
    assert second.downloaded == 1 and second.entries[0].result.status is DownloadStatus.DOWNLOADED


async def test_a_torn_manifest_line_is_ignored(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=1)
    await cci.artifacts.mirror(SLUG, tmp_path)
    _append(tmp_path / "manifest.jsonl", '{"v": 1, "type": "file", "job_nu')  # a crash mid-line
    again = await cci.artifacts.mirror(SLUG, tmp_path)
    assert again.up_to_date
    assert all(
        line.endswith("}") for line in (tmp_path / "manifest.jsonl").read_text().splitlines()
    )


def _append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


async def test_mirror_fail_fast_raises_the_first_failure(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=2)
    first_log = next(a for a in hosts.artifacts if a.path == "logs/test.log")
    hosts.add_fault(first_log.url, TransferFault("status", status=404, times=None))
    with pytest.raises(DownloadFailed, match="fail_fast"):
        await cci.artifacts.mirror(SLUG, tmp_path, fail_fast=True)
    assert leftovers(tmp_path) == []
