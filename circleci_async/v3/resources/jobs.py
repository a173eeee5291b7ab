"""``cci.v3.jobs``: a job (by UUID: v3 keys jobs by id, not number), a workflow's jobs, a
job's artifacts, its step output, its tests and its resource usage.

Step output (``stdout``, ``stderr``, ``condensed``) and tests are streamed bodies: they go
through ``core.pipeline.stream`` (the downloads' path: the same slot, limiter, credential and
redirect rules) and are never held whole. What an answer means (offsets, ``X-Terminal``, 404
and 416, NDJSON lines) is decided in :mod:`..output`; this module only reads and retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

from yarl import URL

from ...config import Timeouts
from ...errors import CircleCIError, DecodeError, IntegrityError
from ...models import structure
from ...polling import PollSchedule
from ...resources._base import operation, query, segment
from ...retry import RetrySchedule
from ..models import Artifact, Job, ResourceUsage, TestResult
from ..output import (
    OUTPUT_POLL,
    LineSplitter,
    parse_test_line,
    range_header,
    read_answer,
)
from ._base import V3Resource

if TYPE_CHECKING:
    from ..._pipeline import Stream
    from ...pagination import AsyncPaginator

__all__ = ["JobsAPI", "OutputKind"]

logger = logging.getLogger("circleci_async")

#: Which output: ``GET /jobs/{id}/stdout``, ``.../stderr`` or ``.../stdout/condensed``.
OutputKind = Literal["stdout", "stderr", "condensed"]
_SUFFIX = {"stdout": "stdout", "stderr": "stderr", "condensed": "stdout/condensed"}
#: 404 (not written yet / no stderr) and 416 (nothing past the offset) are answers, not errors.
_EXPECT = frozenset({404, 416})
#: No total timeout (a big output takes long, a followed one longer); a silence is bounded.
_TIMEOUTS = Timeouts(total=None, connect=30.0, sock_read=60.0)


class JobsAPI(V3Resource):
    namespace = "v3.jobs"

    @operation("v3.getJob", "GET", "/jobs/{id}")
    async def get(self, job_id: uuid.UUID | str) -> Job:
        """A job with its ``parallel_executions`` and their steps."""
        return await self._entity("v3.getJob", "GET", f"jobs/{segment(job_id)}", Job)

    @operation("v3.listJobs", "GET", "/jobs")
    def list(
        self,
        workflow_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Job]:
        """The jobs of a workflow (``filter[workflow_id]``, required)."""
        return self._collection(
            "v3.listJobs",
            "jobs",
            Job,
            params={"filter[workflow_id]": workflow_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.listJobArtifacts", "GET", "/jobs/{id}/artifacts")
    def artifacts(
        self,
        job_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Artifact]:
        """A job's artifacts; ``url`` is absolute. [inferred] Whether the list pages is unknown
        (§6.8): a missing ``page`` block ends the walk after one page."""
        return self._collection(
            "v3.listJobArtifacts",
            f"jobs/{segment(job_id)}/artifacts",
            Artifact,
            cursor=cursor,
            max_items=max_items,
        )

    # -- step output ------------------------------------------------------------------------

    @operation("v3.getJobStdout", "GET", "/jobs/{id}/stdout")
    def stdout(
        self,
        job_id: uuid.UUID | str,
        *,
        step: int | None = None,
        execution: int | None = None,
        follow: bool = False,
        offset: int = 0,
        poll: PollSchedule = OUTPUT_POLL,
    ) -> AsyncGenerator[bytes, None]:
        """A step's output as byte chunks (ANSI kept), from byte ``offset``, never held whole.

        ``step`` and ``execution`` are sent as ``filter[step_num]`` and ``filter[execution]``
        (left out when ``None``). Without ``follow`` it is one read of what is there now (a 404,
        nothing written yet, is an empty iterator); with ``follow`` it polls with ``Range:
        bytes=<offset>-`` (through the client's limiter, waiting as ``poll`` says: back to its
        ``interval`` after new bytes, longer after none) until an answer carries ``X-Terminal:
        true``. A dropped connection is resumed from the bytes already yielded, retried as the
        client's ``RetryPolicy`` says. With ``follow``, a 404 is polled again: check the job
        exists first (``get``) if the id is untrusted."""
        return self._output("stdout", job_id, step, execution, follow, offset, poll)

    @operation("v3.getJobStderr", "GET", "/jobs/{id}/stderr")
    def stderr(
        self,
        job_id: uuid.UUID | str,
        *,
        step: int | None = None,
        execution: int | None = None,
        follow: bool = False,
        offset: int = 0,
        poll: PollSchedule = OUTPUT_POLL,
    ) -> AsyncGenerator[bytes, None]:
        """A step's stderr, as :meth:`stdout` reads stdout, except that a **404 means no
        stderr**: an empty iterator, also with ``follow`` (the official CLI reads stderr once
        stdout is terminal; do the same to follow both)."""
        return self._output("stderr", job_id, step, execution, follow, offset, poll)

    @operation("v3.getJobStdoutCondensed", "GET", "/jobs/{id}/stdout/condensed")
    def condensed(
        self,
        job_id: uuid.UUID | str,
        *,
        step: int | None = None,
        execution: int | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """The output cut down server-side to the most error-relevant lines, read once. No
        client sends ``Range`` here (§3.3), so neither does this one: a dropped connection
        reads it again and skips the bytes already yielded."""
        return self._output("condensed", job_id, step, execution, False, 0, OUTPUT_POLL)

    def _output_url(
        self, kind: OutputKind, job_id: uuid.UUID | str, step: int | None, execution: int | None
    ) -> URL:
        url = URL(self._v3.url(f"jobs/{segment(job_id)}/{_SUFFIX[kind]}"), encoded=True)
        params = query({"filter[execution]": execution, "filter[step_num]": step})
        return url.update_query(params) if params else url

    def _output(
        self,
        kind: OutputKind,
        job_id: uuid.UUID | str,
        step: int | None,
        execution: int | None,
        follow: bool,
        offset: int,
        poll: PollSchedule,
    ) -> AsyncGenerator[bytes, None]:
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        url = self._output_url(kind, job_id, step, execution)
        return self._read_output(
            url,
            offset=offset,
            follow=follow,
            ranged=kind != "condensed",
            missing_ends=kind == "stderr",
            poll=poll,
        )

    async def _read_output(
        self,
        url: URL,
        *,
        offset: int,
        follow: bool,
        ranged: bool,
        missing_ends: bool,
        poll: PollSchedule,
    ) -> AsyncGenerator[bytes, None]:
        """The polling and resuming loop: each attempt yields the new bytes of one answer."""
        pipeline = self._v3.client.core.pipeline
        policy = pipeline.policy
        schedule: RetrySchedule | None = None
        attempt = 0
        interval = poll.interval
        while True:
            attempt += 1
            before = offset
            delay = 0.0
            terminal = missing = False
            try:
                headers = range_header(offset) if ranged else {}
                async with pipeline.stream(
                    "GET", url, headers=headers, timeouts=_TIMEOUTS, expect=_EXPECT
                ) as response:
                    answer = read_answer(response.status, response.headers, offset)
                    terminal, missing = answer.terminal, answer.missing
                    if answer.read:
                        async with contextlib.aclosing(_body(response, answer.skip)) as body:
                            async for chunk in body:
                                offset += len(chunk)
                                yield chunk
            except CircleCIError as error:
                if schedule is None:
                    schedule = RetrySchedule(policy.config)
                decision = policy.decide(
                    error,
                    method="GET",
                    attempt=attempt,
                    elapsed=0.0,  # no deadline: a long output takes long
                    schedule=schedule,
                    progressed=offset > before,
                )
                if not decision.retry:
                    final = policy.final_error(error, decision)
                    if final is error:
                        raise
                    raise final from error
                logger.info("resuming %s from byte %d: %s", url.path, offset, decision.reason)
                delay = decision.delay
            else:
                schedule, attempt = None, 0
                if terminal or not follow or (missing and missing_ends):
                    return
                interval = poll.interval if offset > before else poll.next_interval(interval, False)
                delay = interval
            if delay > 0:  # outside the except block: no exception context kept
                await asyncio.sleep(delay)

    async def save_output(
        self,
        job_id: uuid.UUID | str,
        path: str | os.PathLike[str],
        *,
        kind: OutputKind = "stdout",
        step: int | None = None,
        execution: int | None = None,
        follow: bool = False,
    ) -> int:
        """Write an output (``kind``) to ``path`` and return its size. Atomic, through the
        downloader's :class:`~circleci_async.download.writer.FileWriter`: a temporary file in
        the destination's directory, renamed onto ``path`` once the output is read (with
        ``follow``: once it is terminal); on a failure nothing is left at ``path``."""
        from ...download import DownloadOptions
        from ...download.writer import FileWriter, WriteStrategy

        if kind == "condensed":
            chunks = self.condensed(job_id, step=step, execution=execution)
        else:
            reader = self.stdout if kind == "stdout" else self.stderr
            chunks = reader(job_id, step=step, execution=execution, follow=follow)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cci-output") as executor:
            writer = FileWriter(
                os.fspath(path),
                executor=executor,
                strategy=WriteStrategy(DownloadOptions()),
            )
            try:
                async with contextlib.aclosing(chunks) as stream:
                    async for chunk in stream:
                        if writer.feed(chunk):
                            await writer.flush()
                await writer.commit()
            except BaseException:
                await writer.discard()
                raise
        return writer.size

    # -- tests and resource usage -----------------------------------------------------------

    @operation("v3.listJobTests", "GET", "/jobs/{id}/tests")
    def tests(
        self, job_id: uuid.UUID | str, *, on_error: Literal["skip", "raise"] = "skip"
    ) -> AsyncGenerator[TestResult, None]:
        """A job's test results, one per NDJSON line, read as the body streams (a line cut
        across chunks is put back together). A 404 or an empty body is no results.

        A malformed line (not JSON, not an object, not a result, longer than 1 MiB) fails
        alone: by default it is **skipped with a warning** on the ``circleci_async`` logger
        (naming its line number, never its text) and the next lines are read; with
        ``on_error="raise"`` it raises that :class:`DecodeError` after the results before it
        were yielded. Unknown ``result`` values parse (``TestOutcome(...).known`` is false)."""
        url = URL(self._v3.url(f"jobs/{segment(job_id)}/tests"), encoded=True)
        return self._read_tests(url, on_error)

    async def _read_tests(
        self, url: URL, on_error: Literal["skip", "raise"]
    ) -> AsyncGenerator[TestResult, None]:
        # One attempt: the route has no Range, so a dropped connection cannot be resumed
        # without repeating results; it is an error the caller sees.
        pipeline = self._v3.client.core.pipeline
        headers = {"Accept": "application/x-ndjson"}
        async with pipeline.stream(
            "GET", url, headers=headers, timeouts=_TIMEOUTS, expect=frozenset({404})
        ) as response:
            if response.status == 404:
                return
            splitter = LineSplitter()
            number = 0
            async with contextlib.aclosing(_body(response, 0)) as body:
                async for chunk in body:
                    for line in splitter.feed(chunk):
                        number += 1
                        result = _test_result(line, number, url, on_error)
                        if result is not None:
                            yield result
            last = splitter.finish()
            if last != b"":
                result = _test_result(last, number + 1, url, on_error)
                if result is not None:
                    yield result

    @operation("v3.getJobResourceUsage", "GET", "/jobs/{id}/resource-usage")
    async def resource_usage(self, job_id: uuid.UUID | str) -> ResourceUsage:
        """CPU, memory and network samples per parallel execution, and the resource class. A
        job that never ran an executor (an approval, one cancelled early) is a 404
        (:class:`~circleci_async.NotFound`)."""
        return await self._entity(
            "v3.getJobResourceUsage",
            "GET",
            f"jobs/{segment(job_id)}/resource-usage",
            ResourceUsage,
        )


async def _body(response: Stream, skip: int) -> AsyncGenerator[bytes, None]:
    """A streamed body's chunks, its first ``skip`` bytes left out; a body cut short (fewer
    bytes than ``Content-Length``, or a broken connection) raises the library's error after
    the bytes that did arrive were yielded."""
    content = response.content
    received = 0
    failure: CircleCIError | None = None
    try:
        while True:
            chunk, end_of_http_chunk = await content.readchunk()
            if not chunk:
                if end_of_http_chunk:
                    continue
                break
            received += len(chunk)
            if skip:
                if len(chunk) <= skip:
                    skip -= len(chunk)
                    continue
                chunk, skip = chunk[skip:], 0
            yield chunk
    except response.read_errors as exc:
        failure = response.body_error(exc)
    if failure is not None:  # raised outside the except: the HTTP stack's error stays out
        raise failure
    expected = response.content_length
    if expected is not None and received < expected:
        raise IntegrityError(
            f"the body ended after {received} of {expected} bytes",
            expected=expected,
            received=received,
            retryable=True,
            method="GET",
            url=response.url,
        )


def _test_result(
    line: bytes | None, number: int, url: URL, on_error: Literal["skip", "raise"]
) -> TestResult | None:
    """One line as a result; a malformed one raises (``"raise"``) or is logged and skipped."""
    parsed = parse_test_line(line, number)
    if isinstance(parsed, DecodeError):
        message = parsed.message
    else:
        try:
            return structure(parsed, TestResult, what=f"test result line {number}")
        except DecodeError:
            message = f"test result line {number} is not a test result"
    error = DecodeError(message, method="GET", url=url)
    if on_error == "raise":
        raise error
    logger.warning("skipped a malformed test result: %s", error.message)
    return None
