"""``runs``: runs (v2's pipelines) through API v3, with the filters v3 offers.

With ``--project`` it searches those projects (``POST /runs/search``: ``--branch`` and
``--status`` become the filter expression, ``--from``/``--to`` the scope); without, it lists
your runs across projects (``GET /runs?filter[user_id]=me``: ``--phase``, ``--outcome``,
``--from``/``--to`` as filters). ``--phase``/``--outcome`` also narrow a search, on this side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..options import json_option, run_client

if TYPE_CHECKING:
    from ...client import CircleCI
    from ...v3.models import Run

__all__ = ["run_row", "runs"]

PHASES = ("created", "queued", "started", "ended")
OUTCOMES = ("succeeded", "failed", "canceled", "errored", "not_run", "unauthorized",
            "infrastructure_fail", "timedout")  # fmt: skip
STATUSES = ("canceled", "error", "failed", "failing", "not_run", "on_hold", "queued", "running",
            "success", "unauthorized")  # fmt: skip


def run_row(run: Run) -> dict[str, Any]:
    """One run as the command shows it (and as ``--json`` prints it)."""
    a, refs = run.attributes, run.references
    outcome = a.outcome or a.current_outcome
    vcs = refs.event.attributes.vcs if refs.event and refs.event.attributes else None
    project = refs.project.id if refs.project is not None else None
    return {
        "id": str(run.id),
        "number": a.number,
        "phase": a.phase.value if a.phase is not None else None,
        "outcome": outcome.value if outcome is not None else None,
        "created_at": a.created_at.isoformat() if a.created_at is not None else None,
        "project_id": str(project) if project is not None else None,
        "branch": vcs.branch if vcs is not None else None,
    }


@click.command()
@click.option("--project", "projects", multiple=True, metavar="SLUG",
              help="Search this project's runs (POST /runs/search). Repeatable.")  # fmt: skip
@click.option("--branch", help="With --project: only runs of this branch.")
@click.option("--status", type=click.Choice(STATUSES), help="With --project: a run status.")
@click.option("--phase", type=click.Choice(PHASES), help="Only runs in this phase.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="Only runs with this outcome.")
@click.option("--from", "since", metavar="WHEN", help="Created at or after: ISO time or age (7d).")
@click.option("--to", "until", metavar="WHEN", help="Created at or before: ISO time or age.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="At most this many runs.")  # fmt: skip
@json_option
@click.pass_context
def runs(
    ctx: click.Context,
    projects: tuple[str, ...],
    branch: str | None,
    status: str | None,
    phase: str | None,
    outcome: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> int:
    """Runs through API v3, newest first: a project's (--project, searched) or yours."""
    if (branch or status) and not projects:
        raise click.UsageError("--branch and --status filter a search: pass --project too")

    from rich.table import Table

    from ...v3.resources.runs import search_filter
    from ..errors import CliError, ExitCode
    from ..mirroring import parse_when
    from ..render import cell, emit_json, stdout_console

    start = parse_when(since, option="--from") if since else None
    end = parse_when(until, option="--to") if until else None
    page = min(limit, 20)  # runs pages hold at most 20 (a larger page[limit] is a 400)

    async def work(cci: CircleCI) -> int:
        v3 = cci.v3
        if projects:
            ids = []
            for slug in projects:
                project = await v3.projects.lookup(slug)
                if project is None:
                    raise CliError(f"not found: no project {slug} on API v3", ExitCode.NOT_FOUND)
                ids.append(project.id)
            expression = search_filter(branch=branch, status=status)
            listing = v3.runs.search(ids, since=start, until=end, filter=expression, limit=page)
        else:
            listing = v3.runs.list(
                phase=phase, current_outcome=outcome, since=start, until=end, limit=page
            )
        rows: list[dict[str, Any]] = []
        try:
            async for run in listing:
                row = run_row(run)
                if (phase and row["phase"] != phase) or (outcome and row["outcome"] != outcome):
                    continue
                rows.append(row)
                if len(rows) >= limit:
                    break
        finally:
            await listing.aclose()
        if as_json:
            emit_json({"runs": rows})
            return ExitCode.OK
        table = Table("number", "id", "phase", "outcome", "branch", "created")
        for row in rows:
            table.add_row(*(cell(row[k]) for k in ("number", "id", "phase", "outcome",
                                                   "branch", "created_at")))  # fmt: skip
        console = stdout_console()
        console.print(table)
        console.print(f"{len(rows)} runs")
        return ExitCode.OK

    return run_client(ctx, work)
