"""The async face of the limiter: waiting in line, and sharing one limiter per token.

Waiters queue in arrival order behind one lock; only the head of the queue asks the bucket and
sleeps, so a change of pace (a new header, a 429 gate) applies to the very next request rather
than to a schedule handed out earlier. A response that raises the pace wakes the head early.

One code path over any backend: each step first asks the backend's ``*_nowait`` form (in memory
it answers at once, so the hot path creates no coroutine), and awaits or backgrounds the async
form only when the backend says it needs I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from ..config import RateLimitConfig
from ..errors import MaxWaitExceeded
from .backends import InMemoryBackend, LimiterBackend, budget_key
from .bucket import RateLimitView
from .headers import EMPTY_SNAPSHOT, RateLimitSnapshot, parse_rate_limit_headers

__all__ = ["AdaptiveLimiter", "OnWait", "shared_limiter"]

logger = logging.getLogger("circleci_async.ratelimit")

#: ``acquire(on_wait=...)``: told ``(seconds, why)`` for each reason a request waited, ``why``
#: one of ``pace``, ``gate``, ``probe``, ``backend`` (see ``circleci_async.events.WaitReason``).
OnWait = Callable[[float, str], object]
_LOGGED_WAIT = 1.0  # seconds; a longer wait is logged at INFO

_SHORT_WAIT = 0.02  # seconds

Headers = Mapping[str, str]


class AdaptiveLimiter:
    """Paces requests for one token. Use :meth:`acquire` before sending, :meth:`observe` with
    the response, then :meth:`release`; or ``async with limiter.slot(): ...``."""

    def __init__(
        self,
        config: RateLimitConfig | None = None,
        *,
        key: str = "default",
        backend: LimiterBackend | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or RateLimitConfig()
        self.key = key
        self.backend: LimiterBackend = backend or InMemoryBackend(self.config)
        self._budget = self.backend.budget(key)  # the hot path's three questions, key bound
        self._clock = clock
        self._wall = wall_clock
        self._queue = asyncio.Lock()
        self._queued = False  # someone holds the queue (waits in line): no one may pass it
        self._changed = asyncio.Event()
        self._answered = False  # the bucket must hear of the first answer, even a bare one
        self._tasks: set[asyncio.Future[None]] = set()  # background work for shared backends
        self._unread: tuple[Headers, int] | None = None
        self._waiting_for = "pace"  # why the head of the queue waits (for those behind it)

    def __repr__(self) -> str:
        return f"AdaptiveLimiter(key={self.key!r}, {self.view()})"

    def try_acquire_nowait(self) -> bool:
        """Take a slot if one is free right now, without waiting or yielding (the hot path)."""
        if self._queued:
            return False
        wait = self._budget.try_acquire_nowait(self._clock())
        return wait is not None and wait <= 0

    async def acquire(self, *, on_wait: OnWait | None = None) -> float:
        """Wait for a slot; return the seconds waited.

        Raises :class:`~circleci_async.errors.MaxWaitExceeded` when the wait would be longer
        than ``max_wait``, instead of sleeping for it. ``on_wait`` hears how long the request
        waited and why (only when it waited); a wait over a second is logged at INFO.
        """
        start = self._clock()
        if not self._queued and await self._try_acquire(start) <= 0:
            return 0.0
        waits: dict[str, float] = {}  # the slow path only: it waits anyway
        try:
            async with self._queue:
                self._queued = True
                try:
                    return await self._at_head(start, waits)
                finally:
                    self._queued = False
        finally:
            waited = self._clock() - start
            # time in the queue behind others counts for the reason of its longest part
            if waits:
                main = max(waits, key=waits.__getitem__)
                waits[main] += max(waited - sum(waits.values()), 0.0)
            elif waited > 0:  # queued behind the head: what it waited for
                waits[self._waiting_for] = waited
            self._report(waits, waited, on_wait)

    async def _at_head(self, start: float, waits: dict[str, float]) -> float:
        """Wait at the head of the line until the backend grants a slot; the seconds since
        ``start``."""
        while True:
            now = self._clock()
            wait = await self._try_acquire(now, waits)
            if wait <= 0:
                return now - start
            max_wait = self.config.max_wait
            if max_wait is not None and (wait > max_wait or now - start + wait > max_wait):
                raise MaxWaitExceeded(
                    f"rate limited: the next request could go in {wait:.1f} s, "
                    f"more than max_wait={max_wait:g} s",
                    retry_after=wait,
                )
            why = self._waiting_for = self._why(now)
            paused = self._clock()
            await self._pause(wait)
            waits[why] = waits.get(why, 0.0) + self._clock() - paused

    def _why(self, now: float) -> str:
        """Why the bucket says wait: no answer yet (probe), a closed gate, else the pace."""
        if not self._answered:
            return "probe"
        if self.backend.view(self.key, now).blocked_for > 0:
            return "gate"
        return "pace"

    def _report(self, waits: dict[str, float], waited: float, on_wait: OnWait | None) -> None:
        if on_wait is not None:
            for why, seconds in waits.items():
                if seconds > 0:
                    on_wait(seconds, why)
        if waited > _LOGGED_WAIT and logger.isEnabledFor(logging.INFO):
            why = max(waits, key=waits.__getitem__) if waits else "pace"
            logger.info(
                "rate limit: waited %.1f s (%s)",
                waited,
                ", ".join(f"{k} {v:.1f} s" for k, v in waits.items()),
                extra={"event": "RateLimitWait", "seconds": waited, "why": why, "waits": waits},
            )

    async def _try_acquire(self, now: float, waits: dict[str, float] | None = None) -> float:
        wait = self._budget.try_acquire_nowait(now)
        if wait is None:
            wait = await self.backend.try_acquire(self.key, now)
            if waits is not None:  # the time a shared backend took to answer
                waits["backend"] = waits.get("backend", 0.0) + self._clock() - now
        return wait

    async def _pause(self, seconds: float) -> None:
        if seconds < _SHORT_WAIT:  # not worth arranging an early wake-up
            await asyncio.sleep(seconds)
            return
        self._changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def release(self) -> None:
        """A request finished (answered or failed)."""
        telling = self._budget.release()
        if telling is not None:
            await telling

    def release_nowait(self) -> None:
        """:meth:`release` without awaiting: a shared backend is told in the background."""
        telling = self._budget.release()
        if telling is not None:
            self._background(telling)

    async def observe(self, snapshot: RateLimitSnapshot, *, status: int) -> None:
        """Learn from a response (call before :meth:`release`)."""
        learning = self._learn(snapshot, status)
        if learning is not None:
            await learning

    def observe_nowait(self, snapshot: RateLimitSnapshot, *, status: int) -> None:
        """:meth:`observe` without awaiting: a shared backend learns in the background."""
        learning = self._learn(snapshot, status)
        if learning is not None:
            self._background(learning)

    def _learn(self, snapshot: RateLimitSnapshot, status: int) -> Coroutine[Any, Any, None] | None:
        """Apply a response at once if the backend can; otherwise return the coroutine that
        tells it (awaited or backgrounded by the caller)."""
        if snapshot is EMPTY_SNAPSHOT and status != 429 and self._answered:
            return None  # a bare success teaches nothing, except the first answer (the probe)
        self._answered = True
        self._unread = None
        now, wall = self._clock(), self._wall()
        backend, key = self.backend, self.key
        if backend.observe_nowait(key, snapshot, status=status, now=now, wall=wall):
            self._changed.set()
            return None
        return self._observe_shared(snapshot, status, now, wall)

    async def _observe_shared(
        self, snapshot: RateLimitSnapshot, status: int, now: float, wall: float
    ) -> None:
        # The head of the queue is woken once the backend has learned the answer: woken
        # before, it would ask again, be told the old wait, and sleep it out in full.
        try:
            await self.backend.observe(self.key, snapshot, status=status, now=now, wall=wall)
        finally:
            self._changed.set()

    def answered(self, headers: Headers, status: int) -> RateLimitSnapshot:
        """Learn from an answer (call before :meth:`release_nowait`) and return what its
        headers said. A success's may go unread while they cannot change the pace (see
        ``BucketState.may_skip``): they are then kept, read only if someone asks for
        :meth:`view`, and the snapshot is empty."""
        if 200 <= status < 300 and self._budget.may_skip():
            self._unread = (headers, status)
            return EMPTY_SNAPSHOT
        snapshot = parse_rate_limit_headers(headers, status=status)
        self.observe_nowait(snapshot, status=status)
        return snapshot

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for what a shared backend is still being told in the background (answers,
        releases), so that a closing client leaves no lease of its own behind. Each such call
        has the backend's own timeout."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            await self.release()

    def view(self) -> RateLimitView:
        """What the server last said, merged (reading a deferred response first)."""
        unread = self._unread
        if unread is not None:
            self._unread = None
            headers, status = unread
            snapshot = parse_rate_limit_headers(headers, status=status)
            if snapshot.observations:  # read late, as of now: resets are whole seconds anyway
                now, wall = self._clock(), self._wall()
                if not self.backend.observe_nowait(
                    self.key, snapshot, status=status, now=now, wall=wall
                ):
                    self._background(
                        self.backend.observe(self.key, snapshot, status=status, now=now, wall=wall)
                    )
        return self.backend.view(self.key, self._clock())


# One limiter per (event loop, token, API origin): every client in the process using the same
# token against the same API shares one budget, as the server counts it.
_shared: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakValueDictionary[tuple[str, str, int], AdaptiveLimiter]
] = weakref.WeakKeyDictionary()


def shared_limiter(
    fingerprint: str,
    origin: str,
    config: RateLimitConfig,
    *,
    backend: LimiterBackend | None = None,
) -> AdaptiveLimiter:
    """The process-wide limiter for a token fingerprint and API origin (created on first use
    with ``config``; later callers share it as it is). With a ``backend`` (a shared one, e.g.
    Redis), the limiter for that backend, keyed by :func:`budget_key`: clients of one process
    on one backend queue together, and every process on the backend shares the budget."""
    loop = asyncio.get_running_loop()
    per_loop = _shared.get(loop)
    if per_loop is None:
        per_loop = _shared[loop] = weakref.WeakValueDictionary()
    key = (fingerprint, origin, 0 if backend is None else id(backend))
    limiter = per_loop.get(key)
    if limiter is None:
        if backend is None:
            limiter = AdaptiveLimiter(config, key=fingerprint)
        else:  # (the limiter holds the backend, so its id stays unique while it lives)
            limiter = AdaptiveLimiter(config, key=budget_key(fingerprint, origin), backend=backend)
        per_loop[key] = limiter
    return limiter
