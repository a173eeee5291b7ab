"""The ``circleci-async`` group: the global options (accepted before or after the
subcommand), the commands of :mod:`.commands`, and :func:`main`, which turns every failure into
one line on stderr and an exit code (a bare ``circleci-async`` prints the help).

Every command has ``--json``: then stdout holds only JSON and anything meant for people goes to
stderr. Failures are raised by the commands and reported here.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from .._version import __version__
from .argv import option_arity, reorder
from .commands.artifacts import artifacts, mirror
from .commands.completion import completion
from .commands.demo import demo
from .commands.insights import insights
from .commands.jobs import job
from .commands.pipelines import FollowTracker, parse_parameter, pipelines, trigger, wait, watch
from .commands.ratelimit import rate_limit
from .commands.runners import runners
from .commands.runs import runs
from .errors import ExitCode, one_line, scrub
from .options import State
from .settings import Settings, parse_connect_to
from .terminal import printable

__all__ = ["FollowTracker", "cli", "main", "parse_parameter"]

EXIT_CODES = """\b
Exit codes:
  0  success
  1  the outcome is a failure (failed pipeline or workflow, files not mirrored)
  2  bad command line, or the cli extra is not installed
  3  no token, or a bad setting (URL, certificate file, directory)
  4  the token was refused (401) or lacks permission (403)
  5  not found (404)
  6  rate limited for longer than --max-wait
  7  network: the server could not be reached
  8  timed out (a request, or wait --timeout)
  9  other API errors (5xx after retries, 400, unexpected answers)
  130 interrupted (Ctrl-C; watch exits 0)
