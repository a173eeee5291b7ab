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
:class:`SharedBackend`). The three the limiter asks on every request (take a slot, may the
answer go unread, release) come from a :class:`Budget`, the backend's view of one key: bound
once per limiter, so that in memory each is one call into the key's state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine
from typing import Any, Protocol

from ..config import RateLimitConfig
from .bucket import BucketState, RateLimitView
from .headers import RateLimitSnapshot

__all__ = ["Budget", "InMemoryBackend", "LimiterBackend", "SharedBackend", "budget_key"]


def budget_key(fingerprint: str, origin: str) -> str:
    """The key of one budget as the server counts it: a token fingerprint and the API origin
    (hashed, so the key is short and safe in any store), never the token."""
    return f"{fingerprint}:{hashlib.sha256(origin.encode()).hexdigest()[:12]}"


class Budget(Protocol):
    """One key of a backend, as the limiter asks it on every request."""

    def try_acquire_nowait(self, now: float) -> float | None:
        """The backend's ``try_acquire`` answered without I/O, or ``None``: ask it."""
        ...

    def release(self) -> Coroutine[Any, Any, None] | None:
        """A request finished: done at once (``None``), or the coroutine that tells the
        backend."""
        ...

    def may_skip(self) -> bool:
        """Whether a success's headers may go unread (see ``BucketState.may_skip``); a backend
        that cannot tell without I/O says ``False``."""
        ...


class LimiterBackend(Protocol):
    def budget(self, key: str) -> Budget:
        """The key's :class:`Budget` (a limiter binds it once)."""
        ...

    async def try_acquire(self, key: str, now: float) -> float:
        """Take a slot (return 0.0) or return the seconds to wait before asking again."""
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

    def view(self, key: str, now: float) -> RateLimitView: ...


class SharedBackend:
    """Base for a backend whose every call is I/O: the fast forms always defer. Subclasses
    implement the async ``try_acquire``, ``release``, ``observe`` and ``view``."""

    def budget(self, key: str) -> Budget:
        return _RemoteBudget(self, key)

    async def release(self, key: str) -> None:
        raise NotImplementedError

    def observe_nowait(
        self, key: str, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float
    ) -> bool:
        return False


class _RemoteBudget:
    """A shared backend's key: nothing is known without asking."""

    __slots__ = ("_backend", "_key")

    def __init__(self, backend: SharedBackend, key: str) -> None:
        self._backend, self._key = backend, key

    def try_acquire_nowait(self, now: float) -> float | None:
        return None

    def release(self) -> Coroutine[Any, Any, None]:
        return self._backend.release(self._key)

    def may_skip(self) -> bool:
        return False


class _LocalBudget:
    """An in-memory key: each operation is its state's own method (one call, no lookup)."""

    __slots__ = ("may_skip", "release", "try_acquire_nowait")

    def __init__(self, state: BucketState) -> None:
        self.try_acquire_nowait = state.try_acquire
        self.release = state.release
        self.may_skip = state.may_skip


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

    def budget(self, key: str) -> Budget:
        return _LocalBudget(self._states[key])

    async def try_acquire(self, key: str, now: float) -> float:
        return self._states[key].try_acquire(now)

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

    def view(self, key: str, now: float) -> RateLimitView:
        return self._states[key].view(now)
