"""Typed events: what a client does, as it does it, for observers.

``CircleCI(..., observers=[callback, ...])``: each callback receives every event below, one at
a time, synchronously, in the task that caused it (so it must not block: hand slow work to a
queue). An observer that raises is logged once and otherwise ignored; the request goes on.
Nothing here is built when no observer is registered.

URLs in events are redacted (credentials and presigned-URL signatures replaced by ``***``),
query string included. Tokens never appear in an event.

Correlation: ``call`` numbers one logical call (an API call with its retries and redirects, or
one streamed download attempt with its redirects): :class:`CallStarted` and
:class:`CallFinished` bracket the hops (:class:`RequestSent`, then :class:`ResponseReceived` or
:class:`RequestFailed`) and the waits and retries in between. ``operation`` is the spec's
operation id of the namespace method that made the call (``getPipelineById``), when known.
"""

from __future__ import annotations

from typing import Literal

import attrs

from .ratelimit.bucket import RateLimitView
from .ratelimit.headers import RateLimitSnapshot

__all__ = [
    "CallFinished",
    "CallStarted",
    "Deprecation",
    "DownloadFailed",
    "DownloadFinished",
    "DownloadProgressed",
    "DownloadStarted",
    "Event",
    "LimiterBackendDown",
    "LimiterBackendUp",
    "PoolWait",
    "RateLimitChanged",
    "RateLimitWait",
    "RateLimited",
    "RequestFailed",
    "RequestSent",
    "ResponseReceived",
    "RetryScheduled",
    "WaitReason",
]

#: Why the limiter held a request: ``pace`` (spreading the budget over the window), ``gate``
#: (a Retry-After or an exhausted window holds every request), ``probe`` (the first request
#: goes alone, its answer sets the pace), ``backend`` (waiting on a shared backend's answer).
WaitReason = Literal["pace", "gate", "probe", "backend"]


@attrs.frozen
class CallStarted:
    """A logical call begins (before any rate-limit wait)."""

    call: int
    operation: str | None
    method: str
    url: str


@attrs.frozen
class CallFinished:
    """A logical call ended: ``error_type`` is the library error's class name, or ``None``."""

    call: int
    operation: str | None
    method: str
    url: str
    attempts: int
    duration: float
    status: int | None
    error_type: str | None


@attrs.frozen
class RequestSent:
    """One HTTP request leaves: ``hop`` counts redirects followed (0 first), ``attempt`` the
    call's attempts (1 first)."""

    call: int
    operation: str | None
    method: str
    url: str
    hop: int
    attempt: int
    server_address: str
    server_port: int | None


@attrs.frozen
class ResponseReceived:
    """Its status and headers arrived. ``bytes``: the body's length (a stream's announced
    ``Content-Length``; ``None`` if unknown). ``rate_limit``: what its headers said about the
    rate limit, when they were read (a success far from every limit may go unread)."""

    call: int
    operation: str | None
    method: str
    url: str
    hop: int
    attempt: int
    status: int
    duration: float
    bytes: int | None
    server_address: str
    server_port: int | None
    rate_limit: RateLimitSnapshot | None = None


@attrs.frozen
class RequestFailed:
    """The request got no response (connection, timeout, protocol): ``error_type`` is the
    library error's class name."""

    call: int
    operation: str | None
    method: str
    url: str
    hop: int
    attempt: int
    error_type: str
    message: str
    duration: float
    server_address: str
    server_port: int | None


@attrs.frozen
class RetryScheduled:
    """A failed attempt will be tried again after ``delay`` seconds (``attempt``: the number
    of the attempt to come). ``reason`` says why it is retried."""

    call: int
    operation: str | None
    method: str
    url: str
    attempt: int
    delay: float
    reason: str
    error_type: str


@attrs.frozen
class RateLimitWait:
    """The limiter held a request for ``seconds`` (see :data:`WaitReason`)."""

    call: int
    operation: str | None
    seconds: float
    why: WaitReason


@attrs.frozen
class RateLimited:
    """A 429 answer; ``retry_after`` is its Retry-After in seconds, if it had one."""

    call: int
    operation: str | None
    method: str
    url: str
    retry_after: float | None


@attrs.frozen
class RateLimitChanged:
    """The binding window changed (another window binds, its limit changed, a gate closed or
    opened): ``view`` is the limiter's merged view after the response that changed it."""

    view: RateLimitView
    previous: RateLimitView | None


@attrs.frozen
class PoolWait:
    """A request waited ``seconds`` for a free connection of the pool (aiohttp's
    ``on_connection_queued_start`` / ``_end`` trace signals)."""

    seconds: float


@attrs.frozen
class Deprecation:
    """A response carried ``Deprecation`` and/or ``Sunset`` headers (their values as sent);
    ``link`` is a ``Link`` header's value, which may point at the deprecation notice."""

    operation: str | None
    method: str
    url: str
    deprecation: str | None
    sunset: str | None
    link: str | None


@attrs.frozen
class DownloadStarted:
    """A file's body starts arriving: ``total`` bytes expected (``None``: unknown),
    ``resumed_from`` bytes already on disk from an earlier attempt or run."""

    path: str
    url: str
    total: int | None
    resumed_from: int


@attrs.frozen
class DownloadProgressed:
    """``bytes`` of the file are written so far (every 256 KiB or so)."""

    path: str
    bytes: int
    total: int | None


@attrs.frozen
class DownloadFinished:
    """A file is complete (``status``: ``downloaded`` or ``skipped``); ``bytes`` its size,
    ``transferred`` what came over the network in this run."""

    path: str
    status: str
    bytes: int
    transferred: int
    attempts: int
    duration: float


@attrs.frozen
class DownloadFailed:
    """A file could not be downloaded; ``transferred`` bytes came before it gave up."""

    path: str
    error_type: str
    message: str
    transferred: int
    attempts: int
    duration: float


@attrs.frozen
class LimiterBackendDown:
    """A shared limiter backend (Redis) stopped answering; the limiter falls back as configured."""

    backend: str
    error: str


@attrs.frozen
class LimiterBackendUp:
    """A shared limiter backend answers again, after ``down_for`` seconds."""

    backend: str
    down_for: float


Event = (
    CallStarted
    | CallFinished
    | RequestSent
    | ResponseReceived
    | RequestFailed
    | RetryScheduled
    | RateLimitWait
    | RateLimited
    | RateLimitChanged
    | PoolWait
    | Deprecation
    | DownloadStarted
    | DownloadProgressed
    | DownloadFinished
    | DownloadFailed
    | LimiterBackendDown
    | LimiterBackendUp
)
