"""The command line, run as a subprocess against the fake CircleCI and artifact hosts.

Every command in text and ``--json``; exit codes; errors as exactly one line on stderr that never
holds the token; the demo end to end.
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console

from circleci_async import CircleCI
from circleci_async.cli.errors import ExitCode, scrub
from circleci_async.cli.mirroring import MirrorFilters, parse_when, run_mirror
from circleci_async.cli.render import sparkline
from circleci_async.cli.session import parse_connect_to
from circleci_async.testing import FakeCircleCI, Fault, JobPlan, ScaledClock, WorkflowPlan
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._cli_fixtures import api, cafile, hosts  # noqa: F401 - fixtures, by name
from ._cli_support import (
    SLUG,
    TOKEN,
    Run,
    api_args,
    child_env,
    cli,
    finish,
    host_args,
    python,
    start,
)
from ._waiting import wait_until


def assert_one_error_line(run: Run, code: int, *needles: str) -> None:
    """Exactly one line on stderr, nothing on stdout, the exit code, no secret anywhere."""
    assert run.code == code, run
    assert run.out == "", run
    assert len(run.err_lines) == 1, run
    assert "Traceback" not in run.err
    line = run.err_lines[0]
    if line.startswith("{"):  # with --json the error is a JSON object
        error = json.loads(line)["error"]
        assert error["exit_code"] == code, run
        line = error["message"]
    else:
        assert line.startswith("circleci-async: error: "), run
    for needle in needles:
        assert needle in line, run
    assert TOKEN not in run.err + run.out


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- packaging -------------------------------------------------------------------------------


async def test_the_library_does_not_import_the_cli_dependencies() -> None:
    run = await python(
        "import sys, circleci_async, circleci_async.download, circleci_async.testing\n"
        "print(sorted(m for m in ('click', 'rich', 'circleci_async.cli') if m in sys.modules))"
    )
    assert (run.code, run.out.strip()) == (0, "[]"), run


async def test_without_the_cli_extra_one_line_and_exit_2() -> None:
    run = await python(
        "import sys; sys.modules['click'] = None\n"  # makes `import click` fail
        "from circleci_async.cli import main; main(['pipelines', 'gh/a/b'])"
    )
    assert run.code == 2, run
    assert run.out == ""
    assert run.err_lines == [
        "circleci-async: error: the command line needs click and rich: "
        'pip install "circleci-async[cli]"'
    ]


# -- pipelines, trigger ----------------------------------------------------------------------


async def test_pipelines_text_and_json(api: FakeCircleCI) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    for index in range(6):
        api.add_pipeline(SLUG, ("main", "dev")[index % 2], created_at=t0 + index * 60)
    text, as_json, filtered = await asyncio.gather(
        cli(*api_args(api), "pipelines", SLUG, "--limit", "4"),
        cli(*api_args(api), "pipelines", SLUG, "--json"),
        cli(*api_args(api), "pipelines", SLUG, "--branch", "dev", "--limit", "2", "--json"),
    )
    assert text.code == 0 and text.err == "", text
    rows = [line.split() for line in text.out.splitlines() if line.strip()[:1].isdigit()]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("6", "created", "dev"),
        ("5", "created", "main"),
        ("4", "created", "dev"),
        ("3", "created", "main"),
    ]
    assert as_json.code == 0 and as_json.err == ""
    items = as_json.json()
    assert [p["number"] for p in items] == [6, 5, 4, 3, 2, 1]
    assert items[0]["vcs"]["branch"] == "dev" and items[0]["project_slug"] == SLUG
    assert [(p["number"], p["vcs"]["branch"]) for p in filtered.json()] == [(6, "dev"), (4, "dev")]


async def test_trigger_types_parameters_like_circleci(api: FakeCircleCI) -> None:
    run = await cli(
        *api_args(api),
        "trigger",
        SLUG,
        "--branch",
        "release",
        "--param",
        "workers=4",
        "--param",
        "deploy=TRUE",
        "--param",
        "target=staging",
        "--param-str",
        "version=007",
        "--json",
    )
    assert run.code == 0, run
    created = run.json()
    assert created["number"] == 1 and created["id"]
    posted = [r for r in api.requests if r.method == "POST"]
    assert len(posted) == 1
    assert posted[0].json() == {
        "branch": "release",
        "parameters": {"workers": 4, "deploy": True, "target": "staging", "version": "007"},
    }
    text = await cli(*api_args(api), "trigger", SLUG, "--tag", "v1.0")
    assert text.code == 0 and text.out.startswith("pipeline #2 "), text


async def test_trigger_usage_errors_are_one_line_exit_2(api: FakeCircleCI) -> None:
    both, bad_param = await asyncio.gather(
        cli(*api_args(api), "trigger", SLUG, "--branch", "a", "--tag", "b"),
        cli(*api_args(api), "trigger", SLUG, "--param", "novalue"),
    )
    assert_one_error_line(both, ExitCode.USAGE, "--branch or --tag")
    assert_one_error_line(bad_param, ExitCode.USAGE, "KEY=VALUE")
    assert not [r for r in api.requests if r.method == "POST"]


# -- wait ------------------------------------------------------------------------------------


async def test_wait_exit_codes_success_failure_timeout(api: FakeCircleCI) -> None:
    fast = {"seconds": 0.3, "queue_seconds": 0.05}
    api.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", **fast),)))
    good = api.trigger_pipeline(SLUG, "main")
    api.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", outcome="failed", **fast),)))
    bad = api.trigger_pipeline(SLUG, "main")
    api.set_plan(SLUG, WorkflowPlan("deploy", (JobPlan("hold", type="approval", **fast),)))
    held = api.trigger_pipeline(SLUG, "main")
    poll = ("--interval", "0.1")
    ok, failed, timeout, timeout_text = await asyncio.gather(
        cli(*api_args(api), "wait", good["id"], *poll, "--json"),
        cli(*api_args(api), "wait", bad["id"], *poll),
        cli(*api_args(api), "wait", held["id"], *poll, "--timeout", "1", "--json"),
        cli(*api_args(api), "wait", held["id"], *poll, "--timeout", "0.5"),
    )
    assert ok.code == 0 and ok.err == "", ok
    outcome = ok.json()
    assert (outcome["kind"], outcome["result"]) == ("pipeline", "success")
    assert outcome["pipeline"]["number"] == good["number"]
    assert [(w["name"], w["status"]) for w in outcome["workflows"]] == [("build", "success")]

    assert failed.code == ExitCode.FAILED, failed
    assert f"pipeline #{bad['number']}: failed" in failed.out
    assert "build" in failed.out and "failed" in failed.out

    assert timeout.code == ExitCode.TIMEOUT, timeout
    assert timeout.json()["result"] == "timeout"
    assert [(w["name"], w["status"]) for w in timeout.json()["workflows"]] == [
        ("deploy", "on_hold")
    ]
    assert len(timeout.err_lines) == 1 and "timed out" in timeout.err_lines[0]
    # text: its progress as plain lines on stdout, the error one line on stderr
    assert timeout_text.code == ExitCode.TIMEOUT, timeout_text
    assert len(timeout_text.err_lines) == 1, timeout_text
    assert "timed out" in timeout_text.err and "deploy on_hold" in timeout_text.err
    assert "workflow deploy: on_hold" in timeout_text.out, timeout_text
    assert "job deploy/hold: on_hold" in timeout_text.out, timeout_text


async def test_wait_for_a_workflow_and_for_nothing(api: FakeCircleCI) -> None:
    pipeline = api.add_pipeline(SLUG, "main")
    workflow = api.add_workflow(pipeline["id"], "lint", "failed")
    done, missing = await asyncio.gather(
        cli(*api_args(api), "wait", workflow["id"], "--json"),
        cli(*api_args(api), "wait", "6b1e0f3c-0000-4000-8000-00000000dead"),
    )
    assert done.code == ExitCode.FAILED, done
    assert (done.json()["kind"], done.json()["result"]) == ("workflow", "failed")
    assert done.json()["workflows"][0]["name"] == "lint"
    assert_one_error_line(missing, ExitCode.NOT_FOUND, "no pipeline or workflow")


# -- artifacts, insights, runners, rate-limit ------------------------------------------------


async def test_artifacts_text_and_json(api: FakeCircleCI) -> None:
    items = [
        {"path": "results/junit.xml", "node_index": node, "url": f"https://a.test/{node}/j.xml"}
        for node in (0, 1)
    ] + [{"path": "dist/app.tar.gz", "node_index": 0, "url": "https://a.test/0/app.tar.gz"}]
    serve_artifact_listing(api, SLUG, 42, items)
    text, as_json = await asyncio.gather(
        cli(*api_args(api), "artifacts", SLUG, "42"),
        cli(*api_args(api), "artifacts", SLUG, "42", "--json"),
    )
    assert as_json.code == 0 and as_json.json() == items
    assert text.code == 0, text
    assert "https://a.test/1/j.xml" in text.out and "3 artifacts" in text.out


async def test_insights_success_rate_p95_and_sparkline(api: FakeCircleCI) -> None:
    now = time.time()
    for index, status in enumerate(["success", "failed", "success", "success"]):
        pipeline = api.add_pipeline(SLUG, "main", created_at=now - 3600 * (5 - index))
        api.add_workflow(pipeline["id"], "build", status)
    pipeline = api.add_pipeline(SLUG, "main", created_at=now - 600)
    api.add_workflow(pipeline["id"], "deploy", "success")
    text, as_json = await asyncio.gather(
        cli(*api_args(api), "insights", SLUG),
        cli(*api_args(api), "insights", SLUG, "--json", "--window", "last-7-days"),
    )
    report = as_json.json()
    assert as_json.code == 0 and report["reporting_window"] == "last-7-days"
    build = next(w for w in report["workflows"] if w["name"] == "build")
    assert (build["total_runs"], build["successful_runs"], build["failed_runs"]) == (4, 3, 1)
    assert build["success_rate"] == 0.75
    assert build["p95_duration_secs"] == 60  # the fake's seeded workflows take a minute
    assert build["recent_statuses"] == ["success", "failed", "success", "success"]  # oldest first
    assert [w["name"] for w in report["workflows"]] == ["build", "deploy"]
    assert text.code == 0, text
    build_row = next(line for line in text.out.splitlines() if line.strip().startswith("build"))
    assert "75.0%" in build_row and "1m00s" in build_row
    assert build_row.rstrip().endswith("▄▄▄▄")  # four runs of equal length: a flat line


async def test_runners_by_resource_class_and_namespace(api: FakeCircleCI) -> None:
    api.add_resource_class("acme/linux")
    api.add_resource_class("acme/mac")
    api.add_runner("acme/linux", "linux-1", hostname="build-host-1", version="3.0.1")
    api.add_runner("acme/mac", "mac-1", hostname="mac-host", version="3.0.2")
    api.add_unclaimed_tasks("acme/linux", 3)
    by_class, by_namespace, neither = await asyncio.gather(
        cli(*api_args(api), "runners", "--resource-class", "acme/linux", "--json"),
        cli(*api_args(api), "runners", "--namespace", "acme"),
        cli(*api_args(api), "runners"),
    )
    assert by_class.code == 0, by_class
    found = by_class.json()
    assert [(r["name"], r["hostname"]) for r in found["runners"]] == [("linux-1", "build-host-1")]
    assert found["tasks"] == {"unclaimed": 3, "running": 0}
    assert by_namespace.code == 0, by_namespace
    assert "linux-1" in by_namespace.out and "mac-host" in by_namespace.out
    assert "2 runners" in by_namespace.out
    assert_one_error_line(neither, ExitCode.USAGE, "--namespace or --resource-class")
    assert all(r.path.startswith("/api/v3/runner") for r in api.requests)


async def test_rate_limit_shows_what_the_server_says(api: FakeCircleCI) -> None:
    as_json = await cli(*api_args(api), "rate-limit", "--json")
    assert as_json.code == 0, as_json
    report = as_json.json()
    assert report["user"] == api.user["login"]
    assert (report["rate_limit"]["limit"], report["rate_limit"]["remaining"]) == (5000, 4999)
    assert report["requests"] == 1 and [r.path for r in api.requests] == ["/api/v2/me"]
    text = await cli(*api_args(api), "rate-limit")
    assert text.code == 0, text
    assert "remaining" in text.out and "5000" in text.out and api.user["login"] in text.out


# -- errors ----------------------------------------------------------------------------------


async def test_errors_are_one_line_with_documented_exit_codes(
    api: FakeCircleCI, unused_tcp_port: int
) -> None:
    wrong = "wrong-token-7c1d2e3f4a5b"
    api.inject(Fault("status", status=429, path=r"/me$", headers={"Retry-After": "3600"}))
    api.inject(Fault("delay", delay=3.0, path=r"gh/acme/slow"))
    base = api_args(api)
    no_token, bad_token, not_found, down, limited, slow, bad_since = await asyncio.gather(
        cli(*base, "pipelines", SLUG, env=child_env(token=None)),
        cli(*base, "--token", wrong, "pipelines", SLUG, "--json"),
        cli(*base, "pipelines", "gh/acme/nope", "--json"),
        cli(
            "--base-url",
            f"http://127.0.0.1:{unused_tcp_port}/api/v2",
            "--retries",
            "1",
            "rate-limit",
        ),
        cli(*base, "--max-wait", "60", "rate-limit", "--json"),
        cli(*base, "--request-timeout", "0.5", "--retries", "1", "pipelines", "gh/acme/slow"),
        cli(*base, "mirror", SLUG, "out", "--since", "last tuesday"),
    )
    assert_one_error_line(no_token, ExitCode.CONFIG, "no CircleCI token", "CIRCLECI_TOKEN")
    assert_one_error_line(bad_token, ExitCode.AUTH, "401")
    assert wrong not in bad_token.err
    assert_one_error_line(not_found, ExitCode.NOT_FOUND, "404", "gh/acme/nope")
    assert_one_error_line(down, ExitCode.NETWORK, "cannot reach", str(unused_tcp_port))
    assert_one_error_line(limited, ExitCode.RATE_LIMITED, "rate limited", "--max-wait")
    assert_one_error_line(slow, ExitCode.TIMEOUT, "timed out")
    assert_one_error_line(bad_since, ExitCode.USAGE, "--since", "ISO 8601")


async def test_a_dns_failure_is_a_network_error() -> None:
    run = await cli(
        "--base-url", "http://no-such-host.invalid/api/v2", "--retries", "1", "rate-limit"
    )
    assert_one_error_line(run, ExitCode.NETWORK, "no-such-host.invalid")


# -- mirror ----------------------------------------------------------------------------------


def seed_artifacts(api: FakeCircleCI, hosts: ArtifactServers, pipelines: int = 2) -> list[dict]:
    """Pipelines with a build workflow: a compile job and a test job on two parallel nodes."""
    served = []
    for index in range(pipelines):
        pipeline = api.add_pipeline(SLUG, "main", created_at=time.time() - 3600 * (2 - index))
        workflow = api.add_workflow(pipeline["id"], "build")
        compile_job = api.add_job(workflow["id"], "compile")
        test_job = api.add_job(workflow["id"], "test", parallelism=2)
        compile_items = [
            hosts.add("dist/app.bin", GeneratedContent(300_000, seed=index), job=compile_job["id"]),
            hosts.add("logs/build.log", f"built {index}".encode(), job=compile_job["id"]),
        ]
        test_items = [
            hosts.add("junit.xml", f"<node {node}/>".encode(), node_index=node, job=test_job["id"])
            for node in (0, 1)
        ]
        serve_artifact_listing(api, SLUG, compile_job["job_number"], compile_items)
        serve_artifact_listing(api, SLUG, test_job["job_number"], test_items)
        served.append(
            {"pipeline": pipeline, "compile": compile_job, "test": test_job, "items": compile_items}
        )
    return served


async def test_mirror_json_then_idempotent_text(
    api: FakeCircleCI, hosts: ArtifactServers, cafile: Path, tmp_path: Path
) -> None:
    seeded = seed_artifacts(api, hosts)
    dest = tmp_path / "mirror"
    args = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG, str(dest)]
    first = await cli(*args, "--json")
    assert first.code == 0, first
    report = first.json()
    assert (report["pipelines"], report["workflows"], report["jobs"]) == (2, 2, 4)
    assert (report["downloaded"], report["skipped"], report["failed"]) == (8, 0, 0)
    assert report["bytes"] == 2 * (300_000 + len("built 0")) + 4 * len("<node 0/>")
    assert report["api"]["requests"] > 0 and report["api"]["rate_limited"] == 0
    newest = seeded[-1]
    job_dir = dest / str(newest["pipeline"]["number"]) / "build"
    test_dir = job_dir / f"test-{newest['test']['job_number']}"
    assert (test_dir / "node-1" / "junit.xml").read_bytes() == b"<node 1/>"
    binary = job_dir / f"compile-{newest['compile']['job_number']}" / "dist" / "app.bin"
    assert GeneratedContent(300_000, seed=1).matches_file(str(binary))
    assert hosts.storage_requests and not hosts.credential_leaks
    assert first.err == ""  # no live display without a terminal, nothing else either

    again = await cli(*args)
    assert again.code == 0, again
    summary = {
        " ".join(line.split()[:-2]): line.split()[-2]
        for line in again.out.splitlines()
        if line.strip().endswith("files")
    }
    assert summary["downloaded"] == "0" and summary["skipped (already present)"] == "8"


async def test_mirror_filters(
    api: FakeCircleCI, hosts: ArtifactServers, cafile: Path, tmp_path: Path
) -> None:
    seeded = seed_artifacts(api, hosts)
    run = await cli(
        *api_args(api),
        *host_args(hosts, cafile),
        "mirror",
        SLUG,
        str(tmp_path / "out"),
        "--max-pipelines",
        "1",
        "--job",
        "comp*",
        "--exclude",
        "logs/*",
        "--since",
        "1d",
        "--json",
    )
    assert run.code == 0, run
    report = run.json()
    assert (report["pipelines"], report["jobs"], report["downloaded"]) == (1, 1, 1)
    newest = seeded[-1]
    files = [p.relative_to(tmp_path / "out").as_posix() for p in files_under(tmp_path / "out")]
    assert files == [
        f"{newest['pipeline']['number']}/build/compile-{newest['compile']['job_number']}/dist/app.bin",
        "manifest.jsonl",
    ]


async def test_mirror_exit_code_when_a_file_fails(
    api: FakeCircleCI, hosts: ArtifactServers, cafile: Path, tmp_path: Path
) -> None:
    seeded = seed_artifacts(api, hosts, pipelines=1)
    broken = seeded[0]["items"][1]  # logs/build.log
    hosts.add_fault(broken, TransferFault("status", status=404, times=None))
    args = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG]
    as_json, text = await asyncio.gather(
        cli(*args, str(tmp_path / "a"), "--json"), cli(*args, str(tmp_path / "b"))
    )
    assert as_json.code == ExitCode.FAILED, as_json
    report = as_json.json()
    assert (report["ok"], report["downloaded"], report["failed"]) == (False, 3, 1)
    assert [f["path"] for f in report["failures"]] == ["logs/build.log"]
    assert "404" in report["failures"][0]["error"]
    assert text.code == ExitCode.FAILED, text
    assert "mirror summary" in text.out
    failed = [line for line in text.out.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and "/logs/build.log: HTTP 404" in failed[0], text


async def test_the_live_display_draws_files_bytes_and_the_rate_limit(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    """In process, on a console that claims to be a terminal: the frame a user sees."""
    seed_artifacts(api, hosts, pipelines=1)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None)
    async with (
        hosts.session() as http,
        CircleCI(TOKEN, base_url=api.url, session=http, token_origins=hosts.token_origins) as cci,
    ):
        report = await run_mirror(
            cci, SLUG, str(tmp_path), MirrorFilters(), live=True, console=console
        )
    assert report.ok and report.result.downloaded == 4
    drawn = screen.getvalue()
    assert f"mirroring {SLUG}" in drawn
    assert "4 downloaded, 0 skipped, 0 failed" in drawn
    assert "rate limit 4" in drawn and "left per 1 s" in drawn  # the fake's 5000/s window
    assert f"{report.requests} requests" in drawn


# -- watch -----------------------------------------------------------------------------------


async def polled(api: FakeCircleCI, count: int = 1, timeout: float = 10.0) -> None:
    """Until the child has listed the project's pipelines ``count`` times."""
    await wait_until(
        lambda: sum(r.path.endswith(f"{SLUG}/pipeline") for r in api.requests) >= count,
        timeout=timeout,
        what=f"the watcher listed the pipelines {count} times",
    )


