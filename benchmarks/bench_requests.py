"""The library against raw aiohttp on the same fake server, interleaved in one run.

* walk: 2,000 pages of 20 pipelines, sequentially (library paginator vs a raw token loop);
* concurrent: 10,000 GETs of one page from 64 tasks;
* typed walk: the same 2,000 pages through ``cci.pipelines.list_for_project``, every item
  converted to a ``Pipeline`` model, against the same raw loop decoding to dicts;
* v3 cursor walk: 2,000 pages of 20 runs (the same pipelines seen through API v3) through
  ``cci.v3.runs.list`` (typed ``Run`` models), against raw aiohttp following ``page.next`` as
  ``page[cursor]`` with ``Authorization: Bearer``, decoding to dicts.

Each case reports throughput and the client process's CPU time (user + sys) per operation, both
as library / raw ratios per interleaved pair; the CPU targets are 1.10x for the walk and the
64-task GETs, 1.50x for the typed walk against the raw dict walk.

Both sides decode with the same JSON decoder (orjson when installed) on the same event loop.
The fake server advertises a generous rate limit, as CircleCI's gateway does, so the library's
full pipeline (header parsing, limiter, retries, error mapping) is in the measurement.

Nine interleaved pairs by default: on a shared 2-core machine one pair's CPU ratio moves by
+-0.15 and a five-pair median by +-0.04, which is as wide as the distance to a target.

    python benchmarks/bench_requests.py [--repeat 9] [--pages 2000] [--requests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import TOKEN, cpu_seconds, fake_server, median, pin_self, spread

from circleci_async import CircleCI, RateLimitConfig
from circleci_async._json import BACKEND, loads
from circleci_async.models import Pipeline
from circleci_async.v3.models import Run

SLUG = "gh/acme/widgets"
PAGE_SIZE = 20
TASKS = 64
#: The issue's targets for the client's CPU per operation, library over raw aiohttp.
CPU_TARGETS = {"walk": 1.10, "concurrent": 1.10, "typed walk": 1.50, "v3 walk": 1.50}


# Set from the command line: with --no-rate-limit-headers the server advertises nothing, so the
# library is told there is no limit to pace at (``initial_rate=None``), as a user would.
RATE_CONFIG = RateLimitConfig()


async def lib_walk(url: str, pages: int) -> int:
    async with CircleCI(TOKEN, base_url=url, rate_limit=RATE_CONFIG) as cci:
        seen = 0
        async for _page in cci.paginate(f"project/{SLUG}/pipeline").pages():
            seen += 1
            if seen >= pages:
                break
        return seen


async def lib_typed_walk(url: str, pages: int) -> int:
    async with CircleCI(TOKEN, base_url=url, rate_limit=RATE_CONFIG) as cci:
        seen = 0
        async for page in cci.pipelines.list_for_project(SLUG).pages():
            if not isinstance(page.items[0], Pipeline):
                raise TypeError("the typed walk yielded something other than Pipeline models")
            seen += 1
            if seen >= pages:
                break
        return seen


def v3_url(url: str) -> str:
    """The fake's v3 base, derived as the library derives it (``/api/v2`` -> ``/api/v3``)."""
    return url.replace("/api/v2", "/api/v3")


async def lib_v3_walk(url: str, pages: int) -> int:
    async with CircleCI(TOKEN, base_url=url, rate_limit=RATE_CONFIG) as cci:
        seen = 0
        async for page in cci.v3.runs.list(limit=PAGE_SIZE).pages():
            if not isinstance(page.items[0], Run):
                raise TypeError("the v3 walk yielded something other than Run models")
            seen += 1
            if seen >= pages:
                break
        return seen


async def raw_v3_walk(url: str, pages: int) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:
        cursor: str | None = None
        seen = 0
        while seen < pages:
            params = {"filter[user_id]": "me", "page[limit]": str(PAGE_SIZE)}
            if cursor:
                params["page[cursor]"] = cursor
            async with session.get(f"{v3_url(url)}/runs", params=params) as resp:
                resp.raise_for_status()
                data = loads(await resp.read())
            seen += 1
            cursor = (data.get("page") or {}).get("next")
            if not cursor or not data.get("data"):
                break
        return seen


