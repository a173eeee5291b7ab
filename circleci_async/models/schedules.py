"""Scheduled pipelines. Their JSON uses dashed keys throughout (``hours-of-day``)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum, key
from .common import ParameterValue
from .users import User

__all__ = ["AttributionActor", "DayOfWeek", "Month", "Schedule", "Timetable"]


class DayOfWeek(OpenEnum):
    MON = "MON"
    TUE = "TUE"
    WED = "WED"
    THU = "THU"
    FRI = "FRI"
    SAT = "SAT"
    SUN = "SUN"


class Month(OpenEnum):
    JAN = "JAN"
    FEB = "FEB"
    MAR = "MAR"
    APR = "APR"
    MAY = "MAY"
    JUN = "JUN"
    JUL = "JUL"
    AUG = "AUG"
    SEP = "SEP"
    OCT = "OCT"
    NOV = "NOV"
    DEC = "DEC"


class AttributionActor(OpenEnum):
    """Whom scheduled pipelines are attributed to: the user who saved the schedule, or the
    system (no user)."""

    CURRENT = "current"
    SYSTEM = "system"


@attrs.frozen(kw_only=True)
class Timetable:
    """When a schedule fires: ``per_hour`` times in each of ``hours_of_day`` (UTC), on the
    given ``days_of_week`` or ``days_of_month`` (one of the two is needed), optionally only in
    some ``months``. Used in answers and, as it is, in create/update requests."""

    per_hour: int = attrs.field(metadata=key("per-hour"))
    hours_of_day: list[int] = attrs.field(metadata=key("hours-of-day"))
    days_of_week: list[DayOfWeek] | None = attrs.field(default=None, metadata=key("days-of-week"))
    days_of_month: list[int] | None = attrs.field(default=None, metadata=key("days-of-month"))
    months: list[Month] | None = None


@attrs.frozen(kw_only=True)
class Schedule:
    id: uuid.UUID
    name: str
    timetable: Timetable
    project_slug: str = attrs.field(metadata=key("project-slug"))
    parameters: dict[str, ParameterValue]
    actor: User
    created_at: dt.datetime = attrs.field(metadata=key("created-at"))
    updated_at: dt.datetime = attrs.field(metadata=key("updated-at"))
    description: str | None = None
