"""The downloader: many files at once within limits, each one resumed, verified and reported.

A :class:`DownloadEngine` holds what files of one or more batches share: the client's request
pipeline (whose streams follow redirects, decide credentials per hop and pace CircleCI hosts),
the per-host slots it is given, the retry policy, the global limit on files in flight, the thread
pool and the write strategy (inline or pooled writes, batch sizes). :meth:`DownloadEngine.run`
downloads one planned batch with as many workers as the global limit allows and returns one
result per file.

Per file: look at the destination (skip policy, a partial file of an earlier run), then
request it from the artifact URL; a connection that breaks is resumed from the bytes already
received with ``Range`` (and ``If-Range``), always starting again from the CircleCI URL because
the storage URL it redirected to is short-lived. Only a ``206`` whose ``Content-Range`` starts at
the resume offset continues the file; a ``200`` starts it again. The byte count is checked
against ``Content-Length`` (or the ``Content-Range`` total) before the file is renamed into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from yarl import URL

from .. import events
from .._core import ClientCore
from .._observe import Observers
from .._pipeline import HostSlots, Stream, parse_http_url
from .._redact import redact_url
from .._slots import Slots
from ..config import RetryConfig, Timeouts
from ..errors import CircleCIError, ConfigurationError
from ..retry import RetryPolicy, RetrySchedule
from ._models import (
    ArtifactRef,
    DownloadOptions,
    DownloadResult,
    DownloadResults,
    DownloadStatus,
    SkipPolicy,
)
from .errors import DownloadError, DownloadFailed, IntegrityError, PathConflictError
from .fetch import html_expected, is_html, parse_content_range, range_headers, strong_validator
from .plan import PlannedFile, skip_reason
from .progress import ProgressReporter
from .writer import DirectoryState, Existing, FileWriter, ResumeRecord, WriteStrategy
from .writer import prepare_directory as _prepare_directory

__all__ = ["DownloadEngine"]

logger = logging.getLogger("circleci_async.download")

_NOTHING = Existing()
#: New bytes an attempt must bring for its failure not to count against ``max_attempts``:
#: a server that drops every connection after a few bytes is not making progress.
_PROGRESS = 64 * 1024
_PROGRESS_STEP = 256 * 1024  # bytes between progress reports
_EXPECT = frozenset({416})  # handed over by the stream: the partial file may be complete
_UNLIMITED = 1 << 62  # bytes: no max_size


class DownloadEngine:
    """Shared state of the downloads of one call (see the module docstring). Use as an async
    context manager; it shuts its thread pool down on exit."""

    def __init__(
        self,
        core: ClientCore,
        dest: str | os.PathLike[str],
        *,
        concurrency: int = 8,
        per_host: int | None = None,
        skip: SkipPolicy = SkipPolicy.OVERWRITE,
        fsync: bool = False,
        resume: bool = True,
        progress: ProgressReporter | None = None,
        options: DownloadOptions | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigurationError("concurrency must be >= 1")
        if per_host is not None and per_host < 1:
            raise ConfigurationError("per_host must be >= 1")
        self.pipeline = core.pipeline  # refuses a session that sends credentials everywhere
        self.observers = core.observers
        self.options = options = options or DownloadOptions()
        self.dest = os.path.abspath(os.fspath(dest))
        self.root = ""  # the resolved destination, set by __aenter__
        self.skip = skip
        self.fsync = fsync
        self.resume = resume
        self.progress = progress
        self.concurrency = concurrency
        self.per_host = HostSlots(per_host or concurrency)
        # No total timeout: big files take long; the read timeout bounds a silence instead.
        self.timeouts = Timeouts(
            total=None, connect=options.connect_timeout, sock_read=options.read_timeout
        )
        self.policy = RetryPolicy(
            RetryConfig(
                max_attempts=options.max_attempts,
                deadline=None,
                backoff_base=options.backoff_base,
                backoff_max=options.backoff_max,
                retry_statuses=core.retry.retry_statuses,
            ),
            max_wait=self.pipeline.max_wait,
        )
        self.strategy = WriteStrategy(self.options)
        self.rate_watches = _RateWatches(options) if options.min_rate else None
        self._slots = Slots(concurrency)  # the free case a counter, not two coroutine frames
        self.executor = ThreadPoolExecutor(
            max_workers=min(concurrency, 32), thread_name_prefix="circleci-download"
        )
        self._dirs: dict[str, asyncio.Future[DirectoryState]] = {}
        self._made: set[str] = set()  # directories known to exist (no makedirs needed)
        self._names: dict[str, set[str]] = {}

    async def __aenter__(self) -> DownloadEngine:
        loop = asyncio.get_running_loop()
        try:
            self.root = await loop.run_in_executor(self.executor, _make_root, self.dest)
        except OSError as exc:
            self.executor.shutdown(wait=False)
            raise ConfigurationError(
                f"cannot use {self.dest!r} as the download directory: {exc.strerror or exc}"
            ) from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Writes still in flight (a task cancelled twice) finish on their own.
        self.executor.shutdown(wait=False)
        if self.rate_watches is not None:
            self.rate_watches.close()

    # -- a batch ------------------------------------------------------------------------------

    def destination(self, relative: str) -> str:
        return os.path.join(self.root, *relative.split("/"))

    async def run(
        self, planned: Sequence[PlannedFile], *, fail_fast: bool = False
    ) -> DownloadResults:
        """Download a planned batch; one result per entry, in order."""
        # Each destination split once: (final path, its directory, its name).
        finals: list[tuple[str, str, str] | None] = []
        for entry in planned:
            if entry.relative:
                target = self.destination(entry.relative)
                directory, name = os.path.split(target)
                self._names.setdefault(directory, set()).add(name)
                finals.append((target, directory, name))
            else:
                finals.append(None)
        results: list[DownloadResult | None] = [None] * len(planned)
        queue = iter(enumerate(zip(planned, finals, strict=True)))
        failure: list[DownloadResult] = []
        workers: list[asyncio.Task[None]] = []

        async def worker() -> None:
            for position, (entry, target) in queue:
                result = await self._one(entry, target)
                results[position] = result
                if fail_fast and not result.ok and not failure:
                    failure.append(result)
                    for other in workers:
                        if other is not asyncio.current_task():
                            other.cancel()
                    return

        count = min(self.concurrency, len(planned))
        workers.extend(asyncio.ensure_future(worker()) for _ in range(count))
        try:
            if workers:
                await asyncio.wait(workers)
        except asyncio.CancelledError:
            for task in workers:
                task.cancel()
            # Let every file clean up its partial file before the cancellation goes on.
            await asyncio.wait(workers)
            raise
        for task in workers:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a bug, not a file's failure
        final = DownloadResults()
        for entry, result in zip(planned, results, strict=True):
            if result is None:
                result = DownloadResult(
                    entry.artifact, DownloadStatus.CANCELLED, relative=entry.relative
                )
                self._finish(entry.relative or str(entry.artifact.path), result)
            final.append(result)
        if failure:
            first = failure[0]
            raise DownloadFailed(
                f"stopped at the first failure (fail_fast): {first.artifact.path!r}: {first.error}",
                results=list(final),
            )
        return final

    async def _one(self, entry: PlannedFile, where: tuple[str, str, str] | None) -> DownloadResult:
        """One file (to ``where``: its path, directory and name), start to end; never raises
        for the file's own failure."""
        artifact = entry.artifact
        if entry.duplicate_of is not None:
            result = DownloadResult(
                artifact, DownloadStatus.SKIPPED, reason="duplicate", relative=entry.relative
            )
            return self._finish(artifact.path, result)
        if entry.error is not None or not entry.relative or where is None:
            error = entry.error or DownloadError("no destination")
            return self._finish(
                str(artifact.path), DownloadResult(artifact, DownloadStatus.FAILED, error=error)
            )
        relative = entry.relative
        slots = self._slots
        if not slots.try_take():
            await slots.take()
        try:
            started = time.monotonic()
            final, directory, name = where
            known = self._dirs.get(directory)
            if known is not None and known.done() and not known.cancelled():
                state = known.result()
            else:
                state = await self._directory(directory)
            transfer = _Transfer(self, artifact, relative, final, directory, started)
            if state.error is not None:
                result = transfer.result(DownloadStatus.FAILED, error=state.error)
            else:
                if state.exists:
                    self._made.add(directory)
                result = await transfer.run(
                    state.entries.get(name, _NOTHING), name in state.special
                )
        finally:
            slots.give()
        return self._finish(relative, result)

    def _finish(self, name: str, result: DownloadResult) -> DownloadResult:
        if self.progress is not None:
            self.progress.finish(name, result)
        if result.status is DownloadStatus.FAILED:
            logger.info(
                "download failed: %s: %s",
                name,
                result.error,
                extra={
                    "event": "DownloadFailed",
                    "path": name,
                    "error_type": type(result.error).__name__,
                    "transferred": result.transferred,
                    "attempts": result.attempts,
                },
            )
        if self.observers:
            self.observers.emit(_finished(name, result))
        return result

    async def _directory(self, directory: str) -> DirectoryState:
        future = self._dirs.get(directory)
        if future is None:
            names = sorted(self._names.get(directory, ()))
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(
                self.executor, _prepare_directory, self.root, directory, names
            )
            self._dirs[directory] = future
        try:
            return await asyncio.shield(future)
        except OSError as exc:
            return DirectoryState(DownloadError(f"cannot inspect {directory!r}: {exc}"))


