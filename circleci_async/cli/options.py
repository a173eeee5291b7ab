"""What every command shares: the global settings, ``--json``, ``--interval``, running a
command's work with a client, and status notes.

Kept light on purpose (click only at import time): ``circleci-async --help`` imports this and
every command module, but not rich, the renderers or the mirror flow, which a command imports
when it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from .settings import Settings

if TYPE_CHECKING:
    from ..client import CircleCI

__all__ = [
    "LAYOUTS",
    "SKIP_POLICIES",
    "State",
    "check_slug",
    "interval_option",
    "json_option",
    "project_slug_argument",
    "run_client",
    "status",
]

F = TypeVar("F", bound=Callable[..., Any])


@attrs.define
class State:
    """What the group callback leaves for the commands and for :func:`~.app.main`: the
    settings (also for scrubbing secrets from error lines)."""

    settings: Settings = attrs.field(factory=Settings)


def json_option(fn: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Machine output: JSON on stdout, nothing else."
    )(fn)


#: The values of :class:`~circleci_async.download.SkipPolicy` and
#: :class:`~circleci_async.download.Layout`, spelled here so that ``--help`` need not import the
#: downloader (a test checks they are the enums' values).
SKIP_POLICIES = ("overwrite", "if-present", "if-size-matches")
LAYOUTS = ("auto", "per-node", "flat")

#: The first segment of a project slug: GitHub and Bitbucket OAuth projects (short and long
#: forms), and ``circleci/<org-id>/<project-id>`` for GitLab and GitHub App projects.
VCS_PREFIXES = frozenset({"gh", "github", "bb", "bitbucket", "circleci"})


def check_slug(slug: str) -> str | None:
    """Why ``slug`` cannot be a project slug, with the likely fix; None when it may be one.
    Only the clear case is refused (``org/repo``, no VCS prefix): an unknown prefix might be a
    server install's own and is left to the server."""
    parts = slug.split("/")
    if len(parts) == 2 and all(parts) and parts[0].lower() not in VCS_PREFIXES:
        return (
            f"{slug!r} has no VCS prefix: project slugs are gh/{slug} (GitHub), bb/{slug} "
            "(Bitbucket) or circleci/<org-id>/<project-id> (GitLab, GitHub App)"
        )
    if len(parts) < 2 or not all(parts):
        return (
            f"{slug!r} is not a project slug: expected gh/<org>/<repo>, bb/<org>/<repo> or "
            "circleci/<org-id>/<project-id>"
        )
    return None


def _slug(ctx: click.Context, param: click.Parameter, value: str) -> str:
    problem = check_slug(value)
    if problem is not None:
        raise click.BadParameter(problem, ctx=ctx, param=param)
    return value


#: ``PROJECT_SLUG``, refused early (exit 2, with a hint) when it lacks its VCS prefix.
project_slug_argument = click.argument("project_slug", callback=_slug)

#: Shared by the commands that poll (``wait``, ``watch``).
interval_option = click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="First poll interval; it grows while nothing changes.",
)


def settings_of(ctx: click.Context) -> Settings:
    state = ctx.find_object(State)
    return state.settings if state is not None else Settings()


def run_client(
    ctx: click.Context,
    work: Callable[[CircleCI], Awaitable[int]],
    *,
    trace_configs: Sequence[Any] = (),
) -> int:
    """Run ``work`` with a client built from the global options, in a fresh event loop
    (``trace_configs``: aiohttp traces for a display that follows the requests)."""
    import asyncio

    from .session import open_client

    settings = settings_of(ctx)

    async def body() -> int:
        async with open_client(settings, trace_configs=trace_configs) as cci:
            return await work(cci)

    return asyncio.run(body())


def status(message: str, as_json: bool) -> None:
    """A note for a person at a terminal, on stderr; scripts (``--json``, or stderr not a
    terminal) get a stderr that holds errors only."""
    if not as_json and sys.stderr.isatty():
        from .render import line, stderr_console

        stderr_console().print(line(message, style="dim"))
