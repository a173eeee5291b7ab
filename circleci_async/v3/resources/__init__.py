"""The API v3 namespaces, one module per family. Importing this package registers every v3
operation (for :func:`circleci_async.operations`)."""

from __future__ import annotations

from . import (
    analysis,
    connections,
    contexts,
    deploy,
    jobs,
    orbs,
    orgs,
    pipelines,
    projects,
    runner,
    runs,
    signing,
    users,
    workflows,
)

__all__ = [
    "analysis",
    "connections",
    "contexts",
    "deploy",
    "jobs",
    "orbs",
    "orgs",
    "pipelines",
    "projects",
    "runner",
    "runs",
    "signing",
    "users",
    "workflows",
]
