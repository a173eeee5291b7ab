"""``cci.insights``: metrics over recent workflow and job runs (the ``Insights`` tag).

Filters follow the API: ``branch`` (default: the default branch) or ``all_branches``, and
``reporting_window`` for summaries (``last-90-days`` unless given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..errors import ConfigurationError
from ..models.insights import (
    FlakyTests,
    InsightsBranches,
    JobTimeseries,
    OrgSummary,
    ProjectWorkflowsPageData,
    ReportingWindow,
    TestMetrics,
    TimeseriesGranularity,
    WorkflowInsights,
    WorkflowJobInsights,
    WorkflowRun,
    WorkflowSummary,
)
from ..pagination import AsyncPaginator
from ._base import Resource, operation, project_slug, segment

__all__ = ["InsightsAPI"]


def _branches(branch: str | None, all_branches: bool | None) -> dict[str, object]:
    if branch is not None and all_branches:
        raise ConfigurationError("give branch or all_branches=True, not both")
    return {"branch": branch, "all-branches": all_branches}


def _dates(start: dt.datetime | None, end: dt.datetime | None) -> dict[str, object]:
    if end is not None and start is None:
        raise ConfigurationError("end_date needs a start_date")
    return {"start-date": start, "end-date": end}


class InsightsAPI(Resource):
    namespace = "insights"

    @operation("getOrgSummaryData", "GET", "/insights/{org-slug}/summary")
    async def org_summary(
        self,
        org_slug: str,
        *,
        reporting_window: ReportingWindow | str | None = None,
        project_names: Sequence[str] | None = None,
    ) -> OrgSummary:
        """The organization's totals and trends, overall and per project."""
        return await self._call(
            "getOrgSummaryData",
            "GET",
            f"insights/{project_slug(org_slug)}/summary",
            OrgSummary,
            params={"reporting-window": reporting_window, "project-names": project_names},
        )

    @operation("getProjectWorkflowsPageData", "GET", "/insights/pages/{project-slug}/summary")
    async def project_summary(
        self,
        project: str,
        *,
        reporting_window: ReportingWindow | str | None = None,
        branches: Sequence[str] | None = None,
        workflow_names: Sequence[str] | None = None,
    ) -> ProjectWorkflowsPageData:
        """A project's metrics and trends per workflow and per branch."""
        return await self._call(
            "getProjectWorkflowsPageData",
            "GET",
            f"insights/pages/{project_slug(project)}/summary",
            ProjectWorkflowsPageData,
            params={
                "reporting-window": reporting_window,
                "branches": branches,
                "workflow-names": workflow_names,
            },
        )

    @operation("getAllInsightsBranches", "GET", "/insights/{project-slug}/branches")
    async def branches(self, project: str, *, workflow_name: str | None = None) -> InsightsBranches:
        return await self._call(
            "getAllInsightsBranches",
            "GET",
            f"insights/{project_slug(project)}/branches",
            InsightsBranches,
            params={"workflow-name": workflow_name},
        )

    @operation("getFlakyTests", "GET", "/insights/{project-slug}/flaky-tests")
    async def flaky_tests(self, project: str) -> FlakyTests:
        """Tests that passed and failed on the same commit (on any branch)."""
        return await self._call(
            "getFlakyTests", "GET", f"insights/{project_slug(project)}/flaky-tests", FlakyTests
        )

    @operation("getProjectWorkflowMetrics", "GET", "/insights/{project-slug}/workflows")
    def workflow_metrics(
        self,
        project: str,
        *,
        branch: str | None = None,
        all_branches: bool | None = None,
        reporting_window: ReportingWindow | str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[WorkflowInsights]:
        """Each workflow's run counts, success rate, durations and credits."""
        return self._list(
            f"insights/{project_slug(project)}/workflows",
            WorkflowInsights,
            params={**_branches(branch, all_branches), "reporting-window": reporting_window},
            page_token=page_token,
            max_items=max_items,
        )

    @operation(
        "getProjectWorkflowRuns", "GET", "/insights/{project-slug}/workflows/{workflow-name}"
    )
    def workflow_runs(
        self,
        project: str,
        workflow_name: str,
        *,
        branch: str | None = None,
        all_branches: bool | None = None,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[WorkflowRun]:
        """Recent runs of one workflow (90 days at most; ``end_date`` needs ``start_date``)."""
        return self._list(
            f"insights/{project_slug(project)}/workflows/{segment(workflow_name)}",
            WorkflowRun,
            params={**_branches(branch, all_branches), **_dates(start_date, end_date)},
            page_token=page_token,
            max_items=max_items,
        )

    @operation(
        "getProjectWorkflowJobMetrics",
        "GET",
        "/insights/{project-slug}/workflows/{workflow-name}/jobs",
    )
    def job_metrics(
        self,
        project: str,
        workflow_name: str,
        *,
        branch: str | None = None,
        all_branches: bool | None = None,
        reporting_window: ReportingWindow | str | None = None,
        job_name: str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[WorkflowJobInsights]:
        """Per-job metrics of one workflow."""
        return self._list(
            f"insights/{project_slug(project)}/workflows/{segment(workflow_name)}/jobs",
            WorkflowJobInsights,
            params={
                **_branches(branch, all_branches),
                "reporting-window": reporting_window,
                "job-name": job_name,
            },
            page_token=page_token,
            max_items=max_items,
        )

    @operation(
        "getWorkflowSummary",
        "GET",
        "/insights/{project-slug}/workflows/{workflow-name}/summary",
    )
    async def workflow_summary(
        self,
        project: str,
        workflow_name: str,
        *,
        branch: str | None = None,
        all_branches: bool | None = None,
    ) -> WorkflowSummary:
        return await self._call(
            "getWorkflowSummary",
            "GET",
            f"insights/{project_slug(project)}/workflows/{segment(workflow_name)}/summary",
            WorkflowSummary,
            params=_branches(branch, all_branches),
        )

    @operation(
        "getProjectWorkflowTestMetrics",
        "GET",
        "/insights/{project-slug}/workflows/{workflow-name}/test-metrics",
    )
    async def test_metrics(
        self,
        project: str,
        workflow_name: str,
        *,
        branch: str | None = None,
        all_branches: bool | None = None,
    ) -> TestMetrics:
        """Test results over the workflow's 10 most recent runs."""
        return await self._call(
            "getProjectWorkflowTestMetrics",
            "GET",
            f"insights/{project_slug(project)}/workflows/{segment(workflow_name)}/test-metrics",
            TestMetrics,
            params=_branches(branch, all_branches),
        )

    @operation(
        "getJobTimeseries",
        "GET",
        "/insights/time-series/{project-slug}/workflows/{workflow-name}/jobs",
    )
    def job_timeseries(
        self,
        project: str,
        workflow_name: str,
        *,
        branch: str | None = None,
        granularity: TimeseriesGranularity | str | None = None,
        start_date: dt.datetime | None = None,
        end_date: dt.datetime | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[JobTimeseries]:
        """Per-job metrics in hourly (48 h kept) or daily (90 days kept) buckets. Paginated
        although the spec declares no ``page-token``."""
        return self._list(
            f"insights/time-series/{project_slug(project)}/workflows/{segment(workflow_name)}/jobs",
            JobTimeseries,
            params={"branch": branch, "granularity": granularity, **_dates(start_date, end_date)},
            page_token=page_token,
            max_items=max_items,
        )
