"""``cci.v3``: the facade of API v3. It shares the client's pipeline (session, pool, rate
limiter, retries, redirects, the per-URL credential rule) and adds what is v3's own: URLs under
``v3_base_url``, cursor pages, the per-operation idempotency of POSTs and page-limit bounds, and
deprecation notices. Namespaces (``cci.v3.runs``, ...) are created on first use."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._deprecation import DeprecationNotices
from ..errors import ConfigurationError
from ..models import structure_each
from ..pagination import (
    V3_CURSOR_PARAM,
    V3_LIMIT_PARAM,
    V3_PAGES,
    AsyncPaginator,
    v3_body,
    v3_query,
)
from ..resources._base import registered_operation
from ._envelope import normalise_each
from ._limits import check_limit

if TYPE_CHECKING:
    from ..client import CircleCI
    from .resources.analysis import AnalysisAPI
    from .resources.connections import ConnectionsAPI
    from .resources.contexts import ContextsAPI
    from .resources.deploy import DeployAPI
    from .resources.jobs import JobsAPI
    from .resources.orbs import FunctionsAPI, NamespacesAPI, OrbsAPI, ToolsAPI
    from .resources.orgs import OrgsAPI
    from .resources.pipelines import ConfigsAPI, PipelinesAPI, TriggersAPI
    from .resources.projects import ProjectsAPI
    from .resources.runner import RunnerV3API
    from .resources.runs import RunsAPI
    from .resources.signing import SigningAPI
    from .resources.users import UsersAPI
    from .resources.workflows import WorkflowsAPI

__all__ = ["V3"]

T = TypeVar("T")


class V3:
    """API v3 over one :class:`~circleci_async.CircleCI` client (``cci.v3``)."""

    def __init__(self, client: CircleCI) -> None:
        self.client = client
        self.base_url = client.v3_base_url
        self._base = str(client.v3_base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"<V3 {self._base!r}>"

    def url(self, path: str) -> str:
        """The absolute URL of a path relative to the v3 base (``runs/{id}``)."""
        return f"{self._base}/{path.lstrip('/')}"

    # -- requests ---------------------------------------------------------------------------

    @property
    def deprecations(self) -> DeprecationNotices:
        """Which operations have announced a deprecation (reported once each, by the
        client's pipeline, for v2 and v3 alike)."""
        return self.client.core.pipeline.deprecations

    def _hooks(self, method: str, path: str, operation: str | None) -> tuple[bool | None, str]:
        """Whether the call may be retried, and its name in deprecation reports."""
        idempotent = registered_operation(operation).idempotent if operation else None
        return idempotent, operation or f"{method.upper()} {path}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        operation: str | None = None,
    ) -> Any:
        """One v3 call through the client's pipeline; the decoded body, envelope and all.
        ``operation`` (a registered id) decides whether a POST may be retried and names the
        operation in a deprecation warning."""
        idempotent, name = self._hooks(method, path, operation)
        return await self.client.core.pipeline.request(
            method,
            self.url(path),
            params=params,
            json=json,
            idempotent=idempotent,
            operation=name,
        )

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        item_type: type[T] | None = None,
        operation: str | None = None,
        read_ahead: bool | None = None,
    ) -> AsyncPaginator[Any]:
        """Walk a v3 collection (``GET``, ``page[cursor]`` and ``page[limit]`` in the query).
        ``cursor`` resumes a walk (a paginator's ``resume_token``); ``limit`` is checked
        against the operation's maximum before anything is sent."""
        check_limit(operation, limit)
        base = dict(params or {})
        if V3_CURSOR_PARAM in base or V3_LIMIT_PARAM in base:
            raise ConfigurationError("pass cursor=... and limit=..., not page[...] params")
        idempotent, name = self._hooks("GET", path, operation)
        url = self.url(path)

        send = self.client.core.pipeline.request  # looked up once per walk, not once per page

        def fetch(token: str | None) -> Any:
            return send(
                "GET",
                url,
                params=v3_query(base, token, limit) or None,
                idempotent=idempotent,
                operation=name,
            )

        return self._paginator(fetch, cursor, max_items, item_type, operation or path, read_ahead)

    def search(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        item_type: type[T] | None = None,
        operation: str | None = None,
        read_ahead: bool | None = None,
    ) -> AsyncPaginator[Any]:
        """Walk a search-style POST (``/runs/search``): the cursor and limit travel in the
        body's ``page`` member. Retried only if the operation is registered as idempotent."""
        check_limit(operation, limit)
        if "page" in body:
            raise ConfigurationError("pass cursor=... and limit=..., not a 'page' body member")
        idempotent, name = self._hooks("POST", path, operation)
        url = self.url(path)
        fixed = dict(body)

        def fetch(token: str | None) -> Any:
            return self.client.core.pipeline.request(
                "POST",
                url,
                json=v3_body(fixed, token, limit),
                idempotent=idempotent,
                operation=name,
            )

        return self._paginator(fetch, cursor, max_items, item_type, operation or path, read_ahead)

    @staticmethod
    def _paginator(
        fetch: Callable[[str | None], Any],
        cursor: str | None,
        max_items: int | None,
        item_type: type[Any] | None,
        what: str,
        read_ahead: bool | None,
    ) -> AsyncPaginator[Any]:
        convert_items = None
        if item_type is not None:
            model, label = item_type, f"{item_type.__name__} from {what}"

            def convert_items(items: list[Any]) -> list[Any]:
                return structure_each(normalise_each(items), model, what=label)

        return AsyncPaginator(
            fetch,
            page_token=cursor,
            max_items=max_items,
            convert_items=convert_items,
            read_ahead=read_ahead,
            style=V3_PAGES,
        )

    # -- namespaces -------------------------------------------------------------------------

    @functools.cached_property
    def runs(self) -> RunsAPI:
        """Runs (v2's pipelines): get, list yours, search a project's."""
        from .resources.runs import RunsAPI

        return RunsAPI(self)

    @functools.cached_property
    def workflows(self) -> WorkflowsAPI:
        """Workflows: get, list a run's, rerun, cancel."""
        from .resources.workflows import WorkflowsAPI

        return WorkflowsAPI(self)

    @functools.cached_property
    def jobs(self) -> JobsAPI:
        """Jobs: get, list a workflow's, artifacts."""
        from .resources.jobs import JobsAPI

        return JobsAPI(self)

    @functools.cached_property
    def users(self) -> UsersAPI:
        """The token's user."""
        from .resources.users import UsersAPI

        return UsersAPI(self)

    @functools.cached_property
    def orgs(self) -> OrgsAPI:
        """Organizations: lookup by slug, settings."""
        from .resources.orgs import OrgsAPI

        return OrgsAPI(self)

    @functools.cached_property
    def projects(self) -> ProjectsAPI:
        """Projects: get, list (by slug, org or following), settings."""
        from .resources.projects import ProjectsAPI

        return ProjectsAPI(self)

    @functools.cached_property
    def pipelines(self) -> PipelinesAPI:
        """Pipelines (v2's pipeline definitions): list a project's, create."""
        from .resources.pipelines import PipelinesAPI

        return PipelinesAPI(self)

    @functools.cached_property
    def triggers(self) -> TriggersAPI:
        """Triggers of pipelines: list, create."""
        from .resources.pipelines import TriggersAPI

        return TriggersAPI(self)

    @functools.cached_property
    def configs(self) -> ConfigsAPI:
        """Config compilation."""
        from .resources.pipelines import ConfigsAPI

        return ConfigsAPI(self)

    @functools.cached_property
    def contexts(self) -> ContextsAPI:
        """Contexts, their variables and restrictions."""
        from .resources.contexts import ContextsAPI

        return ContextsAPI(self)

    @functools.cached_property
    def connections(self) -> ConnectionsAPI:
        """Provider connections and the repositories they reach."""
        from .resources.connections import ConnectionsAPI

        return ConnectionsAPI(self)

    @functools.cached_property
    def deploy(self) -> DeployAPI:
        """Deployments, components, versions, environments, settings."""
        from .resources.deploy import DeployAPI

        return DeployAPI(self)

    @functools.cached_property
    def signing(self) -> SigningAPI:
        """iOS signing certificates and configs."""
        from .resources.signing import SigningAPI

        return SigningAPI(self)

    @functools.cached_property
    def namespaces(self) -> NamespacesAPI:
        """Orb namespaces: lookup, create, rename, delete."""
        from .resources.orbs import NamespacesAPI

        return NamespacesAPI(self)

    @functools.cached_property
    def orbs(self) -> OrbsAPI:
        """Orb packages, versions and categories."""
        from .resources.orbs import OrbsAPI

        return OrbsAPI(self)

    @functools.cached_property
    def functions(self) -> FunctionsAPI:
        """Function packages."""
        from .resources.orbs import FunctionsAPI

        return FunctionsAPI(self)

    @functools.cached_property
    def tools(self) -> ToolsAPI:
        """Tool releases (the CLI's latest version)."""
        from .resources.orbs import ToolsAPI

        return ToolsAPI(self)

    @functools.cached_property
    def analysis(self) -> AnalysisAPI:
        """Credit charges (experimental)."""
        from .resources.analysis import AnalysisAPI

        return AnalysisAPI(self)

    @functools.cached_property
    def runner(self) -> RunnerV3API:
        """The v3-style runner surface (provisional; ``cci.runner`` is the legacy one)."""
        from .resources.runner import RunnerV3API

        return RunnerV3API(self)
