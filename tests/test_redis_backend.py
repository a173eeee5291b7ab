"""The Redis limiter backend against a real redis-server (tests/_redis_server.py): the Lua
arithmetic against BucketState, one budget across clients and processes, leases, NOSCRIPT,
the keys, and Redis killed mid-run."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import signal
import sys
import textwrap
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from circleci_async import CircleCI, RateLimitConfig
from circleci_async.events import LimiterBackendDown, LimiterBackendUp
from circleci_async.ratelimit.bucket import BucketState
from circleci_async.ratelimit.headers import Observation, RateLimitSnapshot
from circleci_async.testing import FakeCircleCI, RateLimitPolicy, Window

from ._limiter_sim import simulate
from ._redis_server import (
    REDIS_PASSWORD,
    RedisServer,
    redis_mtls_server,
    redis_server,
    redis_tls_server,
)
from ._waiting import wait_until
from .conftest import TOKEN

redis_asyncio = pytest.importorskip("redis.asyncio")
from circleci_async.ratelimit._redis_lua import ACQUIRE, RELEASE  # noqa: E402
from circleci_async.ratelimit.redis import RedisBackend, RedisScripts  # noqa: E402

# the fixtures, imported for pytest
__all__ = ["redis_mtls_server", "redis_server", "redis_tls_server"]

_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Any]:
    c = redis_asyncio.from_url(redis_server.url)
    try:
        yield c
    finally:
        await c.aclose()


def _backend(url: str, **kwargs: Any) -> RedisBackend:
    return RedisBackend.from_url(url, timeout=2.0, **kwargs)


# -- the Lua arithmetic is BucketState's ------------------------------------------------------


def _window(limit: int, remaining: int, reset_after: float | None, window: float = 1.0) -> Any:
    source = "ietf-fields" if reset_after is not None else "x-ratelimit-window"
    return Observation(source, None, window, limit, remaining, reset_after)


def _events() -> list[tuple[Any, ...]]:
    """A run: the probe, a pace from headers, a window running out, a 429 with Retry-After,
    a header-less 429 (AIMD), Kong windows with no reset."""
    t = 1000.0
    ev: list[tuple[Any, ...]] = [("acquire", t), ("acquire", t + 0.01)]
    ev.append(("observe", t + 0.1, RateLimitSnapshot((_window(10, 9, 0.9),)), 200))
    ev.append(("release", t + 0.1))
    used: Counter[int] = Counter()
    for i in range(40):
        now = t + 0.1 + i * 0.037
        ev.append(("acquire", now))
        if i % 3 == 0:  # a server counting fixed one-second windows from t
            period = math.floor(now + 0.01 - t)
            used[period] += 2
            reset_after = period + 1 - (now + 0.01 - t)
            snap = RateLimitSnapshot((_window(10, max(10 - used[period], 0), reset_after),))
            ev.append(("observe", now + 0.01, snap, 200))
            ev.append(("release", now + 0.01))
    ev.append(("observe", t + 2, RateLimitSnapshot((), retry_after=1.5), 429))
    ev += [("acquire", t + 2 + k * 0.3) for k in range(8)]
    ev.append(("observe", t + 5, RateLimitSnapshot(), 429))  # no header: halve, climb back
    ev += [("acquire", t + 5 + k * 0.11) for k in range(20)]
    kong = RateLimitSnapshot((_window(30, 20, None, 60.0), _window(5, 3, None, 1.0)))
    ev.append(("observe", t + 8.2, kong, 200))
    ev += [("acquire", t + 8.2 + k * 0.05) for k in range(30)]
    ev.append(("release", t + 10))
    return ev


def _fast_events() -> list[tuple[Any, ...]]:
    """A fast window (bursts sized from the pace, a new pace on every answer), then an unpaced
    client's header-less 429."""
    t = 50.0
    ev: list[tuple[Any, ...]] = [("acquire", t)]
    ev.append(("observe", t + 0.01, RateLimitSnapshot((_window(3000, 2990, 0.99),)), 200))
    ev.append(("release", t + 0.01))
    remaining = 2990
    for i in range(400):
        now = t + 0.02 + i * 0.00001
        ev.append(("acquire", now))
        if i % 200 == 199:
            remaining -= 200
            snap = RateLimitSnapshot((_window(3000, remaining, 0.99 - (now - t)),))
            ev.append(("observe", now, snap, 200))
            ev.append(("release", now))
    ev.append(("observe", t + 3, RateLimitSnapshot(), 429))
    ev += [("acquire", t + 3 + k * 0.07) for k in range(30)]
    return ev


