"""A fake CircleCI artifact host and a fake storage host (S3), on loopback under real names.

CircleCI serves an artifact ``url`` from ``output.circle-artifacts.com``, which answers with a
redirect to a short-lived pre-signed URL on the storage host. :class:`ArtifactServers` runs both
as ``aiohttp.web`` servers on 127.0.0.1 and a resolver that maps their names to those ports, so a
client follows the same redirects across the same host names as in production, over real TLS
when ``trustme`` is installed (then the default ``https://*.circle-artifacts.com`` token rule is
exercised as it is):

- the artifact host checks the token (when one is configured) and redirects to the storage host
  with ``X-Amz-*`` query parameters (HTML artifacts can be served directly instead);
- the storage host, like S3, answers 400 to any request carrying ``Circle-Token`` or
  ``Authorization`` (pre-signed URLs are their own authentication) and records it in
  :attr:`ArtifactServers.credential_leaks`; it checks the signature and expiry, supports single
  ``Range`` requests with ``If-Range``, and serves generated content of any size without disk;
- :class:`TransferFault` injects what goes wrong: error statuses, a connection dropped after N
  bytes, an HTML error page served as 200 with a wrong length, redirect loops, a server that
  ignores ``Range`` or answers the wrong range, a slow body.

:func:`serve_artifact_listing` adds the ``/project/{slug}/{job-number}/artifacts`` route to a
:class:`FakeCircleCI` (paginated with ``next_page_token``, like the fake's other lists).

Example::

    async with FakeCircleCI(token="t") as api, ArtifactServers(token="t") as hosts:
        item = hosts.add("reports/junit.xml", b"<testsuite/>")
        big = hosts.add("build/image.tar", GeneratedContent(1 << 30))   # 1 GiB, no disk
        serve_artifact_listing(api, "gh/acme/app", 42, [item, big])
        async with hosts.session() as http, CircleCI(
            "t", base_url=api.url, session=http, token_origins=hosts.token_origins
        ) as cci:
            results = await cci.artifacts.download(cci.artifacts.list("gh/acme/app", 42), "out")
        assert not hosts.credential_leaks
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import importlib
import itertools
import mimetypes
import random
import re
import socket
import ssl
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import formatdate
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
import attrs
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, MultiDict
from yarl import URL

from ._codec import dumps
from ._server import FakeCircleCI

__all__ = [
    "ARTIFACT_HOST",
    "STORAGE_HOST",
    "ArtifactServers",
    "FakeArtifact",
    "GeneratedContent",
    "LoopbackResolver",
    "SeenRequest",
    "TransferFault",
    "serve_artifact_listing",
]

ARTIFACT_HOST = "output.circle-artifacts.com"
STORAGE_HOST = "circle-production-customer-artifacts.s3.amazonaws.com"

_PERIOD = 1024 * 1024 + 4099  # odd, so that chunk and period boundaries do not line up
_SECRET_HEADERS = frozenset({"circle-token", "authorization"})
_S3_TWO_AUTHS = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified"
)


# -- content ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _pattern(seed: int) -> memoryview:
    block = random.Random(seed).randbytes(_PERIOD)
    return memoryview(block + block)  # any window up to one period is contiguous


class GeneratedContent:
    """``size`` bytes of deterministic pseudo-random content, produced on the fly from a 1 MiB
    pattern: a 1 GiB artifact costs neither disk nor memory on the server."""

    __slots__ = ("seed", "size")

    def __init__(self, size: int, seed: int = 0) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self.size = size
        self.seed = seed

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"GeneratedContent(size={self.size}, seed={self.seed})"

    def chunks(self, start: int, end: int, chunk_size: int) -> Iterator[memoryview]:
        """Views of bytes ``[start, end)`` in pieces of at most ``chunk_size``."""
        pattern = _pattern(self.seed)
        step = min(chunk_size, _PERIOD)
        position = start
        while position < end:
            count = min(step, end - position)
            offset = position % _PERIOD
            yield pattern[offset : offset + count]
            position += count

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` (for checking a downloaded file; keep ranges modest)."""
        end = min(end, self.size)
        return b"".join(bytes(view) for view in self.chunks(start, end, _PERIOD))

    def matches_file(self, path: str, *, samples: int = 32, sample_size: int = 65536) -> bool:
        """Whether the file at ``path`` has this content: its size, and the bytes at its start,
        its end and ``samples`` random offsets (a full comparison of a 1 GiB file is slow)."""
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            if handle.tell() != self.size:
                return False
            rng = random.Random(self.seed ^ self.size)
            offsets = {0, max(0, self.size - sample_size)}
            offsets.update(rng.randrange(max(1, self.size)) for _ in range(samples))
            for offset in sorted(offsets):
                handle.seek(offset)
                if handle.read(sample_size) != self.read(offset, offset + sample_size):
                    return False
        return True


