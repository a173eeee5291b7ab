"""``cci.pipelines``: list, trigger, inspect and wait for pipelines (the ``Pipeline`` tag)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..models import structure
from ..models.common import MessageResponse, ParameterValue
from ..models.pipelines import (
    Pipeline,
    PipelineConfig,
    PipelineCreation,
    PipelineNotTriggered,
    PipelineRun,
)
from ..models.workflows import Workflow
from ..pagination import AsyncPaginator
from ..polling import DEFAULT_POLL, PollSchedule
from ..waiting import PipelineOutcome, fetch_pipeline_with_workflows, poll_until
from ._base import Resource, body, operation, project_slug, segment

if TYPE_CHECKING:
    from ..watching import Watcher

__all__ = [
    "MAX_PARAMETERS",
    "MAX_PARAMETER_NAME",
    "MAX_PARAMETER_VALUE",
    "PipelinesAPI",
    "check_parameters",
]

#: CircleCI's documented limits on pipeline parameters, checked before anything is sent.
MAX_PARAMETERS = 100
MAX_PARAMETER_NAME = 128
MAX_PARAMETER_VALUE = 512


def check_parameters(parameters: Mapping[str, Any]) -> dict[str, ParameterValue]:
    """The parameters as a dict, or :class:`ConfigurationError` naming the first one that
    breaks a documented limit (at most 100, names <= 128 characters, values <= 512, values
    strings, integers or booleans)."""
    if len(parameters) > MAX_PARAMETERS:
        raise ConfigurationError(
            f"{len(parameters)} pipeline parameters; CircleCI accepts at most {MAX_PARAMETERS}"
        )
    checked: dict[str, ParameterValue] = {}
    for name, value in parameters.items():
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"pipeline parameter names are non-empty strings: {name!r}")
        if len(name) > MAX_PARAMETER_NAME:
            raise ConfigurationError(
                f"pipeline parameter name {name[:40]!r}... is {len(name)} characters; "
                f"at most {MAX_PARAMETER_NAME}"
            )
        if not isinstance(value, (str, int)):  # bool is an int
            raise ConfigurationError(
                f"pipeline parameter {name!r} is a {type(value).__name__}; "
                "values are strings, integers or booleans"
            )
        if len(value if isinstance(value, str) else str(value)) > MAX_PARAMETER_VALUE:
            raise ConfigurationError(
                f"pipeline parameter {name!r} is longer than {MAX_PARAMETER_VALUE} characters"
            )
        checked[name] = value
    return checked


def _ref(kind: str, branch: str | None, tag: str | None) -> dict[str, str] | None:
    if branch is not None and tag is not None:
        raise ConfigurationError(f"give a {kind} branch or a {kind} tag, not both")
    if branch is not None:
        return {"branch": branch}
    if tag is not None:
        return {"tag": tag}
    return None


class PipelinesAPI(Resource):
    """Pipelines. A pipeline's ``state`` only says whether setup worked; whether it passed is
    in its workflows (:meth:`wait` gathers both)."""

    namespace = "pipelines"

    @operation("listPipelines", "GET", "/pipeline")
    def list(
        self,
        *,
        org_slug: str | None = None,
        mine: bool | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Pipeline]:
        """Recent pipelines of the projects you follow in an organization (at most 250)."""
        return self._list(
            "pipeline",
            Pipeline,
            params={"org-slug": org_slug, "mine": mine},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("listPipelinesForProject", "GET", "/project/{project-slug}/pipeline")
    def list_for_project(
        self,
        project: str,
        *,
        branch: str | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Pipeline]:
        """A project's pipelines, newest first, optionally of one branch."""
        return self._list(
            f"project/{project_slug(project)}/pipeline",
            Pipeline,
            params={"branch": branch},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("listMyPipelines", "GET", "/project/{project-slug}/pipeline/mine")
    def list_mine(
        self, project: str, *, page_token: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[Pipeline]:
        """The project's pipelines that you triggered."""
        return self._list(
            f"project/{project_slug(project)}/pipeline/mine",
            Pipeline,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("getPipelineById", "GET", "/pipeline/{pipeline-id}")
    async def get(self, pipeline_id: uuid.UUID | str) -> Pipeline:
        return await self._call(
            "getPipelineById", "GET", f"pipeline/{segment(pipeline_id)}", Pipeline
        )

    @operation("getPipelineByNumber", "GET", "/project/{project-slug}/pipeline/{pipeline-number}")
    async def get_by_number(self, project: str, number: int) -> Pipeline:
        return await self._call(
            "getPipelineByNumber",
            "GET",
            f"project/{project_slug(project)}/pipeline/{int(number)}",
            Pipeline,
        )

    @operation("getPipelineConfigById", "GET", "/pipeline/{pipeline-id}/config")
    async def config(self, pipeline_id: uuid.UUID | str) -> PipelineConfig:
        """The configuration the pipeline ran with, as written and compiled."""
        return await self._call(
            "getPipelineConfigById",
            "GET",
            f"pipeline/{segment(pipeline_id)}/config",
            PipelineConfig,
        )

    @operation("getPipelineValuesById", "GET", "/pipeline/{pipeline-id}/values")
    async def values(self, pipeline_id: uuid.UUID | str) -> dict[str, ParameterValue]:
        """The pipeline values (``pipeline.git.branch``, ...) by name."""
        return await self._call(
            "getPipelineValuesById",
            "GET",
            f"pipeline/{segment(pipeline_id)}/values",
            dict[str, ParameterValue],
        )

    @operation("listWorkflowsByPipelineId", "GET", "/pipeline/{pipeline-id}/workflow")
    def workflows(
        self,
        pipeline_id: uuid.UUID | str,
        *,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Workflow]:
        return self._list(
            f"pipeline/{segment(pipeline_id)}/workflow",
            Workflow,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("triggerPipeline", "POST", "/project/{project-slug}/pipeline")
    async def trigger(
        self,
        project: str,
        *,
        branch: str | None = None,
        tag: str | None = None,
        parameters: Mapping[str, ParameterValue] | None = None,
    ) -> PipelineCreation:
        """Trigger a pipeline on a branch (``pull/<n>/head`` for a GitHub PR) or a tag.

        Superseded by :meth:`run` and unavailable to GitHub App and GitLab projects. The
        parameter limits are checked here, before anything is sent.
        """
        _ref("", branch, tag)
        payload = body(
            {
                "branch": branch,
                "tag": tag,
                "parameters": check_parameters(parameters) if parameters is not None else None,
            }
        )
        return await self._call(
            "triggerPipeline",
            "POST",
            f"project/{project_slug(project)}/pipeline",
            PipelineCreation,
            body=payload,
        )

    @operation(
        "triggerPipelineRun", "POST", "/project/{provider}/{organization}/{project}/pipeline/run"
    )
    async def run(
        self,
        project: str,
        *,
        definition_id: uuid.UUID | str | None = None,
        config_branch: str | None = None,
        config_tag: str | None = None,
        checkout_branch: str | None = None,
        checkout_tag: str | None = None,
        parameters: Mapping[str, ParameterValue] | None = None,
    ) -> PipelineRun | PipelineNotTriggered:
        """Trigger a pipeline through the recommended pipeline-run endpoint (every integration
        but GitLab).

        ``definition_id`` picks the pipeline definition (Project Settings > Pipelines);
        ``config_*`` says where to read the config, ``checkout_*`` what to check out. Returns
        :class:`PipelineNotTriggered` when CircleCI accepted the request but started nothing
        (a ``[ci skip]`` commit, for example): that answer is a 200, not an error.
        """
        payload = body(
            {
                "definition_id": definition_id,
                "config": _ref("config", config_branch, config_tag),
                "checkout": _ref("checkout", checkout_branch, checkout_tag),
                "parameters": check_parameters(parameters) if parameters is not None else None,
            }
        )
        data = await self._client.request(
            "POST",
            f"project/{project_slug(project, three_parts=True)}/pipeline/run",
            json=payload,
        )
        # The client returns bodies, not statuses: the 201 carries the pipeline's fields, the
        # 200 only a message.
        started = isinstance(data, dict) and any(k in data for k in ("id", "number", "state"))
        model: type[PipelineRun] | type[PipelineNotTriggered] = (
            PipelineRun if started else PipelineNotTriggered
        )
        return structure(data, model, what="triggerPipelineRun")

    @operation("continuePipeline", "POST", "/pipeline/continue")
    async def continue_(
        self,
        continuation_key: str,
        configuration: str,
        *,
        parameters: Mapping[str, ParameterValue] | None = None,
    ) -> MessageResponse:
        """Continue a setup-workflow pipeline with generated ``configuration`` (YAML text)."""
        payload = body(
            {
                "continuation-key": continuation_key,
                "configuration": configuration,
                "parameters": check_parameters(parameters) if parameters is not None else None,
            }
        )
        return await self._call(
            "continuePipeline", "POST", "pipeline/continue", MessageResponse, body=payload
        )

    async def wait(
        self,
        pipeline_id: uuid.UUID | str,
        *,
        timeout: float | None = 3600.0,
        schedule: PollSchedule = DEFAULT_POLL,
    ) -> PipelineOutcome:
        """Poll until the pipeline is finished: setup errored, or every workflow reached a
        final status. Returns the pipeline with its workflows; raises
        :class:`~circleci_async.waiting.WaitTimeout` after ``timeout`` seconds.

        A workflow waiting for an approval is not finished, and neither is a status this
        library does not know yet.
        """
        return await poll_until(
            lambda: fetch_pipeline_with_workflows(self, pipeline_id),
            lambda outcome: outcome.finished,
            timeout=timeout,
            schedule=schedule,
            what=f"pipeline {pipeline_id}",
        )

    def watch(
        self,
        pipeline_ids: Iterable[uuid.UUID | str],
        *,
        schedule: PollSchedule = DEFAULT_POLL,
        timeout: float | None = None,
        concurrency: int | None = None,
    ) -> Watcher:
        """A :class:`~circleci_async.watching.Watcher` of these pipelines: ``async for`` it
        for each change of a pipeline's state or of one of its workflows' statuses, until all
        are finished (as :meth:`wait` decides)."""
        return self._client.watch(
            pipelines=pipeline_ids, schedule=schedule, timeout=timeout, concurrency=concurrency
        )

    def follow(
        self,
        project: str,
        *,
        branch: str | None = None,
        schedule: PollSchedule = DEFAULT_POLL,
        concurrency: int | None = None,
    ) -> Watcher:
        """A :class:`~circleci_async.watching.Watcher` that also polls the first page of the
        project's pipelines (of ``branch``, if given) and watches each new one from when it
        appears (reported first with ``previous`` None). Pipelines already there when it starts
        are not watched. It runs until closed; more than a page of new pipelines between two
        polls is not caught up on.
        """
        from ..watching import Watcher

        return Watcher(
            self._client,
            schedule=schedule,
            concurrency=concurrency,
            follow=project_slug(project),
            branch=branch,
        )