def _aimd_events() -> list[tuple[Any, ...]]:
    """No header ever: the configured pace, then halved by a 429 and climbing back."""
    t = 7.0
    ev: list[tuple[Any, ...]] = [("acquire", t), ("observe", t, RateLimitSnapshot(), 200)]
    ev.append(("release", t))
    ev += [("acquire", t + 0.01 + k * 0.05) for k in range(20)]
    ev.append(("observe", t + 1.5, RateLimitSnapshot(), 429))
    ev += [("acquire", t + 1.5 + k * 0.1) for k in range(40)]
    return ev


def _phase_events(offset: float, start: float) -> list[tuple[Any, ...]]:
    """Kong windows out of phase with the clock (tests/_limiter_sim.py): jumps, late answers
    across a boundary, a boundary tested by one request, windows not reset when guessed."""
    policy = RateLimitPolicy(windows=(Window(10, 1), Window(300, 60)))
    return simulate(policy, requests=40, tasks=8, start=start, offset=offset).events


@pytest.mark.parametrize(
    ("config", "events"),
    [
        (RateLimitConfig(), _events()),
        (RateLimitConfig(initial_rate=None, burst=3), _fast_events()),
        (RateLimitConfig(burst=2, recovery=3.0), _aimd_events()),
        (RateLimitConfig(), _phase_events(0.37, 1000.7)),
        (RateLimitConfig(), _phase_events(0.9, 1000.3)),
        (RateLimitConfig(reserve=0), _phase_events(0.63, 1000.0)),
    ],
    ids=["paced", "fast-and-unpaced", "aimd", "phase-37", "phase-90", "phase-63"],
)
async def test_the_lua_scripts_decide_as_bucket_state_does(
    client: Any, config: RateLimitConfig, events: list[tuple[Any, ...]]
) -> None:
    scripts = RedisScripts(client, config, worker="w", lease_ttl=1e6, idle_ttl=60, worker_ttl=1e6)
    bucket = BucketState(config)
    leases: list[str] = []
    decisions = 0
    for n, event in enumerate(events):
        kind, now = event[0], event[1]
        if kind == "acquire":
            expected = bucket.try_acquire(now)
            reply = await scripts.acquire("eq", f"lease{n}", now=now)
            assert math.isclose(reply.wait, expected, rel_tol=1e-6, abs_tol=1e-6), (n, event)
            if reply.wait <= 0:
                leases.append(f"lease{n}")
            decisions += expected > 0
        elif kind == "observe":
            bucket.observe(event[2], status=event[3], now=now, wall=now)
            reply = await scripts.observe("eq", event[2], event[3], now=now)
        elif leases:
            bucket.release()
            reply = await scripts.release("eq", leases.pop(0), now=now)
        else:
            continue  # nothing in flight to release
        want = bucket.view(now)
        got = reply.view
        assert (got.source, got.limit, got.remaining, got.window) == (
            want.source,
            want.limit,
            want.remaining,
            want.window,
        ), (n, event)
        assert got.in_flight == want.in_flight, (n, event)
        if want.rate is None:
            assert got.rate is None
        else:
            assert got.rate is not None and math.isclose(got.rate, want.rate, rel_tol=1e-6)
        assert math.isclose(got.blocked_for, want.blocked_for, abs_tol=1e-6), (n, event)
    assert decisions > 5  # the run was paced, not waved through


# -- one budget across clients and processes --------------------------------------------------


