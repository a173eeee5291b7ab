"""The HTTP boundary: ``send(Request) -> Response`` for API calls, ``stream(Request)`` for bodies
read as they arrive (artifact downloads), implemented over aiohttp.

Everything above it (limiter, retries, auth per hop, redirects, error mapping) is written
against the :class:`Transport` protocol, so another HTTP stack is one small class. aiohttp
exceptions are translated here, and only here, into the library's own, split by whether the
request can have reached the server (which decides whether a POST may be retried). The
translated error keeps a :class:`~circleci_async.errors.SanitizedCause` as its cause, never the
aiohttp exception itself (it holds ``request_info``, the request headers and so the token), and
is raised outside the ``except`` block so that ``__context__`` does not hold it either.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, Protocol

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ._version import __version__
from .config import Timeouts
from .errors import (
    CircleCIError,
    ConfigurationError,
    ConnectError,
    RequestTimeout,
    ResponseTooLarge,
    SanitizedCause,
    TransportError,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "USER_AGENT",
    "AiohttpTransport",
    "ChunkReader",
    "Request",
    "Response",
    "StreamedResponse",
    "Transport",
]

USER_AGENT = f"circleci-async/{__version__} aiohttp/{aiohttp.__version__}"

#: The largest API response body accepted, once decompressed (bytes): the longest CircleCI
#: page is a few MiB; a bigger answer is a broken or hostile server.
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024

#: Header names that carry credentials: a session sending one by default leaks it on redirects.
CREDENTIAL_HEADERS = frozenset({"circle-token", "authorization"})


class Request:
    """What to send. (A plain slotted class: one is built per request.) ``timeouts`` overrides
    the transport's own for this request (downloads: no total, a read timeout)."""

    __slots__ = ("body", "headers", "method", "params", "timeouts", "url")

    def __init__(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.params = params
        self.body = body
        self.timeouts = timeouts

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


class ChunkReader(Protocol):
    def readchunk(self) -> Awaitable[tuple[bytes, bool]]:
        """The next chunk as it arrived and whether it ended an HTTP chunk; ``b""`` at the end."""
        ...


class StreamedResponse(Protocol):
    """A response whose status and headers are read and whose body is not yet.

    The body is read undecoded (no ``Content-Encoding`` applied), so byte counts match
    ``Content-Length`` and ``Range`` offsets. ``content.readchunk()`` is the stack's own reader
    (no wrapper per chunk); an exception it raises is one of ``read_errors``, and
    :meth:`body_error` turns it into the library's error.
    """

    status: int
    headers: CIMultiDictProxy[str]
    content_length: int | None
    read_errors: tuple[type[BaseException], ...]

    @property
    def url(self) -> URL:
        """The response's URL (read when needed: a redirect, an error)."""
        ...

    @property
    def content(self) -> ChunkReader: ...

    def body_error(self, exc: BaseException) -> CircleCIError:
        """The library's error for ``exc`` raised while reading the body (raise it outside the
        ``except`` block: the original must not become its ``__context__``)."""
        ...

    def interrupt(self, reason: str) -> None:
        """Make the pending (or next) body read fail as a read timeout saying ``reason``
        (a body arriving too slowly: no silence for the read timeout to catch)."""
        ...

    async def read_at_most(self, limit: int, *, timeout: float | None = None) -> bytes | None:
        """Up to ``limit`` bytes of a small body (a redirect's, an error page's); ``None`` if it
        could not be read (the connection is then not reused)."""
        ...


class Transport(Protocol):
    async def send(self, request: Request) -> Response: ...

    def stream(self, request: Request) -> contextlib.AbstractAsyncContextManager[StreamedResponse]:
        """Send ``request`` and hold its response open while the body is read; the connection
        goes back to the pool on exit (reused only if the body was read to the end)."""
        ...

    def sends_credentials(self) -> bool:
        """Whether every request carries credential headers the pipeline did not choose (a
        session's default headers): they would follow redirects to any host."""
        ...

    async def close(self) -> None: ...


#: What aiohttp raises while a body is read.
_BODY_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
)


