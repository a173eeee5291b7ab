"""The API v3 namespaces, one module per family. Importing this package registers every v3
operation (for :func:`circleci_async.operations`)."""

from __future__ import annotations

from . import jobs, orgs, projects, runs, users, workflows

__all__ = ["jobs", "orgs", "projects", "runs", "users", "workflows"]