async def _share_one_budget(backends: list[RedisBackend]) -> None:
    """One client per backend, all on one token against a fake allowing 8 requests a second,
    8 requests each: no 429, never more than 8 in one second, and Redis counts every backend
    as a worker of the one budget."""
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.rate_limit = RateLimitPolicy(windows=(Window(limit=8, seconds=1),))
        clients = [CircleCI(TOKEN, base_url=fake.url, limiter_backend=b) for b in backends]
        try:
            for c in clients:
                await c.__aenter__()

            async def run(c: CircleCI) -> int:
                done = 0
                for _ in range(8):
                    await c.request("GET", "me")
                    done += 1
                return done

            done = await asyncio.gather(*(run(c) for c in clients))
        finally:
            for c in clients:
                await c.close()
    assert done == [8] * len(backends)
    assert fake.rate_limited_count == 0
    per_second = Counter(math.floor(r.time) for r in fake.requests)
    assert max(per_second.values()) <= 8
    assert not any(b.down for b in backends)
    redis: Any = backends[0].scripts.client
    workers = await redis.keys("*:workers")
    assert len(workers) == 1 and await redis.zcard(workers[0]) == len(backends)


async def test_clients_on_one_token_share_one_budget(redis_server: RedisServer) -> None:
    backends = [_backend(redis_server.url) for _ in range(3)]
    try:
        await _share_one_budget(backends)
    finally:
        for b in backends:
            await b.aclose()


_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from circleci_async import CircleCI
    from circleci_async.ratelimit.redis import RedisBackend

    async def main(url, redis_url, token, n):
        backend = RedisBackend.from_url(redis_url, timeout=1.0)
        async with CircleCI(token, base_url=url, limiter_backend=backend) as cci:
            await asyncio.gather(*(cci.request("GET", "me") for _ in range(n)))
        await backend.aclose()
        print("done", n)

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)


async def test_processes_on_one_token_share_one_budget(redis_server: RedisServer) -> None:
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.rate_limit = RateLimitPolicy(windows=(Window(limit=8, seconds=1),))
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _WORKER,
                fake.url,
                redis_server.url,
                TOKEN,
                "10",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(3)
        ]
        try:
            outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
        finally:
            for p in procs:
                if p.returncode is None:
                    p.kill()
                    await p.wait()
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err.decode()
        assert out.decode().strip() == "done 10"
    assert fake.rate_limited_count == 0
    assert len(fake.requests) == 30
    per_second = Counter(math.floor(r.time) for r in fake.requests)
    assert max(per_second.values()) <= 8


# -- leases, scripts, keys --------------------------------------------------------------------


async def test_a_lease_never_released_expires(redis_server: RedisServer, client: Any) -> None:
    crashed = RedisBackend(client, lease_ttl=0.3, timeout=2.0)
    other = RedisBackend(client, lease_ttl=0.3, timeout=2.0)
    try:
        # The probe, never released nor renewed (the scripts alone: no heartbeat runs).
        assert (await crashed.scripts.acquire("k", "lost")).wait == 0.0
        assert await other.try_acquire("k", 0.0) > 0  # one probe at a time
        # After the lease TTL, the crashed worker's request stops counting.
        await wait_until(lambda: _not_waiting(other, "k"), timeout=10.0)

        async def flying() -> Any:
            return (await other.scripts.release("k", "none")).view.in_flight

        assert await flying() == 1  # other's own probe, not the crashed one's
    finally:
        await crashed.aclose()
        await other.aclose()


async def _not_waiting(backend: RedisBackend, key: str) -> bool:
    return await backend.try_acquire(key, 0.0) == 0.0


async def test_scripts_are_reloaded_after_script_flush(
    redis_server: RedisServer, client: Any
) -> None:
    async with FakeCircleCI(token=TOKEN) as fake:
        backend = RedisBackend(client, timeout=2.0)
        async with CircleCI(TOKEN, base_url=fake.url, limiter_backend=backend) as cci:
            for _ in range(3):
                await cci.request("GET", "me")
            await client.script_flush()
            for _ in range(3):
                await cci.request("GET", "me")
            assert not backend.down
            # Many calls meeting NOSCRIPT at once each reload, none fails.
            await client.script_flush()
            replies = await asyncio.gather(
                *(backend.scripts.acquire("other", f"lease{i}") for i in range(5))
            )
            assert [r.wait == 0.0 for r in replies].count(True) == 1  # one probe
        await backend.aclose()
    # Used after the flush, so loaded again (SHA1 of the script text, as Redis names them).
    used = [hashlib.sha1(s.encode()).hexdigest() for s in (ACQUIRE, RELEASE)]  # noqa: S324
    assert await client.script_exists(*used) == [True, True]


