"""Deploys: deployments, components and their versions, environments, a project's deploy
settings (``shared/notes/api-v3.md`` §2.6), and a project's rollback (§2.1)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs

from ...models import OpenEnum
from ._core import NamedRef, Ref

__all__ = [
    "DeployComponent",
    "DeployComponentAttributes",
    "DeployComponentReferences",
    "DeployComponentVersion",
    "DeployComponentVersionAttributes",
    "DeployComponentVersionReferences",
    "DeployEnvironment",
    "DeployEnvironmentAttributes",
    "DeployEnvironmentReferences",
    "DeploySettings",
    "DeploySettingsReferences",
    "Deployment",
    "DeploymentAttributes",
    "DeploymentReferences",
    "DeploymentVersion",
    "Rollback",
    "RollbackAttributes",
    "RollbackReferences",
    "RollbackType",
]


@attrs.frozen(kw_only=True)
class DeploymentVersion:
    name: str | None = None


@attrs.frozen(kw_only=True)
class DeploymentAttributes:
    type: str | None = None
    status: str | None = None
    target_version: DeploymentVersion | None = None
    is_rollback: bool | None = None
    created_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class DeploymentReferences:
    deploy_component: NamedRef | None = None
    pipeline: Ref | None = None
    workflow: Ref | None = None


@attrs.frozen(kw_only=True)
class Deployment:
    id: uuid.UUID
    attributes: DeploymentAttributes = attrs.Factory(DeploymentAttributes)
    references: DeploymentReferences = attrs.Factory(DeploymentReferences)


@attrs.frozen(kw_only=True)
class DeployComponentAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class DeployComponentReferences:
    project: Ref | None = None


@attrs.frozen(kw_only=True)
class DeployComponent:
    id: uuid.UUID
    attributes: DeployComponentAttributes = attrs.Factory(DeployComponentAttributes)
    references: DeployComponentReferences = attrs.Factory(DeployComponentReferences)


@attrs.frozen(kw_only=True)
class DeployComponentVersionAttributes:
    name: str | None = None
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class DeployComponentVersionReferences:
    component: Ref | None = None


@attrs.frozen(kw_only=True)
class DeployComponentVersion:
    """[inferred] the id's form: versions may be keyed by name."""

    id: str | None = None
    attributes: DeployComponentVersionAttributes = attrs.Factory(DeployComponentVersionAttributes)
    references: DeployComponentVersionReferences = attrs.Factory(DeployComponentVersionReferences)


@attrs.frozen(kw_only=True)
class DeployEnvironmentAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class DeployEnvironmentReferences:
    org: Ref | None = None


@attrs.frozen(kw_only=True)
class DeployEnvironment:
    id: uuid.UUID
    attributes: DeployEnvironmentAttributes = attrs.Factory(DeployEnvironmentAttributes)
    references: DeployEnvironmentReferences = attrs.Factory(DeployEnvironmentReferences)


@attrs.frozen(kw_only=True)
class DeploySettingsReferences:
    project: Ref | None = None


@attrs.frozen(kw_only=True)
class DeploySettings:
    """A single entity, not a list; the notes model none of its attributes, so they are kept
    as the server sent them."""

    id: str | None = None
    attributes: dict[str, Any] = attrs.Factory(dict)
    references: DeploySettingsReferences = attrs.Factory(DeploySettingsReferences)


class RollbackType(OpenEnum):
    PIPELINE = "pipeline"
    AGENT = "agent"


@attrs.frozen(kw_only=True)
class RollbackAttributes:
    rollback_type: RollbackType | None = None


@attrs.frozen(kw_only=True)
class RollbackReferences:
    project: Ref | None = None
    deploy_component: Ref | None = None
    deploy_environment: Ref | None = None


@attrs.frozen(kw_only=True)
class Rollback:
    """``POST /projects/{id}/rollback``: ``id`` is a handle of the work doing the rollback."""

    id: str | None = None
    attributes: RollbackAttributes = attrs.Factory(RollbackAttributes)
    references: RollbackReferences = attrs.Factory(RollbackReferences)