async def raw_walk(url: str, pages: int) -> int:
    headers = {"Circle-Token": TOKEN, "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:
        token: str | None = None
        seen = 0
        while seen < pages:
            params = {"page-token": token} if token else None
            async with session.get(f"{url}/project/{SLUG}/pipeline", params=params) as resp:
                resp.raise_for_status()
                data = loads(await resp.read())
            seen += 1
            token = data["next_page_token"]
            if not token:
                break
        return seen


async def lib_concurrent(url: str, requests: int) -> int:
    counter = iter(range(requests))
    async with CircleCI(TOKEN, base_url=url, max_concurrency=TASKS, rate_limit=RATE_CONFIG) as cci:

        async def worker() -> int:
            done = 0
            for _ in counter:
                data = await cci.request("GET", f"project/{SLUG}/pipeline")
                done += len(data["items"]) > 0
            return done

        return sum(await asyncio.gather(*(worker() for _ in range(TASKS))))


async def raw_concurrent(url: str, requests: int) -> int:
    counter = iter(range(requests))
    headers = {"Circle-Token": TOKEN, "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def worker() -> int:
            done = 0
            for _ in counter:
                async with session.get(f"{url}/project/{SLUG}/pipeline") as resp:
                    resp.raise_for_status()
                    data = loads(await resp.read())
                done += len(data["items"]) > 0
            return done

        return sum(await asyncio.gather(*(worker() for _ in range(TASKS))))


async def timed(fn: Callable[[str, int], Awaitable[int]], url: str, n: int) -> tuple[float, float]:
    """Operations per second, and CPU microseconds per operation of this (the client's)
    process: the server runs in its own process, pinned to another CPU."""
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    done = await fn(url, n)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    if done != n:
        raise RuntimeError(f"{fn.__name__} did {done} of {n}")
    return done / elapsed, cpu / done * 1e6


async def main(args: argparse.Namespace, url: str) -> None:
    # Warm both paths (connections, caches) before measuring.
    await lib_walk(url, 20)
    await lib_typed_walk(url, 20)  # also builds the converter's Pipeline hooks
    await raw_walk(url, 20)
    await lib_v3_walk(url, 20)
    await raw_v3_walk(url, 20)
    cases = {
        "walk": ((lib_walk, raw_walk), args.pages, "pages/s"),
        "concurrent": ((lib_concurrent, raw_concurrent), args.requests, "req/s"),
        "typed walk": ((lib_typed_walk, raw_walk), args.pages, "pages/s"),
        "v3 walk": ((lib_v3_walk, raw_v3_walk), args.pages, "pages/s"),
    }
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        k: {"lib": [], "raw": []} for k in cases
    }
    deadline = time.monotonic() + args.max_seconds
    for rep in range(args.repeat):
        for name, ((lib, raw), n, _) in cases.items():
            order = [("lib", lib), ("raw", raw)] if rep % 2 == 0 else [("raw", raw), ("lib", lib)]
            for side, fn in order:
                results[name][side].append(await timed(fn, url, n))
        if time.monotonic() > deadline:
            print(f"(stopped after {rep + 1} repetitions: time budget)")
            break

    print(
        f"\nJSON decoder: {BACKEND}; {TASKS} tasks; median (min-max) of {len(results['walk']['lib'])} runs"
    )
    print(
        f"{'case':<12}{'library':>22}{'raw aiohttp':>22}{'ratio':>8}"
        f"{'lib CPU µs/op':>15}{'raw CPU µs/op':>15}{'CPU ratio':>11}{'target':>9}"
    )
    for name, (_, _, unit) in cases.items():
        lib = [r for r, _ in results[name]["lib"]]
        raw = [r for r, _ in results[name]["raw"]]
        ratios = [a / b for a, b in zip(lib, raw, strict=True)]
        lib_cpu = [c for _, c in results[name]["lib"]]
        raw_cpu = [c for _, c in results[name]["raw"]]
        cpu_ratios = [a / b for a, b in zip(lib_cpu, raw_cpu, strict=True)]
        cpu_ratio = median(cpu_ratios)
        target = CPU_TARGETS[name]
        verdict = "ok" if cpu_ratio <= target else "OVER"
        print(
            f"{name:<12}{median(lib):>10,.0f} ({spread(lib)}){'':>1}"
            f"{median(raw):>10,.0f} ({spread(raw)})"
            f"{median(ratios):>7.2f}x{median(lib_cpu):>15.0f}{median(raw_cpu):>15.0f}"
            f"{cpu_ratio:>10.2f}x{f'<={target:.2f}x':>9} {verdict}   {unit}"
        )
    typed = [r for r, _ in results["typed walk"]["lib"]]
    plain = [r for r, _ in results["typed walk"]["raw"]]
    print(
        f"typed walk: {median(typed) * PAGE_SIZE:,.0f} Pipeline models/s against "
        f"{median(plain) * PAGE_SIZE:,.0f} raw dicts/s ({PAGE_SIZE} items a page)"
    )
    print(
        "ratio = library throughput / raw aiohttp throughput, per interleaved pair "
        "(target >= 0.90x, v3 walk included; typed walk, conversion included: >= 0.80x)"
    )
    print(
        "CPU ratio = the client process's CPU time (user + sys) per operation, library / raw "
        "aiohttp, per interleaved pair; the typed walk is against the raw dict walk"
    )


def cli() -> None:
    global RATE_CONFIG
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="time budget")
    parser.add_argument(
        "--no-rate-limit-headers",
        action="store_true",
        help="the server sends no rate-limit headers (default: a generous RateLimit-* limit)",
    )
    args = parser.parse_args()
    pinned = pin_self(1)
    if args.no_rate_limit_headers:
        RATE_CONFIG = RateLimitConfig(initial_rate=None)
    # By default the server advertises a generous limit on every response, as CircleCI's
    # gateway does: the library parses the headers and paces by them.
    limit = "none" if args.no_rate_limit_headers else "10000000/m:ietf"
    pipelines = str(args.pages * PAGE_SIZE + PAGE_SIZE)
    server_args = ["--pipelines", pipelines, "--page-size", str(PAGE_SIZE), "--rate-limit", limit]
    with fake_server(*server_args, cpu=0) as url:
        headers = "none" if args.no_rate_limit_headers else "RateLimit-* (10M/min)"
        print(f"fake server at {url}; rate-limit headers: {headers}; client pinned: {pinned}")
        asyncio.run(main(args, url))


if __name__ == "__main__":
    cli()