class _Transfer:
    """One file's transfer: the attempts, the resume offset, the checks, the result."""

    def __init__(
        self,
        engine: DownloadEngine,
        artifact: ArtifactRef,
        relative: str,
        final: str,
        directory: str,
        started: float,
    ) -> None:
        self.engine = engine
        self.artifact = artifact
        self.relative = relative
        self.final = final
        self.directory = directory  # of final
        self.started = started
        self.attempts = 0
        self.transferred = 0
        self.resumed_from = 0

    def result(self, status: DownloadStatus, **fields: Any) -> DownloadResult:
        return DownloadResult(
            self.artifact,
            status,
            filename=self.final,
            relative=self.relative,
            attempts=self.attempts,
            transferred=self.transferred,
            resumed_from=self.resumed_from,
            elapsed=time.monotonic() - self.started,
            **fields,
        )

    async def run(self, existing: Existing, in_the_way: bool = True) -> DownloadResult:
        """``in_the_way``: the directory's listing showed something other than a regular file
        under the final name (the writer looks at it before creating the file)."""
        engine = self.engine
        if existing.is_dir:
            conflict = PathConflictError(f"a directory is in the way of {self.relative!r}")
            return self.result(DownloadStatus.FAILED, error=conflict)
        reason = skip_reason(engine.skip, existing.size)
        if reason is not None:
            return self.result(DownloadStatus.SKIPPED, reason=reason, bytes=existing.size or 0)
        directory = self.directory
        writer = FileWriter(
            self.final,
            executor=engine.executor,
            strategy=engine.strategy,
            fsync=engine.fsync,
            display=self.relative,
            make_directory=directory not in engine._made,
            stale=existing.stale,
            check_final=in_the_way,
        )
        self.writer = writer
        self.meter = _Meter(self.relative, engine.progress, engine.observers, self.artifact.url)
        self.existing = existing
        self.validator: str | None = None
        self.total: int | None = None
        record = existing.record
        if (
            engine.resume
            and record is not None
            and record.url == self.artifact.url
            and existing.partial_size is not None
            and 0 < existing.partial_size < record.size
        ):
            writer.continue_partial(existing.partial_size, existing.partial_identity)
            self.resumed_from = existing.partial_size
            self.validator = record.validator
            self.total = record.size
        engine.strategy.active += 1
        try:
            skipped = await self._attempts()
            if skipped is not None:
                return self.result(DownloadStatus.SKIPPED, reason=skipped, bytes=existing.size or 0)
            await writer.commit()
            engine._made.add(directory)
            self.meter.update(writer.size)
            return self.result(DownloadStatus.DOWNLOADED, bytes=writer.size)
        except asyncio.CancelledError:
            await writer.discard()
            raise
        except _GaveUp as gave_up:
            await writer.discard(keep_partial=engine.resume)
            return self.result(DownloadStatus.FAILED, error=self._final_error(gave_up.error))
        except CircleCIError as exc:
            await writer.discard()
            return self.result(DownloadStatus.FAILED, error=self._final_error(exc))
        except BaseException:
            await writer.discard()
            raise
        finally:
            engine.strategy.active -= 1

    def _final_error(self, error: CircleCIError) -> CircleCIError:
        if isinstance(error, IntegrityError) and error.expected is None and self.total:
            error.expected, error.received = self.total, self.writer.size
        return _with_attempts(error, self.attempts)

    async def _attempts(self) -> str | None:
        """Attempts until the bytes are all there (or a skip reason); raises :class:`_GaveUp`
        when retries stop for a failure that may pass (the partial file is worth keeping),
        the error itself when retrying never made sense."""
        engine = self.engine
        policy = engine.policy
        writer = self.writer
        schedule: RetrySchedule | None = None  # built on the first failure
        high_water = writer.size
        url = parse_http_url(self.artifact.url)
        if isinstance(url, str):  # a listing's URL is the server's word: the file's own error
            raise DownloadError(f"cannot download this artifact: its URL {url}")
        while True:
            self.attempts += 1
            try:
                skipped = await self._attempt(url)
                if skipped is not None:
                    return skipped
                total = self.total
                if total is None or writer.size == total:
                    return None
                if writer.size > total:
                    raise IntegrityError(
                        f"received {writer.size} bytes, but the server announced {total}",
                        expected=total,
                        received=writer.size,
                        method="GET",
                        url=url,
                    )
                # The body ended early without a protocol error: resume the rest.
                raise IntegrityError(
                    f"the transfer ended after {writer.size} of {total} bytes",
                    expected=total,
                    received=writer.size,
                    retryable=True,
                    method="GET",
                    url=url,
                )
            except CircleCIError as error:
                if schedule is None:
                    schedule = RetrySchedule(policy.config)
                progressed = writer.size >= high_water + _PROGRESS
                high_water = max(high_water, writer.size)
                decision = policy.decide(
                    error,
                    method="GET",
                    attempt=self.attempts,
                    elapsed=0.0,  # no deadline: big files take long
                    schedule=schedule,
                    progressed=progressed,
                )
                if not decision.retry:
                    if decision.exhausted:
                        raise _GaveUp(policy.final_error(error, decision)) from None
                    raise
                logger.debug(
                    "retrying %s from byte %d in %.2f s: %s",
                    self.relative,
                    writer.size,
                    decision.delay,
                    error,
                )
            if decision.delay > 0:  # outside the except block: no exception context kept
                engine.pipeline.stats.waited += decision.delay
                await asyncio.sleep(decision.delay)

    async def _attempt(self, url: URL) -> str | None:
        """One request from the current offset, streamed into the writer."""
        engine = self.engine
        writer = self.writer
        headers = range_headers(writer.size, self.validator)
        async with engine.pipeline.stream(
            "GET",
            url,
            headers=headers,
            timeouts=engine.timeouts,
            per_host=engine.per_host,
            max_redirects=engine.options.max_redirects,
            expect=_EXPECT,
        ) as response:
            headers = response.headers
            status = response.status
            if status == 206:
                content_range = parse_content_range(headers.get("Content-Range"))
                if content_range is None or content_range.start != writer.size:
                    # Not the bytes asked for: start again from the first byte.
                    await self._restart()
                    raise IntegrityError(
                        "the server answered a resume request with the wrong range "
                        f"({headers.get('Content-Range')!r})",
                        retryable=True,
                        method="GET",
                        url=response.url,
                    )
                self.total = content_range.total
            elif status == 416:
                content_range = parse_content_range(headers.get("Content-Range"))
                if content_range is None or content_range.total != writer.size:
                    await self._restart()
                    raise IntegrityError(
                        "the server cannot resume this file (416)",
                        retryable=True,
                        method="GET",
                        url=response.url,
                    )
                self.total = writer.size  # the partial file already holds everything
                return None
            else:  # 200: the whole file, from its first byte
                if writer.size:
                    await self._restart()
                self.total = response.content_length
            if self.attempts == 1:
                reason = skip_reason(engine.skip, self.existing.size, self.total)
                if reason is not None:
                    return reason
            if (
                engine.options.reject_html
                and is_html(headers.get("Content-Type"))
                and not html_expected(self.relative)
            ):
                raise IntegrityError(
                    "the server sent an HTML page instead of the artifact (a login or error page?)",
                    method="GET",
                    url=response.url,
                )
            self.validator = strong_validator(headers) or self.validator
            total = self.total
            options = engine.options
            max_size = options.max_size
            if max_size is not None and total is not None and total > max_size:
                raise IntegrityError(
                    f"the server announced {total} bytes, more than max_size={max_size}",
                    expected=total,
                    method="GET",
                    url=response.url,
                )
            if (
                engine.resume
                and total is not None
                and writer.size == 0
                and total >= engine.options.resume_threshold
            ):
                writer.keep_resume_record(ResumeRecord(self.artifact.url, total, self.validator))
            meter = self.meter
            meter.start(total, writer.size)
            # The body, inline here: every await below resumes through one frame less. Its
            # limits cost one comparison per chunk (the size) and a place in the engine's
            # queue of rate checks (the rate).
            content = response.content
            failure: CircleCIError | None = None
            stop_at = self.transferred + (max_size - writer.size) if max_size else _UNLIMITED
            watches = engine.rate_watches
            watch = watches.start(self, response) if watches is not None else None
            try:
                while True:
                    chunk, end_of_http_chunk = await content.readchunk()
                    if not chunk:
                        if end_of_http_chunk:
                            continue
                        break
                    self.transferred += len(chunk)
                    if self.transferred > stop_at:
                        raise IntegrityError(
                            f"the body passed max_size={max_size} bytes; it was cut there",
                            method="GET",
                            url=response.url,
                        )
                    if writer.feed(chunk):
                        await writer.flush()
                    if meter.enabled and writer.size - meter.reported >= _PROGRESS_STEP:
                        meter.update(writer.size)
            except response.read_errors as exc:
                failure = response.body_error(exc)
            finally:
                if watches is not None and watch is not None:
                    watches.stop(watch)
            if failure is not None:  # raised outside the except: the HTTP stack's error stays out
                # Keep what arrived: it is valid, and a resume continues after it.
                await writer.flush()
                meter.update(writer.size)
                raise failure
            return None

    async def _restart(self) -> None:
        self.meter.restart()
        await self.writer.restart()


