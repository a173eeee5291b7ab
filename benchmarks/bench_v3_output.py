"""API v3 job output: ``cci.v3.jobs.stdout`` against raw aiohttp reading the same bytes.

A local server (aiohttp.web in its own process, sendfile) serves one step's output of
``--size`` MiB at ``/api/v3/jobs/{id}/stdout`` with ``X-Terminal: true``; each round streams it
once with the library (chunks counted, never joined) and once with raw aiohttp
(``readchunk()`` counted), interleaved, best of ``--repeat``. The ratio is library / raw.

    python benchmarks/bench_v3_output.py [--size 256] [--repeat 5]

Target (issue 13): the same throughput as an artifact download (>= 0.95x raw aiohttp here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
JOB = "00000000-0000-4000-8000-000000000001"
TOKEN = "bench-token"  # noqa: S105 - a local server's made-up token

SERVER = r"""
import sys
from aiohttp import web
path = sys.argv[1]
async def stdout(request):
    return web.FileResponse(path, headers={"X-Terminal": "true", "Content-Type": "text/plain"})
app = web.Application()
app.router.add_get("/api/v3/jobs/{id}/stdout", stdout)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=lambda *a: print("ready", flush=True))
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _library(root: str) -> int:
    from circleci_async import CircleCI

    received = 0
    async with CircleCI(TOKEN, base_url=f"{root}/api/v2") as cci:
        async for chunk in cci.v3.jobs.stdout(JOB, step=0):
            received += len(chunk)
    return received


async def _raw(root: str) -> int:
    import aiohttp

    received = 0
    url = f"{root}/api/v3/jobs/{JOB}/stdout?filter[step_num]=0"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response,
    ):
        while True:
            chunk, _ = await response.content.readchunk()
            if not chunk:
                break
            received += len(chunk)
    return received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="MiB of output")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    size = args.size * MiB
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stdout.log"
        with path.open("wb") as out:
            line = b"\x1b[32m" + b"x" * 100 + b"\x1b[0m\n"
            for _ in range(size // len(line)):
                out.write(line)
            out.write(b"." * (size % len(line)))
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(path), str(port)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()  # "ready"
            root = f"http://127.0.0.1:{port}"
            best = {"library": float("inf"), "raw aiohttp": float("inf")}
            for _ in range(args.repeat):
                for name, run in (("library", _library), ("raw aiohttp", _raw)):
                    started = time.perf_counter()
                    received = asyncio.run(run(root))
                    took = time.perf_counter() - started
                    if received != size:
                        raise SystemExit(f"{name} received {received} of {size} bytes")
                    best[name] = min(best[name], took)
        finally:
            server.terminate()
            server.wait(timeout=10)
    for name, took in best.items():
        print(f"{name:<12} {args.size} MiB in {took:.3f} s = {args.size / took:8.1f} MiB/s")
    print(f"ratio library / raw aiohttp: {best['raw aiohttp'] / best['library']:.2f}x")


if __name__ == "__main__":
    main()
