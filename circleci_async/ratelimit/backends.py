"""Where limiter state lives. In memory by default; the protocol is what a shared backend
(Redis, for several processes or machines using one token) implements.

A backend must make each call atomic for its key: in memory that holds trivially on one event
loop; a Redis backend would run the same arithmetic as :class:`BucketState` in a Lua script with
Redis ``TIME`` as the clock. Keys are token fingerprints, never tokens.
"""

from __future__ import annotations

from typing import Protocol

from ..config import RateLimitConfig
from .bucket import BucketState, RateLimitView
from .headers import RateLimitSnapshot

__all__ = ["InMemoryBackend", "LimiterBackend"]


class LimiterBackend(Protocol):
    async def try_acquire(self, key: str, now: float) -> float:
        """Take a slot (return 0.0) or return the seconds to wait before asking again."""
        ...

    async def release(self, key: str) -> None: ...

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None: ...

    def view(self, key: str, now: float) -> RateLimitView: ...


class InMemoryBackend:
    """Limiter state for the keys used in this process."""

    def __init__(self, config: RateLimitConfig) -> None:
        self._config = config
        self._states: dict[str, BucketState] = {}

    def state(self, key: str) -> BucketState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = BucketState(self._config)
        return state

    async def try_acquire(self, key: str, now: float) -> float:
        return self.state(key).try_acquire(now)

    async def release(self, key: str) -> None:
        self.state(key).release()

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None:
        self.state(key).observe(snapshot, status=status, now=now, wall=wall)

    def view(self, key: str, now: float) -> RateLimitView:
        return self.state(key).view(now)
