"""Artifact downloads: the library against raw aiohttp and curl, interleaved in one run.

* big: 4 files x 256 MiB, one at a time (every client), on one connection;
* small: 500 files x 256 KiB, 8 in flight (library ``concurrency=8``, raw aiohttp with 8
  workers, ``curl -Z --parallel-max 8``);
* wide: 32 files x 16 MiB with 32 in flight, library and raw aiohttp only, for peak memory.

The library runs twice: with its defaults (``write_mode="auto"``: chunks written on the loop as
they arrive while the disk keeps up, as raw aiohttp does, moving to aiofiles on a thread pool
when writes turn slow) and with ``write_mode="thread"`` (1 MiB batches always written by
aiofiles on the pool while the next batch arrives; the event loop never touches the disk), so
the cost of keeping the event loop away from the disk is visible.

A local file server (aiohttp.web, sendfile) runs in its own process pinned to CPU 0; each client
run is a fresh process pinned to CPU 1 that times its own transfer section (wall and CPU) and
reports its peak RSS and its RSS after imports (the "import baseline"). curl is timed from
outside. Raw aiohttp writes 256 KiB chunks with plain blocking writes. The library is given the
file server's URLs as artifact URLs (no redirect, no token), so the same bytes move the same way.
Outputs go to a temporary directory that is emptied (and synced) between runs; the whole run is
bounded by ``--repeat`` and ``--budget`` seconds.

    python benchmarks/bench_download.py [--repeat 5] [--budget 420] [--only big,small,wide]

Targets (issue 4): big >= 1.0x raw aiohttp and >= 0.90x curl; small >= 0.95x raw aiohttp at the
same concurrency; CPU <= 1.0 s per GB; peak RSS <= import baseline + 16 MiB at 32 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
SETS: dict[str, tuple[int, int, int]] = {
    # name: (files, size, concurrency)
    "big": (4, 256 * MiB, 1),
    "small": (500, 256 * 1024, 8),
    "wide": (32, 16 * MiB, 32),
}
CHUNK = 256 * 1024


# -- the file server (child process) ----------------------------------------------------------


def serve(directory: str) -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if "/" in name or name.startswith("."):
            raise web.HTTPNotFound()
        return web.FileResponse(os.path.join(directory, name))

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/files/{name}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY http://127.0.0.1:{port}/files", flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_reader(0, stop.set)  # the parent closing our stdin ends us
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


# -- the Python clients (child processes) -----------------------------------------------------


def run_client(kind: str, url: str, names: list[str], out: str, concurrency: int) -> None:
    # Imports are the baseline for both clients: a long-lived program pays them once. The
    # names _lib uses are imported here, not only their package: circleci_async imports its
    # client lazily (on first use of CircleCI), which would otherwise land in the timed part.
    import aiofiles  # noqa: F401
    import aiohttp  # noqa: F401

    import circleci_async.download  # noqa: F401
    from circleci_async import CircleCI, RateLimitConfig  # noqa: F401

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cpu0 = _cpu()
    if kind.startswith("lib"):
        mode = "thread" if kind == "lib-thread" else None
        ok = asyncio.run(_lib(url, names, out, concurrency, mode))
    else:
        ok = asyncio.run(_raw(url, names, out, concurrency))
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"ok": ok, "seconds": seconds, "cpu": cpu, "baseline": baseline, "peak": peak})
    )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _lib(
    url: str, names: list[str], out: str, concurrency: int, mode: str | None = None
) -> bool:
    from circleci_async import CircleCI, RateLimitConfig
    from circleci_async.download import DownloadOptions

    items = [{"path": name, "node_index": 0, "url": f"{url}/{name}"} for name in names]
    # The API origin is elsewhere: the file server gets no token and no rate limiting, like a
    # storage host.
    async with CircleCI(
        "bench-token",
        base_url="http://127.0.0.1:9/api/v2",
        rate_limit=RateLimitConfig(initial_rate=None),
    ) as cci:
        options = DownloadOptions() if mode is None else DownloadOptions(write_mode=mode)
        results = await cci.artifacts.download(items, out, concurrency=concurrency, options=options)
    return results.ok


async def _raw(url: str, names: list[str], out: str, concurrency: int) -> bool:
    import aiohttp

    queue = iter(names)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def worker() -> None:
            for name in queue:
                async with session.get(f"{url}/{name}") as resp:
                    resp.raise_for_status()
                    with open(os.path.join(out, name), "wb") as handle:  # noqa: ASYNC230
                        async for chunk in resp.content.iter_chunked(CHUNK):
                            handle.write(chunk)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return True


# -- the parent -------------------------------------------------------------------------------


def taskset(cpu: int) -> list[str]:
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)]
    return []


def make_files(directory: Path, sets: list[str]) -> dict[str, list[str]]:
    """Incompressible-looking content, written once (repeating 4 MiB of random bytes)."""
    block = random.Random(1).randbytes(4 * MiB)
    names: dict[str, list[str]] = {}
    for set_name in sets:
        count, size, _ = SETS[set_name]
        names[set_name] = []
        for index in range(count):
            name = f"{set_name}-{index:04d}.bin"
            with open(directory / name, "wb") as handle:
                left = size
                while left:
                    piece = block[: min(left, len(block))]
                    handle.write(piece)
                    left -= len(piece)
            names[set_name].append(name)
    return names


@contextlib.contextmanager
def file_server(directory: Path) -> Iterator[str]:
    cmd = [*taskset(0), sys.executable, __file__, "--serve", str(directory)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"file server did not start: {line!r}")
        yield line.split(" ", 1)[1].strip()
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``: wall seconds, CPU seconds and peak RSS (MiB) of that process, its stdout."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-500:]
            raise RuntimeError(f"{cmd[:6]}... failed ({proc.returncode}): {detail}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, out.decode()


def run_python(
    kind: str, url: str, names: list[str], out: Path, concurrency: int
) -> dict[str, Any]:
    cmd = [
        *taskset(1),
        sys.executable,
        __file__,
        "--client",
        kind,
        "--url",
        url,
        "--out",
        str(out),
        "--concurrency",
        str(concurrency),
        "--names",
        ",".join(names),
    ]
    _, _, _, stdout = timed(cmd)
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if not report["ok"]:
        raise RuntimeError(f"{kind} client reported failures")
    return report


def run_curl(url: str, names: list[str], out: Path, concurrency: int) -> dict[str, Any]:
    config = out / ".curl-config"
    with open(config, "w") as handle:
        for name in names:
            handle.write(f'url = "{url}/{name}"\noutput = "{out / name}"\n')
    parallel = ["-Z", "--parallel-max", str(concurrency)] if concurrency > 1 else []
    cmd = [*taskset(1), "curl", *parallel, "--silent", "--show-error", "--fail"]
    wall, cpu, peak, _ = timed([*cmd, "--config", str(config)])
    config.unlink()
    return {"ok": True, "seconds": wall, "cpu": cpu, "peak": peak}


def clean(out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for the runs")
    parser.add_argument("--only", default="big,small,wide")
    parser.add_argument("--dir", default=None, help="where to put files (default: a temp dir)")
    # internal: the child roles
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("lib", "lib-thread", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--names", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.client:
        run_client(args.client, args.url, args.names.split(","), args.out, args.concurrency)
        return

    sets = [s for s in args.only.split(",") if s]
    workdir = Path(tempfile.mkdtemp(prefix="bench-download-", dir=args.dir))
    try:
        source, out = workdir / "files", workdir / "out"
        source.mkdir()
        out.mkdir()
        print(f"writing test files under {workdir} ...", flush=True)
        names = make_files(source, sets)
        os.sync()
        samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
        deadline = time.monotonic() + args.budget
        with file_server(source) as url:
            for rep in range(args.repeat):
                if time.monotonic() > deadline:
                    print(f"time budget reached after {rep} repetitions")
                    break
                for set_name in sets:
                    count, size, concurrency = SETS[set_name]
                    methods = ["lib", "lib-thread", "raw"]
                    if set_name != "wide":
                        methods.append("curl")
                    shift = rep % len(methods)  # interleave: rotate who goes first
                    for method in methods[shift:] + methods[:shift]:
                        clean(out)
                        if method == "curl":
                            report = run_curl(url, names[set_name], out, concurrency)
                        else:
                            report = run_python(method, url, names[set_name], out, concurrency)
                        report["bytes"] = count * size
                        report["files"] = count
                        samples.setdefault((set_name, method), []).append(report)
                print(f"repetition {rep + 1} done", flush=True)
            clean(out)
        report_results(samples, sets)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report_results(samples: dict[tuple[str, str], list[dict[str, Any]]], sets: list[str]) -> None:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    print()
    print(
        "set    method      n  MB/s (min-max)        files/s  CPU s/GB  peak RSS MiB (import base)"
    )
    rates: dict[tuple[str, str], float] = {}
    for set_name in sets:
        for method in ("lib", "lib-thread", "raw", "curl"):
            runs = samples.get((set_name, method))
            if not runs:
                continue
            mbps = [r["bytes"] / r["seconds"] / 1e6 for r in runs]
            files = [r["files"] / r["seconds"] for r in runs]
            cpu = [r["cpu"] / (r["bytes"] / 1e9) for r in runs]
            peak = max(r["peak"] for r in runs)
            base = f" ({med([r['baseline'] for r in runs]):.1f})" if "baseline" in runs[0] else ""
            rates[(set_name, method)] = med(mbps)
            print(
                f"{set_name:6s} {method:10s} {len(runs):2d} {med(mbps):7.0f} "
                f"({min(mbps):5.0f}-{max(mbps):5.0f})  {med(files):8.0f}  {med(cpu):8.2f}  "
                f"{peak:6.1f}{base}"
            )
    print()
    for set_name in sets:
        for mine in ("lib", "lib-thread"):
            lib = rates.get((set_name, mine))
            if lib is None:
                continue
            parts = []
            for other in ("raw", "curl"):
                if (set_name, other) not in rates:
                    continue
                # Also per repetition (the two ran back to back): disk writeback and the host
                # make whole repetitions slow or fast, which pairing cancels.
                paired = [
                    b["seconds"] / a["seconds"]
                    for a, b in zip(
                        samples[(set_name, mine)], samples[(set_name, other)], strict=False
                    )
                ]
                parts.append(
                    f"{lib / rates[(set_name, other)]:.2f}x {other} (paired by repetition: "
                    f"median {med(paired):.2f}x, {min(paired):.2f}-{max(paired):.2f})"
                )
            print(f"{set_name}: {mine} = " + ", ".join(parts))
    for mine in ("raw", "lib", "lib-thread"):
        wide = samples.get(("wide", mine))
        if wide:
            growth = max(r["peak"] - r["baseline"] for r in wide)
            print(f"wide (32 in flight): {mine} peak RSS = import baseline + {growth:.1f} MiB")


if __name__ == "__main__":
    main()
