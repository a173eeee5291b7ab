"""Retry decisions, free of I/O: given what went wrong, retry or not, and after how long.

The request loops (API calls in the pipeline, artifact transfers in the downloader) only sleep
and count; every policy question is answered here, so it can be tested with plain values. Waits
come from ``backoff``'s exponential generator with full jitter; a server's ``Retry-After`` is
honoured exactly (never shortened by jitter or by the deadline: when it does not fit before the
deadline, the call gives up instead).

Every wait a server asks for (``Retry-After`` on a 429, a 503 or any other status) is bounded
by one number, ``RateLimitConfig.max_wait``, given to the policy as ``max_wait``: a longer one
is not waited, and :meth:`RetryPolicy.final_error` says so in the error raised (a 429's is a
:class:`~circleci_async.errors.MaxWaitExceeded`). ``RetryConfig.max_retry_after``, if set, only
tightens that bound.

A transfer that brought new bytes before failing made progress: its failure does not count
against ``max_attempts`` (the next attempt resumes where it stopped, at once), up to
:data:`PROGRESS_ATTEMPTS` times ``max_attempts`` attempts in all.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import backoff

from .config import RetryConfig
from .errors import (
    APIError,
    CircleCIError,
    ConnectError,
    IntegrityError,
    MaxWaitExceeded,
    RateLimitExceeded,
    ServerError,
    TransportError,
)

__all__ = ["PROGRESS_ATTEMPTS", "RetryDecision", "RetryPolicy", "RetrySchedule"]

#: A call whose attempts keep making progress still stops after this many times max_attempts.
PROGRESS_ATTEMPTS = 20


@attrs.frozen
class RetryDecision:
    retry: bool
    #: Seconds to sleep before the next attempt (a 429's Retry-After is waited by the limiter's
    #: gate instead, so it is 0 here).
    delay: float = 0.0
    reason: str = ""
    #: The failure was of a kind worth retrying, but a limit (attempts, deadline, max_wait)
    #: stopped it: a download keeps its partial file for a later resume.
    exhausted: bool = False
    #: The server's ``Retry-After`` that was refused for being longer than ``max_wait``.
    refused_wait: float | None = None


class RetrySchedule:
    """One call's retry state: its jittered exponential waits (0..base, 0..2*base, ... capped)
    and where its count of failures in a row starts."""

    def __init__(self, config: RetryConfig) -> None:
        self._config = config
        self._waits = self._expo()
        self._immediate = False
        #: Attempts made before the last one that made progress (they do not count).
        self.forgiven = 0

    def _expo(self) -> Iterator[float]:
        waits: Iterator[float] = backoff.expo(
            base=2, factor=self._config.backoff_base, max_value=self._config.backoff_max
        )
        next(waits)  # backoff's generators are primed with a first bare yield
        return waits

    def progressed(self, attempt: int) -> None:
        """Attempt ``attempt`` made progress: the count and the waits start again, and the next
        attempt goes at once."""
        self.forgiven = attempt - 1
        self._waits = self._expo()
        self._immediate = True

    def next_delay(self) -> float:
        if self._immediate:
            self._immediate = False
            return 0.0
        return float(backoff.full_jitter(next(self._waits)))


class RetryPolicy:
    """Decides whether an attempt that raised ``error`` is tried again."""

    def __init__(self, config: RetryConfig, *, max_wait: float | None = None) -> None:
        self.config = config
        bounds = [b for b in (max_wait, config.max_retry_after) if b is not None]
        #: The longest server-requested wait honoured (``None``: any, within the deadline).
        self.max_wait: float | None = min(bounds) if bounds else None

    def final_error(self, error: CircleCIError, decision: RetryDecision) -> CircleCIError:
        """The error to raise when ``decision`` stops retrying ``error``: the error itself, or,
        when the server asked for a wait longer than ``max_wait``, one that says so."""
        wait = decision.refused_wait
        if wait is None:
            return error
        refusal = f"the server asked to wait {wait:g} s (Retry-After), more than max_wait="
        refusal += f"{self.max_wait:g} s"
        if isinstance(error, RateLimitExceeded):
            refused = MaxWaitExceeded(f"rate limited: {refusal}", retry_after=wait)
            refused.method, refused.url = error.method, error.url
            return refused
        error.message = f"{error.message}; not retried: {refusal}"
        error.args = (error.message,)
        return error

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
        progressed: bool = False,
        idempotent: bool | None = None,
    ) -> RetryDecision:
        """``attempt`` is the number of attempts made so far; ``elapsed`` the seconds since the
        call began; ``progressed`` whether this failed attempt still brought new bytes;
        ``idempotent`` overrides what the method implies (an API v3 POST documented as safe to
        repeat is ``True``; ``None``: decided by the method)."""
        cfg = self.config
        if progressed:
            schedule.progressed(attempt)
        decision = self._decide(error, method, elapsed, schedule, idempotent)
        if decision.retry:
            if attempt - schedule.forgiven >= cfg.max_attempts:
                return RetryDecision(
                    False, reason=f"gave up after {attempt} attempts", exhausted=True
                )
            if attempt >= cfg.max_attempts * PROGRESS_ATTEMPTS:
                return RetryDecision(
                    False, reason=f"gave up after {attempt} attempts in all", exhausted=True
                )
        return decision

    def _decide(
        self,
        error: CircleCIError,
        method: str,
        elapsed: float,
        schedule: RetrySchedule,
        idempotent_override: bool | None = None,
    ) -> RetryDecision:
        """The answer for this kind of failure, before counting attempts."""
        cfg = self.config
        if isinstance(error, MaxWaitExceeded):  # the limiter itself refused to wait that long
            return RetryDecision(False, reason="rate-limit wait exceeds max_wait", exhausted=True)
        if isinstance(error, RateLimitExceeded):
            if error.retry_after is None:
                delay = extra = schedule.next_delay()
            elif self.max_wait is not None and error.retry_after > self.max_wait:
                return self._refuse(error.retry_after, "429 rate limited")
            elif error.gated:
                delay, extra = error.retry_after, 0.0  # waited at the limiter's gate
            else:
                return self._server_wait(error.retry_after, schedule, elapsed, "429 rate limited")
            return self._within_deadline(delay, extra, elapsed, "429 rate limited")

        idempotent = (
            self.is_idempotent(method) if idempotent_override is None else idempotent_override
        )
        if isinstance(error, ConnectError):
            return self._within_deadline(
                *_twice(schedule.next_delay()), elapsed, "connection failed"
            )
        if isinstance(error, APIError):
            if error.status not in cfg.retry_statuses:
                return RetryDecision(False, reason=f"status {error.status} is not retried")
            if not idempotent:
                return RetryDecision(False, reason=f"{method} is not idempotent")
            reason = (
                f"{'server error' if isinstance(error, ServerError) else 'status'} {error.status}"
            )
            return self._server_wait(_retry_after(error), schedule, elapsed, reason)
        if isinstance(error, TransportError) or (
            isinstance(error, IntegrityError) and error.retryable
        ):
            if not idempotent:
                return RetryDecision(False, reason=f"{method} may have reached the server")
            return self._within_deadline(*_twice(schedule.next_delay()), elapsed, "transport error")
        return RetryDecision(False, reason=f"{type(error).__name__} is not retried")

    def _server_wait(
        self, retry_after: float | None, schedule: RetrySchedule, elapsed: float, reason: str
    ) -> RetryDecision:
        """A wait the server asked for (at least the backoff), slept by the retry loop."""
        backoff_delay = schedule.next_delay()
        if not retry_after:
            return self._within_deadline(backoff_delay, backoff_delay, elapsed, reason)
        cap = self.max_wait
        if cap is not None and retry_after > cap:
            return self._refuse(retry_after, reason)
        delay = max(retry_after, backoff_delay)
        return self._within_deadline(delay, delay, elapsed, reason)

    def _refuse(self, retry_after: float, reason: str) -> RetryDecision:
        return RetryDecision(
            False,
            reason=f"{reason}; Retry-After {retry_after:g} s exceeds max_wait {self.max_wait:g} s",
            exhausted=True,
            refused_wait=retry_after,
        )

    def _within_deadline(
        self, wait: float, delay: float, elapsed: float, reason: str
    ) -> RetryDecision:
        deadline = self.config.deadline
        if deadline is not None and elapsed + wait > deadline:
            return RetryDecision(
                False, reason=f"{reason}; next attempt would pass the deadline", exhausted=True
            )
        return RetryDecision(True, delay=delay, reason=reason)


def _twice(value: float) -> tuple[float, float]:
    return value, value


def _retry_after(error: APIError) -> float | None:
    snapshot = error.rate_limit
    return snapshot.retry_after if snapshot is not None else None
