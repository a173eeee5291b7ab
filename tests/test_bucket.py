"""The limiter's arithmetic, driven by an explicit clock (no sleeping, no I/O)."""

from __future__ import annotations

import itertools
import math

import pytest

from circleci_async.config import RateLimitConfig
from circleci_async.ratelimit.bucket import BucketState
from circleci_async.ratelimit.headers import (
    SOURCE_IETF_FIELDS,
    SOURCE_X_WINDOW,
    Observation,
    RateLimitSnapshot,
)


def drain(state: BucketState, now: float, *, until: float, step: float = 0.001) -> list[float]:
    """Simulate a saturated queue: take every slot the bucket grants between now and until."""
    sent: list[float] = []
    t = now
    while t < until:
        wait = state.try_acquire(t)
        if wait <= 0:
            sent.append(t)
            state.release()
        else:
            t += max(wait, step) if wait < math.inf else until
    return sent


def window(
    limit: int,
    remaining: int,
    reset: float | None,
    *,
    seconds: float | None = None,
    source: str = SOURCE_IETF_FIELDS,
    policy: str | None = None,
) -> Observation:
    return Observation(
        source=source,
        policy=policy,
        window=seconds,
        limit=limit,
        remaining=remaining,
        reset_after=reset,
    )


def snap(*obs: Observation, retry_after: float | None = None) -> RateLimitSnapshot:
    return RateLimitSnapshot(observations=tuple(obs), retry_after=retry_after)


def test_polite_start_paces_at_initial_rate_after_the_burst() -> None:
    state = BucketState(RateLimitConfig(initial_rate=10, burst=5))
    sent = drain(state, 0.0, until=2.0)
    assert sent[:5] == [0.0] * 5  # the burst
    # then one every 100 ms: 5 + ~20 in two seconds
    assert 24 <= len(sent) <= 26
    gaps = [b - a for a, b in itertools.pairwise(sent[5:])]
    assert all(g == pytest.approx(0.1, abs=0.002) for g in gaps)


def test_first_request_goes_alone_until_answered() -> None:
    state = BucketState(RateLimitConfig(initial_rate=None))
    assert state.try_acquire(0.0) == 0.0
    assert state.try_acquire(0.0) > 0  # the probe is still out
    state.observe(RateLimitSnapshot(), status=200, now=0.01, wall=0.0)
    state.release()
    assert state.try_acquire(0.01) == 0.0
    assert state.try_acquire(0.01) == 0.0


def test_unpaced_when_initial_rate_is_none() -> None:
    state = BucketState(RateLimitConfig(initial_rate=None))
    state.probing = False
    assert all(state.try_acquire(0.0) == 0.0 for _ in range(1000))
    assert state.in_flight == 1000


def test_remaining_is_spread_over_the_time_to_reset() -> None:
    state = BucketState(RateLimitConfig(initial_rate=1, burst=1, reserve=0))
    state.observe(snap(window(100, 60, 30.0)), status=200, now=0.0, wall=1000.0)
    # 60 requests one interval apart, the last one interval before the reset: 61 intervals
    assert state.rate(0.0) == pytest.approx(61 / 30)
    sent = drain(state, 0.0, until=10.0)
    assert len(sent) == pytest.approx(20, abs=1)


def test_lowest_of_two_disagreeing_systems_binds() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    wall = 6000.0  # a minute boundary: Kong's minute window has a full 60 s to run
    state.observe(
        snap(
            window(1000, 1000, 60.0),
            window(60, 60, None, seconds=60, source=SOURCE_X_WINDOW, policy="minute"),
        ),
        status=200,
        now=0.0,
        wall=wall,
    )
    assert state.rate(0.0) == pytest.approx(61 / 60)  # 60/min beats 1000/min
    view = state.view(0.0)
    assert view.source == SOURCE_X_WINDOW and view.limit == 60 and view.window == 60
    assert view.reset_after == pytest.approx(60.0)


def test_kong_window_reset_is_aligned_to_the_wall_clock() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    # 45 s into the minute with 30 left: 30 requests over the 15 s that remain.
    state.observe(
        snap(window(600, 30, None, seconds=60, source=SOURCE_X_WINDOW, policy="minute")),
        status=200,
        now=100.0,
        wall=6045.0,
    )
    assert state.rate(100.0) == pytest.approx(31 / 15)
    assert state.view(100.0).reset_after == pytest.approx(15.0)