async def test_keys_hold_no_token_share_one_hash_tag_and_expire(
    redis_server: RedisServer, client: Any
) -> None:
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.rate_limit = RateLimitPolicy(windows=(Window(limit=50, seconds=1),))
        backend = RedisBackend(client, idle_ttl=120, timeout=2.0)
        async with CircleCI(TOKEN, base_url=fake.url, limiter_backend=backend) as cci:
            await asyncio.gather(*(cci.request("GET", "me") for _ in range(5)))
        await backend.aclose()
    keys = [k.decode() for k in await client.keys("*")]
    assert len(keys) >= 3
    # a closed client waited for its releases: it leaves no lease holding the budget
    assert not [k for k in keys if k.endswith(":leases")]
    tags = {k[: k.index("}") + 1] for k in keys}
    assert len(tags) == 1 and next(iter(tags)).startswith("{cci:")
    for k in keys:
        assert TOKEN not in k and TOKEN[-12:] not in k
        assert 0 < await client.ttl(k) <= 120
        if k.endswith(":state"):
            for value in (await client.hgetall(k)).values():
                assert TOKEN.encode() not in value


# -- Redis killed mid-run ---------------------------------------------------------------------


async def test_redis_killed_mid_run_falls_back_and_comes_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="circleci_async.ratelimit.redis")
    backend = _backend(redis_server.url, retry_interval=0.2)
    transitions: list[object] = []

    def seen(event: object) -> None:
        if isinstance(event, (LimiterBackendDown, LimiterBackendUp)):
            transitions.append(event)

    async with FakeCircleCI(token=TOKEN) as fake:
        fake.rate_limit = RateLimitPolicy(windows=(Window(limit=20, seconds=1),))
        async with CircleCI(
            TOKEN, base_url=fake.url, limiter_backend=backend, observers=[seen]
        ) as cci:
            failures = 0

            async def some(n: int) -> None:
                nonlocal failures
                results = await asyncio.gather(
                    *(cci.request("GET", "me") for _ in range(n)), return_exceptions=True
                )
                failures += sum(isinstance(r, BaseException) for r in results)

            await some(5)
            assert not backend.down
            redis_server.kill()
            for _ in range(50):
                await some(2)
                if backend.down:
                    break
            assert backend.down
            await some(5)  # through the fallback
            redis_server.start()  # the same port
            for _ in range(200):
                await some(1)
                if not backend.down:
                    break
            assert not backend.down
            await some(3)
        await backend.aclose()
    assert failures == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("not answering" in m for m in messages) == 1, messages
    assert sum("answers again" in m for m in messages) == 1, messages
    assert fake.rate_limited_count == 0
    # The client's observers heard both transitions, once each, in order.
    assert [type(e) for e in transitions] == [LimiterBackendDown, LimiterBackendUp]
    down, up = transitions
    assert isinstance(down, LimiterBackendDown) and down.backend == "redis" and down.error
    assert isinstance(up, LimiterBackendUp) and up.down_for > 0


async def test_a_late_answer_never_raises_the_budget(client: Any) -> None:
    scripts = RedisScripts(
        client, RateLimitConfig(), worker="w", lease_ttl=60, idle_ttl=60, worker_ttl=60
    )

    async def seen(remaining: int, reset_after: float, now: float) -> int | None:
        snap = RateLimitSnapshot((_window(10, remaining, reset_after),))
        return (await scripts.observe("late", snap, 200, now=now)).view.remaining

    assert await seen(5, 0.8, now=100.2) == 5
    assert await seen(8, 0.7, now=100.3) == 5  # sent earlier, answered later: ignored
    assert await seen(3, 0.6, now=100.4) == 3  # the newest count of this window
    assert await seen(9, 0.9, now=101.1) == 9  # the next window


