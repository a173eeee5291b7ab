"""The fake's Insights: real aggregates over the finished workflows and jobs it holds.

A run counts when it has finished inside the reporting window (the last 90 days unless told
otherwise) on the branch asked for (the project's default branch unless told otherwise, or
every branch). Credits are 10 per started minute of each job, CircleCI's price of ``medium``.
Trends compare a figure with the window of the same length just before (0 when that was 0).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._queries import page_of
from ._records import ApiError, iso

if TYPE_CHECKING:
    from multidict import MultiMapping

    from ._records import JobRec, ProjectRec, WorkflowRec
    from ._state import FakeState

__all__ = ["Insights"]

_DAY = 86400.0
_WINDOWS = {
    "last-24-hours": 1.0,
    "last-7-days": 7.0,
    "last-30-days": 30.0,
    "last-60-days": 60.0,
    "last-90-days": 90.0,
}
_RUN_STATUSES = ("success", "failed", "error", "canceled", "unauthorized")
_CREDITS_PER_MINUTE = 10


@attrs.frozen
class Run:
    """One finished workflow, reduced to what the aggregates need."""

    workflow: WorkflowRec
    branch: str
    created_at: float
    stopped_at: float
    duration: int
    credits: int
    status: str
    jobs: tuple[JobRec, ...]

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


def _job_seconds(job: JobRec) -> float:
    if job.started_at is None or job.stopped_at is None:
        return 0.0
    return max(0.0, job.stopped_at - job.started_at)


def _credits(job: JobRec) -> int:
    return math.ceil(_job_seconds(job) / 60.0) * _CREDITS_PER_MINUTE


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _durations(values: Sequence[float], *, mean: bool = True) -> dict[str, Any]:
    """The ``duration_metrics`` object: whole seconds, nulls when there is nothing to measure."""
    keys = ("min", "mean", "median", "p95", "max") if mean else ("min", "median", "max", "p95")
    if not values:
        out: dict[str, Any] = dict.fromkeys(keys)
        if mean:
            out["standard_deviation"] = None
        return out
    out = {
        "min": round(min(values)),
        "median": round(statistics.median(values)),
        "p95": round(_percentile(values, 0.95)),
        "max": round(max(values)),
    }
    if mean:
        out["mean"] = round(statistics.fmean(values))
        out["standard_deviation"] = statistics.pstdev(values)
    return out


def _trend(current: float, previous: float) -> float:
    return 0.0 if previous == 0 else (current - previous) / previous


def _mttr(runs: Sequence[Run]) -> tuple[int | None, int]:
    """Mean seconds from a failed run to the next successful one, and how many recoveries."""
    recoveries: list[float] = []
    failed_since: float | None = None
    for run in sorted(runs, key=lambda r: r.created_at):
        if run.failed and failed_since is None:
            failed_since = run.stopped_at
        elif run.succeeded and failed_since is not None:
            recoveries.append(run.stopped_at - failed_since)
            failed_since = None
    return (round(statistics.fmean(recoveries)) if recoveries else None), len(recoveries)


class Insights:
    def __init__(self, state: FakeState) -> None:
        self.state = state

    # -- selecting runs ----------------------------------------------------------------------

    def _runs(self, project: ProjectRec) -> list[Run]:
        runs = []
        for pipeline in self.state.pipelines_of(project.slug):
            for workflow in self.state.workflows_of(pipeline):
                if workflow.stopped_at is None or workflow.status not in _RUN_STATUSES:
                    continue
                jobs = tuple(self.state.jobs_of(workflow))
                runs.append(
                    Run(
                        workflow=workflow,
                        branch=pipeline.branch or pipeline.tag or "",
                        created_at=workflow.created_at,
                        stopped_at=workflow.stopped_at,
                        duration=round(workflow.stopped_at - workflow.created_at),
                        credits=sum(_credits(job) for job in jobs),
                        status=workflow.status,
                        jobs=jobs,
                    )
                )
        return runs

    def _window(self, query: MultiMapping[str]) -> float:
        name = query.get("reporting-window", "last-90-days")
        if name not in _WINDOWS:
            raise ApiError(400, f"Unknown reporting-window {name}.")
        return _WINDOWS[name] * _DAY

    def _branch_filter(
        self, project: ProjectRec, query: MultiMapping[str]
    ) -> Callable[[Run], bool]:
        if query.get("all-branches") == "true":
            if "branch" in query:
                raise ApiError(400, "Specify branch or all-branches, not both.")
            return lambda run: True
        branch = query.get("branch", project.default_branch)
        return lambda run: run.branch == branch

    def _project_runs(
        self, slug: str, query: MultiMapping[str], workflow_name: str | None = None
    ) -> tuple[ProjectRec, list[Run]]:
        project = self.state.api_project(slug)
        on_branch = self._branch_filter(project, query)
        runs = [
            r
            for r in self._runs(project)
            if on_branch(r) and (workflow_name is None or r.workflow.name == workflow_name)
        ]
        return project, runs

    @staticmethod
    def _between(runs: Iterable[Run], start: float, end: float) -> list[Run]:
        return [r for r in runs if start <= r.created_at < end]

    # -- metrics -----------------------------------------------------------------------------

    @staticmethod
    def _summary(runs: Sequence[Run], days: float) -> dict[str, Any]:
        total = len(runs)
        successes = sum(r.succeeded for r in runs)
        return {
            "total_runs": total,
            "total_duration_secs": sum(r.duration for r in runs),
            "total_credits_used": sum(r.credits for r in runs),
            "success_rate": successes / total if total else 0.0,
            "throughput": total / days,
        }

    @staticmethod
    def _trends(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, float]:
        return {k: _trend(float(current[k]), float(previous[k])) for k in current}

    def _workflow_metrics(self, runs: Sequence[Run], days: float) -> dict[str, Any]:
        total = len(runs)
        mttr, recoveries = _mttr(runs)
        return {
            "total_runs": total,
            "successful_runs": sum(r.succeeded for r in runs),
            "mttr": mttr,
            "total_credits_used": sum(r.credits for r in runs),
            "failed_runs": sum(r.failed for r in runs),
            "success_rate": sum(r.succeeded for r in runs) / total if total else 0.0,
            "duration_metrics": _durations([r.duration for r in runs]),
            "total_recoveries": recoveries,
            "throughput": total / days,
        }

    def workflow_metrics(self, slug: str, query: MultiMapping[str], size: int) -> dict[str, Any]:
        project, runs = self._project_runs(slug, query)
        span = self._window(query)
        end = self.state.clock()
        runs = self._between(runs, end - span, end)
        names = sorted({r.workflow.name for r in runs})
        rows = [
            (
                index,
                {
                    "name": name,
                    "metrics": self._workflow_metrics(
                        [r for r in runs if r.workflow.name == name], span / _DAY
                    ),
                    "window_start": iso(end - span),
                    "window_end": iso(end),
                    "project_id": project.id,
                },
            )
            for index, name in enumerate(names, 1)
        ]
        return page_of(rows, f"insights-workflows|{slug}", query.get("page-token"), size)

    def workflow_runs(
        self, slug: str, workflow_name: str, query: MultiMapping[str], size: int
    ) -> dict[str, Any]:
        _, runs = self._project_runs(slug, query, workflow_name)
        end = self.state.clock()
        start = end - 90 * _DAY
        if "start-date" in query:
            start = _timestamp(query["start-date"])
        if "end-date" in query:
            if "start-date" not in query:
                raise ApiError(400, "end-date needs a start-date.")
            end = _timestamp(query["end-date"])
        chosen = sorted(self._between(runs, start, end), key=lambda r: -r.created_at)
        rows = [
            (
                index,
                {
                    "id": r.workflow.id,
                    "branch": r.branch,
                    "duration": r.duration,
                    "created_at": iso(r.created_at),
                    "stopped_at": iso(r.stopped_at),
                    "credits_used": r.credits,
                    "status": r.status,
                    "is_approval": any(job.type == "approval" for job in r.jobs),
                },
            )
            for index, r in enumerate(chosen, 1)
        ]
        return page_of(rows, f"insights-runs|{slug}|{workflow_name}", query.get("page-token"), size)

    def job_metrics(
        self, slug: str, workflow_name: str, query: MultiMapping[str], size: int
    ) -> dict[str, Any]:
        _, runs = self._project_runs(slug, query, workflow_name)
        span = self._window(query)
        end = self.state.clock()
        jobs = [
            j for r in self._between(runs, end - span, end) for j in r.jobs if j.type == "build"
        ]
        wanted = query.get("job-name")
        names = sorted({j.name for j in jobs if wanted is None or j.name == wanted})
        rows = []
        for index, name in enumerate(names, 1):
            mine = [j for j in jobs if j.name == name and j.status != "not_run"]
            successes = sum(j.status == "success" for j in mine)
            rows.append(
                (
                    index,
                    {
                        "name": name,
                        "metrics": {
                            "total_runs": len(mine),
                            "failed_runs": len(mine) - successes,
                            "successful_runs": successes,
                            "duration_metrics": _durations([_job_seconds(j) for j in mine]),
                            "success_rate": successes / len(mine) if mine else 0.0,
                            "total_credits_used": sum(_credits(j) for j in mine),
                            "throughput": len(mine) / (span / _DAY),
                        },
                        "window_start": iso(end - span),
                        "window_end": iso(end),
                    },
                )
            )
        return page_of(rows, f"insights-jobs|{slug}|{workflow_name}", query.get("page-token"), size)

    def workflow_summary(
        self, slug: str, workflow_name: str, query: MultiMapping[str]
    ) -> dict[str, Any]:
        project, runs = self._project_runs(slug, query, workflow_name)
        end = self.state.clock()
        span = 90 * _DAY
        current = self._between(runs, end - span, end)
        previous = self._between(runs, end - 2 * span, end - span)
        metrics = self._workflow_metrics(current, span / _DAY)
        metrics.pop("total_recoveries")
        metrics.update(
            completed_runs=len(current), window_start=iso(end - span), window_end=iso(end)
        )
        before = self._workflow_metrics(previous, span / _DAY)

        def figures(m: dict[str, Any]) -> dict[str, float]:
            durations = m["duration_metrics"]
            return {
                "total_runs": m["total_runs"],
                "failed_runs": m["failed_runs"],
                "success_rate": m["success_rate"],
                "p95_duration_secs": durations["p95"] or 0,
                "median_duration_secs": durations["median"] or 0,
                "total_credits_used": m["total_credits_used"],
                "mttr": m["mttr"] or 0,
                "throughput": m["throughput"],
            }

        return {
            "metrics": metrics,
            "trends": self._trends(figures(metrics), figures(before)),
            "workflow_names": sorted({r.workflow.name for r in self._runs(project)}),
        }

    def test_metrics(
        self, slug: str, workflow_name: str, query: MultiMapping[str]
    ) -> dict[str, Any]:
        _, runs = self._project_runs(slug, query, workflow_name)
        recent = sorted(runs, key=lambda r: -r.created_at)[:10]
        by_test: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
        test_runs = []
        total_tests = 0
        for run in recent:
            counts = {"error": 0, "failure": 0, "skipped": 0, "success": 0, "total": 0}
            for job in run.jobs:
                for test in self.state.tests_of(job):
                    by_test.setdefault((test.classname, test.name, job.name), []).append(
                        (test.result, test.run_time)
                    )
                    counts[test.result if test.result in counts else "error"] += 1
                    counts["total"] += 1
            total_tests += counts["total"]
            test_runs.append(
                {
                    "pipeline_number": run.workflow.pipeline.number,
                    "workflow_id": run.workflow.id,
                    "success_rate": counts["success"] / counts["total"] if counts["total"] else 0.0,
                    "test_counts": counts,
                }
            )
        tests: list[dict[str, Any]] = []
        for (classname, name, job_name), results in by_test.items():
            failed = sum(result == "failure" for result, _ in results)
            tests.append(
                {
                    "p95_duration": _percentile([t for _, t in results], 0.95),
                    "total_runs": len(results),
                    "classname": classname,
                    "failed_runs": failed,
                    "flaky": 0 < failed < len(results),
                    "source": "junit",
                    "file": None,
                    "job_name": job_name,
                    "test_name": name,
                }
            )
        failing = sorted((t for t in tests if t["failed_runs"]), key=lambda t: -t["failed_runs"])
        slowest = sorted(tests, key=lambda t: -t["p95_duration"])
        return {
            "average_test_count": total_tests // len(recent) if recent else 0,
            "most_failed_tests": failing[:10],
            "most_failed_tests_extra": max(0, len(failing) - 10),
            "slowest_tests": slowest[:10],
            "slowest_tests_extra": max(0, len(slowest) - 10),
            "total_test_runs": total_tests,
            "test_runs": test_runs,
        }

    def flaky_tests(self, slug: str) -> dict[str, Any]:
        """Tests that both passed and failed on one commit, on any branch."""
        project = self.state.api_project(slug)
        seen: dict[tuple[str, str, str], list[tuple[Run, JobRec, str, float]]] = {}
        for run in self._runs(project):
            for job in run.jobs:
                for test in self.state.tests_of(job):
                    key = (run.workflow.pipeline.revision, test.classname, test.name)
                    seen.setdefault(key, []).append((run, job, test.result, test.run_time))
        items = []
        for (_, classname, name), results in seen.items():
            outcomes = {result for _, _, result, _ in results}
            if not {"success", "failure"} <= outcomes:
                continue
            run, job, _, _ = results[-1]
            items.append(
                {
                    "time-wasted": round(sum(t for _, _, r, t in results if r == "failure")),
                    "workflow-created-at": iso(run.created_at),
                    "workflow-id": run.workflow.id,
                    "classname": classname,
                    "pipeline-number": run.workflow.pipeline.number,
                    "workflow-name": run.workflow.name,
                    "test-name": name,
                    "job-name": job.name,
                    "job-number": job.number or 0,
                    "times-flaked": sum(r == "failure" for _, _, r, _ in results),
                    "source": "junit",
                    "file": None,
                }
            )
        return {"flaky-tests": items, "total-flaky-tests": float(len(items))}

    def branches(self, slug: str, workflow_name: str | None) -> dict[str, Any]:
        project = self.state.api_project(slug)
        names = set()
        for pipeline in self.state.pipelines_of(slug):
            if pipeline.branch is None:
                continue
            workflows = self.state.workflows_of(pipeline)
            if workflow_name is None or any(w.name == workflow_name for w in workflows):
                names.add(pipeline.branch)
        return {
            "org_id": project.organization_id,
            "project_id": project.id,
            "branches": sorted(names)[:5000],
        }

    def project_summary(self, slug: str, query: MultiMapping[str]) -> dict[str, Any]:
        """``/insights/pages/{slug}/summary``: every branch, per workflow and per branch."""
        project = self.state.api_project(slug)
        span = self._window(query)
        days = span / _DAY
        end = self.state.clock()
        branches = set(query.getall("branches", []))
        names = set(query.getall("workflow-names", []))
        runs = [
            r
            for r in self._runs(project)
            if (not branches or r.branch in branches) and (not names or r.workflow.name in names)
        ]
        current = self._between(runs, end - span, end)
        previous = self._between(runs, end - 2 * span, end - span)
        summary = self._summary(current, days)

        def page_metrics(chosen: Sequence[Run]) -> dict[str, Any]:
            total = len(chosen)
            return {
                "total_credits_used": sum(r.credits for r in chosen),
                "p95_duration_secs": float(_percentile([r.duration for r in chosen], 0.95))
                if chosen
                else 0.0,
                "total_runs": total,
                "success_rate": sum(r.succeeded for r in chosen) / total if total else 0.0,
            }

        def entry(match: Callable[[Run], bool], **labels: str) -> dict[str, Any]:
            now_metrics = page_metrics([r for r in current if match(r)])
            before = page_metrics([r for r in previous if match(r)])
            return {**labels, "metrics": now_metrics, "trends": self._trends(now_metrics, before)}

        workflows = sorted({r.workflow.name for r in current})
        pairs = sorted({(r.workflow.name, r.branch) for r in current})
        return {
            "org_id": project.organization_id,
            "project_id": project.id,
            "project_data": {
                "metrics": summary,
                "trends": self._trends(summary, self._summary(previous, days)),
            },
            "project_workflow_data": [
                entry(_of_workflow(name), workflow_name=name) for name in workflows
            ],
            "project_workflow_branch_data": [
                entry(_of_workflow(name, branch), workflow_name=name, branch=branch)
                for name, branch in pairs
            ],
            "all_branches": sorted({r.branch for r in runs}),
            "all_workflows": sorted({r.workflow.name for r in runs}),
        }

    def org_summary(self, org_slug: str, query: MultiMapping[str]) -> dict[str, Any]:
        org = self.state.api_org(org_slug)
        span = self._window(query)
        days = span / _DAY
        end = self.state.clock()
        wanted = set(query.getall("project-names", []))
        projects = [
            p
            for p in self.state.projects.values()
            if p.organization_id == org.id and (not wanted or p.name in wanted)
        ]
        current_all: list[Run] = []
        previous_all: list[Run] = []
        per_project = []
        for project in projects:
            runs = self._runs(project)
            current = self._between(runs, end - span, end)
            previous = self._between(runs, end - 2 * span, end - span)
            current_all += current
            previous_all += previous
            now_summary = self._summary(current, days)
            before = self._summary(previous, days)
            keys = ("total_credits_used", "total_duration_secs", "total_runs", "success_rate")
            metrics = {k: now_summary[k] for k in keys}
            per_project.append(
                {
                    "project_name": project.name,
                    "metrics": metrics,
                    "trends": self._trends(metrics, {k: before[k] for k in keys}),
                }
            )
        summary = self._summary(current_all, days)
        return {
            "org_data": {
                "metrics": summary,
                "trends": self._trends(summary, self._summary(previous_all, days)),
            },
            "org_project_data": per_project,
            "all_projects": sorted(p.name for p in projects),
        }

    def job_timeseries(
        self, slug: str, workflow_name: str, query: MultiMapping[str], size: int
    ) -> dict[str, Any]:
        project = self.state.api_project(slug)
        granularity = query.get("granularity", "daily")
        if granularity not in ("daily", "hourly"):
            raise ApiError(400, "granularity is daily or hourly.")
        bucket = _DAY if granularity == "daily" else 3600.0
        end = _timestamp(query["end-date"]) if "end-date" in query else self.state.clock()
        default_span = 90 * _DAY if granularity == "daily" else 2 * _DAY
        start = _timestamp(query["start-date"]) if "start-date" in query else end - default_span
        branch = query.get("branch", project.default_branch)
        groups: dict[tuple[float, str], list[JobRec]] = {}
        for run in self._runs(project):
            if run.workflow.name != workflow_name or run.branch != branch:
                continue
            for job in run.jobs:
                if job.type != "build" or job.started_at is None or job.stopped_at is None:
                    continue
                if not start <= job.started_at < end:
                    continue
                slot = job.started_at - job.started_at % bucket
                groups.setdefault((slot, job.name), []).append(job)
        rows = []
        for index, ((slot, name), jobs) in enumerate(sorted(groups.items()), 1):
            successes = sum(j.status == "success" for j in jobs)
            credits = [_credits(j) for j in jobs]
            durations = _durations([_job_seconds(j) for j in jobs], mean=False)
            durations["total"] = round(sum(_job_seconds(j) for j in jobs))
            rows.append(
                (
                    index,
                    {
                        "name": name,
                        "min_started_at": iso(min(j.started_at or 0.0 for j in jobs)),
                        "max_ended_at": iso(max(j.stopped_at or 0.0 for j in jobs)),
                        "timestamp": iso(slot),
                        "metrics": {
                            "total_runs": len(jobs),
                            "failed_runs": len(jobs) - successes,
                            "successful_runs": successes,
                            "throughput": len(jobs) / (bucket / _DAY),
                            "median_credits_used": round(statistics.median(credits)),
                            "total_credits_used": sum(credits),
                            "duration_metrics": durations,
                        },
                    },
                )
            )
        return page_of(rows, f"timeseries|{slug}|{workflow_name}", query.get("page-token"), size)


def _of_workflow(name: str, branch: str | None = None) -> Callable[[Run], bool]:
    def match(run: Run) -> bool:
        return run.workflow.name == name and (branch is None or run.branch == branch)

    return match


def _timestamp(text: str) -> float:
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{text!r} is not an RFC 3339 date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
