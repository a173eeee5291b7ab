"""What a client's internals share, as one explicit object: the request pipeline, the rate
limiter, the counters, the credentials, the transport, and what must be closed with the client.

Namespaces, the downloader, the mirror and watchers receive this object (``cci.core``) instead
of reaching into the client's private attributes. It is created with the client; the pipeline
and the limiter are built on first use, inside the running event loop (the process-wide limiter
is per loop).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from yarl import URL

from ._observe import Observer, Observers
from .auth import TokenAuth
from .config import RateLimitConfig, RetryConfig
from .errors import ConfigurationError
from .ratelimit.backends import LimiterBackend
from .ratelimit.limiter import AdaptiveLimiter, shared_limiter
from .stats import ClientStats
from .transport import Transport

if TYPE_CHECKING:
    from ._pipeline import RequestPipeline

__all__ = ["ClientCore", "Closable"]


class Closable(Protocol):
    """Something that runs until its client closes it (a watcher)."""

    async def aclose(self) -> None: ...


class ClientCore:
    """One client's shared internals; see the module docstring."""

    def __init__(
        self,
        *,
        base_url: URL,
        auth: TokenAuth,
        transport: Transport,
        retry: RetryConfig,
        rate_limit: RateLimitConfig,
        max_concurrency: int,
        limiter: AdaptiveLimiter | None = None,
        limiter_backend: LimiterBackend | None = None,
        observers: Iterable[Observer] = (),
    ) -> None:
        self.base_url = base_url
        self.auth = auth
        self.transport = transport
        self.retry = retry
        self.rate_config = rate_limit
        self.max_concurrency = max_concurrency
        self.stats = ClientStats()
        #: Who receives this client's events (``circleci_async.events``); usually empty, and
        #: then no event is built.
        self.observers = observers if isinstance(observers, Observers) else Observers(observers)
        self._limiter = limiter
        self._limiter_backend = limiter_backend
        self._pipeline: RequestPipeline | None = None
        self._closables: weakref.WeakSet[Closable] = weakref.WeakSet()
        self.closed = False

    @property
    def limiter(self) -> AdaptiveLimiter:
        """The rate limiter (the process-wide one for this token and API origin, on the
        ``limiter_backend`` if one was given, unless a limiter was passed in); created on first
        use."""
        if self._limiter is None:
            origin = str(self.base_url.origin())
            self._limiter = shared_limiter(
                self.auth.fingerprint, origin, self.rate_config, backend=self._limiter_backend
            )
        return self._limiter

    @property
    def limiter_if_created(self) -> AdaptiveLimiter | None:
        return self._limiter

    @property
    def pipeline(self) -> RequestPipeline:
        """The request pipeline every call (``request``) and download (``stream``) goes
        through; created on first use."""
        pipeline = self._pipeline
        if pipeline is None:
            if self.closed:
                raise ConfigurationError("this client is closed")
            from ._pipeline import RequestPipeline

            pipeline = self._pipeline = RequestPipeline(
                base_url=self.base_url,
                auth=self.auth,
                transport=self.transport,
                limiter=self.limiter,
                retry=self.retry,
                max_concurrency=self.max_concurrency,
                stats=self.stats,
                observers=self.observers,
            )
        return pipeline

    def register(self, closable: Closable) -> None:
        """Close ``closable`` when the client closes (held weakly)."""
        self._closables.add(closable)

    def unregister(self, closable: Closable) -> None:
        self._closables.discard(closable)

    async def close(self) -> None:
        """Close what was registered, let the limiter's backend hear the last answers, then
        close the transport."""
        self.closed = True
        for closable in list(self._closables):
            await closable.aclose()
        if self._limiter is not None:
            await self._limiter.settle()
        await self.transport.close()
