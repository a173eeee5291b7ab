"""Client settings as frozen attrs classes, validated at construction."""

from __future__ import annotations

from typing import Any

import attrs
from attrs import validators as v

__all__ = ["RateLimitConfig", "RetryConfig", "Timeouts"]


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _optional_positive(instance: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None:
        _positive(instance, attribute, value)


@attrs.frozen
class Timeouts:
    """Per-attempt timeouts in seconds (``None`` disables one).

    ``total`` bounds one attempt of an API call; the overall bound across retries is
    :attr:`RetryConfig.deadline`. ``sock_read`` is the longest silence while reading a response:
    off by default, because API answers are small and ``total`` already bounds them, while its
    timer is re-armed on every read (artifact downloads set their own read timeout).
    """

    total: float | None = attrs.field(default=60.0, validator=_optional_positive)
    connect: float | None = attrs.field(default=10.0, validator=_optional_positive)
    sock_read: float | None = attrs.field(default=None, validator=_optional_positive)


@attrs.frozen
class RetryConfig:
    """When and how failed requests are retried.

    A 429 is always retried (the server refused it, so nothing happened). 5xx answers, timeouts
    and dropped connections are retried only for idempotent methods: CircleCI has no idempotency
    keys, so a retried POST could start a second pipeline. Connection failures before anything
    was sent are retried for every method.
    """

    max_attempts: int = attrs.field(default=5, validator=v.ge(1))
    #: Overall bound in seconds for one call, waits included. A retry whose wait would end after
    #: the deadline is not attempted: the last error is raised instead.
    deadline: float | None = attrs.field(default=300.0, validator=_optional_positive)
    backoff_base: float = attrs.field(default=0.5, validator=_positive)
    backoff_max: float = attrs.field(default=30.0, validator=_positive)
    #: Error statuses worth another attempt (429 is always retried). The one set for API calls
    #: and artifact downloads: a gateway or the storage host may answer differently next time.
    retry_statuses: frozenset[int] = frozenset({408, 425, 500, 502, 503, 504})
    idempotent_methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
    #: Server-requested waits (``Retry-After``, from any status) are bounded by
    #: :attr:`RateLimitConfig.max_wait`; this, if set, only tightens that bound for retries.
    max_retry_after: float | None = attrs.field(default=None, validator=_optional_positive)


@attrs.frozen
class RateLimitConfig:
    """The client-side limiter's knobs (concurrency is a separate knob on the client).

    Before the server has sent any rate-limit header, requests are paced at ``initial_rate`` per
    second with bursts of ``burst``: polite, and quickly replaced by what the server advertises.
    ``None`` sends unpaced until the server says otherwise (for servers without limits).
    """

    initial_rate: float | None = attrs.field(default=10.0, validator=_optional_positive)
    burst: int = attrs.field(default=10, validator=v.ge(1))
    #: The longest the client waits for one request: the limiter's wait for a slot (a daily
    #: window exhausted) and any wait a server asks for with ``Retry-After`` (429, 503 or any
    #: other status). A longer one raises instead of sleeping (``MaxWaitExceeded`` for a 429,
    #: the status's error saying so otherwise), and a ``Retry-After`` never holds the other
    #: requests for longer than this. ``None``: wait as long as asked (capped at ten years).
    max_wait: float | None = attrs.field(default=900.0, validator=_optional_positive)
    #: Requests kept unused in every advertised window, as a margin for clock and ordering jitter.
    reserve: int = attrs.field(default=1, validator=v.ge(0))
    #: The floor of the rate after repeated 429s that come without any header.
    min_rate: float = attrs.field(default=0.2, validator=_positive)
    #: Seconds to climb back from a halved rate to ``initial_rate`` after a header-less 429.
    recovery: float = attrs.field(default=30.0, validator=_positive)
