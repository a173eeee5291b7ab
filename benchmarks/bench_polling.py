"""Polling at scale: 5,000 workflows watched at once, the library's Watcher against raw aiohttp.

The fake server (pinned to CPU 0) starts ``--workflows`` workflows, each in its own pipeline,
ending uniformly at random within 60 fake seconds. Its clock runs ``--speed`` times faster than
real time and stands still until the client says go, so a fake minute takes seconds. It allows
``--rate`` requests per real second per token (a Kong-style aligned one-second window, with
``X-RateLimit-*-Second`` headers and ``Retry-After`` on a 429), far below what polling every
workflow at the schedule's pace asks for, so the limit binds.

* library: ``cci.watch(workflows=ids)`` with the default schedule (2 s, growing 1.5x per
  unchanged poll up to 30 s) scaled to the fake's speed, ``--concurrency`` polls in flight;
* raw aiohttp: what a script does without the library: one task per workflow polling every
  2 fake seconds, at most ``--concurrency`` requests in flight, sleeping ``Retry-After`` on a
  429.

Each run is a fresh client process pinned to CPU 1 with a fresh server; the sides alternate.
Printed per side: requests per workflow, 429s, failures, peak RSS, KiB per watched workflow
(RSS at its highest while watching, and at the end, minus RSS just before watching began,
divided by the workflows), and the report delay: fake seconds from a workflow's ``stopped_at``
to the poll that reported it. Targets for the library: zero failures, 429s <= 1% of requests,
<= 10 KiB per watched workflow.

    python benchmarks/bench_polling.py [--workflows 5000] [--speed 10] [--rate 2000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import TOKEN, cpu_seconds, pin_self

from circleci_async import CircleCI, CircleCIError, PollSchedule
from circleci_async._json import loads
from circleci_async.models import Workflow

FINISH_WITHIN = 60.0  # fake seconds
SCHEDULE = PollSchedule()  # 2 s, x1.5, at most 30 s: in fake seconds
FINAL = frozenset({"success", "not_run", "failed", "error", "canceled", "unauthorized"})


# -- the server --------------------------------------------------------------------------------


@contextmanager
def held_server(args: argparse.Namespace, ids_file: str) -> Iterator[tuple[str, Any]]:
    """The fake with its workflows started and its clock held; yields (url, its stdin)."""
    cmd = [
        sys.executable,
        "-m",
        "circleci_async.testing",
        "--token",
        TOKEN,
        "--running-workflows",
        str(args.workflows),
        "--finish-within",
        str(FINISH_WITHIN),
        "--clock-speed",
        str(args.speed),
        "--hold-clock",
        "--ids-file",
        ids_file,
        "--rate-limit",
        f"{args.rate}/s",
        "--seed",
        str(args.seed),
    ]
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                line = proc.stdout.readline()
                break
        if not line.startswith("READY "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        yield line.split(" ", 1)[1].strip(), proc.stdin
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                values[name] = int(value.split()[0])
    return values["VmRSS"], values["VmHWM"]


class Sampler:
    """The highest RSS seen while watching (sampled every 20 ms, and at the end)."""

    def __init__(self) -> None:
        self.high = rss_kib()[0]
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        for _ in range(100_000):  # bounded: 2,000 s of samples
            self.high = max(self.high, rss_kib()[0])
            await asyncio.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.high = max(self.high, rss_kib()[0])


# -- the two clients ---------------------------------------------------------------------------


def _fake_seconds(stamp: dt.datetime | str) -> float:
    if isinstance(stamp, str):
        stamp = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return stamp.timestamp()


async def run_library(
    url: str, ids: list[str], args: argparse.Namespace, go: Any
) -> dict[str, Any]:
    speed = args.speed
    schedule = PollSchedule(
        SCHEDULE.interval / speed, SCHEDULE.max_interval / speed, SCHEDULE.backoff
    )
    delays: list[float] = []
    failures = changes = 0
    async with CircleCI(TOKEN, base_url=url, max_concurrency=args.concurrency) as cci:
        await cci.request("GET", "me")  # warm: session, connection, limiter, converter
        await cci.workflows.get(ids[0])
        requests0, limited0 = cci.stats.requests, cci.stats.rate_limited
        before = rss_kib()[0]
        started = go()
        with Sampler() as sampler:
            watcher = cci.watch(workflows=ids, schedule=schedule, timeout=args.max_seconds)
            async with watcher:
                async for change in watcher:
                    changes += 1
                    if change.error is not None:
                        failures += 1
                    elif change.final:
                        workflow = change.item
                        assert isinstance(workflow, Workflow) and workflow.stopped_at is not None
                        ran = _fake_seconds(workflow.stopped_at) - _fake_seconds(
                            workflow.created_at
                        )
                        delays.append((change.at - started) * speed - ran)
                    if changes > 20 * len(ids):
                        raise RuntimeError("far more changes than workflows can make")
            after = rss_kib()[0]
        elapsed = time.time() - started
        return {
            "requests": cci.stats.requests - requests0,
            "rate_limited": cci.stats.rate_limited - limited0,
            "failures": len(ids) - len(delays),  # workflows whose end was not reported
            "errors": failures,
            "delays": delays,
            "before": before,
            "high": sampler.high,
            "after": after,
            "peak": rss_kib()[1],
            "elapsed": elapsed,
        }


async def run_waits(url: str, ids: list[str], args: argparse.Namespace, go: Any) -> dict[str, Any]:
    """``cci.workflows.wait`` for every workflow at once (one task each, as a user gathers)."""
    speed = args.speed
    schedule = PollSchedule(
        SCHEDULE.interval / speed, SCHEDULE.max_interval / speed, SCHEDULE.backoff
    )
    delays: list[float] = []
    errors = 0
    async with CircleCI(TOKEN, base_url=url, max_concurrency=args.concurrency) as cci:
        await cci.request("GET", "me")
        await cci.workflows.get(ids[0])
        requests0, limited0 = cci.stats.requests, cci.stats.rate_limited
        before = rss_kib()[0]
        started = go()

        async def wait(workflow_id: str) -> None:
            nonlocal errors
            try:
                workflow = await cci.workflows.wait(workflow_id, schedule=schedule)
            except CircleCIError:
                errors += 1
                return
            assert workflow.stopped_at is not None
            ran = _fake_seconds(workflow.stopped_at) - _fake_seconds(workflow.created_at)
            delays.append((time.time() - started) * speed - ran)

        with Sampler() as sampler:
            await asyncio.wait_for(asyncio.gather(*(wait(i) for i in ids)), args.max_seconds)
            after = rss_kib()[0]
        elapsed = time.time() - started
        return {
            "requests": cci.stats.requests - requests0,
            "rate_limited": cci.stats.rate_limited - limited0,
            "failures": len(ids) - len(delays),
            "errors": errors,
            "delays": delays,
            "before": before,
            "high": sampler.high,
            "after": after,
            "peak": rss_kib()[1],
            "elapsed": elapsed,
        }


async def run_raw(url: str, ids: list[str], args: argparse.Namespace, go: Any) -> dict[str, Any]:
    speed = args.speed
    interval = SCHEDULE.interval / speed
    delays: list[float] = []
    counts = {"requests": 0, "rate_limited": 0, "errors": 0}
    headers = {"Circle-Token": TOKEN, "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        gate = asyncio.Semaphore(args.concurrency)

        async def get(path: str) -> tuple[int, Any, str | None]:
            async with gate, session.get(f"{url}/{path}") as resp:
                body = await resp.read()
                return resp.status, loads(body), resp.headers.get("Retry-After")

        async def poll(workflow_id: str, started: float) -> None:
            for _ in range(10_000):  # bounded; a fake minute needs far fewer
                counts["requests"] += 1
                status, data, retry_after = await get(f"workflow/{workflow_id}")
                if status == 429:
                    counts["rate_limited"] += 1
                    await asyncio.sleep(float(retry_after or 1))
                    continue
                if status != 200:
                    counts["errors"] += 1
                    return
                if data["status"] in FINAL:
                    ran = _fake_seconds(data["stopped_at"]) - _fake_seconds(data["created_at"])
                    delays.append((time.time() - started) * speed - ran)
                    return
                await asyncio.sleep(interval)

        await get("me")
        await get(f"workflow/{ids[0]}")
        before = rss_kib()[0]
        started = go()
        with Sampler() as sampler:
            await asyncio.wait_for(
                asyncio.gather(*(poll(i, started) for i in ids)), args.max_seconds
            )
            after = rss_kib()[0]
        elapsed = time.time() - started
    return {
        **counts,
        "failures": len(ids) - len(delays),
        "delays": delays,
        "before": before,
        "high": sampler.high,
        "after": after,
        "peak": rss_kib()[1],
        "elapsed": elapsed,
    }


def child(args: argparse.Namespace) -> None:
    """One run of one side, in this process (pinned to CPU 1); prints its result as JSON."""
    pin_self(1)
    cpu = [0.0]
    with tempfile.TemporaryDirectory() as tmp:
        ids_file = str(Path(tmp) / "ids.txt")
        with held_server(args, ids_file) as (url, stdin):
            ids = Path(ids_file).read_text(encoding="utf-8").split()
            if len(ids) != args.workflows:
                raise RuntimeError(f"the fake started {len(ids)} workflows")

            def go() -> float:
                """Start the fake's clock; returns when (real time) it started."""
                cpu[0] = cpu_seconds()
                started = time.time()
                stdin.write("start\n")
                stdin.flush()
                return started

            run = {"library": run_library, "waits": run_waits, "raw": run_raw}[args.child]
            result = asyncio.run(run(url, ids, args, go))
            result["cpu"] = cpu_seconds() - cpu[0]
    print(json.dumps(result))


