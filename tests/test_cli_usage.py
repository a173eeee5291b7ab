"""The command line's smaller traps (issue 14, item 9), run as a subprocess against the fake:
parameter typing, ids that are not UUIDs, slugs without a VCS prefix, ``--json`` errors, and
what a closed port says.
"""

from __future__ import annotations

import asyncio
import json
import socket

from circleci_async.cli.commands.pipelines import parse_parameter
from circleci_async.cli.errors import ExitCode, connect_reason
from circleci_async.cli.options import check_slug
from circleci_async.testing import FakeCircleCI

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, TOKEN, Run, api_args, cli


def one_error(run: Run, code: int, *needles: str) -> str:
    assert run.code == code, run
    assert run.out == "", run
    assert len(run.err_lines) == 1, run
    text = run.err_lines[0]
    assert text.startswith("circleci-async: error: "), run
    for needle in needles:
        assert needle in text, run
    assert TOKEN not in run.err
    return text


async def test_only_plain_ascii_integers_become_numbers(api: FakeCircleCI) -> None:
    run = await cli(
        *api_args(api),
        "trigger",
        SLUG,
        "--param",
        "version=007",
        "--param",
        "wide=\uff11\uff12",  # full-width digits
        "--param",
        "plus=+5",
        "--param",
        "count=42",
        "--param",
        "below=-3",
        "--param",
        "zero=0",
        "--json",
    )
    assert run.code == 0, run
    posted = [r for r in api.requests if r.method == "POST"]
    assert posted[0].json()["parameters"] == {
        "version": "007",
        "wide": "\uff11\uff12",
        "plus": "+5",
        "count": 42,
        "below": -3,
        "zero": 0,
    }


def test_parse_parameter_keeps_every_other_digit_string() -> None:
    assert parse_parameter("a=\u0663") == ("a", "\u0663")  # Arabic-Indic three
    assert parse_parameter("a=-0") == ("a", 0)
    assert parse_parameter("a=10") == ("a", 10)
    assert parse_parameter("a=010") == ("a", "010")


async def test_wait_on_something_that_is_not_a_uuid_says_so(api: FakeCircleCI) -> None:
    run = await cli(*api_args(api), "wait", "not-a-uuid")
    one_error(run, ExitCode.USAGE, "'not-a-uuid' is not a UUID")
    assert api.requests == []  # refused before asking the server


async def test_a_slug_without_vcs_prefix_gets_a_hint(api: FakeCircleCI) -> None:
    runs = await asyncio.gather(
        cli(*api_args(api), "pipelines", "acme/widgets"),
        cli(*api_args(api), "mirror", "acme/widgets", "out"),
        cli(*api_args(api), "pipelines", "widgets"),
    )
    one_error(runs[0], ExitCode.USAGE, "no VCS prefix", "gh/acme/widgets", "bb/acme/widgets")
    one_error(runs[1], ExitCode.USAGE, "no VCS prefix", "circleci/<org-id>/<project-id>")
    one_error(runs[2], ExitCode.USAGE, "not a project slug")
    assert api.requests == []
    assert check_slug("gh/acme/widgets") is None
    assert check_slug("circleci/6b2f/9d31") is None
    assert check_slug("github/acme/widgets") is None


async def test_json_errors_are_json_on_stderr(api: FakeCircleCI) -> None:
    missing, usage, plain = await asyncio.gather(
        cli(*api_args(api), "pipelines", "gh/acme/nothing-here", "--json"),
        cli(*api_args(api), "--json", "wait", "nope"),
        cli(*api_args(api), "pipelines", "gh/acme/nothing-here"),
    )
    for run, code in ((missing, ExitCode.NOT_FOUND), (usage, ExitCode.USAGE)):
        assert run.code == code and run.out == "", run
        lines = run.err_lines
        assert len(lines) == 1, run
        document = json.loads(lines[0])
        assert document["error"]["exit_code"] == code
        assert document["error"]["message"]
    assert "not a UUID" in json.loads(usage.err)["error"]["message"]
    one_error(plain, ExitCode.NOT_FOUND, "not found")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_closed_port_says_connection_refused() -> None:
    port = _closed_port()
    run = await cli(
        "--base-url", f"http://127.0.0.1:{port}/api/v2", "--retries", "1", "pipelines", SLUG
    )
    text = one_error(run, ExitCode.NETWORK, "connection refused", f"127.0.0.1:{port}")
    assert "ssl:default" not in text and "ClientConnectorError" not in text


def test_connect_reasons() -> None:
    assert connect_reason("Cannot connect to host h:1 ssl:default [Connect call failed]") == (
        "connection refused"
    )
    assert connect_reason("Cannot connect to host x ssl:default [Name or service not known]") == (
        "host not found (DNS)"
    )
    assert "TLS certificate" in connect_reason(
        "SSLCertVerificationError: certificate verify failed"
    )
    assert connect_reason("something else") == "something else"
