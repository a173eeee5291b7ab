"""Insights: aggregated metrics over workflow and job runs (recent 90 days at most)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum, key
from .workflows import WorkflowStatus

__all__ = [
    "DurationMetrics",
    "FlakyTest",
    "FlakyTests",
    "InsightsBranches",
    "JobMetrics",
    "JobTimeseries",
    "JobTimeseriesMetrics",
    "OrgProjectData",
    "OrgProjectMetrics",
    "OrgProjectTrends",
    "OrgSummary",
    "ProjectWorkflowsPageData",
    "ReportingWindow",
    "SummaryData",
    "SummaryMetrics",
    "SummaryTrends",
    "TestCounts",
    "TestMetric",
    "TestMetrics",
    "TestRun",
    "TimeseriesDurationMetrics",
    "TimeseriesGranularity",
    "WorkflowBranchPageData",
    "WorkflowInsights",
    "WorkflowJobInsights",
    "WorkflowMetrics",
    "WorkflowPageData",
    "WorkflowPageMetrics",
    "WorkflowPageTrends",
    "WorkflowRun",
    "WorkflowSummary",
    "WorkflowSummaryMetrics",
    "WorkflowTrends",
]


class ReportingWindow(OpenEnum):
    """The aggregation window of summary endpoints (default: last 90 days)."""

    LAST_24_HOURS = "last-24-hours"
    LAST_7_DAYS = "last-7-days"
    LAST_30_DAYS = "last-30-days"
    LAST_60_DAYS = "last-60-days"
    LAST_90_DAYS = "last-90-days"


class TimeseriesGranularity(OpenEnum):
    """Hourly data is kept for 48 hours, daily data for 90 days."""

    DAILY = "daily"
    HOURLY = "hourly"


@attrs.frozen(kw_only=True)
class DurationMetrics:
    """Seconds; ``None`` when there were no runs to measure."""

    min: int | None = None
    mean: int | None = None
    median: int | None = None
    p95: int | None = None
    max: int | None = None
    standard_deviation: float | None = None


# -- org and project summaries ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SummaryMetrics:
    total_runs: int
    total_duration_secs: int
    total_credits_used: int
    success_rate: float
    throughput: float


@attrs.frozen(kw_only=True)
class SummaryTrends:
    """Each figure's change against the previous window of the same length (a ratio)."""

    total_runs: float
    total_duration_secs: float
    total_credits_used: float
    success_rate: float
    throughput: float


@attrs.frozen(kw_only=True)
class SummaryData:
    metrics: SummaryMetrics
    trends: SummaryTrends


@attrs.frozen(kw_only=True)
class OrgProjectMetrics:
    total_credits_used: int
    total_duration_secs: int
    total_runs: int
    success_rate: float


@attrs.frozen(kw_only=True)
class OrgProjectTrends:
    total_credits_used: float
    total_duration_secs: float
    total_runs: float
    success_rate: float


@attrs.frozen(kw_only=True)
class OrgProjectData:
    project_name: str
    metrics: OrgProjectMetrics
    trends: OrgProjectTrends


@attrs.frozen(kw_only=True)
class OrgSummary:
    """``getOrgSummaryData``: the organization as a whole and per project."""

    org_data: SummaryData
    org_project_data: list[OrgProjectData]
    all_projects: list[str] | None = None


@attrs.frozen(kw_only=True)
class WorkflowPageMetrics:
    total_credits_used: int
    p95_duration_secs: float
    total_runs: int
    success_rate: float


@attrs.frozen(kw_only=True)
class WorkflowPageTrends:
    total_credits_used: float
    p95_duration_secs: float
    total_runs: float
    success_rate: float


@attrs.frozen(kw_only=True)
class WorkflowPageData:
    workflow_name: str
    metrics: WorkflowPageMetrics
    trends: WorkflowPageTrends


@attrs.frozen(kw_only=True)
class WorkflowBranchPageData:
    workflow_name: str
    branch: str
    metrics: WorkflowPageMetrics
    trends: WorkflowPageTrends


@attrs.frozen(kw_only=True)
class ProjectWorkflowsPageData:
    """``getProjectWorkflowsPageData``: a project per workflow and per branch. The spec gives
    ``org_id`` and ``project_id`` no type; CircleCI sends UUID text."""

    org_id: str | None = None
    project_id: str | None = None
    project_data: SummaryData | None = None
    project_workflow_data: list[WorkflowPageData] | None = None
    project_workflow_branch_data: list[WorkflowBranchPageData] | None = None
    all_branches: list[str] | None = None
    all_workflows: list[str] | None = None


# -- workflows and jobs --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WorkflowMetrics:
    total_runs: int
    successful_runs: int
    failed_runs: int
    success_rate: float
    throughput: float
    duration_metrics: DurationMetrics
    #: Mean time to recovery, seconds.
    mttr: int | None = None
    total_credits_used: int | None = None
    total_recoveries: int | None = None


