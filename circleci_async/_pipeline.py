"""The request pipeline: concurrency slot -> limiter -> send (following redirects, credentials
decided per hop) -> learn from headers -> decode or map the error -> retry decision.

Each step's logic lives in its own module (auth, ratelimit, retry, errors); this one only puts
them in order and keeps the counters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from yarl import URL

from . import _json
from ._redact import redact_url
from ._slots import Slots
from .auth import TokenAuth
from .config import RetryConfig
from .errors import (
    APIError,
    CircleCIError,
    DecodeError,
    RateLimitExceeded,
    error_for_status,
    extract_message,
)
from .ratelimit.headers import EMPTY_SNAPSHOT, RateLimitSnapshot, parse_rate_limit_headers
from .ratelimit.limiter import AdaptiveLimiter
from .retry import RetryPolicy, RetrySchedule
from .stats import ClientStats
from .transport import Request, Response, Transport

__all__ = ["RequestPipeline"]

logger = logging.getLogger("circleci_async")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_URL_CACHE_SIZE = 1024
_ACCEPT = {"Accept": "application/json"}
_JSON_NO_AUTH = {**_ACCEPT, "Content-Type": "application/json"}


class RequestPipeline:
    def __init__(
        self,
        *,
        base_url: URL,
        auth: TokenAuth,
        transport: Transport,
        limiter: AdaptiveLimiter,
        retry: RetryConfig,
        max_concurrency: int,
        stats: ClientStats,
        max_redirects: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url
        self._base = str(base_url).rstrip("/")
        self.auth = auth
        self.transport = transport
        self.limiter = limiter
        self.policy = RetryPolicy(retry)
        self.stats = stats
        self._slots = Slots(max_concurrency)
        self._max_redirects = max_redirects
        self._clock = clock
        self._sleep = sleep
        self._urls: dict[str, URL] = {}
        self._trusted: set[URL] = set()  # cached URLs whose origin may receive the token
        self._api_headers = {**_ACCEPT, **auth.headers_for(base_url)}
        self._api_json_headers = {**self._api_headers, "Content-Type": "application/json"}

    def url_for(self, path: str) -> URL:
        """An absolute URL for a path relative to the base URL (slugs keep their ``/``)."""
        url = self._urls.get(path)
        if url is None:
            if path.startswith(("https://", "http://")):
                url = URL(path)
            else:
                quoted = quote(path.lstrip("/"), safe=_PATH_SAFE)
                url = URL(f"{self._base}/{quoted}", encoded=True)
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
                self._trusted.clear()
            self._urls[path] = url
            if self.auth.allows(url):
                self._trusted.add(url)
        return url

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        method = method.upper()
        url = self.url_for(path)
        body = _json.dumps(json) if json is not None else None
        start = self._clock()
        schedule: RetrySchedule | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(method, url, params, body)
            except CircleCIError as exc:
                if schedule is None:
                    schedule = RetrySchedule(self.policy.config)
                decision = self.policy.decide(
                    exc,
                    method=method,
                    attempt=attempt,
                    elapsed=self._clock() - start,
                    schedule=schedule,
                )
                if not decision.retry:
                    self.stats.failures += 1
                    if attempt > 1:
                        logger.info("giving up on %s %s: %s", method, exc.url, decision.reason)
                    raise
                self.stats.retries += 1
                logger.info(
                    "retrying %s %s (attempt %d) in %.2f s: %s",
                    method,
                    exc.url,
                    attempt + 1,
                    decision.delay,
                    decision.reason,
                )
                if decision.delay > 0:
                    self.stats.waited += decision.delay
                    await self._sleep(decision.delay)

    async def _attempt(
        self, method: str, url: URL, params: Mapping[str, Any] | None, body: bytes | None
    ) -> Any:
        """One attempt: a concurrency slot, a rate slot, the redirect chain, the decoding."""
        slots = self._slots
        if not slots.try_take():
            await slots.take()
        try:
            limiter = self.limiter
            if not limiter.try_acquire_nowait():
                self.stats.waited += await limiter.acquire()
            try:
                hops = 0
                debug = logger.isEnabledFor(logging.DEBUG)
                # Paths under the base URL are the API's own origin; absolute URLs and
                # redirect targets are checked.
                headers = (
                    (self._api_json_headers if body is not None else self._api_headers)
                    if url in self._trusted
                    else self._headers_for(url, body is not None)
                )
                while True:
                    self.stats.requests += 1
                    sent_at = self._clock() if debug else 0.0
                    request = Request(method, url, headers, params, body)
                    response = await self.transport.send(request)
                    status = response.status
                    if 200 <= status < 300 and limiter.may_skip():
                        limiter.defer(response.headers, status)
                        snapshot = EMPTY_SNAPSHOT
                    else:
                        snapshot = parse_rate_limit_headers(response.headers, status=status)
                        limiter.observe_nowait(snapshot, status=status)
                    if debug:
                        elapsed_ms = (self._clock() - sent_at) * 1000
                        logger.debug(
                            "%s %s -> %d in %.1f ms", method, redact_url(url), status, elapsed_ms
                        )
                    if status == 429:
                        self.stats.rate_limited += 1
                    if status not in _REDIRECTS or hops >= self._max_redirects:
                        return _decode(method, response, snapshot)
                    location = response.headers.get("Location")
                    if not location:
                        return _decode(method, response, snapshot)
                    hops += 1
                    url = response.url.join(URL(location))
                    params = None  # the Location carries its own query
                    if url.scheme not in ("http", "https"):
                        raise APIError(
                            f"refusing to follow a redirect to a {url.scheme!r} URL",
                            status=status,
                            method=method,
                            url=response.url,
                        )
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, body = "GET", None
                    headers = self._headers_for(url, body is not None)
            finally:
                limiter.release_nowait()
        finally:
            slots.give()

    def _headers_for(self, url: URL, has_body: bool) -> Mapping[str, str]:
        """Credentials only where :class:`TokenAuth` allows them, decided again on every hop."""
        if self.auth.allows(url):
            return self._api_json_headers if has_body else self._api_headers
        return _JSON_NO_AUTH if has_body else _ACCEPT


def _decode(method: str, response: Response, snapshot: RateLimitSnapshot) -> Any:
    """The decoded body of a success, or the error an error status maps to."""
    status, body = response.status, response.body
    if 200 <= status < 300:
        if status == 204 or not body:
            return None
        try:
            return _json.loads(body)
        except _json.JSONDecodeError as exc:
            raise DecodeError(
                f"the response is not valid JSON ({exc})",
                method=method,
                url=response.url,
                status=status,
                body=body,
            ) from None
    decoded: Any = None
    if body[:1] in (b"{", b"["):
        try:
            decoded = _json.loads(body)
        except _json.JSONDecodeError:
            decoded = None
    message = extract_message(body, decoded)
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "url": response.url,
        "body": body,
        "request_id": response.headers.get("X-Request-Id"),
        "rate_limit": snapshot,
    }
    cls = error_for_status(status)
    if cls is RateLimitExceeded:
        raise RateLimitExceeded(message, retry_after=snapshot.retry_after, **kwargs)
    if 300 <= status < 400:
        message = f"unexpected redirect ({message})"
    raise cls(message, **kwargs)
