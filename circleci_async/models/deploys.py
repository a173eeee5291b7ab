"""Deploys: environments, components, their versions, and rollbacks. The spec marks every
field of these answers optional."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from .common import Label

__all__ = ["Component", "ComponentVersion", "Environment", "RollbackResult"]


@attrs.frozen(kw_only=True)
class Environment:
    id: uuid.UUID | None = None
    name: str | None = None
    description: str | None = None
    labels: list[Label] | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class Component:
    id: uuid.UUID | None = None
    name: str | None = None
    project_id: uuid.UUID | None = None
    labels: list[Label] | None = None
    release_count: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ComponentVersion:
    """A version of a component, and where and by which job it was deployed."""

    name: str | None = None
    environment_id: uuid.UUID | None = None
    namespace: str | None = None
    is_live: bool | None = None
    pipeline_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    job_number: int | None = None
    last_deployed_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class RollbackResult:
    """The rollback pipeline (or workflow) that was started."""

    id: uuid.UUID | None = None
    rollback_type: str | None = None