@pytest.mark.parametrize("mode", ["raise", "wait"])
async def test_redis_away_raises_or_waits_when_asked(redis_server: RedisServer, mode: str) -> None:
    from circleci_async.errors import CircleCIError
    from circleci_async.ratelimit.redis import SharedLimitUnavailable

    backend = _backend(redis_server.url, on_failure=mode)
    try:
        assert await backend.try_acquire("k", 0.0) == 0.0
        redis_server.kill()
        if mode == "raise":
            with pytest.raises(SharedLimitUnavailable) as caught:
                await backend.try_acquire("k", 1.0)
            assert isinstance(caught.value, CircleCIError)
        else:
            assert await backend.try_acquire("k", 1.0) > 0
        assert backend.down
    finally:
        await backend.aclose()


async def test_absurd_stored_times_are_clamped_to_max_wait(client: Any) -> None:
    """A clock that jumped back (a failover) or a corrupt value holds no one past max_wait."""
    scripts = RedisScripts(
        client, RateLimitConfig(max_wait=5.0), worker="w", lease_ttl=60, idle_ttl=60, worker_ttl=60
    )
    assert (await scripts.acquire("clamp", "a", now=10.0)).wait == 0.0
    await client.hset(RedisScripts.keys("clamp")[0], mapping={"gate": "1e12", "tat": "1e12"})
    wait = (await scripts.acquire("clamp", "b", now=20.0)).wait
    assert 0 < wait <= 5.0


async def test_a_unix_socket_url_works(redis_server: RedisServer) -> None:
    async with RedisBackend.from_url(f"unix://{redis_server.socket}", timeout=2.0) as backend:
        assert await backend.try_acquire("k", 0.0) == 0.0
        await backend.release("k")
        assert not backend.down


async def test_an_answer_drops_its_lease_as_it_is_learned(
    redis_server: RedisServer, client: Any
) -> None:
    """The observe of an answer drops its request's lease in the same script: no other
    process counts that request in flight once its answer is known, and the release after it
    sends nothing. A release without an observe (an answer without headers) still drops one."""
    async with _backend(redis_server.url) as backend:
        backend_key = "k"
        leases = backend.scripts.keys(backend_key)[2]
        assert await backend.try_acquire(backend_key, 0.0) == 0.0
        assert await client.zcard(leases) == 1
        snap = RateLimitSnapshot((Observation("ietf-fields", None, 60.0, 40, 30, 50.0),))
        await backend.observe(backend_key, snap, status=200, now=0.0, wall=0.0)
        assert await client.zcard(leases) == 0
        await backend.release(backend_key)  # nothing left to drop
        assert await backend.try_acquire(backend_key, 0.0) == 0.0
        assert await backend.try_acquire(backend_key, 0.0) == 0.0
        assert await client.zcard(leases) == 2
        await backend.release(backend_key)  # its answer taught nothing: no observe
        assert await client.zcard(leases) == 1
        await backend.observe(backend_key, snap, status=200, now=0.0, wall=0.0)
        await backend.release(backend_key)
        assert await client.zcard(leases) == 0
        assert not backend.down


