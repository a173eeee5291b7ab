"""Where the fake keeps its records: collections keyed by id or slug, the per-parent listings
in creation order that pages are cut from, the counters behind deterministic ids and numbers,
and the lookups that answer 404.

Stores only hold and index; they never decide. Writers (``_seeding.py``, the admin stores) build
records and insert them, then call :meth:`Stores.touch` once the change is complete, so that a
bulk insertion bumps :attr:`Stores.version` once.
"""

from __future__ import annotations

import random
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from ._plans import WorkflowPlan
from ._records import (
    ApiError,
    JobRec,
    OrgRec,
    PipelineRec,
    ProjectRec,
    TestRec,
    UserRec,
    WorkflowRec,
)

__all__ = ["Listing", "Rec", "Stores"]

Rec = TypeVar("Rec", PipelineRec, WorkflowRec, JobRec, TestRec)


class Listing(Generic[Rec]):
    """Records in creation order, with their sequence numbers alongside for bisecting."""

    __slots__ = ("keys", "records")

    def __init__(self, records: Iterable[Rec] = ()) -> None:
        self.records: list[Rec] = list(records)
        self.keys: list[int] = [record.seq for record in self.records]

    def append(self, record: Rec) -> None:
        self.records.append(record)
        self.keys.append(record.seq)

    def page(
        self, after: int | None, size: int, newest_first: bool
    ) -> tuple[list[Rec], int | None]:
        """One page, and the key to continue after (None on the last page)."""
        keys = self.keys
        if newest_first:
            end = len(keys) if after is None else bisect_left(keys, after)
            start = max(0, end - size)
            return self.records[start:end][::-1], keys[start] if start > 0 else None
        begin = 0 if after is None else bisect_right(keys, after)
        stop = begin + size
        return self.records[begin:stop], keys[stop - 1] if stop < len(keys) else None


