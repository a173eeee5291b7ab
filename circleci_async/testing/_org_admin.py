"""The fake's organization-level resources: contexts (with variables and restrictions),
organizations, their URL-orb allow-list and groups, usage exports, OIDC custom claims, config
policies with their decisions, and deploy environments and components.

Policy and OIDC errors use ``{"error": ...}`` bodies, as those CircleCI services do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import TYPE_CHECKING, Any

from ._project_admin import body_object, optional, require
from ._records import ApiError, iso
from ._tables import Table

if TYPE_CHECKING:
    from multidict import MultiMapping

    from ._state import FakeState

__all__ = ["OrgAdmin"]

_ERROR = "error"  # the error body key of the Policy and OIDC services
_TTL = re.compile(r"([0-9]+(ms|s|m|h|d|w)){1,7}")
_USAGE_EXPORT_SECONDS = 2.0
_DECISION_LOG_PAGE = 20


def _parse_time(text: Any, name: str, key: str = "message") -> float:
    if not isinstance(text, str):
        raise ApiError(400, f"Field {name} must be an RFC 3339 date-time.", key)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Field {name} must be an RFC 3339 date-time.", key) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


class OrgAdmin:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.contexts = Table(state, "Context")
        self.context_vars = Table(state, "Environment variable")
        self.restrictions = Table(state, "Context restriction")
        self.allow_list = Table(state, "Allow-list entry")
        self.groups = Table(state, "Group")
        self.exports = Table(state, "Usage export job")
        self.environments = Table(state, "Environment")
        self.components = Table(state, "Component")
        self.versions = Table(state, "Version")
        self.claims: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.bundles: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.decision_settings: dict[tuple[str, str], bool] = {}
        self.decisions = Table(state, "Decision log", _ERROR)

    # -- contexts ----------------------------------------------------------------------------

    def create_context(self, body: Any) -> dict[str, Any]:
        body = body_object(body)
        name = require(body, "name", str)
        owner = require(body, "owner", dict)
        if "slug" in owner:
            owner_id = self.state.api_org(require(owner, "slug", str)).id
        else:
            owner_id = require(owner, "id", str)
        context_id = self.state.new_id()
        json = {"id": context_id, "name": name, "created_at": iso(self.state.clock())}
        self.contexts.put(context_id, json, owner=owner_id)
        return json

    def list_contexts(self, query: MultiMapping[str], size: int) -> dict[str, Any]:
        owner_id, owner_slug = query.get("owner-id"), query.get("owner-slug")
        if owner_slug is not None:
            owner_id = self.state.api_org(owner_slug).id
        if owner_id is None:
            raise ApiError(400, "owner-id or owner-slug is required.")
        return self.contexts.page(
            f"contexts|{owner_id}",
            query.get("page-token"),
            size,
            lambda r: r.meta["owner"] == owner_id,
        )

    def delete_context(self, context_id: str) -> dict[str, Any]:
        self.contexts.delete(context_id)
        for table in (self.context_vars, self.restrictions):
            for row in table:
                if row.meta["context"] == context_id:
                    table.delete(row.meta["key"])
        return {"message": "Context deleted."}

    def put_context_var(self, context_id: str, name: str, body: Any) -> dict[str, Any]:
        self.contexts.row(context_id)
        value = require(body_object(body), "value", str)
        key = f"{context_id}|{name}"
        now = iso(self.state.clock())
        created = self.context_vars.row(key).json["created_at"] if key in self.context_vars else now
        json = {
            "variable": name,
            "created_at": created,
            "updated_at": now,
            "context_id": context_id,
        }
        self.context_vars.put(key, json, context=context_id, key=key, value=value)
        return json

    def list_context_vars(self, context_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.contexts.row(context_id)
        return self.context_vars.page(
            f"context-vars|{context_id}", token, size, lambda r: r.meta["context"] == context_id
        )

    def delete_context_var(self, context_id: str, name: str) -> dict[str, Any]:
        self.contexts.row(context_id)
        self.context_vars.delete(f"{context_id}|{name}")
        return {"message": "Environment variable deleted."}

    def create_restriction(self, context_id: str, body: Any) -> dict[str, Any]:
        self.contexts.row(context_id)
        body = body_object(body)
        kind = require(body, "restriction_type", str)
        value = require(body, "restriction_value", str)
        json: dict[str, Any] = {"id": self.state.new_id()}
        if kind == "project":
            project = self.state.api_project_by_id(value)
            json.update(project_id=project.id, name=project.name)
        elif kind == "group":
            json["name"] = self.groups.get(value).get("name", value)
        elif kind == "expression":
            json["name"] = value
        else:
            raise ApiError(400, "restriction_type must be project, expression or group.")
        json.update(restriction_type=kind, restriction_value=value)
        duplicate = self.restrictions.find(
            lambda r: (
                r.meta["context"] == context_id
                and (r.json["restriction_type"], r.json["restriction_value"]) == (kind, value)
            )
        )
        if duplicate is not None:
            raise ApiError(409, "The restriction already exists.")
        self.restrictions.put(json["id"], json, context=context_id, key=json["id"])
        return json

    def list_restrictions(self, context_id: str, token: str | None, size: int) -> dict[str, Any]:
        self.contexts.row(context_id)
        page = self.restrictions.page(
            f"restrictions|{context_id}", token, size, lambda r: r.meta["context"] == context_id
        )
        page["items"] = [{"context_id": context_id, **item} for item in page["items"]]
        return page

    def delete_restriction(self, context_id: str, restriction_id: str) -> dict[str, Any]:
        self.contexts.row(context_id)
        if self.restrictions.row(restriction_id).meta["context"] != context_id:
            raise ApiError(404, "Context restriction not found.")
        self.restrictions.delete(restriction_id)
        return {"message": "Context restriction deleted."}

    # -- organizations -----------------------------------------------------------------------

    def create_org(self, body: Any) -> dict[str, Any]:
        body = body_object(body)
        name, vcs_type = require(body, "name", str), require(body, "vcs_type", str)
        prefixes = {"github": "gh", "bitbucket": "bb", "circleci": "circleci"}
        if vcs_type not in prefixes:
            raise ApiError(400, "vcs_type must be github, bitbucket or circleci.")
        org_id = self.state.new_id()
        slug = f"circleci/{org_id}" if vcs_type == "circleci" else f"{prefixes[vcs_type]}/{name}"
        if slug in {org.slug for org in self.state.orgs.values()}:
            raise ApiError(400, "An organization with this name already exists.")
        org = self.state.add_org(slug, name, vcs_type, org_id)
        return {"id": org.id, "name": org.name, "slug": org.slug, "vcs_type": org.vcs_type}

    def delete_org(self, slug_or_id: str) -> dict[str, Any]:
        org = self.state.api_org(slug_or_id)
        for slug in [s for s, p in self.state.projects.items() if p.organization_id == org.id]:
            self.state.delete_project(slug)
        self.state.remove_org(org)
        return {"message": "Organization deleted."}

    def list_allow_list(self, org: str) -> dict[str, Any]:
        org_id = self.state.api_org(org).id
        return {"items": [r.json for r in self.allow_list if r.meta["org"] == org_id]}

    def create_allow_list_entry(self, org: str, body: Any) -> dict[str, Any]:
        org_id = self.state.api_org(org).id
        body = body_object(body)
        name, prefix, auth = (require(body, f, str) for f in ("name", "prefix", "auth"))
        if auth not in ("github-oauth", "none", "bitbucket-oauth", "github-app"):
            raise ApiError(400, "Unknown auth.")
        if not prefix.startswith("https://"):
            raise ApiError(400, "prefix must be an https URL.")
        entry_id = self.state.new_id()
        json = {"id": entry_id, "name": name, "prefix": prefix, "auth": auth}
        self.allow_list.put(entry_id, json, org=org_id)
        return {"id": entry_id, "message": "URL orb allow-list entry created."}

    def remove_allow_list_entry(self, org: str, entry_id: str) -> dict[str, Any]:
        org_id = self.state.api_org(org).id
        if self.allow_list.row(entry_id).meta["org"] != org_id:
            raise ApiError(404, "Allow-list entry not found.")
        self.allow_list.delete(entry_id)
        return {"id": entry_id, "message": "URL orb allow-list entry removed."}

    def list_groups(self, org_id: str, query: MultiMapping[str], size: int) -> dict[str, Any]:
        self.state.api_org(org_id)
        limit = query.get("limit")
        if limit is not None:
            if not limit.isdigit() or int(limit) < 1:
                raise ApiError(400, "limit must be a positive integer.")
            size = int(limit)
        page = self.groups.page(
            f"groups|{org_id}", query.get("page-token"), size, lambda r: r.meta["org"] == org_id
        )
        page["total_count"] = sum(1 for r in self.groups if r.meta["org"] == org_id)
        return page

    def create_group(self, org_id: str, body: Any) -> dict[str, Any]:
        self.state.api_org(org_id)
        body = body_object(body)
        name = require(body, "name", str)
        if self.groups.find(lambda r: r.meta["org"] == org_id and r.json["name"] == name):
            raise ApiError(409, "A group with this name already exists.")
        group_id = self.state.new_id()
        json = {
            "id": group_id,
            "name": name,
            "description": optional(body, "description", str) or "",
        }
        self.groups.put(group_id, json, org=org_id)
        return json

    def _group(self, org_id: str, group_id: str) -> Any:
        self.state.api_org(org_id)
        row = self.groups.row(group_id)
        if row.meta["org"] != org_id:
            raise ApiError(404, "Group not found.")
        return row

    def group(self, org_id: str, group_id: str) -> dict[str, Any]:
        return dict(self._group(org_id, group_id).json)

    def delete_group(self, org_id: str, group_id: str) -> dict[str, Any]:
        self._group(org_id, group_id)
        self.groups.delete(group_id)
        return {"message": "Group deleted."}

    # -- usage exports -----------------------------------------------------------------------

    def create_export(self, org_id: str, body: Any) -> dict[str, Any]:
        self.state.api_org(org_id)
        body = body_object(body)
        start = _parse_time(body.get("start"), "start")
        end = _parse_time(body.get("end"), "end")
        if not 0 < end - start <= 32 * 86400:
            raise ApiError(400, "end must be after start, and at most 32 days later.")
        export_id = self.state.new_id()
        json = {
            "usage_export_job_id": export_id,
            "state": "created",
            "start": iso(start),
            "end": iso(end),
            "download_urls": [],
        }
        self.exports.put(export_id, json, org=org_id, created=self.state.clock())
        return json

    def export(self, org_id: str, export_id: str) -> dict[str, Any]:
        """Processing for two seconds of fake time, then completed with download URLs."""
        self.state.api_org(org_id)
        row = self.exports.row(export_id)
        if row.meta["org"] != org_id:
            raise ApiError(404, "Usage export job not found.")
        done = self.state.clock() - row.meta["created"] >= _USAGE_EXPORT_SECONDS
        return {
            "usage_export_job_id": export_id,
            "state": "completed" if done else "processing",
            "download_urls": (
                [f"https://usage-exports.example/{export_id}/usage-1.csv.gz"] if done else []
            ),
        }

    # -- OIDC custom claims ------------------------------------------------------------------

    def claims_of(self, org_id: str, project_id: str | None) -> dict[str, Any]:
        key = (org_id, project_id)
        out = {"org_id": org_id, **self.claims.get(key, {})}
        if project_id is not None:
            out["project_id"] = project_id
        return out

    def patch_claims(self, org_id: str, project_id: str | None, body: Any) -> dict[str, Any]:
        body = body_object(body, _ERROR)
        stored = self.claims.setdefault((org_id, project_id), {})
        now = iso(self.state.clock())
        if "audience" in body:
            audience = body["audience"]
            if not isinstance(audience, list) or not all(isinstance(a, str) for a in audience):
                raise ApiError(400, "audience must be a list of strings", _ERROR)
            stored.update(audience=audience, audience_updated_at=now)
        if "ttl" in body:
            ttl = body["ttl"]
            if not isinstance(ttl, str) or not _TTL.fullmatch(ttl):
                raise ApiError(400, "ttl must be a duration such as 1h or 30m", _ERROR)
            stored.update(ttl=ttl, ttl_updated_at=now)
        self.state.touch()
        return self.claims_of(org_id, project_id)

    def delete_claims(
        self, org_id: str, project_id: str | None, claims: str | None
    ) -> dict[str, Any]:
        names = [c.strip() for c in (claims or "").split(",") if c.strip()]
        if not names or any(n not in ("audience", "ttl") for n in names):
            raise ApiError(400, "claims must list audience and/or ttl", _ERROR)
        stored = self.claims.setdefault((org_id, project_id), {})
        for name in names:
            stored.pop(name, None)
            stored.pop(f"{name}_updated_at", None)
        self.state.touch()
        return self.claims_of(org_id, project_id)

    # -- config policies -----------------------------------------------------------------------

    def bundle(self, owner: str, context: str) -> dict[str, Any]:
        policies = self.bundles.get((owner, context), {})
        return {name: [policy] for name, policy in policies.items()}

    def policy(self, owner: str, context: str, name: str) -> dict[str, Any]:
        policy = self.bundles.get((owner, context), {}).get(name)
        if policy is None:
            raise ApiError(404, "policy not found", _ERROR)
        return policy

    def replace_bundle(self, owner: str, context: str, body: Any, dry: bool) -> dict[str, Any]:
        policies = body_object(body, _ERROR).get("policies")
        if not isinstance(policies, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in policies.items()
        ):
            raise ApiError(400, "policies must map names to policy source", _ERROR)
        current = self.bundles.get((owner, context), {})
        diff = {
            "created": sorted(set(policies) - set(current)),
            "deleted": sorted(set(current) - set(policies)),
            "modified": sorted(
                n for n in policies if n in current and current[n]["content"] != policies[n]
            ),
        }
        if not dry:
            now = iso(self.state.clock())
            self.bundles[(owner, context)] = {
                name: {
                    "name": name,
                    "content": content,
                    "created_at": now,
                    "created_by": self.state.user.id,
                }
                for name, content in policies.items()
            }
            self.state.touch()
        return diff

    def settings(self, owner: str, context: str) -> dict[str, Any]:
        return {"enabled": self.decision_settings.get((owner, context), False)}

    def set_settings(self, owner: str, context: str, body: Any) -> dict[str, Any]:
        enabled = body_object(body, _ERROR).get("enabled")
        if not isinstance(enabled, bool):
            raise ApiError(400, "enabled must be a boolean", _ERROR)
        self.decision_settings[(owner, context)] = enabled
        self.state.touch()
        return {"enabled": enabled}

    def decide(self, owner: str, context: str, body: Any) -> dict[str, Any]:
        """PASS, unless the config mentions ``forbidden``: then HARD_FAIL naming every policy
        of the bundle (a rule simple enough for tests to steer)."""
        body = body_object(body, _ERROR)
        source = body.get("input")
        if not isinstance(source, str):
            raise ApiError(400, "input is required", _ERROR)
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ApiError(400, "metadata must be an object", _ERROR)
        policies = self.bundles.get((owner, context), {})
        names = sorted(policies)
        decision: dict[str, Any] = {"status": "PASS", "enabled_rules": names}
        if "forbidden" in source:
            decision = {
                "status": "HARD_FAIL",
                "enabled_rules": names,
                "hard_failures": [
                    {"rule": name, "reason": "the config uses something forbidden"}
                    for name in (names or ["forbidden"])
                ],
            }
        log_id = self.state.new_id()
        log: dict[str, Any] = {
            "id": log_id,
            "created_at": iso(self.state.clock()),
            "decision": decision,
            "metadata": _decision_metadata(metadata),
            "policies": {
                name: hashlib.sha512(p["content"].encode()).hexdigest()
                for name, p in policies.items()
            },
            "time_taken_ms": 3,
        }
        self.decisions.put(
            log_id, log, owner=owner, context=context, bundle=self.bundle(owner, context)
        )
        return decision

    def decision_logs(
        self, owner: str, context: str, query: MultiMapping[str]
    ) -> list[dict[str, Any]]:
        rows = [
            r for r in self.decisions if (r.meta["owner"], r.meta["context"]) == (owner, context)
        ]
        rows.reverse()  # newest first
        status, branch = query.get("status"), query.get("branch")
        project_id, build_number = query.get("project_id"), query.get("build_number")
        after = _parse_time(query["after"], "after", _ERROR) if "after" in query else None
        before = _parse_time(query["before"], "before", _ERROR) if "before" in query else None
        offset_text = query.get("offset", "0")
        if not offset_text.isdigit():
            raise ApiError(400, "offset must be a non-negative integer", _ERROR)
        selected = []
        for row in rows:
            log = row.json
            meta = log["metadata"]
            created = _parse_time(log["created_at"], "created_at")
            if status is not None and log["decision"]["status"].lower() != status.lower():
                continue
            if branch is not None and meta.get("vcs", {}).get("branch") != branch:
                continue
            if project_id is not None and meta.get("project_id") != project_id:
                continue
            if build_number is not None and str(meta.get("build_number")) != build_number:
                continue
            if (after is not None and created <= after) or (
                before is not None and created >= before
            ):
                continue
            selected.append(log)
        offset = int(offset_text)
        return selected[offset : offset + _DECISION_LOG_PAGE]

    def decision_log(self, owner: str, context: str, decision_id: str) -> dict[str, Any]:
        row = self.decisions.row(decision_id)
        if (row.meta["owner"], row.meta["context"]) != (owner, context):
            raise ApiError(404, "decision log not found", _ERROR)
        return row.json

    def decision_bundle(self, owner: str, context: str, decision_id: str) -> dict[str, Any]:
        self.decision_log(owner, context, decision_id)
        bundle: dict[str, Any] = self.decisions.row(decision_id).meta["bundle"]
        return bundle

    # -- deploys -----------------------------------------------------------------------------

    def add_environment(
        self, org_id: str, name: str, description: str = "", labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        now = iso(self.state.clock())
        env_id = self.state.new_id()
        json = {
            "created_at": now,
            "description": description,
            "id": env_id,
            "labels": [{"key": k, "value": v} for k, v in (labels or {}).items()],
            "name": name,
            "updated_at": now,
        }
        self.environments.put(env_id, json, org=org_id)
        return json

    def add_component(
        self, org_id: str, project_id: str, name: str, labels: dict[str, str] | None = None
    ) -> dict[str, Any]:
        now = iso(self.state.clock())
        component_id = self.state.new_id()
        json = {
            "id": component_id,
            "name": name,
            "project_id": project_id,
            "labels": [{"key": k, "value": v} for k, v in (labels or {}).items()],
            "release_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        self.components.put(component_id, json, org=org_id)
        return json

    def add_version(
        self,
        component_id: str,
        environment_id: str,
        name: str,
        *,
        live: bool = True,
        namespace: str = "default",
    ) -> dict[str, Any]:
        component = self.components.row(component_id)
        self.environments.row(environment_id)
        if live:
            for row in self.versions:
                if (
                    row.meta["component"] == component_id
                    and row.json["environment_id"] == environment_id
                ):
                    row.json["is_live"] = False
        json = {
            "name": name,
            "environment_id": environment_id,
            "namespace": namespace,
            "is_live": live,
            "pipeline_id": self.state.new_id(),
            "workflow_id": self.state.new_id(),
            "job_id": self.state.new_id(),
            "job_number": len(self.versions) + 1,
            "last_deployed_at": iso(self.state.clock()),
        }
        self.versions.put(self.state.new_id(), json, component=component_id)
        component.json["release_count"] += 1
        self.state.touch()
        return json

    def list_environments(self, query: MultiMapping[str]) -> dict[str, Any]:
        org_id, size = _org_and_size(query)
        return self.environments.page(
            f"environments|{org_id}",
            query.get("page-token"),
            size,
            lambda r: r.meta["org"] == org_id,
        )

    def list_components(self, query: MultiMapping[str]) -> dict[str, Any]:
        org_id, size = _org_and_size(query)
        project_id = query.get("project-id")
        return self.components.page(
            f"components|{org_id}|{project_id}",
            query.get("page-token"),
            size,
            lambda r: (
                r.meta["org"] == org_id
                and (project_id is None or r.json["project_id"] == project_id)
            ),
        )

    def list_versions(
        self, component_id: str, query: MultiMapping[str], size: int
    ) -> dict[str, Any]:
        self.components.row(component_id)
        environment_id = query.get("environment-id")
        return self.versions.page(
            f"versions|{component_id}|{environment_id}",
            query.get("page-token"),
            size,
            lambda r: (
                r.meta["component"] == component_id
                and (environment_id is None or r.json["environment_id"] == environment_id)
            ),
        )

    def rollback(self, project_id: str, body: Any) -> dict[str, Any]:
        self.state.api_project_by_id(project_id)
        body = body_object(body)
        fields = ("component_name", "current_version", "environment_name", "target_version")
        component, current, environment, target = (require(body, f, str) for f in fields)
        if (
            self.components.find(
                lambda r: r.json["name"] == component and r.json["project_id"] == project_id
            )
            is None
            or self.environments.find(lambda r: r.json["name"] == environment) is None
        ):
            raise ApiError(404, "Component or environment not found.")
        if current == target:
            raise ApiError(409, "The target version is the current version.")
        return {"id": self.state.new_id(), "rollback_type": "PIPELINE"}


def _org_and_size(query: MultiMapping[str]) -> tuple[str, int]:
    org_id, size = query.get("org-id"), query.get("page-size")
    if not org_id or size is None or not size.isdigit() or int(size) < 1:
        raise ApiError(400, "org-id and a positive page-size are required.")
    return org_id, int(size)


def _decision_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The subset of the caller's metadata the decision log schema declares."""
    out: dict[str, Any] = {}
    if isinstance(metadata.get("build_number"), int):
        out["build_number"] = metadata["build_number"]
    for name in ("project_id",):
        if isinstance(metadata.get(name), str):
            out[name] = metadata[name]
    if isinstance(metadata.get("ssh_rerun"), bool):
        out["ssh_rerun"] = metadata["ssh_rerun"]
    vcs = metadata.get("vcs")
    if isinstance(vcs, dict):
        keys = ("branch", "origin_repository_url", "release_tag", "target_repository_url")
        out["vcs"] = {k: vcs[k] for k in keys if isinstance(vcs.get(k), str)}
    return out
