"""Job output and tests of API v3, the pure part: what one answer of ``/jobs/{id}/stdout`` (and
``stderr``, ``stdout/condensed``) means for a reader at a byte offset, the terminal marker, and
NDJSON split into lines across chunk boundaries. No I/O; :mod:`.resources.jobs` does the
requests (``shared/notes/api-v3.md`` §2.2, §3.3).

The rules, as the notes give them:

* output is paged by byte offset: ask with ``Range: bytes=<bytes already read>-`` and append
  what comes back; ``X-Terminal: true`` says the output is complete (until then, poll again);
* ``404`` reads as "not written yet" and ``416`` as "nothing past the offset": both empty and
  not terminal (unless the answer carries the marker);
* [inferred] a ``200`` to a request with an offset is the whole output again (the server
  ignored ``Range``; ``condensed`` has no Range support at all): its first ``offset`` bytes are
  skipped, so nothing is yielded twice;
* [inferred] a ``206`` whose ``Content-Range`` starts before the offset has its overlap skipped;
  one that starts after it would leave a gap, and is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from .. import _json
from ..errors import DecodeError
from ..polling import PollSchedule

__all__ = [
    "MAX_TEST_LINE",
    "OUTPUT_POLL",
    "LineSplitter",
    "OutputAnswer",
    "is_terminal",
    "parse_test_line",
    "range_header",
    "read_answer",
]

#: The header that says the output is complete, and its one meaningful value.
TERMINAL_HEADER = "X-Terminal"
#: An NDJSON line longer than this is malformed (a reader never holds more of one line).
MAX_TEST_LINE = 1 << 20

#: How a followed output is polled: 1 s after new bytes, growing by half up to 10 s while
#: nothing new comes (the polling module's rule, faster than a workflow's: people watch logs).
OUTPUT_POLL = PollSchedule(interval=1.0, max_interval=10.0, backoff=1.5)

_CONTENT_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE)


def range_header(offset: int) -> dict[str, str]:
    """The request headers for reading from ``offset`` (none from the first byte)."""
    return {"Range": f"bytes={offset}-"} if offset > 0 else {}


def is_terminal(headers: Mapping[str, str]) -> bool:
    """Whether an answer says the output is complete (``X-Terminal: true``, any case)."""
    return headers.get(TERMINAL_HEADER, "").strip().lower() == "true"


@attrs.frozen
class OutputAnswer:
    """What to do with one answer's body, read at ``offset``."""

    #: Read the body (``False``: the answer holds no output: 404, 416).
    read: bool
    #: Bytes at the start of the body that the reader already has (skip them).
    skip: int = 0
    #: The output is complete once this body has been read to its end.
    terminal: bool = False
    #: 404: nothing written (yet), or, for stderr, no stderr at all.
    missing: bool = False


def read_answer(status: int, headers: Mapping[str, str], offset: int) -> OutputAnswer:
    """The decision for an answer with ``status`` and ``headers`` to a read at ``offset``
    (statuses other than 200, 206, 404 and 416 are errors raised before this is asked).
    Raises :class:`DecodeError` for a ``206`` that would leave a gap or cannot be read."""
    terminal = is_terminal(headers)
    if status == 404:
        return OutputAnswer(read=False, terminal=terminal, missing=True)
    if status == 416:
        return OutputAnswer(read=False, terminal=terminal)
    if status == 206:
        start = _range_start(headers.get("Content-Range"))
        if start is None:
            raise DecodeError(
                f"a 206 answer without a readable Content-Range ({headers.get('Content-Range')!r})",
                status=status,
            )
        if start > offset:
            raise DecodeError(
                f"the server skipped bytes: asked from byte {offset}, got bytes from {start}",
                status=status,
            )
        return OutputAnswer(read=True, skip=offset - start, terminal=terminal)
    return OutputAnswer(read=True, skip=offset, terminal=terminal)


def _range_start(value: str | None) -> int | None:
    match = _CONTENT_RANGE.fullmatch(value or "")
    return int(match.group(1)) if match is not None else None


class LineSplitter:
    """NDJSON lines out of chunks cut anywhere: :meth:`feed` returns the lines completed by a
    chunk (without their ``\\n``; a trailing ``\\r`` is dropped too), :meth:`finish` the last
    one if the body did not end with a newline. A line longer than ``max_line`` is not kept:
    it comes out as ``None`` (malformed) and the rest of it, up to its newline, is dropped."""

    __slots__ = ("_buffer", "_max", "_overlong")

    def __init__(self, max_line: int = MAX_TEST_LINE) -> None:
        self._buffer = bytearray()
        self._max = max_line
        self._overlong = False

    def feed(self, chunk: bytes) -> list[bytes | None]:
        lines: list[bytes | None] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            if self._overlong:
                self._overlong = False
                lines.append(None)
            elif len(self._buffer) + end - start > self._max:
                self._buffer.clear()
                lines.append(None)
            elif self._buffer:
                self._buffer += chunk[start:end]
                lines.append(_line(bytes(self._buffer)))
                self._buffer.clear()
            else:
                lines.append(_line(chunk[start:end]))
            start = end + 1
        if not self._overlong and start < len(chunk):
            self._buffer += chunk[start:]
            if len(self._buffer) > self._max:
                self._buffer.clear()
                self._overlong = True
        return [line for line in lines if line is None or line.strip()]

    def finish(self) -> bytes | None:
        """The unterminated last line (``b""``: there is none; ``None``: it was too long)."""
        if self._overlong:
            self._overlong = False
            return None
        rest = _line(bytes(self._buffer))
        self._buffer.clear()
        return rest if rest.strip() else b""


def _line(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\r") else data


def parse_test_line(line: bytes | None, number: int) -> dict[str, Any] | DecodeError:
    """One NDJSON line as a JSON object, or the :class:`DecodeError` that says why not
    (``number`` counts lines from 1; the message names it and never quotes the line)."""
    if line is None:
        return DecodeError(f"test result line {number} is longer than {MAX_TEST_LINE} bytes")
    try:
        value = _json.loads(line)
    except _json.JSONDecodeError:
        return DecodeError(f"test result line {number} is not JSON")
    if not isinstance(value, dict):
        return DecodeError(f"test result line {number} is not a JSON object")
    return value
