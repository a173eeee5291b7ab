"""The fake's CI data as one object: :class:`FakeState` is the stores (``_stores.py``) filled by
seeding (``_seeding.py``) and read by queries (``_queries.py``), plus the core API's writes
(creating and deleting projects, triggering pipelines), which validate like CircleCI and answer
:class:`ApiError`.

The records themselves live in ``_records.py``. The names the rest of the fake imports from
here are re-exported, so ``from ._state import ApiError, FakeState, iso, page_of`` keeps working.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ._plans import DEFAULT_PLAN
from ._queries import (
    ORG_PIPELINES_MAX,
    Queries,
    decode_page_token,
    encode_page_token,
    page_of,
    render_config,
)
from ._records import (
    JOB_STATUSES,
    JOB_TYPES,
    JOB_UNFINISHED,
    PIPELINE_ERROR_TYPES,
    PIPELINE_STATES,
    TRIGGER_TYPES,
    WORKFLOW_STATUSES,
    WORKFLOW_UNFINISHED,
    ApiError,
    JobRec,
    OrgRec,
    PipelineRec,
    ProjectRec,
    TestRec,
    UserRec,
    WorkflowRec,
    iso,
)
from ._seeding import SEED_EPOCH, Seeding

__all__ = [
    "JOB_STATUSES",
    "JOB_TYPES",
    "JOB_UNFINISHED",
    "ORG_PIPELINES_MAX",
    "PIPELINE_ERROR_TYPES",
    "PIPELINE_STATES",
    "SEED_EPOCH",
    "TRIGGER_TYPES",
    "WORKFLOW_STATUSES",
    "WORKFLOW_UNFINISHED",
    "ApiError",
    "FakeState",
    "JobRec",
    "OrgRec",
    "PipelineRec",
    "ProjectRec",
    "TestRec",
    "UserRec",
    "WorkflowRec",
    "check_parameters",
    "decode_page_token",
    "encode_page_token",
    "iso",
    "page_of",
    "render_config",
]


class FakeState(Seeding, Queries):
    """Everything the fake serves. Every change bumps :attr:`version`, so caches can tell."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(seed, clock)
        #: How long a triggered pipeline stays ``pending`` before its workflows exist.
        self.setup_seconds = 0.0
        #: Told about every pipeline started by a trigger (the simulation tracks them).
        self.on_pipeline_started: Callable[[PipelineRec], None] | None = None

    # projects --------------------------------------------------------------------------

    def create_project(self, org_slug_or_id: str, name: str) -> ProjectRec:
        """``POST /organization/{org}/project``: a project named ``name`` in the org."""
        org = self.api_org(org_slug_or_id)
        if not name or "/" in name:
            raise ApiError(400, "Invalid project name.")
        slug = f"{org.slug}/{name}"
        if slug in self.projects:
            raise ApiError(409, "Project already exists.")
        return self.add_project(slug, organization_name=org.name)

    def delete_project(self, slug: str) -> None:
        self.api_project(slug)
        self.remove_project(slug)

    # triggering ------------------------------------------------------------------------

    def trigger(self, slug: str, body: Any) -> dict[str, Any]:
        """``POST /project/{slug}/pipeline``: validate like CircleCI, then start a pipeline."""
        self.api_project(slug)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        branch, tag, parameters = body.get("branch"), body.get("tag"), body.get("parameters")
        if branch is not None and tag is not None:
            raise ApiError(400, "Cannot specify both branch and tag.")
        for field, value in (("branch", branch), ("tag", tag)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ApiError(400, f"Field {field} must be a non-empty string.")
        if parameters is not None:
            check_parameters(parameters)
        return self.start_pipeline(slug, branch, tag, parameters).creation_json()

    def start_pipeline(
        self,
        slug: str,
        branch: str | None,
        tag: str | None,
        parameters: Mapping[str, Any] | None,
        trigger_type: str = "api",
    ) -> PipelineRec:
        """A pipeline that will run the project's plan: ``pending`` until set up."""
        pipeline = self.add_pipeline(
            slug, branch, "pending", tag=tag, parameters=parameters, trigger_type=trigger_type
        )
        pipeline.plan = self.plans.get(slug, DEFAULT_PLAN)
        if self.on_pipeline_started is not None:
            self.on_pipeline_started(pipeline)
        return pipeline


def check_parameters(parameters: Any) -> None:
    """CircleCI's documented limits on pipeline parameters, as 400s."""
    if not isinstance(parameters, dict):
        raise ApiError(400, "Field parameters must be an object.")
    if len(parameters) > 100:
        raise ApiError(400, "Too many pipeline parameters (at most 100).")
    for key, value in parameters.items():
        if len(key) > 128:
            raise ApiError(400, "Pipeline parameter names are at most 128 characters.")
        if not isinstance(value, (str, int)):  # bool is an int
            raise ApiError(400, f"Pipeline parameter {key!r} must be a string, integer or boolean.")
        if isinstance(value, str) and len(value) > 512:
            raise ApiError(400, "Pipeline parameter values are at most 512 characters.")
