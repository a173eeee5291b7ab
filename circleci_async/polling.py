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
from .v3.models import Phase, Run, RunAttributes, WorkflowAttributes
from .v3.models import Workflow as V3Workflow

__all__ = [
    "DEFAULT_POLL",
    "PollSchedule",
    "pipeline_finished",
    "pipeline_has_workflows",
    "v3_finished",
    "v3_run_finished",
    "v3_state",
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


# -- API v3: a phase and an outcome where v2 has one status word (§3.4 of the v3 notes) ---------


def v3_state(attributes: RunAttributes | WorkflowAttributes) -> str:
    """``phase`` or ``phase/outcome``: the final ``outcome`` when sent, else the
    ``current_outcome`` so far (in ``started``, ``failed`` means failing). Runs send only
    ``current_outcome``, even once ended."""
    phase = attributes.phase.value if attributes.phase is not None else "unknown"
    outcome = attributes.outcome or attributes.current_outcome
    return f"{phase}/{outcome.value}" if outcome is not None else phase


def v3_finished(attributes: RunAttributes | WorkflowAttributes) -> bool:
    """Ended: ``ended`` is the one phase known to be final; any other, known or not, is not
    (an allow-list, as :func:`workflow_finished` is on v2)."""
    return attributes.phase == Phase.ENDED


def v3_run_finished(run: Run, workflows: Sequence[V3Workflow]) -> bool:
    """The run ended and so did every one of its workflows (a run that ended in setup has
    none)."""
    return v3_finished(run.attributes) and all(v3_finished(w.attributes) for w in workflows)
