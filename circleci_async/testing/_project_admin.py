"""The fake's project-level settings: environment variables, checkout keys, schedules,
outbound webhooks, advanced settings, pipeline definitions and their triggers.

Each method takes what the route parsed (path values, query, JSON body), validates it the way
the API does (400 with a message), and returns the JSON to send.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from ._records import ApiError, iso
from ._state import check_parameters
from ._tables import Table

if TYPE_CHECKING:
    from ._state import FakeState

__all__ = ["ProjectAdmin", "body_object", "require"]

_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_ADVANCED_DEFAULTS: dict[str, Any] = {
    "autocancel_builds": False,
    "build_fork_prs": False,
    "build_prs_only": False,
    "disable_ssh": False,
    "forks_receive_secret_env_vars": False,
    "oss": False,
    "set_github_status": True,
    "setup_workflows": False,
    "write_settings_requires_admin": False,
    "pr_only_branch_overrides": ["main"],
}
_PRESETS = (
    "all-pushes",
    "only-tags",
    "default-branch-pushes",
    "only-build-prs",
    "only-open-prs",
    "only-labeled-prs",
    "only-merged-prs",
    "only-ready-for-review-prs",
    "only-branch-delete",
    "only-build-pushes-to-non-draft-prs",
    "only-merged-or-closed-prs",
)


def body_object(body: Any, key: str = "message") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.", key)
    return body


def require(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], key: str = "message"
) -> Any:
    """A required field of the right JSON type, or a 400 naming it."""
    value = body.get(name)
    if value is None or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(400, f"Field {name} is required and must be a {_kind(kind)}.", key)
    return value


def optional(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise ApiError(400, f"Field {name} must be a {_kind(kind)}.")
    return value


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {str: "string", bool: "boolean", int: "integer", list: "list", dict: "object"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def mask(value: str) -> str:
    """How CircleCI shows a stored secret: four x and the last four characters."""
    return "xxxx" + value[-4:]


class ProjectAdmin:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.env_vars = Table(state, "Environment variable")
        self.checkout_keys = Table(state, "Checkout key")
        self.schedules = Table(state, "Schedule")
        self.webhooks = Table(state, "Webhook")
        self.definitions = Table(state, "Pipeline definition")
        self.triggers = Table(state, "Trigger")
        self.settings: dict[str, dict[str, Any]] = {}

    # -- environment variables ---------------------------------------------------------------

    def create_env_var(self, slug: str, body: Any) -> dict[str, Any]:
        self.state.api_project(slug)
        body = body_object(body)
        name, value = require(body, "name", str), require(body, "value", str)
        json = {"name": name, "value": mask(value), "created-at": iso(self.state.clock())}
        self.env_vars.put(f"{slug}|{name}", json, slug=slug)
        return json

    def list_env_vars(self, slug: str, token: str | None, size: int) -> dict[str, Any]:
        self.state.api_project(slug)
        return self.env_vars.page(f"envvars|{slug}", token, size, lambda r: r.meta["slug"] == slug)

    def env_var(self, slug: str, name: str) -> dict[str, Any]:
        self.state.api_project(slug)
        return self.env_vars.get(f"{slug}|{name}")

    def delete_env_var(self, slug: str, name: str) -> dict[str, Any]:
        self.state.api_project(slug)
        self.env_vars.delete(f"{slug}|{name}")
        return {"message": "Environment variable deleted."}

    # -- checkout keys -------------------------------------------------------------------------

    def create_checkout_key(self, slug: str, body: Any) -> dict[str, Any]:
        self.state.api_project(slug)
        kind = require(body_object(body), "type", str)
        if kind not in ("user-key", "deploy-key"):
            raise ApiError(400, "Field type must be user-key or deploy-key.")
        material = self.state.random().randbytes(32)
        md5 = hashlib.md5(material, usedforsecurity=False).hexdigest()
        sha = base64.b64encode(hashlib.sha256(material).digest()).decode().rstrip("=")
        json = {
            "public-key": "ssh-ed25519 " + base64.b64encode(material).decode(),
            "type": "github-user-key" if kind == "user-key" else "deploy-key",
            "fingerprint": ":".join(md5[i : i + 2] for i in range(0, 32, 2)),
            "preferred": not any(r.meta["slug"] == slug for r in self.checkout_keys),
            "created-at": iso(self.state.clock()),
        }
        self.checkout_keys.put(
            f"{slug}|{json['fingerprint']}", json, slug=slug, sha256=f"SHA256:{sha}"
        )
        return json

    def list_checkout_keys(
        self, slug: str, digest: str | None, token: str | None, size: int
    ) -> dict[str, Any]:
        self.state.api_project(slug)
        if digest not in (None, "md5", "sha256"):
            raise ApiError(400, "digest must be md5 or sha256.")
        page = self.checkout_keys.page(
            f"keys|{slug}", token, size, lambda r: r.meta["slug"] == slug
        )
        if digest == "sha256":
            shown = {r.json["fingerprint"]: r.meta["sha256"] for r in self.checkout_keys}
            page["items"] = [{**i, "fingerprint": shown[i["fingerprint"]]} for i in page["items"]]
        return page

    def _checkout_key(self, slug: str, fingerprint: str) -> str:
        self.state.api_project(slug)
        row = self.checkout_keys.find(
            lambda r: (
                r.meta["slug"] == slug and fingerprint in (r.json["fingerprint"], r.meta["sha256"])
            )
        )
        if row is None:
            raise ApiError(404, "Checkout key not found.")
        return f"{slug}|{row.json['fingerprint']}"

    def checkout_key(self, slug: str, fingerprint: str) -> dict[str, Any]:
        return self.checkout_keys.get(self._checkout_key(slug, fingerprint))

    def delete_checkout_key(self, slug: str, fingerprint: str) -> dict[str, Any]:
        self.checkout_keys.delete(self._checkout_key(slug, fingerprint))
        return {"message": "Checkout key deleted."}

    # -- schedules ---------------------------------------------------------------------------

    def create_schedule(self, slug: str, body: Any) -> dict[str, Any]:
        self.state.api_project(slug)
        body = body_object(body)
        name = require(body, "name", str)
        timetable = _timetable(require(body, "timetable", dict))
        actor = require(body, "attribution-actor", str)
        if actor not in ("current", "system"):
            raise ApiError(400, "attribution-actor must be current or system.")
        parameters = require(body, "parameters", dict)
        check_parameters(parameters)
        now = iso(self.state.clock())
        schedule_id = self.state.new_id()
        json = {
            "id": schedule_id,
            "timetable": timetable,
            "updated-at": now,
            "name": name,
            "created-at": now,
            "project-slug": slug,
            "parameters": parameters,
            "actor": self._actor(actor),
            "description": optional(body, "description", str),
        }
        self.schedules.put(schedule_id, json, slug=slug)
        return json

    def _actor(self, attribution: str) -> dict[str, Any]:
        if attribution == "system":
            return {
                "id": "00000000-0000-4000-8000-000000000000",
                "login": "system-actor",
                "name": "Scheduled",
                "avatar_url": None,
            }
        return self.state.user.to_json()

    def list_schedules(self, slug: str, token: str | None, size: int) -> dict[str, Any]:
        self.state.api_project(slug)
        return self.schedules.page(
            f"schedules|{slug}", token, size, lambda r: r.meta["slug"] == slug
        )

    def update_schedule(self, schedule_id: str, body: Any) -> dict[str, Any]:
        row = self.schedules.row(schedule_id)
        body = body_object(body)
        json = dict(row.json)
        if "name" in body:
            json["name"] = require(body, "name", str)
        if "timetable" in body:
            json["timetable"] = _timetable(require(body, "timetable", dict))
        if "parameters" in body:
            check_parameters(require(body, "parameters", dict))
            json["parameters"] = body["parameters"]
        if "attribution-actor" in body:
            actor = require(body, "attribution-actor", str)
            if actor not in ("current", "system"):
                raise ApiError(400, "attribution-actor must be current or system.")
            json["actor"] = self._actor(actor)
        if "description" in body:
            json["description"] = optional(body, "description", str)
        json["updated-at"] = iso(self.state.clock())
        self.schedules.put(schedule_id, json, **row.meta)
        return json

    def delete_schedule(self, schedule_id: str) -> dict[str, Any]:
        self.schedules.delete(schedule_id)
        return {"message": "Schedule deleted."}

    # -- webhooks ----------------------------------------------------------------------------

    def create_webhook(self, body: Any) -> dict[str, Any]:
        body = body_object(body)
        name, url = require(body, "name", str), require(body, "url", str)
        events = _events(require(body, "events", list))
        verify_tls = require(body, "verify-tls", bool)
        secret = require(body, "signing-secret", str)
        scope = require(body, "scope", dict)
        scope_id, scope_type = require(scope, "id", str), require(scope, "type", str)
        if scope_type != "project":
            raise ApiError(400, "scope.type must be project.")
        self.state.api_project_by_id(scope_id)
        now = iso(self.state.clock())
        webhook_id = self.state.new_id()
        json = {
            "url": url,
            "verify-tls": verify_tls,
            "id": webhook_id,
            "signing-secret": mask(secret),
            "updated-at": now,
            "name": name,
            "created-at": now,
            "scope": {"id": scope_id, "type": scope_type},
            "events": events,
        }
        self.webhooks.put(webhook_id, json, scope=scope_id)
        return json

    def list_webhooks(self, query: Any, size: int) -> dict[str, Any]:
        scope_id, scope_type = query.get("scope-id"), query.get("scope-type")
        if not scope_id or scope_type != "project":
            raise ApiError(400, "scope-id and scope-type=project are required.")
        return self.webhooks.page(
            f"webhooks|{scope_id}",
            query.get("page-token"),
            size,
            lambda r: r.meta["scope"] == scope_id,
        )

    def update_webhook(self, webhook_id: str, body: Any) -> dict[str, Any]:
        row = self.webhooks.row(webhook_id)
        body = body_object(body)
        json = dict(row.json)
        for field, kind in (("name", str), ("url", str), ("verify-tls", bool)):
            if field in body:
                json[field] = require(body, field, kind)
        if "events" in body:
            json["events"] = _events(require(body, "events", list))
        if "signing-secret" in body:
            json["signing-secret"] = mask(require(body, "signing-secret", str))
        json["updated-at"] = iso(self.state.clock())
        self.webhooks.put(webhook_id, json, **row.meta)
        return json

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        self.webhooks.delete(webhook_id)
        return {"message": "Webhook deleted."}

    # -- advanced settings ---------------------------------------------------------------------

    def project_settings(self, slug: str) -> dict[str, Any]:
        self.state.api_project(slug)
        return {"advanced": dict(self.settings.setdefault(slug, dict(_ADVANCED_DEFAULTS)))}

    def patch_settings(self, slug: str, body: Any) -> dict[str, Any]:
        self.state.api_project(slug)
        advanced = body_object(body).get("advanced")
        if not isinstance(advanced, dict) or set(body) - {"advanced"}:
            raise ApiError(400, "The body is an object with an advanced object.")
        current = self.settings.setdefault(slug, dict(_ADVANCED_DEFAULTS))
        for name, value in advanced.items():
            if name not in _ADVANCED_DEFAULTS:
                raise ApiError(400, f"Unknown setting {name}.")
            expected = list if name == "pr_only_branch_overrides" else bool
            if not isinstance(value, expected):
                raise ApiError(400, f"Setting {name} must be a {_kind(expected)}.")
            current[name] = value
        self.state.touch()
        return {"advanced": dict(current)}

    def create_project_by_slug(self, slug: str) -> dict[str, Any]:
        """The deprecated ``POST /project/{provider}/{org}/{project}``: set the project up
        (standalone organizations cannot use it) and answer its settings."""
        if slug.startswith("circleci/"):
            raise ApiError(405, "Cannot create a standalone project through this endpoint.")
        if slug not in self.state.projects:
            try:
                self.state.add_project(slug)
            except ValueError as exc:
                raise ApiError(404, str(exc)) from None
        return self.project_settings(slug)

    # -- pipeline definitions and triggers ---------------------------------------------------

    def create_definition(self, project_id: str, body: Any) -> dict[str, Any]:
        project = self.state.api_project_by_id(project_id)
        body = body_object(body)
        name = require(body, "name", str)
        config = _config_source(require(body, "config_source", dict), project.slug)
        checkout = _checkout_source(require(body, "checkout_source", dict), project.slug)
        definition_id = self.state.new_id()
        json = {
            "id": definition_id,
            "name": name,
            "description": optional(body, "description", str) or "",
            "created_at": iso(self.state.clock()),
            "config_source": config,
            "checkout_source": checkout,
        }
        self.definitions.put(definition_id, json, project=project_id)
        return json

    def _definition(self, project_id: str, definition_id: str) -> Any:
        self.state.api_project_by_id(project_id)
        row = self.definitions.row(definition_id)
        if row.meta["project"] != project_id:
            raise ApiError(404, "Pipeline definition not found.")
        return row

    def list_definitions(self, project_id: str) -> dict[str, Any]:
        self.state.api_project_by_id(project_id)
        rows = [r.json for r in self.definitions if r.meta["project"] == project_id]
        return {"items": rows}

    def definition(self, project_id: str, definition_id: str) -> dict[str, Any]:
        return dict(self._definition(project_id, definition_id).json)

    def update_definition(self, project_id: str, definition_id: str, body: Any) -> dict[str, Any]:
        row = self._definition(project_id, definition_id)
        body = body_object(body)
        json = dict(row.json)
        for field in ("name", "description"):
            if field in body:
                json[field] = require(body, field, str)
        if "config_source" in body:
            path = require(require(body, "config_source", dict), "file_path", str)
            json["config_source"] = {**json["config_source"], "file_path": path}
        if "checkout_source" in body:
            slug = self.state.api_project_by_id(project_id).slug
            json["checkout_source"] = _checkout_source(require(body, "checkout_source", dict), slug)
        self.definitions.put(definition_id, json, **row.meta)
        return json

    def delete_definition(self, project_id: str, definition_id: str) -> dict[str, Any]:
        self._definition(project_id, definition_id)
        self.definitions.delete(definition_id)
        return {"message": "Pipeline definition deleted."}

    def create_trigger(self, project_id: str, definition_id: str, body: Any) -> dict[str, Any]:
        self._definition(project_id, definition_id)
        slug = self.state.api_project_by_id(project_id).slug
        body = body_object(body)
        source = require(body, "event_source", dict)
        provider = require(source, "provider", str)
        event_source: dict[str, Any] = {"provider": provider}
        trigger_id = self.state.new_id()
        if provider == "webhook":
            sender = (source.get("webhook") or {}).get("sender", "")
            event_source["webhook"] = {
                "url": f"https://internal.circleci.com/private/soc/e/{trigger_id}?secret=xxxx",
                "sender": sender,
            }
        else:
            repo = require(source, "repo", dict)
            event_source["repo"] = {
                "full_name": slug.split("/", 1)[1],
                "external_id": require(repo, "external_id", str),
            }
        preset = optional(body, "event_preset", str)
        if preset is not None and preset not in _PRESETS:
            raise ApiError(400, f"Unknown event_preset {preset}.")
        json = {
            "id": trigger_id,
            "event_name": optional(body, "event_name", str) or "",
            "created_at": iso(self.state.clock()),
            "event_source": event_source,
            "event_preset": preset or "all-pushes",
            "checkout_ref": optional(body, "checkout_ref", str) or "",
            "config_ref": optional(body, "config_ref", str) or "",
            "disabled": bool(optional(body, "disabled", bool)),
        }
        self.triggers.put(trigger_id, json, project=project_id, definition=definition_id)
        return json

    def list_triggers(self, project_id: str, definition_id: str) -> dict[str, Any]:
        self._definition(project_id, definition_id)
        return {"items": [r.json for r in self.triggers if r.meta["definition"] == definition_id]}

    def _trigger(self, project_id: str, trigger_id: str) -> Any:
        self.state.api_project_by_id(project_id)
        row = self.triggers.row(trigger_id)
        if row.meta["project"] != project_id:
            raise ApiError(404, "Trigger not found.")
        return row

    def trigger(self, project_id: str, trigger_id: str) -> dict[str, Any]:
        return dict(self._trigger(project_id, trigger_id).json)

    def update_trigger(self, project_id: str, trigger_id: str, body: Any) -> dict[str, Any]:
        row = self._trigger(project_id, trigger_id)
        body = body_object(body)
        json = dict(row.json)
        for field in ("event_name", "checkout_ref", "config_ref"):
            if field in body:
                json[field] = require(body, field, str)
        if "disabled" in body:
            json["disabled"] = require(body, "disabled", bool)
        if "event_preset" in body:
            preset = require(body, "event_preset", str)
            if preset not in _PRESETS:
                raise ApiError(400, f"Unknown event_preset {preset}.")
            json["event_preset"] = preset
        sender = ((body.get("event_source") or {}).get("webhook") or {}).get("sender")
        if sender is not None and "webhook" in json["event_source"]:
            json["event_source"] = {
                **json["event_source"],
                "webhook": {**json["event_source"]["webhook"], "sender": sender},
            }
        self.triggers.put(trigger_id, json, **row.meta)
        return json

    def delete_trigger(self, project_id: str, trigger_id: str) -> dict[str, Any]:
        self._trigger(project_id, trigger_id)
        self.triggers.delete(trigger_id)
        return {"message": "Trigger deleted."}


def _timetable(timetable: dict[str, Any]) -> dict[str, Any]:
    per_hour = require(timetable, "per-hour", int)
    hours = require(timetable, "hours-of-day", list)
    if (
        not 1 <= per_hour <= 60
        or not hours
        or not all(isinstance(h, int) and 0 <= h <= 23 for h in hours)
    ):
        raise ApiError(400, "per-hour is 1-60 and hours-of-day hours 0-23.")
    out: dict[str, Any] = {"per-hour": per_hour, "hours-of-day": hours}
    days, dates = timetable.get("days-of-week"), timetable.get("days-of-month")
    if not days and not dates:
        raise ApiError(400, "A timetable needs days-of-week or days-of-month.")
    if days:
        if not all(d in _DAYS for d in days):
            raise ApiError(400, "days-of-week are MON..SUN.")
        out["days-of-week"] = days
    if dates:
        if not all(isinstance(d, int) and 1 <= d <= 31 for d in dates):
            raise ApiError(400, "days-of-month are 1-31.")
        out["days-of-month"] = dates
    months = timetable.get("months")
    if months:
        if not all(m in _MONTHS for m in months):
            raise ApiError(400, "months are JAN..DEC.")
        out["months"] = months
    return out


def _events(events: list[Any]) -> list[str]:
    if not events or not all(e in ("workflow-completed", "job-completed") for e in events):
        raise ApiError(400, "events are workflow-completed and/or job-completed.")
    return list(dict.fromkeys(events))


def _config_source(source: dict[str, Any], slug: str) -> dict[str, Any]:
    provider = require(source, "provider", str)
    path = require(source, "file_path", str)
    if provider == "github_app":
        repo = require(source, "repo", dict)
        return {
            "provider": provider,
            "repo": {
                "full_name": slug.split("/", 1)[1],
                "external_id": require(repo, "external_id", str),
            },
            "file_path": path,
        }
    if provider == "circleci":
        return {"provider": provider, "file_path": path}
    raise ApiError(400, "config_source.provider must be github_app or circleci.")


def _checkout_source(source: dict[str, Any], slug: str) -> dict[str, Any]:
    provider = require(source, "provider", str)
    repo = require(source, "repo", dict)
    return {
        "provider": provider,
        "repo": {
            "full_name": slug.split("/", 1)[1],
            "external_id": require(repo, "external_id", str),
        },
    }
