"""Command-line start-up: ``circleci-async --help`` and ``--version`` as whole processes.

Each run is a fresh ``python -m circleci_async`` process; its wall time is taken from outside
and its CPU time (user + sys) from the kernel's accounting of the finished child. Against the
same interpreter doing nothing (``python -c pass``) and importing aiohttp alone, interleaved in
one run, so the figures say what the command adds to an interpreter start. Target (issue 14):
``--help`` and ``--version`` under 0.3 s on the benchmark machine.

    python benchmarks/bench_startup.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import median

TARGET = 0.3  # seconds, wall
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import aiohttp'": [sys.executable, "-c", "import aiohttp"],
    "circleci-async --help": [sys.executable, "-m", "circleci_async", "--help"],
    "circleci-async --version": [sys.executable, "-m", "circleci_async", "--version"],
}


def run_once(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one finished child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    env_note = "warm page cache (one run of each discarded first)"
    for cmd in CASES.values():
        run_once(cmd)
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(max(1, min(args.repeat, 100))):
        for name, cmd in CASES.items():  # interleaved, so drift hits every case alike
            wall, cpu = run_once(cmd)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"{sys.executable} ({sys.version.split()[0]}); median of {args.repeat} runs; {env_note}")
    print(f"{'case':28} {'wall s':>8} {'cpu s':>8}  target")
    for name in CASES:
        wall, cpu = median(walls[name]), median(cpus[name])
        target = ""
        if name.startswith("circleci-async"):
            target = f"< {TARGET:g} s {'ok' if wall < TARGET else 'OVER'}"
        print(f"{name:28} {wall:8.3f} {cpu:8.3f}  {target}")


if __name__ == "__main__":
    main()
