"""Where limiter state lives. In memory by default; the protocol is what a shared backend
(Redis, for several processes or machines using one token) implements.

A backend must make each call atomic for its key: in memory that holds trivially on one event
loop; :class:`~circleci_async.ratelimit.redis.RedisBackend` runs the same arithmetic as
:class:`BucketState` in Lua scripts with Redis ``TIME`` as the clock. Keys are token fingerprints
(with the API origin's hash for a shared backend: :func:`budget_key`), never tokens.

A shared backend counts requests in flight as leases that expire; it keeps the lease ids of its
own process itself (they are interchangeable within one process), so ``release`` takes no id.

Every operation comes in two forms, and the limiter runs the same code over any backend: the
``*_nowait`` form answers at once when it can without I/O (in memory, always) and says "ask me
asynchronously" otherwise (``None`` / ``False``: a network backend, always, by inheriting
:class:`SharedBackend`).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from ..config import RateLimitConfig
from .bucket import BucketState, RateLimitView
from .headers import RateLimitSnapshot

__all__ = ["InMemoryBackend", "LimiterBackend", "SharedBackend", "budget_key"]


def budget_key(fingerprint: str, origin: str) -> str:
    """The key of one budget as the server counts it: a token fingerprint and the API origin
    (hashed, so the key is short and safe in any store), never the token."""
    return f"{fingerprint}:{hashlib.sha256(origin.encode()).hexdigest()[:12]}"


class LimiterBackend(Protocol):
    def try_acquire_nowait(self, key: str, now: float) -> float | None:
        """:meth:`try_acquire` answered without I/O, or ``None``: ask :meth:`try_acquire`."""
        ...

    async def try_acquire(self, key: str, now: float) -> float:
        """Take a slot (return 0.0) or return the seconds to wait before asking again."""
        ...

    def release_nowait(self, key: str) -> bool:
        """:meth:`release` done without I/O (``True``), or ``False``: call :meth:`release`."""
        ...

    async def release(self, key: str) -> None: ...

    def observe_nowait(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> bool:
        """:meth:`observe` done without I/O (``True``), or ``False``: call :meth:`observe`."""
        ...

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None: ...

    def may_skip(self, key: str) -> bool:
        """Whether a success's headers may go unread (see ``BucketState.may_skip``); a backend
        that cannot tell without I/O says ``False``."""
        ...

    def view(self, key: str, now: float) -> RateLimitView: ...


class SharedBackend:
    """Base for a backend whose every call is I/O: the fast forms always defer."""

    def try_acquire_nowait(self, key: str, now: float) -> float | None:
        return None

    def release_nowait(self, key: str) -> bool:
        return False

    def observe_nowait(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> bool:
        return False

    def may_skip(self, key: str) -> bool:
        return False


class _States(dict[str, BucketState]):
    """Bucket states by key, each created on first use: ``states[key]`` is a plain dict lookup
    (no Python frame) once the key exists, and the limiter asks several times per request."""

    def __init__(self, config: RateLimitConfig) -> None:
        super().__init__()
        self._config = config

    def __missing__(self, key: str) -> BucketState:
        state = self[key] = BucketState(self._config)
        return state


class InMemoryBackend:
    """Limiter state for the keys used in this process; every call answers at once."""

    def __init__(self, config: RateLimitConfig) -> None:
        self._states = _States(config)

    def state(self, key: str) -> BucketState:
        return self._states[key]

    def try_acquire_nowait(self, key: str, now: float) -> float:
        return self._states[key].try_acquire(now)

    async def try_acquire(self, key: str, now: float) -> float:
        return self._states[key].try_acquire(now)

    def release_nowait(self, key: str) -> bool:
        self._states[key].release()
        return True

    async def release(self, key: str) -> None:
        self._states[key].release()

    def observe_nowait(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> bool:
        self._states[key].observe(snapshot, status=status, now=now, wall=wall)
        return True

    async def observe(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> None:
        self._states[key].observe(snapshot, status=status, now=now, wall=wall)

    def may_skip(self, key: str) -> bool:
        return self._states[key].may_skip()

    def view(self, key: str, now: float) -> RateLimitView:
        return self._states[key].view(now)
