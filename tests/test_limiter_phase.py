"""Kong-style windows (``X-RateLimit-*-Second``, no reset sent) whose phase the limiter must
learn: the server's one-second windows need not start on the client's whole seconds, and an
answer counted just before a boundary may arrive just after it.

On a test clock (tests/_limiter_sim.py: the bucket against the fake's own ledger) and over TCP
against a server built here whose windows start 0.37 s past the client's second."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from circleci_async import CircleCI, RateLimitConfig, RetryConfig
from circleci_async.ratelimit.bucket import BucketState
from circleci_async.ratelimit.headers import Observation, RateLimitSnapshot
from circleci_async.ratelimit.limiter import AdaptiveLimiter
from circleci_async.testing import RateLimitLedger, RateLimitPolicy, Window, render_headers

from ._limiter_sim import simulate
from .conftest import TOKEN

TEN = RateLimitPolicy(windows=(Window(10, 1),))
TWENTY = RateLimitPolicy(windows=(Window(20, 1), Window(600, 60)))
RESERVE = RateLimitConfig().reserve


# -- on a test clock --------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.2, 0.37, 0.63, 0.9])
@pytest.mark.parametrize("start", [1000.0, 1000.3, 1000.6, 1000.7, 1000.8, 1000.9])
def test_a_window_out_of_phase_draws_no_429(offset: float, start: float) -> None:
    run = simulate(TEN, requests=60, start=start, offset=offset)
    assert run.rate_limited == 0
    assert len(run.sent) == 60
    per_window = run.admitted_per_server_window()
    assert max(per_window.values()) <= 10


def second(remaining: int) -> RateLimitSnapshot:
    """Kong's per-second window of 10, as the fake sends it (no reset)."""
    return RateLimitSnapshot(
        (Observation("x-ratelimit-window", "second", 1.0, 10, remaining, None),)
    )


def answer(bucket: BucketState, remaining: int, at: float, status: int = 200) -> None:
    bucket.observe(second(remaining), status=status, now=at, wall=at)
    bucket.release()


def grants(bucket: BucketState, at: float, most: int = 20) -> int:
    """How many requests the bucket lets through at ``at``, at most ``most``."""
    for n in range(most):
        if bucket.try_acquire(at) > 0:
            return n
    return most


def test_a_jump_before_the_guessed_boundary_moves_it_to_now() -> None:
    bucket = BucketState(RateLimitConfig())
    assert grants(bucket, 1000.2, most=1) == 1
    answer(bucket, 9, 1000.21)  # guessed: the window ends at 1001.0, aligned to the clock
    assert bucket.view(1000.21).reset_after == pytest.approx(0.79)
    assert grants(bucket, 1000.3, most=4) == 4
    for remaining in (5, 4, 3):
        answer(bucket, remaining, 1000.35)
    answer(bucket, 9, 1000.55)  # more than the window had: a new one began by now
    view = bucket.view(1000.55)
    assert view.remaining == 9
    assert view.reset_after == pytest.approx(1.0)  # not 0.45: the boundary moved to 1000.55


def test_a_window_not_reset_at_the_guessed_boundary_gets_no_burst() -> None:
    bucket = BucketState(RateLimitConfig())
    assert grants(bucket, 1000.2, most=1) == 1
    answer(bucket, 9, 1000.21)
    assert grants(bucket, 1000.3, most=8) == 8
    for remaining in range(8, 0, -1):
        answer(bucket, remaining, 1000.35)
    assert bucket.view(1000.35).blocked_for == pytest.approx(0.65)  # the reserve is left
    # At the boundary guessed from the clock, one request tests it, not a burst of nine.
    assert grants(bucket, 1001.0) == 1
    # The server's window had not reset (it starts 0.37 s later): the count is believed.
    answer(bucket, 0, 1001.05, status=429)
    view = bucket.view(1001.05)
    assert view.remaining == 0 and view.blocked_for > 0.9
    assert grants(bucket, 1001.1) == 0


def test_a_boundary_test_without_an_answer_ends_after_a_second() -> None:
    """Answers without headers cannot keep the bucket at one request at a time for ever."""
    bucket = BucketState(RateLimitConfig())
    assert grants(bucket, 1000.2, most=1) == 1
    answer(bucket, 9, 1000.21)
    assert grants(bucket, 1001.0) == 1  # the boundary's test
    assert grants(bucket, 1001.5) == 0
    bucket.release()  # answered without rate-limit headers (the limiter does not observe it)
    assert grants(bucket, 1002.1) > 1  # that boundary is not tested again


def test_an_answer_counted_before_the_boundary_does_not_close_the_new_window() -> None:
    """A request sent just before a boundary is answered after it with the old window's count;
    taken for the new window, that count closed the gate for a whole window."""
    bucket = BucketState(RateLimitConfig())
    assert grants(bucket, 1000.2, most=1) == 1
    answer(bucket, 9, 1000.21)
    assert grants(bucket, 1000.3, most=6) == 6
    for remaining in range(8, 2, -1):
        answer(bucket, remaining, 1000.35)
    assert grants(bucket, 1000.97, most=1) == 1  # in flight across the boundary
    assert grants(bucket, 1001.0, most=1) == 1  # the boundary's test
    answer(bucket, 2, 1001.02)  # the old window's count, answered late: set aside
    assert bucket.view(1001.02).blocked_for == 0
    answer(bucket, 9, 1001.05)  # the test: the window did reset
    view = bucket.view(1001.05)
    assert view.remaining == 9 and view.blocked_for == 0
    assert grants(bucket, 1001.05) >= 7  # the new window's allowance, at once