class _RateWatch:
    """One transfer under :class:`_RateWatches`: the bytes it had received at the last look."""

    __slots__ = ("queued", "response", "seen", "transfer")

    def __init__(self, transfer: _Transfer, response: Stream) -> None:
        self.transfer: _Transfer | None = transfer  # None once stopped: nothing held
        self.response: Stream | None = response
        self.seen = transfer.transferred
        self.queued = True


class _RateWatches:
    """Fails a transfer whose body arrives slower than ``min_rate``: every ``min_rate_window``
    seconds from its start, the bytes it received since the last look are compared (the
    transfer itself reads no clock).

    One event-loop timer serves every transfer of the engine, not one per transfer (a timer
    handle, its context copy and its heap entry showed in the CPU time of batches of small
    artifacts). The window is the same for all, so looks fall due in the order they are
    queued: a deque, its head the timer's deadline. A stopped transfer's entry is dropped when
    it falls due, or all at once when they are most of the queue. Deadlines are read from
    ``time.monotonic`` (one C call per transfer, where the loop's clock is two Python frames)
    and the timer is set by delay, so the loop's own clock may be another.
    """

    __slots__ = ("_due", "_handle", "_min_bytes", "_stopped", "_window")

    def __init__(self, options: DownloadOptions) -> None:
        assert options.min_rate is not None
        self._window = options.min_rate_window
        self._min_bytes = options.min_rate * options.min_rate_window
        self._due: deque[tuple[float, _RateWatch]] = deque()
        self._handle: asyncio.TimerHandle | None = None
        self._stopped = 0  # stopped watches still queued

    def start(self, transfer: _Transfer, response: Stream) -> _RateWatch:
        watch = _RateWatch(transfer, response)
        self._due.append((time.monotonic() + self._window, watch))
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._window, self._tick)
        return watch

    def stop(self, watch: _RateWatch) -> None:
        watch.transfer = watch.response = None
        if watch.queued:
            watch.queued = False
            self._stopped += 1
            due = self._due
            if self._stopped > 64 and 2 * self._stopped > len(due):
                self._due = deque(entry for entry in due if entry[1].queued)
                self._stopped = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._due.clear()
        self._stopped = 0

    def _tick(self) -> None:
        self._handle = None
        due = self._due
        if not due:
            return
        # The timer was set for the head: it is due even if the clock reads a hair earlier.
        clock = time.monotonic()
        now = max(clock, due[0][0])
        while due and due[0][0] <= now:
            watch = due.popleft()[1]
            if not watch.queued:
                self._stopped -= 1
            elif self._look(watch):
                due.append((now + self._window, watch))
            else:
                watch.queued = False
        if due:
            delay = max(0.0, due[0][0] - clock)
            self._handle = asyncio.get_running_loop().call_later(delay, self._tick)

    def _look(self, watch: _RateWatch) -> bool:
        """Whether the transfer keeps up; if not, its pending read fails saying so."""
        assert watch.transfer is not None and watch.response is not None
        received = watch.transfer.transferred - watch.seen
        if received < self._min_bytes:
            rate = received / self._window
            watch.response.interrupt(
                f"the body arrives too slowly: {rate:.1f} bytes/s over the last "
                f"{self._window:g} s, below min_rate={self._min_bytes / self._window:g}"
            )
            return False
        watch.seen += received
        return True


