"""Everything the CLI shows: JSON on stdout, tables, lines, the live mirror display,
sparklines. The commands fetch; what their answers look like is decided here.

Two audiences: scripts read ``--json`` (stdout holds exactly one JSON document, or one object
per line for ``watch``), people read tables. Progress and status always go to stderr, so piping
stdout never captures them, and the live display only runs on a terminal.

Text meant for people reaches rich as :class:`~rich.text.Text` built by :func:`cell` or
:func:`line`, never as markup: server text passes :func:`~.terminal.printable` there, so a
name holding an escape sequence (or rich markup) is shown, not obeyed. JSON is left as the
server sent it (JSON escaping keeps control characters out of the byte stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import json
import math
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ..download import DownloadResult, DownloadStatus
from ..models import unstructure
from ..ratelimit import RateLimitView
from ..stats import ClientStats
from .errors import one_line, scrub
from .terminal import printable

if TYPE_CHECKING:
    from ..client import CircleCI
    from ..watching import StateChange
    from .listing import ListingCounter

__all__ = [
    "MirrorDisplay",
    "OutcomeBook",
    "WaitDisplay",
    "cell",
    "change_line",
    "change_to_json",
    "emit_json",
    "emit_json_line",
    "human_bytes",
    "human_seconds",
    "line",
    "rate_limit_text",
    "sparkline",
    "stderr_console",
    "stdout_console",
    "to_jsonable",
]

_BARS = "▁▂▃▄▅▆▇█"


# -- consoles --------------------------------------------------------------------------------


def _width(stream: Any) -> int | None:
    """Wide tables when piped (rich assumes 80 columns), the terminal's width otherwise."""
    if os.environ.get("COLUMNS") or (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return 200


def stdout_console() -> Console:
    return Console(file=sys.stdout, highlight=False, width=_width(sys.stdout))


def stderr_console() -> Console:
    return Console(file=sys.stderr, stderr=True, highlight=False, width=_width(sys.stderr))


# -- JSON ------------------------------------------------------------------------------------


def to_jsonable(obj: Any) -> Any:
    """Models, attrs classes, enums, datetimes and UUIDs as plain JSON values."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if attrs.has(type(obj)):
        return to_jsonable(unstructure(obj))
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.datetime):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit_json(obj: Any) -> None:
    """The command's one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit_json_line(obj: Any) -> None:
    """One compact JSON object per line (a stream: ``watch --json``)."""
    sys.stdout.write(json.dumps(to_jsonable(obj), ensure_ascii=False) + "\n")
    sys.stdout.flush()


# -- text for people -------------------------------------------------------------------------


def cell(value: Any) -> Text:
    """A table cell: ``-`` for nothing, anything else as its text, control characters shown."""
    return Text("-" if value is None else printable(str(value)))


def line(text: str, *, style: str = "") -> Text:
    """A line for the terminal, control characters shown, never read as markup."""
    return Text(printable(text), style=style)


# -- small formats ---------------------------------------------------------------------------


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"  # pragma: no cover - unreachable, keeps mypy happy


def human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def when(value: dt.datetime | None) -> str:
    """A timestamp in local time, minutes precision."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled from the smallest to the largest (``·`` for a missing value;
    equal values sit mid-height, so a flat line reads as flat, not as zero)."""
    present = [v for v in values if v is not None]
    if not present:
        return ""
    low, high = min(present), max(present)
    out = []
    for value in values:
        if value is None:
            out.append("·")
        elif high == low:
            out.append(_BARS[3])
        else:
            out.append(_BARS[round((value - low) / (high - low) * (len(_BARS) - 1))])
    return "".join(out)


def rate_limit_text(view: RateLimitView) -> str:
    """The binding rate-limit window in one line."""
    parts = []
    if view.source is None:
        parts.append("no rate-limit headers seen")
    else:
        window = f" per {view.window:g} s" if view.window else ""
        parts.append(f"{view.remaining}/{view.limit} left{window}")
        if view.reset_after is not None:
            parts.append(f"resets in {view.reset_after:.1f} s")
    parts.append(f"pace {view.rate:.1f}/s" if view.rate else "unpaced")
    if view.blocked_for > 0:
        parts.append(f"waiting {view.blocked_for:.1f} s")
    return ", ".join(parts)


def rate_limit_table(view: RateLimitView, stats: ClientStats, user: str | None) -> Table:
    table = Table(box=box.SIMPLE, show_header=False)
    table.add_column(style="bold")
    table.add_column()
    if user is not None:
        table.add_row("user", cell(user))
    if view.source is None:
        table.add_row("rate limit", "the server sent no rate-limit headers")
    else:
        table.add_row("header family", cell(view.source))
        if view.policy:
            table.add_row("policy", cell(view.policy))
        table.add_row("window", human_seconds(view.window) if view.window else "-")
        table.add_row("limit", str(view.limit))
        table.add_row("remaining", str(view.remaining))
        table.add_row("resets in", human_seconds(view.reset_after))
    table.add_row("pace", f"{view.rate:.2f} requests/s" if view.rate else "unpaced")
    if view.blocked_for > 0:
        table.add_row("blocked for", human_seconds(view.blocked_for))
    table.add_row("requests sent", str(stats.requests))
    table.add_row("429 answers", str(stats.rate_limited))
    return table


def simple_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, drop: Sequence[str] = ()
) -> FittedTable:
    """A table that fits the width it is drawn at: ``drop`` names the columns that may go, in
    the order they go; the others (ids, paths) are never cut."""
    return FittedTable(tuple(columns), [tuple(cell(v) for v in row) for row in rows], tuple(drop))


