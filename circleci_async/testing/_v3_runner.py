"""The fake's v3-style runner surface and credit charges (``shared/notes/api-v3.md`` §2.9,
§2.10). Resource classes are kept per organization (a delete with tokens needs ``force``);
agents are none until a test adds some; charges are derived from the seeded runs, one row per
project with a stable credit count, paged by a cursor in the body."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._v3 import END, V3Error, json_object, required
from ._v3_pipelines import create_attributes

if TYPE_CHECKING:
    from aiohttp import web

    from ._v3 import V3Api, V3Handler

__all__ = ["RunnerV3"]

_ANALYSES = frozenset(["charge.job", "charge.workflow", "charge.pipeline"])


class RunnerV3:
    def __init__(self, api: V3Api) -> None:
        self.api = api
        self.resource_classes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        #: Agents: ``{"id", "name", "resource_class": id, "org": id}`` each.
        self.agents: list[dict[str, Any]] = []

    def routes(self) -> list[tuple[str, dict[str, V3Handler]]]:
        return [
            ("/runner/resource-classes", {"GET": self._list, "POST": self._create}),
            ("/runner/resource-classes/{id}", {"GET": self._get, "DELETE": self._delete}),
            ("/runner/resource-classes/{id}/update", {"POST": self._update}),
            ("/runner/agents", {"GET": self._agents}),
            ("/runner/tokens", {"POST": self._token}),
            ("/analysis/charges", {"POST": self._charges}),
        ]

    @staticmethod
    def _render(rc: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": rc["id"],
            "attributes": {"resource_class": rc["name"], "description": rc["description"]},
            "references": {"org": {"id": rc["org"]}},
        }

    def _rc(self, rc_id: str) -> dict[str, Any]:
        found = self.resource_classes.get(rc_id)
        if found is None:
            raise V3Error(404, "Not Found", "Resource class not found.")
        return found

    def _list(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id")).id
        items = [self._render(rc) for rc in self.resource_classes.values() if rc["org"] == org]
        return 200, {"data": items, "page": END}

    def _create(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b, frozenset(["resource_class", "description"]), frozenset(["org"])
        )
        org = self.api.state.api_org(refs.get("org", "")).id
        name = attributes.get("resource_class")
        if not isinstance(name, str) or name.count("/") != 1:
            raise V3Error(
                400,
                "Invalid request",
                "resource_class is namespace/name",
                "/data/attributes/resource_class",
            )
        rc = {
            "id": self.api.state.new_id(),
            "name": name,
            "org": org,
            "description": str(attributes.get("description") or ""),
        }
        self.resource_classes[rc["id"]] = rc
        return 201, {"data": self._render(rc)}

    def _get(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": self._render(self._rc(m["id"]))}

    def _update(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        rc = self._rc(m["id"])
        description = json_object(b).get("description")
        if not isinstance(description, str):
            raise V3Error(400, "Invalid request", "description is a string", "/description")
        rc["description"] = description
        return 200, {"data": self._render(rc)}

    def _delete(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        self._rc(m["id"])
        tokens = [k for k, t in self.tokens.items() if t["resource_class"] == m["id"]]
        if tokens and r.query.get("force") != "true":
            raise V3Error(
                400, "Invalid request", "the resource class has tokens: force=true", "force"
            )
        for key in tokens:
            del self.tokens[key]
        del self.resource_classes[m["id"]]
        return 204, None

    def _agents(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        q = r.query
        if "filter[resource_class]" in q:
            items = [a for a in self.agents if a["resource_class"] == q["filter[resource_class]"]]
        elif "filter[org_id]" in q:
            items = [a for a in self.agents if a["org"] == q["filter[org_id]"]]
        else:
            raise V3Error(
                400,
                "Missing Required Filter",
                "filter[org_id] or filter[resource_class]",
                "filter[org_id]",
            )
        return self.api.query_page(
            r,
            "/runner/agents",
            items,
            lambda a: {
                "id": a["id"],
                "attributes": {"name": a["name"]},
                "references": {"resource_class": {"id": a["resource_class"]}},
            },
        )

    def _token(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b, frozenset(["nickname"]), frozenset(["resource_class"])
        )
        rc = self._rc(refs.get("resource_class", ""))
        token_id = self.api.state.new_id()
        self.tokens[token_id] = {"resource_class": rc["id"]}
        return 201, {
            "data": {
                "id": token_id,
                "attributes": {
                    "nickname": attributes.get("nickname"),
                    "token": f"rt_{token_id.replace('-', '')}",
                },
                "references": {"resource_class": {"id": rc["id"]}},
            }
        }

    def _charges(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        body = json_object(b)
        if body.get("analysis") not in _ANALYSES:
            raise V3Error(
                400,
                "Invalid request",
                "analysis is charge.job, charge.workflow or charge.pipeline",
                "/analysis",
            )
        scope = body.get("scope")
        ids = scope.get("project_ids") if isinstance(scope, dict) else None
        if not isinstance(ids, list) or not ids:
            raise V3Error(
                400, "Invalid request", "scope.project_ids is required", "/scope/project_ids"
            )
        page = body.get("page") or {}
        if not isinstance(page, dict):
            raise V3Error(400, "Invalid request", "page must be an object", "/page")
        rows: list[dict[str, Any]] = []
        for project_id in ids:
            project = self.api.state.api_project_by_id(str(project_id))
            for pipeline in self.api.state.pipelines.values():
                if pipeline.project.id == project.id:
                    credits = 10 * (pipeline.number or 1)
                    rows.append(
                        {
                            "id": pipeline.id,
                            "attributes": {
                                "name": f"{project.name} #{pipeline.number}",
                                "credits": credits,
                                "runs": 1,
                                "credits_per_run": float(credits),
                            },
                            "references": {"project": {"id": project.id}},
                        }
                    )
        rows.sort(key=lambda row: (-row["attributes"]["credits"], row["id"]))
        return self.api.page("/analysis/charges", rows, page.get("cursor"), page.get("limit"), dict)
