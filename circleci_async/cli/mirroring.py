"""The mirror flow shared by ``mirror`` and ``demo``: run ``cci.artifacts.mirror`` with a live
display, then report what happened, including what rate limiting cost.

One function for both commands, so the demo shows exactly the code path a user runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs
from rich import box
from rich.console import Console
from rich.table import Table

from .._timespec import parse_time
from ..client import CircleCI
from ..download import MirrorOptions, MirrorResult
from ..errors import ConfigurationError
from .errors import CliError, ExitCode, one_line, scrub
from .listing import ListingCounter
from .render import MirrorDisplay, human_bytes, human_seconds
from .terminal import printable

__all__ = [
    "MirrorFilters",
    "MirrorOptions",
    "MirrorReport",
    "narrowed",
    "parse_when",
    "run_mirror",
    "summary_table",
]


def parse_when(text: str, *, option: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (naive means UTC) or an age such as ``30m``, ``12h``, ``7d``, ``2w``:
    the library's own parser (:func:`circleci_async._timespec.parse_time`), with the error
    naming the command-line option and exiting as a usage error."""
    try:
        parsed = parse_time(text, what=option, now=now)
    except ConfigurationError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    assert parsed is not None  # text is a string
    return parsed


def _literal(name: str) -> str:
    """A glob matching exactly ``name`` (``\\`` escapes, as the mirror's globs take it)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in name)


async def narrowed(
    cci: CircleCI,
    project: str,
    options: MirrorOptions,
    *,
    pipeline: int | None = None,
    job: int | None = None,
) -> MirrorOptions:
    """``options`` narrowed to one pipeline (by number) or one job (by number), with the
    library's own filters: the pipeline's creation time as both ``since`` and ``until`` (so
    the walk, newest first, stops right after it), and for a job its workflow's and its own
    name as exact globs. ``--since``/``--until`` are replaced."""
    workflow, names = options.workflow, options.job
    if job is not None:
        details = await cci.jobs.get(project, job)
        found = await cci.pipelines.get(details.pipeline.id)
        workflow = (_literal(details.latest_workflow.name),)
        names = (_literal(details.name),)
    else:
        assert pipeline is not None
        found = await cci.pipelines.get_by_number(project, pipeline)
    return attrs.evolve(
        options,
        since=found.created_at,
        until=found.created_at,
        workflow=workflow,
        job=names,
        max_pipelines=None,
    )


#: The mirror command's options are the library's: one declaration (:class:`MirrorOptions`).
MirrorFilters = MirrorOptions


@attrs.frozen
class MirrorReport:
    """A mirror run with its cost: time, API requests, 429s and seconds spent waiting."""

    project: str
    result: MirrorResult
    seconds: float
    #: API requests (to origins that receive the token), and apart those to storage hosts.
    requests: int
    storage_requests: int
    retries: int
    rate_limited: int
    waited: float
    #: The seconds waited, by why: the limiter's ``pace``, ``gate`` (a 429 or an exhausted
    #: window), ``probe`` (the first answer), ``backend``, and ``retry backoff``.
    waited_by: dict[str, float] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        return self.result.ok

    def failures(self, secrets: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The files that failed; error texts with ``secrets`` scrubbed (in every form they
        travel in: a server may echo the credentials it received in an error body)."""
        return [
            {
                "path": e.result.artifact.path,
                "node_index": e.result.artifact.node_index,
                "file": e.result.relative,
                "job_number": e.job_number,
                "error": (
                    scrub(str(e.result.error), secrets) if e.result.error else e.result.status.value
                ),
            }
            for e in self.result.entries
            if not e.result.ok
        ]

    def to_json(self, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """The ``--json`` report: every error text passes through :func:`scrub`, as the error
        line does (values otherwise as they are: JSON escaping keeps controls out of the
        byte stream)."""
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
                "waited_by": {why: round(s, 3) for why, s in sorted(self.waited_by.items())},
            },
            "storage": {"requests": self.storage_requests},
            "listing_errors": [
                {"what": what, "error": scrub(str(exc), secrets)} for what, exc in r.errors
            ],
            "failures": self.failures(secrets),
        }


