"""API v3 in the fake, served beside v2 from the same state (``fake.v3``): a run seen here is
the pipeline v2 serves, with the same id (``_v3_render.py`` maps the fields).

What it enforces, as the notes describe v3 (all of it **[inferred]** where §5 of the notes
says so): ``Authorization: Bearer`` only (``Circle-Token`` is refused unless
:attr:`V3Api.accept_circle_token`), 401 and every other error as the v3 error object, the
required scope filters (400 ``validation_error``), ``page[limit]`` within each operation's
maximum (400, not clamped), opaque cursors and ``page.next: null`` on the last page, search
cursors in the body, the runs lists' time windows (``filter[from]``/``filter[to]``,
``scope.from``/``scope.to``: RFC 3339, a malformed one is a 400). On demand: an operation
removed (410) or deprecated (``Deprecation``, ``Sunset``, ``Link`` headers).

The families beyond users, orgs, projects, runs, workflows and jobs live in their own modules
(``_v3_pipelines.py``: pipelines, triggers, config compile; ``_v3_contexts.py``; ``_v3_admin.py``:
settings updates, DLC, rollback, groups, providers, deploy, signing; ``_v3_orbs.py``;
``_v3_runner.py``: the v3-style runner and charges), each mounted with one line in the table.

Routes are written as the notes write them (``/runs/{id}``); :meth:`V3Api.remove` and
:meth:`V3Api.deprecate` take the same form.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDictProxy

from ._codec import dumps, loads
from ._records import ApiError
from ._v3_output import OutputStore, Raw
from ._v3_render import job_entity, project_entity, run_entity, user_entity, workflow_entity

if TYPE_CHECKING:
    from ._simulation import Simulation
    from ._state import FakeState

__all__ = [
    "END",
    "ORG_SETTINGS",
    "PROJECT_SETTINGS",
    "V3Api",
    "V3Error",
    "V3Handler",
    "json_object",
    "required",
]

PREFIX = "/api/v3"
#: ``page[limit]`` maxima (§3.1); elsewhere 100 [inferred].
LIMITS = {"/runs": 20, "/runs/search": 20, "/projects": 50, "/analysis/charges": 20,
          "/provider/repositories": 100, "/contexts": 100, "/contexts/{id}/env-vars": 100,
          "/runner/agents": 250}  # fmt: skip
DEFAULT_MAX = 100

V3Handler = Callable[[web.Request, dict[str, str], bytes], tuple[int, Any]]

_TYPES = {400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          409: "conflict", 410: "gone"}  # fmt: skip


class V3Error(Exception):
    """A v3 error answer: status, ``error.type``, ``title``, ``detail``, ``source.pointer``."""

    def __init__(
        self, status: int, title: str, detail: str = "", pointer: str | None = None
    ) -> None:
        super().__init__(title)
        self.status, self.title, self.detail, self.pointer = status, title, detail, pointer


class V3Api:
    """The v3 routes, their switches and their store of what v2 has no place for."""

    def __init__(
        self, state: FakeState, simulation: Simulation, page_size: Callable[[], int]
    ) -> None:
        self.state = state
        self.sim = simulation
        self._size = page_size
        #: Also accept ``Circle-Token`` (the JetBrains plugin sends it; the conventions show
        #: only Bearer).
        self.accept_circle_token = False
        self._removed: set[tuple[str, str]] = set()
        self._deprecated: dict[tuple[str, str], dict[str, str]] = {}
        self._artifacts: dict[str, list[dict[str, Any]]] = {}
        #: Step output, tests and resource usage of jobs (``set_output`` and the others).
        self.outputs = OutputStore(state.clock)
        self._error_ids = itertools.count(1)
        #: Settings changed by ``update-settings``, by org or project id (over the defaults).
        self.settings: dict[str, dict[str, Any]] = {}
        from . import _v3_admin, _v3_contexts, _v3_orbs, _v3_pipelines, _v3_runner

        #: The other families' routes and stores (tests seed or inspect them here).
        self.pipelines = _v3_pipelines.PipelinesV3(self)
        self.contexts = _v3_contexts.ContextsV3(self)
        self.admin = _v3_admin.AdminV3(self)
        self.orbs = _v3_orbs.OrbsV3(self)
        self.runner = _v3_runner.RunnerV3(self)
        self._routes = self._table()
        #: Run lists by what selected them, valid for one :attr:`FakeState.version`: a walk of
        #: many pages sorts and filters once, so each page costs what its items cost.
        self._listed: dict[Any, list[Any]] = {}
        self._listed_version = -1

    # -- switches ---------------------------------------------------------------------------

    def remove(self, method: str, path: str) -> None:
        """Answer ``method path`` (``"GET", "/runs/{id}"``) with 410 from now on."""
        self._removed.add(self._known(method, path))

    def deprecate(
        self, method: str, path: str, *, sunset: str | None = None, link: str | None = None
    ) -> None:
        """Send ``Deprecation: true`` (and ``Sunset``, ``Link; rel="deprecation"``) on it."""
        headers = {"Deprecation": "true"}
        if sunset is not None:
            headers["Sunset"] = sunset
        if link is not None:
            headers["Link"] = f'<{link}>; rel="deprecation"'
        self._deprecated[self._known(method, path)] = headers

    def set_artifacts(self, job_id: str, artifacts: Sequence[Mapping[str, Any]]) -> None:
        """What ``GET /jobs/{id}/artifacts`` lists: ``{path, url, execution}`` each."""
        self.state.api_job_by_id(job_id)
        self._artifacts[job_id] = [dict(item) for item in artifacts]

    def set_output(
        self,
        job_id: str,
        data: bytes,
        *,
        kind: str = "stdout",
        step: int = 0,
        execution: int = 0,
        rate: float | None = None,
    ) -> None:
        """What ``/jobs/{id}/stdout`` (``kind``: or ``stderr``, ``condensed``) serves for one
        step. With ``rate`` (bytes per second of the fake's clock) the output grows from now
        and is terminal (``X-Terminal: true``) once it is all visible; without, it is complete."""
        self.state.api_job_by_id(job_id)
        self.outputs.set_output(job_id, data, kind=kind, step=step, execution=execution, rate=rate)

    def set_tests(self, job_id: str, results: Sequence[Mapping[str, Any]] | bytes) -> None:
        """What ``/jobs/{id}/tests`` serves: results as NDJSON lines, or raw bytes as they are
        (for malformed lines)."""
        self.state.api_job_by_id(job_id)
        self.outputs.set_tests(job_id, results)

    def set_resource_usage(self, job_id: str, attributes: Mapping[str, Any]) -> None:
        """The attributes ``/jobs/{id}/resource-usage`` serves (else a default for a job that
        ran an executor, and 404 for one that did not)."""
        self.state.api_job_by_id(job_id)
        self.outputs.set_resource_usage(job_id, attributes)

    def _known(self, method: str, path: str) -> tuple[str, str]:
        key = (method.upper(), path)
        if not any(t == path and key[0] in h for _, t, h in self._routes):
            raise ValueError(f"the fake serves no v3 route {method} {path}")
        return key

    # -- the request ------------------------------------------------------------------------

    def serves(self, path: str) -> bool:
        """Whether ``path`` is one of these routes (the legacy runner API shares ``/api/v3``)."""
        if not path.startswith(PREFIX + "/"):
            return False
        tail = path[len(PREFIX) :]
        return any(pattern.fullmatch(tail) for pattern, _, _ in self._routes)

    def authenticate(self, headers: CIMultiDictProxy[str], tokens: frozenset[str]) -> str | None:
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
        if token is None and self.accept_circle_token:
            token = headers.get("Circle-Token")
        return token if token and token in tokens else None

    def unauthorized(self) -> bytes:
        return self.error_body(V3Error(401, "Unauthorized", "Missing or invalid Bearer token."))

    def error_body(self, error: V3Error) -> bytes:
        body: dict[str, Any] = {
            "type": _TYPES.get(error.status, "server_error" if error.status >= 500 else "error"),
            "id": f"req_{next(self._error_ids):06d}",
            "title": error.title,
            "detail": error.detail,
        }
        if error.pointer is not None:
            body["source"] = {"pointer": error.pointer}
        return dumps({"error": body})

    def handle(
        self, request: web.Request, method: str, path: str, body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, extra headers) for a path :meth:`serves`."""
        tail = path[len(PREFIX) :]
        for pattern, template, handlers in self._routes:
            match = pattern.fullmatch(tail)
            if match is None:
                continue
            key = (method, template)
            headers = dict(self._deprecated.get(key, {}))
            if key in self._removed:
                gone = V3Error(410, "Gone", f"{method} {template} has been removed.")
                return 410, self.error_body(gone), headers
            handler = handlers.get(method)
            if handler is None:
                return 405, self.error_body(V3Error(405, "Method Not Allowed")), headers
            try:
                status, payload = handler(request, match.groupdict(), body)
            except V3Error as error:
                return error.status, self.error_body(error), headers
            except ApiError as error:  # the shared state's 4xx, in v3's shape
                title = _TITLES.get(error.status, "Error")
                return (
                    error.status,
                    self.error_body(V3Error(error.status, title, error.message)),
                    headers,
                )
            if isinstance(payload, Raw):
                headers.update(payload.headers)
                return status, payload.body, headers
            if status == 201 and isinstance(payload, dict) and "location" in payload:
                headers["Location"] = payload.pop("location")
            if isinstance(payload, bytes):  # raw text (an orb's YAML source)
                return status, payload, headers
            return status, b"" if payload is None else dumps(payload), headers
        return 404, self.error_body(V3Error(404, "Not Found")), {}

    # -- the table --------------------------------------------------------------------------

    def _table(self) -> list[tuple[re.Pattern[str], str, dict[str, V3Handler]]]:
        table: list[tuple[str, dict[str, V3Handler]]] = [
            ("/users", {"GET": self._users}),
            ("/orgs", {"GET": self._orgs}),
            ("/orgs/{id}/settings", {"GET": self._org_settings}),
            ("/projects", {"GET": self._projects}),
            ("/projects/{id}", {"GET": self._project}),
            ("/projects/{id}/settings", {"GET": self._project_settings}),
            ("/runs", {"GET": self._runs}),
            ("/runs/search", {"POST": self._search_runs}),
            ("/runs/{id}", {"GET": self._run}),
            ("/workflows", {"GET": self._workflows}),
            ("/workflows/{id}", {"GET": self._workflow}),
            ("/workflows/{id}/rerun", {"POST": self._rerun}),
            ("/workflows/{id}/cancel", {"POST": self._cancel}),
            ("/jobs", {"GET": self._jobs}),
            ("/jobs/{id}", {"GET": self._job}),
            ("/jobs/{id}/artifacts", {"GET": self._job_artifacts}),
            ("/jobs/{id}/stdout", {"GET": self._job_stdout}),
            ("/jobs/{id}/stdout/condensed", {"GET": self._job_condensed}),
            ("/jobs/{id}/stderr", {"GET": self._job_stderr}),
            ("/jobs/{id}/tests", {"GET": self._job_tests}),
            ("/jobs/{id}/resource-usage", {"GET": self._job_resource_usage}),
            *self.pipelines.routes(),
            *self.contexts.routes(),
            *self.admin.routes(),
            *self.orbs.routes(),
            *self.runner.routes(),
        ]
        return [
            (re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)), path, handlers)
            for path, handlers in table
        ]

    # -- paging -----------------------------------------------------------------------------

    def _page(
        self,
        route: str,
        items: Sequence[Any],
        cursor: Any,
        limit: Any,
        render: Callable[[Any], Any],
    ) -> tuple[int, Any]:
        """One page of ``items``: the limit checked against the route's maximum, the cursor an
        opaque token holding the offset and the limit it was made with."""
        most = LIMITS.get(route, DEFAULT_MAX)
        offset, size = 0, min(self._size(), most)
        if cursor not in (None, ""):
            offset, size = _decode_cursor(cursor)
        if limit is not None:
            try:
                size = int(limit)
            except (TypeError, ValueError):
                size = 0
            if not 1 <= size <= most:
                raise V3Error(400, "Invalid page size", f"page[limit] must be 1..{most}",
                              "page[limit]")  # fmt: skip
        chunk = items[offset : offset + size]
        after = offset + size
        nxt = _encode_cursor(after, size) if after < len(items) else None
        prev = _encode_cursor(max(0, offset - size), size) if offset > 0 else None
        return 200, {"data": [render(item) for item in chunk], "page": {"next": nxt, "prev": prev}}

    def page(
        self,
        route: str,
        items: Sequence[Any],
        cursor: Any,
        limit: Any,
        render: Callable[[Any], Any],
    ) -> tuple[int, Any]:
        """One page of ``items`` (a search's cursor and limit, read from its body)."""
        return self._page(route, items, cursor, limit, render)

    def query_page(
        self, r: web.Request, route: str, items: Sequence[Any], render: Callable[[Any], Any]
    ) -> tuple[int, Any]:
        """One page of ``items``, its cursor and limit read from the query."""
        return self._query_page(r, route, items, render)

    def _query_page(
        self, r: web.Request, route: str, items: Sequence[Any], render: Callable[[Any], Any]
    ) -> tuple[int, Any]:
        return self._page(
            route, items, r.query.get("page[cursor]"), r.query.get("page[limit]"), render
        )

    # -- handlers ---------------------------------------------------------------------------

    def _users(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        user_id = _required(r, "user_id")
        user = self.state.user if user_id == "me" else self.state.users.get(user_id)
        return 200, {"data": [] if user is None else [user_entity(user)], "page": _END}

    def _orgs(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        slug = _required(r, "slug")
        org = next((o for o in self.state.orgs.values() if o.slug == slug), None)
        data = [] if org is None else [{"id": org.id, "attributes": {"name": org.name,
                                        "slug": org.slug}, "references": {}}]  # fmt: skip
        return 200, {"data": data, "page": _END}

    def _org_settings(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self.org_settings(m["id"])

    def org_settings(self, org_id: str) -> tuple[int, Any]:
        """The answer of ``GET /orgs/{id}/settings`` (also ``update-settings``'s)."""
        org = self.state.orgs.get(org_id)
        if org is None:
            raise V3Error(404, "Not Found", "Organization not found.")
        attributes = dict.fromkeys(_ORG_SETTINGS, False)
        attributes.update(self.settings.get(org.id, {}))
        return 200, {"data": {"id": org.id, "attributes": attributes, "references": {}}}

    def _projects(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        q = r.query
        projects = sorted(self.state.projects.values(), key=lambda p: p.slug)
        if "filter[slug]" in q:
            projects = [p for p in projects if p.slug == q["filter[slug]"]]
        elif "filter[org_id]" in q:
            projects = [p for p in projects if p.organization_id == q["filter[org_id]"]]
            name = q.get("filter[name]")
            if name is not None:
                projects = [p for p in projects if name in p.name]
        elif q.get("filter[following]") == "true":
            pass  # the fake's user follows every project
        else:
            raise V3Error(400, "Missing Required Filter",
                          "one of filter[slug], filter[org_id], filter[following]=true")  # fmt: skip
        return self._query_page(
            r, "/projects", projects, lambda p: project_entity(p, org_name=True)
        )

    def _project(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        project = self.state.api_project_by_id(m["id"])
        return 200, {"data": project_entity(project, org_name=False)}

    def _project_settings(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self.project_settings(m["id"])

    def project_settings(self, project_id: str) -> tuple[int, Any]:
        """The answer of ``GET /projects/{id}/settings`` (also ``update-settings``'s)."""
        project = self.state.api_project_by_id(project_id)
        attributes: dict[str, Any] = dict.fromkeys(_PROJECT_SETTINGS, False)
        attributes["pr_only_branch_overrides"] = [project.default_branch]
        attributes.update(self.settings.get(project.id, {}))
        return 200, {"data": {"id": project.id, "attributes": attributes, "references": {}}}

    def _cached(self, key: Any, build: Callable[[], list[Any]]) -> list[Any]:
        """``build()``, remembered until the state changes (every change bumps its version)."""
        if self._listed_version != self.state.version:
            self._listed.clear()
            self._listed_version = self.state.version
        found = self._listed.get(key)
        if found is None:
            found = self._listed[key] = build()
        return found

    def _all_runs(self) -> list[Any]:
        return self._cached("all", lambda: sorted(self.state.pipelines.values(),
                            key=lambda p: (p.created_at, p.seq), reverse=True))  # fmt: skip

    def _render_run(self, pipeline: Any) -> dict[str, Any]:
        return run_entity(pipeline, self.state.workflows_of(pipeline))

    def _runs(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        """``GET /runs``: the user's runs, newest first, narrowed by phase, outcome and the
        time window ``filter[from]``/``filter[to]`` (RFC 3339, notes §2.2).

        Assumptions where the notes are silent: the window applies to ``created_at`` (the
        field runs are ordered by, and what the official CLI's comment says it bounds), both
        bounds are inclusive, compared with ``created_at`` as this server writes it
        (milliseconds), so a bound copied from a listed run keeps that run; either bound may
        come alone, and ``from`` after ``to`` is an empty window, not an error. A bound that is
        not an RFC 3339 date-time with its offset is a 400 ``validation_error`` pointing at
        the parameter. The client sends the filters again with every cursor, and each page is
        cut from the list they select."""
        user_id = _required(r, "user_id")
        user = self.state.user.id if user_id == "me" else user_id
        phase, outcome = r.query.get("filter[phase]"), r.query.get("filter[current_outcome]")
        start = _query_moment(r, "from")
        end = _query_moment(r, "to")

        def select() -> list[Any]:
            runs = [p for p in self._all_runs() if p.actor.id == user]
            if start is not None or end is not None:
                runs = [p for p in runs if _within(p.created_at, start, end)]
            if phase is not None or outcome is not None:
                runs = [p for p in runs if _matches(self._render_run(p), phase, outcome)]
            return runs

        runs = self._cached(("runs", user, phase, outcome, start, end), select)
        return self._query_page(r, "/runs", runs, self._render_run)

    def _search_runs(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        """``POST /runs/search``: these projects' runs, newest first, within ``scope.from`` /
        ``scope.to`` (RFC 3339 strings, either optional), under the filter expression. The
        window is read as :meth:`_runs` reads ``filter[from]``/``filter[to]`` (the same
        assumptions); a malformed bound is a 400 pointing at ``/scope/from`` or ``/scope/to``."""
        body = _json_object(b)
        scope = body.get("scope")
        ids = scope.get("project_ids") if isinstance(scope, dict) else None
        if not isinstance(scope, dict) or not isinstance(ids, list) or not ids:
            raise V3Error(400, "Invalid request", "scope.project_ids is required",
                          "/scope/project_ids")  # fmt: skip
        start = _scope_moment(scope, "from")
        end = _scope_moment(scope, "to")
        page = body.get("page") or {}
        if not isinstance(page, dict):
            raise V3Error(400, "Invalid request", "page must be an object", "/page")
        expression = body.get("filter")
        wanted = frozenset(str(i) for i in ids)

        def select() -> list[Any]:
            runs = [p for p in self._all_runs() if p.project.id in wanted]
            if start is not None or end is not None:
                runs = [p for p in runs if _within(p.created_at, start, end)]
            if expression:
                runs = [p for p in runs if _search_match(p, self._render_run(p), str(expression))]
            return runs

        key = ("search", wanted, str(expression or ""), start, end)
        runs = self._cached(key, select)
        return self._page("/runs/search", runs, page.get("cursor"), page.get("limit"),
                          self._render_run)  # fmt: skip

    def _run(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": self._render_run(self.state.api_pipeline(m["id"]))}

    def _workflows(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        pipeline = self.state.api_pipeline(_required(r, "run_id"))
        return self._query_page(r, "/workflows", self.state.workflows_of(pipeline),
                                workflow_entity)  # fmt: skip

    def _workflow(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": workflow_entity(self.state.api_workflow(m["id"]))}

    def _rerun(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        body = _json_object(b) if b.strip() else {}
        if not isinstance(body.get("is_from_failed", False), bool):
            raise V3Error(400, "Invalid request", "is_from_failed is a boolean", "/is_from_failed")
        new = self.sim.rerun(self.state.api_workflow(m["id"]), self.state.clock())
        return 201, {"data": {"id": new.id}, "location": f"{PREFIX}/workflows/{new.id}"}

    def _cancel(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        workflow = self.state.api_workflow(m["id"])
        self.sim.cancel_workflow(workflow, self.state.clock())
        return 202, {"data": {"id": workflow.id}}

    def _jobs(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        workflow = self.state.api_workflow(_required(r, "workflow_id"))
        return self._query_page(r, "/jobs", self.state.jobs_of(workflow),
                                lambda j: job_entity(j, details=False))  # fmt: skip

    def _job(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        job = self.state.api_job_by_id(m["id"])
        data = job_entity(job, details=True)
        executions = data["attributes"].get("parallel_executions") or []
        for number, execution in enumerate(executions):
            executions[number] = {**execution, "steps": self.outputs.steps(job.id, number)}
        return 200, {"data": data}

    def _job_output(self, r: web.Request, job_id: str, kind: str) -> tuple[int, Any]:
        job = self.state.api_job_by_id(job_id)
        return self.outputs.output(job.id, kind, r.query, r.headers.get("Range"))

    def _job_stdout(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self._job_output(r, m["id"], "stdout")

    def _job_condensed(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self._job_output(r, m["id"], "condensed")

    def _job_stderr(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self._job_output(r, m["id"], "stderr")

    def _job_tests(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self.outputs.tests(self.state.api_job_by_id(m["id"]).id)

    def _job_resource_usage(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        job = self.state.api_job_by_id(m["id"])
        ran = job.started_at is not None and job.type != "approval"
        attributes = self.outputs.resource_usage(job.id, ran)
        if attributes is None:
            raise V3Error(404, "Not Found", "This job ran no executor.")
        return 200, {"data": {"id": job.id, "attributes": attributes, "references": {}}}

    def _job_artifacts(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        job = self.state.api_job_by_id(m["id"])

        def render(item: dict[str, Any]) -> dict[str, Any]:
            return {"attributes": item, "references": {"job": {"id": job.id}}}

        return self._query_page(r, "/jobs/{id}/artifacts", self._artifacts.get(job.id, []),
                                render)  # fmt: skip


_END = {"next": None, "prev": None}
#: The ``page`` of a collection's only page.
END = _END
_TITLES = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}
_ORG_SETTINGS = (
    "is_runner_terms_of_service_accepted", "enable_ai_error_summarization", "enable_ai_agents",
    "enable_unversioned_config", "enable_certified_public_orbs", "enable_chunk_ip_ranges",
    "enable_minor_ai_features", "enable_private_orbs", "enable_uncertified_public_orbs",
    "is_bitbucket_workspace_member_org_member", "is_user_checkout_keys_disabled",
    "is_running_disabled", "enable_image_brownouts", "is_context_group_restriction_required",
    "enable_resource_class_brownouts",
)  # fmt: skip
_PROJECT_SETTINGS = (
    "enable_ai_error_summarization", "enable_auto_cancel_redundant_workflows",
    "enable_building_fork_prs", "is_build_prs_only", "can_pass_secrets_to_fork_pr_jobs",
    "can_set_github_status", "is_running_disabled", "is_ssh_disabled", "enable_dynamic_config",
    "is_admin_required_for_writing_settings", "is_oss", "enable_unversioned_config",
)  # fmt: skip


def _required(r: web.Request, name: str) -> str:
    value = r.query.get(f"filter[{name}]")
    if not value:
        raise V3Error(400, "Missing Required Filter", f"filter[{name}] is required",
                      f"filter[{name}]")  # fmt: skip
    return value


#: The settings each ``update-settings`` accepts (booleans, and one list for projects).
ORG_SETTINGS = _ORG_SETTINGS
PROJECT_SETTINGS = (*_PROJECT_SETTINGS, "pr_only_branch_overrides")


def required(r: web.Request, name: str) -> str:
    """``filter[name]`` of the query, or the 400 CircleCI answers without it."""
    return _required(r, name)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400."""
    return _json_object(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = loads(body)
    except ValueError:
        raise V3Error(400, "Invalid request", "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise V3Error(400, "Invalid request", "the body must be a JSON object")
    return value


def _encode_cursor(offset: int, size: int) -> str:
    return base64.urlsafe_b64encode(f"fake-v3:{offset}:{size}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: Any) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        tag, offset, size = text.split(":")
        if tag != "fake-v3":
            raise ValueError(tag)
        return int(offset), int(size)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise V3Error(400, "Invalid cursor", "page[cursor] is not one this server issued",
                      "page[cursor]") from None  # fmt: skip


#: An RFC 3339 ``date-time`` (section 5.6): full-date, ``T``, full-time with its offset.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_EXAMPLE = "2026-03-01T12:00:00Z"


def _rfc3339_moment(text: str) -> Fraction | None:
    """Seconds since the epoch, exact (any number of fraction digits), of an RFC 3339
    date-time, or None when ``text`` is not one: no offset, a date alone, a space for ``T``
    or an impossible field (month 13, 25 o'clock, offset +24:00) all fail. A leap second
    (``:60``) counts as the next second's start; years are 0001..9999."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, sign, off_hours, off_minutes = match.groups()[6:]
    try:
        dt.datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return None
    if second > 60:
        return None
    offset = 0
    if sign is not None:
        hours, minutes = int(off_hours), int(off_minutes)
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 3600 + minutes * 60) * (1 if sign == "+" else -1)
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset
    if fraction:
        return seconds + Fraction(int(fraction), 10 ** len(fraction))
    return Fraction(seconds)


def _within(created_at: float, start: Fraction | None, end: Fraction | None) -> bool:
    """``created_at`` (epoch seconds), as the fake writes it (milliseconds), in the inclusive
    window ``[start, end]``; a missing bound leaves that side open."""
    moment = Fraction(round(created_at * 1000), 1000)
    return (start is None or start <= moment) and (end is None or moment <= end)


def _malformed(what: str, value: object) -> str:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return f"{what} must be an RFC 3339 date-time with an offset, such as {_EXAMPLE}; got {shown}"


def _query_moment(r: web.Request, name: str) -> Fraction | None:
    """``filter[name]`` as a time bound: None when absent, a 400 when malformed."""
    key = f"filter[{name}]"
    value = r.query.get(key)
    if value is None:
        return None
    moment = _rfc3339_moment(value)
    if moment is None:
        raise V3Error(400, "Invalid filter", _malformed(key, value), key)
    return moment


def _scope_moment(scope: Mapping[str, Any], name: str) -> Fraction | None:
    """``scope.name`` of a search body as a time bound: None when absent or null."""
    value = scope.get(name)
    if value is None:
        return None
    moment = _rfc3339_moment(value) if isinstance(value, str) else None
    if moment is None:
        raise V3Error(400, "Invalid request", _malformed(f"scope.{name}", value), f"/scope/{name}")
    return moment


def _matches(run: dict[str, Any], phase: str | None, outcome: str | None) -> bool:
    attributes = run["attributes"]
    if phase is not None and attributes["phase"] != phase:
        return False
    return outcome is None or attributes["current_outcome"] == outcome


#: The search statuses (§3.4) as (phase, current_outcome).
_SEARCH_STATUS = {
    "success": ("ended", "succeeded"), "failed": ("ended", "failed"),
    "canceled": ("ended", "canceled"), "error": ("ended", "errored"),
    "not_run": ("ended", "not_run"), "unauthorized": ("ended", "unauthorized"),
    "failing": ("started", "failed"), "running": ("started", None), "queued": ("queued", None),
}  # fmt: skip
_TERM = re.compile(r'\s*([a-z_.]+)\s*==\s*"([^"]*)"\s*')


def _search_match(pipeline: Any, run: dict[str, Any], expression: str) -> bool:
    """The filter grammar clients build: ``field == "value"`` terms joined by ``and``."""
    for term in expression.split(" and "):
        match = _TERM.fullmatch(term)
        if match is None:
            raise V3Error(400, "Invalid filter", f"cannot parse {term.strip()!r}", "/filter")
        field, value = match.groups()
        if field == "pipeline.git.branch":
            ok = pipeline.branch == value
        elif field == "pipeline.id":
            ok = pipeline.id == value
        elif field == "pipeline.status":
            wanted = _SEARCH_STATUS.get(value)
            if wanted is None:
                raise V3Error(400, "Invalid filter", f"unknown status {value!r}", "/filter")
            ok = _matches(run, *wanted)
        else:
            raise V3Error(400, "Invalid filter", f"unknown field {field!r}", "/filter")
        if not ok:
            return False
    return True
