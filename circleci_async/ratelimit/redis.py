"""A limiter backend in Redis: one budget for every process and machine using one token.

Install the ``redis`` extra (redis-py's asyncio client; valkey's, or any client with
``evalsha``/``script_load``, works through ``RedisBackend(client)``). Wire it with
``CircleCI(..., limiter_backend=RedisBackend.from_url("redis://host:6379/0"))``.

Every decision is one Lua script (``_redis_lua``), atomic, on Redis' clock, porting
:class:`~circleci_async.ratelimit.bucket.BucketState` line for line. What differs, and why:

* Requests in flight are leases (a sorted set of lease id -> expiry), so a crashed worker's
  requests stop counting after ``lease_ttl``; live ones are renewed in the background.
* Windows are merged across processes: the newest period wins, and within one period a late
  answer never raises ``remaining``. (``BucketState`` takes every answer as the newest.)
* Retry-After and stored times are clamped to ``max_wait`` (a Redis failover's clock jump).
* Headers are always read (``may_skip`` is ``False``): the quiet counter is not shared.
* An answer's ``observe`` drops its request's lease in the same script (one round trip, and
  Redis never counts as in flight a request whose answer it has learned); ``release`` goes
  to Redis only for requests whose answers taught nothing (no headers) or failed.
* The pacing knobs are the backend's ``config`` (the same in every process of one budget),
  not each client's ``rate_limit``.

Redis down or slow: every call has a timeout; on failure, by ``on_failure``, the backend
falls back to a local :class:`BucketState` holding its share of the last known budget (divided
by the workers last seen), raises :class:`SharedLimitUnavailable`, or makes callers wait; it
logs one warning when Redis goes away and one when it answers again, and retries it every
``retry_interval``. A call begun before the latest transition moves nothing (no flapping on
calls in flight). If Redis never answered, the fallback knows no share and paces at the
configured rate; while workers return to Redis one by one (within ``retry_interval``), those
still on their share are not counted in Redis, so a few 429s are possible in that overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import attrs

from ..config import RateLimitConfig
from ..errors import CircleCIError
from . import _redis_lua
from .backends import SharedBackend
from .bucket import BucketState, RateLimitView
from .headers import Observation, RateLimitSnapshot

__all__ = ["RedisBackend", "RedisScripts", "SharedLimitUnavailable"]

_log = logging.getLogger(__name__)

OnFailure = Literal["fallback", "raise", "wait"]
_WAIT_RETRY = 0.5  # seconds a caller waits, with on_failure="wait", before asking again


class SharedLimitUnavailable(CircleCIError):
    """The shared limiter's Redis did not answer (with ``on_failure="raise"``)."""


class RedisClient(Protocol):
    """What the backend needs of a client: redis-py's and valkey's asyncio clients have it."""

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: str) -> Awaitable[Any]: ...

    def script_load(self, script: str) -> Awaitable[Any]: ...


def budget_tag(key: str) -> str:
    """The hash tag every key of one budget shares (Redis Cluster puts them on one node)."""
    return "{cci:" + key + "}"


def _config_json(config: RateLimitConfig) -> str:
    fields = {
        "initial_rate": config.initial_rate,
        "burst": config.burst,
        "max_wait": config.max_wait,
        "reserve": config.reserve,
        "min_rate": config.min_rate,
        "recovery": config.recovery,
    }
    return json.dumps({k: v for k, v in fields.items() if v is not None})


def _snapshot_json(snapshot: RateLimitSnapshot, status: int) -> str:
    obs = []
    for o in snapshot.observations:
        fields = {
            "source": o.source,
            "policy": o.policy,
            "window": o.window,
            "limit": o.limit,
            "remaining": o.remaining,
            "reset_after": o.reset_after,
        }
        obs.append({k: v for k, v in fields.items() if v is not None})
    body: dict[str, Any] = {"status": status, "obs": obs}
    if snapshot.retry_after is not None:
        body["retry_after"] = snapshot.retry_after
    # cjson decodes [] as an object; it has no length either way, which is what we want.
    return json.dumps(body)


