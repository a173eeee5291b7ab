"""The fake's records seen through API v3 (``shared/notes/api-v3.md`` §2, §3.4, §4): a v2
pipeline is a v3 *run*, with the same id; workflows and jobs keep their ids. Pure functions
from records to JSON entities; no I/O.

The status -> (phase, outcome) mapping is **[inferred]** from the lifecycle notes: v2's
statuses are one word where v3 has a phase and an outcome.
"""

from __future__ import annotations

from typing import Any

from ._records import JobRec, PipelineRec, ProjectRec, UserRec, WorkflowRec, iso

__all__ = [
    "job_entity",
    "phase_and_outcome",
    "project_entity",
    "run_entity",
    "run_phase",
    "user_entity",
    "workflow_entity",
]

#: v2 workflow or job status -> (phase, outcome once ended, current outcome while going).
_STATUS: dict[str, tuple[str, str | None, str | None]] = {
    "success": ("ended", "succeeded", None),
    "running": ("started", None, None),
    "failing": ("started", None, "failed"),
    "on_hold": ("started", None, None),
    "not_run": ("ended", "not_run", None),
    "failed": ("ended", "failed", None),
    "error": ("ended", "errored", None),
    "canceled": ("ended", "canceled", None),
    "unauthorized": ("ended", "unauthorized", None),
    "retried": ("ended", "failed", None),
    "queued": ("queued", None, None),
    "not_running": ("queued", None, None),
    "blocked": ("created", None, None),
    "infrastructure_fail": ("ended", "infrastructure_fail", None),
    "timedout": ("ended", "timedout", None),
    "terminated-unknown": ("ended", "errored", None),
}

_SEVERITY = ("errored", "failed", "unauthorized", "canceled", "not_run", "succeeded")


def phase_and_outcome(status: str) -> tuple[str, str | None, str | None]:
    """(phase, outcome, current_outcome) of a v2 status; an unknown one is ``started``."""
    return _STATUS.get(status, ("started", None, None))


def run_phase(pipeline: PipelineRec, workflows: list[WorkflowRec]) -> tuple[str, str | None]:
    """A run's (phase, current_outcome) from its pipeline's state and its workflows: runs
    report only ``current_outcome``, even once ended."""
    if pipeline.state == "errored":
        return "ended", "errored"
    if pipeline.state != "created" or not workflows:
        return "created", None
    states = [phase_and_outcome(w.status) for w in workflows]
    if any(phase != "ended" for phase, _, _ in states):
        going = [current for _, _, current in states if current is not None]
        return "started", (going[0] if going else None)
    outcomes = {outcome for _, outcome, _ in states if outcome is not None}
    for outcome in _SEVERITY:
        if outcome in outcomes:
            return "ended", outcome
    return "ended", "succeeded"


def run_entity(pipeline: PipelineRec, workflows: list[WorkflowRec]) -> dict[str, Any]:
    phase, current = run_phase(pipeline, workflows)
    project = pipeline.project
    vcs: dict[str, Any] = {
        "revision": pipeline.revision,
        "origin_repository_url": project.vcs_url,
        "provider_name": project.provider,
        "commit": {
            "subject": pipeline.subject,
            "author": {"name": pipeline.actor.name, "login": pipeline.actor.login},
        },
    }
    if pipeline.tag is not None:
        vcs["tag"] = pipeline.tag
    else:
        vcs["branch"] = pipeline.branch
    attributes: dict[str, Any] = {
        "phase": phase,
        "current_outcome": current,
        "created_at": iso(pipeline.created_at),
        "number": pipeline.number,
        "errors": [{"type": kind, "message": message} for kind, message in pipeline.errors],
    }
    event_type = "push" if pipeline.trigger_type == "webhook" else pipeline.trigger_type
    return {
        "id": pipeline.id,
        "attributes": attributes,
        "references": {
            "event": {"attributes": {"type": event_type, "vcs": vcs}},
            "trigger": {"attributes": {"event_source": {"type": pipeline.trigger_type}}},
            "project": {"id": project.id},
            "user": {"id": pipeline.actor.id, "attributes": {"login": pipeline.actor.login}},
        },
    }


def workflow_entity(workflow: WorkflowRec) -> dict[str, Any]:
    """Ended workflows carry ``outcome`` and ``ended_at``; others ``current_outcome``."""
    phase, outcome, current = phase_and_outcome(workflow.status)
    attributes: dict[str, Any] = {
        "name": workflow.name,
        "phase": phase,
        "created_at": iso(workflow.created_at),
    }
    if phase == "ended":
        attributes["outcome"] = outcome
        stopped = workflow.stopped_at
        attributes["ended_at"] = iso(stopped if stopped is not None else workflow.created_at)
    else:
        attributes["current_outcome"] = current
    pipeline = workflow.pipeline
    return {
        "id": workflow.id,
        "attributes": attributes,
        "references": {
            "run": {"id": pipeline.id},
            "project": {"id": pipeline.project.id},
            "user": {"id": workflow.started_by},
        },
    }


def job_entity(job: JobRec, *, details: bool) -> dict[str, Any]:
    """A job as ``GET /jobs`` lists it, or (``details``) as ``GET /jobs/{id}`` shows it. The
    list's quirk (§3.4): a queued job says ``started`` with a null ``started_at``."""
    phase, outcome, current = phase_and_outcome(job.status)
    started = job.started_at
    if not details and phase == "queued":
        phase, started = "started", None
    attributes: dict[str, Any] = {
        "name": job.name,
        "type": job.type,
        "phase": phase,
        "started_at": None if started is None else iso(started),
        "ended_at": None if job.stopped_at is None else iso(job.stopped_at),
    }
    if job.number is not None:
        attributes["number"] = job.number
    if phase == "ended":
        attributes["outcome"] = outcome
    else:
        attributes["current_outcome"] = current
    workflow = job.workflow
    references: dict[str, Any] = {
        "workflow": {"id": workflow.id},
        "project": {"id": workflow.pipeline.project.id},
    }
    if details:
        ran = job.started_at is not None and job.type != "approval"
        attributes["parallel_executions"] = [{"steps": []} for _ in range(job.parallelism)] * ran
        references["pipeline"] = {"id": workflow.pipeline.id}
        references["user"] = {"id": workflow.started_by}
    return {"id": job.id, "attributes": attributes, "references": references}


def user_entity(user: UserRec) -> dict[str, Any]:
    return {
        "id": user.id,
        "attributes": {"name": user.name, "login": user.login, "avatar_url": user.avatar_url},
        "references": {},
    }


def project_entity(project: ProjectRec, *, org_name: bool) -> dict[str, Any]:
    org: dict[str, Any] = {"id": project.organization_id}
    if org_name:
        org["attributes"] = {"name": project.organization_name}
    return {"id": project.id, "attributes": {"name": project.name}, "references": {"org": org}}
