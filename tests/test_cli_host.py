"""Server installs as the official CLI configures them (issue 14, item 4): ``--host`` derives
``/api/v2`` and the runner API's ``/api/v3``; the official CLI's ``CIRCLECI_CLI_TOKEN``,
``CIRCLECI_CLI_HOST`` and ``~/.circleci/cli.yml`` are read after our own options and variables;
a 404 from a base URL without ``/api/v2`` says so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circleci_async.cli.errors import ExitCode
from circleci_async.cli.official import (
    CliYmlError,
    OfficialSettings,
    api_base_from_host,
    parse_cli_yml,
)
from circleci_async.testing import FakeCircleCI

from ._cli_support import ROOMY, SLUG, TOKEN, child_env, cli


@pytest.fixture
async def api() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN, rate_limit=ROOMY) as server:
        server.add_project(SLUG)
        server.add_pipeline(SLUG, "main")
        yield server


def origin(api: FakeCircleCI) -> str:
    return api.url.removesuffix("/api/v2")


def home_with(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "home" / ".circleci"
    folder.mkdir(parents=True)
    (folder / "cli.yml").write_text(text)
    return str(tmp_path / "home")


async def test_host_derives_the_api_and_runner_paths(api: FakeCircleCI) -> None:
    listed, runners = await asyncio.gather(
        cli("--host", origin(api), "pipelines", SLUG, "--json"),
        cli("runners", "--namespace", "acme", "--host", origin(api) + "/", "--json"),
    )
    assert listed.code == 0 and len(listed.json()) == 1, listed
    assert runners.code == 0, runners
    paths = {r.path.split("/")[2] for r in api.requests}
    assert paths == {"v2", "v3"}  # /api/v2/... for the API, /api/v3/runner for runners


async def test_the_official_cli_settings_are_read_after_ours(
    api: FakeCircleCI, tmp_path: Path
) -> None:
    home = home_with(
        tmp_path,
        "# written by circleci setup\n"
        f"host: {origin(api)}\n"
        "endpoint: graphql-unstable\n"
        f'token: "{TOKEN}"\n'
        "rest_endpoint: api/v2\n"
        "orb_publishing:\n"
        "    default_namespace: acme\n",
    )
    from_file, from_env, ours_first, both = await asyncio.gather(
        cli("pipelines", SLUG, "--json", env=child_env(token=None, HOME=home)),
        cli(
            "pipelines",
            SLUG,
            "--json",
            env=child_env(
                token=None,
                HOME=str(tmp_path),
                CIRCLECI_CLI_TOKEN=TOKEN,
                CIRCLECI_CLI_HOST=origin(api),
            ),
        ),
        # our variable wins over the file's token: the fake refuses it (401)
        cli("pipelines", SLUG, env=child_env(token="ours-not-the-fakes-token", HOME=home)),
        cli("--host", "http://a.invalid", "--base-url", api.url, "pipelines", SLUG),
    )
    assert from_file.code == 0 and len(from_file.json()) == 1, from_file
    assert from_env.code == 0 and len(from_env.json()) == 1, from_env
    assert ours_first.code == ExitCode.AUTH, ours_first
    assert both.code == ExitCode.USAGE and "--base-url or --host" in both.err, both
    assert TOKEN not in from_file.err + ours_first.err


async def test_a_bad_cli_yml_is_one_clear_error(tmp_path: Path) -> None:
    home = home_with(tmp_path, "token: |\n  abc\n")
    run = await cli("pipelines", SLUG, env=child_env(token=None, HOME=home))
    assert run.code == ExitCode.CONFIG, run
    assert "cli.yml line 1" in run.err and "plain or quoted" in run.err, run


async def test_a_404_from_a_base_url_without_api_v2_says_so(api: FakeCircleCI) -> None:
    run = await cli("--base-url", origin(api), "pipelines", SLUG)
    assert run.code == ExitCode.NOT_FOUND, run
    assert "the base URL has no /api/v2" in run.err and "--host" in run.err, run
    good = await cli("--base-url", api.url, "pipelines", "gh/acme/none")
    assert good.code == ExitCode.NOT_FOUND and "no /api/v2" not in good.err, good


def test_the_cli_yml_reader_is_strict_about_token_and_host() -> None:
    assert parse_cli_yml("host: https://c.example.com # server\ntoken: 'it''s'\n") == (
        OfficialSettings(token="it's", host="https://c.example.com")
    )
    assert parse_cli_yml("---\nother:\n  token: nested\n- item\n") == OfficialSettings()
    assert parse_cli_yml("token:\n") == OfficialSettings()
    for bad in ("token: >\n", "token: [a]\n", "token: 'open\n", "host: a\nhost: b\n", "x y\n"):
        with pytest.raises(CliYmlError):
            parse_cli_yml(bad)
    assert api_base_from_host("https://c.example.com/") == "https://c.example.com/api/v2"
    assert api_base_from_host("https://c.example.com/api/v2") == "https://c.example.com/api/v2"
