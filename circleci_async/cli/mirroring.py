"""The mirror flow shared by ``mirror`` and ``demo``: run ``cci.artifacts.mirror`` with a live
display, then report what happened, including what rate limiting cost.

One function for both commands, so the demo shows exactly the code path a user runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from rich import box
from rich.console import Console
from rich.table import Table

from ..client import CircleCI
from ..download import Layout, MirrorResult, SkipPolicy
from .errors import CliError, ExitCode
from .render import MirrorDisplay, human_bytes, human_seconds

__all__ = ["MirrorFilters", "MirrorReport", "parse_when", "run_mirror", "summary_table"]

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_when(text: str, *, option: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (naive means UTC) or an age such as ``30m``, ``12h``, ``7d``, ``2w``.

    Checked here because the library treats an unparsable string as "no filter", which on the
    command line would silently mirror everything."""
    value = text.strip()
    match = _RELATIVE.fullmatch(value.lower())
    if match:
        ago = float(match.group(1)) * _UNITS[match.group(2)]
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=ago)
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise CliError(
            f"{option} {text!r}: expected an ISO 8601 time (2026-03-01, 2026-03-01T12:00Z) "
            "or an age (30m, 12h, 7d, 2w)",
            ExitCode.USAGE,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@attrs.frozen
class MirrorFilters:
    """The mirror command's selection and pacing options, as ``cci.artifacts.mirror`` takes
    them."""

    branch: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    workflow: tuple[str, ...] = ()
    job: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_pipelines: int | None = None
    concurrency: int = 8
    skip: SkipPolicy = SkipPolicy.IF_PRESENT
    layout: Layout = Layout.AUTO
    fail_fast: bool = False

    def kwargs(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "since": self.since,
            "until": self.until,
            "workflow": self.workflow or None,
            "job": self.job or None,
            "include": self.include,
            "exclude": self.exclude,
            "max_pipelines": self.max_pipelines,
            "concurrency": self.concurrency,
            "skip": self.skip,
            "layout": self.layout,
            "fail_fast": self.fail_fast,
        }


@attrs.frozen
class MirrorReport:
    """A mirror run with its cost: time, API requests, 429s and seconds spent waiting."""

    project: str
    result: MirrorResult
    seconds: float
    requests: int
    retries: int
    rate_limited: int
    waited: float

    @property
    def ok(self) -> bool:
        return self.result.ok

    def failures(self) -> list[dict[str, Any]]:
        return [
            {
                "path": e.result.artifact.path,
                "node_index": e.result.artifact.node_index,
                "file": e.result.relative,
                "job_number": e.job_number,
                "error": str(e.result.error) if e.result.error else e.result.status.value,
            }
            for e in self.result.entries
            if not e.result.ok
        ]

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "project": self.project,
            "dest": r.dest,
            "manifest": r.manifest,
            "ok": r.ok,
            "pipelines": r.pipelines,
            "workflows": r.workflows,
            "jobs": r.jobs,
            "jobs_up_to_date": r.jobs_up_to_date,
            "downloaded": r.downloaded,
            "skipped": r.skipped,
            "failed": r.failed,
            "bytes": r.bytes_downloaded,
            "seconds": round(self.seconds, 3),
            "api": {
                "requests": self.requests,
                "retries": self.retries,
                "rate_limited": self.rate_limited,
                "waited_seconds": round(self.waited, 3),
            },
            "listing_errors": [{"what": what, "error": str(exc)} for what, exc in r.errors],
            "failures": self.failures(),
        }


async def run_mirror(
    cci: CircleCI,
    project: str,
    dest: str,
    filters: MirrorFilters,
    *,
    live: bool,
    console: Console | None = None,
) -> MirrorReport:
    """Mirror ``project`` into ``dest``; draw progress on ``console`` when ``live``."""
    before = attrs.evolve(cci.stats)
    started = time.monotonic()
    display = MirrorDisplay(cci, title=f"mirroring {project} → {dest}", console=console, live=live)
    async with display:
        result = await cci.artifacts.mirror(project, dest, progress=display, **filters.kwargs())
    after = cci.stats
    return MirrorReport(
        project=project,
        result=result,
        seconds=time.monotonic() - started,
        requests=after.requests - before.requests,
        retries=after.retries - before.retries,
        rate_limited=after.rate_limited - before.rate_limited,
        waited=after.waited - before.waited,
    )


def summary_table(report: MirrorReport) -> Table:
    """The end-of-run table: outcomes, volume, time and what rate limiting cost."""
    r = report.result
    table = Table(title="mirror summary", box=box.SIMPLE, show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rate = r.bytes_downloaded / report.seconds if report.seconds > 0 else 0.0
    rows: Sequence[tuple[str, str]] = [
        ("downloaded", f"{r.downloaded} files"),
        ("skipped (already present)", f"{r.skipped} files"),
        ("failed", f"{r.failed} files"),
        ("listings failed", str(len(r.errors))),
        ("pipelines / workflows / jobs", f"{r.pipelines} / {r.workflows} / {r.jobs}"),
        ("bytes", human_bytes(r.bytes_downloaded)),
        ("time", human_seconds(report.seconds)),
        ("throughput", f"{human_bytes(rate)}/s"),
        ("API requests", str(report.requests)),
        ("429 answers", str(report.rate_limited)),
        ("seconds waited (rate limit, backoff)", f"{report.waited:.1f}"),
    ]
    for label, value in rows:
        style = (
            "red"
            if label in ("failed", "listings failed") and value not in ("0 files", "0")
            else None
        )
        table.add_row(label, value, style=style)
    return table