_SMALL_READ_ERRORS: tuple[type[BaseException], ...] = (*_BODY_ERRORS, EOFError)


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` and its connection pool.

    A session passed in is used as is and left open on :meth:`close` (its owner closes it).
    Redirects are not followed here: the pipeline follows them so that credentials are decided
    per hop. An API response's body is read in the chunks aiohttp decompresses and refused past
    ``max_response_size`` bytes (``None``: no cap), so a gzip bomb costs at most that much.
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        pool_size: int = 100,
        pool_size_per_host: int = 0,
        session: aiohttp.ClientSession | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        trace_configs: Iterable[aiohttp.TraceConfig] = (),
    ) -> None:
        if max_response_size is not None and max_response_size < 1:
            raise ConfigurationError("max_response_size must be >= 1 (or None: no cap)")
        self.max_response_size = max_response_size
        timeouts = timeouts or Timeouts()
        self._timeout = _client_timeout(timeouts)
        self._timeouts: dict[int, tuple[Timeouts, aiohttp.ClientTimeout]] = {}
        self._pool = (pool_size, pool_size_per_host)
        self._session = session
        self._owns_session = session is None
        #: aiohttp trace configs for the session it creates (yours, and the pool-wait events').
        self.trace_configs = list(trace_configs)
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
                trace_configs=self.trace_configs or None,
            )
        return self._session

    def sends_credentials(self) -> bool:
        session = self._session
        return session is not None and any(
            name.lower() in CREDENTIAL_HEADERS for name in session.headers
        )

    async def send(self, request: Request) -> Response:
        session = self._session if self._session is not None and not self._closed else self.session
        failure: CircleCIError
        try:
            # Awaited rather than entered: the context manager costs four coroutines per
            # request; the response is released below as its exit would release it.
            resp = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.params,
                data=request.body,
                allow_redirects=False,
            )
            try:
                cap = self.max_response_size
                if cap is None:
                    body = await resp.read()
                elif resp.content.is_eof():  # all of it came with the headers (most answers do)
                    body = _buffered(resp, cap, request)
                else:
                    body = await _read_capped(resp, cap, request)
            finally:
                resp.release()  # back to the pool if the body was read whole, else closed
            return Response(resp.status, resp.headers, body, resp.url)
        except _SEND_ERRORS as exc:
            failure = translate(exc, request.method, request.url)
        raise failure  # outside the except block: no aiohttp exception as __context__

    def stream(self, request: Request) -> _AiohttpStream:
        return _AiohttpStream(self, request)

    def _timeout_for(self, timeouts: Timeouts | None) -> aiohttp.ClientTimeout:
        if timeouts is None:
            return self._timeout
        known = self._timeouts.get(id(timeouts))  # by identity: no attrs hash per request
        if known is None or known[0] is not timeouts:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            known = self._timeouts[id(timeouts)] = (timeouts, _client_timeout(timeouts))
        return known[1]

    async def close(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


class _AiohttpStream:
    """``async with transport.stream(request) as response``: sends on entry and is then the
    :class:`StreamedResponse` over the open ``aiohttp.ClientResponse``; the connection goes back
    on exit. One plain object for both (not a generator, not two objects): one is entered per
    artifact hop."""

    __slots__ = (
        "_reader",
        "_request",
        "_response",
        "_transport",
        "content",
        "content_length",
        "headers",
        "status",
    )

    read_errors = _BODY_ERRORS

    content: aiohttp.StreamReader
    content_length: int | None
    headers: CIMultiDictProxy[str]
    status: int

    def __init__(self, transport: AiohttpTransport, request: Request) -> None:
        self._transport = transport
        self._request = request
        self._response: aiohttp.ClientResponse | None = None

    @property
    def url(self) -> URL:
        response = self._response
        return self._request.url if response is None else response.url

    async def __aenter__(self) -> StreamedResponse:
        request, transport = self._request, self._transport
        session = transport._session
        if session is None or transport._closed:
            session = transport.session  # created, or the error for a closed client
        timeout = transport._timeout_for(request.timeouts)
        failure: CircleCIError
        try:
            response = await session.request(
                request.method,
                request.url,
                headers=request.headers,
                params=request.params,
                data=request.body,
                allow_redirects=False,
                timeout=timeout,
                auto_decompress=False,
            )
        except _SEND_ERRORS as exc:
            failure = translate(exc, request.method, request.url)
        else:
            self._response = response
            self.status = response.status
            self.headers = response.headers
            self.content = self._reader = response.content
            self.content_length = response.content_length
            return self
        raise failure  # outside the except block: no aiohttp exception as __context__

    async def __aexit__(self, *exc_info: object) -> None:
        response = self._response
        if response is not None:
            response.release()  # reused only if the body was read to the end

    def interrupt(self, reason: str) -> None:
        # The reader raises it from the pending read, and from every read after.
        self._reader.set_exception(aiohttp.ServerTimeoutError(reason))

    def body_error(self, exc: BaseException) -> CircleCIError:
        method = self._request.method
        if isinstance(exc, aiohttp.ClientPayloadError):
            error: CircleCIError = TransportError(
                f"the connection closed before the whole body arrived: {_describe(exc)}",
                method=method,
                url=self.url,
            )
            error.__cause__ = _sanitized(exc)
            return error
        return translate(exc, method, self.url)

    async def read_at_most(self, limit: int, *, timeout: float | None = None) -> bytes | None:
        length = self.content_length
        if length is not None and length > limit:
            return None
        content = self.content
        read = content.readexactly(length) if length is not None else content.read(limit)
        failed = False
        try:
            # wait_for costs a task: only when asked (the read timeout bounds a silence anyway)
            body = await (read if timeout is None else asyncio.wait_for(read, timeout))
        except _SMALL_READ_ERRORS:
            failed = True
        return None if failed else body


def _refuse_declared(resp: aiohttp.ClientResponse, cap: int, request: Request) -> None:
    """Refuse a declared plain length past the cap before any of the body is read."""
    headers = resp.headers
    declared = headers.get("Content-Length")  # (what resp.content_length parses, one frame less)
    length = None if declared is None else int(declared)
    if length is not None and length > cap and "Content-Encoding" not in headers:
        raise _too_large(resp, cap, request, f"declares {length} bytes")


def _buffered(resp: aiohttp.ClientResponse, cap: int, request: Request) -> bytes:
    """A body that has arrived whole (decompressed as it arrived), taken without awaiting;
    refused past ``cap`` bytes as :func:`_read_capped` refuses it."""
    _refuse_declared(resp, cap, request)
    body = resp.content.read_nowait()
    if len(body) > cap:
        raise _too_large(resp, cap, request, f"passed {len(body)} bytes")
    return body


async def _read_capped(resp: aiohttp.ClientResponse, cap: int, request: Request) -> bytes:
    """The body as decompressed, refused as soon as it passes ``cap`` bytes (what aiohttp's
    ``read()`` would buffer whole first). A declared plain length past the cap is refused
    before any of it is read."""
    _refuse_declared(resp, cap, request)
    content = resp.content
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            raise _too_large(resp, cap, request, f"passed {size} bytes")
        chunks.append(chunk)
        if content.at_eof():  # the whole body is in: no read (a coroutine) only to hear so
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(
    resp: aiohttp.ClientResponse, cap: int, request: Request, what: str
) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"the response {what} once decoded, more than max_response_size={cap} bytes; "
        "the rest was not read",
        limit=cap,
        method=request.method,
        url=request.url,
        status=resp.status,
    )


_SEND_ERRORS = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
    ssl.SSLError,
    ValueError,  # UnicodeError included: a URL the stack cannot encode
)
_CONNECT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, ssl.SSLError)


def translate(exc: BaseException, method: str, url: URL) -> CircleCIError:
    """The library's error for an aiohttp/network exception, with a sanitized cause."""
    error: CircleCIError
    if isinstance(exc, _CONNECT_ERRORS):  # TLS failures included: nothing was sent
        error = ConnectError(f"could not connect: {_describe(exc)}", method=method, url=url)
    elif isinstance(exc, ValueError) and not isinstance(exc, aiohttp.ClientError):
        # The stack refused to build the request (a URL it cannot encode, credentials in it
        # next to an Authorization header): another attempt would be refused the same way.
        error = ConfigurationError(
            f"the request could not be sent: {_describe(exc)}", method=method, url=url
        )
    elif isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        error = RequestTimeout(f"timed out: {_describe(exc)}", method=method, url=url)
    else:
        error = TransportError(f"connection failed: {_describe(exc)}", method=method, url=url)
    error.__cause__ = _sanitized(exc)
    return error


_MAX_TEXT = 300  # characters of an exception's message kept (a parser's quotes the bytes)


def _text(exc: BaseException) -> str:
    """The exception's message, without ``request_info`` (it holds request headers), cut short:
    a parser error quotes whatever the server sent."""
    text = str(exc.message if isinstance(exc, aiohttp.ClientResponseError) else exc)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."


def _sanitized(exc: BaseException) -> SanitizedCause:
    return SanitizedCause(type(exc).__name__, _text(exc))


def _describe(exc: BaseException) -> str:
    text = _text(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.sock_read
    )
