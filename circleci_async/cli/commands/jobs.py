"""``job``: a job's step output and its tests, through API v3 (``cci.v3.jobs``), as the official
CLI's ``job logs`` and ``job tests`` show them.

``job logs`` writes the bytes as they arrive, never the whole output at once; with
``--follow`` it polls until the output is complete. To a pipe or a file the bytes go as the
server sent them (ANSI kept); to a terminal, control characters are shown as visible escapes
(a log is server text: an escape sequence in it could retitle the window or hide lines), unless
``--raw``. ``job tests`` lists results (``--failed``:
failures and errors only) and exits 1 when a test failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..options import interval_option, json_option, run_client, status

if TYPE_CHECKING:
    from ...client import CircleCI

__all__ = ["job"]


@click.group()
def job() -> None:
    """A job's output and tests (API v3; JOB_ID is the job's UUID)."""


@job.command("logs")
@click.argument("job_id")
@click.option("--step", type=click.IntRange(min=0), help="One step (default: every step).")
@click.option(
    "--execution",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The parallel execution.",
)
@click.option("--follow", is_flag=True, help="Keep reading while the job runs, to the end.")
@click.option("--stderr", "show_stderr", is_flag=True, help="The step's stderr instead.")
@click.option("--condensed", is_flag=True, help="Only the most error-relevant lines.")
@click.option("--raw", is_flag=True, help="Bytes as sent, also to a terminal (ANSI colours).")
@interval_option
@click.pass_context
def logs(
    ctx: click.Context,
    job_id: str,
    step: int | None,
    execution: int,
    follow: bool,
    show_stderr: bool,
    condensed: bool,
    raw: bool,
    interval: float,
) -> int:
    """A job's step output on stdout, as it arrives. Without --step, every step the job lists
    for the execution, in order (each followed to its end with --follow)."""
    if show_stderr and condensed:
        raise click.UsageError("pass at most one of --stderr and --condensed")
    if condensed and follow:
        raise click.UsageError("--condensed is read once; it cannot be followed")

    import codecs
    import sys

    from ...polling import PollSchedule
    from ..errors import ExitCode
    from ..terminal import printable

    poll = PollSchedule(interval=interval, max_interval=max(interval, min(10.0, 20 * interval)))
    out = sys.stdout.buffer
    # A character cut across chunks is decoded whole; an escape is shown char by char.
    decoder = (
        None
        if raw or not sys.stdout.isatty()
        else codecs.getincrementaldecoder("utf-8")(errors="replace")
    )

    def write(chunk: bytes) -> None:
        if decoder is None:
            out.write(chunk)
        else:
            out.write(printable(decoder.decode(chunk)).encode("utf-8", "replace"))
        out.flush()

    async def work(cci: CircleCI) -> int:
        jobs = cci.v3.jobs
        steps: list[int | None] = [step]
        if step is None:
            found = await jobs.get(job_id)
            executions = found.attributes.parallel_executions
            listed = executions[execution].steps if execution < len(executions) else []
            steps = [s.num for s in listed if s.num is not None]
            if not steps:
                status("the job lists no steps (yet) for this execution", False)
                return ExitCode.OK
        for number in steps:
            if condensed:
                chunks = jobs.condensed(job_id, step=number, execution=execution)
            elif show_stderr:
                chunks = jobs.stderr(
                    job_id, step=number, execution=execution, follow=follow, poll=poll
                )
            else:
                chunks = jobs.stdout(
                    job_id, step=number, execution=execution, follow=follow, poll=poll
                )
            async for chunk in chunks:
                write(chunk)
        return ExitCode.OK

    return run_client(ctx, work)


@job.command("tests")
@click.argument("job_id")
@click.option("--failed", is_flag=True, help="Only failures and errors.")
@json_option
@click.pass_context
def tests(ctx: click.Context, job_id: str, failed: bool, as_json: bool) -> int:
    """A job's test results (exit 1 when a test failed)."""
    from ..errors import ExitCode
    from ..render import emit_json, stdout_console
    from ..terminal import printable

    async def work(cci: CircleCI) -> int:
        shown = []
        failures = total = 0
        async for result in cci.v3.jobs.tests(job_id):
            total += 1
            bad = result.result is not None and result.result.failed
            failures += bad
            if bad or not failed:
                shown.append(result)
        if as_json:
            emit_json(shown)
        else:
            console = stdout_console()
            for result in shown:
                outcome = str(result.result.value if result.result else "unknown").upper()
                name = ".".join(part for part in (result.classname, result.name) if part)
                took = f" ({result.run_time:.2f} s)" if result.run_time is not None else ""
                console.print(f"{outcome:<8} {printable(name)}{took}", markup=False)
                if result.message and result.result is not None and result.result.failed:
                    for text in result.message.splitlines()[:20]:
                        console.print(f"         {printable(text)}", markup=False)
            console.print(f"{total} tests, {failures} failed", markup=False)
        return ExitCode.FAILED if failures else ExitCode.OK

    return run_client(ctx, work)
