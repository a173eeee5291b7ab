"""Long operations say what is going on (issue 14, item 5): ``wait`` shows the elapsed time and
the states as they change (live on a terminal, plain lines otherwise), ``watch`` ends a pipeline
with its outcome, the mirror's display shows listing progress, and the summary counts API and
storage requests apart. The live displays run in a pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
from pathlib import Path

from circleci_async.cli.errors import ExitCode
from circleci_async.cli.listing import ListingCounter, classify
from circleci_async.cli.render import OutcomeBook, state_changes
from circleci_async.testing import FakeCircleCI, JobPlan, ScaledClock, WorkflowPlan
from circleci_async.testing.artifacts import ArtifactServers
from circleci_async.watching import StateChange

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import (
    SLUG,
    TOKEN,
    Run,
    api_args,
    child_env,
    cli,
    finish,
    host_args,
    start,
    write_ca,
)
from ._waiting import wait_until
from .test_cli import seed_artifacts

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
FAST = {"seconds": 0.4, "queue_seconds": 0.1}


async def in_terminal(*args: str, timeout: float = 30.0) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on a pseudo-terminal; its exit code and all
    it drew (escape sequences removed)."""
    leader, follower = pty.openpty()
    env = child_env(COLUMNS="120", LINES="40", TERM="xterm")
    env.pop("NO_COLOR", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "circleci_async",
        *args,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    loop = asyncio.get_running_loop()
    chunks: list[bytes] = []

    def read() -> bytes:
        try:
            return os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            return b""

    try:
        async with asyncio.timeout(timeout):
            while chunk := await loop.run_in_executor(None, read):
                chunks.append(chunk)
            code = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(leader)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def _job_lists(api: FakeCircleCI) -> list[str]:
    """The job listings the fake has answered (a wait lists a workflow's jobs each poll)."""
    return [r.path for r in api.requests if r.path.endswith("/job")]


async def _start_once_looked(api: FakeCircleCI, clock: ScaledClock) -> None:
    await wait_until(lambda: _job_lists(api), timeout=30.0)
    clock.start()


async def test_wait_on_a_terminal_shows_elapsed_time_and_states(api: FakeCircleCI) -> None:
    api.set_plan(
        SLUG,
        WorkflowPlan(
            "build", (JobPlan("compile", **FAST), JobPlan("test", requires=("compile",), **FAST))
        ),
    )
    held = ScaledClock(1.0, started=False)  # (see the next test)
    api.clock = held
    created = api.trigger_pipeline(SLUG, "main")
    looked = asyncio.ensure_future(_start_once_looked(api, held))
    try:
        code, drawn = await in_terminal(*api_args(api), "wait", created["id"], "--interval", "0.1")
    finally:
        looked.cancel()
        held.start()
    assert code == 0, drawn
    assert f"waiting for pipeline {created['id']} · " in drawn, drawn  # the live footer
    assert re.search(r"\[\s*\d+(\.\d)? s\] job build/test: \w+ → success", drawn), drawn
    assert re.search(r"\[\s*\d+(\.\d)? s\] workflow build: \w+ → success", drawn), drawn
    assert f"pipeline #{created['number']}: success" in drawn


async def test_wait_without_a_terminal_prints_plain_change_lines(api: FakeCircleCI) -> None:
    api.set_plan(
        SLUG,
        WorkflowPlan(
            "build", (JobPlan("compile", **FAST), JobPlan("lint", outcome="failed", **FAST))
        ),
    )
    # The fake's clock stands still until the command has looked once, so it sees the jobs
    # before they finish however long its start-up takes on a loaded machine.
    held = ScaledClock(1.0, started=False)
    api.clock = held
    created = api.trigger_pipeline(SLUG, "main")
    proc = await start(*api_args(api), "wait", created["id"], "--interval", "0.05")
    try:
        await wait_until(lambda: len(_job_lists(api)) > 0, timeout=30.0)
    finally:
        held.start()
    run = await finish(proc)
    assert run.code == ExitCode.FAILED and run.err == "", run
    moves = [line for line in run.out.splitlines() if line.startswith("[")]
    jobs = [line.split("] ", 1)[1] for line in moves if "job build/compile" in line]
    assert jobs[0].startswith("job build/compile: "), run
    assert jobs[-1].endswith("→ success"), run
    assert len(jobs) >= 2, run  # it was seen before it finished, then finishing
    assert "\x1b" not in run.out  # no live display without a terminal
    # the outcome links to the failed job in the web app, not to the one that succeeded
    app = api.url.removesuffix("/api/v2")
    failed = [line.strip() for line in run.out.splitlines() if line.startswith("  lint failed: ")]
    assert len(failed) == 1, run
    assert re.fullmatch(
        rf"lint failed: {re.escape(app)}/pipelines/github/acme/widgets/{created['number']}"
        r"/workflows/[0-9a-f-]{36}/jobs/\d+",
        failed[0],
    ), run
    assert "compile success: " not in run.out


async def test_watch_ends_a_pipeline_with_its_outcome(api: FakeCircleCI) -> None:
    api.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", outcome="failed", **FAST),)))
    args = [*api_args(api), "watch", SLUG, "--interval", "0.1", "--max-pipelines", "1"]
    text = asyncio.ensure_future(cli(*args, "--timeout", "20"))
    as_json = asyncio.ensure_future(cli(*args, "--timeout", "20", "--json"))
    await wait_until(  # both are following (each listed twice) before the pipeline starts
        lambda: sum(r.path.endswith(f"{SLUG}/pipeline") for r in api.requests) >= 4,
        timeout=20,
        what="both watchers polling",
    )
    created = api.trigger_pipeline(SLUG, "main")
    text_run: Run = await text
    json_run: Run = await as_json
    assert text_run.code == 0, text_run
    last = text_run.out.splitlines()[-1]
    assert f"pipeline #{created['number']} (main)  finished: failed (build failed)" in last
    assert "created → created" not in text_run.out
    final = json_run.json_lines()[-1]
    assert final["kind"] == "pipeline" and final["outcome"] == "failed (build failed)"


async def test_the_mirror_display_shows_listing_and_counts_storage_apart(
    api: FakeCircleCI, tmp_path: Path
) -> None:
    async with ArtifactServers(token=TOKEN) as hosts:
        seed_artifacts(api, hosts)
        cafile = write_ca(hosts, tmp_path / "ca.pem")
        args = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG]
        as_json = await cli(*args, str(tmp_path / "json"), "--json")
        sent = (len(api.requests), len(hosts.artifact_requests), len(hosts.storage_requests))
        code, drawn = await in_terminal(*args, str(tmp_path / "live"))
    assert code == 0, drawn
    assert "listed 2 pipelines, 2 workflows, 4 jobs" in drawn, drawn
    assert re.search(r"\d+ requests \(\+8 to storage\)", drawn), drawn
    assert re.search(r"storage requests \(artifact redirects\)\s+8", drawn), drawn
    report = as_json.json()
    # API requests: those to origins that take the token (the API and the artifact host);
    # storage requests: the redirects' targets, one per file
    assert report["api"]["requests"] == sent[0] + sent[1]
    assert report["storage"] == {"requests": sent[2]} and sent[2] == 8