# -- the report ----------------------------------------------------------------------------------


def spawn(side: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        side,
        "--workflows",
        str(args.workflows),
        "--speed",
        str(args.speed),
        "--rate",
        str(args.rate),
        "--concurrency",
        str(args.concurrency),
        "--max-seconds",
        str(args.max_seconds),
        "--seed",
        str(seed),
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.max_seconds + 120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{side} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(r: dict[str, Any], n: int) -> dict[str, float]:
    delays = r["delays"] or [float("nan")]
    return {
        "req/wf": r["requests"] / n,
        "429s": r["rate_limited"],
        "429 %": 100 * r["rate_limited"] / max(1, r["requests"]),
        "failures": r["failures"],
        "peak MiB": r["peak"] / 1024,
        "KiB/wf": (r["high"] - r["before"]) / n,
        "KiB/wf end": (r["after"] - r["before"]) / n,
        "delay p50": statistics.median(delays),
        "delay p95": pct(delays, 0.95),
        "delay max": max(delays),
        "real s": r["elapsed"],
        "req/s": r["requests"] / r["elapsed"],
        "CPU µs/req": r["cpu"] / max(1, r["requests"]) * 1e6,
    }


COLUMNS = (
    ("req/wf", "{:>7.2f}"),
    ("429s", "{:>7.0f}"),
    ("429 %", "{:>6.1f}"),
    ("failures", "{:>9.0f}"),
    ("peak MiB", "{:>9.1f}"),
    ("KiB/wf", "{:>7.2f}"),
    ("KiB/wf end", "{:>11.2f}"),
    ("delay p50", "{:>10.1f}"),
    ("delay p95", "{:>10.1f}"),
    ("delay max", "{:>10.1f}"),
    ("real s", "{:>7.1f}"),
    ("req/s", "{:>7.0f}"),
    ("CPU µs/req", "{:>11.0f}"),
)


def main(args: argparse.Namespace) -> None:
    n = args.workflows
    rows: list[tuple[str, dict[str, float]]] = []
    deadline = time.monotonic() + args.budget
    for rep in range(args.repeat):
        sides = ["library", "raw"] if rep % 2 == 0 else ["raw", "library"]
        if args.skip_raw:
            sides = ["library"]
        if args.waits:
            sides.insert(1, "waits")
        pair = {side: summary(spawn(side, args, args.seed + rep), n) for side in sides}
        rows += [(f"{side} #{rep + 1}", pair[side]) for side in sides]
        if "raw" in pair:
            lib, raw = pair["library"], pair["raw"]
            rows.append(
                (
                    f"lib/raw #{rep + 1}",
                    {k: lib[k] / raw[k] if raw[k] else float("nan") for k in lib},
                )
            )
        if time.monotonic() > deadline:
            print(f"(stopped after {rep + 1} repetitions: time budget)")
            break
    print(
        f"\n{n} workflows ending uniformly within {FINISH_WITHIN:g} fake s; fake clock x{args.speed:g}"
        f"; rate limit {args.rate}/s (real seconds, aligned windows); {args.concurrency} polls "
        f"in flight; schedule {SCHEDULE.interval:g} s x{SCHEDULE.backoff:g} up to "
        f"{SCHEDULE.max_interval:g} s (fake)"
    )
    print(f"{'run':<14}" + "".join(f"{name:>{len(fmt.format(0))}}" for name, fmt in COLUMNS))
    for name, row in rows:
        ratio = name.startswith("lib/raw")
        print(
            f"{name:<14}"
            + "".join(
                f"{row[key]:>{len(fmt.format(0))}.2f}" if ratio else fmt.format(row[key])
                for key, fmt in COLUMNS
            )
        )
    print(
        "delays in fake seconds from stopped_at to the report; KiB/wf = (highest RSS while "
        "watching - RSS before) / workflows ('end': RSS when done); lib/raw = ratio.\n"
        "targets (library): 0 failures, 429s <= 1%, KiB/wf <= 10"
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=5000)
    parser.add_argument("--speed", type=float, default=10.0, help="fake seconds per real second")
    parser.add_argument("--rate", type=int, default=2000, help="requests per real second")
    parser.add_argument("--concurrency", type=int, default=32, help="polls in flight")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound of one run")
    parser.add_argument("--budget", type=float, default=600.0, help="bound of all runs")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument(
        "--waits", action="store_true", help="also run one wait() per workflow, gathered"
    )
    parser.add_argument("--child", choices=("library", "waits", "raw"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        main(args)


if __name__ == "__main__":
    cli()
