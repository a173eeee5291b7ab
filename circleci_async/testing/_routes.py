"""The fake's route table: which path and method reach which piece of state, and with what
status. Handlers parse the request (path values, query, JSON body) and return
``(status, json bytes)``; the state modules do the work and raise ``ApiError`` for 4xx.

Patterns are matched against the decoded path after the API prefix (``/api/v2`` or
``/api/v3``). Project slugs are always three segments; organization slugs two (or an id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._codec import dumps, loads
from ._records import ApiError

if TYPE_CHECKING:
    from ._insights import Insights
    from ._org_admin import OrgAdmin
    from ._project_admin import ProjectAdmin
    from ._runner import RunnerState
    from ._simulation import Simulation
    from ._state import FakeState

__all__ = ["Handler", "Route", "Routes"]

Handler = Callable[[web.Request, dict[str, str], bytes], tuple[int, bytes]]
#: (compiled pattern, handlers by method, whether 200 answers to GETs may be cached)
Route = tuple[re.Pattern[str], dict[str, Handler], bool]

_SLUG = r"(?P<slug>[^/]+/[^/]+/[^/]+)"
_ORG_SLUG = r"(?P<org>[^/]+/[^/]+)"
_ID = r"[^/]+"
_ERROR = "error"


def parse_json(body: bytes, key: str = "message") -> Any:
    """The request body as JSON (``None`` when empty), or a 400."""
    if not body.strip():
        return None
    try:
        return loads(body)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON.", key) from None


def _uuid_or_400(value: str, key: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", value):
        raise ApiError(400, f"{value!r} is not a UUID", key)
    return value.lower()


class Routes:
    """Every endpoint of both APIs, over the fake's state objects."""

    def __init__(
        self,
        *,
        state: FakeState,
        simulation: Simulation,
        projects: ProjectAdmin,
        orgs: OrgAdmin,
        insights: Insights,
        runner: RunnerState,
        page_size: Callable[[], int],
    ) -> None:
        self.state = state
        self.sim = simulation
        self.projects = projects
        self.orgs = orgs
        self.insights = insights
        self.runner = runner
        self._size = page_size
        #: Project slugs whose next pipeline-run answers "not triggered" (a ``[ci skip]``).
        self.ci_skip: set[str] = set()
        self.continued: set[str] = set()

    # -- tables ------------------------------------------------------------------------------

    def v2(self) -> list[Route]:
        j = self._json
        table: list[tuple[str, Mapping[str, Handler], bool]] = [
            # users
            ("/me", {"GET": j(self._get_me)}, True),
            ("/me/collaborations", {"GET": j(self._collaborations)}, True),
            ("/user/(?P<id>[^/]+)", {"GET": j(self._get_user)}, True),
            # pipelines
            ("/pipeline", {"GET": j(self._org_pipelines)}, True),
            ("/pipeline/continue", {"POST": j(self._continue)}, True),
            ("/pipeline/(?P<id>[^/]+)", {"GET": j(self._get_pipeline)}, True),
            (
                "/pipeline/(?P<id>[^/]+)/config",
                {"GET": j(self._pipeline_config)},
                True,
            ),
            (
                "/pipeline/(?P<id>[^/]+)/values",
                {"GET": j(self._pipeline_values)},
                True,
            ),
            (
                "/pipeline/(?P<id>[^/]+)/workflow",
                {"GET": j(self._list_workflows)},
                True,
            ),
            # projects
            (
                f"/project/{_SLUG}",
                {
                    "GET": j(self._get_project),
                    "DELETE": j(self._delete_project),
                    "POST": j(self._create_project_by_slug, 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/settings",
                {
                    "GET": j(self._project_settings),
                    "PATCH": j(self._patch_settings),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/pipeline",
                {"GET": j(self._project_pipelines), "POST": j(self._trigger, 201)},
                True,
            ),
            (f"/project/{_SLUG}/pipeline/run", {"POST": self._run}, True),
            (
                f"/project/{_SLUG}/pipeline/mine",
                {"GET": j(self._list_my_pipelines)},
                True,
            ),
            (
                f"/project/{_SLUG}/pipeline/(?P<number>[^/]+)",
                {"GET": j(self._get_pipeline_by_number)},
                True,
            ),
            (
                f"/project/{_SLUG}/job/(?P<number>[^/]+)",
                {"GET": j(self._get_job_details)},
                True,
            ),
            (
                f"/project/{_SLUG}/job/(?P<number>[^/]+)/cancel",
                {"POST": j(self._cancel_job_by_number)},
                True,
            ),
            (
                f"/project/{_SLUG}/(?P<number>[0-9]+)/tests",
                {"GET": j(self._list_tests)},
                True,
            ),
            (
                f"/project/{_SLUG}/envvar",
                {
                    "GET": j(self._list_env_vars),
                    "POST": j(self._create_env_var, 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/envvar/(?P<name>[^/]+)",
                {
                    "GET": j(self._get_env_var),
                    "DELETE": j(self._delete_env_var),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/checkout-key",
                {
                    "GET": j(self._list_checkout_keys),
                    "POST": j(self._create_checkout_key, 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/checkout-key/(?P<fp>.+)",
                {
                    "GET": j(self._get_checkout_key),
                    "DELETE": j(self._delete_checkout_key),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/schedule",
                {
                    "GET": j(self._list_schedules),
                    "POST": j(self._create_schedule, 201),
                },
                True,
            ),
            (
                "/schedule/(?P<id>[^/]+)",
                {
                    "GET": j(self._get_schedule),
                    "PATCH": j(self._update_schedule),
                    "DELETE": j(self._delete_schedule),
                },
                True,
            ),
            # workflows and jobs
            ("/workflow/(?P<id>[^/]+)", {"GET": j(self._get_workflow)}, True),
            (
                "/workflow/(?P<id>[^/]+)/job",
                {"GET": j(self._list_jobs)},
                True,
            ),
            ("/workflow/(?P<id>[^/]+)/cancel", {"POST": j(self._cancel_workflow, 202)}, True),
            ("/workflow/(?P<id>[^/]+)/rerun", {"POST": j(self._rerun, 202)}, True),
            (
                "/workflow/(?P<id>[^/]+)/approve/(?P<request>[^/]+)",
                {"POST": j(self._approve, 202)},
                True,
            ),
            ("/jobs/(?P<id>[^/]+)/cancel", {"POST": j(self._cancel_job)}, True),
            # webhooks
            (
                "/webhook",
                {
                    "GET": j(self._list_webhooks),
                    "POST": j(self._create_webhook, 201),
                },
                True,
            ),
            (
                "/webhook/(?P<id>[^/]+)",
                {
                    "GET": j(self._get_webhook),
                    "PUT": j(self._update_webhook),
                    "DELETE": j(self._delete_webhook),
                },
                True,
            ),
            # contexts
            (
                "/context",
                {
                    "GET": j(self._list_contexts),
                    "POST": j(self._create_context),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)",
                {
                    "GET": j(self._get_context),
                    "DELETE": j(self._delete_context),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/environment-variable",
                {"GET": j(self._list_context_vars)},
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/environment-variable/(?P<name>[^/]+)",
                {
                    "PUT": j(self._put_context_var),
                    "DELETE": j(self._delete_context_var),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/restrictions",
                {
                    "GET": j(self._list_restrictions),
                    "POST": j(self._create_restriction, 201),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/restrictions/(?P<rid>[^/]+)",
                {"DELETE": j(self._delete_restriction)},
                True,
            ),
            # organizations
            ("/organization", {"POST": j(self._create_org, 201)}, True),
            (
                "/organization/(?P<org>.+)/url-orb-allow-list/(?P<entry>[^/]+)",
                {"DELETE": j(self._remove_allow_list_entry)},
                True,
            ),
            (
                "/organization/(?P<org>.+)/url-orb-allow-list",
                {
                    "GET": j(self._list_allow_list),
                    "POST": j(self._create_allow_list_entry),
                },
                True,
            ),
            ("/organization/(?P<org>.+)/project", {"POST": j(self._create_project)}, True),
            (
                "/organization/(?P<org>.+)",
                {"DELETE": j(self._delete_org, 202)},
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/groups",
                {
                    "GET": j(self._list_groups),
                    "POST": j(self._create_group, 201),
                },
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/groups/(?P<id>[^/]+)",
                {
                    "GET": j(self._get_group),
                    "DELETE": j(self._delete_group),
                },
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/usage_export_job",
                {"POST": j(self._create_export, 201)},
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/usage_export_job/(?P<id>[^/]+)",
                {"GET": j(self._get_export)},
                False,  # completes as the clock moves
            ),
            # OIDC custom claims
            (
                "/org/(?P<org>[^/]+)/oidc-custom-claims",
                self._claims_handlers(project=False),
                True,
            ),
            (
                "/org/(?P<org>[^/]+)/project/(?P<project>[^/]+)/oidc-custom-claims",
                self._claims_handlers(project=True),
                True,
            ),
            # config policies
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision",
                {
                    "GET": self._err(self._decision_logs),
                    "POST": self._err(self._decide),
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/settings",
                {
                    "GET": self._err(self._decision_settings),
                    "PATCH": self._err(self._set_decision_settings),
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/(?P<id>[^/]+)",
                {"GET": self._err(self._decision_log)},
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/(?P<id>[^/]+)/policy-bundle",
                {"GET": self._err(self._decision_bundle)},
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/policy-bundle",
                {
                    "GET": self._err(self._get_bundle),
                    "POST": self._replace_bundle,
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/policy-bundle/(?P<name>[^/]+)",
                {"GET": self._err(self._get_policy)},
                True,
            ),
            # pipeline definitions, triggers, rollback
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions",
                {
                    "GET": j(self._list_definitions),
                    "POST": j(self._create_definition),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions/(?P<did>[^/]+)",
                {
                    "GET": j(self._get_definition),
                    "PATCH": j(self._update_definition),
                    "DELETE": j(self._delete_definition),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions/(?P<did>[^/]+)/triggers",
                {
                    "GET": j(self._list_triggers),
                    "POST": j(self._create_trigger),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/triggers/(?P<tid>[^/]+)",
                {
                    "GET": j(self._get_trigger),
                    "PATCH": j(self._update_trigger),
                    "DELETE": j(self._delete_trigger),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/rollback",
                {"POST": j(self._rollback, 202)},
                True,
            ),
            # deploys
            (
                "/deploy/environments",
                {"GET": j(self._list_environments)},
                True,
            ),
            (
                "/deploy/environments/(?P<id>[^/]+)",
                {"GET": j(self._get_environment)},
                True,
            ),
            ("/deploy/components", {"GET": j(self._list_components)}, True),
            (
                "/deploy/components/(?P<id>[^/]+)",
                {"GET": j(self._get_component)},
                True,
            ),
            (
                "/deploy/components/(?P<id>[^/]+)/versions",
                {"GET": j(self._list_versions)},
                True,
            ),
            # insights: computed against the clock, so never cached
            (
                f"/insights/pages/{_SLUG}/summary",
                {"GET": j(self._insights_project_summary)},
                False,
            ),
            (
                f"/insights/{_ORG_SLUG}/summary",
                {"GET": j(self._insights_org_summary)},
                False,
            ),
            (
                f"/insights/{_SLUG}/branches",
                {"GET": j(self._insights_branches)},
                False,
            ),
            (
                f"/insights/{_SLUG}/flaky-tests",
                {"GET": j(self._insights_flaky_tests)},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows",
                {"GET": j(self._insights_workflow_metrics)},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)",
                {"GET": j(self._insights_workflow_runs)},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/jobs",
                {"GET": j(self._insights_job_metrics)},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/summary",
                {"GET": j(self._insights_workflow_summary)},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/test-metrics",
                {"GET": j(self._insights_test_metrics)},
                False,
            ),
            (
                f"/insights/time-series/{_SLUG}/workflows/(?P<name>[^/]+)/jobs",
                {"GET": j(self._insights_job_timeseries)},
                False,
            ),
        ]
        return [(re.compile(pattern), dict(handlers), cache) for pattern, handlers, cache in table]

    def v3(self) -> list[Route]:
        """The runner API, under ``/api/v3``; counts follow the simulated jobs, so uncached."""
        j = self._json
        table: list[tuple[str, Mapping[str, Handler], bool]] = [
            ("/runner", {"GET": j(self._runner_list_runners)}, False),
            ("/runner/tasks", {"GET": j(self._runner_unclaimed)}, False),
            ("/runner/tasks/running", {"GET": j(self._runner_running)}, False),
            (
                "/runner/resource",
                {
                    "GET": j(self._runner_list_resource_classes),
                    "POST": j(self._runner_create_resource_class),
                },
                False,
            ),
            (
                "/runner/resource/(?P<id>[^/]+)",
                {"DELETE": self._empty(self._runner_delete_resource_class)},
                False,
            ),
            (
                "/runner/resource/(?P<id>[^/]+)/force",
                {"DELETE": self._empty(self._runner_delete_resource_class_forced)},
                False,
            ),
            (
                "/runner/token",
                {
                    "GET": j(self._runner_list_tokens),
                    "POST": j(self._runner_create_token),
                },
                False,
            ),
            (
                "/runner/token/(?P<id>[^/]+)",
                {"DELETE": self._empty(self._runner_delete_token)},
                False,
            ),
        ]
        return [(re.compile(pattern), dict(handlers), cache) for pattern, handlers, cache in table]

    # -- adapters ----------------------------------------------------------------------------

    @staticmethod
    def _json(
        fn: Callable[[web.Request, dict[str, str], bytes], Any], status: int = 200
    ) -> Handler:
        def handler(request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
            return status, dumps(fn(request, m, body))

        return handler

    @staticmethod
    def _err(fn: Callable[[web.Request, dict[str, str], bytes], Any]) -> Handler:
        """A Policy/OIDC handler: its 4xx bodies are ``{"error": ...}``."""

        def handler(request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
            try:
                return 200, dumps(fn(request, m, body))
            except ApiError as error:
                error.key = _ERROR
                raise

        return handler

    @staticmethod
    def _empty(fn: Callable[[web.Request, dict[str, str], bytes], Any]) -> Handler:
        def handler(request: web.Request, m: dict[str, str], body: bytes) -> tuple[int, bytes]:
            fn(request, m, body)
            return 200, b""

        return handler

    # -- handlers: one per operation, each reading the request and calling the state -------

    def _get_me(self, _r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.state.user.to_json()

    def _collaborations(self, _r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.state.collaborations()

    def _get_user(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_user(m["id"])

    def _get_pipeline(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_pipeline(m["id"])

    def _pipeline_config(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.pipeline_config(m["id"])

    def _pipeline_values(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.pipeline_values(m["id"])

    def _list_workflows(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.list_workflows(m["id"], _token(r), self._size())

    def _get_project(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_project(m["slug"])

    def _create_project_by_slug(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.create_project_by_slug(m["slug"])

    def _project_settings(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.project_settings(m["slug"])

    def _patch_settings(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.patch_settings(m["slug"], parse_json(b))

    def _list_my_pipelines(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.list_my_pipelines(m["slug"], _token(r), self._size())

    def _get_pipeline_by_number(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_pipeline_by_number(m["slug"], m["number"])

    def _get_job_details(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_job_details(m["slug"], m["number"])

    def _list_tests(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.list_tests(m["slug"], m["number"], _token(r), self._size())

    def _list_env_vars(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_env_vars(m["slug"], _token(r), self._size())

    def _create_env_var(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_env_var(m["slug"], parse_json(b))

    def _get_env_var(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.env_var(m["slug"], m["name"])

    def _delete_env_var(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_env_var(m["slug"], m["name"])

    def _list_checkout_keys(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_checkout_keys(
            m["slug"], r.query.get("digest"), _token(r), self._size()
        )

    def _create_checkout_key(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_checkout_key(m["slug"], parse_json(b))

    def _get_checkout_key(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.checkout_key(m["slug"], m["fp"])

    def _delete_checkout_key(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_checkout_key(m["slug"], m["fp"])

    def _list_schedules(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_schedules(m["slug"], _token(r), self._size())

    def _create_schedule(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_schedule(m["slug"], parse_json(b))

    def _get_schedule(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.schedules.get(m["id"])

    def _update_schedule(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.update_schedule(m["id"], parse_json(b))

    def _delete_schedule(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_schedule(m["id"])

    def _get_workflow(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.get_workflow(m["id"])

    def _list_jobs(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.state.list_jobs(m["id"], _token(r), self._size())

    def _list_webhooks(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_webhooks(r.query, self._size())

    def _create_webhook(self, _r: web.Request, _m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_webhook(parse_json(b))

    def _get_webhook(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.webhooks.get(m["id"])

    def _update_webhook(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.update_webhook(m["id"], parse_json(b))

    def _delete_webhook(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_webhook(m["id"])

    def _list_contexts(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_contexts(r.query, self._size())

    def _create_context(self, _r: web.Request, _m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_context(parse_json(b))

    def _get_context(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.contexts.get(m["id"])

    def _delete_context(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.delete_context(m["id"])

    def _list_context_vars(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_context_vars(m["id"], _token(r), self._size())

    def _put_context_var(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.put_context_var(m["id"], m["name"], parse_json(b))

    def _delete_context_var(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.delete_context_var(m["id"], m["name"])

    def _list_restrictions(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_restrictions(m["id"], _token(r), self._size())

    def _create_restriction(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_restriction(m["id"], parse_json(b))

    def _delete_restriction(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.delete_restriction(m["id"], m["rid"])

    def _create_org(self, _r: web.Request, _m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_org(parse_json(b))

    def _remove_allow_list_entry(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.remove_allow_list_entry(m["org"], m["entry"])

    def _list_allow_list(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_allow_list(m["org"])

    def _create_allow_list_entry(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_allow_list_entry(m["org"], parse_json(b))

    def _delete_org(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.delete_org(m["org"])

    def _list_groups(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_groups(m["org"], r.query, self._size())

    def _create_group(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_group(m["org"], parse_json(b))

    def _get_group(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.group(m["org"], m["id"])

    def _delete_group(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.delete_group(m["org"], m["id"])

    def _create_export(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.create_export(m["org"], parse_json(b))

    def _get_export(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.export(m["org"], m["id"])

    def _decision_logs(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.decision_logs(m["owner"], m["ctx"], r.query)

    def _decide(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.decide(m["owner"], m["ctx"], parse_json(b, _ERROR))

    def _decision_settings(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.settings(m["owner"], m["ctx"])

    def _set_decision_settings(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.set_settings(m["owner"], m["ctx"], parse_json(b, _ERROR))

    def _decision_log(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.decision_log(m["owner"], m["ctx"], m["id"])

    def _decision_bundle(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.decision_bundle(m["owner"], m["ctx"], m["id"])

    def _get_bundle(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.bundle(m["owner"], m["ctx"])

    def _get_policy(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.policy(m["owner"], m["ctx"], m["name"])

    def _list_definitions(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_definitions(m["pid"])

    def _create_definition(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_definition(m["pid"], parse_json(b))

    def _get_definition(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.definition(m["pid"], m["did"])

    def _update_definition(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.update_definition(m["pid"], m["did"], parse_json(b))

    def _delete_definition(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_definition(m["pid"], m["did"])

    def _list_triggers(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.list_triggers(m["pid"], m["did"])

    def _create_trigger(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.create_trigger(m["pid"], m["did"], parse_json(b))

    def _get_trigger(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.trigger(m["pid"], m["tid"])

    def _update_trigger(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.projects.update_trigger(m["pid"], m["tid"], parse_json(b))

    def _delete_trigger(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.projects.delete_trigger(m["pid"], m["tid"])

    def _rollback(self, _r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.orgs.rollback(m["pid"], parse_json(b))

    def _list_environments(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_environments(r.query)

    def _get_environment(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.environments.get(m["id"])

    def _list_components(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_components(r.query)

    def _get_component(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.components.get(m["id"])

    def _list_versions(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.orgs.list_versions(m["id"], r.query, self._size())

    def _insights_project_summary(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.project_summary(m["slug"], r.query)

    def _insights_org_summary(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.org_summary(m["org"], r.query)

    def _insights_branches(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.branches(m["slug"], r.query.get("workflow-name"))

    def _insights_flaky_tests(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.flaky_tests(m["slug"])

    def _insights_workflow_metrics(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.workflow_metrics(m["slug"], r.query, self._size())

    def _insights_workflow_runs(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.workflow_runs(m["slug"], m["name"], r.query, self._size())

    def _insights_job_metrics(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.job_metrics(m["slug"], m["name"], r.query, self._size())

    def _insights_workflow_summary(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.workflow_summary(m["slug"], m["name"], r.query)

    def _insights_test_metrics(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.test_metrics(m["slug"], m["name"], r.query)

    def _insights_job_timeseries(self, r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.insights.job_timeseries(m["slug"], m["name"], r.query, self._size())

    def _runner_list_runners(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.runner.list_runners(r.query)

    def _runner_unclaimed(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.runner.unclaimed(r.query)

    def _runner_running(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.runner.running(r.query)

    def _runner_list_resource_classes(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.runner.list_resource_classes(r.query)

    def _runner_create_resource_class(self, _r: web.Request, _m: dict[str, str], b: bytes) -> Any:
        return self.runner.create_resource_class(parse_json(b))

    def _runner_delete_resource_class(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.runner.delete_resource_class(m["id"], False)

    def _runner_delete_resource_class_forced(
        self, _r: web.Request, m: dict[str, str], _b: bytes
    ) -> Any:
        return self.runner.delete_resource_class(m["id"], True)

    def _runner_list_tokens(self, r: web.Request, _m: dict[str, str], _b: bytes) -> Any:
        return self.runner.list_tokens(r.query)

    def _runner_create_token(self, _r: web.Request, _m: dict[str, str], b: bytes) -> Any:
        return self.runner.create_token(parse_json(b))

    def _runner_delete_token(self, _r: web.Request, m: dict[str, str], _b: bytes) -> Any:
        return self.runner.delete_token(m["id"])

    # -- handlers with more to say -----------------------------------------------------------

    def _org_pipelines(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.state.list_org_pipelines(
            r.query.get("org-slug"), r.query.get("mine") == "true", _token(r), self._size()
        )

    def _project_pipelines(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.state.list_pipelines(m["slug"], r.query.get("branch"), _token(r), self._size())

    def _trigger(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        return self.state.trigger(m["slug"], parse_json(b))

    def _run(self, r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, bytes]:
        """``triggerPipelineRun``: 201 with the pipeline, or 200 when CI is skipped."""
        slug = m["slug"]
        project = self.state.api_project(slug)
        body = parse_json(b) or {}
        if not isinstance(body, dict) or set(body) - {
            "definition_id",
            "config",
            "checkout",
            "parameters",
        }:
            raise ApiError(400, "Unexpected request body.")
        refs: dict[str, str | None] = {"branch": None, "tag": None}
        for part in ("config", "checkout"):
            ref = body.get(part)
            if ref is None:
                continue
            if not isinstance(ref, dict) or set(ref) - {"branch", "tag"} or len(ref) != 1:
                raise ApiError(400, f"{part} has exactly one of branch or tag.")
            refs.update({k: v for k, v in ref.items() if part == "checkout" or refs[k] is None})
        definition = body.get("definition_id")
        if definition is not None and not any(
            row.json["id"] == definition and row.meta["project"] == project.id
            for row in self.projects.definitions
        ):
            raise ApiError(404, "Pipeline definition not found.")
        parameters = body.get("parameters")
        if parameters is not None:
            from ._state import check_parameters

            check_parameters(parameters)
        if slug in self.ci_skip:
            self.ci_skip.discard(slug)
            return 200, dumps({"message": "Ignoring pipeline due to CI skip in the commit."})
        branch, tag = refs["branch"], refs["tag"]
        if branch is not None and tag is not None:
            tag = None
        pipeline = self.state.start_pipeline(slug, branch, tag, parameters)
        return 201, dumps(pipeline.creation_json())

    def _continue(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        body = parse_json(b)
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        key, configuration = body.get("continuation-key"), body.get("configuration")
        if not isinstance(key, str) or not isinstance(configuration, str):
            raise ApiError(400, "continuation-key and configuration are required strings.")
        pipeline_id = key.removeprefix("ck-")
        if pipeline_id not in self.state.pipelines:
            raise ApiError(400, "Invalid continuation key.")
        if key in self.continued:
            raise ApiError(400, "This pipeline has already been continued.")
        self.continued.add(key)
        return {"message": "Pipeline continued."}

    def _delete_project(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        self.state.delete_project(m["slug"])
        return {"message": "Project deleted."}

    def _create_project(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        body = parse_json(b)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise ApiError(400, "Field name is required.")
        return self.state.create_project(m["org"], body["name"]).to_json()

    def _cancel_workflow(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        self.sim.cancel_workflow(self.state.api_workflow(m["id"]), self.state.clock())
        return {"message": "Accepted."}

    def _rerun(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        body = parse_json(b) or {}
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object.")
        jobs = body.get("jobs")
        if jobs is not None and (
            not isinstance(jobs, list) or not all(isinstance(x, str) for x in jobs)
        ):
            raise ApiError(400, "jobs is a list of job ids.")
        workflow = self.state.api_workflow(m["id"])
        new = self.sim.rerun(workflow, self.state.clock())
        return {"workflow_id": new.id}

    def _approve(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        workflow = self.state.api_workflow(m["id"])
        self.sim.approve(workflow, m["request"], self.state.clock())
        return {"message": "Accepted."}

    def _cancel_job(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        self.sim.cancel_job(self.state.api_job_by_id(m["id"]), self.state.clock())
        return {"message": "Job canceled."}

    def _cancel_job_by_number(self, r: web.Request, m: dict[str, str], b: bytes) -> Any:
        self.sim.cancel_job(self.state.api_job(m["slug"], m["number"]), self.state.clock())
        return {"message": "Job canceled."}

    def _claims_handlers(self, *, project: bool) -> dict[str, Handler]:
        o = self.orgs

        def ids(m: dict[str, str]) -> tuple[str, str | None]:
            org = _uuid_or_400(m["org"], _ERROR)
            return org, (_uuid_or_400(m["project"], _ERROR) if project else None)

        def get_claims(_r: web.Request, m: dict[str, str], _b: bytes) -> Any:
            return o.claims_of(*ids(m))

        def patch_claims(_r: web.Request, m: dict[str, str], b: bytes) -> Any:
            return o.patch_claims(*ids(m), parse_json(b, _ERROR))

        def delete_claims(r: web.Request, m: dict[str, str], _b: bytes) -> Any:
            return o.delete_claims(*ids(m), r.query.get("claims"))

        return {
            "GET": self._err(get_claims),
            "PATCH": self._err(patch_claims),
            "DELETE": self._err(delete_claims),
        }

    def _replace_bundle(self, r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, bytes]:
        dry = r.query.get("dry") == "true"
        try:
            diff = self.orgs.replace_bundle(m["owner"], m["ctx"], parse_json(b, _ERROR), dry)
        except ApiError as error:
            error.key = _ERROR
            raise
        return (200 if dry else 201), dumps(diff)


def _token(request: web.Request) -> str | None:
    return request.query.get("page-token")
