"""Reading the fake's data as the API answers it: single records, filtered lists, pages, and
what CircleCI derives from a pipeline (its config, its pipeline values).

Pages use keyset tokens (the position of the last item seen, plus a digest of which list and
filter it belongs to), so items added during a walk neither repeat nor shift the walk, as with
CircleCI's own cursors.
"""

from __future__ import annotations

import base64
import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from ._plans import JobPlan, WorkflowPlan
from ._records import ApiError, PipelineRec
from ._stores import Listing, Rec, Stores

__all__ = [
    "ORG_PIPELINES_MAX",
    "Queries",
    "decode_page_token",
    "encode_page_token",
    "page_of",
    "paginate",
    "render_config",
]

#: The most pipelines ``GET /pipeline`` returns, as documented.
ORG_PIPELINES_MAX = 250


def _digest(list_id: str) -> str:
    return hashlib.blake2s(list_id.encode(), digest_size=6).hexdigest()


def encode_page_token(after: int, list_id: str) -> str:
    raw = f"{after}.{_digest(list_id)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_page_token(token: str, list_id: str) -> int:
    """The position a token continues after; ApiError 400 if it is not one of ours for this list."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        after, digest = raw.split(".")
        if not after.isdigit() or digest != _digest(list_id):
            raise ValueError(token)
        return int(after)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "Invalid page token.") from None


def paginate(
    listing: Listing[Rec], list_id: str, token: str | None, size: int, newest_first: bool
) -> dict[str, Any]:
    """One page of a listing as the API's ``{"items", "next_page_token"}``."""
    after = decode_page_token(token, list_id) if token else None
    items, next_after = listing.page(after, size, newest_first)
    return {
        "items": [item.to_json() for item in items],
        "next_page_token": None if next_after is None else encode_page_token(next_after, list_id),
    }


def page_of(
    items: Sequence[tuple[int, dict[str, Any]]], list_id: str, token: str | None, size: int
) -> dict[str, Any]:
    """A page of ``(seq, json)`` pairs in ascending ``seq`` order (for the admin stores)."""
    after = decode_page_token(token, list_id) if token else None
    keys = [seq for seq, _ in items]
    begin = 0 if after is None else bisect_right(keys, after)
    chunk = items[begin : begin + size]
    more = begin + size < len(items)
    return {
        "items": [item for _, item in chunk],
        "next_page_token": encode_page_token(chunk[-1][0], list_id) if more else None,
    }


