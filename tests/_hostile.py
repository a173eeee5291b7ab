"""A raw HTTP server for hostile-server tests: an ``asyncio`` socket server that answers each
request with hand-made bytes (malformed headers, trickled or overlong bodies), which no HTTP
framework would send.

``RawServer(handler)`` calls ``handler(request, writer)`` for every request; ``request`` holds
the method, target and headers. The handler writes what it wants and returns; the connection is
then closed. Every connection is closed when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

__all__ = ["RawRequest", "RawServer", "response"]


class RawRequest:
    def __init__(self, method: str, target: str, headers: dict[str, str]) -> None:
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.headers = headers


Handler = Callable[[RawRequest, asyncio.StreamWriter], Awaitable[None]]


def response(
    status: int,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    length: bool = True,
) -> bytes:
    """The bytes of a whole response (``Connection: close``; ``Content-Length`` unless told not)."""
    lines = [f"HTTP/1.1 {status} X"]
    fields = dict(headers or {})
    if length:
        fields.setdefault("Content-Length", str(len(body)))
    fields.setdefault("Connection", "close")
    lines.extend(f"{name}: {value}" for name, value in fields.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "surrogateescape") + body


class RawServer:
    """``async with RawServer(handler) as server:`` listening on 127.0.0.1 (``server.url``)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests: list[RawRequest] = []
        self.url = ""

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                head = await reader.readuntil(b"\r\n\r\n")
                first, *lines = head.decode("latin-1").split("\r\n")
                method, target, _ = first.split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                request = RawRequest(method, target, headers)
                self.requests.append(request)
                await self._handler(request, writer)
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)
