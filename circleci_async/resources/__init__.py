"""Typed endpoint wrappers, one namespace per part of the API (``cci.pipelines``, ...).

They build paths, query parameters and bodies and name the model each answer becomes; the HTTP
work is the client's (``request`` / ``paginate``). Namespaces are created on first use, and
their modules imported then, so a client that only downloads artifacts never loads them.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, cast

from ._base import Operation, registered_operations

if TYPE_CHECKING:
    from ..client import CircleCI
    from .contexts import ContextsAPI
    from .definitions import PipelineDefinitionsAPI, TriggersAPI
    from .deploys import DeploysAPI
    from .insights import InsightsAPI
    from .jobs import JobsAPI
    from .oidc import OidcAPI
    from .organizations import OrganizationsAPI
    from .pipelines import PipelinesAPI
    from .policies import PoliciesAPI
    from .projects import ProjectsAPI
    from .runner import RunnerAPI
    from .schedules import SchedulesAPI
    from .usage import UsageAPI
    from .users import UsersAPI
    from .webhooks import WebhooksAPI
    from .workflows import WorkflowsAPI

__all__ = ["OMITTED_OPERATIONS", "Operation", "ResourceNamespaces", "operations"]

_MODULES = (
    "contexts",
    "definitions",
    "deploys",
    "insights",
    "jobs",
    "oidc",
    "organizations",
    "pipelines",
    "policies",
    "projects",
    "runner",
    "schedules",
    "usage",
    "users",
    "webhooks",
    "workflows",
)

#: Operations of the two specs deliberately without a method, with the reason. Empty: every
#: operation of the saved specs has one. (The OTel exporter operations and
#: ``GET /organization/{org-slug-or-id}`` are newer than the saved v2 spec.)
OMITTED_OPERATIONS: dict[str, str] = {}


def operations() -> list[Operation]:
    """Every API operation the client covers: ``(operation_id, method, path, name, version,
    idempotent)``, where ``name`` says where the method is (``cci.pipelines.trigger``) and
    ``version`` which API it belongs to (``"v2"``, ``"v3"``, ``"runner"``)."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
    importlib.import_module("circleci_async.v3.resources")
    return sorted(registered_operations(), key=lambda op: (op.name, op.operation_id))


class ResourceNamespaces:
    """Mixed into :class:`~circleci_async.CircleCI`: the resource namespaces hang off it."""

    def _as_client(self) -> CircleCI:
        return cast("CircleCI", self)

    @functools.cached_property
    def users(self) -> UsersAPI:
        """The token's user, other users, collaborations."""
        from .users import UsersAPI

        return UsersAPI(self._as_client())

    @functools.cached_property
    def projects(self) -> ProjectsAPI:
        """Projects, settings, checkout keys, environment variables."""
        from .projects import ProjectsAPI

        return ProjectsAPI(self._as_client())

    @functools.cached_property
    def pipelines(self) -> PipelinesAPI:
        """List, trigger, inspect and wait for pipelines."""
        from .pipelines import PipelinesAPI

        return PipelinesAPI(self._as_client())

    @functools.cached_property
    def workflows(self) -> WorkflowsAPI:
        """Workflows: details, jobs, cancel, rerun, approve, wait."""
        from .workflows import WorkflowsAPI

        return WorkflowsAPI(self._as_client())

    @functools.cached_property
    def jobs(self) -> JobsAPI:
        """Job details, cancellation, artifact listings, test results."""
        from .jobs import JobsAPI

        return JobsAPI(self._as_client())

    @functools.cached_property
    def insights(self) -> InsightsAPI:
        """Metrics over recent workflow and job runs."""
        from .insights import InsightsAPI

        return InsightsAPI(self._as_client())

    @functools.cached_property
    def contexts(self) -> ContextsAPI:
        """Contexts, their variables and restrictions."""
        from .contexts import ContextsAPI

        return ContextsAPI(self._as_client())

    @functools.cached_property
    def schedules(self) -> SchedulesAPI:
        """Scheduled pipelines."""
        from .schedules import SchedulesAPI

        return SchedulesAPI(self._as_client())

    @functools.cached_property
    def webhooks(self) -> WebhooksAPI:
        """Outbound webhooks."""
        from .webhooks import WebhooksAPI

        return WebhooksAPI(self._as_client())

    @functools.cached_property
    def organizations(self) -> OrganizationsAPI:
        """Organizations, URL-orb allow-lists, groups."""
        from .organizations import OrganizationsAPI

        return OrganizationsAPI(self._as_client())

    @functools.cached_property
    def oidc(self) -> OidcAPI:
        """Custom claims of job OIDC tokens."""
        from .oidc import OidcAPI

        return OidcAPI(self._as_client())

    @functools.cached_property
    def policies(self) -> PoliciesAPI:
        """Config policies, decisions, the decision log."""
        from .policies import PoliciesAPI

        return PoliciesAPI(self._as_client())

    @functools.cached_property
    def usage(self) -> UsageAPI:
        """Usage exports."""
        from .usage import UsageAPI

        return UsageAPI(self._as_client())

    @functools.cached_property
    def deploys(self) -> DeploysAPI:
        """Deploy environments, components, versions, rollbacks."""
        from .deploys import DeploysAPI

        return DeploysAPI(self._as_client())

    @functools.cached_property
    def pipeline_definitions(self) -> PipelineDefinitionsAPI:
        """Pipeline definitions of GitHub App and Bitbucket DC projects."""
        from .definitions import PipelineDefinitionsAPI

        return PipelineDefinitionsAPI(self._as_client())

    @functools.cached_property
    def triggers(self) -> TriggersAPI:
        """Triggers of pipeline definitions."""
        from .definitions import TriggersAPI

        return TriggersAPI(self._as_client())

    @functools.cached_property
    def runner(self) -> RunnerAPI:
        """The self-hosted runner API (on ``runner_base_url``)."""
        from .runner import RunnerAPI

        return RunnerAPI(self._as_client())
