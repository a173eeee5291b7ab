"""Typed events and structured logs, over real HTTP to the fake server and artifact hosts."""

from __future__ import annotations

import asyncio
import logging
import warnings as warnings_module
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

from circleci_async import CircleCI, RateLimitConfig
from circleci_async import events as ev
from circleci_async.errors import CircleCIError, ConfigurationError
from circleci_async.testing import FakeCircleCI
from circleci_async.testing._faults import Fault
from circleci_async.testing._ratelimit import RateLimitPolicy
from circleci_async.testing.artifacts import ArtifactServers, serve_artifact_listing

from ._download_support import download_watched
from .conftest import TOKEN

SLUG = "gh/acme/widgets"
UNPACED = RateLimitConfig(initial_rate=None)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


@pytest.fixture
async def seen(fake: FakeCircleCI) -> AsyncIterator[tuple[Recorder, CircleCI]]:
    recorder = Recorder()
    async with CircleCI(
        TOKEN,
        base_url=fake.url,
        runner_base_url=fake.runner_url,
        rate_limit=UNPACED,
        observers=[recorder],
    ) as cci:
        yield recorder, cci


async def test_a_call_retried_after_a_429_reports_every_step(
    fake: FakeCircleCI, seen: tuple[Recorder, CircleCI]
) -> None:
    recorder, cci = seen
    fake.inject(Fault("status", status=429, path="/me$", headers={"Retry-After": "0"}))
    me = await cci.users.me()
    assert me.login
    assert [kind for kind in recorder.kinds() if kind != "RateLimitChanged"] == [
        "CallStarted",
        "RequestSent",
        "ResponseReceived",
        "RateLimited",
        "RetryScheduled",
        "RequestSent",
        "ResponseReceived",
        "CallFinished",
    ]
    assert recorder.of(ev.RateLimitChanged)[0].view.blocked_for == 0  # Retry-After: 0
    calls = {e.call for e in recorder.events if hasattr(e, "call")}
    assert len(calls) == 1
    assert {getattr(e, "operation", "getCurrentUser") for e in recorder.events} == {
        "getCurrentUser"
    }
    first, second = recorder.of(ev.RequestSent)
    assert (first.attempt, second.attempt, first.hop) == (1, 2, 0)
    assert first.method == "GET" and first.url == f"{fake.url}/me"
    assert first.server_address == "127.0.0.1" and first.server_port == URL(fake.url).port
    limited, ok = recorder.of(ev.ResponseReceived)
    assert (limited.status, ok.status) == (429, 200)
    assert ok.bytes is not None and ok.bytes > 0 and ok.duration >= 0
    assert recorder.of(ev.RateLimited)[0].retry_after == 0
    retry = recorder.of(ev.RetryScheduled)[0]
    assert retry.attempt == 2 and "429" in retry.reason and retry.error_type == "RateLimitExceeded"
    finished = recorder.of(ev.CallFinished)[0]
    assert (finished.attempts, finished.status, finished.error_type) == (2, 200, None)


async def test_a_paginator_carries_its_operation_and_the_query(
    fake: FakeCircleCI, seen: tuple[Recorder, CircleCI]
) -> None:
    recorder, cci = seen
    for _ in range(3):
        fake.add_pipeline(SLUG)
    fake.page_size = 2
    items = [p async for p in cci.pipelines.list_for_project(SLUG, branch="main")]
    sent = recorder.of(ev.RequestSent)
    assert len(items) == 3 and len(sent) == 2  # two pages of two
    assert {e.operation for e in sent} == {"listPipelinesForProject"}
    assert all("branch=main" in e.url for e in sent)
    assert "page-token=" not in sent[0].url and "page-token=" in sent[1].url


def test_every_namespace_method_is_tagged_and_wrapped() -> None:
    from circleci_async import resources

    by_name = {op.name: op for op in resources.operations()}  # imports every namespace
    assert len(by_name) > 50
    namespaces = {cls.namespace: cls for cls in _resource_classes(resources)}
    for name, op in by_name.items():
        namespace, attr = name.removeprefix("cci.").rsplit(".", 1)
        method = getattr(namespaces[namespace], attr)
        assert method.__operation_id__ == op.operation_id
        assert hasattr(method, "__wrapped__"), name  # the wrapper that sets the operation