class Queries(Stores):
    """The stores, read as the core v2 endpoints answer."""

    def get_project(self, slug: str) -> dict[str, Any]:
        return self.api_project(slug).to_json()

    def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return self.api_pipeline(pipeline_id).to_json()

    def get_pipeline_by_number(self, slug: str, number: str) -> dict[str, Any]:
        self.api_project(slug)
        if number.isascii() and number.isdigit():
            for pipeline in reversed(self.pipelines_of(slug)):
                if pipeline.number == int(number):
                    return pipeline.to_json()
        raise ApiError(404, "Pipeline not found")

    def get_workflow(self, workflow_id: str) -> dict[str, Any]:
        return self.api_workflow(workflow_id).to_json()

    def get_job_details(self, slug: str, number: str) -> dict[str, Any]:
        return self.api_job(slug, number).details_json()

    def get_user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(404, "User not found")
        return user.to_json()

    def collaborations(self) -> list[dict[str, Any]]:
        return [org.collaboration_json() for org in self.orgs.values()]

    def list_pipelines(
        self, slug: str, branch: str | None, token: str | None, size: int
    ) -> dict[str, Any]:
        self.api_project(slug)
        listing = (
            self.pipeline_listing(slug) if branch is None else self.branch_listing(slug, branch)
        )
        list_id = f"pipelines|{slug}|{'' if branch is None else branch}"
        return paginate(listing, list_id, token, size, newest_first=True)

    def list_my_pipelines(self, slug: str, token: str | None, size: int) -> dict[str, Any]:
        """Every pipeline of the fake is triggered by its one user."""
        self.api_project(slug)
        listing = Listing(p for p in self.pipelines_of(slug) if p.actor is self.user)
        return paginate(listing, f"mine|{slug}", token, size, newest_first=True)

    def list_org_pipelines(
        self, org_slug: str | None, mine: bool, token: str | None, size: int
    ) -> dict[str, Any]:
        """``GET /pipeline``: the most recent pipelines of an organization's projects (all
        organizations when none is given), newest first, at most 250."""
        if org_slug is not None:
            self.api_org(org_slug)
        chosen = [
            p
            for slug, project in self.projects.items()
            if org_slug is None or project.organization_slug == org_slug
            for p in self.pipelines_of(slug)
            if not mine or p.actor is self.user
        ]
        chosen.sort(key=lambda p: p.seq)
        listing = Listing(chosen[-ORG_PIPELINES_MAX:])
        return paginate(listing, f"org|{org_slug}|{mine}", token, size, newest_first=True)

    def list_workflows(self, pipeline_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.api_pipeline(pipeline_id)
        listing = self.workflow_listing(pipeline_id)
        return paginate(listing, f"workflows|{pipeline_id}", token, size, newest_first=False)

    def list_jobs(self, workflow_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.api_workflow(workflow_id)
        listing = self.job_listing(workflow_id)
        return paginate(listing, f"jobs|{workflow_id}", token, size, newest_first=False)

    def list_tests(self, slug: str, number: str, token: str | None, size: int) -> dict[str, Any]:
        job = self.api_job(slug, number)
        listing = self.test_listing(job.id)
        return paginate(listing, f"tests|{job.id}", token, size, newest_first=False)

    def pipeline_config(self, pipeline_id: str) -> dict[str, Any]:
        pipeline = self.api_pipeline(pipeline_id)
        plan = pipeline.plan if pipeline.plan is not None else self._plan_of_seeded(pipeline)
        source = render_config(plan)
        return {"source": source, "compiled": source}

    def pipeline_values(self, pipeline_id: str) -> dict[str, Any]:
        """The pipeline values CircleCI documents, for this pipeline."""
        pipeline = self.api_pipeline(pipeline_id)
        values: dict[str, Any] = {
            "pipeline.id": pipeline.id,
            "pipeline.number": pipeline.number,
            "pipeline.project.git_url": pipeline.project.vcs_url,
            "pipeline.project.type": pipeline.project.provider.lower(),
            "pipeline.git.revision": pipeline.revision,
            "pipeline.trigger_source": pipeline.trigger_type,
        }
        if pipeline.tag is not None:
            values["pipeline.git.tag"] = pipeline.tag
        else:
            values["pipeline.git.branch"] = pipeline.branch
        return values

    def _plan_of_seeded(self, pipeline: PipelineRec) -> tuple[WorkflowPlan, ...]:
        """What a seeded pipeline (which has no plan) ran, read back from its records."""
        return tuple(
            WorkflowPlan(w.name, tuple(JobPlan(j.name) for j in self.jobs_of(w)))
            for w in self.workflows_of(pipeline)
        )


def render_config(plan: Sequence[WorkflowPlan]) -> str:
    """A CircleCI config (YAML text) that would run ``plan``."""
    jobs: dict[str, JobPlan] = {}
    for workflow in plan:
        for job in workflow.jobs:
            if job.type == "build":
                jobs.setdefault(job.name, job)
    lines = ["version: 2.1", "jobs:"]
    for name, job in jobs.items():
        lines += [
            f"  {name}:",
            "    docker:",
            "      - image: cimg/base:current",
            f"    resource_class: {job.resource_class}",
            f"    parallelism: {job.parallelism}",
            "    steps:",
            "      - checkout",
            f"      - run: sleep {job.seconds:g}",
        ]
    lines.append("workflows:")
    for workflow in plan:
        lines += [f"  {workflow.name}:", "    jobs:"]
        for job in workflow.jobs:
            extra = []
            if job.type == "approval":
                extra.append("type: approval")
            if job.requires:
                extra.append(f"requires: [{', '.join(job.requires)}]")
            if extra:
                lines.append(f"      - {job.name}:")
                lines += [f"          {item}" for item in extra]
            else:
                lines.append(f"      - {job.name}")
    return "\n".join(lines) + "\n"
