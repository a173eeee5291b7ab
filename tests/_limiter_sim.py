"""A test clock for the limiter: :class:`BucketState` against the fake's own rate-limit ledger
(``RateLimitLedger`` and ``render_headers``, the code the fake server answers with), run as
discrete events, with no sleeping and no I/O.

Tasks queue for slots as :class:`AdaptiveLimiter`'s waiters do: only the head of the queue asks
the bucket; it sleeps for the wait it is told, or until an answer arrives. A request reaches the
server half a round trip after it is sent (the server counts it then, on its own clock, which
may be ``offset`` seconds ahead of the client's) and its answer comes back half a round trip
later; a 429 is sent again.

The run also records the calls it made on the bucket, in order, for replaying them against
the Redis backend's Lua port (tests/test_redis_backend.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import Any

import attrs

from circleci_async import RateLimitConfig
from circleci_async.ratelimit.bucket import BucketState
from circleci_async.ratelimit.headers import parse_rate_limit_headers
from circleci_async.testing import RateLimitLedger, RateLimitPolicy, render_headers

__all__ = ["SimRun", "simulate"]

_MAX_EVENTS = 200_000  # a bound on every run


@attrs.define
class SimRun:
    #: (client time sent, server time counted, admitted) of every request, in sending order.
    sent: list[tuple[float, float, bool]]
    #: The bucket calls: ("acquire", now), ("observe", now, snapshot, status), ("release", now).
    events: list[tuple[Any, ...]]
    bucket: BucketState
    start: float

    @property
    def rate_limited(self) -> int:
        return sum(1 for *_, admitted in self.sent if not admitted)

    def admitted_per_server_window(self, seconds: float = 1.0) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, counted, admitted in self.sent:
            if admitted:
                window = int(counted // seconds)
                counts[window] = counts.get(window, 0) + 1
        return counts


def simulate(
    policy: RateLimitPolicy,
    *,
    requests: int,
    tasks: int = 16,
    rtt: float = 0.05,
    start: float = 1000.0,
    offset: float = 0.0,
    config: RateLimitConfig | None = None,
) -> SimRun:
    bucket = BucketState(config or RateLimitConfig())
    ledger = RateLimitLedger()
    order = itertools.count()
    heap: list[tuple[float, int, str, Any]] = []
    queue: deque[int] = deque(range(tasks))
    todo = requests
    events: list[tuple[Any, ...]] = []
    sent: list[tuple[float, float, bool]] = []
    generation = 0  # the head's pending poll; an earlier one is stale

    def push(t: float, kind: str, payload: Any) -> None:
        heapq.heappush(heap, (t, next(order), kind, payload))

    def poll(t: float) -> None:
        nonlocal generation, todo
        while queue and todo > 0:
            wait = bucket.try_acquire(t)
            events.append(("acquire", t))
            if wait > 0:
                generation += 1
                push(t + wait, "poll", generation)
                return
            task = queue.popleft()
            todo -= 1
            push(t + rtt / 2, "count", (task, t))

    push(start, "poll", generation)
    for _ in range(_MAX_EVENTS):
        if not heap:
            break
        t, _, kind, payload = heapq.heappop(heap)
        if kind == "poll":
            if payload == generation:
                poll(t)
        elif kind == "count":
            task, sent_at = payload
            counted = t + offset
            decision = ledger.hit(policy, "token", counted)
            sent.append((sent_at, counted, decision.admitted))
            push(t + rtt / 2, "answer", (task, decision))
        else:
            task, decision = payload
            status = 200 if decision.admitted else 429
            snapshot = parse_rate_limit_headers(render_headers(policy, decision), status=status)
            bucket.observe(snapshot, status=status, now=t, wall=t)
            events.append(("observe", t, snapshot, status))
            bucket.release()
            events.append(("release", t))
            if status == 429:
                todo += 1  # sent again
            queue.append(task)
            generation += 1
            poll(t)  # an answer wakes the head of the queue
    else:
        raise AssertionError("the simulation did not finish")
    return SimRun(sent, events, bucket, start)
