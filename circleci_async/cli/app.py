"""The commands. Each one parses options, calls the library, and hands the answer to
:mod:`.render`; the protocol (pagination, rate limits, retries, polling, downloads) is all in the
library.

Every command has ``--json``: then stdout holds only JSON and anything meant for people goes to
stderr. Failures are raised and turned into one line and an exit code by :func:`main`.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import click

from .._version import __version__
from ..client import CircleCI
from ..download import Layout, SkipPolicy
from ..errors import NotFound
from ..models.common import ParameterValue
from ..models.pipelines import Pipeline
from ..models.workflows import Workflow
from ..waiting import PollSchedule, WaitTimeout
from .errors import CliError, ExitCode, describe, one_line, scrub
from .mirroring import MirrorFilters, parse_when, run_mirror, summary_table
from .render import (
    emit_json,
    emit_json_line,
    human_seconds,
    rate_limit_table,
    simple_table,
    sparkline,
    stderr_console,
    stdout_console,
    when,
)
from .session import Settings, open_client, parse_connect_to

if TYPE_CHECKING:
    from ..watching import StateChange

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

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


@attrs.define
class State:
    """What the group callback leaves for :func:`main`: the settings (for scrubbing secrets
    from error lines)."""

    settings: Settings = attrs.field(factory=Settings)


def json_option(fn: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Machine output: JSON on stdout, nothing else."
    )(fn)


#: Shared by the commands that poll (``wait``, ``watch``).
interval_option = click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="First poll interval; it grows while nothing changes.",
)


def _run(ctx: click.Context, work: Callable[[CircleCI], Awaitable[int]]) -> int:
    """Run ``work`` with a client built from the global options, in a fresh event loop."""
    settings: Settings = ctx.find_object(State).settings  # type: ignore[union-attr]

    async def body() -> int:
        async with open_client(settings) as cci:
            return await work(cci)

    return asyncio.run(body())


def _status(message: str, as_json: bool) -> None:
    """A note for a person at a terminal, on stderr; scripts (``--json``, or stderr not a
    terminal) get a stderr that holds errors only."""
    if not as_json and sys.stderr.isatty():
        stderr_console().print(message, style="dim")


# -- the group -------------------------------------------------------------------------------


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@click.option(
    "--token",
    metavar="TOKEN",
    help="Personal API token (default: $CIRCLECI_TOKEN, then $CIRCLE_TOKEN).",
)
@click.option(
    "--base-url",
    envvar="CIRCLECI_BASE_URL",
    metavar="URL",
    help="API v2 base URL, for CircleCI server installs (default: https://circleci.com/api/v2; "
    "$CIRCLECI_BASE_URL).",
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
    metavar="ORIGIN",
    help="Another origin that may receive the token when downloading artifacts, such as "
    "https://*.artifacts.example.com on a server install. Repeatable.",
)
@click.version_option(__version__, "-V", "--version", prog_name="circleci-async")
@click.pass_context
def cli(
    ctx: click.Context,
    token: str | None,
    base_url: str | None,
    runner_url: str | None,
    auth: str,
    request_timeout: float,
    retries: int,
    max_wait: float,
    cacert: str | None,
    connect_to: tuple[str, ...],
    artifact_origin: tuple[str, ...],
) -> None:
    """CircleCI from the command line: pipelines, waiting, artifacts and mirroring, insights,
    runners, rate limits. Built on the circleci_async library.

    Try `circleci-async demo` first: it runs a mirror against a built-in fake CircleCI, with no
    token and no network.
    """
    for spec in connect_to:
        parse_connect_to(spec)  # fail early, before any command runs
    state = ctx.ensure_object(State)
    state.settings = Settings(
        token=token,
        base_url=base_url,
        runner_url=runner_url,
        auth="basic" if auth == "basic" else "circle-token",
        request_timeout=request_timeout,
        retries=retries,
        max_wait=max_wait,
        cacert=cacert,
        connect_to=connect_to,
        artifact_origins=artifact_origin,
    )


# -- pipelines, trigger ----------------------------------------------------------------------


@cli.command()
@click.argument("project_slug")
@click.option("--branch", help="Only pipelines of this branch.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many."
)
@json_option
@click.pass_context
def pipelines(
    ctx: click.Context, project_slug: str, branch: str | None, limit: int, as_json: bool
) -> int:
    """List a project's pipelines, newest first (PROJECT_SLUG: gh/org/repo)."""

    async def work(cci: CircleCI) -> int:
        found = await cci.pipelines.list_for_project(
            project_slug, branch=branch, max_items=limit
        ).collect()
        if as_json:
            emit_json(found)
            return ExitCode.OK
        rows = [
            (
                p.number,
                p.state,
                (p.vcs.branch or (f"tag {p.vcs.tag}" if p.vcs.tag else None)) if p.vcs else None,
                when(p.created_at),
                p.trigger.type,
                p.trigger.actor.login,
                p.id,
            )
            for p in found
        ]
        console = stdout_console()
        console.print(
            simple_table(("#", "state", "branch", "created", "trigger", "actor", "id"), rows)
        )
        if not found:
            console.print("no pipelines")
        return ExitCode.OK

    return _run(ctx, work)