@attrs.frozen
class FittedTable:
    """Rows drawn as a table when it fits, else with the ``drop`` columns left out one by one,
    else stacked (one ``name: value`` line per cell, a blank line between rows), so that no
    id or path is ever cut or folded mid-value. The choice is made when rich draws it, at the
    width it is given (``COLUMNS``, the terminal's, or 200 when piped)."""

    columns: tuple[str, ...]
    rows: list[tuple[Text, ...]]
    drop: tuple[str, ...] = ()

    def table(self, shown: Sequence[str]) -> Table:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        index = [self.columns.index(name) for name in shown]
        for name in shown:
            table.add_column(name, no_wrap=True, overflow="ignore")
        for row in self.rows:
            table.add_row(*(row[i] for i in index))
        return table

    def layout(self, width: int) -> list[str] | None:
        """The columns that fit in ``width`` (None: none do, stack the rows)."""
        shown = list(self.columns)
        pending = list(self.drop)
        while True:
            needed = sum(self._width(name) for name in shown) + 2 * (len(shown) - 1)
            if needed <= width:
                return shown
            if not pending:
                return None
            shown.remove(pending.pop(0))

    def _width(self, name: str) -> int:
        i = self.columns.index(name)
        return max([len(name), *(row[i].cell_len for row in self.rows)])

    def stacked(self, console: Console) -> Iterator[Segment]:
        """One ``name  value`` line per cell, never wrapped nor cut (print it with
        ``crop=False``: a long path runs past the edge and the terminal wraps it, so a copy of
        it is whole)."""
        label = max(len(name) for name in self.columns)
        for number, row in enumerate(self.rows):
            if number:
                yield Segment.line()
            for name, value in zip(self.columns, row, strict=True):
                yield Segment(f"{name:>{label}}  ", console.get_style("bold"))
                yield from value.render(console)
                yield Segment.line()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = self.layout(options.max_width)
        if shown is None:
            yield from self.stacked(console)
        else:
            yield self.table(shown)


# -- what each command shows ----------------------------------------------------------------


def pipelines_table(found: Sequence[Any]) -> FittedTable:
    """``pipelines``: newest first, one row each."""
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
    return simple_table(
        ("#", "state", "branch", "created", "trigger", "actor", "id"),
        rows,
        drop=("trigger", "actor", "created", "branch"),
    )


