"""The pipeline's concurrency slots: fairness, hand-over and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from circleci_async._slots import Slots


async def test_free_slots_are_taken_without_waiting() -> None:
    slots = Slots(2)
    assert slots.try_take() and slots.try_take()
    assert not slots.try_take()
    slots.give()
    assert slots.try_take()


async def test_waiters_are_served_in_arrival_order() -> None:
    slots = Slots(1)
    assert slots.try_take()
    order: list[int] = []

    async def wait(i: int) -> None:
        await slots.take()
        order.append(i)

    tasks = [asyncio.create_task(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert not slots.try_take()  # a newcomer may not jump the queue
    for _ in range(3):
        slots.give()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]


async def test_cancelled_waiter_does_not_lose_a_slot() -> None:
    slots = Slots(1)
    assert slots.try_take()
    task = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    slots.give()  # handed to the waiter...
    task.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slots.try_take()  # the slot was passed on, not lost


async def test_cancelled_waiter_leaves_the_queue() -> None:
    slots = Slots(1)
    assert slots.try_take()
    task = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    slots.give()
    assert slots.try_take()


async def test_a_waiter_cancelled_while_a_slot_is_given_back() -> None:
    """The waiter is cancelled, then a slot is given back before the waiter's task runs: the
    give skips (and drops) the cancelled waiter, whose task must still end cleanly."""
    slots = Slots(1)
    assert slots.try_take()
    task = asyncio.create_task(slots.take())
    await asyncio.sleep(0)
    task.cancel()  # its waiter future is cancelled now...
    slots.give()  # ...and dropped from the queue here, before the task sees the cancellation
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slots.try_take()  # the slot was kept, not lost
    assert not slots.try_take()


def test_needs_one_slot() -> None:
    with pytest.raises(ValueError, match="slot"):
        Slots(0)