async def run_mirror(
    cci: CircleCI,
    project: str,
    dest: str,
    options: MirrorOptions,
    *,
    live: bool,
    console: Console | None = None,
    secrets: tuple[str, ...] = (),
    listing: ListingCounter | None = None,
) -> MirrorReport:
    """Mirror ``project`` into ``dest``; draw progress on ``console`` when ``live``.

    A SIGTERM cancels the mirror as Ctrl-C does (the transfers it stops remove their partial
    files), then ends the command with one line instead of a traceback. The library's warnings
    meanwhile (a listing that failed) reach stderr scrubbed of ``secrets`` and with control
    characters shown, as the error line does."""
    before = attrs.evolve(cci.stats)
    started = time.monotonic()
    tally = WaitTally()
    cci.core.observers.append(tally)  # the library's own events say why time was spent waiting
    display = MirrorDisplay(
        cci, title=f"mirroring {project} → {dest}", console=console, live=live, listing=listing
    )
    with _sigterm_cancels() as terminated, _safe_warnings(secrets):
        try:
            async with display:
                result = await cci.artifacts.mirror(
                    project, dest, options=options, progress=display
                )
        except asyncio.CancelledError:
            if not terminated:
                raise
            raise CliError("terminated (SIGTERM)", ExitCode.INTERRUPTED) from None
        finally:
            cci.core.observers.remove(tally)
    after = cci.stats
    return MirrorReport(
        project=project,
        result=result,
        seconds=time.monotonic() - started,
        requests=(after.requests - after.storage_requests)
        - (before.requests - before.storage_requests),
        storage_requests=after.storage_requests - before.storage_requests,
        retries=after.retries - before.retries,
        rate_limited=after.rate_limited - before.rate_limited,
        waited=after.waited - before.waited,
        waited_by=dict(tally.seconds),
    )


class WaitTally:
    """An observer adding up the seconds waited, by why (rate-limit pace, gate, probe, the
    shared backend; retry backoff)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, event: object) -> None:
        from ..events import RateLimitWait, RetryScheduled

        if isinstance(event, RateLimitWait):
            self._add(event.why, event.seconds)
        elif isinstance(event, RetryScheduled) and event.delay > 0:
            self._add("retry backoff", event.delay)

    def _add(self, why: str, seconds: float) -> None:
        self.seconds[why] = self.seconds.get(why, 0.0) + seconds


class _SafeWarnings(logging.Handler):
    """The library's warnings as Python's last-resort handler prints them (the bare message on
    stderr), but scrubbed and made printable: they quote server text (an error body that may
    echo the credentials, names with escape sequences)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__(logging.WARNING)
        self._secrets = secrets

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = one_line(printable(scrub(record.getMessage(), self._secrets)))
            sys.stderr.write(text + "\n")
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _safe_warnings(secrets: tuple[str, ...]) -> Iterator[None]:
    """While inside, the library's warnings go through :class:`_SafeWarnings`, unless logging
    is configured (then its handlers decide, as before)."""
    logger = logging.getLogger("circleci_async")
    if logger.hasHandlers():
        yield
        return
    handler = _SafeWarnings(secrets)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def _sigterm_cancels() -> Iterator[list[bool]]:
    """While inside, SIGTERM cancels the current task; the list yielded becomes non-empty
    once it did. Where the loop cannot take signals (Windows, another thread) it does
    nothing."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated: list[bool] = []

    def cancel() -> None:
        if task is not None and not terminated:
            terminated.append(True)
            task.cancel()

    previous = signal.getsignal(signal.SIGTERM)
    try:
        loop.add_signal_handler(signal.SIGTERM, cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        yield terminated
        return
    try:
        yield terminated
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


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
        ("storage requests (artifact redirects)", str(report.storage_requests)),
        ("429 answers", str(report.rate_limited)),
        ("seconds waited (rate limit, backoff)", _waited(report)),
    ]
    for label, value in rows:
        style = (
            "red"
            if label in ("failed", "listings failed") and value not in ("0 files", "0")
            else None
        )
        table.add_row(label, value, style=style)
    return table


def _waited(report: MirrorReport) -> str:
    """``4.2`` and, when anything was waited, why: ``4.2 (pace 3.9 s, gate 0.3 s)``."""
    total = f"{report.waited:.1f}"
    parts = [f"{why} {s:.1f} s" for why, s in sorted(report.waited_by.items()) if s >= 0.05]
    return f"{total} ({', '.join(parts)})" if parts else total
