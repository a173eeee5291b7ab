"""The token stays out of what error trackers send home: the locals of every frame an error
passed through, and its ``__cause__``/``__context__`` chain; and out of ``mirror --json``.

Error trackers that capture locals (Sentry's ``include_local_variables``, on by default;
Rollbar; Bugsnag) serialise every frame of a traceback: containers (dicts, lists, tuples, sets,
any ``Mapping``) are walked, every other object is shown by ``repr()``. :func:`reached_strings`
does exactly that, and the tests run it over the errors of the API path and the download path
under both auth schemes, against the fake API, the suite's artifact hosts and hostile servers
built here (raw sockets that never answer or drop a body, a port nobody listens on, a server
that echoes the credentials it received).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence, Set
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from circleci_async import CircleCI, RateLimitConfig, RetryConfig, Timeouts
from circleci_async.cli.errors import ExitCode, secret_forms
from circleci_async.download import DownloadOptions, DownloadResult
from circleci_async.errors import (
    BadRequest,
    CircleCIError,
    ConnectError,
    NotFound,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
)
from circleci_async.testing import FakeCircleCI, Fault
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._cli_support import api_args, child_env, cli
from ._hostile import RawRequest, RawServer

TOKEN = "secrets-token-3c9a1e77b05d4f21a8e6"
SLUG = "gh/acme/widgets"
UNPACED = RateLimitConfig(initial_rate=None)
QUICK = RetryConfig(max_attempts=3, backoff_base=0.01, backoff_max=0.02)
ONCE = DownloadOptions(max_attempts=1, read_timeout=0.5)
AUTHS = ["circle-token", "basic"]
_TESTS = os.path.dirname(os.path.abspath(__file__))
_MAX_DEPTH = 10  # Sentry's serializer stops at 10 levels too


# -- the walker: what an error tracker capturing locals would send ---------------------------


def _safe_repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception as exc:  # a broken repr is shown as such by the trackers
        return f"<repr failed: {type(exc).__name__}>"


def _serialise(obj: object, where: str, depth: int, seen: set[int], out: list[tuple[str, str]]):
    if obj is None or isinstance(obj, bool | int | float):
        return
    if isinstance(obj, str):
        out.append((where, obj))
        return
    if isinstance(obj, bytes | bytearray | memoryview):
        out.append((where, bytes(obj).decode("utf-8", "replace")))
        return
    if depth >= _MAX_DEPTH or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Mapping):
        for key, value in list(obj.items()):
            _serialise(key, f"{where}.keys()", depth + 1, seen, out)
            _serialise(value, f"{where}[{key!r}]", depth + 1, seen, out)
    elif isinstance(obj, Sequence | Set):
        for index, value in enumerate(list(obj)):
            _serialise(value, f"{where}[{index}]", depth + 1, seen, out)
    else:
        out.append((where, _safe_repr(obj)))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, each once."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


@attrs.frozen
class Reached:
    strings: list[tuple[str, str]]
    #: Frames of the library the walk went through (the test's own frames are the user's).
    library_frames: list[str]


def reached_strings(exc: BaseException) -> Reached:
    """Every string a locals-capturing tracker would serialise for ``exc``: each chained
    exception's ``str``/``repr`` and type, and the locals of every frame of each one's
    traceback, except frames of this test suite (the caller's code, not the library's)."""
    out: list[tuple[str, str]] = []
    frames: list[str] = []
    for error in _chain(exc):
        name = type(error).__name__
        out += [(f"{name} str", str(error)), (f"{name} repr", _safe_repr(error))]
        _serialise(error.args, f"{name}.args", 0, set(), out)
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            code = frame.f_code
            if not code.co_filename.startswith(_TESTS):
                where = f"{name} <- {code.co_name} ({os.path.basename(code.co_filename)})"
                if "circleci_async" in code.co_filename:
                    frames.append(where)
                seen: set[int] = set()
                for local, value in dict(frame.f_locals).items():
                    _serialise(value, f"{where} {local}", 0, seen, out)
            tb = tb.tb_next
    return Reached(out, frames)


def assert_no_token(exc: BaseException, token: str = TOKEN) -> Reached:
    """Fails naming every place the token, or a form it is sent in, was reached."""
    reached = reached_strings(exc)
    forms = secret_forms(token)
    found = [(where, form) for where, text in reached.strings for form in forms if form in text]
    assert not found, f"the token was reached at: {found}"
    assert reached.library_frames, "the error went through no frame of the library?"
    return reached


def _planted(source: str, name: str) -> Any:
    """A function compiled under a library file name (frames of tests/ are not walked)."""
    scope: dict[str, Any] = {"CircleCIError": CircleCIError}
    code = compile(source, "/site-packages/circleci_async/planted.py", "exec")
    exec(code, scope)  # noqa: S102 - the test's own source, compiled under a library name
    return scope[name]


def test_the_walker_finds_the_token_wherever_a_tracker_would() -> None:
    basic = "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    leaky = _planted(
        "def leaky(token):\n"
        "    headers = {'Accept': 'application/json', 'Circle-Token': token}\n"
        "    raise CircleCIError('boom')\n",
        "leaky",
    )
    with pytest.raises(CircleCIError) as info:
        leaky(TOKEN)
    with pytest.raises(AssertionError, match=r"leaky .* headers\['Circle-Token'\]"):
        assert_no_token(info.value)
    # a basic header inside a list of tuples; and one reached only through __context__
    nested = _planted(
        "def nested(value):\n"
        "    pairs = [('Authorization', value)]\n"
        "    raise CircleCIError('boom')\n",
        "nested",
    )
    chained = _planted(
        "def chained(f, value):\n"
        "    try:\n        f(value)\n"
        "    except CircleCIError:\n        raise CircleCIError('clean') from None\n",
        "chained",
    )
    with pytest.raises(CircleCIError) as context:
        chained(nested, basic)
    assert context.value.__cause__ is None and context.value.__context__ is not None
    with pytest.raises(AssertionError, match=r"nested .* pairs\[0\]\[1\]"):
        assert_no_token(context.value)
    # an object whose repr hides what it holds is only repr'd, as the trackers do
    hidden = _planted(
        "class Hidden:\n"
        "    __slots__ = ('headers',)\n"
        "    def __init__(self, token): self.headers = {'Circle-Token': token}\n"
        "    def __repr__(self): return 'Hidden()'\n"
        "def hiding(make):\n"
        "    request = make(Hidden)\n"
        "    raise CircleCIError('boom')\n",
        "hiding",
    )
    with pytest.raises(CircleCIError) as clean:
        hidden(lambda cls: cls(TOKEN))
    reached = assert_no_token(clean.value)
    assert ("CircleCIError <- hiding (planted.py) request", "Hidden()") in reached.strings


# -- the API path -----------------------------------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN) as server:
        server.add_project(SLUG)
        yield server


def _api_client(base: str, auth: str, **kwargs: Any) -> CircleCI:
    kwargs.setdefault("rate_limit", UNPACED)
    kwargs.setdefault("retry", QUICK)
    return CircleCI(TOKEN, base_url=base, auth=auth, **kwargs)  # type: ignore[arg-type]


async def _raises(cci: CircleCI, kind: type[CircleCIError], path: str) -> CircleCIError:
    with pytest.raises(kind) as info:
        await cci.request("GET", path)
    return info.value


@pytest.mark.parametrize("auth", AUTHS)
async def test_api_errors_from_the_fake_reach_no_token(api: FakeCircleCI, auth: str) -> None:
    async with (
        FakeCircleCI(token="another-token-entirely-0000") as other,
        _api_client(other.url, auth) as cci,
    ):
        assert_no_token(await _raises(cci, Unauthorized, "me"))
    async with _api_client(api.url, auth) as cci:
        assert_no_token(await _raises(cci, NotFound, "project/gh/acme/nothing-here"))
        api.inject(Fault("status", status=500, times=3, path=r"/me$"))
        server_error = await _raises(cci, ServerError, "me")
        api.inject(Fault("disconnect", times=3, path=r"/me$"))
        dropped = await _raises(cci, TransportError, "me")
        # a POST (not retried on a 500): its JSON headers and its body are on the path too
        api.inject(Fault("status", status=500, path=r"/pipeline$"))
        with pytest.raises(ServerError) as post:
            await cci.request("POST", f"project/{SLUG}/pipeline", json={"branch": "main"})
    assert server_error.status == 500 and api.pending_faults == []
    assert_no_token(server_error)
    assert_no_token(dropped)
    assert_no_token(post.value)
    # the server did get the token each time, in the scheme under test
    sent = {
        r.headers.get("Authorization" if auth == "basic" else "Circle-Token") for r in api.requests
    }
    assert sent == {
        f"Basic {base64.b64encode(f'{TOKEN}:'.encode()).decode()}" if auth == "basic" else TOKEN
    }


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _never_answer(request: RawRequest, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)  # cancelled when the server stops


@pytest.mark.parametrize("auth", AUTHS)
async def test_a_refused_connection_and_a_timeout_reach_no_token(auth: str) -> None:
    refused = f"http://127.0.0.1:{_unused_port()}/api/v2"
    async with _api_client(refused, auth) as cci:
        assert_no_token(await _raises(cci, ConnectError, "me"))
    async with RawServer(_never_answer) as server:
        async with _api_client(f"{server.url}/api/v2", auth, timeouts=Timeouts(total=0.3)) as cci:
            assert_no_token(await _raises(cci, RequestTimeout, "me"))
        assert server.requests  # the request did reach it


# -- the download path ------------------------------------------------------------------------


@pytest.fixture
async def hosts() -> AsyncIterator[ArtifactServers]:
    async with ArtifactServers(token=TOKEN) as servers:
        yield servers


def _download_client(
    api: FakeCircleCI, hosts: ArtifactServers, session: Any, auth: str
) -> CircleCI:
    return CircleCI(
        TOKEN,
        base_url=api.url,
        session=session,
        token_origins=hosts.token_origins,
        rate_limit=UNPACED,
        auth=auth,  # type: ignore[arg-type]
    )


def _failed(results: Sequence[DownloadResult], kind: type[CircleCIError]) -> CircleCIError:
    assert len(results) == 1 and not results[0].ok, results
    error = results[0].error
    assert isinstance(error, kind), error
    return error


@pytest.mark.parametrize("auth", AUTHS)
async def test_download_errors_reach_no_token(
    api: FakeCircleCI, hosts: ArtifactServers, auth: str, tmp_path: Path
) -> None:
    missing = hosts.add(
        "missing.bin", b"x", faults=[TransferFault("status", where="artifact", times=None)]
    )
    storage_404 = hosts.add("gone.bin", b"x", faults=[TransferFault("status", times=None)])
    dropped = hosts.add(
        "dropped.bin",
        GeneratedContent(256 * 1024),
        faults=[TransferFault("drop", after=1000, times=None)],
    )
    async with hosts.session() as session, _download_client(api, hosts, session, auth) as cci:
        errors = [
            _failed(await cci.artifacts.download([item], tmp_path / str(n), options=ONCE), kind)
            for n, (item, kind) in enumerate(
                [(missing, NotFound), (storage_404, NotFound), (dropped, TransportError)]
            )
        ]
        # three attempts, the last one given up: the retry loop's frames too
        retried = await cci.artifacts.download(
            [dropped],
            tmp_path / "retried",
            options=DownloadOptions(max_attempts=3, backoff_base=0.01, backoff_max=0.02),
        )
    assert retried[0].attempts == 3
    errors.append(_failed(retried, TransportError))
    for error in errors:
        assert_no_token(error)
    assert hosts.credential_leaks == []
    assert all(r.carries_credentials for r in hosts.artifact_requests)  # the token was sent


async def _stall_after_headers(request: RawRequest, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    await writer.drain()
    await asyncio.sleep(30)  # cancelled when the server stops


async def _refuse_with_401(request: RawRequest, writer: asyncio.StreamWriter) -> None:
    body = b'{"message": "You must log in"}'
    writer.write(b"HTTP/1.1 401 X\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()


@pytest.mark.parametrize("auth", AUTHS)
async def test_downloads_from_hostile_token_origins_reach_no_token(
    auth: str, tmp_path: Path
) -> None:
    """A host that receives the token (the API's own origin here) stalls a body, refuses the
    token, or is not there at all."""
    port = _unused_port()
    async with RawServer(_stall_after_headers) as stall, RawServer(_refuse_with_401) as refuse:
        for n, (base, kind) in enumerate(
            [
                (stall.url, RequestTimeout),
                (refuse.url, Unauthorized),
                (f"http://127.0.0.1:{port}", ConnectError),
            ]
        ):
            async with _api_client(f"{base}/api/v2", auth) as cci:
                item = {"path": "a.bin", "node_index": 0, "url": f"{base}/art/a.bin"}
                results = await cci.artifacts.download(
                    [item], tmp_path / str(n), options=attrs.evolve(ONCE, read_timeout=0.3)
                )
            assert_no_token(_failed(results, kind))
        sent = [r.headers for r in (*stall.requests, *refuse.requests)]
        assert sent and all(
            ("authorization" if auth == "basic" else "circle-token") in {k.lower() for k in h}
            for h in sent
        )


# -- the mirror's --json report ---------------------------------------------------------------


def _echo(request: web.Request, groups: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """400, the credentials received in the message, in each form they may be echoed in."""
    echoed = [f"Circle-Token {request.headers.get('Circle-Token')}"]
    value = request.headers.get("Authorization", "")
    encoded = value.partition(" ")[2]
    urlsafe = encoded.replace("+", "-").replace("/", "_")
    echoed.append(f"Authorization {value} ({encoded.rstrip('=')}, {urlsafe.rstrip('=')})")
    return 400, json.dumps({"message": "rejected: " + "; ".join(echoed)}).encode()


@pytest.mark.parametrize("auth", AUTHS)
async def test_mirror_json_scrubs_credentials_a_server_echoes(
    api: FakeCircleCI, auth: str, tmp_path: Path
) -> None:
    # One workflow whose job lists an artifact on the API's own origin (so it gets the token)
    # that answers with an echo; another whose job listing answers with one.
    pipeline = api.add_pipeline(SLUG, "main")
    build = api.add_workflow(pipeline["id"], "build")
    job = api.add_job(build["id"], "compile")
    deploy = api.add_workflow(pipeline["id"], "deploy")
    api.add_job(deploy["id"], "ship")
    url = f"{api.url}/echo/dist/app.bin"
    serve_artifact_listing(
        api, SLUG, job["job_number"], [{"path": "dist/app.bin", "node_index": 0, "url": url}]
    )
    api.add_route(r"/echo/.*", {"GET": _echo})
    api.add_route(rf"/workflow/{deploy['id']}/job", {"GET": _echo})
    run = await cli(
        *api_args(api),
        "--auth",
        auth,
        "--retries",
        "1",
        "mirror",
        SLUG,
        str(tmp_path / "out"),
        "--json",
        env=child_env(token=TOKEN),
    )
    assert run.code == ExitCode.FAILED, run
    report = run.json()
    assert report["failed"] == 1 and len(report["listing_errors"]) == 1, report
    errors = [report["failures"][0]["error"], report["listing_errors"][0]["error"]]
    for error in errors:
        assert error.startswith("HTTP 400: rejected: "), error
        assert "***" in error, error
    for form in secret_forms(TOKEN):
        assert form not in run.out and form not in run.err, (form, run)
    # the library's warning about the listing reaches stderr scrubbed too (it was printed
    # as is by Python's last-resort handler)
    warning = [line for line in run.err_lines if "listing" in line]
    assert len(warning) == 1 and "rejected: " in warning[0] and "***" in warning[0], run
    # the echo did carry the token: the server received it, in the scheme under test
    echoed = [r for r in api.requests if "/echo/" in r.path or r.path.endswith("/job")]
    assert len(echoed) >= 2


@pytest.mark.parametrize("scheme", ["circle-token", "basic"])
async def test_an_error_body_echoing_the_credentials_is_scrubbed_in_the_library(
    scheme: str,
) -> None:
    """A hostile server echoes what it received; the error's message and body (which error
    trackers send home with ``str(exc)``) hold ``***`` instead, in every form the token
    travels in."""
    token = "echo-token-8c1f4f0b9d2e4a7e9b1c"

    async def echo(request: web.Request) -> web.Response:
        received = request.headers.get("Circle-Token") or request.headers.get("Authorization", "")
        forms = " ".join(secret_forms(token))
        return web.json_response({"message": f"bad credentials {received} ({forms})"}, status=400)

    app = web.Application()
    app.router.add_get("/api/v2/me", echo)
    async with TestServer(app, host="127.0.0.1") as server:
        base = str(server.make_url("/api/v2"))
        async with CircleCI(token, base_url=base, auth=scheme) as cci:  # type: ignore[arg-type]
            with pytest.raises(BadRequest) as info:
                await cci.request("GET", "me")
    error = info.value
    assert "***" in error.message
    texts = [str(error), repr(error), error.message, (error.body or b"").decode()]
    for form in secret_forms(token):
        assert all(form not in text for text in texts), form