@attrs.frozen
class Reply:
    """What a script answered: the wait (acquire only) and the budget as Redis sees it."""

    wait: float
    view: RateLimitView
    workers: int


def _reply(raw: Any, wait: float = 0.0) -> Reply:
    if isinstance(raw, list | tuple):
        wait = float(_text(raw[0]))
        raw = raw[1]
    v = json.loads(_text(raw))
    view = RateLimitView(
        source=v.get("source"),
        policy=v.get("policy"),
        window=v.get("window"),
        limit=v.get("limit"),
        remaining=v.get("remaining"),
        reset_after=v.get("reset_after"),
        rate=v.get("rate"),
        blocked_for=float(v.get("blocked_for", 0.0)),
        in_flight=int(v.get("in_flight", 0)),
    )
    return Reply(wait, view, max(int(v.get("workers", 1)), 1))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisScripts:
    """The thin I/O layer: run the scripts by SHA, loading them once and again on NOSCRIPT.

    ``now=None`` uses Redis' clock; the tests pass times to compare with ``BucketState``.
    """

    def __init__(
        self,
        client: RedisClient,
        config: RateLimitConfig,
        *,
        worker: str,
        lease_ttl: float,
        idle_ttl: float,
        worker_ttl: float,
    ) -> None:
        self.client = client
        self.worker = worker
        self.lease_ttl = lease_ttl
        self._config = _config_json(config)
        self._common = (str(int(idle_ttl * 1000)), worker, repr(worker_ttl))
        self._shas: dict[str, str] = {}

    @staticmethod
    def keys(key: str) -> tuple[str, str, str, str]:
        tag = budget_tag(key)
        return (f"{tag}:state", f"{tag}:windows", f"{tag}:leases", f"{tag}:workers")

    async def _run(self, script: str, key: str, now: float | None, *args: str) -> Any:
        argv = ("" if now is None else repr(now), self._config, *self._common, *args)
        for _ in range(2):
            sha = self._shas.get(script)
            if sha is None:
                sha = self._shas[script] = _text(await self.client.script_load(script))
            try:
                return await self.client.evalsha(sha, 4, *self.keys(key), *argv)
            except Exception as exc:
                if type(exc).__name__ != "NoScriptError" and "NOSCRIPT" not in str(exc):
                    raise
                self._shas.pop(script, None)  # flushed (SCRIPT FLUSH, a restart, a failover)
        raise SharedLimitUnavailable("Redis refused to keep the limiter's scripts")

    async def acquire(self, key: str, lease: str, now: float | None = None) -> Reply:
        raw = await self._run(_redis_lua.ACQUIRE, key, now, lease, repr(self.lease_ttl))
        return _reply(raw)

    async def observe(
        self,
        key: str,
        snapshot: RateLimitSnapshot,
        status: int,
        now: float | None = None,
        lease: str = "",
    ) -> Reply:
        """Learn from an answer; with ``lease``, drop that lease in the same script."""
        raw = await self._run(_redis_lua.OBSERVE, key, now, _snapshot_json(snapshot, status), lease)
        return _reply(raw)

    async def release(self, key: str, lease: str, now: float | None = None) -> Reply:
        return _reply(await self._run(_redis_lua.RELEASE, key, now, lease))

    async def renew(self, key: str, leases: list[str], now: float | None = None) -> Reply:
        raw = await self._run(_redis_lua.RENEW, key, now, repr(self.lease_ttl), *leases)
        return _reply(raw)


_EMPTY_VIEW = RateLimitView(None, None, None, None, None, None, None, 0.0, 0)

# The lease of the request this task is making: taken by its acquire, dropped by its own
# answer's observe or release (background calls run in a copy of the task's context). Leases
# of one process are not interchangeable: the phase checks count on Redis holding exactly the
# requests still in flight, and a bare answer (an artifact host's) must not drop the lease of
# an API request still waiting for its count.
_HELD: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "circleci_async_redis_lease", default=None
)


