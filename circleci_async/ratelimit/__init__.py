"""Rate limiting: the header parser, the bucket arithmetic, and the async limiter."""

from __future__ import annotations

from .backends import InMemoryBackend, LimiterBackend, SharedBackend
from .bucket import BucketState, RateLimitView
from .headers import EMPTY_SNAPSHOT, Observation, RateLimitSnapshot, parse_rate_limit_headers
from .limiter import AdaptiveLimiter, shared_limiter

__all__ = [
    "EMPTY_SNAPSHOT",
    "AdaptiveLimiter",
    "BucketState",
    "InMemoryBackend",
    "LimiterBackend",
    "Observation",
    "RateLimitSnapshot",
    "RateLimitView",
    "SharedBackend",
    "parse_rate_limit_headers",
    "shared_limiter",
]