def test_in_flight_requests_are_subtracted_from_remaining() -> None:
    state = BucketState(RateLimitConfig(initial_rate=None, reserve=0))
    state.probing = False
    for _ in range(5):
        assert state.try_acquire(0.0) == 0.0
    # 6 left according to the server, but 4 other requests are still in flight.
    state.observe(snap(window(10, 6, 10.0)), status=200, now=0.0, wall=0.0)
    assert state.rate(0.0) == pytest.approx((6 - 4 + 1) / 10)


def test_exhausted_window_closes_the_gate_until_reset() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    state.observe(snap(window(10, 0, 7.0)), status=200, now=50.0, wall=0.0)
    assert state.try_acquire(50.0) == pytest.approx(7.0)
    assert state.try_acquire(56.9) == pytest.approx(0.1)
    # After the reset the window is unknown again (no window length) -> polite start.
    assert state.try_acquire(57.0) == 0.0


def test_reserve_keeps_a_margin_in_every_window() -> None:
    state = BucketState(RateLimitConfig(reserve=1))
    state.observe(snap(window(20, 1, 0.5, seconds=1)), status=200, now=0.0, wall=0.0)
    assert state.try_acquire(0.0) == pytest.approx(0.5)


def test_retry_after_gates_everyone_and_is_never_shortened() -> None:
    state = BucketState(RateLimitConfig(initial_rate=100, burst=100))
    state.observe(snap(retry_after=12.0), status=429, now=10.0, wall=0.0)
    assert state.try_acquire(10.0) == pytest.approx(12.0)
    assert state.try_acquire(21.99) == pytest.approx(0.01)
    assert state.try_acquire(22.0) == 0.0
    # No burst right after the gate: the next request waits one interval.
    assert state.try_acquire(22.0) > 0


def test_retry_after_on_a_success_is_not_a_gate() -> None:
    state = BucketState(RateLimitConfig())
    state.observe(snap(retry_after=30.0), status=301, now=0.0, wall=0.0)
    assert state.try_acquire(0.0) == 0.0


def test_headerless_429_halves_the_rate_and_it_recovers() -> None:
    cfg = RateLimitConfig(initial_rate=10, recovery=10.0)
    state = BucketState(cfg)
    state.observe(RateLimitSnapshot(), status=429, now=0.0, wall=0.0)
    assert state.rate(0.0) == pytest.approx(5.0)
    state.observe(RateLimitSnapshot(), status=429, now=0.0, wall=0.0)
    assert state.rate(0.0) == pytest.approx(2.5)
    assert state.rate(5.0) == pytest.approx(2.5 + 5.0)
    assert state.rate(100.0) == pytest.approx(10.0)


def test_rate_change_keeps_queue_debt_in_requests() -> None:
    state = BucketState(RateLimitConfig(initial_rate=1, burst=1))
    state.probing = False
    assert state.try_acquire(0.0) == 0.0
    assert state.try_acquire(0.0) == pytest.approx(1.0)  # one request ahead at 1 req/s
    # The server says far more is allowed: the wait shrinks at once instead of staying 1 s.
    state.observe(snap(window(1000, 1000, 10.0)), status=200, now=0.0, wall=0.0)
    assert state.try_acquire(0.0) < 0.02


def test_window_rollover_assumes_a_full_window_when_its_length_is_known() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    state.observe(snap(window(60, 0, 1.0, seconds=60)), status=200, now=0.0, wall=0.0)
    assert state.try_acquire(0.5) == pytest.approx(0.5)
    assert state.try_acquire(1.0) == 0.0
    assert state.rate(1.0) == pytest.approx(61 / 60)  # 60 over the next 60 s


def test_view_reports_gate_and_in_flight() -> None:
    state = BucketState(RateLimitConfig())
    state.try_acquire(0.0)
    state.observe(snap(retry_after=3.0), status=429, now=0.0, wall=0.0)
    view = state.view(1.0)
    assert view.blocked_for == pytest.approx(2.0)
    assert view.in_flight == 1
    state.release()
    assert state.view(1.0).in_flight == 0


