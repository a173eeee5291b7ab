"""Job output and tests of API v3 (``cci.v3.jobs.stdout/stderr/condensed/tests/resource_usage``,
``save_output``) over TCP against the fake, and the pure rules of :mod:`circleci_async.v3.output`
(offsets, the terminal marker, NDJSON lines cut anywhere)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from circleci_async import CircleCI, NotFound
from circleci_async.errors import DecodeError, Forbidden, ServerError
from circleci_async.polling import PollSchedule
from circleci_async.testing import FakeCircleCI, Fault
from circleci_async.v3.models import TestOutcome
from circleci_async.v3.output import LineSplitter, is_terminal, range_header, read_answer

from ._waiting import wait_until
from .conftest import TOKEN

SLUG = "gh/acme/widgets"
FAST = PollSchedule(interval=0.01, max_interval=0.05, backoff=2.0)


@pytest.fixture
def job(fake: FakeCircleCI) -> str:
    pipeline = fake.add_pipeline(SLUG, "main")
    workflow = fake.add_workflow(pipeline["id"], "build", "running")
    return str(fake.add_job(workflow["id"], "test", "running", started_at=fake.clock())["id"])


def _output_requests(fake: FakeCircleCI, tail: str = "/stdout") -> list[object]:
    return [r for r in fake.requests if r.path.endswith(tail)]


def _log(n: int) -> bytes:
    return b"".join(b"\x1b[32mline %06d\x1b[0m of the build\n" % i for i in range(n))


# -- request shapes --------------------------------------------------------------------------


async def test_stdout_sends_the_filters_the_range_and_bearer(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    data = _log(50)
    fake.v3.set_output(job, data, step=2, execution=1)
    fake.v3.set_output(job, b"other step", step=3, execution=1)
    got = b"".join([c async for c in client.v3.jobs.stdout(job, step=2, execution=1, offset=7)])
    assert got == data[7:]
    (request,) = _output_requests(fake)
    assert request.path == f"/api/v3/jobs/{job}/stdout"
    assert request.query["filter[step_num]"] == "2"
    assert request.query["filter[execution]"] == "1"
    assert request.headers["Range"] == "bytes=7-"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    # From the first byte: no Range header at all.
    whole = b"".join([c async for c in client.v3.jobs.stdout(job, step=3, execution=1)])
    assert whole == b"other step"
    assert "Range" not in _output_requests(fake)[-1].headers


async def test_without_follow_a_running_step_is_read_once(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    data = _log(100)
    fake.v3.set_output(job, data, rate=len(data) / 10)  # all of it after 10 fake seconds
    fake.advance(3)
    got = b"".join([c async for c in client.v3.jobs.stdout(job, step=0)])
    assert 0 < len(got) < len(data)
    assert data.startswith(got)
    assert len(_output_requests(fake)) == 1


# -- following a growing job -------------------------------------------------------------------


async def test_a_growing_job_is_followed_to_the_terminal_marker(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    data = _log(400)
    fake.v3.set_output(job, data, rate=len(data) / 8)  # complete after 8 fake seconds
    received: list[bytes] = []

    async def follow() -> None:
        async for chunk in client.v3.jobs.stdout(job, step=0, follow=True, poll=FAST):
            received.append(chunk)

    task = asyncio.ensure_future(follow())
    try:
        for second in range(1, 12):  # bounded: the output is complete at 8
            size = min(len(data), int(second * len(data) / 8))
            fake.advance(1)
            await wait_until(lambda size=size: sum(map(len, received)) >= size, timeout=10)
        await asyncio.wait_for(task, timeout=10)
    finally:
        task.cancel()
    assert b"".join(received) == data
    requests = _output_requests(fake)
    assert len(requests) >= 3  # it grew over several polls
    # Each poll asked from exactly the bytes already yielded: nothing read twice, no gap.
    offsets = [int(r.headers.get("Range", "bytes=0-")[6:-1]) for r in requests]
    yielded, total = {0}, 0
    for chunk in received:
        total += len(chunk)
        yielded.add(total)
    assert set(offsets) <= yielded
    assert offsets == sorted(offsets) and 0 < offsets[-1] < len(data) + 1
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in requests)


async def test_follow_polls_a_step_with_no_output_yet_until_it_appears(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    received: list[bytes] = []

    async def follow() -> None:
        async for chunk in client.v3.jobs.stdout(job, step=1, follow=True, poll=FAST):
            received.append(chunk)

    task = asyncio.ensure_future(follow())
    try:
        await wait_until(lambda: len(_output_requests(fake)) >= 3, timeout=10)  # 404s
        assert not task.done()
        fake.v3.set_output(job, b"finally\n", step=1)
        await asyncio.wait_for(task, timeout=10)
    finally:
        task.cancel()
    assert b"".join(received) == b"finally\n"


# -- resuming ----------------------------------------------------------------------------------


async def test_a_dropped_connection_resumes_from_the_bytes_already_yielded(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    data = _log(2000)
    fake.v3.set_output(job, data)
    fake.inject(Fault("disconnect", path=r"/stdout$"))
    got = b"".join([c async for c in client.v3.jobs.stdout(job, step=0)])
    assert got == data
    first, second = _output_requests(fake)
    assert "Range" not in first.headers
    resumed_at = int(second.headers["Range"][len("bytes=") : -1])
    assert 0 < resumed_at < len(data)


async def test_condensed_sends_no_range_and_skips_what_it_had_after_a_drop(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    data = _log(1000)
    fake.v3.set_output(job, data, kind="condensed")
    fake.inject(Fault("disconnect", path=r"/stdout/condensed$"))
    got = b"".join([c async for c in client.v3.jobs.condensed(job, step=0)])
    assert got == data
    requests = _output_requests(fake, "/stdout/condensed")
    assert len(requests) == 2
    assert all("Range" not in r.headers for r in requests)


async def test_a_server_error_that_persists_is_raised(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    fake.v3.set_output(job, b"x")
    fake.inject(Fault("status", status=503, path=r"/stdout$", times=50))
    with pytest.raises(ServerError):
        async for _ in client.v3.jobs.stdout(job, step=0):
            pass


# -- stderr, 404, 416 --------------------------------------------------------------------------


async def test_no_stderr_is_an_empty_iterator_even_when_following(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    fake.v3.set_output(job, b"out\n")
    assert [c async for c in client.v3.jobs.stderr(job, step=0)] == []
    followed = client.v3.jobs.stderr(job, step=0, follow=True, poll=FAST)
    assert await asyncio.wait_for(_collect(followed), timeout=10) == b""
    assert len(_output_requests(fake, "/stderr")) == 2
    fake.v3.set_output(job, b"warning: x\n", kind="stderr")
    assert await _collect(client.v3.jobs.stderr(job, step=0)) == b"warning: x\n"


async def test_an_offset_at_the_end_of_complete_output_ends_at_once(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    fake.v3.set_output(job, b"12345")
    followed = client.v3.jobs.stdout(job, step=0, offset=5, follow=True, poll=FAST)
    assert await asyncio.wait_for(_collect(followed), timeout=10) == b""
    assert len(_output_requests(fake)) == 1  # the 416 carried the terminal marker


async def test_an_unknown_job_is_not_found_for_resource_usage(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    usage = await client.v3.jobs.resource_usage(job)
    assert usage.attributes.resource_class is not None
    assert usage.attributes.resource_class.cpu_count == 2
    assert usage.attributes.parallel_executions[0].memory_bytes
    pipeline = fake.add_pipeline(SLUG, "main")
    workflow = fake.add_workflow(pipeline["id"], "deploy", "on_hold")
    approval = fake.add_job(workflow["id"], "hold", "on_hold", type="approval")
    with pytest.raises(NotFound) as caught:
        await client.v3.jobs.resource_usage(approval["id"])
    assert caught.value.error_id  # the v3 error object


async def _collect(chunks: object) -> bytes:
    return b"".join([c async for c in chunks])  # type: ignore[attr-defined]


# -- saving ------------------------------------------------------------------------------------


async def test_save_output_writes_the_whole_output_atomically(
    fake: FakeCircleCI, client: CircleCI, job: str, tmp_path: Path
) -> None:
    data = _log(5000)
    fake.v3.set_output(job, data)
    fake.inject(Fault("disconnect", path=r"/stdout$"))
    target = tmp_path / "logs" / "step0.log"
    target.parent.mkdir()
    size = await client.v3.jobs.save_output(job, target, step=0)
    assert size == len(data)
    assert target.read_bytes() == data
    assert os.listdir(target.parent) == ["step0.log"]


async def test_save_output_leaves_nothing_when_it_fails(
    fake: FakeCircleCI, client: CircleCI, job: str, tmp_path: Path
) -> None:
    fake.v3.set_output(job, _log(100))
    fake.inject(Fault("disconnect", path=r"/stdout$"))  # some bytes arrive first
    fake.inject(Fault("status", status=403, path=r"/stdout$"))
    target = tmp_path / "step0.log"
    with pytest.raises(Forbidden):
        await client.v3.jobs.save_output(job, target, step=0)
    assert os.listdir(tmp_path) == []


# -- tests as NDJSON ---------------------------------------------------------------------------


async def test_tests_stream_as_typed_results_across_chunks(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    results = [
        {
            "classname": f"suite.{i % 7}",
            "name": f"test_{i} " + "x" * (i % 300),
            "result": ["success", "failure", "skipped", "flaky"][i % 4],
            "run_time": i / 100,
            "message": None if i % 4 != 1 else "assert 1 == 2\n" * 5,
        }
        for i in range(3000)  # several hundred KiB: many chunks, lines cut anywhere
    ]
    fake.v3.set_tests(job, results)
    got = [r async for r in client.v3.jobs.tests(job)]
    assert [(r.classname, r.name, r.run_time, r.message) for r in got] == [
        (r["classname"], r["name"], r["run_time"], r["message"]) for r in results
    ]
    assert got[1].result is TestOutcome.FAILURE and got[1].result.failed
    assert got[3].result is not None and not got[3].result.known  # "flaky" parses
    (request,) = _output_requests(fake, "/tests")
    assert request.headers["Accept"] == "application/x-ndjson"


async def test_a_malformed_test_line_is_skipped_with_a_warning_or_raised(
    fake: FakeCircleCI, client: CircleCI, job: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = (
        b'{"classname": "a", "name": "one", "result": "success", "run_time": 0.1}\n'
        b'{"classname": "a", "name": "secret-ish text, broken\n'
        b"[1, 2]\n"
        b'{"name": "bad run_time", "run_time": "slow"}\n'
        b"\n"
        b'{"classname": "a", "name": "two", "result": "failure", "run_time": 0.2}'  # no \n
    )
    fake.v3.set_tests(job, body)
    with caplog.at_level(logging.WARNING, logger="circleci_async"):
        got = [r async for r in client.v3.jobs.tests(job)]
    assert [r.name for r in got] == ["one", "two"]
    warnings = [r.getMessage() for r in caplog.records if "test result" in r.getMessage()]
    assert len(warnings) == 3
    assert any("line 2" in w for w in warnings) and any("line 4" in w for w in warnings)
    assert not any("secret-ish" in w for w in warnings)

    seen: list[str | None] = []

    async def read_all() -> None:
        async for result in client.v3.jobs.tests(job, on_error="raise"):
            seen.append(result.name)

    with pytest.raises(DecodeError, match="line 2"):
        await read_all()
    assert seen == ["one"]


async def test_no_stored_tests_is_no_results(
    fake: FakeCircleCI, client: CircleCI, job: str
) -> None:
    assert [r async for r in client.v3.jobs.tests(job)] == []


# -- the pure rules ----------------------------------------------------------------------------


def test_a_line_splitter_reassembles_lines_cut_at_every_point() -> None:
    body = b'{"a": 1}\n{"b": "two"}\r\n\n{"c": [3]}\n{"d": 4}'
    expected = [b'{"a": 1}', b'{"b": "two"}', b'{"c": [3]}', b'{"d": 4}']
    for cut in range(len(body) + 1):
        for second in range(cut, len(body) + 1):
            splitter = LineSplitter()
            lines = [*splitter.feed(body[:cut]), *splitter.feed(body[cut:second])]
            lines += splitter.feed(body[second:])
            last = splitter.finish()
            assert [*lines, *([last] if last else [])] == expected, (cut, second)


def test_an_overlong_line_comes_out_as_malformed_and_the_next_one_is_kept() -> None:
    splitter = LineSplitter(max_line=10)
    assert splitter.feed(b"0123456789ABCDEF") == []
    assert splitter.feed(b"GHIJ\nok\n") == [None, b"ok"]
    assert splitter.feed(b"x" * 11 + b"\n") == [None]
    splitter.feed(b"y" * 20)
    assert splitter.finish() is None


def test_answers_at_an_offset() -> None:
    assert range_header(0) == {} and range_header(9) == {"Range": "bytes=9-"}
    assert is_terminal({"X-Terminal": "TRUE"}) and not is_terminal({"X-Terminal": "false"})
    partial = read_answer(206, {"Content-Range": "bytes 10-19/*"}, 10)
    assert partial.read and partial.skip == 0 and not partial.terminal
    overlap = read_answer(206, {"Content-Range": "bytes 4-19/20", "X-Terminal": "true"}, 10)
    assert overlap.skip == 6 and overlap.terminal
    assert read_answer(200, {}, 10).skip == 10  # Range ignored: the whole output again
    assert read_answer(404, {}, 0).missing
    past = read_answer(416, {"X-Terminal": "true"}, 30)
    assert not past.read and past.terminal
    with pytest.raises(DecodeError, match="skipped bytes"):
        read_answer(206, {"Content-Range": "bytes 12-19/20"}, 10)
    with pytest.raises(DecodeError, match="Content-Range"):
        read_answer(206, {}, 10)
