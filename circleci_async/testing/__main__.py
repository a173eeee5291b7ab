"""Serve the fake from the command line: to try the ``circleci-async`` commands from a shell,
or for a benchmark to run it in its own process.

    python -m circleci_async.testing                      # the demo's project, with artifacts
    python -m circleci_async.testing --port 0 --token T --pipelines 40000 --rate-limit none

prints ``READY <base url>`` on stdout once listening (the one line a parent process reads),
then on stderr what it serves: the URL, the token (unless given with ``--token``: then it is
the caller's and is not echoed), the project, the artifact and storage hosts and the
``export`` line for a shell. It serves until SIGTERM/SIGINT, or until its stdin closes when
stdin is a pipe (so it dies with the parent that spawned it).

With nothing else to seed (no ``--pipelines``, no ``--running-workflows``) it seeds the demo's
world (:mod:`.demo`: pipelines, workflows, parallel jobs, about ``--artifacts`` files) and
serves those files through an artifact host that takes the token and redirects to a storage host
that refuses credentials, both on plain HTTP on 127.0.0.1 so a shell reaches them as they are.

For polling benchmarks, ``--running-workflows 5000 --finish-within 60 --ids-file ids.txt``
starts workflows that end at random times within a fake minute, ``--clock-speed 10`` runs the
fake's clock ten times faster than real time (rate-limit windows stay in real seconds, which is
what a client's pacing counts in), and ``--hold-clock`` keeps the clock still until a line
``start`` arrives on stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import random
import signal
import stat
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._ratelimit import RateLimitPolicy
from ._server import FakeCircleCI, ScaledClock

if TYPE_CHECKING:
    from .artifacts import ArtifactServers

DEFAULT_ARTIFACTS = 60
DEFAULT_TOKEN = "test-token"  # noqa: S105 - the fake's documented default


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m circleci_async.testing", description="Serve a fake CircleCI API v2."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted API token")
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
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=None,
        help="fake seconds per real second (rate-limit windows stay in real seconds)",
    )
    parser.add_argument(
        "--hold-clock",
        action="store_true",
        help="keep the fake's clock still until a line 'start' arrives on stdin",
    )
    parser.add_argument(
        "--running-workflows",
        type=int,
        default=0,
        help="workflows to start, each in its own pipeline, ending at random times",
    )
    parser.add_argument(
        "--finish-within",
        type=float,
        default=60.0,
        help="fake seconds within which the running workflows end (uniformly at random)",
    )
    parser.add_argument("--ids-file", help="write the running workflows' ids here, one a line")
    parser.add_argument(
        "--artifacts",
        type=int,
        default=None,
        help="seed the demo's pipelines with about this many artifacts, served through an "
        "artifact host and a storage host (default: 60 when nothing else is seeded, else 0)",
    )
    return parser


def _watch_stdin(stop: asyncio.Event, on_line: Callable[[str], None] | None = None) -> None:
    """Stop when stdin reaches EOF, if it is a pipe or socket (a terminal or /dev/null is not
    a parent's lifeline and is ignored); hand each line read to ``on_line``."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return
    loop = asyncio.get_running_loop()
    pending = bytearray()

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
            return
        if on_line is not None:
            pending.extend(data)
            *lines, rest = pending.split(b"\n")
            pending[:] = rest
            for line in lines:
                on_line(line.decode("utf-8", "replace").strip())

    try:
        loop.add_reader(0, readable)
    except (NotImplementedError, ValueError):  # e.g. the Windows proactor loop
        return


def _start_workflows(fake: FakeCircleCI, args: argparse.Namespace) -> None:
    """Start the running workflows, ending uniformly at random within ``--finish-within``."""
    rng = random.Random(args.seed)
    durations = [rng.uniform(0.0, args.finish_within) for _ in range(args.running_workflows)]
    ids = fake.start_workflows(args.project, durations)
    if args.ids_file:
        with open(args.ids_file, "w", encoding="utf-8") as out:
            out.write("\n".join(ids) + "\n")


def token_given(argv: Sequence[str] | None) -> bool:
    """Whether ``--token`` was on the command line (then it is not echoed)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return any(a == "--token" or a.startswith("--token=") for a in args)


def describe(
    fake: FakeCircleCI,
    hosts: ArtifactServers | None,
    args: argparse.Namespace,
    served: int,
    *,
    token_given: bool,
) -> str:
    """What is served, for a person in a shell (stderr; stdout keeps its one READY line)."""
    token = "(the one given with --token)" if token_given else args.token
    lines = [
        f"fake CircleCI API v2 at {fake.url} (runner API at {fake.runner_url})",
        f"token: {token}",
        f"project: {args.project}",
    ]
    env = [
        f"CIRCLECI_TOKEN={'...' if token_given else args.token}",
        f"CIRCLECI_BASE_URL={fake.url}",
    ]
    if hosts is not None:
        artifact = f"http://{hosts.artifact_host}:{hosts.artifact_port}"
        storage = f"http://{hosts.storage_host}:{hosts.storage_port}"
        lines.append(
            f"artifacts: {served} files; artifact host {artifact} (takes the token) redirects "
            f"to storage host {storage} (refuses credentials)"
        )
        env.append(f"CIRCLECI_ARTIFACT_ORIGINS={artifact}")
    lines += [
        "try, in another shell:",
        f"  export {' '.join(env)}",
        f"  circleci-async pipelines {args.project}",
    ]
    if hosts is not None:
        lines.append(f"  circleci-async mirror {args.project} ./mirror")
    return "".join(line + "\n" for line in lines)


async def _serve(args: argparse.Namespace, argv: Sequence[str] | None = None) -> None:
    clock = None
    if args.clock_speed is not None or args.hold_clock:
        clock = ScaledClock(args.clock_speed or 1.0, started=not args.hold_clock)
    fake = FakeCircleCI(
        token=args.token,
        page_size=args.page_size,
        rate_limit=args.rate_limit,
        clock=clock,
        rate_limit_clock=time.time if clock is not None else None,
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
    if args.running_workflows:
        _start_workflows(fake, args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signals
            loop.add_signal_handler(signum, stop.set)

    def command(line: str) -> None:
        if line == "start" and clock is not None:
            clock.start()

    _watch_stdin(stop, command)
    files = args.artifacts
    if files is None:
        files = 0 if args.pipelines or args.running_workflows else DEFAULT_ARTIFACTS
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(fake)
        hosts = None
        served = 0
        if files > 0:
            from .artifacts import ArtifactServers
            from .demo import seed_demo

            hosts = await stack.enter_async_context(
                ArtifactServers(
                    token=args.token,
                    tls=False,
                    artifact_host=args.host,
                    storage_host=args.host,
                    with_ports=True,
                )
            )
            served = seed_demo(fake, hosts, files, seed=args.seed, project=args.project)
        print(f"READY {fake.url}", flush=True)
        sys.stderr.write(describe(fake, hosts, args, served, token_given=token_given(argv)))
        sys.stderr.flush()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        asyncio.run(_serve(args, argv))
    else:  # pragma: no cover - uvloop is optional
        uvloop.run(_serve(args, argv))


if __name__ == "__main__":
    main()
