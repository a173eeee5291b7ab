"""Moving triggered pipelines along: setup, then jobs queued -> running -> their outcome, with
dependencies, approvals, cancellations and reruns, and workflow statuses derived from their
jobs the way CircleCI derives them.

Time is the fake's clock. :meth:`Simulation.run_until` applies every transition due by a given
moment, each at its own due time (a job that finished at t=20 starts its dependent at t=20,
whenever the fake happens to look), so jumping the clock forward gives the same history as
watching it pass.

Due transitions are kept in heaps (jobs by due time, pipelines in setup by creation time), so
finding the next one costs a heap peek rather than a scan of every running job: thousands of
workflows in motion stay cheap. Job entries are checked when they surface and dropped if the
job has moved on since (cancelled, say), instead of being searched for and removed.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._plans import JOB_OUTCOMES, JobPlan, WorkflowPlan
from ._records import ApiError

if TYPE_CHECKING:
    from ._records import JobRec, PipelineRec, WorkflowRec
    from ._state import FakeState

__all__ = ["Simulation"]

_JOB_DONE = frozenset(
    {
        "success",
        "failed",
        "infrastructure_fail",
        "timedout",
        "canceled",
        "not_run",
        "retried",
        "terminated-unknown",
        "unauthorized",
    }
)
_JOB_FAILED = frozenset({"failed", "infrastructure_fail", "timedout", "terminated-unknown"})


class Simulation:
    """The triggered pipelines and workflows still in motion, and their clockwork."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        # (created_at, seq, pipeline): setup_seconds may change, creation order does not.
        self._setting_up: list[tuple[float, int, PipelineRec]] = []
        self._running: dict[str, WorkflowRec] = {}
        # (due, tiebreak, job, the status the due time was computed for)
        self._jobs_due: list[tuple[float, int, JobRec, str]] = []
        self._tiebreak = itertools.count()

    @property
    def idle(self) -> bool:
        """Nothing is pending or running (checked on every request, so it must be cheap)."""
        return not self._setting_up and not self._running

    def track(self, pipeline: PipelineRec) -> None:
        heapq.heappush(self._setting_up, (pipeline.created_at, pipeline.seq, pipeline))

    def _schedule(self, job: JobRec) -> None:
        """Note the job's next transition, if it has one coming by itself."""
        due = _due(job)
        if due is not None:
            heapq.heappush(self._jobs_due, (due, next(self._tiebreak), job, job.status))

    def _next_job_due(self) -> float | None:
        heap = self._jobs_due
        while heap:
            due, _, job, status = heap[0]
            if job.status == status and _due(job) == due:
                return due
            heapq.heappop(heap)  # the job moved on some other way (cancelled)
        return None

    # -- time --------------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next transition happens, if any."""
        due = self._next_job_due()
        if self._setting_up:
            setup = self._setting_up[0][0] + self.state.setup_seconds
            due = setup if due is None else min(due, setup)
        return due

    def run_until(self, now: float) -> bool:
        """Apply every transition due by ``now``; True if anything changed."""
        changed = False
        while not self.idle:
            due = self.next_due()
            if due is None or due > now:
                break
            self._step(due)
            changed = True
        return changed

    def _step(self, t: float) -> None:
        setting_up = self._setting_up
        while setting_up and setting_up[0][0] + self.state.setup_seconds <= t:
            self._set_up(heapq.heappop(setting_up)[2], t)
        # Every job due by t, then each workflow's in job order, workflows in start order:
        # the order a scan of all running workflows would visit them (job numbers and test
        # results are handed out in this order).
        heap = self._jobs_due
        due_jobs: dict[str, list[JobRec]] = {}
        while heap and heap[0][0] <= t:
            when, _, job, status = heapq.heappop(heap)
            if job.status == status and _due(job) == when:
                due_jobs.setdefault(job.workflow.id, []).append(job)
        workflows = sorted(
            (self._running[w] for w in due_jobs if w in self._running), key=lambda w: w.seq
        )
        for workflow in workflows:
            for job in sorted(due_jobs[workflow.id], key=lambda j: j.seq):
                due = _due(job)
                assert due is not None
                if job.status == "queued":
                    job.status, job.started_at = "running", due
                    self._schedule(job)
                else:
                    self._finish(job, due)
            self._settle(workflow, t)
        self.state.touch()

    # -- setup -------------------------------------------------------------------------------

    def _set_up(self, pipeline: PipelineRec, t: float) -> None:
        pipeline.state = "created"
        pipeline.updated_at = t
        for plan in pipeline.plan or ():
            self.start_workflow(pipeline, plan, t)

    def start_workflow(self, pipeline: PipelineRec, plan: WorkflowPlan, t: float) -> WorkflowRec:
        workflow = self.state.add_workflow(
            pipeline.id, plan.name, "running", created_at=t, plan=plan
        )
        ids: dict[str, str] = {}
        for job_plan in plan.jobs:
            job = self.state.add_job(
                workflow.id,
                job_plan.name,
                "blocked",
                job_plan.type,
                dependencies=tuple(ids[name] for name in job_plan.requires),
                started_at=t,
                parallelism=job_plan.parallelism,
                resource_class=job_plan.resource_class,
                executor_type="machine" if "/" in job_plan.resource_class else "docker",
                plan=job_plan,
            )
            ids[job_plan.name] = job.id
        self._running[workflow.id] = workflow
        self._settle(workflow, t)
        return workflow

    def start_timed_workflows(
        self, slug: str, durations: Sequence[float], outcome: str, t: float
    ) -> list[WorkflowRec]:
        """Per duration, a pipeline already set up at ``t`` running one workflow of one job that
        ends ``duration`` seconds later with ``outcome`` (many workflows ending when a test or
        benchmark says, without the default plan's two jobs and setup)."""
        self.state.project(slug)
        if outcome not in JOB_OUTCOMES:
            raise ValueError(f"job outcome {outcome!r} is not one of {JOB_OUTCOMES}")
        if any(not seconds >= 0 for seconds in durations):
            raise ValueError("workflow durations must be >= 0")
        started = []
        for seconds in durations:
            plan = WorkflowPlan(
                "build", (JobPlan("build", seconds=seconds, queue_seconds=0.0, outcome=outcome),)
            )
            pipeline = self.state.add_pipeline(slug, None, "created", created_at=t)
            pipeline.plan = (plan,)
            started.append(self.start_workflow(pipeline, plan, t))
        self.state.touch()
        return started

    # -- jobs --------------------------------------------------------------------------------

    def _finish(self, job: JobRec, t: float) -> None:
        plan = job.plan
        assert plan is not None
        job.status, job.stopped_at = plan.outcome, t
        if plan.tests:
            failing = plan.outcome != "success"
            self.state.add_tests(
                job,
                (
                    (
                        f"test_{job.name}_{index + 1}",
                        "failure" if failing and index == plan.tests - 1 else "success",
                        round(0.05 + 0.01 * index, 3),
                        "assertion failed" if failing and index == plan.tests - 1 else None,
                    )
                    for index in range(plan.tests)
                ),
            )

    def _settle(self, workflow: WorkflowRec, t: float) -> None:
        """Unblock what can run, mark what never will, and derive the workflow's status."""
        jobs = self.state.jobs_of(workflow)
        by_id = {job.id: job for job in jobs}
        progress = True
        while progress:
            progress = False
            for job in jobs:
                if job.status != "blocked":
                    continue
                required = [by_id[d] for d in job.dependencies]
                if all(r.status == "success" for r in required):
                    progress = True
                    if job.type == "approval":
                        job.status = "on_hold"
                    else:
                        job.status, job.queued_at = "queued", t
                        self.state.number_job(job)
                        self._schedule(job)
                elif any(r.status in _JOB_DONE and r.status != "success" for r in required):
                    job.status = "not_run"
                    progress = True
        statuses = [job.status for job in jobs]
        if all(s in _JOB_DONE for s in statuses):
            if workflow.canceled_by is not None or "canceled" in statuses:
                workflow.status = "canceled"
            elif all(s == "success" for s in statuses):
                workflow.status = "success"
            else:
                workflow.status = "failed"
            workflow.stopped_at = t
            self._running.pop(workflow.id, None)
        elif any(s in _JOB_FAILED for s in statuses):
            workflow.status = "failing"
        elif any(s in ("running", "queued") for s in statuses):
            workflow.status = "running"
        elif "on_hold" in statuses:
            workflow.status = "on_hold"
        else:
            workflow.status = "running"

    # -- actions (the API's POSTs) -----------------------------------------------------------

    def cancel_workflow(self, workflow: WorkflowRec, t: float) -> None:
        if workflow.status not in ("running", "failing", "on_hold"):
            raise ApiError(400, "Workflow is not running.")
        workflow.canceled_by = self.state.user.id
        for job in self.state.jobs_of(workflow):
            if job.status not in _JOB_DONE:
                self._cancel(job, t)
        self._settle(workflow, t)
        self.state.touch()

    def cancel_job(self, job: JobRec, t: float) -> None:
        if job.status in _JOB_DONE:
            raise ApiError(400, "Job is not running.")
        self._cancel(job, t)
        self._settle(job.workflow, t)
        self.state.touch()

    def _cancel(self, job: JobRec, t: float) -> None:
        job.status, job.canceled_by = "canceled", self.state.user.id
        if job.started_at is not None:
            job.stopped_at = t

    def approve(self, workflow: WorkflowRec, approval_request_id: str, t: float) -> None:
        for job in self.state.jobs_of(workflow):
            if job.approval_request_id == approval_request_id:
                if job.status != "on_hold":
                    raise ApiError(400, "Job is not on hold.")
                job.status, job.approved_by = "success", self.state.user.id
                job.started_at = job.stopped_at = t
                self._settle(workflow, t)
                self.state.touch()
                return
        raise ApiError(404, "Approval request not found.")

    def rerun(self, workflow: WorkflowRec, t: float) -> WorkflowRec:
        """Run the workflow's plan again as a new workflow of the same pipeline (seeded
        workflows are rerun as their jobs, all succeeding)."""
        if workflow.id in self._running:
            raise ApiError(400, "Workflow is still running.")
        plan = workflow.plan
        if plan is None:
            plan = WorkflowPlan(
                workflow.name, tuple(JobPlan(job.name) for job in self.state.jobs_of(workflow))
            )
        return self.start_workflow(workflow.pipeline, plan, t)


def _due(job: JobRec) -> float | None:
    plan = job.plan
    if plan is None:
        return None
    if job.status == "queued" and job.queued_at is not None:
        return job.queued_at + plan.queue_seconds
    if job.status == "running" and job.started_at is not None:
        return job.started_at + plan.seconds
    return None