def test_saturated_pace_never_exceeds_a_per_second_window() -> None:
    """Drive a bucket with a simulated Kong server (20/s, 600/min) and count 429s."""
    state = BucketState(RateLimitConfig())
    wall0 = 60 * 16_667 + 20.0  # 20 s into a minute
    sec_count: dict[int, int] = {}
    min_count: dict[int, int] = {}
    rejected = 0
    admitted = 0
    t = 0.0
    while t < 70.0 and admitted < 600:
        wait = state.try_acquire(t)
        if wait > 0:
            t += wait
            continue
        wall = wall0 + t
        s, m = int(wall), int(wall // 60)
        if sec_count.get(s, 0) >= 20 or min_count.get(m, 0) >= 600:
            rejected += 1
            ok = False
        else:
            sec_count[s] = sec_count.get(s, 0) + 1
            min_count[m] = min_count.get(m, 0) + 1
            admitted += 1
            ok = True
        obs = (
            window(
                20,
                20 - sec_count.get(s, 0),
                None,
                seconds=1,
                source=SOURCE_X_WINDOW,
                policy="second",
            ),
            window(
                600,
                600 - min_count.get(m, 0),
                None,
                seconds=60,
                source=SOURCE_X_WINDOW,
                policy="minute",
            ),
        )
        state.observe(
            snap(*obs, retry_after=None if ok else 1.0), status=200 if ok else 429, now=t, wall=wall
        )
        state.release()
        t += 0.002  # server round trip
    assert rejected == 0
    # 40 s left in the first minute: 600 requests fit in them at <= 20/s.
    assert admitted == 600
    assert t <= 41.0


def test_far_from_limits_some_responses_may_go_unread() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    state.observe(snap(window(100_000, 100_000, 60.0)), status=200, now=0.0, wall=0.0)
    skips = 0
    while state.may_skip():
        skips += 1
    assert skips == 32  # bounded, however large the headroom


def test_near_a_limit_every_response_is_read() -> None:
    state = BucketState(RateLimitConfig(reserve=0))
    state.observe(snap(window(20, 10, 1.0)), status=200, now=0.0, wall=0.0)
    assert state.quiet == 10 // 4  # never more than a quarter of what is left
    state.observe(snap(window(20, 3, 1.0)), status=200, now=0.0, wall=0.0)
    assert not state.may_skip()


def test_nothing_goes_unread_without_server_limits_or_behind_a_gate() -> None:
    state = BucketState(RateLimitConfig())
    state.observe(RateLimitSnapshot(), status=200, now=0.0, wall=0.0)
    assert not state.may_skip()
    state.observe(snap(window(1000, 0, 5.0)), status=200, now=0.0, wall=0.0)
    assert not state.may_skip()


def test_server_pace_change_carries_no_debt_from_a_burst() -> None:
    """Requests already sent are in the server's count: the bucket must not charge them twice."""
    state = BucketState(RateLimitConfig(reserve=0))
    state.probing = False
    state.observe(snap(window(10, 9, 1.0, seconds=1)), status=200, now=0.0, wall=0.0)
    granted = 0
    while state.try_acquire(0.0) == 0.0:
        granted += 1
    assert granted == 9  # the burst: what the window has left
    for _ in range(granted):
        state.release()
    # The server now says 3 are left (others got there too): 3 over 0.5 s.
    state.observe(snap(window(10, 3, 0.5, seconds=1)), status=200, now=0.5, wall=0.5)
    wait = state.try_acquire(0.5)
    assert wait <= 1 / 6 + 1e-9  # at most one new interval, not the burst's debt rescaled


def test_answers_left_unread_still_count_against_the_window() -> None:
    """Far from the limit a few answers may go unread (``may_skip``); their requests are gone
    from the in-flight count but not from the window. Counting only requests in flight, the
    room left looked two larger, and two requests more went into a window that had none."""
    state = BucketState(RateLimitConfig())  # reserve 1
    assert state.try_acquire(0.0) == 0.0  # the probe
    state.observe(snap(window(10, 9, 0.95, seconds=1)), status=200, now=0.05, wall=0.0)
    state.release()
    now, granted = 0.05, 0
    while granted < 8:  # what the window allows, less the reserve
        wait = state.try_acquire(now)
        if wait > 0:
            now += wait
        else:
            granted += 1
    for _ in range(2):  # two answers go unread
        assert state.may_skip()
        state.release()
    assert state.in_flight == 6
    now += 0.2  # the pace allows one more by now; the window has no room for it
    assert state.try_acquire(now) > 0
    state.observe(snap(window(10, 1, 1.0 - now, seconds=1)), status=200, now=now, wall=0.0)
    assert state.try_acquire(now) == pytest.approx(1.0 - now)  # gated until the reset