async def test_each_request_drops_its_own_lease(redis_server: RedisServer, client: Any) -> None:
    """Two requests of one process in flight: the later one's answers (learned, or bare) drop
    only its own lease, never the earlier one's, which is still waiting for its count.
    (Dropping any lease of the process let Redis forget a request in flight, and the phase
    checks then took a window for one that had not reset.)"""
    async with _backend(redis_server.url) as backend:
        leases = backend.scripts.keys("k")[2]
        snap = RateLimitSnapshot((Observation("ietf-fields", None, 60.0, 40, 30, 50.0),))
        assert await backend.try_acquire("k", 0.0) == 0.0  # the probe, answered
        await backend.observe("k", snap, status=200, now=0.0, wall=0.0)
        await backend.release("k")
        for learned in (True, False):
            taken, answered = asyncio.Event(), asyncio.Event()
            held: list[str] = []

            async def first(held: list[str], taken: asyncio.Event, answered: asyncio.Event) -> None:
                assert await backend.try_acquire("k", 0.0) == 0.0
                held.extend(m.decode() for m in await client.zrange(leases, 0, -1))
                taken.set()
                await answered.wait()
                await backend.release("k")  # its answer: a bare one

            task = asyncio.ensure_future(first(held, taken, answered))
            await taken.wait()
            assert await backend.try_acquire("k", 0.0) == 0.0  # the second request
            assert await client.zcard(leases) == 2
            if learned:
                await backend.observe("k", snap, status=200, now=0.0, wall=0.0)
            await backend.release("k")
            # what Redis still counts in flight is the first request, not the second
            assert [m.decode() for m in await client.zrange(leases, 0, -1)] == held
            answered.set()
            await task
            assert await client.zcard(leases) == 0
        assert not backend.down


async def test_the_fallback_holds_this_workers_share(redis_server: RedisServer) -> None:
    """Two workers seen on one budget: with Redis gone, each paces on half of what is left."""
    one, two = _backend(redis_server.url), _backend(redis_server.url)
    try:
        assert await one.try_acquire("k", 0.0) == 0.0
        snap = RateLimitSnapshot((Observation("ietf-fields", None, 60.0, 40, 30, 50.0),))
        await one.observe("k", snap, status=200, now=0.0, wall=0.0)
        await one.release("k")
        assert await two.try_acquire("k", 0.0) == 0.0
        assert await one.try_acquire("k", 0.0) == 0.0  # now it has seen two workers
        assert one.view("k", 0.0).remaining == 30
        redis_server.kill()
        assert await one.try_acquire("k", 1.0) >= 0.0  # through the fallback
        assert one.down
        view = one.view("k", 1.0)
        assert (view.limit, view.remaining) == (20, 15)
    finally:
        await one.aclose()
        await two.aclose()


def test_a_limiter_and_a_limiter_backend_are_refused_together() -> None:
    from circleci_async import AdaptiveLimiter
    from circleci_async.errors import ConfigurationError
    from circleci_async.ratelimit.backends import InMemoryBackend

    config = RateLimitConfig()
    with pytest.raises(ConfigurationError, match="not both"):
        CircleCI(TOKEN, limiter=AdaptiveLimiter(config), limiter_backend=InMemoryBackend(config))


async def test_a_redis_that_stops_answering_times_out_into_the_fallback(
    redis_server: RedisServer,
) -> None:
    """SIGSTOP: connections stay open and nothing answers; the per-call timeout decides."""
    backend = RedisBackend.from_url(redis_server.url, timeout=0.25, retry_interval=0.1)
    process = redis_server.process
    assert process is not None
    try:
        assert await backend.try_acquire("k", 0.0) == 0.0
        await backend.release("k")
        process.send_signal(signal.SIGSTOP)
        try:
            # Returns (through the fallback) instead of hanging on the silent server.
            wait = await asyncio.wait_for(backend.try_acquire("k", 1.0), 10)
            assert wait >= 0.0 and backend.down
        finally:
            process.send_signal(signal.SIGCONT)
        await wait_until(lambda: _answers(backend), timeout=10.0)
    finally:
        await backend.aclose()


async def _answers(backend: RedisBackend) -> bool:
    now = asyncio.get_running_loop().time()
    if await backend.try_acquire("k", now) == 0.0:
        await backend.release("k")
    return not backend.down


# -- TLS (rediss://), a client of one's own, unix sockets ---------------------------------------


async def test_rediss_url_clients_share_one_budget(redis_tls_server: RedisServer) -> None:
    """TLS only (no plain port), a password, the CA in the URL's ``ssl_ca_certs``."""
    url = redis_tls_server.url
    assert url.startswith(f"rediss://:{REDIS_PASSWORD}@") and "ssl_ca_certs=" in url
    backends = [_backend(url) for _ in range(2)]
    try:
        await _share_one_budget(backends)
    finally:
        for b in backends:
            await b.aclose()


