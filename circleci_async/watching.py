"""Watching many pipelines and workflows at once, reporting each state change as it is seen.

::

    async with cci.watch(workflows=ids) as watcher:
        async for change in watcher:
            print(change.id, change.previous, "->", change.current)

Two layers. :class:`PollScheduler` is the pure part: which item is due next (a heap of due
times), when to poll it again (its interval grows by the schedule's ``backoff`` while nothing
changes and starts over when something does), and what a poll's answer changed. It does no I/O
and reads no clock, so it is tested with plain values. :class:`Watcher` drives it: a fixed
number of workers take due items, earliest first (idle ones sleep on one shared timer set for
the next due time, and only as many wake as items fell due), every poll is an
ordinary client request (the shared rate limiter paces it, the connection pool carries it, the
retry policy retries it), and changes reach the consumer through a bounded queue, so a slow
consumer slows the polling instead of piling up changes. When the limiter cannot give the rate
the schedule asks for, polls simply happen later, still earliest-due first.

Errors are per item. An error the client gives up on is reported as a :class:`StateChange`
with ``error`` set: a client error (404 for a workflow that does not exist, 403, ...) ends
that item's watch (``final``); anything else (a 5xx or connection failure that outlasted the
retry policy) is reported with ``final`` false and the item is polled again later. Either way
the other items carry on. Only :meth:`PipelinesAPI.follow`'s project listing raises instead
(from the ``async for``), when its project cannot be listed at all.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from .errors import APIError, CircleCIError, RateLimitExceeded
from .models import structure
from .models.pipelines import Pipeline
from .models.workflows import Workflow
from .polling import (
    DEFAULT_POLL,
    PollSchedule,
    pipeline_finished,
    v3_finished,
    v3_run_finished,
    v3_state,
    workflow_finished,
)
from .v3.models import Run
from .v3.models import Workflow as V3Workflow
from .waiting import WaitTimeout, fetch_pipeline_with_workflows

if TYPE_CHECKING:
    from .client import CircleCI

__all__ = ["PollScheduler", "StateChange", "Watched", "Watcher"]

logger = logging.getLogger("circleci_async.watch")

#: ``"run"`` is an API v3 run (a v2 pipeline seen through v3).
Kind = Literal["pipeline", "workflow", "run"]
#: What a scheduled item polls: a workflow, a pipeline (with its workflows), or a project's
#: newest pipelines (:meth:`PipelinesAPI.follow`).
ItemKind = Literal["pipeline", "workflow", "follow", "run", "v3workflow"]

#: ``current`` of an error report for an item never seen.
UNKNOWN: Final = "unknown"


@attrs.frozen(kw_only=True)
class StateChange:
    """One change seen by a :class:`Watcher`.

    ``previous`` is ``None`` on the first sighting. ``final`` means the item reached a terminal
    state and is no longer polled. A pipeline's report comes before its workflows' while it is
    in motion, and after them when it is final. ``pipeline_id`` is the pipeline's own id for a
    pipeline. ``at`` is ``time.time()`` when the poll that saw the change returned.

    With ``error`` set, the poll failed: ``current`` repeats the last state seen (``"unknown"``
    if none), ``item`` is ``None``, and ``final`` says whether the item was dropped (a client
    error such as 404) or will be polled again (the client's retries ran out on a transient
    error).
    """

    kind: Kind
    id: str
    previous: str | None
    current: str
    final: bool
    item: Pipeline | Workflow | Run | V3Workflow | None
    pipeline_id: str | None
    at: float
    error: CircleCIError | None = None


class Watched:
    """One watched item's schedule and last seen state (slotted: thousands are kept)."""

    __slots__ = ("due", "id", "interval", "kind", "polling", "state", "workflows")

    def __init__(self, kind: ItemKind, item_id: str, interval: float, due: float) -> None:
        self.kind: ItemKind = kind
        self.id = item_id
        #: The last state seen (pipeline state, workflow status); for a followed project, the
        #: highest pipeline number seen, as text.
        self.state: str | None = None
        #: A watched pipeline's workflows: id -> last status seen.
        self.workflows: dict[str, str] | None = None
        self.interval = interval
        self.due = due
        self.polling = False

    def __repr__(self) -> str:
        return f"<Watched {self.kind} {self.id} state={self.state!r} due={self.due:.3f}>"


