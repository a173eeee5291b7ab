"""The ``runs`` command (API v3: search a project's runs, or list yours) and ``mirror --api
v3``, run as subprocesses against the fake over TCP."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from circleci_async.cli.errors import ExitCode
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers, serve_artifact_listing

from ._cli_fixtures import api, hosts  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, TOKEN, api_args, cli, host_args, write_ca

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()


def seed_runs(api: FakeCircleCI) -> list[dict[str, object]]:
    """Four pipelines an hour apart: main/success, dev/failed, main/failed, dev/success."""
    pipelines = []
    for index, (branch, status) in enumerate(
        [("main", "success"), ("dev", "failed"), ("main", "failed"), ("dev", "success")]
    ):
        pipeline = api.add_pipeline(SLUG, branch, created_at=T0 + index * 3600)
        workflow = api.add_workflow(pipeline["id"], "build", status)
        api.add_job(workflow["id"], "test", status)
        pipelines.append(pipeline)
    return pipelines


async def test_runs_searches_a_project_with_filters(api: FakeCircleCI) -> None:
    pipelines = seed_runs(api)
    numbers = [p["number"] for p in pipelines]
    everything, dev, failed_main, limited = await asyncio.gather(
        cli(*api_args(api), "runs", "--project", SLUG, "--json"),
        cli(*api_args(api), "runs", "--project", SLUG, "--branch", "dev", "--json"),
        cli(
            *api_args(api),
            "runs",
            "--project",
            SLUG,
            "--branch",
            "main",
            "--status",
            "failed",
            "--json",
        ),
        cli(*api_args(api), "runs", "--project", SLUG, "--limit", "3", "--json"),
    )
    assert everything.code == 0, everything
    rows = everything.json()["runs"]
    assert [r["number"] for r in rows] == numbers[::-1]  # newest first
    assert [r["id"] for r in rows] == [p["id"] for p in pipelines][::-1]  # a run is a pipeline
    assert {(r["phase"], r["outcome"]) for r in rows} == {
        ("ended", "succeeded"),
        ("ended", "failed"),
    }
    assert [r["number"] for r in dev.json()["runs"]] == [numbers[3], numbers[1]]
    assert {r["branch"] for r in dev.json()["runs"]} == {"dev"}
    assert [r["number"] for r in failed_main.json()["runs"]] == [numbers[2]]
    assert [r["number"] for r in limited.json()["runs"]] == numbers[::-1][:3]
    assert all(r.path.startswith("/api/v3/") for r in api.requests)
    searches = [r for r in api.requests if r.path == "/api/v3/runs/search"]
    assert searches and all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in searches)
    assert all("Circle-Token" not in r.headers for r in searches)


async def test_runs_lists_yours_by_phase_and_outcome_and_prints_a_table(api: FakeCircleCI) -> None:
    pipelines = seed_runs(api)
    failed, table = await asyncio.gather(
        cli(*api_args(api), "runs", "--phase", "ended", "--outcome", "failed", "--json"),
        cli(*api_args(api), "runs"),
    )
    assert failed.code == 0, failed
    assert [r["number"] for r in failed.json()["runs"]] == [
        pipelines[2]["number"],
        pipelines[1]["number"],
    ]
    listed = [r for r in api.requests if r.path == "/api/v3/runs"]
    assert any(r.query.get("filter[current_outcome]") == "failed" for r in listed)
    assert all(r.query.get("filter[user_id]") == "me" for r in listed)
    assert table.code == 0, table
    assert "4 runs" in table.out and str(pipelines[3]["id"]) in table.out


async def test_runs_from_and_to_bound_both_the_list_and_the_search(api: FakeCircleCI) -> None:
    pipelines = seed_runs(api)
    numbers = [p["number"] for p in pipelines]
    window = ["--from", "2026-03-01T01:00:00Z", "--to", "2026-03-01T02:00:00Z", "--json"]
    mine, searched, later = await asyncio.gather(
        cli(*api_args(api), "runs", *window),
        cli(*api_args(api), "runs", "--project", SLUG, *window),
        cli(*api_args(api), "runs", "--from", "2026-03-01T02:30:00+00:00", "--json"),
    )
    for run in (mine, searched, later):
        assert run.code == 0, run
    # inclusive at both ends: the runs created exactly at 01:00 and 02:00, newest first
    assert [r["number"] for r in mine.json()["runs"]] == [numbers[2], numbers[1]]
    assert [r["number"] for r in searched.json()["runs"]] == [numbers[2], numbers[1]]
    assert [r["number"] for r in later.json()["runs"]] == [numbers[3]]
    listed = [r for r in api.requests if r.path == "/api/v3/runs"]
    assert {r.query.get("filter[to]") for r in listed} == {"2026-03-01T02:00:00Z", None}
    scopes = [r.json()["scope"] for r in api.requests if r.path == "/api/v3/runs/search"]
    assert [(s["from"], s["to"]) for s in scopes] == [("2026-03-01T01:00:00Z",
                                                       "2026-03-01T02:00:00Z")]  # fmt: skip


async def test_runs_errors_are_one_line(api: FakeCircleCI) -> None:
    missing, usage, too_many = await asyncio.gather(
        cli(*api_args(api), "runs", "--project", "gh/acme/nothing"),
        cli(*api_args(api), "runs", "--branch", "main"),
        cli(*api_args(api), "runs", "--limit", "0"),
    )
    assert missing.code == ExitCode.NOT_FOUND, missing
    assert missing.err_lines == [
        "circleci-async: error: not found: no project gh/acme/nothing on API v3"
    ]
    assert usage.code == ExitCode.USAGE and "pass --project too" in usage.err, usage
    assert too_many.code == ExitCode.USAGE, too_many
    for run in (missing, usage, too_many):
        assert run.out == "" and TOKEN not in run.err


async def test_mirror_api_v3_mirrors_what_v2_does(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    pipeline = api.add_pipeline(SLUG, "main", created_at=T0)
    workflow = api.add_workflow(pipeline["id"], "build")
    job = api.add_job(workflow["id"], "test", "success")
    items = [hosts.add("out/report.txt", b"report", job=job["id"])]
    serve_artifact_listing(api, SLUG, job["job_number"], items)
    api.v3.set_artifacts(job["id"], [{"path": i["path"], "url": i["url"], "execution": 0}
                                     for i in items])  # fmt: skip
    cafile = write_ca(hosts, tmp_path / "ca.pem")
    base = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG]
    v2 = await cli(*base, str(tmp_path / "v2"), "--json")
    api.clear_requests()
    v3 = await cli(*base, str(tmp_path / "v3"), "--api", "v3", "--json")
    assert v2.code == 0 and v3.code == 0, (v2, v3)
    assert v3.json()["downloaded"] == v2.json()["downloaded"] == 1
    relative = f"{pipeline['number']}/build/test-{job['job_number']}/out/report.txt"
    assert (tmp_path / "v3" / relative).read_bytes() == b"report"
    assert (tmp_path / "v2" / relative).read_bytes() == b"report"
    assert all(r.path.startswith("/api/v3/") for r in api.requests)
    bad = await cli(*base, str(tmp_path / "v4"), "--api", "v4")
    assert bad.code == ExitCode.USAGE, bad