async def test_watch_follows_a_new_pipeline_until_it_finishes(api: FakeCircleCI) -> None:
    api.add_pipeline(SLUG, "main")  # there before: not followed
    api.set_plan(
        SLUG, WorkflowPlan("build", (JobPlan("compile", seconds=0.3, queue_seconds=0.05),))
    )
    args = [*api_args(api), "watch", SLUG, "--interval", "0.1", "--max-pipelines", "1"]
    as_json = await start(*args, "--timeout", "20", "--json")
    text = await start(*args, "--timeout", "20")
    await polled(api, 2)
    # The fake's clock stands still until both watchers have seen the new pipeline's
    # workflows, so each sees the workflow change however slowly it polls on a loaded machine.
    held = ScaledClock(1.0, origin=api.now, started=False)
    api.clock = held
    created = api.trigger_pipeline(SLUG, "main")
    try:
        await wait_until(
            lambda: sum(r.path.endswith(f"{created['id']}/workflow") for r in api.requests) >= 2,
            timeout=20.0,
            what="both watchers fetched the new pipeline's workflows",
        )
    finally:
        held.start()
    json_run, text_run = await finish(as_json), await finish(text)
    assert json_run.code == 0, json_run
    changes = json_run.json_lines()
    first = changes[0]
    assert (first["kind"], first["id"], first["previous"]) == ("pipeline", created["id"], None)
    assert first["item"]["number"] == created["number"]
    last = changes[-1]
    assert (last["kind"], last["id"], last["final"]) == ("pipeline", created["id"], True)
    workflows = [c for c in changes if c["kind"] == "workflow"]
    assert workflows and workflows[-1]["current"] == "success" and workflows[-1]["final"]
    assert {c["pipeline_id"] for c in changes} == {created["id"]}
    assert text_run.code == 0, text_run
    lines = text_run.out.splitlines()
    assert f"pipeline #{created['number']} (main)  new: " in lines[0]
    assert any(
        f"workflow build (pipeline #{created['number']})" in line and "→ success" in line
        for line in lines
    )


