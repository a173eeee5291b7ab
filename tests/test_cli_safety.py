"""The command line against hostile server text: escape sequences in names are shown, never
obeyed (and ``--json`` keeps them as values); a server echoing the credentials back in an error
body has them scrubbed in every form they travel in.

The CLI runs as a subprocess, as in ``test_cli.py``: against the fake CircleCI seeded with hostile
names, and against a small aiohttp server of this module that answers 400 with the credentials
it received.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import attrs
import pytest
from aiohttp import web

from circleci_async.cli.errors import ExitCode, scrub, secret_forms
from circleci_async.cli.terminal import printable
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan
from circleci_async.testing.artifacts import serve_artifact_listing

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, Run, api_args, child_env, cli, finish, start
from ._waiting import wait_until

#: Retitles the terminal window (OSC ... BEL), then clears the screen (CSI 2J); an 8-bit CSI.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\r", "\x08")


def hostile(name: str) -> str:
    return f"{name}{HOSTILE}\x9b31m\r\x08"


def shown(name: str) -> str:
    return f"{name}{SHOWN}\\x9b31m\\x0d\\x08"


def assert_neutralised(run: Run, *names: str) -> None:
    """Each name is on the screen in its visible form, and no control character is."""
    screen = run.out + run.err
    for control in RAW_CONTROLS:
        assert control not in screen, run
    for name in names:
        assert shown(name) in screen, run


# -- what printable() does -------------------------------------------------------------------


def test_printable_shows_controls_and_leaves_plain_text_alone() -> None:
    plain = "feature/faster-widgets · ünïcode ✓\tand a tab"
    assert printable(plain) is plain  # no copy in the common case
    assert printable(HOSTILE) == SHOWN
    assert printable("a\rb\x08c\x00d\x7fe\x9bf\x85g") == "a\\x0db\\x08c\\x00d\\x7fe\\x9bf\\x85g"
    assert printable("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override
    assert printable("two\nlines") == "two\nlines"


def test_scrub_removes_every_form_of_a_basic_auth_token() -> None:
    token = "CCIPAT_b~?sic-token-5e8c1a7d"
    standard = base64.b64encode(f"{token}:".encode()).decode()
    urlsafe = base64.urlsafe_b64encode(f"{token}:".encode()).decode()
    assert standard.endswith("=") and standard != urlsafe  # the forms this test is about
    text = f"a {token} b Basic {standard} c {standard.rstrip('=')} d {urlsafe} e {urlsafe[:-1]}"
    assert scrub(text, (token,)) == "a *** b Basic *** c *** d *** e ***"
    assert set(secret_forms(token)) == {
        token,
        standard,
        standard.rstrip("="),
        urlsafe,
        urlsafe.rstrip("="),
    }


# -- hostile names from the fake -------------------------------------------------------------


async def test_pipelines_shows_a_hostile_branch_neutralised(api: FakeCircleCI) -> None:
    api.add_pipeline(SLUG, hostile("main"))
    text = await cli(*api_args(api), "pipelines", SLUG)
    as_json = await cli(*api_args(api), "pipelines", SLUG, "--json")
    assert text.code == 0, text
    assert_neutralised(text, "main")
    # --json: the value exactly as the server sent it, kept out of the byte stream by JSON
    # escaping alone
    assert as_json.code == 0, as_json
    assert as_json.json()[0]["vcs"]["branch"] == hostile("main")
    assert "\x1b" not in as_json.out and "\x07" not in as_json.out


async def test_artifacts_shows_hostile_paths_neutralised(api: FakeCircleCI) -> None:
    items = [
        {"path": hostile("results/junit.xml"), "node_index": 0, "url": "https://a.test/0/j.xml"}
    ]
    serve_artifact_listing(api, SLUG, 7, items)
    text = await cli(*api_args(api), "artifacts", SLUG, "7")
    assert text.code == 0, text
    assert_neutralised(text, "results/junit.xml")
    as_json = await cli(*api_args(api), "artifacts", SLUG, "7", "--json")
    assert as_json.json() == items


async def test_wait_shows_hostile_workflow_names_in_the_table_and_the_error_line(
    api: FakeCircleCI,
) -> None:
    fast = {"seconds": 0.2, "queue_seconds": 0.05}
    api.set_plan(SLUG, WorkflowPlan(hostile("build"), (JobPlan(hostile("compile"), **fast),)))
    done = api.trigger_pipeline(SLUG, hostile("main"))
    api.set_plan(SLUG, WorkflowPlan(hostile("deploy"), (JobPlan("hold", type="approval", **fast),)))
    held = api.trigger_pipeline(SLUG, "main")
    poll = ("--interval", "0.1")
    finished = await cli(*api_args(api), "wait", done["id"], *poll)
    timed_out = await cli(*api_args(api), "wait", held["id"], *poll, "--timeout", "0.5")
    assert finished.code == 0, finished
    assert_neutralised(finished, "build")
    assert timed_out.code == ExitCode.TIMEOUT, timed_out
    assert len(timed_out.err_lines) == 1, timed_out
    assert_neutralised(timed_out, "deploy")


async def test_watch_shows_hostile_branch_and_workflow_names_neutralised(
    api: FakeCircleCI,
) -> None:
    api.set_plan(
        SLUG,
        WorkflowPlan(hostile("build"), (JobPlan("compile", seconds=0.2, queue_seconds=0.05),)),
    )
    args = ("watch", SLUG, "--interval", "0.1", "--max-pipelines", "1", "--timeout", "20")
    proc = await start(*api_args(api), *args)
    try:
        await wait_until(
            lambda: any(r.path.endswith(f"{SLUG}/pipeline") for r in api.requests),
            what="the watcher polled",
        )
        api.trigger_pipeline(SLUG, hostile("main"))
    finally:
        run = await finish(proc)
    assert run.code == 0, run
    assert_neutralised(run, "main", "build")


# -- a server that echoes the credentials ----------------------------------------------------


BASIC_TOKEN = "CCIPAT_b~?sic-token-5e8c1a7d"


@attrs.frozen
class EchoServer:
    url: str
    #: The headers of every request received.
    seen: list[dict[str, str]]


def echo_credentials(seen: list[dict[str, str]]) -> web.Handler:
    """400, with every credential header received in the message, in each base64 form, and an
    escape sequence for good measure."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        echoed = []
        if "Circle-Token" in request.headers:
            echoed.append(f"Circle-Token {request.headers['Circle-Token']}")
        if "Authorization" in request.headers:
            value = request.headers["Authorization"]
            encoded = value.partition(" ")[2]
            urlsafe = encoded.replace("+", "-").replace("/", "_")
            echoed.append(
                f"Authorization {value} (unpadded {encoded.rstrip('=')}, url-safe {urlsafe}, "
                f"url-safe unpadded {urlsafe.rstrip('=')})"
            )
        message = "rejected: " + "; ".join(echoed or ["no credentials"]) + HOSTILE
        return web.json_response({"message": message}, status=400)

    return handler


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    seen: list[dict[str, str]] = []
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo_credentials(seen))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield EchoServer(f"http://127.0.0.1:{runner.addresses[0][1]}/api/v2", seen)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("auth", ["basic", "circle-token"])
async def test_an_error_body_echoing_the_credentials_is_scrubbed(
    echo: EchoServer, auth: str
) -> None:
    text, as_json = [
        await cli(
            "--base-url",
            echo.url,
            "--auth",
            auth,
            "--retries",
            "1",
            "rate-limit",
            *extra,
            env=child_env(token=BASIC_TOKEN),
        )
        for extra in ((), ("--json",))
    ]
    encoded = base64.b64encode(f"{BASIC_TOKEN}:".encode()).decode()
    for run in (text, as_json):
        assert run.code == ExitCode.API, run
        assert run.out == "" and len(run.err_lines) == 1, run
        line = run.err_lines[0]
        for form in secret_forms(BASIC_TOKEN):
            assert form not in run.err, (form, run)
        assert "\x1b" not in run.err, run  # no raw escape reaches the stream in either form
        if run is as_json:  # a JSON error keeps the server's text as a value, JSON-escaped
            line = json.loads(line)["error"]["message"]
            assert line.startswith("API error: HTTP 400: rejected: "), run
            assert "\x1b]0;pwned" in line, run
        else:
            assert line.startswith("circleci-async: error: API error: HTTP 400: rejected: "), run
            assert SHOWN in line, run
        assert "***" in line and "pwned" in line, run
        if auth == "basic":
            assert (
                "Authorization Basic *** (unpadded ***, url-safe ***, url-safe unpadded ***)"
                in line
            )
    # the server did receive the credentials in the form under test, once per run
    sent = [h.get("Authorization") if auth == "basic" else h.get("Circle-Token") for h in echo.seen]
    assert sent == [f"Basic {encoded}" if auth == "basic" else BASIC_TOKEN] * 2