@attrs.frozen(kw_only=True)
class WorkflowInsights:
    """One workflow's metrics (``getProjectWorkflowMetrics`` item)."""

    name: str
    metrics: WorkflowMetrics
    window_start: dt.datetime
    window_end: dt.datetime
    project_id: str | None = None


@attrs.frozen(kw_only=True)
class WorkflowRun:
    """One recent run of a workflow (``getProjectWorkflowRuns`` item)."""

    id: uuid.UUID
    branch: str
    created_at: dt.datetime
    credits_used: int
    is_approval: bool
    status: WorkflowStatus | None = None
    duration: int | None = None
    stopped_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class JobMetrics:
    total_runs: int
    failed_runs: int
    successful_runs: int
    success_rate: float
    total_credits_used: int
    throughput: float
    duration_metrics: DurationMetrics


@attrs.frozen(kw_only=True)
class WorkflowJobInsights:
    """One job's metrics within a workflow (``getProjectWorkflowJobMetrics`` item)."""

    name: str
    metrics: JobMetrics
    window_start: dt.datetime
    window_end: dt.datetime


@attrs.frozen(kw_only=True)
class WorkflowSummaryMetrics:
    total_runs: int
    successful_runs: int
    failed_runs: int
    success_rate: float
    throughput: float
    window_start: dt.datetime
    window_end: dt.datetime
    duration_metrics: DurationMetrics
    mttr: int | None = None
    total_credits_used: int | None = None
    completed_runs: int | None = None


@attrs.frozen(kw_only=True)
class WorkflowTrends:
    total_runs: float
    failed_runs: float
    success_rate: float
    p95_duration_secs: float
    median_duration_secs: float
    total_credits_used: float
    mttr: float
    throughput: float


@attrs.frozen(kw_only=True)
class WorkflowSummary:
    """``getWorkflowSummary``: one workflow's metrics and their trends."""

    metrics: WorkflowSummaryMetrics
    trends: WorkflowTrends
    workflow_names: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class TimeseriesDurationMetrics:
    min: int | None = None
    median: int | None = None
    max: int | None = None
    p95: int | None = None
    total: int | None = None


@attrs.frozen(kw_only=True)
class JobTimeseriesMetrics:
    total_runs: int
    failed_runs: int
    successful_runs: int
    throughput: float
    median_credits_used: int
    total_credits_used: int
    duration_metrics: TimeseriesDurationMetrics


@attrs.frozen(kw_only=True)
class JobTimeseries:
    """One job's metrics in one time bucket (``getJobTimeseries`` item)."""

    name: str
    min_started_at: dt.datetime
    max_ended_at: dt.datetime
    timestamp: dt.datetime
    metrics: JobTimeseriesMetrics


# -- branches and tests ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InsightsBranches:
    """Branches Insights knows for a project (at most 5,000). Ids are text: the spec gives
    them no type."""

    branches: list[str]
    org_id: str | None = None
    project_id: str | None = None


@attrs.frozen(kw_only=True)
class FlakyTest:
    """A test that both passed and failed on the same commit. ``workflow_created_at`` is text
    because the spec declares no date-time format for it."""

    test_name: str = attrs.field(metadata=key("test-name"))
    job_name: str = attrs.field(metadata=key("job-name"))
    job_number: int = attrs.field(metadata=key("job-number"))
    workflow_name: str = attrs.field(metadata=key("workflow-name"))
    workflow_id: str = attrs.field(metadata=key("workflow-id"))
    workflow_created_at: str = attrs.field(metadata=key("workflow-created-at"))
    pipeline_number: int = attrs.field(metadata=key("pipeline-number"))
    times_flaked: int = attrs.field(metadata=key("times-flaked"))
    time_wasted: int | None = attrs.field(default=None, metadata=key("time-wasted"))
    classname: str | None = None
    source: str | None = None
    file: str | None = None


@attrs.frozen(kw_only=True)
class FlakyTests:
    flaky_tests: list[FlakyTest] = attrs.field(metadata=key("flaky-tests"))
    total_flaky_tests: float = attrs.field(metadata=key("total-flaky-tests"))


@attrs.frozen(kw_only=True)
class TestMetric:
    __test__ = False  # not a pytest test class

    test_name: str
    job_name: str
    total_runs: int
    failed_runs: int
    flaky: bool
    p95_duration: float | None = None
    classname: str | None = None
    source: str | None = None
    file: str | None = None


@attrs.frozen(kw_only=True)
class TestCounts:
    __test__ = False

    error: int
    failure: int
    skipped: int
    success: int
    total: int


@attrs.frozen(kw_only=True)
class TestRun:
    __test__ = False

    pipeline_number: int
    workflow_id: str
    success_rate: float
    test_counts: TestCounts


@attrs.frozen(kw_only=True)
class TestMetrics:
    """``getProjectWorkflowTestMetrics``: computed over the 10 most recent workflow runs."""

    __test__ = False

    average_test_count: int
    total_test_runs: int
    most_failed_tests: list[TestMetric]
    most_failed_tests_extra: int
    slowest_tests: list[TestMetric]
    slowest_tests_extra: int
    test_runs: list[TestRun]