def test_state_changes_and_outcomes() -> None:
    assert state_changes({"a": "x", "b": "y"}, {"a": "x", "b": "z", "c": "w"}) == [
        ("b", "y", "z"),
        ("c", None, "w"),
    ]
    book = OutcomeBook()

    def change(kind: str, id: str, current: str, final: bool, pipeline: str) -> StateChange:
        return StateChange(
            kind=kind,  # type: ignore[arg-type]
            id=id,
            previous="created",
            current=current,
            final=final,
            item=None,
            pipeline_id=pipeline,
            at=0.0,
        )

    assert book.see(change("workflow", "w1", "success", True, "p")) is None
    assert book.see(change("workflow", "w2", "failed", True, "p")) is None
    assert (
        book.see(change("pipeline", "p", "created", True, "p")) == "failed (w1 success, w2 failed)"
    )
    assert book.see(change("pipeline", "q", "errored", True, "q")) == "errored"
    assert book.see(change("pipeline", "r", "created", True, "r")) == "no workflows"


def test_listing_requests_are_classified() -> None:
    counter = ListingCounter()
    for path in (
        "/api/v2/project/gh/acme/app/pipeline",
        "/api/v2/pipeline/p1/workflow",
        "/api/v2/pipeline/p1/workflow",  # a second page: the same pipeline
        "/api/v2/workflow/w1/job",
        "/api/v2/project/gh/acme/app/42/artifacts",
        "/api/v2/project/circleci/o/p/43/artifacts",
        "/api/v2/me",
    ):
        counter.observe(path)
    assert (counter.pipeline_pages, counter.pipelines, counter.workflows, counter.jobs) == (
        1,
        1,
        1,
        2,
    )
    assert classify("/output/job/1/artifacts/0/x") is None
