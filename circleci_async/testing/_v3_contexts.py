"""The fake's v3 contexts (``shared/notes/api-v3.md`` §2.4): every organization starts with one
context, ``org-global``; variables set through ``env-vars/set`` are listed afterwards (their
values truncated, never read back), deleted by ``filter[name]``; restrictions are kept per
context, a restriction id unique only within its context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._records import iso
from ._v3 import END, V3Error, json_object, required
from ._v3_pipelines import create_attributes, stable_id

if TYPE_CHECKING:
    from aiohttp import web

    from ._v3 import V3Api, V3Handler

__all__ = ["ContextsV3"]

_RESTRICTION_TYPES = frozenset(["project", "group", "expression"])


class ContextsV3:
    def __init__(self, api: V3Api) -> None:
        self.api = api
        #: id -> {"id", "name", "org", "created_at"}
        self.contexts: dict[str, dict[str, Any]] = {}
        self.env_vars: dict[str, dict[str, dict[str, Any]]] = {}
        self.restrictions: dict[str, list[dict[str, Any]]] = {}
        self._seeded: set[str] = set()

    def routes(self) -> list[tuple[str, dict[str, V3Handler]]]:
        return [
            ("/contexts", {"GET": self._list}),
            ("/contexts/{id}", {"GET": self._get}),
            ("/contexts/{id}/env-vars", {"GET": self._list_vars, "DELETE": self._delete_var}),
            ("/contexts/{id}/env-vars/set", {"POST": self._set_var}),
            (
                "/context-restrictions",
                {"GET": self._list_restrictions, "POST": self._create_restriction},
            ),
            ("/context-restrictions/{id}", {"DELETE": self._delete_restriction}),
        ]

    def add(self, org_id: str, name: str) -> str:
        """A new context of an organization; its id."""
        self.api.state.api_org(org_id)
        context_id = self.api.state.new_id()
        self.contexts[context_id] = {
            "id": context_id,
            "name": name,
            "org": org_id,
            "created_at": iso(self.api.state.clock()),
        }
        return context_id

    def _of_org(self, org_id: str) -> list[dict[str, Any]]:
        org = self.api.state.api_org(org_id)
        if org.id not in self._seeded:
            self._seeded.add(org.id)
            context_id = stable_id(org.id, "context")
            self.contexts[context_id] = {
                "id": context_id,
                "name": "org-global",
                "org": org.id,
                "created_at": iso(self.api.state.clock()),
            }
        return [c for c in self.contexts.values() if c["org"] == org.id]

    def _context(self, context_id: str) -> dict[str, Any]:
        for org in list(self.api.state.orgs):
            self._of_org(org)
        context = self.contexts.get(context_id)
        if context is None:
            raise V3Error(404, "Not Found", "Context not found.")
        return context

    @staticmethod
    def _render(context: dict[str, Any], *, org: bool) -> dict[str, Any]:
        refs = {"org": {"id": context["org"]}} if org else {}
        return {
            "id": context["id"],
            "attributes": {"name": context["name"], "created_at": context["created_at"]},
            "references": refs,
        }

    def _list(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        items = self._of_org(required(r, "org_id"))
        name = r.query.get("filter[name]")
        if name is not None:
            items = [c for c in items if c["name"] == name]
        return self.api.query_page(r, "/contexts", items, lambda c: self._render(c, org=False))

    def _get(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": self._render(self._context(m["id"]), org=True)}

    def _list_vars(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        context_id = self._context(m["id"])["id"]
        items = sorted(self.env_vars.get(context_id, {}).values(), key=lambda v: v["name"])

        def render(var: dict[str, Any]) -> dict[str, Any]:
            attributes = {k: var[k] for k in ("name", "created_at", "updated_at")}
            attributes["truncated_value"] = "xxxx" + var["value"][-4:]
            return {"attributes": attributes, "references": {"context": {"id": context_id}}}

        return self.api.query_page(r, "/contexts/{id}/env-vars", items, render)

    def _set_var(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        context_id = self._context(m["id"])["id"]
        body = json_object(b)
        name, value = body.get("name"), body.get("value")
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise V3Error(400, "Invalid request", "name and value are required strings", "/name")
        now = iso(self.api.state.clock())
        known = self.env_vars.setdefault(context_id, {})
        created = known[name]["created_at"] if name in known else now
        known[name] = {"name": name, "value": value, "created_at": created, "updated_at": now}
        return 200, {"data": {}}

    def _delete_var(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        context_id = self._context(m["id"])["id"]
        name = required(r, "name")
        if self.env_vars.get(context_id, {}).pop(name, None) is None:
            raise V3Error(404, "Not Found", "Environment variable not found.")
        return 204, None

    def _list_restrictions(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        context_id = self._context(required(r, "context_id"))["id"]
        return 200, {"data": self.restrictions.get(context_id, []), "page": END}

    def _create_restriction(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b, frozenset(["restriction_type", "match_pattern"]), frozenset(["context"])
        )
        if "context" not in refs:
            raise V3Error(
                400, "Invalid request", "references.context is required", "/data/references/context"
            )
        context_id = self._context(refs["context"])["id"]
        kind, pattern = attributes.get("restriction_type"), attributes.get("match_pattern")
        if kind not in _RESTRICTION_TYPES or not isinstance(pattern, str):
            raise V3Error(
                400,
                "Invalid request",
                "restriction_type and match_pattern",
                "/data/attributes/restriction_type",
            )
        name = pattern
        if kind == "project":
            name = self.api.state.api_project_by_id(pattern).name
        kept = self.restrictions.setdefault(context_id, [])
        item = {
            "id": str(len(kept) + 1),
            "attributes": {"restriction_type": kind, "match_pattern": pattern, "name": name},
            "references": {"context": {"id": context_id}},
        }
        kept.append(item)
        return 201, {"data": item}

    def _delete_restriction(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        context_id = self._context(required(r, "context_id"))["id"]
        kept = self.restrictions.get(context_id, [])
        for item in kept:
            if item["id"] == m["id"]:
                kept.remove(item)
                return 204, None
        raise V3Error(404, "Not Found", "Restriction not found in this context.")
