"""The fake's v3 admin routes (``shared/notes/api-v3.md`` §2.1, §2.5-§2.7): settings updates
(kept, and read back by the settings GETs), the DLC purge, rollbacks, groups, provider
connections and repositories (an org's projects), deploy entities derived from the seeded orgs
and projects, and iOS signing certificates and configs (kept; a certificate in use is a 409)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._records import iso
from ._v3 import END, ORG_SETTINGS, PROJECT_SETTINGS, V3Error, json_object, required
from ._v3_pipelines import create_attributes, stable_id

if TYPE_CHECKING:
    from aiohttp import web

    from ._records import ProjectRec
    from ._v3 import V3Api, V3Handler

__all__ = ["AdminV3"]

_ROLLBACK_REQUIRED = ("component_id", "environment_id", "current_version", "target_version")


class AdminV3:
    def __init__(self, api: V3Api) -> None:
        self.api = api
        self.certificates: dict[str, dict[str, Any]] = {}
        self.signing_configs: dict[str, dict[str, Any]] = {}

    def routes(self) -> list[tuple[str, dict[str, V3Handler]]]:
        return [
            ("/orgs/{id}/update-settings", {"POST": self._org_settings}),
            ("/projects/{id}/update-settings", {"POST": self._project_settings}),
            ("/projects/{id}/dlc", {"DELETE": self._dlc}),
            ("/projects/{id}/rollback", {"POST": self._rollback}),
            ("/groups", {"GET": self._groups}),
            ("/provider/connections", {"GET": self._connections}),
            ("/provider/connections/setup", {"POST": self._setup}),
            ("/provider/repositories", {"GET": self._repositories}),
            ("/deploy/deployments", {"GET": self._deployments}),
            ("/deploy/components", {"GET": self._components}),
            ("/deploy/components/{id}", {"GET": self._component}),
            ("/deploy/components/{id}/versions", {"GET": self._versions}),
            ("/deploy/environments", {"GET": self._environments}),
            ("/deploy/environments/{id}", {"GET": self._environment}),
            ("/deploy/settings", {"GET": self._deploy_settings}),
            ("/signing/certificates", {"GET": self._certs, "POST": self._add_cert}),
            ("/signing/certificates/{id}", {"DELETE": self._delete_cert}),
            ("/signing/configs", {"GET": self._configs, "POST": self._add_config}),
            ("/signing/configs/{id}", {"DELETE": self._delete_config}),
            ("/signing/configs/{id}/update-profile", {"POST": self._update_profile}),
            ("/signing/configs/{id}/remove-profile", {"POST": self._remove_profile}),
        ]

    # -- settings, dlc, rollback, groups ------------------------------------------------------

    def _update(self, owner: str, body: bytes, known: tuple[str, ...]) -> None:
        changes = json_object(body)
        for name, value in changes.items():
            ok = (
                isinstance(value, list)
                if name == "pr_only_branch_overrides"
                else (isinstance(value, bool))
            )
            if name not in known or not ok:
                raise V3Error(400, "Invalid request", f"cannot set {name!r}", f"/{name}")
        self.api.settings.setdefault(owner, {}).update(changes)

    def _org_settings(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        self._update(self.api.state.api_org(m["id"]).id, b, ORG_SETTINGS)
        return self.api.org_settings(m["id"])

    def _project_settings(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        self._update(self.api.state.api_project_by_id(m["id"]).id, b, PROJECT_SETTINGS)
        return self.api.project_settings(m["id"])

    def _dlc(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        self.api.state.api_project_by_id(m["id"])
        return 204, None

    def _rollback(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        project = self.api.state.api_project_by_id(m["id"])
        body = json_object(b)
        for name in _ROLLBACK_REQUIRED:
            if not isinstance(body.get(name), str):
                raise V3Error(400, "Invalid request", f"{name} is required", f"/{name}")
        component = self._component_of(project)
        if body["component_id"] != component["id"]:
            raise V3Error(404, "Not Found", "Component not found.")
        if body["current_version"] != "1.0.0":
            raise V3Error(
                400,
                "Invalid request",
                "the component does not run current_version",
                "/current_version",
            )
        return 200, {
            "data": {
                "id": self.api.state.new_id(),
                "attributes": {"rollback_type": "pipeline"},
                "references": {
                    "project": {"id": project.id},
                    "deploy_component": {"id": component["id"]},
                    "deploy_environment": {"id": body["environment_id"]},
                },
            }
        }

    def _groups(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id"))
        group = {
            "id": stable_id(org.id, "group"),
            "attributes": {"name": "admins"},
            "references": {},
        }
        return 200, {"data": [group]}

    # -- providers -----------------------------------------------------------------------------

    def _projects_of(self, org_id: str) -> list[ProjectRec]:
        org = self.api.state.api_org(org_id)
        return sorted(
            (p for p in self.api.state.projects.values() if p.organization_id == org.id),
            key=lambda p: p.slug,
        )

    def _connections(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id"))
        item = {
            "id": stable_id(org.id, "connection"),
            "attributes": {
                "provider": "github_app",
                "external_id": str(int(stable_id(org.id)[:6], 16)),
                "login": org.name,
                "repository_selection": "all",
            },
            "references": {},
        }
        return 200, {"data": [item], "page": END}

    def _setup(self, r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        self.api.state.api_org(required(r, "org_id"))
        body = json_object(b)
        vcs = body.get("vcs")
        if body.get("type") != "vcs" or not isinstance(vcs, dict) or not vcs.get("provider"):
            raise V3Error(400, "Invalid request", "type vcs and vcs.provider", "/vcs/provider")
        if not isinstance(body.get("return_url"), str):
            raise V3Error(400, "Invalid request", "return_url is required", "/return_url")
        token = self.api.state.new_id()
        return 200, {
            "data": {
                "attributes": {
                    "next_step": "redirect",
                    "state_token": token,
                    "url": f"https://github.example/apps/circleci/installations/new?state={token}",
                },
                "references": {},
            }
        }

    def _repositories(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        projects = self._projects_of(required(r, "org_id"))
        required(r, "provider")
        if "page[cursor]" in r.query and "page[limit]" in r.query:
            raise V3Error(
                400, "Invalid request", "page[limit] cannot go with page[cursor]", "page[limit]"
            )

        def render(p: ProjectRec) -> dict[str, Any]:
            owner, name = p.slug.split("/")[1:]
            return {
                "attributes": {
                    "repo_id": str(int(p.id[:6], 16)),
                    "owner": owner,
                    "repo_name": name,
                    "repo_full_name": f"{owner}/{name}",
                    "default_branch": p.default_branch,
                    "is_private": False,
                    "provider": r.query["filter[provider]"],
                },
                "references": {},
            }

        return self.api.query_page(r, "/provider/repositories", projects, render)

    # -- deploy --------------------------------------------------------------------------------

    def _component_of(self, project: ProjectRec) -> dict[str, Any]:
        return {
            "id": stable_id(project.id, "component"),
            "attributes": {"name": project.name},
            "references": {"project": {"id": project.id}},
        }

    def _environment_of(self, org_id: str) -> dict[str, Any]:
        return {
            "id": stable_id(org_id, "environment"),
            "attributes": {"name": "production"},
            "references": {"org": {"id": org_id}},
        }

    def _scoped(self, r: web.Request) -> list[ProjectRec]:
        projects = self._projects_of(required(r, "org_id"))
        project_id = r.query.get("filter[project_id]")
        return [p for p in projects if project_id in (None, p.id)]

    def _all_components(self) -> dict[str, tuple[ProjectRec, dict[str, Any]]]:
        return {
            c["id"]: (p, c)
            for p in self.api.state.projects.values()
            for c in [self._component_of(p)]
        }

    def _deployments(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        def render(p: ProjectRec) -> dict[str, Any]:
            component = self._component_of(p)
            return {
                "id": stable_id(p.id, "deployment"),
                "attributes": {
                    "type": "deploy",
                    "status": "SUCCESS",
                    "target_version": {"name": "1.0.0"},
                    "is_rollback": False,
                    "created_at": iso(self.api.state.clock()),
                    "ended_at": None,
                },
                "references": {
                    "deploy_component": {"id": component["id"], "attributes": {"name": p.name}}
                },
            }

        return self.api.query_page(r, "/deploy/deployments", self._scoped(r), render)

    def _components(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        return self.api.query_page(r, "/deploy/components", self._scoped(r), self._component_of)

    def _component(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        found = self._all_components().get(m["id"])
        if found is None:
            raise V3Error(404, "Not Found", "Component not found.")
        return 200, {"data": found[1]}

    def _versions(self, r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        found = self._all_components().get(m["id"])
        if found is None:
            raise V3Error(404, "Not Found", "Component not found.")
        names = ["1.0.0", "0.9.0"]
        return self.api.query_page(
            r,
            "/deploy/components/{id}/versions",
            names,
            lambda n: {
                "id": stable_id(m["id"], n),
                "attributes": {"name": n, "created_at": iso(self.api.state.clock())},
                "references": {"component": {"id": m["id"]}},
            },
        )

    def _environments(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id"))
        return self.api.query_page(r, "/deploy/environments", [org.id], self._environment_of)

    def _environment(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        for org_id in self.api.state.orgs:
            if stable_id(org_id, "environment") == m["id"]:
                return 200, {"data": self._environment_of(org_id)}
        raise V3Error(404, "Not Found", "Environment not found.")

    def _deploy_settings(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        project = self.api.state.api_project_by_id(required(r, "project_id"))
        return 200, {
            "data": {
                "id": stable_id(project.id, "deploy-settings"),
                "attributes": {},
                "references": {"project": {"id": project.id}},
            }
        }

    # -- signing -------------------------------------------------------------------------------

    def _certs(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id")).id
        items = [c["entity"] for c in self.certificates.values() if c["org"] == org]
        return 200, {"data": items, "page": END}

    def _add_cert(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b, frozenset(["file_name", "cert_blob", "cert_password"]), frozenset(["org"])
        )
        org = self.api.state.api_org(refs.get("org", "")).id
        for name in ("file_name", "cert_blob", "cert_password"):
            if not isinstance(attributes.get(name), str):
                raise V3Error(
                    400, "Invalid request", f"{name} is required", f"/data/attributes/{name}"
                )
        cert_id = self.api.state.new_id()
        entity = {
            "id": cert_id,
            "attributes": {"file_name": attributes["file_name"], "cert_type": "distribution"},
            "references": {},
        }
        self.certificates[cert_id] = {"org": org, "entity": entity}
        return 201, {"data": {"id": cert_id}}

    def _delete_cert(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        if m["id"] not in self.certificates:
            raise V3Error(404, "Not Found", "Certificate not found.")
        if any(c["cert"] == m["id"] for c in self.signing_configs.values()):
            raise V3Error(409, "Conflict", "A signing config uses this certificate.")
        del self.certificates[m["id"]]
        return 204, None

    def _configs(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        org = self.api.state.api_org(required(r, "org_id")).id
        items = [self._render_config(k) for k, c in self.signing_configs.items() if c["org"] == org]
        return 200, {"data": items, "page": END}

    def _render_config(self, config_id: str) -> dict[str, Any]:
        config = self.signing_configs[config_id]
        cert = self.certificates[config["cert"]]["entity"]
        return {
            "id": config_id,
            "attributes": {
                "name": config["name"],
                "provisioning_profiles": list(config["profiles"].values()),
            },
            "references": {
                "signing_certificate": {"id": cert["id"], "attributes": cert["attributes"]}
            },
        }

    def _add_config(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(
            b,
            frozenset(["name", "provisioning_profiles"]),
            frozenset(["org", "signing_certificate"]),
        )
        org = self.api.state.api_org(refs.get("org", "")).id
        cert = refs.get("signing_certificate")
        if cert not in self.certificates:
            raise V3Error(404, "Not Found", "Certificate not found.")
        config_id = self.api.state.new_id()
        self.signing_configs[config_id] = {
            "org": org,
            "cert": cert,
            "name": attributes.get("name"),
            "profiles": {},
        }
        for profile in attributes.get("provisioning_profiles") or []:
            self._put_profile(config_id, profile)
        return 201, {"data": {"id": config_id}}

    def _put_profile(self, config_id: str, profile: Any) -> None:
        if (
            not isinstance(profile, dict)
            or not isinstance(profile.get("file_name"), str)
            or (not isinstance(profile.get("blob"), str))
        ):
            raise V3Error(400, "Invalid request", "a profile is {file_name, blob}", "/file_name")
        profiles = self.signing_configs[config_id]["profiles"]
        profile_id = stable_id(config_id, profile["file_name"])
        profiles[profile_id] = {"id": profile_id, "file_name": profile["file_name"]}

    def _signing_config(self, config_id: str) -> str:
        if config_id not in self.signing_configs:
            raise V3Error(404, "Not Found", "Signing config not found.")
        return config_id

    def _delete_config(self, _r: web.Request, m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        del self.signing_configs[self._signing_config(m["id"])]
        return 204, None

    def _update_profile(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        self._put_profile(self._signing_config(m["id"]), json_object(b))
        return 204, None

    def _remove_profile(self, _r: web.Request, m: dict[str, str], b: bytes) -> tuple[int, Any]:
        profiles = self.signing_configs[self._signing_config(m["id"])]["profiles"]
        profiles.pop(str(json_object(b).get("profile_id")), None)
        return 204, None
