"""Many processes on one token: each pacing alone (in memory) against one budget in Redis.

The fake server counts per token: 10 requests per second and 600 per minute (Kong-style
windows). N worker processes (1, 4, 8) each run 4 tasks making requests over the same ``--seconds``
(started together once every process is up);
every row gets a fresh server (fresh windows) and, for Redis, a fresh ``redis-server``. The
last row kills Redis (SIGKILL) a third of the way in and restarts it on the same port at two
thirds. Printed per row: calls done, 429s drawn (and their share of requests sent), failed
calls, the rate used against the allowed 10/s, and the smallest and largest worker's share.

Targets with Redis: 0 failed calls, 429s <= 1% of requests, >= 90% of the allowed rate, no
worker starved. Needs ``redis-server`` on PATH and the ``redis`` extra.

    python benchmarks/bench_shared_limit.py [--seconds 20] [--workers 1,4,8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import TOKEN, fake_server

from circleci_async import CircleCI, CircleCIError, RetryConfig

PER_SECOND, PER_MINUTE = 10, 600
POLICY = f"{PER_SECOND}/s,{PER_MINUTE}/m"
ALLOWED = min(PER_SECOND, PER_MINUTE / 60)
TASKS = 4


# -- one worker process ---------------------------------------------------------------------


async def work(url: str, redis_url: str, seconds: float) -> dict[str, float]:
    backend = None
    if redis_url:
        from circleci_async.ratelimit.redis import RedisBackend

        backend = RedisBackend.from_url(redis_url)
    done = failures = 0
    async with CircleCI(
        TOKEN, base_url=url, retry=RetryConfig(deadline=120), limiter_backend=backend
    ) as cci:
        # Every worker runs over the same span: ready, then told when to start (the monotonic
        # clock is the machine's, shared by its processes), so process start-up is not counted.
        print("ready", flush=True)
        start = float(await asyncio.to_thread(sys.stdin.readline))
        await asyncio.sleep(max(start - time.monotonic(), 0.0))
        deadline = start + seconds

        async def task() -> None:
            nonlocal done, failures
            while time.monotonic() < deadline:
                try:
                    await cci.request("GET", "me")
                    done += 1
                except CircleCIError:
                    failures += 1

        await asyncio.gather(*(task() for _ in range(TASKS)))
        stats = {"done": done, "failures": failures, "sent": cci.stats.requests}
        stats["rate_limited"] = cci.stats.rate_limited
        # a call begun before the deadline may end well after it (queued, or gated by a 429)
        stats["start"], stats["end"] = start, time.monotonic()
    if backend is not None:
        await backend.aclose()
    return stats


# -- the driver -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_redis(port: int, workdir: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
    process = subprocess.Popen(
        [*args, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    sys.exit("redis-server did not answer PING")


class Redis:
    """One redis-server on a fixed port: killed (SIGKILL, by its pid) and restarted there."""

    def __init__(self, workdir: str) -> None:
        self.port, self.workdir = _free_port(), workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = _start_redis(self.port, workdir)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.process = _start_redis(self.port, self.workdir)


@contextmanager
def redis_server() -> Iterator[Redis]:
    with tempfile.TemporaryDirectory() as workdir:
        redis = Redis(workdir)
        try:
            yield redis
        finally:
            redis.kill()


def run_row(n: int, redis: Redis | None, seconds: float, kill: bool = False) -> list[Any]:
    with fake_server("--rate-limit", POLICY, cpu=0) as url:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    url,
                    redis.url if redis else "",
                    str(seconds),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(n)
        ]
        for p in procs:  # all started and imported, then one start time for all
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        start = time.monotonic() + 0.2
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"{start!r}\n")
            p.stdin.flush()
        time.sleep(max(start - time.monotonic(), 0.0))
        if kill and redis is not None:  # SIGKILL a third in, restart on its port at two thirds
            time.sleep(seconds / 3)
            redis.kill()
            time.sleep(seconds / 3)
            redis.restart()
        return [json.loads(p.communicate(timeout=seconds + 120)[0]) for p in procs]


def report(name: str, n: int, rows: list[Any]) -> None:
    done = sum(r["done"] for r in rows)
    sent = sum(r["sent"] for r in rows)
    limited = sum(r["rate_limited"] for r in rows)
    failures = sum(r["failures"] for r in rows)
    shares = [r["done"] / done if done else 0.0 for r in rows]
    span = max(r["end"] for r in rows) - min(r["start"] for r in rows)
    print(
        f"{name:<16}{n:>3}{done:>8}{limited:>7}{limited / max(sent, 1):>8.1%}{failures:>9}"
        f"{span:>7.1f}{done / span / ALLOWED:>10.0%}{min(shares):>8.0%}{max(shares):>8.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", default="1,4,8")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, redis_url, seconds = args.worker
        print(json.dumps(asyncio.run(work(url, redis_url, float(seconds)))))
        return
    counts = [int(n) for n in args.workers.split(",")]
    print(
        f"server: {PER_SECOND}/s and {PER_MINUTE}/min per token; {TASKS} tasks per worker "
        f"process, {args.seconds:g} s per row"
    )
    print(
        f"{'backend':<16}{'N':>3}{'calls':>8}{'429s':>7}{'429 %':>8}{'failures':>9}"
        f"{'span s':>7}{'of limit':>10}{'min':>8}{'max':>8}"
    )
    for n in counts:
        report("in memory", n, run_row(n, None, args.seconds))
    for n in counts:
        with redis_server() as redis:
            report("redis", n, run_row(n, redis, args.seconds))
    n = max(counts)
    with redis_server() as redis:
        report("redis, killed", n, run_row(n, redis, args.seconds, kill=True))
    print(
        "span: from the common start to the last call's end; 'of limit': calls done per second"
        " of span / the allowed 10/s; min/max: the smallest and largest worker's share"
    )


if __name__ == "__main__":
    main()
