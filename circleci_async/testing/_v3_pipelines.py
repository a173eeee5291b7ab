"""The fake's v3 pipelines (v2's pipeline definitions), triggers and config compilation
(``shared/notes/api-v3.md`` §2.3). Every project starts with one pipeline (``build``, its config
in the project's repository) and one VCS trigger, with ids derived from the project's; created
ones are kept and listed afterwards. Creates reject unknown members, as CircleCI does."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ._records import iso
from ._v3 import V3Error, json_object, required

if TYPE_CHECKING:
    from aiohttp import web

    from ._records import ProjectRec
    from ._v3 import V3Api, V3Handler

__all__ = ["PipelinesV3", "create_attributes"]

_PIPELINE_ATTRIBUTES = frozenset(["name", "description", "config", "checkout"])
_TRIGGER_ATTRIBUTES = frozenset(["is_disabled", "event", "config", "checkout"])
_COMPILE_ATTRIBUTES = frozenset(
    ["config", "enable_next_preview", "pipeline_parameters", "pipeline_values"]
)
_EVENT_TYPES = frozenset(["vcs", "webhook", "schedule"])


def stable_id(*parts: str) -> str:
    """An id derived from others, so seeded entities keep theirs across runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-v3:" + ":".join(parts)))


def create_attributes(
    body: bytes, allowed: frozenset[str], references: frozenset[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A create envelope's attributes and reference ids; a 400 for an unknown member."""
    data = json_object(body).get("data")
    if not isinstance(data, dict):
        raise V3Error(400, "Invalid request", "the body needs a data object", "/data")
    for name in data:
        if name not in ("attributes", "references"):
            raise V3Error(400, "Invalid request", f"unknown member {name!r}", f"/data/{name}")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise V3Error(400, "Invalid request", "attributes must be an object", "/data/attributes")
    for name in attributes:
        if name not in allowed:
            raise V3Error(
                400, "Invalid request", f"unknown attribute {name!r}", f"/data/attributes/{name}"
            )
    refs: dict[str, str] = {}
    given = data.get("references") or {}
    if not isinstance(given, dict):
        raise V3Error(400, "Invalid request", "references must be an object", "/data/references")
    for name, value in given.items():
        if name not in references:
            raise V3Error(
                400, "Invalid request", f"unknown reference {name!r}", f"/data/references/{name}"
            )
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise V3Error(
                400, "Invalid request", f"{name} needs an id", f"/data/references/{name}/id"
            )
        refs[name] = value["id"]
    return attributes, refs


def _needs(attributes: dict[str, Any], name: str, kind: type) -> Any:
    value = attributes.get(name)
    if not isinstance(value, kind):
        raise V3Error(
            400,
            "Invalid request",
            f"{name} is required ({kind.__name__})",
            f"/data/attributes/{name}",
        )
    return value


class PipelinesV3:
    """Pipelines and triggers by project id (seeded on first look), and the compiler."""

    def __init__(self, api: V3Api) -> None:
        self.api = api
        self._pipelines: dict[str, list[dict[str, Any]]] = {}
        self._triggers: dict[str, list[dict[str, Any]]] = {}

    def routes(self) -> list[tuple[str, dict[str, V3Handler]]]:
        return [
            ("/pipelines", {"GET": self._list_pipelines, "POST": self._create_pipeline}),
            ("/triggers", {"GET": self._list_triggers, "POST": self._create_trigger}),
            ("/configs/compile", {"POST": self._compile}),
        ]

    # -- seeded state -----------------------------------------------------------------------

    def _seed(self, project: ProjectRec) -> None:
        if project.id in self._pipelines:
            return
        repo = project.slug.split("/", 1)[1]
        repo_id = str(int(uuid.UUID(project.id)) % 10**8)
        vcs = {"provider": "github_app", "repo_id": repo_id, "repo_full_name": repo}
        pipeline_id = stable_id(project.id, "pipeline")
        created = iso(self.api.state.clock())
        self._pipelines[project.id] = [
            {
                "id": pipeline_id,
                "attributes": {
                    "name": "build",
                    "description": None,
                    "created_at": created,
                    "config": {"type": "vcs", "file_path": ".circleci/config.yml", "vcs": vcs},
                    "checkout": {"type": "vcs", "vcs": vcs},
                },
                "references": {"project": {"id": project.id}},
            }
        ]
        self._triggers[project.id] = [
            {
                "id": stable_id(project.id, "trigger"),
                "attributes": {
                    "is_disabled": False,
                    "created_at": created,
                    "event": {"type": "vcs", "vcs": vcs, "filter": {"preset": "all-pushes"}},
                },
                "references": {"project": {"id": project.id}, "pipeline": {"id": pipeline_id}},
            }
        ]

    def of_project(self, project_id: str) -> list[dict[str, Any]]:
        """A project's pipelines (a 404 for an unknown project)."""
        project = self.api.state.api_project_by_id(project_id)
        self._seed(project)
        return self._pipelines[project.id]

    def _triggers_of(self, project_id: str) -> list[dict[str, Any]]:
        self.of_project(project_id)
        return self._triggers[project_id]

    # -- handlers ---------------------------------------------------------------------------

    def _list_pipelines(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        items = self.of_project(required(r, "project_id"))
        return self.api.query_page(r, "/pipelines", items, dict)

    def _create_pipeline(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(b, _PIPELINE_ATTRIBUTES, frozenset(["project"]))
        if "project" not in refs:
            raise V3Error(
                400, "Invalid request", "references.project is required", "/data/references/project"
            )
        _needs(attributes, "name", str)
        _needs(attributes, "config", dict)
        _needs(attributes, "checkout", dict)
        items = self.of_project(refs["project"])
        item = {
            "id": self.api.state.new_id(),
            "attributes": {
                "description": None,
                **attributes,
                "created_at": iso(self.api.state.clock()),
            },
            "references": {"project": {"id": refs["project"]}},
        }
        items.append(item)
        return 201, {"data": item}

    def _list_triggers(self, r: web.Request, _m: dict[str, str], _b: bytes) -> tuple[int, Any]:
        items = self._triggers_of(required(r, "project_id"))
        pipeline_id = r.query.get("filter[pipeline_id]")
        if pipeline_id:
            items = [t for t in items if t["references"]["pipeline"]["id"] == pipeline_id]
        return self.api.query_page(r, "/triggers", items, dict)

    def _create_trigger(self, r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        project_id = required(r, "project_id")
        attributes, refs = create_attributes(b, _TRIGGER_ATTRIBUTES, frozenset(["pipeline"]))
        pipeline_id = refs.get("pipeline")
        if pipeline_id is None:
            raise V3Error(
                400,
                "Invalid request",
                "references.pipeline is required",
                "/data/references/pipeline",
            )
        if not any(p["id"] == pipeline_id for p in self.of_project(project_id)):
            raise V3Error(404, "Not Found", "no such pipeline in this project")
        event = _needs(attributes, "event", dict)
        if event.get("type") not in _EVENT_TYPES:
            raise V3Error(
                400,
                "Invalid request",
                "event.type is vcs, webhook or schedule",
                "/data/attributes/event/type",
            )
        item = {
            "id": self.api.state.new_id(),
            "attributes": {
                "is_disabled": bool(attributes.get("is_disabled", False)),
                **attributes,
                "created_at": iso(self.api.state.clock()),
            },
            "references": {"project": {"id": project_id}, "pipeline": {"id": pipeline_id}},
        }
        self._triggers[project_id].append(item)
        return 201, {"data": item}

    def _compile(self, _r: web.Request, _m: dict[str, str], b: bytes) -> tuple[int, Any]:
        attributes, refs = create_attributes(b, _COMPILE_ATTRIBUTES, frozenset(["org"]))
        config = _needs(attributes, "config", str)
        if "org" in refs:
            self.api.state.api_org(refs["org"])
        messages = [] if "version:" in config else [{"title": "config: a version is required"}]
        attributes_out = {
            "phase": "ended",
            "outcome": "failed" if messages else "succeeded",
            "compiled_config": "" if messages else config,
        }
        return 200, {
            "data": {"id": self.api.state.new_id(), "attributes": attributes_out, "references": {}},
            "meta": {"messages": messages},
        }