async def test_watch_stops_cleanly_on_ctrl_c_and_on_timeout(api: FakeCircleCI) -> None:
    args = [*api_args(api), "watch", SLUG, "--interval", "0.1"]
    interrupted = await start(*args)
    bounded, unmet = await asyncio.gather(
        cli(*args, "--timeout", "0.5", "--json"),
        cli(*args, "--timeout", "0.5", "--max-pipelines", "1"),
    )
    await polled(api, 3)
    interrupted.send_signal(signal.SIGINT)
    stopped = await finish(interrupted)
    assert stopped.code == 0 and "Traceback" not in stopped.err, stopped
    assert (bounded.code, bounded.out, bounded.err) == (0, "", ""), bounded
    assert_one_error_line(unmet, ExitCode.TIMEOUT, "0 of 1 new pipelines finished")


# -- demo ------------------------------------------------------------------------------------


async def test_demo_json(tmp_path: Path) -> None:
    run = await cli("demo", "--dest", str(tmp_path), "--files", "40", "--rate", "200", "--json")
    assert run.code == 0, run
    report = run.json()
    assert report["ok"] and report["dest"] == str(tmp_path)
    assert report["served"] == report["mirror"]["downloaded"] >= 30
    assert report["files_on_disk"] == report["served"] + 1  # and the manifest
    files = files_under(tmp_path)
    assert len(files) == report["files_on_disk"]
    assert any("node-2" in p.parts and p.name == "junit.xml" for p in files)  # parallel nodes
    assert report["storage_host"] == {"requests": report["served"], "with_credentials": 0}
    assert report["artifact_host"]["with_token"] == report["served"]


