"""Waiting for a condition in a test: poll it until it holds or a deadline passes.

Tests never sleep a fixed time and then assert (that passes or fails on machine speed); they
wait for what they expect with a generous deadline, and a failure says what was awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["wait_until"]


async def wait_until(
    predicate: Callable[[], Any | Awaitable[Any]],
    timeout: float = 10.0,
    *,
    interval: float = 0.005,
    what: str | None = None,
) -> Any:
    """Return the first truthy value of ``predicate()`` (which may be async); fail the test
    with ``what`` (or the predicate's source) if none came within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            description = what or _describe(predicate)
            raise AssertionError(f"not true within {timeout:g} s: {description}")
        await asyncio.sleep(interval)


def _describe(predicate: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)
