"""The fake's job output for API v3 (``shared/notes/api-v3.md`` §2.2, §3.3): step output served
by byte offset (``Range: bytes=N-`` answered 206 with ``Content-Range``), ``X-Terminal: true``
once the output is complete, 404 before anything is written (and for a stderr never written),
416 past the end; tests as NDJSON (``application/x-ndjson``); resource usage.

A running step's output grows on the fake's clock: :meth:`OutputStore.set_output` with a
``rate`` makes ``rate`` bytes a second visible from the moment it is set, and the output is
terminal once all of it is visible. Pure state and answers; the server does the I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._codec import dumps

__all__ = ["OutputStore", "Raw"]

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d+)-\s*")
_TEXT = "text/plain; charset=utf-8"
_NDJSON = "application/x-ndjson"


@attrs.frozen
class Raw:
    """A handler's answer that is not JSON: the body as it is, with its own headers."""

    body: bytes
    headers: Mapping[str, str]


@attrs.define
class _Output:
    data: bytes
    since: float
    rate: float | None  # bytes per fake second; None: all there

    def visible(self, now: float) -> int:
        if self.rate is None:
            return len(self.data)
        return min(len(self.data), int(max(0.0, now - self.since) * self.rate))


class OutputStore:
    """Step output (by job, kind, execution, step), tests and resource usage of jobs."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._outputs: dict[tuple[str, str, int, int], _Output] = {}
        self._tests: dict[str, bytes] = {}
        self._usage: dict[str, dict[str, Any]] = {}

    # -- what tests set ---------------------------------------------------------------------

    def set_output(
        self,
        job_id: str,
        data: bytes,
        *,
        kind: str = "stdout",
        step: int = 0,
        execution: int = 0,
        rate: float | None = None,
    ) -> None:
        if kind not in ("stdout", "stderr", "condensed"):
            raise ValueError(f"kind is stdout, stderr or condensed, not {kind!r}")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be > 0 bytes per second")
        self._outputs[(job_id, kind, execution, step)] = _Output(bytes(data), self._clock(), rate)

    def set_tests(self, job_id: str, results: Iterable[Mapping[str, Any]] | bytes) -> None:
        if isinstance(results, bytes):
            self._tests[job_id] = results
        else:
            self._tests[job_id] = b"".join(dumps(dict(r)) + b"\n" for r in results)

    def set_resource_usage(self, job_id: str, attributes: Mapping[str, Any]) -> None:
        self._usage[job_id] = dict(attributes)

    # -- what the routes answer -------------------------------------------------------------

    def steps(self, job_id: str, execution: int) -> list[dict[str, Any]]:
        """The steps with output, as ``GET /jobs/{id}`` lists them in an execution."""
        now = self._clock()
        found = sorted(
            (step, output)
            for (job, kind, ex, step), output in self._outputs.items()
            if job == job_id and kind == "stdout" and ex == execution
        )
        return [
            {
                "num": step,
                "name": f"step {step}",
                "type": "run",
                "phase": "ended" if output.visible(now) == len(output.data) else "started",
                "stdout_bytes": output.visible(now),
            }
            for step, output in found
        ]

    def output(
        self, job_id: str, kind: str, query: Mapping[str, str], range_header: str | None
    ) -> tuple[int, Raw]:
        """(status, body) of a read of a step's output."""
        execution = _int(query.get("filter[execution]"))
        step = _int(query.get("filter[step_num]"))
        output = self._outputs.get((job_id, kind, execution, step))
        if output is None:
            return 404, Raw(dumps({"message": "no output"}), {"Content-Type": "application/json"})
        visible = output.visible(self._clock())
        headers = {"Content-Type": _TEXT}
        if visible == len(output.data):
            headers["X-Terminal"] = "true"
        if kind == "condensed":  # no Range support (§3.3)
            return 200, Raw(output.data[:visible], headers)
        match = _RANGE.fullmatch(range_header or "")
        if match is None:
            return 200, Raw(output.data[:visible], headers)
        start = int(match.group(1))
        if start >= visible:
            headers["Content-Range"] = f"bytes */{visible}"
            return 416, Raw(b"", headers)
        total = str(len(output.data)) if "X-Terminal" in headers else "*"
        headers["Content-Range"] = f"bytes {start}-{visible - 1}/{total}"
        return 206, Raw(output.data[start:visible], headers)

    def tests(self, job_id: str) -> tuple[int, Raw]:
        """200 with NDJSON; no stored results is 200 with an empty body (the CLI's fake)."""
        return 200, Raw(self._tests.get(job_id, b""), {"Content-Type": _NDJSON})

    def resource_usage(self, job_id: str, ran: bool) -> dict[str, Any] | None:
        """What ``/resource-usage`` shows; ``None`` (a 404) for a job that never ran."""
        usage = self._usage.get(job_id)
        if usage is not None:
            return usage
        if not ran:
            return None
        return {
            "resource_class": {"name": "medium", "cpu_count": 2, "memory_limit_bytes": 4 << 30},
            "parallel_executions": [
                {
                    "execution": 0,
                    "interval_ms": 1000,
                    "cpu_cores": [0.5, 1.5],
                    "memory_bytes": [1 << 28, 1 << 29],
                    "network_rx_bytes": [1024, 2048],
                    "network_tx_bytes": [512, 256],
                }
            ],
        }


def _int(value: str | None) -> int:
    """A filter's value; absent reads as 0 [inferred: whether the filters are required]."""
    try:
        return int(value) if value else 0
    except ValueError:
        return -1