def show_wait(
    kind: str,
    id: str,
    result: str,
    pipeline: Any,
    workflows: Sequence[Any],
    as_json: bool,
    *,
    base: Any = None,
    jobs: Mapping[str, Sequence[Any]] | None = None,
) -> None:
    """``wait``'s outcome: the JSON document, or a verdict line and the workflows, with links
    to the web app (``base``: the API base URL they are derived from) for the pipeline, each
    workflow and each job of ``jobs`` (workflow id → its jobs) that did not succeed."""
    from .links import job_link, pipeline_link, workflow_link

    def link_of(workflow: Any) -> str | None:
        if base is None:
            return None
        return workflow_link(base, workflow.project_slug, workflow.pipeline_number, workflow.id)

    pipeline_url = (
        pipeline_link(base, pipeline.project_slug, pipeline.number)
        if base is not None and pipeline is not None
        else None
    )
    if as_json:
        emit_json(
            {
                "kind": kind,
                "id": id,
                "result": result,
                "pipeline": pipeline,
                "workflows": list(workflows),
                "web_url": pipeline_url or (link_of(workflows[0]) if workflows else None),
                "workflow_urls": {str(w.id): link_of(w) for w in workflows},
            }
        )
        return
    console = stdout_console()
    label = f"pipeline #{pipeline.number}" if pipeline is not None else f"{kind} {id}"
    console.print(line(f"{label}: {result}", style="green" if result == "success" else "red"))
    if pipeline_url is not None:
        console.print(line(pipeline_url), soft_wrap=True)
    if workflows:
        rows = [(w.name, w.status, when(w.created_at), when(w.stopped_at), w.id) for w in workflows]
        console.print(
            simple_table(
                ("workflow", "status", "created", "stopped", "id"),
                rows,
                drop=("created", "stopped"),
            ),
            crop=False,
        )
        for workflow in workflows:
            link = link_of(workflow)
            if link is None:
                continue
            console.print(line(f"{workflow.name}: {link}"), soft_wrap=True)
            for job in (jobs or {}).get(str(workflow.id), ()):
                if job.job_number is None or str(job.status) == "success":
                    continue
                url = job_link(
                    base,
                    workflow.project_slug,
                    workflow.pipeline_number,
                    workflow.id,
                    job.job_number,
                )
                console.print(line(f"  {job.name} {job.status}: {url}"), soft_wrap=True)


def artifacts_table(items: Sequence[Any]) -> FittedTable:
    return simple_table(
        ("path", "node", "url"), [(a.path, a.node_index, a.url) for a in items], drop=("url",)
    )


def show_downloads(
    results: Any, dest: str, as_json: bool, *, secrets: tuple[str, ...] = (), limit: int = 20
) -> None:
    """``artifacts --download``: one JSON document, or a summary line and what failed."""
    files = [
        {
            "path": r.artifact.path,
            "node_index": r.artifact.node_index,
            "file": r.relative,
            "status": r.status.value,
            "bytes": r.bytes,
            "error": scrub(one_line(str(r.error)), secrets) if r.error is not None else None,
        }
        for r in results
    ]
    if as_json:
        emit_json(
            {
                "dest": dest,
                "ok": results.ok,
                "downloaded": len(results.downloaded),
                "skipped": len(results.skipped),
                "failed": len(results.failed),
                "bytes": results.transferred,
                "files": files,
            }
        )
        return
    console = stdout_console()
    failed = [f for f, r in zip(files, results, strict=True) if not r.ok]
    for entry in failed[:limit]:
        console.print(
            line(f"failed: {entry['file'] or entry['path']}: {entry['error']}", style="red"),
            soft_wrap=True,
        )
    if len(failed) > limit:
        console.print(f"... and {len(failed) - limit} more failed files")
    console.print(line(f"{results.summary()} into {dest}"), soft_wrap=True)


