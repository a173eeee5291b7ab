"""Counters a client keeps about its own traffic."""

from __future__ import annotations

import attrs

__all__ = ["ClientStats"]


@attrs.define
class ClientStats:
    #: HTTP requests sent (every attempt and every redirect hop counts).
    requests: int = 0
    #: Attempts that were retries of an earlier failed attempt.
    retries: int = 0
    #: 429 answers received.
    rate_limited: int = 0
    #: Seconds spent waiting: for the rate limiter and in retry backoff.
    waited: float = 0.0
    #: Calls that ended in an error after any retries.
    failures: int = 0
    #: Of ``requests``, those sent to origins that do not receive the token: the storage
    #: hosts artifact downloads are redirected to (pre-signed URLs, such as S3's).
    storage_requests: int = 0
