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
from ._state import ApiError

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
        s, p, o, i = self.state, self.projects, self.orgs, self.insights
        size = self._size
        j = self._json
        table: list[tuple[str, Mapping[str, Handler], bool]] = [
            # users
            ("/me", {"GET": j(lambda r, m, b: s.user.to_json())}, True),
            ("/me/collaborations", {"GET": j(lambda r, m, b: s.collaborations())}, True),
            ("/user/(?P<id>[^/]+)", {"GET": j(lambda r, m, b: s.get_user(m["id"]))}, True),
            # pipelines
            ("/pipeline", {"GET": j(self._org_pipelines)}, True),
            ("/pipeline/continue", {"POST": j(self._continue)}, True),
            ("/pipeline/(?P<id>[^/]+)", {"GET": j(lambda r, m, b: s.get_pipeline(m["id"]))}, True),
            (
                "/pipeline/(?P<id>[^/]+)/config",
                {"GET": j(lambda r, m, b: s.pipeline_config(m["id"]))},
                True,
            ),
            (
                "/pipeline/(?P<id>[^/]+)/values",
                {"GET": j(lambda r, m, b: s.pipeline_values(m["id"]))},
                True,
            ),
            (
                "/pipeline/(?P<id>[^/]+)/workflow",
                {"GET": j(lambda r, m, b: s.list_workflows(m["id"], _token(r), size()))},
                True,
            ),
            # projects
            (
                f"/project/{_SLUG}",
                {
                    "GET": j(lambda r, m, b: s.get_project(m["slug"])),
                    "DELETE": j(self._delete_project),
                    "POST": j(lambda r, m, b: p.create_project_by_slug(m["slug"]), 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/settings",
                {
                    "GET": j(lambda r, m, b: p.project_settings(m["slug"])),
                    "PATCH": j(lambda r, m, b: p.patch_settings(m["slug"], parse_json(b))),
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
                {"GET": j(lambda r, m, b: s.list_my_pipelines(m["slug"], _token(r), size()))},
                True,
            ),
            (
                f"/project/{_SLUG}/pipeline/(?P<number>[^/]+)",
                {"GET": j(lambda r, m, b: s.get_pipeline_by_number(m["slug"], m["number"]))},
                True,
            ),
            (
                f"/project/{_SLUG}/job/(?P<number>[^/]+)",
                {"GET": j(lambda r, m, b: s.get_job_details(m["slug"], m["number"]))},
                True,
            ),
            (
                f"/project/{_SLUG}/job/(?P<number>[^/]+)/cancel",
                {"POST": j(self._cancel_job_by_number)},
                True,
            ),
            (
                f"/project/{_SLUG}/(?P<number>[0-9]+)/tests",
                {"GET": j(lambda r, m, b: s.list_tests(m["slug"], m["number"], _token(r), size()))},
                True,
            ),
            (
                f"/project/{_SLUG}/envvar",
                {
                    "GET": j(lambda r, m, b: p.list_env_vars(m["slug"], _token(r), size())),
                    "POST": j(lambda r, m, b: p.create_env_var(m["slug"], parse_json(b)), 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/envvar/(?P<name>[^/]+)",
                {
                    "GET": j(lambda r, m, b: p.env_var(m["slug"], m["name"])),
                    "DELETE": j(lambda r, m, b: p.delete_env_var(m["slug"], m["name"])),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/checkout-key",
                {
                    "GET": j(
                        lambda r, m, b: p.list_checkout_keys(
                            m["slug"], r.query.get("digest"), _token(r), size()
                        )
                    ),
                    "POST": j(lambda r, m, b: p.create_checkout_key(m["slug"], parse_json(b)), 201),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/checkout-key/(?P<fp>.+)",
                {
                    "GET": j(lambda r, m, b: p.checkout_key(m["slug"], m["fp"])),
                    "DELETE": j(lambda r, m, b: p.delete_checkout_key(m["slug"], m["fp"])),
                },
                True,
            ),
            (
                f"/project/{_SLUG}/schedule",
                {
                    "GET": j(lambda r, m, b: p.list_schedules(m["slug"], _token(r), size())),
                    "POST": j(lambda r, m, b: p.create_schedule(m["slug"], parse_json(b)), 201),
                },
                True,
            ),
            (
                "/schedule/(?P<id>[^/]+)",
                {
                    "GET": j(lambda r, m, b: p.schedules.get(m["id"])),
                    "PATCH": j(lambda r, m, b: p.update_schedule(m["id"], parse_json(b))),
                    "DELETE": j(lambda r, m, b: p.delete_schedule(m["id"])),
                },
                True,
            ),
            # workflows and jobs
            ("/workflow/(?P<id>[^/]+)", {"GET": j(lambda r, m, b: s.get_workflow(m["id"]))}, True),
            (
                "/workflow/(?P<id>[^/]+)/job",
                {"GET": j(lambda r, m, b: s.list_jobs(m["id"], _token(r), size()))},
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
                    "GET": j(lambda r, m, b: p.list_webhooks(r.query, size())),
                    "POST": j(lambda r, m, b: p.create_webhook(parse_json(b)), 201),
                },
                True,
            ),
            (
                "/webhook/(?P<id>[^/]+)",
                {
                    "GET": j(lambda r, m, b: p.webhooks.get(m["id"])),
                    "PUT": j(lambda r, m, b: p.update_webhook(m["id"], parse_json(b))),
                    "DELETE": j(lambda r, m, b: p.delete_webhook(m["id"])),
                },
                True,
            ),
            # contexts
            (
                "/context",
                {
                    "GET": j(lambda r, m, b: o.list_contexts(r.query, size())),
                    "POST": j(lambda r, m, b: o.create_context(parse_json(b))),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)",
                {
                    "GET": j(lambda r, m, b: o.contexts.get(m["id"])),
                    "DELETE": j(lambda r, m, b: o.delete_context(m["id"])),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/environment-variable",
                {"GET": j(lambda r, m, b: o.list_context_vars(m["id"], _token(r), size()))},
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/environment-variable/(?P<name>[^/]+)",
                {
                    "PUT": j(lambda r, m, b: o.put_context_var(m["id"], m["name"], parse_json(b))),
                    "DELETE": j(lambda r, m, b: o.delete_context_var(m["id"], m["name"])),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/restrictions",
                {
                    "GET": j(lambda r, m, b: o.list_restrictions(m["id"], _token(r), size())),
                    "POST": j(lambda r, m, b: o.create_restriction(m["id"], parse_json(b)), 201),
                },
                True,
            ),
            (
                "/context/(?P<id>[^/]+)/restrictions/(?P<rid>[^/]+)",
                {"DELETE": j(lambda r, m, b: o.delete_restriction(m["id"], m["rid"]))},
                True,
            ),
            # organizations
            ("/organization", {"POST": j(lambda r, m, b: o.create_org(parse_json(b)), 201)}, True),
            (
                "/organization/(?P<org>.+)/url-orb-allow-list/(?P<entry>[^/]+)",
                {"DELETE": j(lambda r, m, b: o.remove_allow_list_entry(m["org"], m["entry"]))},
                True,
            ),
            (
                "/organization/(?P<org>.+)/url-orb-allow-list",
                {
                    "GET": j(lambda r, m, b: o.list_allow_list(m["org"])),
                    "POST": j(lambda r, m, b: o.create_allow_list_entry(m["org"], parse_json(b))),
                },
                True,
            ),
            ("/organization/(?P<org>.+)/project", {"POST": j(self._create_project)}, True),
            (
                "/organization/(?P<org>.+)",
                {"DELETE": j(lambda r, m, b: o.delete_org(m["org"]), 202)},
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/groups",
                {
                    "GET": j(lambda r, m, b: o.list_groups(m["org"], r.query, size())),
                    "POST": j(lambda r, m, b: o.create_group(m["org"], parse_json(b)), 201),
                },
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/groups/(?P<id>[^/]+)",
                {
                    "GET": j(lambda r, m, b: o.group(m["org"], m["id"])),
                    "DELETE": j(lambda r, m, b: o.delete_group(m["org"], m["id"])),
                },
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/usage_export_job",
                {"POST": j(lambda r, m, b: o.create_export(m["org"], parse_json(b)), 201)},
                True,
            ),
            (
                "/organizations/(?P<org>[^/]+)/usage_export_job/(?P<id>[^/]+)",
                {"GET": j(lambda r, m, b: o.export(m["org"], m["id"]))},
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
                    "GET": self._err(
                        lambda r, m, b: o.decision_logs(m["owner"], m["ctx"], r.query)
                    ),
                    "POST": self._err(
                        lambda r, m, b: o.decide(m["owner"], m["ctx"], parse_json(b, _ERROR))
                    ),
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/settings",
                {
                    "GET": self._err(lambda r, m, b: o.settings(m["owner"], m["ctx"])),
                    "PATCH": self._err(
                        lambda r, m, b: o.set_settings(m["owner"], m["ctx"], parse_json(b, _ERROR))
                    ),
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/(?P<id>[^/]+)",
                {"GET": self._err(lambda r, m, b: o.decision_log(m["owner"], m["ctx"], m["id"]))},
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/decision/(?P<id>[^/]+)/policy-bundle",
                {
                    "GET": self._err(
                        lambda r, m, b: o.decision_bundle(m["owner"], m["ctx"], m["id"])
                    )
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/policy-bundle",
                {
                    "GET": self._err(lambda r, m, b: o.bundle(m["owner"], m["ctx"])),
                    "POST": self._replace_bundle,
                },
                True,
            ),
            (
                "/owner/(?P<owner>[^/]+)/context/(?P<ctx>[^/]+)/policy-bundle/(?P<name>[^/]+)",
                {"GET": self._err(lambda r, m, b: o.policy(m["owner"], m["ctx"], m["name"]))},
                True,
            ),
            # pipeline definitions, triggers, rollback
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions",
                {
                    "GET": j(lambda r, m, b: p.list_definitions(m["pid"])),
                    "POST": j(lambda r, m, b: p.create_definition(m["pid"], parse_json(b))),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions/(?P<did>[^/]+)",
                {
                    "GET": j(lambda r, m, b: p.definition(m["pid"], m["did"])),
                    "PATCH": j(
                        lambda r, m, b: p.update_definition(m["pid"], m["did"], parse_json(b))
                    ),
                    "DELETE": j(lambda r, m, b: p.delete_definition(m["pid"], m["did"])),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/pipeline-definitions/(?P<did>[^/]+)/triggers",
                {
                    "GET": j(lambda r, m, b: p.list_triggers(m["pid"], m["did"])),
                    "POST": j(lambda r, m, b: p.create_trigger(m["pid"], m["did"], parse_json(b))),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/triggers/(?P<tid>[^/]+)",
                {
                    "GET": j(lambda r, m, b: p.trigger(m["pid"], m["tid"])),
                    "PATCH": j(lambda r, m, b: p.update_trigger(m["pid"], m["tid"], parse_json(b))),
                    "DELETE": j(lambda r, m, b: p.delete_trigger(m["pid"], m["tid"])),
                },
                True,
            ),
            (
                "/projects/(?P<pid>[^/]+)/rollback",
                {"POST": j(lambda r, m, b: o.rollback(m["pid"], parse_json(b)), 202)},
                True,
            ),
            # deploys
            (
                "/deploy/environments",
                {"GET": j(lambda r, m, b: o.list_environments(r.query))},
                True,
            ),
            (
                "/deploy/environments/(?P<id>[^/]+)",
                {"GET": j(lambda r, m, b: o.environments.get(m["id"]))},
                True,
            ),
            ("/deploy/components", {"GET": j(lambda r, m, b: o.list_components(r.query))}, True),
            (
                "/deploy/components/(?P<id>[^/]+)",
                {"GET": j(lambda r, m, b: o.components.get(m["id"]))},
                True,
            ),
            (
                "/deploy/components/(?P<id>[^/]+)/versions",
                {"GET": j(lambda r, m, b: o.list_versions(m["id"], r.query, size()))},
                True,
            ),
            # insights: computed against the clock, so never cached
            (
                f"/insights/pages/{_SLUG}/summary",
                {"GET": j(lambda r, m, b: i.project_summary(m["slug"], r.query))},
                False,
            ),
            (
                f"/insights/{_ORG_SLUG}/summary",
                {"GET": j(lambda r, m, b: i.org_summary(m["org"], r.query))},
                False,
            ),
            (
                f"/insights/{_SLUG}/branches",
                {"GET": j(lambda r, m, b: i.branches(m["slug"], r.query.get("workflow-name")))},
                False,
            ),
            (
                f"/insights/{_SLUG}/flaky-tests",
                {"GET": j(lambda r, m, b: i.flaky_tests(m["slug"]))},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows",
                {"GET": j(lambda r, m, b: i.workflow_metrics(m["slug"], r.query, size()))},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)",
                {"GET": j(lambda r, m, b: i.workflow_runs(m["slug"], m["name"], r.query, size()))},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/jobs",
                {"GET": j(lambda r, m, b: i.job_metrics(m["slug"], m["name"], r.query, size()))},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/summary",
                {"GET": j(lambda r, m, b: i.workflow_summary(m["slug"], m["name"], r.query))},
                False,
            ),
            (
                f"/insights/{_SLUG}/workflows/(?P<name>[^/]+)/test-metrics",
                {"GET": j(lambda r, m, b: i.test_metrics(m["slug"], m["name"], r.query))},
                False,
            ),
            (
                f"/insights/time-series/{_SLUG}/workflows/(?P<name>[^/]+)/jobs",
                {"GET": j(lambda r, m, b: i.job_timeseries(m["slug"], m["name"], r.query, size()))},
                False,
            ),
        ]
        return [(re.compile(pattern), dict(handlers), cache) for pattern, handlers, cache in table]

    def v3(self) -> list[Route]:
        """The runner API, under ``/api/v3``; counts follow the simulated jobs, so uncached."""
        rs = self.runner
        j = self._json
        table: list[tuple[str, Mapping[str, Handler], bool]] = [
            ("/runner", {"GET": j(lambda r, m, b: rs.list_runners(r.query))}, False),
            ("/runner/tasks", {"GET": j(lambda r, m, b: rs.unclaimed(r.query))}, False),
            ("/runner/tasks/running", {"GET": j(lambda r, m, b: rs.running(r.query))}, False),
            (
                "/runner/resource",
                {
                    "GET": j(lambda r, m, b: rs.list_resource_classes(r.query)),
                    "POST": j(lambda r, m, b: rs.create_resource_class(parse_json(b))),
                },
                False,
            ),
            (
                "/runner/resource/(?P<id>[^/]+)",
                {"DELETE": self._empty(lambda r, m, b: rs.delete_resource_class(m["id"], False))},
                False,
            ),
            (
                "/runner/resource/(?P<id>[^/]+)/force",
                {"DELETE": self._empty(lambda r, m, b: rs.delete_resource_class(m["id"], True))},
                False,
            ),
            (
                "/runner/token",
                {
                    "GET": j(lambda r, m, b: rs.list_tokens(r.query)),
                    "POST": j(lambda r, m, b: rs.create_token(parse_json(b))),
                },
                False,
            ),
            (
                "/runner/token/(?P<id>[^/]+)",
                {"DELETE": self._empty(lambda r, m, b: rs.delete_token(m["id"]))},
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

        return {
            "GET": self._err(lambda r, m, b: o.claims_of(*ids(m))),
            "PATCH": self._err(lambda r, m, b: o.patch_claims(*ids(m), parse_json(b, _ERROR))),
            "DELETE": self._err(lambda r, m, b: o.delete_claims(*ids(m), r.query.get("claims"))),
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
