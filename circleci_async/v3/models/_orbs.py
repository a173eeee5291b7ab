"""Orbs (packages, versions, categories), namespaces, function packages and tool releases
(``shared/notes/api-v3.md`` §2.8)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs

from ._core import NamedRef, Ref

__all__ = [
    "FunctionPackage",
    "FunctionPackageAttributes",
    "FunctionPackageReferences",
    "FunctionVersionRef",
    "Namespace",
    "NamespaceAttributes",
    "OrbCategory",
    "OrbCategoryAttributes",
    "OrbPackage",
    "OrbPackageAttributes",
    "OrbPackageReferences",
    "OrbValidation",
    "OrbValidationAttributes",
    "OrbVersion",
    "OrbVersionAttributes",
    "OrbVersionRef",
    "OrbVersionReferences",
    "ToolRelease",
    "ToolReleaseAttributes",
    "VersionAttributes",
]


@attrs.frozen(kw_only=True)
class NamespaceAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class Namespace:
    id: uuid.UUID
    attributes: NamespaceAttributes = attrs.Factory(NamespaceAttributes)


@attrs.frozen(kw_only=True)
class VersionAttributes:
    version: str | None = None
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class OrbVersionRef:
    id: uuid.UUID | None = None
    attributes: VersionAttributes | None = None


@attrs.frozen(kw_only=True)
class OrbPackageAttributes:
    name: str | None = None
    is_private: bool | None = None
    is_listed: bool | None = None
    created_at: dt.datetime | None = None
    last_30_days_build_count: int | None = None
    last_30_days_project_count: int | None = None
    last_30_days_org_count: int | None = None


@attrs.frozen(kw_only=True)
class OrbPackageReferences:
    namespace: NamedRef | None = None
    #: The first is the latest.
    orb_versions: list[OrbVersionRef] = attrs.Factory(list)
    orb_categories: list[NamedRef] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class OrbPackage:
    id: uuid.UUID
    attributes: OrbPackageAttributes = attrs.Factory(OrbPackageAttributes)
    references: OrbPackageReferences = attrs.Factory(OrbPackageReferences)


@attrs.frozen(kw_only=True)
class OrbValidationAttributes:
    is_valid: bool | None = None
    output_yaml: str | None = None
    #: [inferred] the entries' shape is unknown: kept as sent.
    errors: list[Any] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class OrbValidation:
    id: str | None = None
    attributes: OrbValidationAttributes = attrs.Factory(OrbValidationAttributes)


@attrs.frozen(kw_only=True)
class OrbVersionAttributes:
    version: str | None = None
    created_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class OrbVersionReferences:
    orb_package: NamedRef | None = None


@attrs.frozen(kw_only=True)
class OrbVersion:
    id: uuid.UUID
    attributes: OrbVersionAttributes = attrs.Factory(OrbVersionAttributes)
    references: OrbVersionReferences = attrs.Factory(OrbVersionReferences)


@attrs.frozen(kw_only=True)
class OrbCategoryAttributes:
    name: str | None = None


@attrs.frozen(kw_only=True)
class OrbCategory:
    id: uuid.UUID
    attributes: OrbCategoryAttributes = attrs.Factory(OrbCategoryAttributes)


@attrs.frozen(kw_only=True)
class FunctionPackageAttributes:
    name: str | None = None
    description: str | None = None
    latest_version: str | None = None


@attrs.frozen(kw_only=True)
class FunctionVersionRef:
    id: str | None = None
    attributes: VersionAttributes | None = None


@attrs.frozen(kw_only=True)
class FunctionPackageReferences:
    versions: list[FunctionVersionRef] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class FunctionPackage:
    id: str | None = None
    attributes: FunctionPackageAttributes = attrs.Factory(FunctionPackageAttributes)
    references: FunctionPackageReferences = attrs.Factory(FunctionPackageReferences)


@attrs.frozen(kw_only=True)
class ToolReleaseAttributes:
    tool: str | None = None
    #: No leading ``v``.
    version: str | None = None
    published_at: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ToolRelease:
    id: str | None = None
    attributes: ToolReleaseAttributes = attrs.Factory(ToolReleaseAttributes)
    references: dict[str, Ref] = attrs.Factory(dict)
