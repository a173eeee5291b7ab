"""The fake's v3 orbs (``shared/notes/api-v3.md`` §2.8): namespaces, orb packages and versions
are kept (deleting a namespace deletes its orbs); categories, function packages and tool
releases are canned. ``GET /namespaces?filter[name]`` is one entity or a 404, and a version's
``/source`` is raw YAML, as CircleCI serves them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._records import iso
from ._v3 import END, V3Error, json_object, required
from ._v3_pipelines import create_attributes, stable_id

if TYPE_CHECKING:
    from aiohttp import web

    from ._v3 import V3Api, V3Handler

__all__ = ["CATEGORIES", "OrbsV3"]

CATEGORIES = ("Deployment", "Testing", "Security")
_SEGMENTS = ("major", "minor", "patch")


class OrbsV3:
    def __init__(self, api: V3Api) -> None:
        self.api = api
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.packages: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[tuple[str, dict[str, V3Handler]]]:
        return [
            ("/namespaces", {"GET": self._lookup, "POST": self._create_namespace}),
            ("/namespaces/{id}/rename", {"POST": self._rename}),
            ("/namespaces/{id}", {"DELETE": self._delete_namespace}),
            ("/orb/packages", {"GET": self._packages, "POST": self._create_package}),
            ("/orb/packages/validate", {"POST": self._validate}),
            ("/orb/packages/{id}", {"GET": self._package}),
            ("/orb/packages/{id}/set-listed", {"POST": self._set_listed}),
            ("/orb/packages/{id}/add-category", {"POST": self._add_category}),
            ("/orb/packages/{id}/remove-category", {"POST": self._remove_category}),
            ("/orb/versions", {"GET": self._versions, "POST": self._publish}),
            ("/orb/versions/{id}", {"GET": self._version}),
            ("/orb/versions/{id}/source", {"GET": self._source}),
            ("/orb/versions/{id}/promote", {"POST": self._promote}),
            ("/orb/categories", {"GET": self._categories}),
            ("/function/packages", {"GET": self._functions}),
            ("/tool/releases", {"GET": self._releases}),
        ]

    # -- namespaces ------------------------------------------------------------------------

    def _namespace(self, namespace_id: str) -> dict[str, Any]:
        found = self.namespaces.get(namespace_id)
        if found is None:
            raise V3Error(404, "Not Found", "Namespace not found.")
        return found

    @staticmethod
    def _render_namespace(ns: dict[str, Any]) -> dict[str, Any]:
        return {"id": ns["id"], "attributes": {"name": ns["name"]}, "references": {}}

    def _lookup(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        name = required(r, "name")
        for ns in self.namespaces.values():
            if ns["name"] == name:
                return 200, {"data": self._render_namespace(ns)}
        raise V3Error(404, "Not Found", "Namespace not found.")

    def _create_namespace(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        body = json_object(b)
        name, org_id = body.get("name"), body.get("org_id")
        if not isinstance(name, str) or not name or not isinstance(org_id, str):
            raise V3Error(400, "Invalid request", "name and org_id are required", "/name")
        self.api.state.api_org(org_id)
        if any(ns["name"] == name for ns in self.namespaces.values()):
            raise V3Error(409, "Conflict", "The namespace exists.")
        ns = {"id": self.api.state.new_id(), "name": name, "org": org_id}
        self.namespaces[ns["id"]] = ns
        return 201, {"data": self._render_namespace(ns)}

    def _rename(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        ns = self._namespace(m["id"])
        name = json_object(b).get("name")
        if not isinstance(name, str) or not name:
            raise V3Error(400, "Invalid request", "name is required", "/name")
        ns["name"] = name
        return 200, {"data": self._render_namespace(ns)}

    def _delete_namespace(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        self._namespace(m["id"])
        del self.namespaces[m["id"]]
        for package_id in [k for k, p in self.packages.items() if p["namespace"] == m["id"]]:
            del self.packages[package_id]
        return 204, None

    # -- packages --------------------------------------------------------------------------

    def _render_package(self, package: dict[str, Any]) -> dict[str, Any]:
        ns = self.namespaces[package["namespace"]]
        versions = sorted(
            (v for v in self.versions.values() if v["package"] == package["id"]),
            key=lambda v: v["seq"],
            reverse=True,
        )
        return {
            "id": package["id"],
            "attributes": {
                "name": f"{ns['name']}/{package['name']}",
                "is_private": package["is_private"],
                "is_listed": package["is_listed"],
                "created_at": package["created_at"],
                "last_30_days_build_count": 0,
                "last_30_days_project_count": 0,
                "last_30_days_org_count": 0,
            },
            "references": {
                "namespace": {"id": ns["id"], "attributes": {"name": ns["name"]}},
                "orb_versions": [
                    {
                        "id": v["id"],
                        "attributes": {"version": v["version"], "created_at": v["created_at"]},
                    }
                    for v in versions
                ],
                "orb_categories": [
                    {"id": stable_id("category", c), "attributes": {"name": c}}
                    for c in CATEGORIES
                    if stable_id("category", c) in package["categories"]
                ],
            },
        }

    def _pkg(self, package_id: str) -> dict[str, Any]:
        found = self.packages.get(package_id)
        if found is None:
            raise V3Error(404, "Not Found", "Orb not found.")
        return found

    def _packages(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        q = r.query
        items = sorted(self.packages.values(), key=lambda p: p["created_at"] + p["id"])
        if "filter[namespace_id]" in q:
            items = [p for p in items if p["namespace"] == q["filter[namespace_id]"]]
        if "filter[name]" in q:
            items = [
                p
                for p in items
                if self._render_package(p)["attributes"]["name"] == q["filter[name]"]
            ]
        if q.get("filter[visibility]") == "private":
            items = [p for p in items if p["is_private"]]
        if q.get("filter[certified]") == "true":
            items = []  # nothing the fake holds is certified
        return self.api.query_page(r, "/orb/packages", items, self._render_package)

    def _package(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": self._render_package(self._pkg(m["id"]))}

    def _create_package(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b, frozenset(["name", "is_private"]), frozenset(["namespace"])
        )
        self._namespace(refs.get("namespace", ""))
        name = attributes.get("name")
        if not isinstance(name, str) or not name:
            raise V3Error(400, "Invalid request", "name is required", "/data/attributes/name")
        package: dict[str, Any] = {
            "id": self.api.state.new_id(),
            "name": name,
            "namespace": refs["namespace"],
            "is_private": bool(attributes.get("is_private", False)),
            "is_listed": True,
            "created_at": iso(self.api.state.clock()),
            "categories": set(),
        }
        self.packages[package["id"]] = package
        return 201, {"data": self._render_package(package)}

    def _validate(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        yaml = json_object(b).get("yaml")
        if not isinstance(yaml, str):
            raise V3Error(400, "Invalid request", "yaml is required", "/yaml")
        valid = "version:" in yaml
        errors = [] if valid else [{"message": "a version is required"}]
        return 200, {
            "data": {
                "attributes": {
                    "is_valid": valid,
                    "output_yaml": yaml if valid else "",
                    "errors": errors,
                },
                "references": {},
            }
        }

    def _set_listed(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        package = self._pkg(m["id"])
        listed = json_object(b).get("is_listed")
        if not isinstance(listed, bool):
            raise V3Error(400, "Invalid request", "is_listed is a boolean", "/is_listed")
        package["is_listed"] = listed
        return 200, {"data": self._render_package(package)}

    def _category_change(self, m: dict[str, str], b: bytes, add: bool) -> tuple[int, Any]:
        package = self._pkg(m["id"])
        category = json_object(b).get("category_id")
        if category not in {stable_id("category", c) for c in CATEGORIES}:
            raise V3Error(404, "Not Found", "Category not found.")
        (package["categories"].add if add else package["categories"].discard)(category)
        return 200, {"data": self._render_package(package)}

    def _add_category(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        return self._category_change(m, b, True)

    def _remove_category(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        return self._category_change(m, b, False)

    # -- versions --------------------------------------------------------------------------

    def _render_version(self, version: dict[str, Any]) -> dict[str, Any]:
        package = self.packages.get(version["package"])
        name = self._render_package(package)["attributes"]["name"] if package else None
        return {
            "id": version["id"],
            "attributes": {"version": version["version"], "created_at": version["created_at"]},
            "references": {"orb_package": {"id": version["package"], "attributes": {"name": name}}},
        }

    def _ver(self, version_id: str) -> dict[str, Any]:
        found = self.versions.get(version_id)
        if found is None or found["package"] not in self.packages:
            raise V3Error(404, "Not Found", "Orb version not found.")
        return found

    def _versions(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        q = r.query
        items = sorted(
            (v for v in self.versions.values() if v["package"] in self.packages),
            key=lambda v: v["seq"],
            reverse=True,
        )
        if "filter[ref]" in q:
            items = [
                v
                for v in items
                if f"{self._render_version(v)['references']['orb_package']['attributes']['name']}@{v['version']}"
                == q["filter[ref]"]
            ]
        elif "filter[orb_id]" in q:
            items = [v for v in items if v["package"] == q["filter[orb_id]"]]
            channel = q.get("filter[channel]")
            if channel == "dev":
                items = [v for v in items if v["version"].startswith("dev:")]
            elif channel is not None:
                items = [v for v in items if not v["version"].startswith("dev:")]
        else:
            raise V3Error(
                400, "Missing Required Filter", "filter[orb_id] or filter[ref]", "filter[orb_id]"
            )
        return self.api.query_page(r, "/orb/versions", items, self._render_version)

    def _version(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, {"data": self._render_version(self._ver(m["id"]))}

    def _source(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return 200, self._ver(m["id"])["yaml"].encode()

    def _publish(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, _refs = create_attributes(
            b, frozenset(["orb_id", "yaml", "version"]), frozenset()
        )
        package = self._pkg(str(attributes.get("orb_id")))
        yaml, version = attributes.get("yaml"), attributes.get("version")
        if not isinstance(yaml, str) or not isinstance(version, str) or not version:
            raise V3Error(
                400, "Invalid request", "yaml and version are required", "/data/attributes/version"
            )
        return 201, {"data": self._render_version(self._add_version(package["id"], version, yaml))}

    def _add_version(self, package_id: str, version: str, yaml: str) -> dict[str, Any]:
        if any(
            v["package"] == package_id and v["version"] == version for v in self.versions.values()
        ):
            raise V3Error(409, "Conflict", "That version exists.")
        entry: dict[str, Any] = {
            "id": self.api.state.new_id(),
            "package": package_id,
            "version": version,
            "yaml": yaml,
            "created_at": iso(self.api.state.clock()),
            "seq": len(self.versions),
        }
        self.versions[entry["id"]] = entry
        return entry

    def _promote(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        dev = self._ver(m["id"])
        segment = json_object(b).get("segment")
        if segment not in _SEGMENTS:
            raise V3Error(400, "Invalid request", "segment is major, minor or patch", "/segment")
        if not dev["version"].startswith("dev:"):
            raise V3Error(400, "Invalid request", "only a dev version is promoted", "/segment")
        released = [
            tuple(int(x) for x in v["version"].split("."))
            for v in self.versions.values()
            if v["package"] == dev["package"] and not v["version"].startswith("dev:")
        ]
        major, minor, patch = max(released, default=(0, 0, 0))
        bumped = {
            "major": (major + 1, 0, 0),
            "minor": (major, minor + 1, 0),
            "patch": (major, minor, patch + 1),
        }[segment]
        entry = self._add_version(dev["package"], ".".join(map(str, bumped)), dev["yaml"])
        return 200, {"data": self._render_version(entry)}

    # -- canned ----------------------------------------------------------------------------

    def _categories(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        name = r.query.get("filter[name]")
        names = [c for c in CATEGORIES if name in (None, c)]
        return self.api.query_page(
            r,
            "/orb/categories",
            names,
            lambda c: {"id": stable_id("category", c), "attributes": {"name": c}, "references": {}},
        )

    def _functions(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        name = r.query.get("filter[name]")
        items = [n for n in ("gh/acme/notify",) if name in (None, n)]
        return self.api.query_page(
            r,
            "/function/packages",
            items,
            lambda n: {
                "id": stable_id("function", n),
                "attributes": {"name": n, "description": "Notify.", "latest_version": "1.2.0"},
                "references": {
                    "versions": [
                        {"id": stable_id(n, v), "attributes": {"version": v}}
                        for v in ("1.2.0", "1.1.0")
                    ]
                },
            },
        )

    def _releases(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        tool = required(r, "tool")
        release = {
            "id": stable_id("release", tool),
            "attributes": {
                "tool": tool,
                "version": "0.1.33000",
                "published_at": "2026-08-20T00:00:00Z",
            },
            "references": {},
        }
        return 200, {"data": [release], "page": END}
