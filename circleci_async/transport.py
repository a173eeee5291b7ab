"""The HTTP boundary: one method, ``send(Request) -> Response``, implemented over aiohttp.

Everything above it (limiter, retries, auth per hop, error mapping) is written against the
:class:`Transport` protocol, so another HTTP stack is one small class. aiohttp exceptions are
translated here into the library's own, split by whether the request can have reached the
server (which decides whether a POST may be retried).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ._version import __version__
from .config import Timeouts
from .errors import ConfigurationError, ConnectError, RequestTimeout, TransportError

__all__ = ["USER_AGENT", "AiohttpTransport", "Request", "Response", "Transport"]

USER_AGENT = f"circleci-async/{__version__} aiohttp/{aiohttp.__version__}"


class Request:
    """What to send. (A plain slotted class: one is built per request.)"""

    __slots__ = ("body", "headers", "method", "params", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.params = params
        self.body = body

    def __repr__(self) -> str:  # no headers: they hold the token
        return f"Request({self.method} {self.url})"


class Response:
    """A whole response: status, headers, the body read to the end, the final URL."""

    __slots__ = ("body", "headers", "status", "url")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes, url: URL) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    def __repr__(self) -> str:
        return f"Response({self.status} {self.url}, {len(self.body)} bytes)"


class Transport(Protocol):
    async def send(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` and its connection pool.

    A session passed in is used as is and left open on :meth:`close` (its owner closes it).
    Redirects are not followed here: the pipeline follows them so that credentials are decided
    per hop.
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        pool_size: int = 100,
        pool_size_per_host: int = 0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        timeouts = timeouts or Timeouts()
        self._timeout = aiohttp.ClientTimeout(
            total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.sock_read
        )
        self._pool = (pool_size, pool_size_per_host)
        self._session = session
        self._owns_session = session is None
        self._closed = False

    @property
    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (it must be created inside a running loop)."""
        if self._closed:
            raise ConfigurationError("this client is closed")
        if self._session is None:
            limit, per_host = self._pool
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=limit, limit_per_host=per_host),
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                # Tokens are sent per request by the pipeline, never as session headers (those
                # ride along on every redirect hop). No cookies: the API is stateless.
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
            )
        return self._session

    async def send(self, request: Request) -> Response:
        session = self._session if self._session is not None and not self._closed else self.session
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.params,
                data=request.body,
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                return Response(resp.status, resp.headers, body, resp.url)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ConnectError(
                f"could not connect: {_describe(exc)}", method=request.method, url=request.url
            ) from None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(
                f"timed out: {_describe(exc)}", method=request.method, url=request.url
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"connection failed: {_describe(exc)}", method=request.method, url=request.url
            ) from None

    async def close(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


def _describe(exc: BaseException) -> str:
    """The exception's class and message, without ``request_info`` (it holds request headers)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__}: {exc.message}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