class Stores:
    """Every collection the fake serves from. Every change bumps :attr:`version`, so caches
    can tell; ids come from one seeded RNG, so a seed and a sequence of calls fix them all."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._rng = random.Random(seed)
        self.clock = clock
        self.version = 0
        self._seq = 0
        self.user = UserRec(self.new_id(), "fake-user", "Fake User", None)
        self.users: dict[str, UserRec] = {self.user.id: self.user}
        self.orgs: dict[str, OrgRec] = {}
        """By id."""
        self.projects: dict[str, ProjectRec] = {}
        """By slug."""
        self.pipelines: dict[str, PipelineRec] = {}
        self.workflows: dict[str, WorkflowRec] = {}
        self.jobs: dict[tuple[str, int], JobRec] = {}
        """Numbered jobs, by (project slug, job number)."""
        self.jobs_by_id: dict[str, JobRec] = {}
        self.plans: dict[str, tuple[WorkflowPlan, ...]] = {}
        """What a triggered pipeline of a project runs, by slug (the default plan when absent)."""
        self._org_ids: dict[str, str] = {}
        self._pipelines: dict[str, Listing[PipelineRec]] = {}
        self._pipelines_by_branch: dict[tuple[str, str], Listing[PipelineRec]] = {}
        self._pipeline_numbers: dict[str, int] = {}
        self._workflows_of: dict[str, Listing[WorkflowRec]] = {}
        self._jobs_of: dict[str, Listing[JobRec]] = {}
        self._job_numbers: dict[str, int] = {}
        self._tests: dict[str, Listing[TestRec]] = {}

    # ids and versions ------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh deterministic UUID."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def random(self) -> random.Random:
        """The seeded RNG every id and generated value comes from."""
        return self._rng

    def next_seq(self) -> int:
        """The next position in the one creation order all records share."""
        self._seq += 1
        return self._seq

    def touch(self) -> None:
        """Record a change: cached answers are stale from now on."""
        self.version += 1
        self._pipelines_by_branch.clear()

    # inserting and removing ------------------------------------------------------------

    def insert_org(self, org: OrgRec) -> None:
        self.orgs[org.id] = org
        self._org_ids[org.slug] = org.id

    def remove_org(self, org: OrgRec) -> None:
        """Forget an organization (its projects are the caller's to delete first)."""
        del self.orgs[org.id]
        self._org_ids.pop(org.slug, None)
        self.touch()

    def org_with_slug(self, slug: str) -> OrgRec | None:
        known = self._org_ids.get(slug)
        return None if known is None else self.orgs[known]

    def insert_project(self, project: ProjectRec) -> None:
        """Store a project; a project deleted and added again keeps its pipeline history and
        numbering, as the slug's listings outlive it."""
        slug = project.slug
        self.projects[slug] = project
        self._pipelines.setdefault(slug, Listing())
        self._pipeline_numbers.setdefault(slug, 0)
        self._job_numbers.setdefault(slug, 0)

    def remove_project(self, slug: str) -> None:
        del self.projects[slug]
        self.touch()

    def take_pipeline_numbers(self, slug: str, count: int = 1) -> int:
        """Reserve the next ``count`` pipeline numbers of a project; the first of them."""
        first = self._pipeline_numbers[slug] + 1
        self._pipeline_numbers[slug] = first + count - 1
        return first

    def insert_pipeline(self, pipeline: PipelineRec) -> None:
        self._pipelines[pipeline.project.slug].append(pipeline)
        self.pipelines[pipeline.id] = pipeline

    def insert_workflow(self, workflow: WorkflowRec) -> None:
        listing = self._workflows_of.get(workflow.pipeline.id)
        if listing is None:
            listing = self._workflows_of[workflow.pipeline.id] = Listing()
        listing.append(workflow)
        self.workflows[workflow.id] = workflow

    def insert_job(self, job: JobRec) -> None:
        listing = self._jobs_of.get(job.workflow.id)
        if listing is None:
            listing = self._jobs_of[job.workflow.id] = Listing()
        listing.append(job)
        self.jobs_by_id[job.id] = job

    def number_job(self, job: JobRec) -> None:
        """Give a job the next number of its project (CircleCI numbers jobs about to run)."""
        slug = job.slug
        number = self._job_numbers[slug] + 1
        self._job_numbers[slug] = number
        job.number = number
        self.jobs[slug, number] = job

    def insert_test(self, job: JobRec, test: TestRec) -> None:
        listing = self._tests.get(job.id)
        if listing is None:
            listing = self._tests[job.id] = Listing()
        listing.append(test)

    # what belongs to what, in creation order -------------------------------------------

    def pipelines_of(self, slug: str) -> list[PipelineRec]:
        listing = self._pipelines.get(slug)
        return [] if listing is None else listing.records

    def workflows_of(self, pipeline: PipelineRec) -> list[WorkflowRec]:
        listing = self._workflows_of.get(pipeline.id)
        return [] if listing is None else listing.records

    def jobs_of(self, workflow: WorkflowRec) -> list[JobRec]:
        listing = self._jobs_of.get(workflow.id)
        return [] if listing is None else listing.records

    def tests_of(self, job: JobRec) -> list[TestRec]:
        listing = self._tests.get(job.id)
        return [] if listing is None else listing.records

    # the same as listings, for cutting pages -------------------------------------------

    def pipeline_listing(self, slug: str) -> Listing[PipelineRec]:
        """A known project's pipelines (KeyError for a slug never added)."""
        return self._pipelines[slug]

    def branch_listing(self, slug: str, branch: str) -> Listing[PipelineRec]:
        """A project's pipelines on one branch, indexed once until the next change."""
        key = (slug, branch)
        listing = self._pipelines_by_branch.get(key)
        if listing is None:
            listing = self._pipelines_by_branch[key] = Listing(
                p for p in self._pipelines[slug].records if p.branch == branch
            )
        return listing

    def workflow_listing(self, pipeline_id: str) -> Listing[WorkflowRec]:
        return self._workflows_of.get(pipeline_id, Listing[WorkflowRec]())

    def job_listing(self, workflow_id: str) -> Listing[JobRec]:
        return self._jobs_of.get(workflow_id, Listing[JobRec]())

    def test_listing(self, job_id: str) -> Listing[TestRec]:
        return self._tests.get(job_id, Listing[TestRec]())

    # lookups the routes use: a 404 for what is not there -------------------------------

    def api_pipeline(self, pipeline_id: str) -> PipelineRec:
        try:
            return self.pipelines[pipeline_id]
        except KeyError:
            raise ApiError(404, "Pipeline not found") from None

    def api_workflow(self, workflow_id: str) -> WorkflowRec:
        try:
            return self.workflows[workflow_id]
        except KeyError:
            raise ApiError(404, "Workflow not found") from None

    def api_project(self, slug: str) -> ProjectRec:
        project = self.projects.get(slug)
        if project is None:
            raise ApiError(404, "Project not found")
        return project

    def api_project_by_id(self, project_id: str) -> ProjectRec:
        for project in self.projects.values():
            if project.id == project_id:
                return project
        raise ApiError(404, "Project not found")

    def api_job(self, slug: str, number: str) -> JobRec:
        self.api_project(slug)
        job = self.jobs.get((slug, int(number))) if number.isascii() and number.isdigit() else None
        if job is None:
            raise ApiError(404, "Job not found")
        return job

    def api_job_by_id(self, job_id: str) -> JobRec:
        job = self.jobs_by_id.get(job_id)
        if job is None:
            raise ApiError(404, "Job not found")
        return job

    def api_org(self, slug_or_id: str) -> OrgRec:
        org = self.orgs.get(slug_or_id)
        if org is None and slug_or_id in self._org_ids:
            org = self.orgs[self._org_ids[slug_or_id]]
        if org is None:
            raise ApiError(404, "Organization not found")
        return org
