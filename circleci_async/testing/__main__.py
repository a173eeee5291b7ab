"""Serve the fake from the command line, so a benchmark can run it in its own process.

    python -m circleci_async.testing --port 0 --token T --pipelines 40000 --rate-limit none

prints ``READY <base url>`` once listening, then serves until SIGTERM/SIGINT, or until its
stdin closes when stdin is a pipe (so it dies with the parent that spawned it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import stat
from collections.abc import Sequence

from ._ratelimit import RateLimitPolicy
from ._server import FakeCircleCI


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m circleci_async.testing", description="Serve a fake CircleCI API v2."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="test-token", help="the accepted API token")
    parser.add_argument("--project", default="gh/acme/widgets", help="project slug to create")
    parser.add_argument("--pipelines", type=int, default=0, help="pipelines to seed")
    parser.add_argument("--branches", default="main,dev", help="comma-separated, round-robin")
    parser.add_argument("--workflows-per-pipeline", type=int, default=0)
    parser.add_argument("--jobs-per-workflow", type=int, default=0)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rate-limit",
        default="none",
        type=RateLimitPolicy.parse,
        help='none, circleci, or windows such as "20/s,600/m,1000/m:ietf"',
    )
    return parser


def _watch_stdin(stop: asyncio.Event) -> None:
    """Stop when stdin reaches EOF, if it is a pipe or socket (a terminal or /dev/null is not
    a parent's lifeline and is ignored)."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            data = os.read(0, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            stop.set()

    try:
        loop.add_reader(0, readable)
    except (NotImplementedError, ValueError):  # e.g. the Windows proactor loop
        return


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeCircleCI(
        token=args.token,
        page_size=args.page_size,
        rate_limit=args.rate_limit,
        seed=args.seed,
        host=args.host,
        port=args.port,
        record=False,  # a long benchmark would otherwise keep every request in memory
    )
    fake.add_project(args.project)
    if args.pipelines:
        fake.seed_pipelines(
            args.project,
            args.pipelines,
            tuple(b for b in args.branches.split(",") if b),
            workflows_per_pipeline=args.workflows_per_pipeline,
            jobs_per_workflow=args.jobs_per_workflow,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals
            loop.add_signal_handler(signum, stop.set)
    _watch_stdin(stop)
    async with fake:
        print(f"READY {fake.url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        asyncio.run(_serve(args))
    else:  # pragma: no cover - uvloop is optional
        uvloop.run(_serve(args))


if __name__ == "__main__":
    main()
