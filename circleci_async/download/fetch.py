"""One request for one artifact over HTTP: redirects followed here, credentials decided per hop.

Artifact URLs live on CircleCI's artifact host, which answers with a redirect to a short-lived
pre-signed storage URL (S3). aiohttp would forward ``Circle-Token`` to that host, so redirects
are followed by hand, at most ``max_redirects`` hops, and every hop asks
:meth:`TokenAuth.allows` again: the token goes to the API's origin and the configured artifact
origins (``https://*.circle-artifacts.com``) only, never to the storage host and never over
plain HTTP. Requests to those CircleCI origins also go through the client's rate limiter (they
count against the token's quota); transfers from the storage host do not.

Every request asks for ``Accept-Encoding: identity`` and reads the body undecoded, so that the
byte count matches ``Content-Length`` and ``Range`` offsets mean file offsets.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import Callable
from typing import Any, NoReturn

import aiohttp
import attrs
from yarl import URL

from .._redact import redact_url
from ..auth import TokenAuth
from ..errors import (
    APIError,
    CircleCIError,
    ConnectError,
    RequestTimeout,
    TransportError,
    error_for_status,
    extract_message,
)
from ..ratelimit.headers import parse_rate_limit_headers
from ..ratelimit.limiter import AdaptiveLimiter
from ..stats import ClientStats
from ._models import DownloadOptions
from .errors import DownloadError, TooManyRedirects

__all__ = ["ContentRange", "Fetcher", "Opened", "Retryable", "parse_content_range"]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Statuses worth another attempt: the server or a gateway may answer differently next time.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_BASE_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*$", re.IGNORECASE)


class Retryable(Exception):
    """A failure another attempt may cure; ``error`` is what the user sees if none does."""

    def __init__(self, error: CircleCIError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@attrs.frozen
class ContentRange:
    start: int | None
    end: int | None
    total: int | None


def parse_content_range(value: str | None) -> ContentRange | None:
    """``bytes 100-199/1000``, ``bytes */1000`` or ``bytes 0-9/*``; ``None`` if malformed."""
    if not value:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    first, last, total = match.groups()
    start = int(first) if first is not None else None
    end = int(last) if last is not None else None
    if start is not None and end is not None and end < start:
        return None
    return ContentRange(start, end, None if total == "*" else int(total))


@attrs.define
class Opened:
    """A response with its headers read and its body not yet: the caller streams it, then
    calls :meth:`close`."""

    response: aiohttp.ClientResponse
    url: URL
    hops: int
    _release_slot: Callable[[], None]

    def close(self, *, reuse: bool = True) -> None:
        """Give the connection back (``reuse`` once the body was read to the end) and free the
        per-host slot."""
        if reuse:
            self.response.release()
        else:
            self.response.close()
        self._release_slot()


class Fetcher:
    """Opens artifact URLs for the downloader; shared by every file of a batch."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        auth: TokenAuth,
        limiter: AdaptiveLimiter,
        stats: ClientStats,
        options: DownloadOptions,
        per_host: int,
    ) -> None:
        self._session = session
        self._auth = auth
        self._limiter = limiter
        self._stats = stats
        self._max_redirects = options.max_redirects
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=options.connect_timeout, sock_read=options.read_timeout
        )
        self._per_host = per_host
        #: Per origin: its slots, and whether it is a CircleCI host (gets the token, counts
        #: against the rate limit).
        self._origins: dict[tuple[str, str | None, int | None], tuple[asyncio.Semaphore, bool]] = {}

    def _origin(self, url: URL) -> tuple[asyncio.Semaphore, bool]:
        key = (url.scheme, url.host, url.port)
        known = self._origins.get(key)
        if known is None:
            known = (asyncio.Semaphore(self._per_host), self._auth.allows(url))
            if len(self._origins) < 4096:
                self._origins[key] = known
        return known

    async def open(self, url: URL, *, offset: int = 0, validator: str | None = None) -> Opened:
        """GET ``url`` (from ``offset``), following redirects; the final response's status is
        200, 206 or 416. Raises :class:`Retryable` for what may pass, other errors for what will
        not."""
        headers = _BASE_HEADERS
        if offset > 0:
            headers = {**_BASE_HEADERS, "Range": f"bytes={offset}-"}
            if validator:
                headers["If-Range"] = validator
        hops = 0
        while True:
            slot, circleci = self._origin(url)
            hop_headers = {**headers, **self._auth.headers_for(url)} if circleci else headers
            await slot.acquire()
            try:
                response = await self._send(url, hop_headers, circleci)
            except BaseException:
                slot.release()
                raise
            status = response.status
            if status in REDIRECTS:
                location = response.headers.get("Location")
                try:
                    await _drain_small(response)
                finally:
                    response.release()
                    slot.release()
                if not location:
                    raise DownloadError(
                        f"HTTP {status} redirect without a Location header", url=url, method="GET"
                    )
                hops += 1
                if hops > self._max_redirects:
                    raise TooManyRedirects(
                        f"more than {self._max_redirects} redirects (a redirect loop?)",
                        method="GET",
                        url=url,
                    )
                try:
                    target = response.url.join(URL(location))
                except ValueError:
                    raise DownloadError(
                        "the redirect Location is not a valid URL", method="GET", url=url
                    ) from None
                if target.scheme not in ("http", "https") or not target.host:
                    raise DownloadError(
                        f"refusing to follow a redirect to a {target.scheme or 'relative'!r} URL",
                        method="GET",
                        url=url,
                    )
                url = target
                continue
            if status in (200, 206, 416):
                return Opened(response, url, hops, slot.release)
            try:
                raise await _status_error(response, url)
            finally:
                response.close()
                slot.release()

    async def _send(
        self, url: URL, headers: dict[str, str], circleci: bool
    ) -> aiohttp.ClientResponse:
        self._stats.requests += 1
        limiter = self._limiter if circleci else None
        if limiter is not None:
            self._stats.waited += await limiter.acquire()
        try:
            response = await self._session.get(
                url,
                headers=headers,
                allow_redirects=False,
                timeout=self._timeout,
                auto_decompress=False,
            )
        except BaseException as exc:
            if limiter is not None:
                await limiter.release()
            if isinstance(exc, Exception):
                raise_transport_error(exc, url)
            raise
        if limiter is not None:
            try:
                snapshot = parse_rate_limit_headers(response.headers, status=response.status)
                await limiter.observe(snapshot, status=response.status)
            finally:
                await limiter.release()
        if response.status == 429:
            self._stats.rate_limited += 1
        return response


async def _drain_small(response: aiohttp.ClientResponse) -> None:
    """Read a redirect's (small) body so its connection can be reused; a big or broken one
    just costs the connection."""
    length = response.content_length
    if length is not None and length <= 65536:
        try:
            await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            response.close()


async def _status_error(response: aiohttp.ClientResponse, url: URL) -> BaseException:
    """The error for a final status: :class:`Retryable` around it when worth retrying."""
    status = response.status
    try:
        body = await asyncio.wait_for(response.content.read(4096), 5.0)
    except (aiohttp.ClientError, asyncio.TimeoutError):
        body = b""
    error: APIError = error_for_status(status)(
        _message(status, body),
        status=status,
        method="GET",
        url=url,
        body=body,
        request_id=response.headers.get("X-Request-Id") or response.headers.get("x-amz-request-id"),
    )
    if status in RETRY_STATUSES:
        return Retryable(error, retry_after=_retry_after(response.headers.get("Retry-After")))
    return error


def _message(status: int, body: bytes) -> str:
    if body.lstrip()[:1] in (b"{", b"["):
        try:
            return extract_message(body, json.loads(body))
        except ValueError:
            pass
    if b"<Code>" in body:  # an S3 XML error: <Error><Code>AccessDenied</Code><Message>...
        code = re.search(rb"<Code>([^<]{1,100})</Code>", body)
        text = re.search(rb"<Message>([^<]{1,300})</Message>", body)
        parts = [m.group(1).decode("utf-8", "replace") for m in (code, text) if m is not None]
        if parts:
            return ": ".join(parts)
    if body.lstrip()[:1] == b"<":
        return f"HTTP {status} with an HTML or XML body"
    return extract_message(body)


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def raise_transport_error(exc: Exception, url: URL) -> NoReturn:
    """Raise the library's error for an aiohttp/network exception: :class:`Retryable` unless the
    failure cannot pass by itself (a bad certificate, an invalid URL)."""
    where = redact_url(url)
    if isinstance(exc, (aiohttp.ClientSSLError, ssl.SSLCertVerificationError)):
        raise ConnectError(f"TLS verification failed: {exc}", method="GET", url=url) from None
    if isinstance(exc, aiohttp.InvalidURL):
        raise DownloadError(f"invalid URL: {where}", method="GET", url=url) from None
    error: CircleCIError
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        error = ConnectError(f"could not connect: {_describe(exc)}", method="GET", url=url)
    elif isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        error = RequestTimeout(f"timed out: {_describe(exc)}", method="GET", url=url)
    elif isinstance(exc, aiohttp.ClientPayloadError):
        error = TransportError(
            f"the connection closed before the whole body arrived: {_describe(exc)}",
            method="GET",
            url=url,
        )
    elif isinstance(exc, (aiohttp.ClientError, ConnectionError)):
        error = TransportError(f"connection failed: {_describe(exc)}", method="GET", url=url)
    else:
        raise exc
    raise Retryable(error) from None


def _describe(exc: BaseException) -> str:
    """Class and message, without ``request_info`` (it holds request headers)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: {exc.message}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def html_expected(path: str) -> bool:
    return path.lower().rsplit(".", 1)[-1] in ("html", "htm", "xhtml", "xht", "shtml")


def is_html(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() in ("text/html", "application/xhtml+xml")


def strong_validator(headers: Any) -> str | None:
    """The value for ``If-Range``: a strong ETag, else Last-Modified, else ``None``."""
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return str(etag)
    modified = headers.get("Last-Modified")
    return str(modified) if modified else None
