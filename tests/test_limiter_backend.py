"""The limiter through its backend interface, as a shared (e.g. Redis) backend would drive it."""

from __future__ import annotations

import asyncio

from circleci_async import AdaptiveLimiter, CircleCI, RateLimitConfig
from circleci_async.ratelimit.backends import InMemoryBackend, SharedBackend
from circleci_async.ratelimit.bucket import RateLimitView
from circleci_async.ratelimit.headers import RateLimitSnapshot
from circleci_async.testing import FakeCircleCI, RateLimitPolicy, Window

from ._waiting import wait_until
from .conftest import TOKEN


class RemoteLikeBackend(SharedBackend):
    """Every call yields to the loop, as a network round trip would; counts what it is asked.
    Its synchronous fast forms always defer (inherited), as a network backend's would."""

    def __init__(self, config: RateLimitConfig) -> None:
        self._inner = InMemoryBackend(config)
        self.calls: dict[str, int] = {"try_acquire": 0, "release": 0, "observe": 0}

    async def try_acquire(self, key: str, now: float) -> float:
        await asyncio.sleep(0)
        self.calls["try_acquire"] += 1
        return await self._inner.try_acquire(key, now)

    async def release(self, key: str) -> None:
        await asyncio.sleep(0)
        self.calls["release"] += 1
        await self._inner.release(key)

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None:
        await asyncio.sleep(0)
        self.calls["observe"] += 1
        await self._inner.observe(key, snapshot, status=status, now=now, wall=wall)

    def view(self, key: str, now: float) -> RateLimitView:
        return self._inner.view(key, now)


async def test_a_shared_backend_paces_and_learns() -> None:
    config = RateLimitConfig()
    backend = RemoteLikeBackend(config)
    limiter = AdaptiveLimiter(config, key="fingerprint", backend=backend)
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.rate_limit = RateLimitPolicy(windows=(Window(limit=4, seconds=1),))
        async with CircleCI(TOKEN, base_url=fake.url, limiter=limiter) as cci:
            await asyncio.gather(*(cci.request("GET", "me") for _ in range(10)))
            # The background release/observe calls land.
            await wait_until(lambda: backend.calls["release"] == 10)
    # 10 requests at 4 per second: unpaced, most would be refused.
    assert fake.rate_limited_count <= 1
    assert len(fake.requests) <= 11
    assert backend.calls["try_acquire"] >= 10
    assert backend.calls["release"] == 10
    assert backend.calls["observe"] >= 1
    view = limiter.view()
    assert view.limit == 4 and view.window == 1
