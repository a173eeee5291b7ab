"""Retry decisions, free of I/O: given what went wrong, retry or not, and after how long.

The request loop only sleeps and counts; every policy question is answered here, so it can be
tested with plain values. Waits come from ``backoff``'s exponential generator with full jitter;
a server's ``Retry-After`` is honoured exactly (never shortened by jitter or by the deadline:
when it does not fit before the deadline, the call gives up instead).
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import backoff

from .config import RetryConfig
from .errors import (
    CircleCIError,
    ConnectError,
    RateLimitExceeded,
    ServerError,
    TransportError,
)

__all__ = ["RetryDecision", "RetryPolicy", "RetrySchedule"]


@attrs.frozen
class RetryDecision:
    retry: bool
    #: Seconds to sleep before the next attempt (a 429's Retry-After is waited by the limiter's
    #: gate instead, so it is 0 here).
    delay: float = 0.0
    reason: str = ""


class RetrySchedule:
    """The jittered exponential waits of one call: 0..base, 0..2*base, ... capped."""

    def __init__(self, config: RetryConfig) -> None:
        self._waits: Iterator[float] = backoff.expo(
            base=2, factor=config.backoff_base, max_value=config.backoff_max
        )
        next(self._waits)  # backoff's generators are primed with a first bare yield

    def next_delay(self) -> float:
        return float(backoff.full_jitter(next(self._waits)))


class RetryPolicy:
    """Decides whether an attempt that raised ``error`` is tried again."""

    def __init__(self, config: RetryConfig) -> None:
        self.config = config

    def is_idempotent(self, method: str) -> bool:
        return method.upper() in self.config.idempotent_methods

    def decide(
        self,
        error: CircleCIError,
        *,
        method: str,
        attempt: int,
        elapsed: float,
        schedule: RetrySchedule,
    ) -> RetryDecision:
        """``attempt`` is the number of attempts made so far; ``elapsed`` the seconds since the call began."""
        cfg = self.config
        if attempt >= cfg.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempt} attempts")

        if isinstance(error, RateLimitExceeded):
            if error.status is None:  # the limiter itself refused to wait that long
                return RetryDecision(False, reason="rate-limit wait exceeds max_wait")
            if error.retry_after is not None:
                delay, extra = error.retry_after, 0.0  # waited at the limiter's gate
            else:
                delay = extra = schedule.next_delay()
            return self._within_deadline(delay, extra, elapsed, "429 rate limited")

        idempotent = self.is_idempotent(method)
        if isinstance(error, ConnectError):
            return self._within_deadline(
                *_twice(schedule.next_delay()), elapsed, "connection failed"
            )
        if isinstance(error, ServerError):
            if error.status not in cfg.retry_statuses:
                return RetryDecision(False, reason=f"status {error.status} is not retried")
            if not idempotent:
                return RetryDecision(False, reason=f"{method} is not idempotent")
            retry_after = _retry_after(error)
            delay = (
                max(retry_after, schedule.next_delay()) if retry_after else schedule.next_delay()
            )
            return self._within_deadline(delay, delay, elapsed, f"server error {error.status}")
        if isinstance(error, TransportError):
            if not idempotent:
                return RetryDecision(False, reason=f"{method} may have reached the server")
            return self._within_deadline(*_twice(schedule.next_delay()), elapsed, "transport error")
        return RetryDecision(False, reason=f"{type(error).__name__} is not retried")

    def _within_deadline(
        self, wait: float, delay: float, elapsed: float, reason: str
    ) -> RetryDecision:
        deadline = self.config.deadline
        if deadline is not None and elapsed + wait > deadline:
            return RetryDecision(False, reason=f"{reason}; next attempt would pass the deadline")
        return RetryDecision(True, delay=delay, reason=reason)


def _twice(value: float) -> tuple[float, float]:
    return value, value


def _retry_after(error: ServerError) -> float | None:
    snapshot = error.rate_limit
    return snapshot.retry_after if snapshot is not None else None