def _resource_classes(module: Any) -> list[Any]:
    from circleci_async.resources._base import Resource

    found: list[Any] = []
    pending = list(Resource.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "namespace" in vars(cls):
            found.append(cls)
    return found


async def test_a_post_that_failed_reports_its_error_type(
    fake: FakeCircleCI, seen: tuple[Recorder, CircleCI]
) -> None:
    recorder, cci = seen
    fake.inject(Fault("disconnect", method="POST"))
    with pytest.raises(CircleCIError) as caught:
        await cci.pipelines.trigger(SLUG, branch="main")
    failed = recorder.of(ev.RequestFailed)
    assert len(failed) == 1  # a POST that may have reached the server is not retried
    assert failed[0].error_type == type(caught.value).__name__
    assert failed[0].method == "POST" and failed[0].operation == "triggerPipeline"
    assert recorder.of(ev.RetryScheduled) == []
    finished = recorder.of(ev.CallFinished)[0]
    assert finished.error_type == type(caught.value).__name__ and finished.attempts == 1


async def test_a_failing_observer_breaks_nothing_and_is_logged_once(
    fake: FakeCircleCI, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()

    def broken(event: Any) -> None:
        raise RuntimeError("observer bug")

    async with CircleCI(
        TOKEN, base_url=fake.url, rate_limit=UNPACED, observers=[broken, recorder]
    ) as cci:
        with caplog.at_level(logging.WARNING, logger="circleci_async"):
            await cci.users.me()
            await cci.users.me()
    warnings = [r for r in caplog.records if "observer" in r.getMessage()]
    assert len(warnings) == 1 and "observer bug" in warnings[0].getMessage()
    assert len(recorder.of(ev.CallFinished)) == 2  # the next observer still hears everything


async def test_observers_must_be_callable(fake: FakeCircleCI) -> None:
    with pytest.raises(ConfigurationError, match="callable"):
        CircleCI(TOKEN, base_url=fake.url, observers=["not a function"])  # type: ignore[list-item]


async def test_without_observers_no_trace_config_is_installed(client: CircleCI) -> None:
    assert client.core.observers == []
    transport: Any = client.core.transport
    assert transport.trace_configs == []


async def test_rate_limit_waits_say_why(fake: FakeCircleCI) -> None:
    recorder = Recorder()
    fake.inject(Fault("status", status=429, path="/me$", headers={"Retry-After": "1"}))
    # the default (paced) config: the first request probes, the others wait for its answer
    async with CircleCI(TOKEN, base_url=fake.url, observers=[recorder]) as cci:
        await asyncio.gather(*(cci.users.me() for _ in range(3)))
    waits = recorder.of(ev.RateLimitWait)
    whys = {w.why for w in waits}
    assert "probe" in whys
    assert "gate" in whys  # the 429's Retry-After closes the gate for everyone
    assert all(w.seconds > 0 and w.operation == "getCurrentUser" for w in waits)
    gate = sum(w.seconds for w in waits if w.why == "gate")
    assert gate >= 0.5


async def test_the_binding_window_change_is_reported(fake: FakeCircleCI) -> None:
    recorder = Recorder()
    fake.rate_limit = RateLimitPolicy.circleci(per_second=50, per_minute=600)
    async with CircleCI(TOKEN, base_url=fake.url, rate_limit=UNPACED, observers=[recorder]) as cci:
        for _ in range(3):
            await cci.users.me()
    changes = recorder.of(ev.RateLimitChanged)
    assert changes, recorder.kinds()
    assert changes[0].previous is None and changes[0].view.limit is not None
    received = recorder.of(ev.ResponseReceived)
    assert received[0].rate_limit is not None and received[0].rate_limit.observations


async def test_deprecation_headers_are_an_event_each_time_and_a_warning_once(
    fake: FakeCircleCI, seen: tuple[Recorder, CircleCI], caplog: pytest.LogCaptureFixture
) -> None:
    recorder, cci = seen
    sunset = "Wed, 01 Jul 2026 00:00:00 GMT"
    fake.inject(
        Fault("delay", times=2, path="/me$", headers={"Deprecation": "true", "Sunset": sunset})
    )
    with (
        caplog.at_level(logging.WARNING, logger="circleci_async"),
        warnings_module.catch_warnings(record=True) as python_warnings,
    ):
        warnings_module.simplefilter("always")
        await cci.users.me()
        await cci.users.me()
    notices = recorder.of(ev.Deprecation)
    assert len(notices) == 2
    assert notices[0].sunset == sunset and notices[0].operation == "getCurrentUser"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert getattr(warnings[0], "event") == "Deprecation"  # noqa: B009
    assert getattr(warnings[0], "sunset") == sunset  # noqa: B009
    assert "2026-07-01" in warnings[0].getMessage()
    # the same reader as v3's: one DeprecationWarning per operation and client
    (python_warning,) = [w for w in python_warnings if w.category is DeprecationWarning]
    assert "getCurrentUser is deprecated" in str(python_warning.message)
    assert cci.core.pipeline.deprecations.reported == {"getCurrentUser"}


async def test_deprecation_false_is_no_deprecation(
    fake: FakeCircleCI, seen: tuple[Recorder, CircleCI], caplog: pytest.LogCaptureFixture
) -> None:
    recorder, cci = seen
    fake.inject(Fault("delay", times=1, path="/me$", headers={"Deprecation": "false"}))
    with caplog.at_level(logging.WARNING, logger="circleci_async"):
        await cci.users.me()
    assert recorder.of(ev.Deprecation) == []
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


async def test_connection_pool_waits_are_reported(fake: FakeCircleCI) -> None:
    recorder = Recorder()
    fake.inject(Fault("delay", times=4, delay=0.05, path="/me$"))
    async with CircleCI(
        TOKEN, base_url=fake.url, rate_limit=UNPACED, pool_size=1, observers=[recorder]
    ) as cci:
        await asyncio.gather(*(cci.users.me() for _ in range(4)))
    waits = recorder.of(ev.PoolWait)
    assert len(waits) >= 1 and all(w.seconds >= 0 for w in waits)


async def test_trace_configs_reach_the_session(fake: FakeCircleCI) -> None:
    import aiohttp

    started: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: Any) -> None:
        started.append(str(params.url))

    trace.on_request_start.append(on_start)
    async with CircleCI(TOKEN, base_url=fake.url, rate_limit=UNPACED, trace_configs=[trace]) as cci:
        await cci.users.me()
    assert started == [f"{fake.url}/me"]
    with pytest.raises(ConfigurationError, match="trace_configs"):
        async with aiohttp.ClientSession() as session:
            CircleCI(TOKEN, base_url=fake.url, session=session, trace_configs=[trace])


# -- downloads ------------------------------------------------------------------------------


@pytest.fixture
async def hosts() -> AsyncIterator[ArtifactServers]:
    async with ArtifactServers(token=TOKEN) as servers:
        yield servers


async def test_a_redirected_download_reports_hops_and_progress(
    fake: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    recorder = Recorder()
    item = hosts.add("big/file.bin", b"z" * (600 * 1024), hops=2)
    results = await download_watched(fake.url, hosts, [item], tmp_path, recorder, token=TOKEN)
    assert results.ok
    sent = recorder.of(ev.RequestSent)
    assert [e.hop for e in sent] == list(range(len(sent))) and len(sent) >= 3
    assert {e.operation for e in sent} == {"download"}
    assert len({e.call for e in sent}) == 1
    storage = sent[-1].url
    assert "X-Amz-Signature=***" in storage and "X-Amz-Credential=***" in storage
    assert [e.status for e in recorder.of(ev.ResponseReceived)][-1] == 200
    started = recorder.of(ev.DownloadStarted)
    assert [(s.path, s.total, s.resumed_from) for s in started] == [("big/file.bin", 600 * 1024, 0)]
    progress = recorder.of(ev.DownloadProgressed)
    assert progress and progress[-1].bytes == 600 * 1024
    assert [b.bytes for b in progress] == sorted(b.bytes for b in progress)
    (finished,) = recorder.of(ev.DownloadFinished)
    assert (finished.path, finished.status, finished.bytes) == (
        "big/file.bin",
        "downloaded",
        600 * 1024,
    )


async def test_a_failed_download_is_reported(
    fake: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    recorder = Recorder()
    async with (
        hosts.session() as session,
        CircleCI(
            TOKEN,
            base_url=fake.url,
            session=session,
            token_origins=hosts.token_origins,
            rate_limit=UNPACED,
            observers=[recorder],
        ) as cci,
    ):
        good = hosts.add("x.txt", b"x")
        gone = {**good, "path": "gone.txt", "url": str(URL(good["url"]).with_path("/no/such"))}
        results = await cci.artifacts.download([gone], tmp_path)
    assert not results.ok
    (failed,) = recorder.of(ev.DownloadFailed)
    assert failed.path == "gone.txt" and failed.error_type == type(results[0].error).__name__


# -- logging ----------------------------------------------------------------------------------


async def test_logs_are_structured_redacted_and_never_hold_the_token(
    fake: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serve_artifact_listing(fake, SLUG, 7, [hosts.add("r/a.txt", b"a", hops=1)])
    fake.inject(Fault("status", status=503, path="/me$", headers={"Retry-After": "0"}))
    with caplog.at_level(logging.DEBUG, logger="circleci_async"):
        async with (
            hosts.session() as session,
            CircleCI(
                TOKEN,
                base_url=fake.url,
                session=session,
                token_origins=hosts.token_origins,
                rate_limit=UNPACED,
            ) as cci,
        ):
            await cci.users.me()
            results = await cci.artifacts.download(cci.jobs.artifacts(SLUG, 7), tmp_path)
            assert results.ok
    records = [r for r in caplog.records if r.name.startswith("circleci_async")]
    responses = [r for r in records if getattr(r, "event", None) == "ResponseReceived"]
    assert responses and all(r.levelno == logging.DEBUG for r in responses)
    assert {getattr(r, "status") for r in responses} >= {503, 200}  # noqa: B009
    storage = [r for r in responses if "X-Amz" in getattr(r, "url")]  # noqa: B009
    assert storage and all("X-Amz-Signature=***" in getattr(r, "url") for r in storage)  # noqa: B009
    retries = [r for r in records if getattr(r, "event", None) == "RetryScheduled"]
    assert len(retries) == 1 and retries[0].levelno == logging.INFO
    for record in records:
        text = record.getMessage() + repr(vars(record))
        assert TOKEN not in text
        assert "X-Amz-Signature=" not in text.replace("X-Amz-Signature=***", "")


async def test_child_loggers_per_area() -> None:
    from circleci_async.download import manager
    from circleci_async.ratelimit import limiter

    assert manager.logger.name == "circleci_async.download"
    assert limiter.logger.name == "circleci_async.ratelimit"
    from circleci_async import watching

    assert watching.logger.name == "circleci_async.watch"


def test_the_rate_limit_command_explains_the_binding_window() -> None:
    from circleci_async.cli.commands.ratelimit import explain
    from circleci_async.ratelimit.bucket import RateLimitView

    view = RateLimitView("x-ratelimit-window", None, 60.0, 600, 42, 30.0, 1.4, 0.0, 0)
    text = explain(view)
    assert "600 requests per minute" in text and "42 left" in text
    assert "refilling in 30 seconds" in text and "1.40 requests/s" in text
    held = explain(RateLimitView("ietf-fields", None, 1.0, 20, 0, 1.0, 5.0, 3.0, 0))
    assert "20 requests per second" in held and "held for 3 seconds" in held
    assert "no rate-limit headers" in explain(
        RateLimitView(None, None, None, None, None, None, None, 0.0, 0)
    )


async def test_the_stats_count_every_concurrent_wait(fake: FakeCircleCI) -> None:
    """Thirty requests wait at the limiter at once; ``stats.waited`` is the sum of their waits
    (``waited += await ...`` would read the counter before the wait and lose all but one)."""
    fake.rate_limit = RateLimitPolicy.circleci(per_second=10, per_minute=600)
    waits: list[float] = []

    def record(event: object) -> None:
        if isinstance(event, ev.RateLimitWait):
            waits.append(event.seconds)

    async with CircleCI(TOKEN, base_url=fake.url, observers=[record]) as cci:
        await asyncio.gather(*(cci.request("GET", "me") for _ in range(30)))
        waited = cci.stats.waited
    assert sum(waits) > 0
    assert waited == pytest.approx(sum(waits), rel=0.01, abs=0.01)
