"""``artifacts`` and ``mirror``: one job's files, and a project's files into a directory."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from ..options import (
    LAYOUTS,
    SKIP_POLICIES,
    json_option,
    project_slug_argument,
    run_client,
    settings_of,
)

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["artifacts", "mirror"]


@click.command()
@project_slug_argument
@click.argument("job_number", type=click.IntRange(min=0))
@click.option(
    "--download",
    "dest",
    type=click.Path(file_okay=False, writable=True),
    metavar="DEST",
    help="Download the job's files into DEST (through the mirror's downloader: resumed, "
    "checked, never a partial file left in place). Exit code 1 if any failed.",
)
@click.option(
    "--skip",
    type=click.Choice(SKIP_POLICIES),
    default="if-present",
    show_default=True,
    help="With --download: what to do with files already in DEST.",
)
@click.option("--include", multiple=True, metavar="GLOB", help="With --download: paths to keep.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="With --download: paths to drop.")
@json_option
@click.pass_context
def artifacts(
    ctx: click.Context,
    project_slug: str,
    job_number: int,
    dest: str | None,
    skip: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    as_json: bool,
) -> int:
    """List the artifacts of one job, or download them with --download DEST."""
    from ...download import SkipPolicy
    from ..errors import ExitCode
    from ..render import artifacts_table, emit_json, show_downloads, stdout_console

    live = not as_json and sys.stderr.isatty()

    async def work(cci: CircleCI) -> int:
        if dest is not None:
            from ..render import MirrorDisplay

            display = MirrorDisplay(
                cci, title=f"job {job_number} of {project_slug} → {dest}", live=live
            )
            async with display:
                results = await cci.artifacts.download(
                    cci.jobs.artifacts(project_slug, job_number),
                    dest,
                    skip=SkipPolicy(skip),
                    include=include,
                    exclude=exclude,
                    progress=display,
                )
            show_downloads(results, dest, as_json, secrets=settings_of(ctx).secrets())
            return ExitCode.OK if results.ok else ExitCode.FAILED
        items = await cci.jobs.artifacts(project_slug, job_number).collect()
        if as_json:
            emit_json(items)
            return ExitCode.OK
        console = stdout_console()
        console.print(artifacts_table(items), crop=False)
        console.print(f"{len(items)} artifacts")
        return ExitCode.OK

    return run_client(ctx, work)


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--shard I/N`` checked as the library checks it, as a usage error."""
    from ...download.options import parse_shard
    from ...errors import ConfigurationError

    try:
        return parse_shard(value)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command()
@project_slug_argument
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
    "--pipeline",
    "pipeline_number",
    type=click.IntRange(min=1),
    metavar="N",
    help="Only pipeline number N (e.g. the one just triggered).",
)
@click.option(
    "--job-number",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only job number N (its pipeline, workflow and name; --job takes name globs).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Files in flight.",
)
@click.option(
    "--skip",
    type=click.Choice(SKIP_POLICIES),
    default="if-present",
    show_default=True,
    help="What to do with files already in DEST.",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="auto",
    show_default=True,
    help="Where parallel nodes' files go (auto: node-<n>/ only for paths several nodes share).",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first file that fails.")
@click.option("--api", type=click.Choice(["v2", "v3"]), default="v2", show_default=True,
              help="The API that lists runs, workflows, jobs and artifacts.")  # fmt: skip
@click.option(
    "--shard",
    metavar="I/N",
    callback=_shard,
    help="Worker I of N (from 0): only pipelines numbered I mod N, own manifest.",
)
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
    pipeline_number: int | None,
    job_number: int | None,
    concurrency: int,
    skip: str,
    layout: str,
    fail_fast: bool,
    api: str,
    shard: tuple[int, int] | None,
    as_json: bool,
) -> int:
    """Mirror a project's artifacts into DEST/<pipeline>/<workflow>/<job>-<number>/.

    Idempotent: a second run downloads only what is new. Exit code 1 when any file or listing
    failed."""
    from ...download import Layout, SkipPolicy
    from ..errors import ExitCode
    from ..mirroring import MirrorFilters, parse_when, run_mirror
    from ..render import emit_json, show_mirror_report

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
        api=api,
        shard=shard,
    )
    live = not as_json and sys.stderr.isatty()
    secrets = settings_of(ctx).secrets()
    from ..listing import ListingCounter, trace_config

    listing = ListingCounter()

    if pipeline_number is not None and job_number is not None:
        raise click.UsageError("pass --pipeline or --job-number, not both")

    async def work(cci: CircleCI) -> int:
        options = filters
        if pipeline_number is not None or job_number is not None:
            from ..mirroring import narrowed

            options = await narrowed(
                cci, project_slug, filters, pipeline=pipeline_number, job=job_number
            )
        report = await run_mirror(
            cci, project_slug, dest, options, live=live, listing=listing, secrets=secrets
        )
        if as_json:
            emit_json(report.to_json(secrets))
        else:
            show_mirror_report(report, secrets=secrets)
        return ExitCode.OK if report.ok else ExitCode.FAILED

    return run_client(ctx, work, trace_configs=[trace_config(listing)] if live else [])
