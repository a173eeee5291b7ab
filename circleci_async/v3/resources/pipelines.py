"""``cci.v3.pipelines``, ``cci.v3.triggers`` and ``cci.v3.configs``: pipelines (v2's *pipeline
definitions*), the triggers that start their runs, and config compilation (§2.3).

Creates take the envelope and CircleCI rejects unknown members, so only the documented ones
are sent. None of these POSTs is documented as safe to repeat: none is retried."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...models import structure
from ...resources._base import operation
from .._envelope import normalise, one, request_body
from ..models import CompiledConfig, PipelineDefinition, Trigger
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["ConfigsAPI", "PipelinesAPI", "TriggersAPI"]


class PipelinesAPI(V3Resource):
    namespace = "v3.pipelines"

    @operation("v3.listPipelines", "GET", "/pipelines")
    def list(
        self,
        project_id: uuid.UUID | str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[PipelineDefinition]:
        """A project's pipelines (``filter[project_id]``)."""
        return self._collection(
            "v3.listPipelines",
            "pipelines",
            PipelineDefinition,
            params={"filter[project_id]": project_id},
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.createPipeline", "POST", "/pipelines")
    async def create(
        self,
        project_id: uuid.UUID | str,
        *,
        name: str,
        config: Mapping[str, Any],
        checkout: Mapping[str, Any],
        description: str | None = None,
    ) -> PipelineDefinition:
        """A new pipeline of a project. ``config`` is ``{"type": "vcs", "file_path": ...,
        "vcs": {"provider", "repo_id", "repo_full_name"}}`` (or ``hosted``), ``checkout`` the
        same shape; both are sent as given."""
        attributes: dict[str, Any] = {
            "name": name,
            "config": dict(config),
            "checkout": dict(checkout),
        }
        if description is not None:
            attributes["description"] = description
        body = request_body(attributes, {"project": project_id})
        return await self._entity(
            "v3.createPipeline", "POST", "pipelines", PipelineDefinition, body=body
        )


class TriggersAPI(V3Resource):
    namespace = "v3.triggers"

    @operation("v3.listTriggers", "GET", "/triggers")
    def list(
        self,
        project_id: uuid.UUID | str,
        *,
        pipeline_id: uuid.UUID | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Trigger]:
        """A project's triggers, or one pipeline's (``filter[pipeline_id]``)."""
        params = {"filter[project_id]": project_id, "filter[pipeline_id]": pipeline_id}
        return self._collection(
            "v3.listTriggers",
            "triggers",
            Trigger,
            params=params,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    @operation("v3.createTrigger", "POST", "/triggers")
    async def create(
        self,
        project_id: uuid.UUID | str,
        pipeline_id: uuid.UUID | str,
        *,
        event: Mapping[str, Any],
        is_disabled: bool = False,
        config_ref: str | None = None,
        checkout_ref: str | None = None,
    ) -> Trigger:
        """A trigger of a pipeline. The project goes in ``filter[project_id]`` and the body
        references only the pipeline, as CircleCI wants it. ``event`` is ``{"type": "vcs" |
        "webhook" | "schedule", ...}``, sent as given."""
        attributes: dict[str, Any] = {"is_disabled": is_disabled, "event": dict(event)}
        if config_ref is not None:
            attributes["config"] = {"ref": config_ref}
        if checkout_ref is not None:
            attributes["checkout"] = {"ref": checkout_ref}
        body = request_body(attributes, {"pipeline": pipeline_id})
        return await self._entity(
            "v3.createTrigger",
            "POST",
            "triggers",
            Trigger,
            params={"filter[project_id]": project_id},
            body=body,
        )


class ConfigsAPI(V3Resource):
    namespace = "v3.configs"

    @operation("v3.compileConfig", "POST", "/configs/compile")
    async def compile(
        self,
        config: str,
        *,
        org_id: uuid.UUID | str | None = None,
        pipeline_parameters: Mapping[str, Any] | None = None,
        pipeline_values: Mapping[str, Any] | None = None,
        enable_next_preview: bool | None = None,
    ) -> CompiledConfig:
        """Compile a config (YAML text). CircleCI answers 200 either way: check
        :attr:`CompiledConfig.succeeded` and read :attr:`CompiledConfig.messages`."""
        attributes: dict[str, Any] = {"config": config}
        if enable_next_preview is not None:
            attributes["enable_next_preview"] = enable_next_preview
        if pipeline_parameters is not None:
            attributes["pipeline_parameters"] = dict(pipeline_parameters)
        if pipeline_values is not None:
            attributes["pipeline_values"] = dict(pipeline_values)
        body = request_body(attributes, None if org_id is None else {"org": org_id})
        decoded = await self._v3.request(
            "POST", "configs/compile", json=body, operation="v3.compileConfig"
        )
        item = dict(normalise(one(decoded, what="v3.compileConfig")))
        meta = decoded.get("meta")
        messages = meta.get("messages") if isinstance(meta, dict) else None
        item["messages"] = messages if isinstance(messages, list) else []
        return structure(item, CompiledConfig, what="v3.compileConfig")