async def test_an_own_tls_client_and_urls_share_one_budget(redis_tls_server: RedisServer) -> None:
    """The caller's own TLS client (CA in memory, a client certificate), a rediss:// URL and
    a unix:// URL with the password: three ways into one server, one budget."""
    tls = redis_tls_server.tls
    assert tls is not None
    own = redis_asyncio.Redis(
        host="127.0.0.1",
        port=redis_tls_server.port,
        password=REDIS_PASSWORD,
        ssl=True,
        ssl_ca_data=tls.ca.read_text(),
        ssl_certfile=str(tls.client),
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
    )
    backends = [
        RedisBackend(own, timeout=2.0),
        _backend(redis_tls_server.url),
        _backend(redis_tls_server.unix_url),
    ]
    try:
        await _share_one_budget(backends)
    finally:
        for b in backends:
            await b.aclose()
        await own.aclose()  # the caller's: the backend leaves it open


async def test_a_client_certificate_goes_in_the_url(redis_mtls_server: RedisServer) -> None:
    """A server refusing clients without a certificate: ``ssl_certfile`` in the query string
    reaches redis-py's TLS context; without it, the backend is down (the fallback)."""
    tls = redis_mtls_server.tls
    assert tls is not None
    url = redis_mtls_server.url
    async with _backend(f"{url}&ssl_certfile={quote(str(tls.client))}") as backend:
        assert await backend.try_acquire("k", 0.0) == 0.0
        await backend.release("k")
        assert not backend.down
    async with _backend(url) as without:
        assert await without.try_acquire("k", 0.0) >= 0.0
        assert without.down


def _texts(exc: BaseException | None) -> list[str]:
    """str and repr of an exception and of everything chained to it."""
    seen: list[str] = []
    while exc is not None:
        seen += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return seen


@pytest.mark.parametrize("mode", ["raise", "fallback"])
@pytest.mark.parametrize("failure", ["wrong-ca", "wrong-password"])
async def test_a_tls_failure_follows_on_failure_and_never_shows_the_password(
    redis_tls_server: RedisServer, caplog: pytest.LogCaptureFixture, failure: str, mode: str
) -> None:
    from circleci_async.errors import CircleCIError
    from circleci_async.ratelimit.redis import SharedLimitUnavailable

    caplog.set_level(logging.DEBUG)
    tls = redis_tls_server.tls
    assert tls is not None
    wrong = "wrong-pw-3b8f0c6e1d2a"
    if failure == "wrong-ca":  # the handshake fails: the server's CA is not trusted
        url = redis_tls_server.tls_url(tls.other_ca)
    else:  # the handshake succeeds, AUTH fails
        url = redis_tls_server.tls_url(tls.ca, password=wrong)
    backend = RedisBackend.from_url(url, timeout=2.0, on_failure=mode)  # type: ignore[arg-type]
    events: list[object] = []
    texts: list[str] = []
    async with FakeCircleCI(token=TOKEN) as fake:
        async with CircleCI(
            TOKEN, base_url=fake.url, limiter_backend=backend, observers=[events.append]
        ) as cci:
            if mode == "raise":
                with pytest.raises(CircleCIError) as caught:
                    await cci.request("GET", "me")
                assert isinstance(caught.value, SharedLimitUnavailable)
                texts += _texts(caught.value)
                assert fake.requests == []  # nothing sent without the shared budget
            else:
                await cci.request("GET", "me")  # paced locally
                assert len(fake.requests) == 1
            assert backend.down
        texts.append(repr(backend))
        await backend.aclose()
    downs = [e for e in events if isinstance(e, LimiterBackendDown)]
    assert len(downs) == 1
    texts.append(repr(downs[0]))
    texts.append(caplog.text)
    assert any("Redis is not answering" in r.getMessage() for r in caplog.records)
    if failure == "wrong-ca":  # the warning says why, not only which exception type
        assert "certificate verify failed" in caplog.text.lower()
    for text in texts:
        assert REDIS_PASSWORD not in text and wrong not in text
