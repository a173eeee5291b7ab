"""``cci.schedules``: scheduled pipelines of a project."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from ..models._base import UNSET, Unset
from ..models.common import MessageResponse, ParameterValue
from ..models.schedules import AttributionActor, Schedule, Timetable
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, project_slug, segment
from .pipelines import check_parameters

__all__ = ["SchedulesAPI"]


class SchedulesAPI(Resource):
    """Schedules (not yet for GitLab or GitHub App projects). Parameters should hold the
    ``branch`` or ``tag`` to run on, as in the UI."""

    namespace = "schedules"

    @operation("listSchedulesForProject", "GET", "/project/{project-slug}/schedule")
    def list(
        self, project: str, *, page_token: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[Schedule]:
        return self._list(
            f"project/{project_slug(project)}/schedule",
            Schedule,
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createSchedule", "POST", "/project/{project-slug}/schedule")
    async def create(
        self,
        project: str,
        *,
        name: str,
        timetable: Timetable,
        parameters: Mapping[str, ParameterValue],
        attribution_actor: AttributionActor | str = AttributionActor.CURRENT,
        description: str | None = None,
    ) -> Schedule:
        payload = body(
            {
                "name": name,
                "timetable": timetable,
                "attribution-actor": attribution_actor,
                "parameters": check_parameters(parameters),
                "description": description,
            }
        )
        return await self._call(
            "createSchedule",
            "POST",
            f"project/{project_slug(project)}/schedule",
            Schedule,
            body=payload,
        )

    @operation("getScheduleById", "GET", "/schedule/{schedule-id}")
    async def get(self, schedule_id: uuid.UUID | str) -> Schedule:
        return await self._call(
            "getScheduleById", "GET", f"schedule/{segment(schedule_id)}", Schedule
        )

    @operation("updateSchedule", "PATCH", "/schedule/{schedule-id}")
    async def update(
        self,
        schedule_id: uuid.UUID | str,
        *,
        name: str | None = None,
        timetable: Timetable | None = None,
        parameters: Mapping[str, ParameterValue] | None = None,
        attribution_actor: AttributionActor | str | None = None,
        description: str | Unset | None = UNSET,
    ) -> Schedule:
        """Change what is given; ``description=None`` clears the description."""
        payload = body(
            {
                "name": name,
                "timetable": timetable,
                "parameters": check_parameters(parameters) if parameters is not None else None,
                "attribution-actor": attribution_actor,
                "description": description,
            },
            nullable=("description",),
        )
        return await self._call(
            "updateSchedule", "PATCH", f"schedule/{segment(schedule_id)}", Schedule, body=payload
        )

    @operation("deleteScheduleById", "DELETE", "/schedule/{schedule-id}")
    async def delete(self, schedule_id: uuid.UUID | str) -> MessageResponse:
        return await self._call(
            "deleteScheduleById", "DELETE", f"schedule/{segment(schedule_id)}", MessageResponse
        )