class _Budget:
    """What this process knows of one budget: its leases, the last view, the fallback."""

    def __init__(self) -> None:
        self.leases: deque[str | None] = deque()  # None: taken from the local fallback
        self.view = _EMPTY_VIEW
        self.view_at = 0.0
        self.workers = 1
        self.fallback: BucketState | None = None
        #: Leases already dropped by the observe of their answer: the release that follows
        #: each has nothing left to do.
        self.dropped: set[str] = set()


def _shared(snapshot: RateLimitSnapshot, workers: int) -> RateLimitSnapshot:
    """This worker's share of what a response said about the whole budget."""
    if workers <= 1:
        return snapshot
    obs = tuple(
        attrs.evolve(
            o,
            limit=None if o.limit is None else o.limit // workers,
            remaining=None if o.remaining is None else o.remaining // workers,
        )
        for o in snapshot.observations
    )
    return attrs.evolve(snapshot, observations=obs)


class RedisBackend(SharedBackend):
    """The limiter's state in Redis (see the module docstring)."""

    def __init__(
        self,
        client: RedisClient,
        *,
        config: RateLimitConfig | None = None,
        on_failure: OnFailure = "fallback",
        timeout: float = 0.25,
        lease_ttl: float = 30.0,
        idle_ttl: float = 3600.0,
        worker_ttl: float = 15.0,
        retry_interval: float = 1.0,
        owns_client: bool = False,
    ) -> None:
        if on_failure not in ("fallback", "raise", "wait"):
            raise ValueError(f"on_failure must be fallback, raise or wait, not {on_failure!r}")
        self.config = config or RateLimitConfig()
        self.on_failure = on_failure
        self.timeout = timeout
        self.retry_interval = retry_interval
        self.scripts = RedisScripts(
            client,
            self.config,
            worker=uuid.uuid4().hex,
            lease_ttl=lease_ttl,
            idle_ttl=idle_ttl,
            worker_ttl=worker_ttl,
        )
        self._owns_client = owns_client
        self._budgets: dict[str, _Budget] = {}
        self._down = False
        self._down_since = 0.0
        #: Told of every transition (``LimiterBackendDown`` / ``Up`` events): the clients'
        #: observers, added by ``CircleCI(observers=..., limiter_backend=...)``.
        self._listeners: list[Callable[[Any], None]] = []
        # Counts transitions (down, up): an answer or a failure of a call that started before
        # the latest one is stale, and moves nothing (no flapping on calls in flight).
        self._epoch = 0
        self._retry_at = 0.0
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBackend:
        """A backend on a client it creates (and closes): ``redis://``, ``rediss://``,
        ``unix://`` URLs, as redis-py reads them. TLS options go in the query string
        (``rediss://:PASSWORD@host:6380/0?ssl_ca_certs=/etc/ca.pem``, and ``ssl_certfile``,
        ``ssl_keyfile``, ``ssl_cert_reqs``); anything a URL cannot say (a CA in memory, an
        ``SSLContext``), on a client of your own: ``RedisBackend(client)``. ``timeout`` bounds
        the connect and TLS handshake too."""
        import redis.asyncio

        timeout = kwargs.get("timeout", 0.25)
        client = redis.asyncio.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, owns_client=True, **kwargs)

    def __repr__(self) -> str:  # never the URL: it may hold a password
        state = "down" if self._down else "up"
        return f"RedisBackend(on_failure={self.on_failure!r}, {state})"

    def add_observer(self, observer: Callable[[Any], None]) -> None:
        """Tell ``observer`` (a callable taking one event) when Redis goes away and comes
        back: :class:`~circleci_async.events.LimiterBackendDown` / ``LimiterBackendUp``."""
        if observer not in self._listeners:
            self._listeners.append(observer)

    def _tell(self, event: Any) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # an observer's bug never breaks pacing
                _log.exception("a limiter backend observer failed on %s", type(event).__name__)

    @property
    def down(self) -> bool:
        """Whether Redis failed last time it was asked (the fallback is in use)."""
        return self._down

    async def __aenter__(self) -> RedisBackend:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Stop renewing leases; close the client if this backend created it."""
        self._closed = True
        task, self._heartbeat = self._heartbeat, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_client:
            close = getattr(self.scripts.client, "aclose", None)
            if close is not None:
                await close()

    # -- the protocol -------------------------------------------------------------------------

    def _budget(self, key: str) -> _Budget:
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = _Budget()
        return budget

    async def try_acquire(self, key: str, now: float) -> float:
        budget = self._budget(key)
        if self._heartbeat is None:
            self._heartbeat = asyncio.ensure_future(self._renew_forever())
        if not self._down or now >= self._retry_at:
            lease, epoch = uuid.uuid4().hex, self._epoch
            try:
                reply = await self._ask(self.scripts.acquire(key, lease))
            except Exception as exc:
                await self._failed(exc, now, epoch)
            else:
                self._learned(budget, reply, now, epoch)
                if reply.wait <= 0:
                    budget.leases.append(lease)
                    _HELD.set(lease)
                return reply.wait
        if self.on_failure == "raise":
            raise SharedLimitUnavailable("the shared rate limit's Redis is not answering")
        if self.on_failure == "wait":
            return _WAIT_RETRY
        local = self._fallback(budget, now)
        wait = local.try_acquire(now)
        if wait <= 0:
            budget.leases.append(None)
            _HELD.set(None)
        return wait

    async def release(self, key: str) -> None:
        budget = self._budget(key)
        held = _HELD.get()
        if held is not None and held in budget.dropped:
            budget.dropped.discard(held)  # its answer's observe dropped it
            return
        if held is not None and held in budget.leases:
            budget.leases.remove(held)
            lease: str | None = held
        elif budget.leases:  # (taken from the fallback, or in another context: any of ours)
            lease = budget.leases.popleft()
        else:
            return
        if lease is None:
            if budget.fallback is not None:
                budget.fallback.release()
            return
        if self._down:
            return  # it expires
        now, epoch = time.monotonic(), self._epoch
        try:
            reply = await self._ask(self.scripts.release(key, lease))
        except Exception as exc:
            await self._failed(exc, now, epoch)
        else:
            self._learned(budget, reply, now, epoch)

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None:
        budget = self._budget(key)
        if not self._down:
            epoch = self._epoch
            # The answered request's own lease goes in the same script: Redis never counts it
            # in flight after learning its answer, and a release racing the observe cannot
            # land first. Its release is then a no-op.
            lease = ""
            held = _HELD.get()
            if held is not None and held in budget.leases:
                budget.leases.remove(held)
                budget.dropped.add(held)
                lease = held
            try:
                reply = await self._ask(self.scripts.observe(key, snapshot, status, lease=lease))
            except Exception as exc:
                await self._failed(exc, now, epoch)
            else:
                self._learned(budget, reply, now, epoch)
                return
        if budget.fallback is not None:
            budget.fallback.observe(
                _shared(snapshot, budget.workers), status=status, now=now, wall=wall
            )

    def view(self, key: str, now: float) -> RateLimitView:
        budget = self._budget(key)
        if self._down and budget.fallback is not None:
            return budget.fallback.view(now)
        return budget.view

    # -- Redis' health ------------------------------------------------------------------------

    async def _ask(self, call: Awaitable[Reply]) -> Reply:
        return await asyncio.wait_for(call, self.timeout)

    async def _failed(self, exc: BaseException, now: float, epoch: int) -> None:
        if self._closed or epoch != self._epoch:
            return  # closing, or a call from before Redis came back: its lease expires
        self._retry_at = now + self.retry_interval
        if not self._down:
            self._down, self._epoch = True, epoch + 1
            self._down_since = time.monotonic()
            if self._listeners:
                from ..events import LimiterBackendDown

                self._tell(LimiterBackendDown("redis", type(exc).__name__))
            _log.warning(
                "shared rate limit: Redis is not answering (%s); %s",
                self._reason(exc),
                {
                    "fallback": "pacing locally on this worker's share until it is back",
                    "raise": "requests fail until it is back",
                    "wait": "requests wait until it is back",
                }[self.on_failure],
            )
            # Drop every pooled connection: after a restart, none of them works any more, and
            # each would fail once (a second warning) before reconnecting.
            pool = getattr(self.scripts.client, "connection_pool", None)
            disconnect = getattr(pool, "disconnect", None)
            if disconnect is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(disconnect(), self.timeout)

    def _reason(self, exc: BaseException) -> str:
        """The failure's type and the start of its message (a TLS failure says why), with
        the client's username and password blanked out wherever they appear."""
        text = str(exc).replace("\n", " ")[:160]
        pool = getattr(self.scripts.client, "connection_pool", None)
        known = getattr(pool, "connection_kwargs", None)
        if isinstance(known, dict):
            for name in ("password", "username"):
                secret = known.get(name)
                if isinstance(secret, str) and secret:
                    text = text.replace(secret, "***")
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _learned(self, budget: _Budget, reply: Reply, now: float, epoch: int) -> None:
        budget.view, budget.view_at, budget.workers = reply.view, now, reply.workers
        if self._down and epoch == self._epoch:
            self._down, self._epoch = False, epoch + 1
            _log.warning("shared rate limit: Redis answers again; back to the shared budget")
            if self._listeners:
                from ..events import LimiterBackendUp

                self._tell(LimiterBackendUp("redis", time.monotonic() - self._down_since))
            for other in self._budgets.values():
                other.fallback = None
                # Requests taken locally hold no lease; forget them rather than release them.
                other.leases = deque(lease for lease in other.leases if lease is not None)

    def _fallback(self, budget: _Budget, now: float) -> BucketState:
        """A local bucket holding this worker's share of the last known budget."""
        if budget.fallback is not None:
            return budget.fallback
        view, workers = budget.view, budget.workers
        initial = self.config.initial_rate
        if view.rate is not None:
            initial = view.rate / workers
        elif initial is not None:
            initial = initial / workers
        config = attrs.evolve(
            self.config,
            initial_rate=None if initial is None else max(initial, self.config.min_rate),
            burst=max(1, self.config.burst // workers),
        )
        state = budget.fallback = BucketState(config)
        if view.source is not None and view.limit is not None:
            elapsed = now - budget.view_at
            reset_after = None if view.reset_after is None else view.reset_after - elapsed
            obs = Observation(
                source=view.source,
                policy=view.policy,
                window=view.window,
                limit=view.limit,
                remaining=view.remaining,
                reset_after=None if reset_after is None else max(reset_after, 0.0),
            )
            state.observe(
                _shared(RateLimitSnapshot((obs,)), workers),
                status=200,
                now=now,
                wall=time.time(),
            )
        return state

    async def _renew_forever(self) -> None:
        """Keep this worker's leases (long downloads) and its registry entry alive."""
        interval = self.scripts.lease_ttl / 3
        # ``closed`` is checked after every pause, not only left to the cancellation from
        # aclose: asyncio.wait_for (3.11) may swallow a cancellation that lands as its call
        # completes, and aclose would then wait for this loop forever.
        while True:
            await asyncio.sleep(interval)
            if self.closed:
                return
            if self._down:
                continue
            for key, budget in list(self._budgets.items()):
                leases = [lease for lease in budget.leases if lease is not None]
                with contextlib.suppress(Exception):
                    reply = await self._ask(self.scripts.renew(key, leases))
                    budget.workers = reply.workers
