"""The command line as people type it: a bare ``circleci-async`` prints the help; the global
options (``--token``, ``--base-url``...) work after the subcommand too, and ``--json`` before it.

The CLI runs as a subprocess against the fake CircleCI, as in ``test_cli.py``; the argument
reordering is also checked as the pure function it is.
"""

from __future__ import annotations

from circleci_async.cli.argv import reorder
from circleci_async.cli.errors import ExitCode
from circleci_async.testing import FakeCircleCI

from ._cli_fixtures import api  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, TOKEN, child_env, cli, python

# -- no arguments ----------------------------------------------------------------------------


async def test_no_arguments_prints_the_help_as_help_does() -> None:
    bare, asked = await cli(), await cli("--help")
    assert asked.code == 0 and asked.out.startswith("Usage: circleci-async"), asked
    assert (bare.code, bare.out, bare.err) == (ExitCode.OK, asked.out, ""), bare
    assert "Exit codes:" in bare.out and len(bare.out.splitlines()) > 20  # not one flat line


# -- options anywhere ------------------------------------------------------------------------


async def test_global_options_after_the_subcommand(api: FakeCircleCI) -> None:
    api.add_pipeline(SLUG, "main")
    no_token = child_env(token=None)
    after = await cli(
        "pipelines",
        SLUG,
        "--token",
        TOKEN,
        f"--base-url={api.url}",
        "--runner-url",
        api.runner_url,
        "--retries",
        "1",
        "--json",
        env=no_token,
    )
    assert after.code == 0, after
    assert [p["vcs"]["branch"] for p in after.json()] == ["main"]
    # the option really applies: a wrong token after the subcommand is the one sent
    wrong = await cli("rate-limit", "--base-url", api.url, "--token", "wrong-token-0123456789")
    assert wrong.code == ExitCode.AUTH, wrong
    assert "wrong-token-0123456789" not in wrong.err


async def test_json_before_the_subcommand(api: FakeCircleCI) -> None:
    run = await cli("--json", "--base-url", api.url, "rate-limit")
    assert run.code == 0, run
    assert run.json()["user"] == api.user["login"]


async def test_an_option_value_that_looks_like_a_global_option_stays(api: FakeCircleCI) -> None:
    """``--param-str`` takes the next word as its value, even one spelled like ``--token``."""
    run = await cli("--base-url", api.url, "trigger", SLUG, "--param-str", "--token", "--json")
    assert run.code == ExitCode.USAGE, run  # "--token" is not KEY=VALUE: the value was kept
    assert "KEY=VALUE" in run.err and not [r for r in api.requests if r.method == "POST"]


# -- the reordering itself -------------------------------------------------------------------

GROUP = {"--token": True, "--base-url": True, "--retries": True, "--help": False, "-V": False}
COMMANDS = {
    "pipelines": {"--branch": True, "--json": False, "--help": False},
    "trigger": {"--param": True, "--json": False, "--help": False},
}


def moved(*args: str) -> list[str]:
    return reorder(args, GROUP, COMMANDS, keep=("--help", "-V"))


def test_reorder_moves_group_options_up_and_json_down() -> None:
    assert moved("pipelines", "gh/a/b", "--token", "T", "--json", "--retries=2") == [
        "--token",
        "T",
        "--retries=2",
        "pipelines",
        "gh/a/b",
        "--json",
    ]
    assert moved("--json", "--token", "T", "pipelines", "gh/a/b") == [
        "--token",
        "T",
        "pipelines",
        "--json",
        "gh/a/b",
    ]


def test_reorder_leaves_what_it_must_alone() -> None:
    for args in [
        ("pipelines", "gh/a/b"),
        ("pipelines", "--", "--token", "T"),  # after --: positional
        ("trigger", "gh/a/b", "--param", "--token"),  # the value of a command option
        ("pipelines", "--help"),  # the command's own help
        ("pipelines", "gh/a/b", "-V"),  # version: not moved
        ("pipelines", "gh/a/b", "--token"),  # no value: left for click to report
        ("nope", "--token", "T"),  # unknown command: click reports it
        ("--token", "T"),  # no subcommand
        (),
    ]:
        assert moved(*args) == list(args), args


# -- what --help loads -----------------------------------------------------------------------


async def test_help_loads_neither_rich_nor_the_commands_machinery() -> None:
    """Commands import what they use when they run; ``--help`` needs click alone."""
    run = await python(
        "import sys\n"
        "from circleci_async.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('rich.table', 'rich.live', 'rich.progress', 'circleci_async.cli.render',\n"
        "         'circleci_async.cli.mirroring', 'circleci_async.cli.demo',\n"
        "         'circleci_async.testing')\n"
        "sys.stderr.write(repr(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    assert run.code == 0 and run.out.startswith("Usage: circleci-async"), run
    assert run.err == "[]", run


# -- the library's logs ----------------------------------------------------------------------


async def test_debug_shows_the_librarys_logs_on_stderr_and_v_only_the_quiet_ones(
    api: FakeCircleCI,
) -> None:
    """``--debug`` (``-vv``) shows a DEBUG line per request on stderr, the query string
    redacted but kept; ``-v`` shows INFO and above only; neither ever shows the token, and
    stdout holds only the command's own output."""
    api.seed_pipelines(SLUG, count=3)
    args = ("--base-url", api.url, "pipelines", SLUG, "--branch", "main", "--json")
    debug, quiet, plain = await cli("--debug", *args), await cli("-v", *args), await cli(*args)
    for run in (debug, quiet, plain):
        assert run.code == 0, run
        assert TOKEN not in run.out + run.err
        assert run.json() == plain.json()  # logs never reach stdout
    lines = [line for line in debug.err.splitlines() if "DEBUG" in line]
    assert any("circleci_async" in line and "/pipeline" in line for line in lines), debug.err
    assert any("branch=main" in line for line in lines), debug.err
    assert "DEBUG" not in quiet.err and plain.err == ""
