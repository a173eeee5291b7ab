"""Waiting for a workflow or pipeline to finish, by polling.

Every poll is an ordinary request through the client, so the shared rate limiter paces it like
any other call. The interval starts short and grows while nothing changes (a long test job
costs few requests), and drops back to the start as soon as something does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .errors import WaitTimeout

if TYPE_CHECKING:
    from .models.pipelines import Pipeline
    from .models.workflows import Workflow

__all__ = ["DEFAULT_POLL", "PipelineOutcome", "PollSchedule", "WaitTimeout", "poll_until"]

T = TypeVar("T")


@attrs.frozen
class PollSchedule:
    """How often to poll: ``interval`` seconds at first and after every change, times
    ``backoff`` after each poll that saw no change, at most ``max_interval``."""

    interval: float = 2.0
    max_interval: float = 30.0
    backoff: float = 1.5

    def __attrs_post_init__(self) -> None:
        if self.interval <= 0 or self.max_interval < self.interval or self.backoff < 1:
            raise ValueError(
                "need 0 < interval <= max_interval and backoff >= 1, got "
                f"{self.interval}, {self.max_interval}, {self.backoff}"
            )


DEFAULT_POLL = PollSchedule()


@attrs.frozen(kw_only=True)
class PipelineOutcome:
    """A finished pipeline and its workflows (what ``cci.pipelines.wait`` returns).

    ``succeeded`` is true when setup did not error and every workflow succeeded.
    """

    pipeline: Pipeline
    workflows: list[Workflow]

    @property
    def succeeded(self) -> bool:
        return self.pipeline.state == "created" and all(
            w.status == "success" for w in self.workflows
        )


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    finished: Callable[[T], bool],
    *,
    timeout: float | None,
    schedule: PollSchedule = DEFAULT_POLL,
    what: str = "the resource",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Call ``fetch`` until ``finished`` says yes, then return that last answer.

    Raises :class:`WaitTimeout` when ``timeout`` seconds pass first (``None``: no limit); the
    last poll happens at the deadline, so a change just before it is not missed.
    """
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be >= 0, got {timeout}")
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    delay = schedule.interval
    previous: Any = _NOTHING
    while True:
        current = await fetch()
        if finished(current):
            return current
        if previous is not _NOTHING and current == previous:
            delay = min(delay * schedule.backoff, schedule.max_interval)
        else:
            delay = schedule.interval
        previous = current
        wait = delay
        if deadline is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"{what} did not finish within {timeout:g} s", last=current)
            wait = min(delay, remaining)
        await sleep(wait)


_NOTHING = object()
