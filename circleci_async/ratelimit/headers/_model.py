"""What a response said about rate limits: one :class:`Observation` per constraint a dialect
described, gathered in a :class:`RateLimitSnapshot`; plain values, no parsing."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "EMPTY_SNAPSHOT",
    "SOURCE_IETF_DICT",
    "SOURCE_IETF_FIELDS",
    "SOURCE_IETF_LIST",
    "SOURCE_X",
    "SOURCE_X_WINDOW",
    "Observation",
    "RateLimitSnapshot",
]

SOURCE_IETF_LIST: Final = "ietf-list"
SOURCE_IETF_DICT: Final = "ietf-dict"
SOURCE_IETF_FIELDS: Final = "ietf-fields"
SOURCE_X: Final = "x-ratelimit"
SOURCE_X_WINDOW: Final = "x-ratelimit-window"


@attrs.frozen(slots=True)
class Observation:
    """One rate-limit constraint as one header dialect described it.

    ``used`` is an addition to the agreed shape: ``X-RateLimit-Used`` may arrive without a limit,
    and this is the only place to keep it.
    """

    source: str
    policy: str | None
    window: float | None
    limit: int | None
    remaining: int | None
    reset_after: float | None
    used: int | None = None


@attrs.frozen(slots=True)
class RateLimitSnapshot:
    """Everything one response said about rate limits; falsy when it said nothing usable."""

    observations: tuple[Observation, ...] = ()
    retry_after: float | None = None
    server_date: float | None = None

    def __bool__(self) -> bool:
        return bool(self.observations) or self.retry_after is not None


EMPTY_SNAPSHOT: Final = RateLimitSnapshot()
