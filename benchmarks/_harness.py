"""Shared benchmark plumbing: the fake server in its own process, CPU pinning, statistics.

The server runs pinned to CPU 0 and the client to CPU 1 when the machine has two cores, so
the client's cost is not blurred by the server's (see the project's perf notes). Every run is
bounded in count and time, and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

TOKEN = "bench-token"  # noqa: S105 - a test credential for the fake server


def pin_self(cpu: int) -> bool:
    """Pin this process to one CPU if the machine has more than one."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, {cpu})
    return True


@contextlib.contextmanager
def fake_server(*args: str, cpu: int = 0, timeout: float = 60.0) -> Iterator[str]:
    """Run ``python -m circleci_async.testing`` in its own process; yield its base URL."""
    cmd = [sys.executable, "-m", "circleci_async.testing", "--token", TOKEN, *args]
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                line = proc.stdout.readline()
                break
            if proc.poll() is not None:
                break
        if not line.startswith("READY "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        yield line.split(" ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    return f"{min(values):,.0f}-{max(values):,.0f}"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
