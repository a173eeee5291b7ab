"""``insights``: workflow metrics and the trend of recent runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..options import json_option, project_slug_argument, run_client

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["insights"]


@click.command()
@project_slug_argument
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

    import asyncio

    from ..errors import ExitCode
    from ..render import emit_json, insights_rows, insights_table, stdout_console

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
        rows = insights_rows(metrics, histories)
        if as_json:
            emit_json({"project": project_slug, "reporting_window": window, "workflows": rows})
            return ExitCode.OK
        console = stdout_console()
        console.print(insights_table(rows, runs), crop=False)
        if not rows:
            console.print(f"no finished workflows in the {window} window")
        return ExitCode.OK

    return run_client(ctx, work)