def test_a_late_answer_never_raises_the_count() -> None:
    """Answers out of order (a later-counted one first) are not a window starting."""
    bucket = BucketState(RateLimitConfig())
    assert grants(bucket, 1000.2, most=1) == 1
    answer(bucket, 9, 1000.21)
    assert grants(bucket, 1000.22, most=4) == 4
    for remaining in (5, 8, 6, 7):  # counted as 8, 7, 6, 5; the one left with 5 answered first
        answer(bucket, remaining, 1000.23)
    view = bucket.view(1000.23)
    assert view.remaining == 5
    assert view.reset_after == pytest.approx(0.77)  # the boundary did not move


@pytest.mark.parametrize("offset", [0.0, 0.37])
def test_every_window_is_used_although_answers_cross_its_boundary(offset: float) -> None:
    """Answers of requests counted before a boundary arrive after it, a round trip later: they
    belong to the old window. Taken for the new one, they closed the gate for a whole window
    after every boundary (the run took twice as many windows as needed)."""
    run = simulate(TWENTY, requests=150, start=1000.0, offset=offset, rtt=0.05)
    assert run.rate_limited == 0
    per_window = run.admitted_per_server_window()
    allowance = 20 - RESERVE
    assert len(per_window) <= math.ceil(150 / allowance) + 1
    # every full window between the first and the last is spent to its allowance
    full = sorted(per_window)[1:-1]
    assert all(per_window[w] >= allowance - 1 for w in full), per_window


@pytest.mark.parametrize("policy", [TEN, TWENTY], ids=["10/s", "20/s+600/min"])
@pytest.mark.parametrize("tasks", [1, 4])
def test_each_window_is_spent_to_its_allowance_before_it_resets(
    policy: RateLimitPolicy, tasks: int
) -> None:
    """The allowance left in a window is paced one interval apart with the last one interval
    before the reset. Paced one interval apart ending *on* the reset, the last request of
    every window was counted in the next one: a tenth of a 10/s budget never used."""
    run = simulate(policy, requests=120, start=1000.2, tasks=tasks, rtt=0.004)
    assert run.rate_limited == 0
    per_window = run.admitted_per_server_window()
    full = sorted(per_window)[1:-1]
    limit = policy.windows[0].limit
    assert full and all(per_window[w] == limit - RESERVE for w in full), per_window


def test_the_pace_is_reached_after_the_first_answer() -> None:
    """The probe goes alone; its answer sets the pace, and the first window's allowance goes
    out within the next round trips instead of being ramped up to."""
    run = simulate(TWENTY, requests=60, start=1000.0, rtt=0.05)
    first_answer = 1000.0 + 0.05
    before = [s for s, _, _ in run.sent if s < first_answer]
    assert len(before) == 1  # the probe
    within = [s for s, _, _ in run.sent if s < first_answer + 2 * 0.05]
    assert len(within) >= 20 - RESERVE - 1


# -- over TCP ----------------------------------------------------------------------------------


class OffsetServer:
    """Kong's fixed one-second windows, on a clock ``offset`` seconds ahead of the client's,
    with ``latency`` before counting a request and again before answering."""

    def __init__(self, policy: RateLimitPolicy, clock: object, latency: float) -> None:
        self.policy = policy
        self.clock = clock
        self.latency = latency
        self.ledger = RateLimitLedger()
        self.admitted = 0
        self.rate_limited = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.latency)
        assert callable(self.clock)
        decision = self.ledger.hit(self.policy, request.headers["Circle-Token"], self.clock())
        headers = render_headers(self.policy, decision)
        await asyncio.sleep(self.latency)
        if decision.admitted:
            self.admitted += 1
            return web.json_response({"login": "me"}, headers=headers)
        self.rate_limited += 1
        return web.json_response({"message": "Rate limit exceeded"}, status=429, headers=headers)

    async def __aenter__(self) -> OffsetServer:
        app = web.Application()
        app.router.add_get("/api/v2/me", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api/v2"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def shifted() -> AsyncIterator[tuple[OffsetServer, float]]:
    """A server whose windows start 0.37 s past the client's whole seconds, and the shift that
    puts the client's first request 0.7 s into its second: the start that drew 429s (6 to 9 of
    40 requests) before the limiter learned the phase."""
    shift = 0.7 - (time.time() % 1)
    server = OffsetServer(TEN, lambda: time.time() + shift + 0.37, latency=0.025)
    async with server:
        yield server, shift


async def test_a_server_out_of_phase_over_tcp_draws_no_429(
    shifted: tuple[OffsetServer, float],
) -> None:
    server, shift = shifted
    config = RateLimitConfig()
    limiter = AdaptiveLimiter(config, key="phase", wall_clock=lambda: time.time() + shift)
    async with CircleCI(
        TOKEN, base_url=server.url, limiter=limiter, retry=RetryConfig(max_attempts=20)
    ) as cci:
        slots = asyncio.Semaphore(16)

        async def one() -> None:
            async with slots:
                await cci.request("GET", "me")

        await asyncio.wait_for(asyncio.gather(*(one() for _ in range(40))), 60)
    assert server.admitted == 40
    assert server.rate_limited == 0
