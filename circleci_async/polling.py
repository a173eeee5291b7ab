"""The polling rules, written once: how long to wait before the next poll, and when a pipeline
or workflow is finished. No I/O and no clock.

``cci.workflows.wait`` / ``cci.pipelines.wait`` (through :func:`~circleci_async.waiting.poll_until`)
and :class:`~circleci_async.watching.Watcher` (through its scheduler) both decide with these, so
waiting on one item and watching thousands cannot disagree about when to stop or how fast to
poll.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .models.pipelines import Pipeline, PipelineState
from .models.workflows import Workflow

__all__ = [
    "DEFAULT_POLL",
    "PollSchedule",
    "pipeline_finished",
    "pipeline_has_workflows",
    "workflow_finished",
]


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

    def next_interval(self, previous: float, changed: bool) -> float:
        """The wait after a poll: back to ``interval`` when it saw a change, else ``previous``
        grown by ``backoff`` up to ``max_interval`` (a long job costs few requests)."""
        if changed:
            return self.interval
        return min(previous * self.backoff, self.max_interval)


DEFAULT_POLL = PollSchedule()


def workflow_finished(workflow: Workflow) -> bool:
    """The workflow will not change any more. ``on_hold`` is not finished, and neither is a
    status this library does not know yet (waiting on stays safe; stopping early would not)."""
    return workflow.status.terminal


def pipeline_has_workflows(pipeline: Pipeline) -> bool:
    """Whether the pipeline's workflows are worth listing: they exist once setup created them."""
    return pipeline.state == PipelineState.CREATED


def pipeline_finished(pipeline: Pipeline, workflows: Sequence[Workflow]) -> bool:
    """Setup errored, or it created the workflows and every one of them is finished."""
    state = pipeline.state
    if state == PipelineState.ERRORED:
        return True
    return state == PipelineState.CREATED and all(workflow_finished(w) for w in workflows)
