"""Config policies: bundles, decisions and their audit log (``Policy Management``)."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

__all__ = [
    "BundleDiff",
    "Decision",
    "DecisionLog",
    "DecisionMetadata",
    "DecisionSettings",
    "DecisionVcs",
    "Policy",
    "PolicyBundle",
    "Violation",
]


@attrs.frozen(kw_only=True)
class Violation:
    rule: str
    reason: str


@attrs.frozen(kw_only=True)
class Decision:
    """The verdict of evaluating a config against the owner's policies. ``status`` is
    ``PASS``, ``SOFT_FAIL``, ``HARD_FAIL`` or ``ERROR`` in practice (a plain string in the
    spec)."""

    status: str
    reason: str | None = None
    enabled_rules: list[str] | None = None
    hard_failures: list[Violation] | None = None
    soft_failures: list[Violation] | None = None


@attrs.frozen(kw_only=True)
class DecisionVcs:
    branch: str | None = None
    origin_repository_url: str | None = None
    release_tag: str | None = None
    target_repository_url: str | None = None


@attrs.frozen(kw_only=True)
class DecisionMetadata:
    build_number: int | None = None
    project_id: uuid.UUID | None = None
    ssh_rerun: bool | None = None
    vcs: DecisionVcs | None = None


@attrs.frozen(kw_only=True)
class DecisionLog:
    """One audited decision. ``policies`` maps policy name to the hash of its content."""

    id: uuid.UUID | None = None
    created_at: dt.datetime | None = None
    decision: Decision | None = None
    metadata: DecisionMetadata | None = None
    policies: dict[str, str] | None = None
    time_taken_ms: int | None = None


@attrs.frozen(kw_only=True)
class DecisionSettings:
    """Whether policy evaluation is on for this owner and context."""

    enabled: bool | None = None


@attrs.frozen(kw_only=True)
class Policy:
    name: str | None = None
    content: str | None = None
    created_at: dt.datetime | None = None
    created_by: str | None = None


#: Policies by name (the spec's ``PolicyBundle`` is a map of lists).
PolicyBundle = dict[str, list[Policy]]


@attrs.frozen(kw_only=True)
class BundleDiff:
    """Which policies a bundle upload created, deleted and modified (or would, when dry)."""

    created: list[str] | None = None
    deleted: list[str] | None = None
    modified: list[str] | None = None
