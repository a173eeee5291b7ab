"""``cci.pipeline_definitions`` and ``cci.triggers``: the pipeline definitions of a project
and the triggers that start them (GitHub App and Bitbucket Data Center projects)."""

from __future__ import annotations

import uuid

from ..models.common import MessageResponse
from ..models.definitions import (
    CheckoutSource,
    ConfigSource,
    PipelineDefinition,
    Trigger,
    TriggerEventPreset,
    TriggerEventSource,
)
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, segment

__all__ = ["PipelineDefinitionsAPI", "TriggersAPI"]


def _definitions(project_id: uuid.UUID | str) -> str:
    return f"projects/{segment(project_id)}/pipeline-definitions"


class PipelineDefinitionsAPI(Resource):
    """Pipeline definitions; the project is given by id (``Project.id``), not slug."""

    namespace = "pipeline_definitions"

    @operation("listPipelineDefinitions", "GET", "/projects/{project_id}/pipeline-definitions")
    def list(
        self, project_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[PipelineDefinition]:
        return self._list(_definitions(project_id), PipelineDefinition, max_items=max_items)

    @operation("createPipelineDefinition", "POST", "/projects/{project_id}/pipeline-definitions")
    async def create(
        self,
        project_id: uuid.UUID | str,
        *,
        name: str,
        config_source: ConfigSource,
        checkout_source: CheckoutSource,
        description: str | None = None,
    ) -> PipelineDefinition:
        """Create a definition: ``ConfigSource(provider="github_app", repo=RepoRef(
        external_id=...), file_path=".circleci/config.yml")`` and a matching checkout source."""
        payload = body(
            {
                "name": name,
                "description": description,
                "config_source": config_source,
                "checkout_source": checkout_source,
            }
        )
        return await self._call(
            "createPipelineDefinition",
            "POST",
            _definitions(project_id),
            PipelineDefinition,
            body=payload,
        )

    @operation(
        "getPipelineDefinition",
        "GET",
        "/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}",
    )
    async def get(
        self, project_id: uuid.UUID | str, definition_id: uuid.UUID | str
    ) -> PipelineDefinition:
        return await self._call(
            "getPipelineDefinition",
            "GET",
            f"{_definitions(project_id)}/{segment(definition_id)}",
            PipelineDefinition,
        )

    @operation(
        "updatePipelineDefinition",
        "PATCH",
        "/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}",
    )
    async def update(
        self,
        project_id: uuid.UUID | str,
        definition_id: uuid.UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
        config_file_path: str | None = None,
        checkout_source: CheckoutSource | None = None,
    ) -> PipelineDefinition:
        """Change what is given; of the config source only the file path can change."""
        payload = body(
            {
                "name": name,
                "description": description,
                "config_source": (
                    {"file_path": config_file_path} if config_file_path is not None else None
                ),
                "checkout_source": checkout_source,
            }
        )
        return await self._call(
            "updatePipelineDefinition",
            "PATCH",
            f"{_definitions(project_id)}/{segment(definition_id)}",
            PipelineDefinition,
            body=payload,
        )

    @operation(
        "deletePipelineDefinition",
        "DELETE",
        "/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}",
    )
    async def delete(
        self, project_id: uuid.UUID | str, definition_id: uuid.UUID | str
    ) -> MessageResponse:
        return await self._call(
            "deletePipelineDefinition",
            "DELETE",
            f"{_definitions(project_id)}/{segment(definition_id)}",
            MessageResponse,
        )


class TriggersAPI(Resource):
    """Triggers of pipeline definitions; the project is given by id."""

    namespace = "triggers"

    @operation(
        "listPipelineDefinitionTriggers",
        "GET",
        "/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}/triggers",
    )
    def list(
        self,
        project_id: uuid.UUID | str,
        definition_id: uuid.UUID | str,
        *,
        max_items: int | None = None,
    ) -> AsyncPaginator[Trigger]:
        return self._list(
            f"{_definitions(project_id)}/{segment(definition_id)}/triggers",
            Trigger,
            max_items=max_items,
        )

    @operation(
        "createTrigger",
        "POST",
        "/projects/{project_id}/pipeline-definitions/{pipeline_definition_id}/triggers",
    )
    async def create(
        self,
        project_id: uuid.UUID | str,
        definition_id: uuid.UUID | str,
        *,
        event_source: TriggerEventSource,
        event_preset: TriggerEventPreset | str | None = None,
        event_name: str | None = None,
        checkout_ref: str | None = None,
        config_ref: str | None = None,
        disabled: bool | None = None,
    ) -> Trigger:
        payload = body(
            {
                "event_source": event_source,
                "event_preset": event_preset,
                "event_name": event_name,
                "checkout_ref": checkout_ref,
                "config_ref": config_ref,
                "disabled": disabled,
            }
        )
        return await self._call(
            "createTrigger",
            "POST",
            f"{_definitions(project_id)}/{segment(definition_id)}/triggers",
            Trigger,
            body=payload,
        )

    @operation("getTrigger", "GET", "/projects/{project_id}/triggers/{trigger_id}")
    async def get(self, project_id: uuid.UUID | str, trigger_id: uuid.UUID | str) -> Trigger:
        return await self._call(
            "getTrigger",
            "GET",
            f"projects/{segment(project_id)}/triggers/{segment(trigger_id)}",
            Trigger,
        )

    @operation("updateTrigger", "PATCH", "/projects/{project_id}/triggers/{trigger_id}")
    async def update(
        self,
        project_id: uuid.UUID | str,
        trigger_id: uuid.UUID | str,
        *,
        event_preset: TriggerEventPreset | str | None = None,
        event_name: str | None = None,
        checkout_ref: str | None = None,
        config_ref: str | None = None,
        disabled: bool | None = None,
        webhook_sender: str | None = None,
    ) -> Trigger:
        """Change what is given (of the event source, only a webhook's sender can change)."""
        payload = body(
            {
                "event_preset": event_preset,
                "event_name": event_name,
                "checkout_ref": checkout_ref,
                "config_ref": config_ref,
                "disabled": disabled,
                "event_source": (
                    {"webhook": {"sender": webhook_sender}} if webhook_sender is not None else None
                ),
            }
        )
        return await self._call(
            "updateTrigger",
            "PATCH",
            f"projects/{segment(project_id)}/triggers/{segment(trigger_id)}",
            Trigger,
            body=payload,
        )

    @operation("deleteTrigger", "DELETE", "/projects/{project_id}/triggers/{trigger_id}")
    async def delete(
        self, project_id: uuid.UUID | str, trigger_id: uuid.UUID | str
    ) -> MessageResponse:
        return await self._call(
            "deleteTrigger",
            "DELETE",
            f"projects/{segment(project_id)}/triggers/{segment(trigger_id)}",
            MessageResponse,
        )
