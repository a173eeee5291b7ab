"""Waiting for a workflow or pipeline to finish, by polling.

Every poll is an ordinary request through the client, so the shared rate limiter paces it like
any other call. How long to wait between polls and when an item is finished are the rules in
:mod:`~circleci_async.polling`, which :class:`~circleci_async.watching.Watcher` uses too; so is
:func:`fetch_pipeline_with_workflows`, the one place that reads a pipeline with its workflows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .errors import WaitTimeout
from .models.pipelines import Pipeline, PipelineState
from .models.workflows import Workflow, WorkflowStatus
from .polling import DEFAULT_POLL, PollSchedule, pipeline_finished, pipeline_has_workflows

if TYPE_CHECKING:
    from .resources.pipelines import PipelinesAPI

__all__ = [
    "DEFAULT_POLL",
    "PipelineOutcome",
    "PollSchedule",
    "WaitTimeout",
    "fetch_pipeline_with_workflows",
    "poll_until",
]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class PipelineOutcome:
    """A pipeline and its workflows as one poll saw them (``cci.pipelines.wait`` returns the
    finished one). ``workflows`` is empty until setup created them.

    ``succeeded`` is true when setup created the workflows and every one succeeded; a state or
    status this library does not know does not count as success.
    """

    pipeline: Pipeline
    workflows: list[Workflow]

    @property
    def finished(self) -> bool:
        return pipeline_finished(self.pipeline, self.workflows)

    @property
    def succeeded(self) -> bool:
        return self.pipeline.state == PipelineState.CREATED and all(
            w.status == WorkflowStatus.SUCCESS for w in self.workflows
        )


async def fetch_pipeline_with_workflows(
    pipelines: PipelinesAPI, pipeline_id: uuid.UUID | str
) -> PipelineOutcome:
    """One poll of a pipeline: the pipeline, then (once setup created them) all its workflows.
    ``cci.pipelines.wait`` and the watcher both poll a pipeline through this."""
    pipeline = await pipelines.get(pipeline_id)
    workflows: list[Workflow] = []
    if pipeline_has_workflows(pipeline):
        workflows = await pipelines.workflows(pipeline_id).collect()
    return PipelineOutcome(pipeline=pipeline, workflows=workflows)


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
        delay = schedule.next_interval(delay, previous is _NOTHING or current != previous)
        previous = current
        wait = delay
        if deadline is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"{what} did not finish within {timeout:g} s", last=current)
            wait = min(delay, remaining)
        await sleep(wait)


_NOTHING = object()
