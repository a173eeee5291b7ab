"""circleci_async: an asyncio client for the CircleCI API v2 and the runner API.

The public names are imported when first used (a module ``__getattr__``), so ``import
circleci_async`` and the command line's ``--help`` and ``--version`` load neither aiohttp nor the
client until something needs them; ``from circleci_async import CircleCI`` works as ever.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import errors
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

#: Public name → the module that defines it (imported on first use).
_LAZY = {
    "DEFAULT_BASE_URL": ".client",
    "RUNNER_BASE_URL": ".client",
    "CircleCI": ".client",
    "RateLimitConfig": ".config",
    "RetryConfig": ".config",
    "Timeouts": ".config",
    "APIError": ".errors",
    "CircleCIError": ".errors",
    "ConfigurationError": ".errors",
    "DecodeError": ".errors",
    "DownloadError": ".errors",
    "MaxWaitExceeded": ".errors",
    "NotFound": ".errors",
    "PaginationError": ".errors",
    "RateLimitExceeded": ".errors",
    "ResponseTooLarge": ".errors",
    "TooManyRedirects": ".errors",
    "TransportError": ".errors",
    "Unauthorized": ".errors",
    "WaitTimeout": ".errors",
    "AsyncPaginator": ".pagination",
    "Page": ".pagination",
    "AdaptiveLimiter": ".ratelimit",
    "RateLimitView": ".ratelimit",
    "OMITTED_OPERATIONS": ".resources",
    "Operation": ".resources",
    "operations": ".resources",
    "ClientStats": ".stats",
    "PipelineOutcome": ".waiting",
    "PollSchedule": ".waiting",
    "StateChange": ".watching",
    "Watcher": ".watching",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, and keep the name here."""
    if name == "errors":
        value: Any = importlib.import_module(".errors", __name__)
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
