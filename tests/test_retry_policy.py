"""Retry decisions as plain values."""

from __future__ import annotations

import attrs
import pytest

from circleci_async.config import RetryConfig
from circleci_async.errors import (
    APIError,
    BadRequest,
    ConnectError,
    DecodeError,
    IntegrityError,
    MaxWaitExceeded,
    NotFound,
    RateLimitExceeded,
    RequestTimeout,
    ServerError,
    TransportError,
)
from circleci_async.ratelimit.headers import RateLimitSnapshot
from circleci_async.retry import PROGRESS_ATTEMPTS, RetryPolicy, RetrySchedule

CFG = RetryConfig(max_attempts=4, deadline=60.0, backoff_base=1.0, backoff_max=8.0)


def decide(error: Exception, method: str = "GET", attempt: int = 1, elapsed: float = 0.0):
    policy = RetryPolicy(CFG)
    return policy.decide(
        error,
        method=method,
        attempt=attempt,
        elapsed=elapsed,  # type: ignore[arg-type]
        schedule=RetrySchedule(CFG),
    )


def server_error(status: int, retry_after: float | None = None) -> ServerError:
    return ServerError("boom", status=status, rate_limit=RateLimitSnapshot(retry_after=retry_after))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH"])
def test_429_is_retried_for_every_method_and_waits_at_the_gate(method: str) -> None:
    d = decide(RateLimitExceeded("slow down", retry_after=7.0), method)
    assert d.retry and d.delay == 0.0


def test_429_without_retry_after_backs_off_with_jitter() -> None:
    delays = {decide(RateLimitExceeded("x", retry_after=None)).delay for _ in range(50)}
    assert all(0.0 <= d <= 1.0 for d in delays)
    assert len(delays) > 1  # jittered


def test_local_max_wait_refusal_is_final() -> None:
    d = decide(MaxWaitExceeded("too long", retry_after=9999.0))
    assert not d.retry and d.exhausted
    assert isinstance(MaxWaitExceeded("x", retry_after=1.0), RateLimitExceeded)


def test_retry_after_beyond_the_deadline_gives_up_instead_of_cutting_it_short() -> None:
    d = decide(RateLimitExceeded("x", retry_after=50.0), elapsed=20.0)
    assert not d.retry and "deadline" in d.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_for_get_not_for_post(status: int) -> None:
    assert decide(server_error(status), "GET").retry
    assert decide(server_error(status), "DELETE").retry
    d = decide(server_error(status), "POST")
    assert not d.retry and "idempotent" in d.reason


def test_501_is_not_retried() -> None:
    assert not decide(server_error(501)).retry


def test_503_retry_after_is_respected() -> None:
    d = decide(server_error(503, retry_after=5.0))
    assert d.retry and d.delay >= 5.0


def test_connect_errors_are_retried_even_for_post() -> None:
    assert decide(ConnectError("refused"), "POST").retry


@pytest.mark.parametrize("error", [RequestTimeout("t"), TransportError("reset")])
def test_timeouts_and_drops_retried_only_when_idempotent(error: Exception) -> None:
    assert decide(error, "GET").retry
    assert not decide(error, "POST").retry


@pytest.mark.parametrize(
    "error", [BadRequest("b", status=400), NotFound("n", status=404), DecodeError("d")]
)
def test_client_errors_are_final(error: Exception) -> None:
    assert not decide(error).retry


def test_attempts_are_bounded() -> None:
    assert decide(server_error(500), attempt=3).retry
    assert not decide(server_error(500), attempt=4).retry


def test_backoff_grows_and_is_capped() -> None:
    schedule = RetrySchedule(CFG)
    caps = [1, 2, 4, 8, 8, 8]
    for cap in caps:
        assert 0.0 <= schedule.next_delay() <= cap


def test_an_ungated_429_sleeps_its_retry_after_in_the_loop() -> None:
    # A storage host's 429: the limiter does not pace that host, so the loop waits instead.
    d = decide(RateLimitExceeded("slow", retry_after=3.0, gated=False))
    assert d.retry and d.delay >= 3.0


def test_retry_after_longer_than_the_cap_gives_up_exhausted() -> None:
    cfg = attrs.evolve(CFG, max_retry_after=10.0)
    policy = RetryPolicy(cfg)
    d = policy.decide(
        server_error(503, retry_after=30.0),
        method="GET",
        attempt=1,
        elapsed=0.0,
        schedule=RetrySchedule(cfg),
    )
    assert not d.retry and d.exhausted and "Retry-After" in d.reason


def test_statuses_come_from_the_one_set() -> None:
    assert decide(APIError("timeout", status=408)).retry  # in the default set
    cfg = attrs.evolve(CFG, retry_statuses=frozenset({500}))
    policy = RetryPolicy(cfg)
    d = policy.decide(
        server_error(503), method="GET", attempt=1, elapsed=0.0, schedule=RetrySchedule(cfg)
    )
    assert not d.retry and not d.exhausted


def test_a_retryable_integrity_error_is_retried_and_a_plain_one_is_not() -> None:
    assert decide(IntegrityError("short", retryable=True)).retry
    assert not decide(IntegrityError("an HTML page")).retry


def _transfer(attempts: int, progress: set[int]) -> tuple[int, list[float]]:
    """Attempts until the policy stops, with ``progress`` the attempts that brought bytes."""
    policy = RetryPolicy(CFG)
    schedule = RetrySchedule(CFG)
    delays: list[float] = []
    for attempt in range(1, attempts + 1):
        d = policy.decide(
            TransportError("drop"),
            method="GET",
            attempt=attempt,
            elapsed=0.0,
            schedule=schedule,
            progressed=attempt in progress,
        )
        if not d.retry:
            assert d.exhausted
            return attempt, delays
        delays.append(d.delay)
    return attempts, delays


def test_progress_resets_the_failure_count_and_retries_at_once() -> None:
    # Without progress: max_attempts (4) attempts.
    assert _transfer(100, set())[0] == 4
    # Progress on attempt 3: attempts 4, 5, 6 fail without it, the 4th failure in a row is 6.
    stopped, delays = _transfer(100, {3})
    assert stopped == 6
    assert delays[2] == 0.0  # the attempt after progress goes at once


def test_progress_forever_is_still_bounded() -> None:
    stopped, _ = _transfer(10_000, set(range(1, 10_000)))
    assert stopped == CFG.max_attempts * PROGRESS_ATTEMPTS
