"""``pipelines``, ``trigger``, ``wait`` and ``watch``: a project's pipelines, from starting
one to following it to its end."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs
import click

from ..options import (
    interval_option,
    json_option,
    project_slug_argument,
    run_client,
    settings_of,
    status,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...client import CircleCI
    from ...models.common import ParameterValue
    from ...models.workflows import Workflow
    from ...waiting import PipelineOutcome, PollSchedule
    from ...watching import StateChange
    from ..render import WaitDisplay

__all__ = ["FollowTracker", "parse_parameter", "pipelines", "trigger", "wait", "watch"]


@click.command()
@project_slug_argument
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
    from ..errors import ExitCode
    from ..render import emit_json, pipelines_table, stdout_console

    async def work(cci: CircleCI) -> int:
        found = await cci.pipelines.list_for_project(
            project_slug, branch=branch, max_items=limit
        ).collect()
        if as_json:
            emit_json(found)
            return ExitCode.OK
        console = stdout_console()
        console.print(pipelines_table(found), crop=False)
        if not found:
            console.print("no pipelines")
        return ExitCode.OK

    return run_client(ctx, work)


#: A plain ASCII integer: no leading zeros (``007`` is a string, as a version or an id would
#: be), no ``+``, no other scripts' digits (``\d`` would take full-width digits).
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def parse_parameter(text: str, *, typed: bool = True) -> tuple[str, ParameterValue]:
    """``KEY=VALUE``; values typed as CircleCI pipeline parameters are: ``true``/``false`` a
    boolean, a plain ASCII integer (``42``, ``-1``; not ``007``) an integer, anything else a string (``typed=False``: always a string)."""
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


@click.command()
@project_slug_argument
@click.option("--branch", help="Branch to build (or pull/<n>/head for a GitHub PR).")
@click.option("--tag", help="Tag to build (instead of a branch).")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Pipeline parameter; true/false become booleans, plain integers (42, not 007) "
    "integers. Repeatable.",
)
@click.option(
    "--param-str",
    "string_params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Pipeline parameter kept as a string (e.g. a version like 123). Repeatable.",
)
@click.option(
    "--wait",
    "then_wait",
    is_flag=True,
    help="Then wait for the pipeline to finish: exit 0 on success, 1 on failure, 8 on --timeout.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="With --wait: give up after this long.",
)
@interval_option
@json_option
@click.pass_context
def trigger(
    ctx: click.Context,
    project_slug: str,
    branch: str | None,
    tag: str | None,
    params: tuple[str, ...],
    string_params: tuple[str, ...],
    then_wait: bool,
    timeout: float,
    interval: float,
    as_json: bool,
) -> int:
    """Trigger a pipeline. It is never retried once sent: a duplicate pipeline is worse than an
    error. With --wait, then wait for it (--json: only the outcome's document)."""
    if branch and tag:
        raise click.UsageError("pass --branch or --tag, not both")
    parameters: dict[str, ParameterValue] = {}
    for text, typed in [(p, True) for p in params] + [(p, False) for p in string_params]:
        key, value = parse_parameter(text, typed=typed)
        if key in parameters:
            raise click.BadParameter(f"parameter {key!r} given twice")
        parameters[key] = value

    from ...waiting import PollSchedule
    from ..errors import ExitCode
    from ..links import pipeline_link
    from ..render import emit_json, line, stdout_console, to_jsonable

    schedule = PollSchedule(interval=interval, max_interval=max(interval, 30.0))

    async def work(cci: CircleCI) -> int:
        created = await cci.pipelines.trigger(
            project_slug, branch=branch, tag=tag, parameters=parameters or None
        )
        link = pipeline_link(cci.base_url, project_slug, created.number)
        if as_json and not then_wait:
            emit_json({**to_jsonable(created), "web_url": link})
        elif not as_json:
            stdout_console().print(
                line(f"pipeline #{created.number} {created.state}: {created.id}  {link}"),
                soft_wrap=True,
            )
        if not then_wait:
            return ExitCode.OK
        return await wait_for(
            cci, "pipeline", str(created.id), timeout=timeout, schedule=schedule, as_json=as_json
        )

    return run_client(ctx, work)


@click.command()
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
    from ...waiting import PollSchedule

    check_uuid(id)

    schedule = PollSchedule(interval=interval, max_interval=max(interval, 30.0))

    async def work(cci: CircleCI) -> int:
        what = kind
        if what == "auto":
            what = await _kind_of(cci, id)
        return await wait_for(cci, what, id, timeout=timeout, schedule=schedule, as_json=as_json)

    return run_client(ctx, work)


async def wait_for(
    cci: CircleCI, what: str, id: str, *, timeout: float, schedule: PollSchedule, as_json: bool
) -> int:
    """Wait for a pipeline or a workflow and show the outcome; the exit code says it (0
    success, 1 failed; a timeout raises, exit code 8)."""
    from ...waiting import WaitTimeout
    from ..errors import CliError, ExitCode
    from ..render import human_seconds, show_wait

    base = cci.base_url
    display: WaitDisplay | None = None
    status(f"waiting for {what} {id} (at most {human_seconds(timeout)})", as_json)
    try:
        if as_json:  # nothing to show on the way: the library's own wait, no job listings
            if what == "pipeline":
                outcome = await cci.pipelines.wait(id, timeout=timeout, schedule=schedule)
            else:
                workflow = await cci.workflows.wait(id, timeout=timeout, schedule=schedule)
        else:
            import sys

            from ..render import WaitDisplay

            title = f"waiting for {what} {id}"
            async with WaitDisplay(title, live=sys.stderr.isatty()) as display:
                if what == "pipeline":
                    outcome = await _wait_shown(cci, id, timeout, schedule, display)
                else:
                    workflow = await _wait_shown_workflow(cci, id, timeout, schedule, display)
        seen = display.jobs if display is not None else None
        if what == "pipeline":
            result = "success" if outcome.succeeded else "failed"
            show_wait(
                what, id, result, outcome.pipeline, outcome.workflows, as_json, base=base, jobs=seen
            )
        else:
            result = "success" if workflow.status == "success" else "failed"
            show_wait(what, id, result, None, [workflow], as_json, base=base, jobs=seen)
    except WaitTimeout as exc:
        last = exc.last
        pipeline = getattr(last, "pipeline", None)
        workflows = list(getattr(last, "workflows", None) or ([] if pipeline else [last]))
        if as_json:
            show_wait(what, id, "timeout", pipeline, workflows, as_json, base=base)
        states = ", ".join(f"{w.name} {w.status}" for w in workflows)
        if pipeline is not None:
            states = f"pipeline {pipeline.state}" + (f"; {states}" if states else "")
        raise CliError(
            f"timed out after {human_seconds(timeout)} waiting for {what} {id}"
            + (f" (last seen: {states})" if states else ""),
            ExitCode.TIMEOUT,
        ) from None
    return ExitCode.OK if result == "success" else ExitCode.FAILED


def check_uuid(id: str) -> None:
    """Pipeline and workflow ids are UUIDs; anything else is a usage error, not a 404."""
    import uuid

    try:
        uuid.UUID(id)
    except ValueError:
        raise click.BadParameter(
            f"{id!r} is not a UUID (a pipeline or workflow id, as in the id column of 'pipelines')",
            param_hint="'ID'",
        ) from None


async def _jobs_of(
    cci: CircleCI, workflows: Sequence[Workflow], done: dict[str, list[Any]]
) -> dict[str, list[Any]]:
    """Each workflow's jobs; a finished workflow's are listed once more, then kept."""
    from ...polling import workflow_finished

    jobs: dict[str, list[Any]] = {}
    for workflow in workflows:
        key = str(workflow.id)
        if key in done:
            jobs[key] = done[key]
            continue
        jobs[key] = await cci.workflows.jobs(workflow.id).collect()
        if workflow_finished(workflow):
            done[key] = jobs[key]
    return jobs


async def _wait_shown(
    cci: CircleCI, id: str, timeout: float, schedule: PollSchedule, display: WaitDisplay
) -> PipelineOutcome:
    """``cci.pipelines.wait`` (the same poll and the same rule), each poll shown with the
    workflows' jobs."""
    from ...waiting import fetch_pipeline_with_workflows, poll_until
    from ..render import wait_states

    done: dict[str, list[Any]] = {}

    async def fetch() -> PipelineOutcome:
        outcome = await fetch_pipeline_with_workflows(cci.pipelines, id)
        jobs = await _jobs_of(cci, outcome.workflows, done)
        display.jobs = jobs
        display.observe(wait_states(outcome.pipeline, outcome.workflows, jobs))
        return outcome

    return await poll_until(
        fetch,
        lambda outcome: outcome.finished,
        timeout=timeout,
        schedule=schedule,
        what=f"pipeline {id}",
    )


async def _wait_shown_workflow(
    cci: CircleCI, id: str, timeout: float, schedule: PollSchedule, display: WaitDisplay
) -> Workflow:
    """``cci.workflows.wait``, each poll shown with the workflow's jobs."""
    from ...polling import workflow_finished
    from ...waiting import poll_until
    from ..render import wait_states

    done: dict[str, list[Any]] = {}

    async def fetch() -> Workflow:
        workflow = await cci.workflows.get(id)
        jobs = await _jobs_of(cci, [workflow], done)
        display.jobs = jobs
        display.observe(wait_states(None, [workflow], jobs))
        return workflow

    return await poll_until(
        fetch, workflow_finished, timeout=timeout, schedule=schedule, what=f"workflow {id}"
    )


async def _kind_of(cci: CircleCI, id: str) -> str:
    from ...errors import NotFound
    from ..errors import CliError, ExitCode

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


@click.command()
@project_slug_argument
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
    import asyncio

    from ...waiting import PollSchedule
    from ..errors import CliError, ExitCode
    from ..render import (
        OutcomeBook,
        change_line,
        change_to_json,
        emit_json_line,
        human_seconds,
        stdout_console,
    )

    schedule = PollSchedule(interval=interval, max_interval=max(interval, 30.0))
    tracker = FollowTracker(max_pipelines)
    outcomes = OutcomeBook()
    secrets = settings_of(ctx).secrets()

    async def follow(cci: CircleCI) -> None:
        console = stdout_console()
        async with cci.pipelines.follow(project_slug, branch=branch, schedule=schedule) as watcher:
            async for change in watcher:
                outcome = outcomes.see(change)
                if as_json:
                    emit_json_line({**change_to_json(change, secrets), "outcome": outcome})
                else:
                    console.print(change_line(change, secrets, outcome=outcome))
                if tracker.done(change):
                    return

    async def work(cci: CircleCI) -> int:
        status(f"following {project_slug} (Ctrl-C to stop)", as_json)
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
        return run_client(ctx, work)
    except KeyboardInterrupt:
        status("stopped", as_json)
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