class PollScheduler:
    """Due times, intervals and change detection for many watched items; no I/O, no clock.

    Times (``now``) are monotonic seconds, ``at`` is wall-clock time for the reports. An item is
    taken with :meth:`pop_due`, its answer fed to one of the ``observe_*`` methods (which give
    the changes and decide when it is due again), and it is put back with :meth:`release` once
    the changes are delivered, so an item is never polled twice at once and its changes come
    out in order.
    """

    def __init__(self, schedule: PollSchedule = DEFAULT_POLL) -> None:
        self.schedule = schedule
        self._items: dict[tuple[ItemKind, str], Watched] = {}
        self._heap: list[tuple[float, int, Watched]] = []
        self._order = itertools.count()

    # -- membership --------------------------------------------------------------------------

    def add(self, kind: ItemKind, item_id: str, now: float) -> Watched | None:
        """Watch an item, due at once; ``None`` if it is already watched."""
        key = (kind, item_id)
        if key in self._items:
            return None
        item = Watched(kind, item_id, self.schedule.interval, now)
        self._items[key] = item
        self._push(item)
        return item

    def __len__(self) -> int:
        """Items still watched (polling or waiting for their turn)."""
        return len(self._items)

    def __contains__(self, key: tuple[ItemKind, str]) -> bool:
        return key in self._items

    def items(self) -> list[Watched]:
        return list(self._items.values())

    # -- turns -------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the earliest waiting item is due (``None``: none is waiting)."""
        return self._heap[0][0] if self._heap else None

    def count_due(self, now: float, limit: int) -> int:
        """How many waiting items are due by ``now``, counting no further than ``limit`` (a walk
        of the heap's top, so as many idle workers as there is work for are woken)."""
        heap, count, stack = self._heap, 0, [0]
        while stack and count < limit:
            i = stack.pop()
            if i < len(heap) and heap[i][0] <= now:
                count += 1
                stack += (2 * i + 1, 2 * i + 2)
        return count

    def pop_due(self, now: float) -> Watched | None:
        """The earliest item due by ``now``, taken out for polling."""
        heap = self._heap
        if not heap or heap[0][0] > now:
            return None
        item = heapq.heappop(heap)[2]
        item.polling = True
        return item

    def release(self, item: Watched) -> None:
        """Put a polled item back in line at the due time its observation set (a final item
        is simply forgotten)."""
        item.polling = False
        if (item.kind, item.id) in self._items:
            self._push(item)

    def _push(self, item: Watched) -> None:
        heapq.heappush(self._heap, (item.due, next(self._order), item))

    def _reschedule(self, item: Watched, changed: bool, now: float) -> None:
        item.interval = self.schedule.next_interval(item.interval, changed)
        item.due = now + item.interval

    def _finish(self, item: Watched) -> None:
        self._items.pop((item.kind, item.id), None)

    # -- observations ------------------------------------------------------------------------

    def observe_workflow(
        self, item: Watched, workflow: Workflow, now: float, at: float
    ) -> list[StateChange]:
        return self._observe_one(
            item,
            workflow.status.value,
            workflow_finished(workflow),
            workflow,
            str(workflow.pipeline_id),
            now,
            at,
        )

    def observe_v3_workflow(
        self, item: Watched, workflow: V3Workflow, now: float, at: float
    ) -> list[StateChange]:
        """An API v3 workflow: its state is ``phase[/outcome]``, final once ``ended``."""
        run = workflow.references.run
        run_id = str(run.id) if run is not None and run.id is not None else None
        return self._observe_one(
            item, v3_state(workflow.attributes), v3_finished(workflow.attributes), workflow,
            run_id, now, at,
        )  # fmt: skip

    def _observe_one(
        self,
        item: Watched,
        current: str,
        final: bool,
        workflow: Workflow | V3Workflow,
        pipeline_id: str | None,
        now: float,
        at: float,
    ) -> list[StateChange]:
        previous = item.state
        changed = previous != current
        if final:
            self._finish(item)
        else:
            item.state = current
            self._reschedule(item, changed, now)
        if not changed and not final:
            return []
        return [
            StateChange(
                kind="workflow",
                id=item.id,
                previous=previous,
                current=current,
                final=final,
                item=workflow,
                pipeline_id=pipeline_id,
                at=at,
            )
        ]

    def observe_pipeline(
        self,
        item: Watched,
        pipeline: Pipeline,
        workflows: Sequence[Workflow],
        now: float,
        at: float,
    ) -> list[StateChange]:
        """A pipeline and its workflows (empty until the pipeline is ``created``). It is final
        when :func:`~circleci_async.polling.pipeline_finished` says so, as for
        :meth:`PipelinesAPI.wait`."""
        return self._observe_parent(
            item,
            "pipeline",
            pipeline.state.value,
            pipeline_finished(pipeline, workflows),
            pipeline,
            [(w, w.status.value, workflow_finished(w)) for w in workflows],
            now,
            at,
        )

    def observe_v3_run(
        self, item: Watched, run: Run, workflows: Sequence[V3Workflow], now: float, at: float
    ) -> list[StateChange]:
        """An API v3 run and its workflows, reported as kind ``"run"`` with ``phase[/outcome]``
        states; final by :func:`~circleci_async.polling.v3_run_finished`."""
        seen = [(w, v3_state(w.attributes), v3_finished(w.attributes)) for w in workflows]
        return self._observe_parent(
            item, "run", v3_state(run.attributes), v3_run_finished(run, workflows), run, seen,
            now, at,
        )  # fmt: skip

    def _observe_parent(
        self,
        item: Watched,
        kind: Kind,
        current: str,
        final: bool,
        parent: Pipeline | Run,
        workflows: Sequence[tuple[Workflow | V3Workflow, str, bool]],
        now: float,
        at: float,
    ) -> list[StateChange]:
        previous = item.state
        changes: list[StateChange] = []
        known = item.workflows if item.workflows is not None else {}
        for workflow, status, done in workflows:
            workflow_id = str(workflow.id)
            before = known.get(workflow_id)
            if before != status:
                known[workflow_id] = status
                changes.append(
                    StateChange(
                        kind="workflow",
                        id=workflow_id,
                        previous=before,
                        current=status,
                        final=done,
                        item=workflow,
                        pipeline_id=item.id,
                        at=at,
                    )
                )
        changed = bool(changes) or previous != current
        if final or changed:
            report = StateChange(
                kind=kind,
                id=item.id,
                previous=previous,
                current=current,
                final=final,
                item=parent,
                pipeline_id=item.id,
                at=at,
            )
            if final:
                changes.append(report)
            elif previous != current:
                changes.insert(0, report)
        if final:
            item.workflows = None
            self._finish(item)
        else:
            item.state = current
            item.workflows = known or None
            self._reschedule(item, changed, now)
        return changes

    def observe_follow(
        self, item: Watched, pipelines: Sequence[Pipeline], now: float, at: float
    ) -> list[StateChange]:
        """The first page of a followed project's pipelines: the first one sets what is old;
        after that, each pipeline numbered higher than any seen is reported (first sighting)
        and watched from then on, due at once so its workflows are found."""
        newest = max((p.number for p in pipelines), default=0)
        if item.state is None:
            item.state = str(newest)
            self._reschedule(item, False, now)
            return []
        seen = int(item.state)
        changes: list[StateChange] = []
        for pipeline in sorted(pipelines, key=lambda p: p.number):
            if pipeline.number <= seen:
                continue
            pipeline_id = str(pipeline.id)
            added = self.add("pipeline", pipeline_id, now)
            if added is None:
                continue
            added.state = pipeline.state.value
            changes.append(
                StateChange(
                    kind="pipeline",
                    id=pipeline_id,
                    previous=None,
                    current=added.state,
                    final=False,
                    item=pipeline,
                    pipeline_id=pipeline_id,
                    at=at,
                )
            )
        item.state = str(max(seen, newest))
        self._reschedule(item, bool(changes), now)
        return changes

    def observe_error(
        self, item: Watched, error: CircleCIError, now: float, at: float
    ) -> list[StateChange]:
        """A poll that failed after the client's retries: a client error (4xx other than 429)
        drops the item, anything else is reported and the item polled again later."""
        final = gives_up(error)
        if final:
            item.workflows = None
            self._finish(item)
        else:
            self._reschedule(item, False, now)
        if item.kind == "follow":
            return []
        state = item.state if item.state is not None else UNKNOWN
        kind: Kind = "workflow" if item.kind == "v3workflow" else item.kind
        return [
            StateChange(
                kind=kind,
                id=item.id,
                previous=item.state,
                current=state,
                final=final,
                item=None,
                pipeline_id=item.id if kind in ("pipeline", "run") else None,
                at=at,
                error=error,
            )
        ]