Content = bytes | GeneratedContent


def _chunks(content: Content, start: int, end: int, chunk_size: int) -> Iterator[memoryview]:
    if isinstance(content, GeneratedContent):
        yield from content.chunks(start, end, chunk_size)
        return
    view = memoryview(content)
    for offset in range(start, end, chunk_size):
        yield view[offset : min(end, offset + chunk_size)]


# -- faults ----------------------------------------------------------------------------------

FaultKind = Literal["status", "drop", "html", "loop", "ignore-range", "bad-range", "slow"]
_KINDS = ("status", "drop", "html", "loop", "ignore-range", "bad-range", "slow")


@attrs.frozen
class TransferFault:
    """What goes wrong with one artifact, for its next ``times`` requests (``None``: always).

    - ``status``: answer ``status`` (a JSON message on the artifact host, S3 XML on storage).
    - ``drop``: announce the full ``Content-Length``, send ``after`` bytes, close the connection.
    - ``html``: answer ``200 text/html`` with an error page whose ``Content-Length`` claims
      ``after`` (default 1000) bytes more than it sends, then close.
    - ``loop``: (artifact host) redirect to itself, forever.
    - ``ignore-range``: answer a ``Range`` request with ``200`` and the whole file.
    - ``bad-range``: answer a ``Range`` request with a ``206`` starting at byte 0.
    - ``slow``: pause ``delay`` seconds between chunks.

    ``where`` picks the host: ``"storage"`` (default) or ``"artifact"``.
    """

    kind: FaultKind = attrs.field(validator=attrs.validators.in_(_KINDS))
    where: Literal["artifact", "storage"] = attrs.field(
        default="storage", validator=attrs.validators.in_(("artifact", "storage"))
    )
    times: int | None = 1
    status: int = 404
    after: int = 0
    delay: float = 0.0


@attrs.define(eq=False)
class FakeArtifact:
    """One artifact the hosts serve."""

    id: str
    path: str
    node_index: int
    job: str
    content: Content
    url: str
    content_type: str
    etag: str
    last_modified: str
    direct: bool = False
    hops: int = 1
    faults: list[list[Any]] = attrs.field(factory=list)

    def item(self) -> dict[str, Any]:
        """The API's listing item for it: ``{path, node_index, url}``."""
        return {"path": self.path, "node_index": self.node_index, "url": self.url}

    def take_fault(self, where: str, kinds: Iterable[str]) -> TransferFault | None:
        allowed = set(kinds)
        for slot in self.faults:
            fault, left = slot
            if fault.where != where or fault.kind not in allowed:
                continue
            if left is not None:
                if left <= 0:
                    continue
                slot[1] = left - 1
            return fault  # type: ignore[no-any-return]
        return None


