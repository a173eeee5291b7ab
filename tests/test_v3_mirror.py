"""Mirroring over API v3 (``api="v3"``): runs -> workflows -> jobs -> artifacts through
``cci.v3``, against the fake over TCP, with the same files and manifest as a v2 mirror."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from circleci_async import CircleCI, CircleCIError
from circleci_async.download import MirrorOptions
from circleci_async.errors import ConfigurationError
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers, serve_artifact_listing

from ._download_support import SLUG, tree

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()


def seed(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    *,
    pipelines: int = 3,
    branches: tuple[str, ...] = ("main",),
    job_status: str = "success",
) -> list[dict[str, Any]]:
    """Pipelines whose jobs each have artifacts (one path uploaded by two parallel nodes),
    listed the same through v2 (by job number) and v3 (by job id, ``execution``)."""
    seeded = []
    for index in range(pipelines):
        pipeline = api.add_pipeline(
            SLUG, branches[index % len(branches)], created_at=T0 + index * 3600
        )
        workflow = api.add_workflow(pipeline["id"], "build")
        for job_name in ("test", "lint"):
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
            items.append(hosts.add(f"logs/{job_name}.log", f"log {number}".encode(), job=job["id"]))
            serve_artifact_listing(api, SLUG, number, items)
            api.v3.set_artifacts(
                job["id"],
                [{"path": i["path"], "url": i["url"], "execution": i["node_index"]} for i in items],
            )
            seeded.append({"pipeline": pipeline, "workflow": workflow, "job": job})
    return seeded


def contents(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in tree(root) if name != "manifest.jsonl"}


def manifest(root: Path) -> list[dict[str, Any]]:
    lines = (root / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def comparable(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A manifest without the times (they differ between runs)."""
    keys = ("type", "pipeline", "pipeline_id", "workflow", "workflow_id", "job", "job_number",
            "path", "node_index", "file", "size", "status")  # fmt: skip
    return sorted(tuple(str(r.get(k)) for k in keys) for r in records)


def v3_requests(api: FakeCircleCI) -> list[str]:
    return [r.path for r in api.requests if r.path.startswith("/api/v3/")]


async def test_a_v3_mirror_gives_the_files_and_manifest_of_a_v2_mirror(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts)
    v2, v3 = tmp_path / "v2", tmp_path / "v3"
    by_v2 = await cci.artifacts.mirror(SLUG, v2)
    api.clear_requests()
    by_v3 = await cci.artifacts.mirror(SLUG, v3, api="v3")
    assert by_v3.ok, by_v3.errors
    assert (by_v3.pipelines, by_v3.workflows, by_v3.jobs) == (3, 3, 6)
    assert by_v3.downloaded == by_v2.downloaded == 18
    assert contents(v3) == contents(v2)
    assert len(contents(v3)) == 18
    assert comparable(manifest(v3)) == comparable(manifest(v2))
    # The walk went through v3 only: no v2 listing was asked for.
    paths = [r.path for r in api.requests]
    assert paths and all(p.startswith("/api/v3/") for p in paths), paths
    assert "/api/v3/runs/search" in paths and "/api/v3/projects" in paths


async def test_a_second_v3_mirror_lists_no_finished_job_again(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=2)
    first = await cci.artifacts.mirror(SLUG, tmp_path, api="v3")
    assert first.downloaded == 12 and first.ok
    api.clear_requests()
    hosts.clear_requests()
    second = await cci.artifacts.mirror(SLUG, tmp_path, api="v3")
    assert second.up_to_date and second.jobs_up_to_date == 4 and second.skipped == 12
    assert hosts.storage_requests == []
    assert not [p for p in v3_requests(api) if p.endswith("/artifacts")]


async def test_a_v2_manifest_is_honoured_by_a_v3_mirror(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=1)
    await cci.artifacts.mirror(SLUG, tmp_path)
    hosts.clear_requests()
    again = await cci.artifacts.mirror(SLUG, tmp_path, api="v3")
    assert again.up_to_date and again.jobs_up_to_date == 2
    assert hosts.storage_requests == []


async def test_jobs_not_ended_are_mirrored_but_not_marked_finished(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=1, job_status="running")
    first = await cci.artifacts.mirror(SLUG, tmp_path, api="v3")
    assert first.downloaded == 6
    assert not [r for r in manifest(tmp_path) if r["type"] == "job"]
    api.clear_requests()
    second = await cci.artifacts.mirror(SLUG, tmp_path, api="v3")
    assert second.jobs_up_to_date == 0 and second.skipped == 6
    # Started (not ended) jobs are listed again: their artifacts may still change.
    assert len([p for p in v3_requests(api) if p.endswith("/artifacts")]) == 2


async def test_branch_and_max_pipelines_go_through_the_v3_search(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seeded = seed(api, hosts, pipelines=4, branches=("main", "dev"))
    result = await cci.artifacts.mirror(SLUG, tmp_path, api="v3", branch="dev", max_pipelines=1)
    newest_dev = max(
        s["pipeline"]["number"] for s in seeded if s["pipeline"]["vcs"]["branch"] == "dev"
    )
    assert result.pipelines == 1
    assert {name.split("/")[0] for name in contents(tmp_path)} == {str(newest_dev)}
    searches = [r for r in api.requests if r.path == "/api/v3/runs/search"]
    assert searches
    assert json.loads(searches[0].body)["filter"] == 'pipeline.git.branch == "dev"'


async def test_an_unknown_project_and_an_unknown_api_are_clear_errors(
    api: FakeCircleCI, cci: CircleCI, tmp_path: Path
) -> None:
    with pytest.raises(CircleCIError, match="no project 'gh/acme/nothing'"):
        await cci.artifacts.mirror("gh/acme/nothing", tmp_path / "x", api="v3")
    assert not (tmp_path / "x").exists() or contents(tmp_path / "x") == {}
    with pytest.raises(ConfigurationError, match="api must be one of v2, v3"):
        MirrorOptions(api="v4")
    assert MirrorOptions().api == "v2" and MirrorOptions(api="V3").api == "v3"