def gives_up(error: CircleCIError) -> bool:
    """Whether polling an item again is pointless: the server refused the request itself (a
    4xx other than 429), as opposed to failing or being unreachable for now."""
    if isinstance(error, RateLimitExceeded):
        return False
    status = error.status if isinstance(error, APIError) else None
    return status is not None and 400 <= status < 500


# -- the async driver ------------------------------------------------------------------------


class _End:
    """Queued when nothing is left to watch (iteration ends unless something was added)."""


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END: Final = _End()

#: Changes buffered for a slow consumer before the workers wait for it.
DEFAULT_BUFFER = 1024


class Watcher:
    """Polls pipelines and workflows and yields a :class:`StateChange` for each change.

    Made by ``cci.watch(...)``, ``cci.workflows.watch(...)``, ``cci.pipelines.watch(...)`` and
    ``cci.pipelines.follow(...)``. Use it as ``async with watcher: async for change in
    watcher`` (or iterate it bare and call :meth:`aclose`); iteration ends when every watched
    item is final (never while following a project). Items can be added at any time, also while
    iterating. Polling starts at ``async with`` or the first step of the iteration, and stops
    when the iteration ends, at :meth:`aclose`, or when the client closes.

    ``concurrency`` is how many polls are in flight at most (default: the client's
    ``max_concurrency``); ``buffer`` how many changes wait for the consumer before polling
    pauses. ``timeout`` (seconds from the start) makes the iteration raise
    :class:`~circleci_async.waiting.WaitTimeout`, whose ``last`` maps each unfinished id to its
    last state seen. A pipeline and one of its workflows can both be watched; the workflow is
    then reported by both.
    """

    def __init__(
        self,
        client: CircleCI,
        *,
        workflows: Iterable[uuid.UUID | str] = (),
        pipelines: Iterable[uuid.UUID | str] = (),
        schedule: PollSchedule = DEFAULT_POLL,
        timeout: float | None = None,
        concurrency: int | None = None,
        buffer: int = DEFAULT_BUFFER,
        follow: str | None = None,
        branch: str | None = None,
        api: str = "v2",
    ) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be >= 0, got {timeout}")
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if buffer < 1:
            raise ValueError(f"buffer must be >= 1, got {buffer}")
        self._client = client
        self._plan = PollScheduler(schedule)
        self._timeout = timeout
        self._concurrency = concurrency or client.max_concurrency
        self._buffer = buffer
        self._branch = branch
        if api not in ("v2", "v3"):
            raise ValueError(f"api must be 'v2' or 'v3', got {api!r}")
        if api == "v3" and follow is not None:
            raise ValueError("following a project is on API v2 only")
        #: Which API polls: on v3, pipelines are runs and states are ``phase[/outcome]``.
        self.api = api
        now = time.monotonic()
        if follow is not None:
            self._plan.add("follow", follow, now)
        for workflow_id in workflows:
            self._plan.add(self._kind("workflow"), str(workflow_id), now)
        for pipeline_id in pipelines:
            self._plan.add(self._kind("pipeline"), str(pipeline_id), now)
        self._out: asyncio.Queue[StateChange | _End | _Failed] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._idle: collections.deque[asyncio.Future[None]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = float("inf")
        self._busy = 0  # items taken by workers and not yet released
        self._deadline: float | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("running" if self._tasks else "not started")
        return f"<Watcher {len(self._plan)} watched, {state}>"

    # -- adding ------------------------------------------------------------------------------

    def add_workflow(self, workflow_id: uuid.UUID | str) -> None:
        """Watch one more workflow (nothing happens if it is already watched)."""
        self._add("workflow", str(workflow_id))

    def add_pipeline(self, pipeline_id: uuid.UUID | str) -> None:
        """Watch one more pipeline and its workflows (nothing if it is already watched)."""
        self._add("pipeline", str(pipeline_id))

    def _kind(self, kind: Literal["pipeline", "workflow"]) -> ItemKind:
        if self.api == "v3":
            return "run" if kind == "pipeline" else "v3workflow"
        return kind

    def _add(self, kind: Literal["pipeline", "workflow"], item_id: str) -> None:
        if self._closed:
            raise RuntimeError("this watcher is closed")
        if self._plan.add(self._kind(kind), item_id, time.monotonic()) is not None:
            self._poke()

    @property
    def watching(self) -> int:
        """How many items are still watched (not yet final)."""
        return len(self._plan)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Watcher:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _start(self) -> None:
        if self._out is not None or self._closed:
            return
        self._out = asyncio.Queue(self._buffer)
        if self._timeout is not None:
            self._deadline = time.monotonic() + self._timeout
        self._client.core.register(self)
        self._tasks = [asyncio.ensure_future(self._worker()) for _ in range(self._concurrency)]
        if not self._plan:
            self._out.put_nowait(_END)

    async def aclose(self) -> None:
        """Stop polling and wait for the workers to finish; iteration then ends."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tasks, self._tasks = self._tasks, []
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()
        for task in tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._client.core.unregister(self)

    # -- iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[StateChange]:
        return self

    async def __anext__(self) -> StateChange:
        self._start()
        out = self._out
        if self._closed or out is None:
            raise StopAsyncIteration
        while True:
            deadline = self._deadline
            if deadline is None or not out.empty():
                got = out.get_nowait() if not out.empty() else await out.get()
            else:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise asyncio.TimeoutError
                    got = await asyncio.wait_for(out.get(), remaining)
                except asyncio.TimeoutError:  # not yet the builtin one on Python 3.10
                    last = {item.id: item.state for item in self._plan.items()}
                    await self.aclose()
                    raise WaitTimeout(
                        f"{len(last)} watched item(s) not final within {self._timeout:g} s",
                        last=last,
                    ) from None
            if isinstance(got, StateChange):
                return got
            if isinstance(got, _Failed):
                await self.aclose()
                raise got.error
            if self._plan or self._busy:
                continue  # something was added after the end was announced
            await self.aclose()
            raise StopAsyncIteration

    # -- machinery ---------------------------------------------------------------------------

    def _poke(self) -> None:
        """Something was put in line: wake as many idle workers as items are due now, and set
        the shared timer for the earliest one that is not (busy workers need no telling: they
        look at the line when they finish)."""
        idle = self._idle
        if not idle or self._closed:
            return
        plan, now = self._plan, time.monotonic()
        for _ in range(plan.count_due(now, len(idle))):
            waiter = idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
        due = plan.next_due()
        if not idle or due is None or due <= now or due >= self._timer_due:
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + (due - now), self._on_timer)
        self._timer_due = due

    def _on_timer(self) -> None:
        self._timer, self._timer_due = None, float("inf")
        self._poke()

    async def _worker(self) -> None:
        """Poll the earliest due item, deliver its changes, put it back in line; repeat."""
        plan, out, idle = self._plan, self._out, self._idle
        assert out is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                item = plan.pop_due(time.monotonic())
                if item is None:
                    waiter = loop.create_future()
                    idle.append(waiter)
                    self._poke()  # sets the timer for the next due item
                    await waiter
                    continue
                self._busy += 1
                changes = await self._poll(item)
                # Changes first, then back in line: the next poll of this item cannot overtake
                # them, and a consumer that lags holds polling back.
                for change in changes:
                    await out.put(change)
                plan.release(item)
                self._busy -= 1
                if not plan and not self._busy:
                    await out.put(_END)
                elif idle:
                    self._poke()
        except Exception as exc:  # a bug, or a followed project that is gone: end iteration
            await out.put(_Failed(exc))

    async def _poll(self, item: Watched) -> list[StateChange]:
        plan, cci = self._plan, self._client
        try:
            if item.kind == "workflow":
                workflow = await cci.workflows.get(item.id)
                return plan.observe_workflow(item, workflow, time.monotonic(), time.time())
            if item.kind == "v3workflow":
                flow = await cci.v3.workflows.get(item.id)
                return plan.observe_v3_workflow(item, flow, time.monotonic(), time.time())
            if item.kind == "run":
                run = await cci.v3.runs.get(item.id)
                flows = await cci.v3.workflows.list(item.id).collect()
                return plan.observe_v3_run(item, run, flows, time.monotonic(), time.time())
            if item.kind == "pipeline":
                seen = await fetch_pipeline_with_workflows(cci.pipelines, item.id)
                return plan.observe_pipeline(
                    item, seen.pipeline, seen.workflows, time.monotonic(), time.time()
                )
            newest = await self._newest_pipelines(item.id)
            changes = plan.observe_follow(item, newest, time.monotonic(), time.time())
            if changes:
                self._poke()  # the new pipelines are due at once
            return changes
        except CircleCIError as exc:
            if item.kind == "follow" and gives_up(exc):
                raise
            logger.info("watch: polling %s %s failed: %s", item.kind, item.id, exc)
            return plan.observe_error(item, exc, time.monotonic(), time.time())

    async def _newest_pipelines(self, project: str) -> list[Pipeline]:
        """The first page of the project's pipelines (no read-ahead: only it is wanted)."""
        params: dict[str, Any] | None = {"branch": self._branch} if self._branch else None
        data = await self._client.request("GET", f"project/{project}/pipeline", params=params)
        items = data.get("items") if isinstance(data, dict) else None
        return structure(items or [], list[Pipeline], what="listPipelinesForProject")