_INT = re.compile(r"[+-]?\d+")


def parse_parameter(text: str, *, typed: bool = True) -> tuple[str, ParameterValue]:
    """``KEY=VALUE``; values typed as CircleCI pipeline parameters are: ``true``/``false`` a
    boolean, an integer an integer, anything else a string (``typed=False``: always a string)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{text!r}: expected KEY=VALUE")
    key = key.strip()
    if not typed:
        return key, raw
    if raw.lower() in ("true", "false"):
        return key, raw.lower() == "true"
    if _INT.fullmatch(raw):
        return key, int(raw)
    return key, raw


@cli.command()
@click.argument("project_slug")
@click.option("--branch", help="Branch to build (or pull/<n>/head for a GitHub PR).")
@click.option("--tag", help="Tag to build (instead of a branch).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Pipeline parameter; true/false become booleans, integers integers. Repeatable.",
)
@click.option(
    "--param-str",
    "string_params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Pipeline parameter kept as a string (e.g. a version like 123). Repeatable.",
)
@json_option
@click.pass_context
def trigger(
    ctx: click.Context,
    project_slug: str,
    branch: str | None,
    tag: str | None,
    params: tuple[str, ...],
    string_params: tuple[str, ...],
    as_json: bool,
) -> int:
    """Trigger a pipeline. It is never retried once sent: a duplicate pipeline is worse than an
    error."""
    if branch and tag:
        raise click.UsageError("pass --branch or --tag, not both")
    parameters: dict[str, ParameterValue] = {}
    for text, typed in [(p, True) for p in params] + [(p, False) for p in string_params]:
        key, value = parse_parameter(text, typed=typed)
        if key in parameters:
            raise click.BadParameter(f"parameter {key!r} given twice")
        parameters[key] = value

    async def work(cci: CircleCI) -> int:
        created = await cci.pipelines.trigger(
            project_slug, branch=branch, tag=tag, parameters=parameters or None
        )
        if as_json:
            emit_json(created)
        else:
            stdout_console().print(
                f"pipeline #{created.number} {created.state}: {created.id}", highlight=False
            )
        return ExitCode.OK

    return _run(ctx, work)


# -- wait ------------------------------------------------------------------------------------


@cli.command()
@click.argument("id")
@click.option(
    "--kind",
    type=click.Choice(["auto", "pipeline", "workflow"]),
    default="auto",
    show_default=True,
    help="What ID is; auto asks for a pipeline first, then a workflow.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up after this long (exit code 8).",
)
@interval_option
@json_option
@click.pass_context
def wait(
    ctx: click.Context, id: str, kind: str, timeout: float, interval: float, as_json: bool
) -> int:
    """Wait until a pipeline or a workflow finishes. Exit code 0 only if it succeeded, 1 if it
    failed, 8 on --timeout."""
    schedule = PollSchedule(interval=interval, max_interval=max(interval, 30.0))

    async def work(cci: CircleCI) -> int:
        what = kind
        if what == "auto":
            what = await _kind_of(cci, id)
        _status(f"waiting for {what} {id} (at most {human_seconds(timeout)})", as_json)
        try:
            if what == "pipeline":
                outcome = await cci.pipelines.wait(id, timeout=timeout, schedule=schedule)
                result = "success" if outcome.succeeded else "failed"
                _show_wait(what, id, result, outcome.pipeline, outcome.workflows, as_json)
            else:
                workflow = await cci.workflows.wait(id, timeout=timeout, schedule=schedule)
                result = "success" if workflow.status == "success" else "failed"
                _show_wait(what, id, result, None, [workflow], as_json)
        except WaitTimeout as exc:
            last = exc.last
            pipeline = getattr(last, "pipeline", None)
            workflows = list(getattr(last, "workflows", None) or ([] if pipeline else [last]))
            if as_json:
                _show_wait(what, id, "timeout", pipeline, workflows, as_json)
            states = ", ".join(f"{w.name} {w.status}" for w in workflows)
            if pipeline is not None:
                states = f"pipeline {pipeline.state}" + (f"; {states}" if states else "")
            raise CliError(
                f"timed out after {human_seconds(timeout)} waiting for {what} {id}"
                + (f" (last seen: {states})" if states else ""),
                ExitCode.TIMEOUT,
            ) from None
        return ExitCode.OK if result == "success" else ExitCode.FAILED

    return _run(ctx, work)


async def _kind_of(cci: CircleCI, id: str) -> str:
    try:
        await cci.pipelines.get(id)
    except NotFound:
        pass
    else:
        return "pipeline"
    try:
        await cci.workflows.get(id)
    except NotFound:
        raise CliError(f"not found: no pipeline or workflow {id}", ExitCode.NOT_FOUND) from None
    return "workflow"


def _show_wait(
    kind: str, id: str, result: str, pipeline: Any, workflows: Sequence[Any], as_json: bool
) -> None:
    if as_json:
        emit_json(
            {
                "kind": kind,
                "id": id,
                "result": result,
                "pipeline": pipeline,
                "workflows": list(workflows),
            }
        )
        return
    console = stdout_console()
    label = f"pipeline #{pipeline.number}" if pipeline is not None else f"{kind} {id}"
    console.print(f"{label}: {result}", style="green" if result == "success" else "red")
    if workflows:
        rows = [(w.name, w.status, when(w.created_at), when(w.stopped_at), w.id) for w in workflows]
        console.print(simple_table(("workflow", "status", "created", "stopped", "id"), rows))


# -- artifacts -------------------------------------------------------------------------------


@cli.command()
@click.argument("project_slug")
@click.argument("job_number", type=click.IntRange(min=0))
@json_option
@click.pass_context
def artifacts(ctx: click.Context, project_slug: str, job_number: int, as_json: bool) -> int:
    """List the artifacts of one job."""

    async def work(cci: CircleCI) -> int:
        items = await cci.jobs.artifacts(project_slug, job_number).collect()
        if as_json:
            emit_json(items)
            return ExitCode.OK
        console = stdout_console()
        console.print(
            simple_table(("path", "node", "url"), [(a.path, a.node_index, a.url) for a in items])
        )
        console.print(f"{len(items)} artifacts")
        return ExitCode.OK

    return _run(ctx, work)


# -- mirror ----------------------------------------------------------------------------------


@cli.command()
@click.argument("project_slug")
@click.argument("dest", type=click.Path(file_okay=False, writable=True))
@click.option("--branch", help="Only pipelines of this branch (filtered by the server).")
@click.option(
    "--since", metavar="WHEN", help="Pipelines created at or after: ISO time or age (7d)."
)
@click.option("--until", metavar="WHEN", help="Pipelines created at or before: ISO time or age.")
@click.option("--workflow", multiple=True, metavar="GLOB", help="Workflow names. Repeatable.")
@click.option("--job", multiple=True, metavar="GLOB", help="Job names. Repeatable.")
@click.option(
    "--include", multiple=True, metavar="GLOB", help="Artifact paths to keep. Repeatable."
)
@click.option(
    "--exclude", multiple=True, metavar="GLOB", help="Artifact paths to drop. Repeatable."
)
@click.option("--max-pipelines", type=click.IntRange(min=1), help="Stop after this many pipelines.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Files in flight.",
)
@click.option(
    "--skip",
    type=click.Choice([p.value for p in SkipPolicy]),
    default=SkipPolicy.IF_PRESENT.value,
    show_default=True,
    help="What to do with files already in DEST.",
)
@click.option(
    "--layout",
    type=click.Choice([layout.value for layout in Layout]),
    default=Layout.AUTO.value,
    show_default=True,
    help="Where parallel nodes' files go (auto: node-<n>/ only for paths several nodes share).",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first file that fails.")
@json_option
@click.pass_context
def mirror(
    ctx: click.Context,
    project_slug: str,
    dest: str,
    branch: str | None,
    since: str | None,
    until: str | None,
    workflow: tuple[str, ...],
    job: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    max_pipelines: int | None,
    concurrency: int,
    skip: str,
    layout: str,
    fail_fast: bool,
    as_json: bool,
) -> int:
    """Mirror a project's artifacts into DEST/<pipeline>/<workflow>/<job>-<number>/.

    Idempotent: a second run downloads only what is new. Exit code 1 when any file or listing
    failed."""
    filters = MirrorFilters(
        branch=branch,
        since=parse_when(since, option="--since") if since else None,
        until=parse_when(until, option="--until") if until else None,
        workflow=workflow,
        job=job,
        include=include,
        exclude=exclude,
        max_pipelines=max_pipelines,
        concurrency=concurrency,
        skip=SkipPolicy(skip),
        layout=Layout(layout),
        fail_fast=fail_fast,
    )
    live = not as_json and sys.stderr.isatty()

    async def work(cci: CircleCI) -> int:
        report = await run_mirror(cci, project_slug, dest, filters, live=live)
        if as_json:
            emit_json(report.to_json())
        else:
            show_mirror_report(report)
        return ExitCode.OK if report.ok else ExitCode.FAILED

    return _run(ctx, work)


def show_mirror_report(report: Any, *, limit: int = 20) -> None:
    """The summary table, then what failed (up to ``limit`` lines of each)."""
    console = stdout_console()
    console.print(summary_table(report))
    failures = report.failures()
    for failure in failures[:limit]:
        console.print(
            f"failed: {failure['file'] or failure['path']}: {one_line(failure['error'])}",
            style="red",
            highlight=False,
            soft_wrap=True,
        )
    if len(failures) > limit:
        console.print(f"... and {len(failures) - limit} more failed files (see the manifest)")
    for what, exc in report.result.errors[:limit]:
        console.print(f"listing {what} failed: {one_line(str(exc))}", style="red", soft_wrap=True)


# -- insights --------------------------------------------------------------------------------


@cli.command()
@click.argument("project_slug")
@click.option("--branch", help="Branch (default: the project's default branch).")
@click.option("--all-branches", is_flag=True, help="Every branch.")
@click.option(
    "--window",
    type=click.Choice(
        ["last-24-hours", "last-7-days", "last-30-days", "last-60-days", "last-90-days"]
    ),
    default="last-30-days",
    show_default=True,
    help="Reporting window of the metrics.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1, max=100),
    default=20,
    show_default=True,
    help="Recent runs drawn in the trend sparkline.",
)
@json_option
@click.pass_context
def insights(
    ctx: click.Context,
    project_slug: str,
    branch: str | None,
    all_branches: bool,
    window: str,
    runs: int,
    as_json: bool,
) -> int:
    """Workflow metrics: runs, success rate, p95 duration, and the durations of recent runs as
    a sparkline (oldest to newest)."""
    if branch and all_branches:
        raise click.UsageError("pass --branch or --all-branches, not both")
    every = True if all_branches else None

    async def work(cci: CircleCI) -> int:
        metrics = await cci.insights.workflow_metrics(
            project_slug, branch=branch, all_branches=every, reporting_window=window
        ).collect()

        async def recent(name: str) -> list[Any]:
            found = await cci.insights.workflow_runs(
                project_slug, name, branch=branch, all_branches=every, max_items=runs
            ).collect()
            return list(reversed(found))  # the API answers newest first

        histories = await asyncio.gather(*(recent(m.name) for m in metrics))
        rows: list[dict[str, Any]] = []
        for m, history in zip(metrics, histories, strict=True):
            durations = [r.duration for r in history]
            rows.append(
                {
                    "name": m.name,
                    "total_runs": m.metrics.total_runs,
                    "successful_runs": m.metrics.successful_runs,
                    "failed_runs": m.metrics.failed_runs,
                    "success_rate": m.metrics.success_rate,
                    "p95_duration_secs": m.metrics.duration_metrics.p95,
                    "median_duration_secs": m.metrics.duration_metrics.median,
                    "recent_durations_secs": durations,
                    "recent_statuses": [r.status for r in history],
                    "window_start": m.window_start,
                    "window_end": m.window_end,
                }
            )
        if as_json:
            emit_json({"project": project_slug, "reporting_window": window, "workflows": rows})
            return ExitCode.OK
        console = stdout_console()
        console.print(
            simple_table(
                ("workflow", "runs", "success", "p95", "median", f"last {runs} durations"),
                [
                    (
                        r["name"],
                        r["total_runs"],
                        f"{r['success_rate'] * 100:.1f}%",
                        human_seconds(r["p95_duration_secs"]),
                        human_seconds(r["median_duration_secs"]),
                        sparkline(r["recent_durations_secs"]) or "-",
                    )
                    for r in rows
                ],
            )
        )
        if not rows:
            console.print(f"no finished workflows in the {window} window")
        return ExitCode.OK

    return _run(ctx, work)


# -- runners ---------------------------------------------------------------------------------


@cli.command()
@click.option("--namespace", help="Every runner of this namespace (your organization's).")
@click.option("--resource-class", help="Runners of one resource class (namespace/name).")
@json_option
@click.pass_context
def runners(
    ctx: click.Context, namespace: str | None, resource_class: str | None, as_json: bool
) -> int:
    """Self-hosted runners (runner API), by --namespace or --resource-class; for a resource
    class, also its unclaimed and running task counts."""
    if bool(namespace) == bool(resource_class):
        raise click.UsageError("pass exactly one of --namespace or --resource-class")

    async def work(cci: CircleCI) -> int:
        found = await cci.runner.runners(
            resource_class=resource_class, namespace=namespace
        ).collect()
        tasks: dict[str, int] | None = None
        if resource_class:
            unclaimed, running = await asyncio.gather(
                cci.runner.unclaimed_task_count(resource_class),
                cci.runner.running_task_count(resource_class),
            )
            tasks = {
                "unclaimed": unclaimed.unclaimed_task_count,
                "running": running.running_runner_tasks,
            }
        if as_json:
            emit_json({"runners": found, "tasks": tasks})
            return ExitCode.OK
        console = stdout_console()
        rows = [
            (
                r.name,
                r.resource_class,
                r.hostname,
                r.version,
                when(r.last_connected),
                when(r.last_used),
            )
            for r in found
        ]
        console.print(
            simple_table(
                ("name", "resource class", "hostname", "version", "last connected", "last used"),
                rows,
            )
        )
        console.print(f"{len(found)} runners")
        if tasks is not None:
            console.print(f"tasks: {tasks['unclaimed']} unclaimed, {tasks['running']} running")
        return ExitCode.OK

    return _run(ctx, work)


# -- rate-limit ------------------------------------------------------------------------------


@cli.command("rate-limit")
@json_option
@click.pass_context
def rate_limit(ctx: click.Context, as_json: bool) -> int:
    """What the server says about your rate limit now (after one cheap request: who am I)."""

    async def work(cci: CircleCI) -> int:
        me = await cci.users.me()
        view, stats = cci.rate_limit, cci.stats
        if as_json:
            emit_json(
                {
                    "user": me.login,
                    "rate_limit": attrs.asdict(view),
                    "requests": stats.requests,
                    "rate_limited": stats.rate_limited,
                }
            )
        else:
            stdout_console().print(rate_limit_table(view, stats, me.login))
        return ExitCode.OK

    return _run(ctx, work)


# -- watch -----------------------------------------------------------------------------------


@cli.command()
@click.argument("project_slug")
@click.option("--branch", help="Only pipelines of this branch.")
@interval_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after this long: exit 0, or 8 if --max-pipelines had not finished by then.",
)
@click.option(
    "--max-pipelines",
    type=click.IntRange(min=1),
    help="Stop (exit 0) once this many new pipelines have been seen and have finished.",
)
@json_option
@click.pass_context
def watch(
    ctx: click.Context,
    project_slug: str,
    branch: str | None,
    interval: float,
    timeout: float | None,
    max_pipelines: int | None,
    as_json: bool,
) -> int:
    """Follow new pipelines of a project and their workflows, one line per change (one JSON
    object per line with --json), until Ctrl-C (exit 0) or a bound. Pipelines already there
    when it starts are not followed."""
    schedule = PollSchedule(interval=interval, max_interval=max(interval, 30.0))
    tracker = FollowTracker(max_pipelines)

    async def follow(cci: CircleCI) -> None:
        console = stdout_console()
        async with cci.pipelines.follow(project_slug, branch=branch, schedule=schedule) as watcher:
            async for change in watcher:
                if as_json:
                    emit_json_line(change_to_json(change))
                else:
                    console.print(change_line(change), highlight=False)
                if tracker.done(change):
                    return

    async def work(cci: CircleCI) -> int:
        _status(f"following {project_slug} (Ctrl-C to stop)", as_json)
        try:
            await asyncio.wait_for(follow(cci), timeout)
        except asyncio.TimeoutError:
            if max_pipelines is None:
                return ExitCode.OK
            raise CliError(
                f"timed out after {human_seconds(timeout)}: {tracker.finished} of "
                f"{max_pipelines} new pipelines finished",
                ExitCode.TIMEOUT,
            ) from None
        return ExitCode.OK

    try:
        return _run(ctx, work)
    except KeyboardInterrupt:
        _status("stopped", as_json)
        return ExitCode.OK


@attrs.define
class FollowTracker:
    """Counts new pipelines until ``limit`` of them have been seen and have finished."""

    limit: int | None
    seen: list[str] = attrs.field(factory=list)
    final: set[str] = attrs.field(factory=set)

    @property
    def finished(self) -> int:
        return sum(1 for p in self.seen if p in self.final)

    def done(self, change: StateChange) -> bool:
        if change.kind != "pipeline" or self.limit is None:
            return False
        if change.previous is None and change.id not in self.seen and len(self.seen) < self.limit:
            self.seen.append(change.id)
        if change.final:
            self.final.add(change.id)
        return len(self.seen) >= self.limit and self.finished >= self.limit


def change_to_json(change: StateChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "id": change.id,
        "previous": change.previous,
        "current": change.current,
        "final": change.final,
        "pipeline_id": change.pipeline_id,
        "at": change.at,
        "error": one_line(str(change.error)) if change.error is not None else None,
        "item": change.item,
    }


def change_line(change: StateChange) -> str:
    """``12:00:03  workflow build (pipeline #7)  running → success  [final]``"""
    stamp = time.strftime("%H:%M:%S", time.localtime(change.at))
    item = change.item
    if isinstance(item, Pipeline):
        branch = item.vcs.branch if item.vcs is not None else None
        label = f"pipeline #{item.number}" + (f" ({branch})" if branch else "")
    elif isinstance(item, Workflow):
        label = f"workflow {item.name} (pipeline #{item.pipeline_number})"
    else:
        label = f"{change.kind} {change.id}"
    if change.error is not None:
        again = "gave up" if change.final else "will retry"
        return f"{stamp}  {label}  poll failed ({again}): {one_line(str(change.error))}"
    move = (
        f"new: {change.current}"
        if change.previous is None
        else (f"{change.previous} → {change.current}")
    )
    return f"{stamp}  {label}  {move}" + ("  [final]" if change.final else "") + f"  {change.id}"


# -- demo ------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--dest",
    type=click.Path(file_okay=False, writable=True),
    help="Where to mirror (default: a new temporary directory, kept and printed).",
)
@click.option(
    "--files",
    type=click.IntRange(min=1, max=5000),
    default=300,
    show_default=True,
    help="About how many artifacts to serve.",
)
@click.option(
    "--rate",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="The fake's per-second request limit, low enough that the limiter visibly paces.",
)
@json_option
def demo(dest: str | None, files: int, rate: int, as_json: bool) -> int:
    """Mirror a seeded fake CircleCI running in this process: pipelines, workflows, parallel
    jobs, a few hundred artifacts redirected to a storage host, and a rate limit. No token, no
    network."""
    from .demo import run_demo

    return asyncio.run(run_demo(dest=dest, files=files, rate=rate, as_json=as_json))


# -- entry point -----------------------------------------------------------------------------


def _fail(code: int, message: str, secrets: tuple[str, ...]) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.write(f"circleci-async: error: {scrub(one_line(message), secrets)}\n")
    sys.stderr.flush()
    sys.exit(code)


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
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(ExitCode.USAGE, exc.format_message() + hint, secrets())
    except click.ClickException as exc:
        _fail(exc.exit_code, exc.format_message(), secrets())
    except (KeyboardInterrupt, click.Abort):
        _fail(ExitCode.INTERRUPTED, "interrupted", secrets())
    except Exception as exc:
        exit_code, message = describe(exc)
        _fail(exit_code, message, secrets())
    sys.exit(int(code) if isinstance(code, int) else 0)
