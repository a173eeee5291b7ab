"""``runners``: self-hosted runners and their task counts (runner API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..options import json_option, run_client

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["runners"]


@click.command()
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

    import asyncio

    from ..errors import ExitCode
    from ..render import emit_json, runners_table, stdout_console

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
        console.print(runners_table(found), crop=False)
        console.print(f"{len(found)} runners")
        if tasks is not None:
            console.print(f"tasks: {tasks['unclaimed']} unclaimed, {tasks['running']} running")
        return ExitCode.OK

    return run_client(ctx, work)
