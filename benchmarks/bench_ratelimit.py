"""The limiter against a server that enforces CircleCI-style limits, with a raw baseline.

The fake server allows 20 requests per second and 600 per minute per token (Kong-style
``X-RateLimit-*-Second|Minute`` windows, aligned to the clock) and advertises a looser gateway
limit of 1,000 per minute in the IETF ``RateLimit-*`` headers, so the client must find the
lower one. 64 tasks make 600 requests. Printed: 429s, failures, the achieved rate as a fraction
of the binding sustained limit (600/min = 10/s), and against the fastest schedule the server's
windows would have allowed from the same start time.

The baseline is raw aiohttp doing what a careful script does without a limiter: 64 tasks, and
on a 429 sleep ``Retry-After`` then try again. Each side gets its own server process, so both
start with fresh windows.

    python benchmarks/bench_ratelimit.py [--requests 600] [--tasks 64]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import TOKEN, fake_server, pin_self

from circleci_async import CircleCI, CircleCIError, RetryConfig

PER_SECOND, PER_MINUTE, GATEWAY_PER_MINUTE = 20, 600, 1000
POLICY = f"{PER_SECOND}/s,{PER_MINUTE}/m,{GATEWAY_PER_MINUTE}/m:ietf"
BINDING_RATE = min(PER_SECOND, PER_MINUTE / 60, GATEWAY_PER_MINUTE / 60)


def fastest_finish(start_wall: float, n: int) -> float:
    """Seconds an oracle needs for ``n`` requests under the fixed, aligned windows: it sends
    each second's whole allowance the moment that second begins."""
    t = start_wall
    done = 0
    minute_used: dict[int, int] = {}
    while True:
        second = math.floor(t)
        minute = second // 60
        room = min(PER_SECOND, min(PER_MINUTE, GATEWAY_PER_MINUTE) - minute_used.get(minute, 0))
        take = min(max(room, 0), n - done)
        done += take
        minute_used[minute] = minute_used.get(minute, 0) + take
        if done >= n:
            return max(t - start_wall, 1.0 / PER_SECOND)
        t = second + 1.0


async def run_library(url: str, requests: int, tasks: int) -> dict[str, float]:
    counter = iter(range(requests))
    failures = 0
    async with CircleCI(
        TOKEN, base_url=url, max_concurrency=tasks, retry=RetryConfig(deadline=600)
    ) as cci:

        async def worker() -> None:
            nonlocal failures
            for _ in counter:
                try:
                    await cci.request("GET", "me")
                except CircleCIError:
                    failures += 1

        t0, wall0 = time.perf_counter(), time.time()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - t0
        return {
            "elapsed": elapsed,
            "start_wall": wall0,
            "rate_limited": cci.stats.rate_limited,
            "failures": failures,
            "sent": cci.stats.requests,
        }


async def run_raw(url: str, requests: int, tasks: int) -> dict[str, float]:
    counter = iter(range(requests))
    rate_limited = failures = sent = 0
    headers = {"Circle-Token": TOKEN, "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def worker() -> None:
            nonlocal rate_limited, failures, sent
            for _ in counter:
                for _attempt in range(50):
                    sent += 1
                    async with session.get(f"{url}/me") as resp:
                        await resp.read()
                        if resp.status != 429:
                            failures += resp.status >= 400
                            break
                        rate_limited += 1
                        await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
                else:
                    failures += 1

        t0, wall0 = time.perf_counter(), time.time()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        return {
            "elapsed": time.perf_counter() - t0,
            "start_wall": wall0,
            "rate_limited": rate_limited,
            "failures": failures,
            "sent": sent,
        }


def report(name: str, r: dict[str, float], requests: int) -> None:
    achieved = requests / r["elapsed"]
    oracle = requests / fastest_finish(r["start_wall"], requests)
    print(
        f"{name:<14}{r['elapsed']:>8.1f} s{achieved:>9.2f}/s"
        f"{achieved / BINDING_RATE:>10.0%}{achieved / oracle:>10.0%}"
        f"{int(r['rate_limited']):>7}{r['rate_limited'] / requests:>8.1%}"
        f"{int(r['failures']):>9}{int(r['sent']):>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--skip-raw", action="store_true")
    args = parser.parse_args()
    pin_self(1)
    results = {}
    with fake_server("--rate-limit", POLICY, cpu=0) as url:
        results["circleci_async"] = asyncio.run(
            asyncio.wait_for(run_library(url, args.requests, args.tasks), 240)
        )
    if not args.skip_raw:
        with fake_server("--rate-limit", POLICY, cpu=0) as url:
            results["raw aiohttp"] = asyncio.run(
                asyncio.wait_for(run_raw(url, args.requests, args.tasks), 240)
            )
    print(
        f"\nserver: {PER_SECOND}/s and {PER_MINUTE}/min (X-RateLimit-*), {GATEWAY_PER_MINUTE}/min "
        f"(RateLimit-*); binding sustained rate {BINDING_RATE:g}/s; "
        f"{args.requests} requests from {args.tasks} tasks"
    )
    print(
        f"{'client':<14}{'time':>10}{'rate':>11}{'of limit':>10}{'of best':>10}"
        f"{'429s':>7}{'429 %':>8}{'failures':>9}{'sent':>7}"
    )
    for name, r in results.items():
        report(name, r, args.requests)
    print(
        "'of limit': achieved rate / binding sustained limit (target >= 90%); "
        "'of best': against the fastest schedule the windows allowed from the same start"
    )


if __name__ == "__main__":
    main()
