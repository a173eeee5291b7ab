"""``circleci-async job logs`` and ``job tests`` as subprocesses against the fake (API v3)."""

from __future__ import annotations

from circleci_async.testing import FakeCircleCI

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, TOKEN, api_args, cli, finish, start
from ._waiting import wait_until


def _job(api: FakeCircleCI, status: str = "running") -> str:
    pipeline = api.add_pipeline(SLUG, "main")
    workflow = api.add_workflow(pipeline["id"], "build", status)
    return str(api.add_job(workflow["id"], "test", status, started_at=api.clock())["id"])


def _log(n: int) -> bytes:
    return b"".join(b"\x1b[31mline %05d\x1b[0m\n" % i for i in range(n))


async def test_job_logs_follow_streams_a_growing_step_to_its_end(api: FakeCircleCI) -> None:
    job = _job(api)
    data = _log(3000)
    api.v3.set_output(job, data, step=1, rate=len(data) / 6)  # complete after 6 fake s
    proc = await start(
        *api_args(api), "job", "logs", job, "--step", "1", "--follow", "--interval", "0.05"
    )
    try:
        for second in range(1, 10):  # bounded: complete at 6
            api.advance(1)
            seen = sum(1 for r in api.requests if r.path.endswith("/stdout"))
            await wait_until(
                lambda seen=seen: (
                    proc.returncode is not None
                    or sum(1 for r in api.requests if r.path.endswith("/stdout")) > seen
                ),
                timeout=20,
            )
            if proc.returncode is not None or second >= 7:
                break
        run = await finish(proc, timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert run.code == 0, run
    assert run.out.encode() == data  # a pipe gets the bytes as sent, ANSI kept
    polls = [r for r in api.requests if r.path.endswith("/stdout")]
    assert len(polls) >= 2
    assert polls[-1].query["filter[step_num]"] == "1"
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in polls)


async def test_job_logs_without_a_step_prints_every_step_in_order(api: FakeCircleCI) -> None:
    job = _job(api, "success")
    api.v3.set_output(job, b"checkout\n", step=0)
    api.v3.set_output(job, b"build\n", step=1)
    api.v3.set_output(job, b"oops\n", step=1, kind="stderr")
    run = await cli(*api_args(api), "job", "logs", job)
    assert run.code == 0, run
    assert run.out == "checkout\nbuild\n"
    run = await cli(*api_args(api), "job", "logs", job, "--stderr")
    assert (run.code, run.out) == (0, "oops\n"), run  # step 0 has no stderr: nothing


async def test_job_tests_failed_shows_only_failures_and_exits_1(api: FakeCircleCI) -> None:
    job = _job(api, "failed")
    api.v3.set_tests(
        job,
        [
            {"classname": "suite", "name": "ok", "result": "success", "run_time": 0.1},
            {
                "classname": "suite",
                "name": "broken",
                "result": "failure",
                "run_time": 1.5,
                "message": "assert 1 == 2",
            },
            {"classname": "suite", "name": "new", "result": "quarantined", "run_time": 0},
        ],
    )
    run = await cli(*api_args(api), "job", "tests", job, "--failed")
    assert run.code == 1, run
    assert "suite.broken" in run.out and "assert 1 == 2" in run.out
    assert "suite.ok" not in run.out and "suite.new" not in run.out
    assert "3 tests, 1 failed" in run.out

    run = await cli(*api_args(api), "job", "tests", job, "--json")
    assert run.code == 1, run
    assert [(r["name"], r["result"]) for r in run.json()] == [
        ("ok", "success"),
        ("broken", "failure"),
        ("new", "quarantined"),
    ]


async def test_job_tests_with_only_passing_tests_exits_0(api: FakeCircleCI) -> None:
    job = _job(api, "success")
    api.v3.set_tests(job, [{"classname": "s", "name": "fine", "result": "success"}])
    run = await cli(*api_args(api), "job", "tests", job, "--failed", "--json")
    assert (run.code, run.json()) == (0, []), run


async def test_job_logs_refuses_condensed_with_follow(api: FakeCircleCI) -> None:
    run = await cli(*api_args(api), "job", "logs", "x", "--condensed", "--follow")
    assert run.code == 2, run
    assert "--condensed" in run.err
