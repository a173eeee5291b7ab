"""A semaphore whose uncontended path is a plain counter.

``asyncio.Semaphore`` costs two coroutine frames per ``async with`` even when a slot is free;
the request pipeline takes one per request, so the free case here is a method call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ["Slots"]


class Slots:
    """``n`` slots handed out in arrival order: :meth:`try_take`, else ``await`` :meth:`take`;
    then :meth:`give` once."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("need at least one slot")
        self._free = n
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_take(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        if self.try_take():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()  # handed a slot while being cancelled: pass it on
            else:
                # Still queued, unless a give() since the cancellation dropped it (it skips
                # waiters that are done, and a cancelled one is).
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def give(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot goes straight to the next in line
                return
        self._free += 1