class _GaveUp(Exception):
    """Retries exhausted on a transient failure: the partial file may be kept for resume."""

    def __init__(self, error: CircleCIError) -> None:
        super().__init__(str(error))
        self.error = error


class _Meter:
    """One file's progress reports: ``start`` once, then advances up to the bytes held (a
    resumed file reports its earlier part with the first advance)."""

    __slots__ = (
        "_name",
        "_observers",
        "_reporter",
        "_started",
        "_total",
        "_url",
        "enabled",
        "reported",
    )

    def __init__(
        self,
        name: str,
        reporter: ProgressReporter | None,
        observers: Observers | None = None,
        url: str = "",
    ) -> None:
        self._name = name
        self._reporter = reporter
        self._observers = observers
        self._url = url
        self.enabled = reporter is not None or bool(observers)
        self._started = False
        self._total: int | None = None
        self.reported = 0

    def start(self, total: int | None, held: int = 0) -> None:
        if not self._started and self.enabled:
            self._started = True
            self._total = total
            if self._reporter is not None:
                self._reporter.start(self._name, total)
            if self._observers:
                url = redact_url(self._url)
                self._observers.emit(events.DownloadStarted(self._name, url, total, held))

    def update(self, size: int) -> None:
        if self._started and size != self.reported:
            if self._reporter is not None:
                self._reporter.advance(self._name, size - self.reported)
            self.reported = size
            if self._observers:
                self._observers.emit(events.DownloadProgressed(self._name, size, self._total))

    def restart(self) -> None:
        self.update(0)


def _finished(name: str, result: DownloadResult) -> events.DownloadFinished | events.DownloadFailed:
    if result.status is DownloadStatus.FAILED or result.status is DownloadStatus.CANCELLED:
        error = result.error
        return events.DownloadFailed(
            name,
            type(error).__name__ if error is not None else "Cancelled",
            str(error)[:300] if error is not None else "cancelled",
            result.transferred,
            result.attempts,
            result.elapsed,
        )
    return events.DownloadFinished(
        name,
        result.status.value,
        result.bytes,
        result.transferred,
        result.attempts,
        result.elapsed,
    )


def _make_root(dest: str) -> str:
    os.makedirs(dest, exist_ok=True)
    return os.path.realpath(dest)


def _with_attempts(error: CircleCIError, attempts: int) -> CircleCIError:
    if attempts > 1 and isinstance(error, CircleCIError):
        with contextlib.suppress(AttributeError, TypeError):
            error.message = f"{error.message} (after {attempts} attempts)"
            error.args = (error.message,)
    return error