"""


# -- the group -------------------------------------------------------------------------------


class Group(click.Group):
    """The group, taking its options after the subcommand too (:func:`.argv.reorder`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        commands = {
            name: option_arity(command.get_params(ctx)) for name, command in self.commands.items()
        }
        keep = (*ctx.help_option_names, *VERSION_OPTIONS)
        args = reorder(args, option_arity(self.get_params(ctx)), commands, keep=keep)
        return super().parse_args(ctx, args)


VERSION_OPTIONS = ("-V", "--version")

#: click 8.2+ raises this for a bare ``circleci-async`` (older versions print the help).
_NoArgsIsHelp: type[click.UsageError] | None = getattr(click.exceptions, "NoArgsIsHelpError", None)


@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.option(
    "--token",
    metavar="TOKEN",
    help="Personal API token (default: $CIRCLECI_TOKEN, then $CIRCLE_TOKEN, then the official "
    "CLI's $CIRCLECI_CLI_TOKEN and the token: of ~/.circleci/cli.yml).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="API v2 base URL, for CircleCI server installs (default: https://circleci.com/api/v2; "
    "$CIRCLECI_BASE_URL).",
)
@click.option(
    "--host",
    metavar="URL",
    help="A CircleCI server install's address, as the official CLI takes it "
    "(https://circleci.example.com): the API is at /api/v2 and the runner API at /api/v3 "
    "there. After --base-url and $CIRCLECI_BASE_URL come $CIRCLECI_CLI_HOST and the host: of "
    "~/.circleci/cli.yml.",
)
@click.option(
    "--runner-url",
    envvar="CIRCLECI_RUNNER_URL",
    metavar="URL",
    help="Runner API base URL (default: runner.circleci.com/api/v3, or /api/v3 on the "
    "--base-url host).",
)
@click.option(
    "--auth",
    type=click.Choice(["circle-token", "basic"]),
    default="circle-token",
    show_default=True,
    help="How the token is sent: the Circle-Token header, or HTTP basic auth.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest one attempt of an API call may take.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Attempts per API call (429s, 5xx and dropped connections of safe calls are retried).",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=900.0,
    show_default=True,
    metavar="SECONDS",
    help="Longest rate-limit wait accepted; a longer one fails with exit code 6.",
)
@click.option(
    "--cacert",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust this CA bundle (PEM) instead of the system's, e.g. for a server install.",
)
@click.option(
    "--connect-to",
    multiple=True,
    metavar="HOST:PORT:TO_HOST:TO_PORT",
    help="Connect to TO_HOST:TO_PORT whenever HOST:PORT is wanted (as curl's option; empty "
    "PORT: any). Repeatable.",
)
@click.option(
    "--artifact-origin",
    multiple=True,
    envvar="CIRCLECI_ARTIFACT_ORIGINS",
    metavar="ORIGIN",
    help="Another origin that may receive the token when downloading artifacts, such as "
    "https://*.artifacts.example.com on a server install. Repeatable "
    "($CIRCLECI_ARTIFACT_ORIGINS: space-separated).",
)
@click.option(
    "-v",
    "verbose",
    count=True,
    help="Show the library's logs on stderr: -v retries and long rate-limit waits, -vv "
    "every request.",
)
@click.option("--debug", is_flag=True, help="Show every log of the library on stderr (-vv).")
@click.option(
    "--shared-limit",
    envvar="CIRCLECI_SHARED_LIMIT",
    metavar="URL",
    help="Share one rate-limit budget with every process on this Redis (redis://, rediss://, "
    "unix://; needs the redis extra; $CIRCLECI_SHARED_LIMIT).",
)
@click.version_option(__version__, *VERSION_OPTIONS, prog_name="circleci-async")
@click.pass_context
def cli(
    ctx: click.Context,
    token: str | None,
    base_url: str | None,
    host: str | None,
    runner_url: str | None,
    auth: str,
    request_timeout: float,
    retries: int,
    max_wait: float,
    cacert: str | None,
    connect_to: tuple[str, ...],
    artifact_origin: tuple[str, ...],
    verbose: int = 0,
    debug: bool = False,
    shared_limit: str | None = None,
) -> None:
    """CircleCI from the command line: pipelines, waiting, artifacts and mirroring, insights,
    runners, rate limits. Built on the circleci_async library.

    Try `circleci-async demo` first: it runs a mirror against a built-in fake CircleCI, with no
    token and no network.
    """
    for spec in connect_to:
        parse_connect_to(spec)  # fail early, before any command runs
    if debug or verbose:
        _show_logs(logging.DEBUG if debug or verbose > 1 else logging.INFO)
    state = ctx.ensure_object(State)
    state.settings = Settings(
        token=token,
        base_url=base_url,
        host=host,
        runner_url=runner_url,
        auth="basic" if auth == "basic" else "circle-token",
        request_timeout=request_timeout,
        retries=retries,
        max_wait=max_wait,
        cacert=cacert,
        connect_to=connect_to,
        artifact_origins=artifact_origin,
        shared_limit=shared_limit or None,
    )


for _command in (
    pipelines,
    trigger,
    wait,
    artifacts,
    mirror,
    insights,
    runners,
    runs,
    rate_limit,
    watch,
    demo,
    job,
    completion,
):
    cli.add_command(_command)


# -- entry point -----------------------------------------------------------------------------


def _show_logs(level: int) -> None:
    """The library's log records on stderr (they never hold a token or a signed URL)."""
    library = logging.getLogger("circleci_async")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    library.addHandler(handler)
    library.setLevel(level)


def _fail(code: int, message: str, secrets: tuple[str, ...], as_json: bool = False) -> NoReturn:
    """One line on stderr: ``circleci-async: error: ...``, or with ``--json`` one JSON object
    (``{"error": {"exit_code": 5, "message": "..."}}``) so a script reads both streams as JSON."""
    sys.stdout.flush()
    if as_json:
        import json

        text = one_line(scrub(message, secrets))
        document = {"error": {"exit_code": int(code), "message": text}}
        sys.stderr.write(json.dumps(document, ensure_ascii=True) + "\n")
    else:
        text = one_line(printable(scrub(message, secrets)))
        sys.stderr.write(f"circleci-async: error: {text}\n")
    sys.stderr.flush()
    sys.exit(code)


def _wants_json(argv: Sequence[str]) -> bool:
    """``--json`` on the command line (before any ``--``)."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _argv_token(argv: Sequence[str]) -> tuple[str, ...]:
    """A ``--token`` value on the command line, for scrubbing errors raised before the options
    are parsed (a usage error must not echo it either)."""
    for index, arg in enumerate(argv):
        if arg == "--token" and index + 1 < len(argv):
            return (argv[index + 1],)
        if arg.startswith("--token="):
            return (arg.partition("=")[2],)
    return ()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the command line; every failure ends as one line on stderr and an exit code."""
    state = State()
    args = list(argv) if argv is not None else sys.argv[1:]

    as_json = _wants_json(args)

    def secrets() -> tuple[str, ...]:
        return state.settings.secrets() + _argv_token(args)

    try:
        code = cli.main(
            args=args,
            prog_name="circleci-async",
            standalone_mode=False,
            obj=state,
        )
    except click.UsageError as exc:
        if _NoArgsIsHelp is not None and isinstance(exc, _NoArgsIsHelp):
            sys.stdout.write(exc.format_message() + "\n")  # the help, as --help prints it
            sys.exit(ExitCode.OK)
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(ExitCode.USAGE, exc.format_message() + hint, secrets(), as_json)
    except click.ClickException as exc:
        _fail(exc.exit_code, exc.format_message(), secrets(), as_json)
    except (KeyboardInterrupt, click.Abort):
        _fail(ExitCode.INTERRUPTED, "interrupted", secrets(), as_json)
    except Exception as exc:
        from .errors import describe

        exit_code, message = describe(exc)
        _fail(exit_code, message, secrets(), as_json)
    sys.exit(int(code) if isinstance(code, int) else 0)