async def test_demo_text_in_a_new_directory_kept_with_keep_removed_without(
    tmp_path: Path,
) -> None:
    kept_in, removed_in = tmp_path / "kept", tmp_path / "removed"
    kept_in.mkdir()
    removed_in.mkdir()
    kept, removed = await asyncio.gather(
        cli("demo", "--keep", "--files", "30", "--rate", "200", env=child_env(TMPDIR=str(kept_in))),
        cli("demo", "--files", "30", "--rate", "200", env=child_env(TMPDIR=str(removed_in))),
    )
    assert kept.code == 0, kept
    assert "mirror summary" in kept.out
    assert "none with credentials" in kept.out
    dest = Path(kept.out.strip().splitlines()[-1].removeprefix("mirrored into "))
    assert dest.parent == kept_in and (dest / "manifest.jsonl").is_file()
    assert f"{dest}  " in kept.out  # the tree's root line with its counts
    assert removed.code == 0, removed
    assert "(removed now; --keep keeps it)" in removed.out
    assert list(removed_in.iterdir()) == []  # nothing left in the temporary directory


# -- pure helpers ----------------------------------------------------------------------------


def test_sparkline_scales_from_lowest_to_highest() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, None, 10]) == "▄·▄"
    assert sparkline([]) == ""


def test_parse_when_accepts_iso_and_ages() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    assert parse_when("7d", option="--since", now=now) == now - timedelta(days=7)
    assert parse_when("90m", option="--since", now=now) == now - timedelta(minutes=90)
    assert parse_when("2026-03-01", option="--since") == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_when("2026-03-01T10:00Z", option="--since").hour == 10


def test_connect_to_and_scrub() -> None:
    assert parse_connect_to("a.example:443:127.0.0.1:8443") == (
        ("a.example", 443),
        ("127.0.0.1", 8443),
    )
    assert parse_connect_to("A.example::h:1") == (("a.example", None), ("h", 1))
    assert scrub(f"x {TOKEN} y", (TOKEN,)) == "x *** y"
    assert json.dumps(scrub("T and T", ("T",))) == '"T and T"'  # too short to be a real token


async def test_the_mirror_summary_says_why_it_waited(tmp_path: Path) -> None:
    """A mirror under a binding rate limit waits at the limiter; the summary splits that time
    by why (pace, gate, probe, backend, retry backoff), from the library's own events."""
    run = await cli("demo", "--dest", str(tmp_path), "--files", "30", "--rate", "15", "--json")
    assert run.code == 0, run
    api = run.json()["mirror"]["api"]
    by = api["waited_by"]
    assert api["waited_seconds"] > 0 and by
    assert set(by) <= {"pace", "gate", "probe", "backend", "retry backoff"}
    assert sum(by.values()) == pytest.approx(api["waited_seconds"], abs=0.05)
