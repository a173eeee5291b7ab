"""circleci_async: an asyncio client for the CircleCI API v2 and the runner API."""

from __future__ import annotations

from . import errors
from ._version import __version__
from .client import DEFAULT_BASE_URL, RUNNER_BASE_URL, CircleCI
from .config import RateLimitConfig, RetryConfig, Timeouts
from .errors import (
    APIError,
    CircleCIError,
    ConfigurationError,
    DecodeError,
    DownloadError,
    MaxWaitExceeded,
    NotFound,
    PaginationError,
    RateLimitExceeded,
    ResponseTooLarge,
    TooManyRedirects,
    TransportError,
    Unauthorized,
    WaitTimeout,
)
from .pagination import AsyncPaginator, Page
from .ratelimit import AdaptiveLimiter, RateLimitView
from .resources import OMITTED_OPERATIONS, Operation, operations
from .stats import ClientStats
from .waiting import PipelineOutcome, PollSchedule
from .watching import StateChange, Watcher

__all__ = [
    "DEFAULT_BASE_URL",
    "OMITTED_OPERATIONS",
    "RUNNER_BASE_URL",
    "APIError",
    "AdaptiveLimiter",
    "AsyncPaginator",
    "CircleCI",
    "CircleCIError",
    "ClientStats",
    "ConfigurationError",
    "DecodeError",
    "DownloadError",
    "MaxWaitExceeded",
    "NotFound",
    "Operation",
    "Page",
    "PaginationError",
    "PipelineOutcome",
    "PollSchedule",
    "RateLimitConfig",
    "RateLimitExceeded",
    "RateLimitView",
    "ResponseTooLarge",
    "RetryConfig",
    "StateChange",
    "Timeouts",
    "TooManyRedirects",
    "TransportError",
    "Unauthorized",
    "WaitTimeout",
    "Watcher",
    "__version__",
    "errors",
    "operations",
]