@attrs.frozen
class SeenRequest:
    """A request one of the hosts received (headers as sent; ``repr`` hides credentials)."""

    host: str
    method: str
    path: str
    query: MultiDict[str]
    headers: CIMultiDict[str] = attrs.field(
        repr=lambda h: repr(
            [(k, "<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in h.items()]
        )
    )
    artifact: str | None
    time: float

    @property
    def carries_credentials(self) -> bool:
        return any(name.lower() in _SECRET_HEADERS for name in self.headers)


# -- name resolution -------------------------------------------------------------------------


class LoopbackResolver(AbstractResolver):
    """Resolves the fake hosts' names to 127.0.0.1 and their real ports (whatever port the URL
    names), and refuses every other name: tests never reach the network."""

    def __init__(self, hosts: Mapping[str, int] | None = None) -> None:
        self._hosts: dict[str, int] = {}
        for name, port in (hosts or {}).items():
            self.add(name, port)

    def add(self, name: str, port: int) -> None:
        self._hosts[name.lower().rstrip(".")] = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        target = self._hosts.get(host.lower().rstrip("."))
        if target is None:
            raise OSError(f"{host!r} is not one of the fake hosts (tests have no network)")
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": target,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


# -- the servers -----------------------------------------------------------------------------


def _trustme() -> Any:
    try:
        return importlib.import_module("trustme")
    except ImportError:
        return None


class ArtifactServers:
    """The artifact host and the storage host; see the module docstring.

    ``token``: the token the artifact host requires (``None``: public artifacts).
    ``tls``: serve HTTPS with a throwaway CA (default: when ``trustme`` is installed).
    ``url_ttl``: lifetime of the pre-signed storage URLs, on ``clock``.
    ``single_use_urls``: the storage host refuses a pre-signed URL used before, so a client
    must go back to the artifact URL for every attempt (as it must once URLs expire).
    ``with_ports``: URLs name the servers' real ports (add artifacts after :meth:`start`), so a
    client without :attr:`resolver`, in another process for instance, reaches them when the
    host names resolve to loopback (``"127.0.0.1"``, with ``tls=False``).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        tls: bool | None = None,
        artifact_host: str = ARTIFACT_HOST,
        storage_host: str = STORAGE_HOST,
        url_ttl: float = 300.0,
        single_use_urls: bool = False,
        with_ports: bool = False,
        chunk_size: int = 256 * 1024,
        clock: Any = time.time,
    ) -> None:
        self.token = token
        trustme = _trustme()
        if tls is None:
            tls = trustme is not None
        if tls and trustme is None:
            raise RuntimeError("tls=True needs the trustme package")
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.artifact_host = artifact_host
        self.storage_host = storage_host
        self.url_ttl = url_ttl
        self.single_use_urls = single_use_urls
        self.with_ports = with_ports
        self.chunk_size = chunk_size
        self.clock = clock
        self.artifact_requests: list[SeenRequest] = []
        self.storage_requests: list[SeenRequest] = []
        #: Requests being answered right now, and the most ever at once, per host
        #: (``"artifact"``, ``"storage"``): for checking a client's concurrency limits.
        self.in_flight = {"artifact": 0, "storage": 0}
        self.max_in_flight = {"artifact": 0, "storage": 0}
        self._by_path: dict[str, FakeArtifact] = {}
        self._by_id: dict[str, FakeArtifact] = {}
        self._used_signatures: set[str] = set()
        self._secret = random.Random(0).randbytes(32)
        self._ids = itertools.count(1)
        self._nonces = itertools.count(1)
        self._server_ssl: ssl.SSLContext | None = None
        self.client_ssl: ssl.SSLContext | None = None
        """The client-side TLS context trusting the fake CA (``None`` without TLS)."""
        if tls:
            ca = trustme.CA()
            cert = ca.issue_cert(
                artifact_host, "*.circle-artifacts.com", storage_host, "*.s3.amazonaws.com"
            )
            self._server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(self._server_ssl)
            self.client_ssl = ssl.create_default_context()
            ca.configure_trust(self.client_ssl)
        self.resolver = LoopbackResolver()
        self._runners: list[web.AppRunner] = []
        self.artifact_port = 0
        self.storage_port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runners:
            raise RuntimeError("ArtifactServers already started")
        self.artifact_port = await self._serve(self._counted("artifact", self._artifact_handler))
        self.storage_port = await self._serve(self._counted("storage", self._storage_handler))
        self.resolver.add(self.artifact_host, self.artifact_port)
        self.resolver.add(self.storage_host, self.storage_port)

    def _counted(self, which: str, handler: Any) -> Any:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.in_flight[which] += 1
            self.max_in_flight[which] = max(self.max_in_flight[which], self.in_flight[which])
            try:
                return await handler(request)  # type: ignore[no-any-return]
            finally:
                self.in_flight[which] -= 1

        return counted

    async def _serve(self, handler: Any) -> int:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self._server_ssl)
        await site.start()
        return int(runner.addresses[0][1])

    async def close(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()

    async def __aenter__(self) -> ArtifactServers:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- client side -------------------------------------------------------------------------

    @property
    def token_origins(self) -> tuple[str, ...]:
        """What to pass as ``CircleCI(token_origins=...)``: the production default over TLS,
        the same pattern over plain HTTP otherwise."""
        return (f"{self.scheme}://*.circle-artifacts.com",)

    def connector(self, **kwargs: Any) -> aiohttp.TCPConnector:
        """A connector that resolves the fake hosts and trusts their certificate."""
        if self.client_ssl is not None:
            kwargs.setdefault("ssl", self.client_ssl)
        return aiohttp.TCPConnector(resolver=self.resolver, **kwargs)

    def session(self, **kwargs: Any) -> aiohttp.ClientSession:
        """A client session for talking to the fake hosts (and to a FakeCircleCI on 127.0.0.1)."""
        kwargs.setdefault("cookie_jar", aiohttp.DummyCookieJar())
        return aiohttp.ClientSession(connector=self.connector(), **kwargs)

    # -- seeding -----------------------------------------------------------------------------

    def add(
        self,
        path: str,
        content: Content,
        *,
        node_index: int = 0,
        job: str | None = None,
        content_type: str | None = None,
        direct: bool = False,
        hops: int = 1,
        faults: Sequence[TransferFault] = (),
    ) -> dict[str, Any]:
        """Serve an artifact; returns its API item ``{path, node_index, url}``.

        ``direct``: the artifact host serves it itself (as CircleCI does for HTML) instead of
        redirecting. ``hops``: redirects before the content (more than one stays on the
        artifact host first).
        """
        number = next(self._ids)
        job = job or "8c5b1d6e-0000-4000-8000-000000000001"
        artifact_id = f"{number:08x}"
        url_path = f"/output/job/{job}/artifacts/{node_index}/{quote(path, safe='/')}"
        url = (
            f"{self.scheme}://{self.artifact_host}{self._port_suffix(self.artifact_port)}{url_path}"
        )
        if content_type is None:
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        artifact = FakeArtifact(
            id=artifact_id,
            path=path,
            node_index=node_index,
            job=job,
            content=content,
            url=url,
            content_type=content_type,
            etag=f'"{hashlib.md5(artifact_id.encode(), usedforsecurity=False).hexdigest()}"',
            last_modified=formatdate(1_700_000_000 + number, usegmt=True),
            direct=direct,
            hops=max(1, hops),
        )
        key = URL(url).path
        if key in self._by_path:
            raise ValueError(
                f"{path!r} on node {node_index} of job {job} is already served; "
                "pass job=... (the job's id) to serve it for another job"
            )
        for fault in faults:
            artifact.faults.append([fault, fault.times])
        self._by_path[key] = artifact
        self._by_id[artifact_id] = artifact
        return artifact.item()

    def _port_suffix(self, port: int) -> str:
        if not self.with_ports:
            return ""
        if not port:
            raise RuntimeError("with_ports=True: add artifacts after start(), once ports are known")
        return f":{port}"

    def artifact(self, item: Mapping[str, Any] | str | Any) -> FakeArtifact:
        """The served artifact for an API item (mapping or object with ``url``) or a URL."""
        if isinstance(item, str):
            url = item
        elif isinstance(item, Mapping):
            url = str(item["url"])
        else:
            url = str(item.url)
        return self._by_path[URL(url).path]

    @property
    def artifacts(self) -> list[FakeArtifact]:
        """Every artifact served, in the order added."""
        return list(self._by_id.values())

    def add_fault(self, item: Mapping[str, Any] | str | Any, fault: TransferFault) -> None:
        self.artifact(item).faults.append([fault, fault.times])

    @property
    def credential_leaks(self) -> list[SeenRequest]:
        """Requests that reached the storage host with ``Circle-Token`` or ``Authorization``."""
        return [r for r in self.storage_requests if r.carries_credentials]

    def requests_for(
        self, item: Mapping[str, Any] | str | Any, host: Literal["artifact", "storage"] = "storage"
    ) -> list[SeenRequest]:
        artifact_id = self.artifact(item).id
        seen = self.storage_requests if host == "storage" else self.artifact_requests
        return [r for r in seen if r.artifact == artifact_id]

    def clear_requests(self) -> None:
        self.artifact_requests.clear()
        self.storage_requests.clear()

    # -- handlers ----------------------------------------------------------------------------

    def _record(
        self, into: list[SeenRequest], host: str, request: web.Request, artifact: str | None
    ) -> None:
        into.append(
            SeenRequest(
                host,
                request.method,
                request.path,
                MultiDict(request.query),
                CIMultiDict(request.headers),
                artifact,
                self.clock(),
            )
        )

    def _token_ok(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        if request.headers.get("Circle-Token") == self.token:
            return True
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(value.strip()).decode().partition(":")[0]
            except ValueError:
                return False
            return user == self.token
        return False

    async def _artifact_handler(self, request: web.Request) -> web.StreamResponse:
        artifact = self._by_path.get(request.path)
        self._record(
            self.artifact_requests,
            self.artifact_host,
            request,
            artifact.id if artifact else None,
        )
        if not self._token_ok(request):
            return _json(401, {"message": "You must log in to access this artifact."})
        if artifact is None or request.method not in ("GET", "HEAD"):
            return _json(404, {"message": "Not found"})
        fault = artifact.take_fault("artifact", ("status", "loop", "html", "drop", "slow"))
        if fault is not None and fault.kind == "status":
            return _json(fault.status, {"message": f"fault: HTTP {fault.status}"})
        if fault is not None and fault.kind == "loop":
            return _redirect(str(request.url.with_scheme(self.scheme)))
        if fault is not None and fault.kind == "html":
            return await _html_error_page(request, fault)
        hop = int(request.query.get("hop", "0") or 0)
        if hop + 1 < artifact.hops:
            target = request.url.with_scheme(self.scheme).with_query({"hop": str(hop + 1)})
            return _redirect(str(target))
        if artifact.direct:
            return await self._serve_content(request, artifact, "artifact", fault)
        return _redirect(self._presign(artifact))

    def _presign(self, artifact: FakeArtifact) -> str:
        date = datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        expires = str(int(self.url_ttl))
        nonce = str(next(self._nonces))
        signature = self._signature(artifact.id, date, expires, nonce)
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIAFAKEFAKEFAKE/{date[:8]}/us-east-1/s3/aws4_request",
            "X-Amz-Date": date,
            "X-Amz-Expires": expires,
            "X-Amz-SignedHeaders": "host",
            "x-fake-nonce": nonce,
            "X-Amz-Signature": signature,
        }
        url = URL.build(
            scheme=self.scheme,
            host=self.storage_host,
            port=self.storage_port if self.with_ports else None,
            path=f"/{artifact.job}/{artifact.node_index}/{artifact.id}",
            query=query,
        )
        return str(url)

    def _signature(self, artifact_id: str, date: str, expires: str, nonce: str) -> str:
        message = f"{artifact_id}|{date}|{expires}|{nonce}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def _storage_handler(self, request: web.Request) -> web.StreamResponse:
        artifact_id = request.path.rsplit("/", 1)[-1]
        artifact = self._by_id.get(artifact_id)
        self._record(
            self.storage_requests, self.storage_host, request, artifact.id if artifact else None
        )
        if any(name.lower() in _SECRET_HEADERS for name in request.headers):
            return _s3_error(400, "InvalidArgument", _S3_TWO_AUTHS)
        query = request.query
        signature = query.get("X-Amz-Signature", "")
        date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "0")
        if artifact is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        expected = self._signature(artifact.id, date, expires, query.get("x-fake-nonce", ""))
        if not signature or not hmac.compare_digest(signature, expected):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature is wrong.")
        try:
            signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return _s3_error(403, "AccessDenied", "X-Amz-Date is malformed")
        if self.clock() > signed_at.timestamp() + float(expires) + 1:
            return _s3_error(403, "AccessDenied", "Request has expired")
        if self.single_use_urls:
            if signature in self._used_signatures:
                return _s3_error(403, "AccessDenied", "Request has expired")
            self._used_signatures.add(signature)
        fault = artifact.take_fault("storage", ("status", "drop", "html", "slow"))
        if fault is not None and fault.kind == "status":
            return _s3_error(fault.status, "InjectedFault", f"HTTP {fault.status}")
        if fault is not None and fault.kind == "html":
            return await _html_error_page(request, fault)
        return await self._serve_content(request, artifact, "storage", fault)

    async def _serve_content(
        self,
        request: web.Request,
        artifact: FakeArtifact,
        where: str,
        fault: TransferFault | None,
    ) -> web.StreamResponse:
        content = artifact.content
        size = len(content)
        start, end, status = 0, size, 200
        headers = {
            "Content-Type": artifact.content_type,
            "ETag": artifact.etag,
            "Last-Modified": artifact.last_modified,
            "Accept-Ranges": "bytes",
        }
        range_header = request.headers.get("Range")
        if range_header:
            range_fault = artifact.take_fault(where, ("ignore-range", "bad-range"))
            if_range = request.headers.get("If-Range")
            wanted = _parse_range(range_header, size)
            if range_fault is not None and range_fault.kind == "ignore-range":
                pass
            elif if_range is not None and if_range not in (artifact.etag, artifact.last_modified):
                pass  # the object changed: the whole of it, as RFC 9110 says
            elif wanted == "unsatisfiable":
                headers["Content-Range"] = f"bytes */{size}"
                return web.Response(status=416, headers=headers)
            elif wanted is not None:
                start, end, status = wanted[0], wanted[1], 206
                if range_fault is not None and range_fault.kind == "bad-range":
                    start = 0
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = end - start
        if fault is not None and fault.kind == "drop":
            response.force_close()
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        sent = 0
        try:
            for view in _chunks(content, start, end, self.chunk_size):
                if fault is not None and fault.kind == "drop" and sent + len(view) >= fault.after:
                    await response.write(view[: max(0, fault.after - sent)])
                    _hang_up(request)
                    return response
                await response.write(view)
                sent += len(view)
                if fault is not None and fault.kind == "slow":
                    await asyncio.sleep(fault.delay)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away mid-body (a cancelled download): nothing to report
        return response


def _parse_range(value: str, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """A single ``bytes=`` range as ``[start, end)``; ``None`` for what we ignore (several
    ranges, other units, garbage), as S3 does."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        count = int(last)
        if count == 0:
            return "unsatisfiable"
        return max(0, size - count), size
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = size if not last else min(size, int(last) + 1)
    if end <= start:
        return None
    return start, end


def _hang_up(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


async def _html_error_page(request: web.Request, fault: TransferFault) -> web.StreamResponse:
    """``200 text/html``, an error page, and a ``Content-Length`` it does not honour."""
    page = (
        b"<!DOCTYPE html><html><head><title>Error</title></head><body>"
        b"<h1>Something went wrong</h1><p>Please log in to view this artifact.</p></body></html>"
    )
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/html"})
    response.content_length = len(page) + (fault.after or 1000)
    response.force_close()
    await response.prepare(request)
    await response.write(page)
    _hang_up(request)
    return response


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _json(status: int, payload: Any) -> web.Response:
    return web.Response(status=status, body=dumps(payload), content_type="application/json")


def _s3_error(status: int, code: str, message: str) -> web.Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>FAKE0000</RequestId></Error>"
    )
    return web.Response(
        status=status,
        body=body.encode(),
        headers={"Content-Type": "application/xml", "x-amz-request-id": "FAKE0000"},
    )


# -- the listing route on the API fake -------------------------------------------------------

_listings: weakref.WeakKeyDictionary[FakeCircleCI, dict[tuple[str, str], list[dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)
_ARTIFACTS_ROUTE = r"/project/(?P<slug>[^/]+/[^/]+/[^/]+)/(?P<number>[^/]+)/artifacts"


def serve_artifact_listing(
    fake: FakeCircleCI,
    slug: str,
    job_number: int | str,
    items: Iterable[Mapping[str, Any]],
) -> None:
    """Make ``GET /project/{slug}/{job_number}/artifacts`` list ``items`` (replacing what it
    listed before), paginated by the fake's ``page_size`` with ``next_page_token``. Jobs never
    given artifacts list none, as CircleCI does."""
    registry = _listings.get(fake)
    if registry is None:
        registry = _listings[fake] = {}
        fake.add_route(_ARTIFACTS_ROUTE, {"GET": _listing_handler(fake, registry)})
    registry[(slug, str(job_number))] = [dict(item) for item in items]
    # The fake caches GET bodies until its own data changes; this data is not its own.
    fake.clear_cache()


def _listing_handler(
    fake: FakeCircleCI, registry: dict[tuple[str, str], list[dict[str, Any]]]
) -> Any:
    owner = weakref.ref(fake)

    def handler(request: web.Request, groups: dict[str, str], body: bytes) -> tuple[int, bytes]:
        server = owner()
        size = server.page_size if server is not None else 20
        key = (groups["slug"], groups["number"])
        items = registry.get(key, [])
        token = request.query.get("page-token")
        start: int | None = 0
        if token:
            start = _decode_token(token, key)
        if start is None:
            return 400, dumps({"message": "Invalid page token."})
        page = items[start : start + size]
        following = start + size
        next_token = _encode_token(following, key) if following < len(items) else None
        return 200, dumps({"items": page, "next_page_token": next_token})

    return handler


def _token_digest(key: tuple[str, str]) -> str:
    return hashlib.blake2s("|".join(key).encode(), digest_size=6).hexdigest()


def _encode_token(offset: int, key: tuple[str, str]) -> str:
    raw = f"{offset}.{_token_digest(key)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_token(token: str, key: tuple[str, str]) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset, digest = raw.split(".")
    except ValueError:
        return None
    if not offset.isdigit() or digest != _token_digest(key):
        return None
    return int(offset)