def show_mirror_report(report: Any, *, secrets: tuple[str, ...] = (), limit: int = 20) -> None:
    """The summary table, then what failed (up to ``limit`` lines of each)."""
    from .mirroring import summary_table

    console = stdout_console()
    console.print(summary_table(report))
    failures = report.failures()
    for failure in failures[:limit]:
        error = scrub(one_line(failure["error"]), secrets)
        console.print(
            line(f"failed: {failure['file'] or failure['path']}: {error}", style="red"),
            soft_wrap=True,
        )
    if len(failures) > limit:
        console.print(f"... and {len(failures) - limit} more failed files (see the manifest)")
    for what, exc in report.result.errors[:limit]:
        error = scrub(one_line(str(exc)), secrets)
        console.print(line(f"listing {what} failed: {error}", style="red"), soft_wrap=True)


def insights_rows(
    metrics: Sequence[Any], histories: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """``insights``' JSON shape: one object per workflow, its recent runs oldest first."""
    rows: list[dict[str, Any]] = []
    for m, history in zip(metrics, histories, strict=True):
        rows.append(
            {
                "name": m.name,
                "total_runs": m.metrics.total_runs,
                "successful_runs": m.metrics.successful_runs,
                "failed_runs": m.metrics.failed_runs,
                "success_rate": m.metrics.success_rate,
                "p95_duration_secs": m.metrics.duration_metrics.p95,
                "median_duration_secs": m.metrics.duration_metrics.median,
                "recent_durations_secs": [r.duration for r in history],
                "recent_statuses": [r.status for r in history],
                "window_start": m.window_start,
                "window_end": m.window_end,
            }
        )
    return rows


def insights_table(rows: Sequence[Mapping[str, Any]], runs: int) -> FittedTable:
    return simple_table(
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
        drop=("median", "runs", "p95"),
    )


def runners_table(found: Sequence[Any]) -> FittedTable:
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
    return simple_table(
        ("name", "resource class", "hostname", "version", "last connected", "last used"),
        rows,
        drop=("last used", "version", "last connected", "hostname"),
    )


def rate_limit_json(user: str, view: RateLimitView, stats: ClientStats) -> dict[str, Any]:
    return {
        "user": user,
        "rate_limit": attrs.asdict(view),
        "requests": stats.requests,
        "rate_limited": stats.rate_limited,
    }


def change_to_json(change: StateChange, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """``watch --json``: one object per change."""
    error = change.error
    return {
        "kind": change.kind,
        "id": change.id,
        "previous": change.previous,
        "current": change.current,
        "final": change.final,
        "pipeline_id": change.pipeline_id,
        "at": change.at,
        "error": scrub(one_line(str(error)), secrets) if error is not None else None,
        "item": change.item,
    }


class OutcomeBook:
    """What each followed pipeline ended with. A pipeline's own state stays ``created`` from
    setup to the end (its workflows carry the result), so its final change says nothing by
    itself; the book keeps each pipeline's workflow statuses as they are reported (before the
    pipeline's final report) and names the outcome."""

    def __init__(self) -> None:
        self._workflows: dict[str, dict[str, tuple[str, str]]] = {}

    def see(self, change: StateChange) -> str | None:
        """The outcome when ``change`` is a pipeline's final report, else None."""
        if change.error is not None:
            return None
        if change.kind == "workflow" and change.pipeline_id is not None:
            name = getattr(change.item, "name", change.id)
            self._workflows.setdefault(change.pipeline_id, {})[change.id] = (name, change.current)
            return None
        if change.kind != "pipeline" or not change.final:
            return None
        workflows = self._workflows.pop(change.id, {})
        if change.current != "created":
            return change.current  # errored, setup-pending...: the pipeline's own state says it
        if not workflows:
            return "no workflows"
        statuses = sorted(workflows.values())
        verdict = "success" if all(status == "success" for _, status in statuses) else "failed"
        details = ", ".join(f"{name} {status}" for name, status in statuses)
        return f"{verdict} ({details})"


def change_line(
    change: StateChange, secrets: tuple[str, ...] = (), *, outcome: str | None = None
) -> Text:
    """``12:00:03  workflow build (pipeline #7)  running → success  [final]``"""
    from ..models.pipelines import Pipeline
    from ..models.workflows import Workflow

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
        error = scrub(one_line(str(change.error)), secrets)
        return line(f"{stamp}  {label}  poll failed ({again}): {error}")
    if outcome is not None:
        move = f"finished: {outcome}"
    elif change.previous is None:
        move = f"new: {change.current}"
    else:
        move = f"{change.previous} → {change.current}"
    final = "  [final]" if change.final else ""
    return line(f"{stamp}  {label}  {move}{final}  {change.id}")


# -- wait's progress ------------------------------------------------------------------------


def state_changes(
    previous: Mapping[str, str], current: Mapping[str, str]
) -> list[tuple[str, str | None, str]]:
    """``(label, before, now)`` for every state that appeared or moved, in ``current``'s order
    (pure: the display prints them)."""
    return [
        (label, previous.get(label), state)
        for label, state in current.items()
        if previous.get(label) != state
    ]


def wait_states(
    pipeline: Any, workflows: Sequence[Any], jobs: Mapping[str, Sequence[Any]]
) -> dict[str, str]:
    """What ``wait`` shows, label → state: the pipeline, each workflow, each of its jobs."""
    states: dict[str, str] = {}
    if pipeline is not None:
        states[f"pipeline #{pipeline.number}"] = str(pipeline.state)
    for workflow in workflows:
        states[f"workflow {workflow.name}"] = str(workflow.status)
        for job in jobs.get(str(workflow.id), ()):
            states[f"  job {workflow.name}/{job.name}"] = str(job.status)
    return states


_Display = TypeVar("_Display", bound="_LiveDisplay")


class _LiveDisplay:
    """What a live display shares: a rich ``Live`` redrawn from a task on the event loop
    (never rich's own refresh thread, which would race the loop's updates), started on enter
    when wanted and stopped on exit. Subclasses give :meth:`render` and may override
    :meth:`_finish` (called with the exception, if any, before the display stops)."""

    _transient = False

    def __init__(self, console: Console, *, live: bool, refresh: float) -> None:
        self._console = console
        self._live_wanted = live
        self._refresh = refresh
        self._t0 = time.monotonic()
        self._live: Live | None = None
        self._ticker: asyncio.Task[None] | None = None

    def render(self) -> RenderableType:
        raise NotImplementedError

    def _finish(self, exc: BaseException | None) -> None:
        """Last touches before the display stops (nothing by default)."""

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            if self._live is not None:
                self._live.refresh()

    async def _start(self) -> None:
        self._t0 = time.monotonic()
        if self._live_wanted:
            self._live = Live(
                get_renderable=self.render,
                console=self._console,
                auto_refresh=False,
                transient=self._transient,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start(refresh=True)
            self._ticker = asyncio.ensure_future(self._tick())

    async def __aenter__(self: _Display) -> _Display:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop(exc)

    async def _stop(self, exc: BaseException | None) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._live is not None:
            self._finish(exc)
            self._live.refresh()
            self._live.stop()
            self._live = None


class WaitDisplay(_LiveDisplay):
    """``wait``'s progress: each state change as a line with the time elapsed (on stdout when
    not on a terminal), and on a terminal a live footer on stderr with the elapsed time and every
    current state, redrawn from a task on the loop (as :class:`MirrorDisplay` is)."""

    _transient = True

    def __init__(self, title: str, *, live: bool, refresh: float = 0.25) -> None:
        self._out = stderr_console() if live else stdout_console()
        super().__init__(self._out, live=live, refresh=refresh)
        self._title = title
        self._states: dict[str, str] = {}
        #: The last jobs seen, workflow id → jobs (for the outcome's links).
        self.jobs: Mapping[str, Sequence[Any]] = {}

    def elapsed(self) -> str:
        return human_seconds(time.monotonic() - self._t0)

    def observe(self, states: Mapping[str, str]) -> None:
        for label, before, now in state_changes(self._states, states):
            move = f"{before} → {now}" if before is not None else now
            self._out.print(line(f"[{self.elapsed():>6}] {label.strip()}: {move}"), soft_wrap=True)
        self._states = dict(states)

    def render(self) -> RenderableType:
        rows = [line(f"{self._title} · {self.elapsed()}", style="bold cyan")]
        rows += [line(f"  {label}: {state}", style="dim") for label, state in self._states.items()]
        return Group(*rows)


# -- the live mirror display -----------------------------------------------------------------


class MirrorDisplay(_LiveDisplay):
    """A :class:`~circleci_async.download.ProgressReporter` that draws files, bytes, transfer
    rate and the client's rate-limit state on stderr, refreshed from a task on the event loop
    (the library calls reporters on the loop; rich's own refresh thread would race them).

    ``live=False`` only counts: the same numbers for a non-terminal or ``--json`` run.
    """

    def __init__(
        self,
        cci: CircleCI,
        *,
        title: str,
        console: Console | None = None,
        live: bool = True,
        refresh: float = 0.125,
        listing: ListingCounter | None = None,
    ) -> None:
        super().__init__(console or stderr_console(), live=live, refresh=refresh)
        self._cci = cci
        self._listing = listing
        self._title = title
        self.started = 0
        self.downloaded = 0
        self.skipped = 0
        self.failed = 0
        self.received = 0
        self.known_total = 0
        self._in_flight: set[str] = set()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=30),
            DownloadColumn(binary_units=True),
            TimeElapsedColumn(),
            console=self._console,
            auto_refresh=False,
        )
        self._task: TaskID = self._progress.add_task("bytes", total=None)

    # ProgressReporter ------------------------------------------------------------------------

    def start(self, name: str, total: int | None) -> None:
        # The byte bar stays indeterminate: while the listing goes on, the sizes known so far
        # are not the total, and a bar at 100% would say it is done.
        self.started += 1
        self._in_flight.add(name)
        if total:
            self.known_total += total

    def advance(self, name: str, nbytes: int) -> None:
        self.received += nbytes
        self._progress.update(self._task, advance=nbytes)

    def finish(self, name: str, result: DownloadResult) -> None:
        self._in_flight.discard(name)
        if result.status is DownloadStatus.DOWNLOADED:
            self.downloaded += 1
        elif result.status is DownloadStatus.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1

    # drawing ---------------------------------------------------------------------------------

    def render(self) -> RenderableType:
        """The current frame (also what a test can print to a recording console)."""
        stats = self._cci.stats
        elapsed = time.monotonic() - self._t0
        files = Text.assemble(
            ("files ", "bold"),
            (f"{self.downloaded} downloaded", "green"),
            f", {self.skipped} skipped, ",
            (f"{self.failed} failed", "red" if self.failed else ""),
            f", {len(self._in_flight)} in flight · ",
            (f"{human_bytes(self.received / elapsed)}/s" if elapsed > 0 else "-"),
        )
        api = Text.assemble(
            ("API ", "bold"),
            f"{stats.requests - stats.storage_requests} requests "
            f"(+{stats.storage_requests} to storage), {stats.rate_limited} x 429, "
            f"waited {stats.waited:.1f} s · ",
            ("rate limit ", "bold"),
            printable(rate_limit_text(self._cci.rate_limit)),
        )
        parts: list[RenderableType] = [line(self._title, style="bold cyan"), self._progress, files]
        if self._listing is not None:
            counted = self._listing
            parts.append(
                Text.assemble(
                    ("listed ", "bold"),
                    f"{counted.pipelines} pipelines, {counted.workflows} workflows, "
                    f"{counted.jobs} jobs",
                )
            )
        parts.append(api)
        return Group(*parts)

    def _finish(self, exc: BaseException | None) -> None:
        if exc is None:  # done: now the total is known
            self._progress.update(self._task, total=self.received, completed=self.received)
