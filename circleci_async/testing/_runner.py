"""The fake's self-hosted runner API (``/api/v3/runner``): resource classes, their tokens,
runner agents, and task counts.

Task counts come from the CI data: a job whose plan names a runner resource class
(``acme/linux``) is an unclaimed task while queued and a running task while running, so an
autoscaler test sees the counts move as the simulated jobs do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._project_admin import body_object, optional, require
from ._records import ApiError, iso
from ._tables import Table

if TYPE_CHECKING:
    from multidict import MultiMapping

    from ._state import FakeState

__all__ = ["RunnerState"]


class RunnerState:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.resource_classes = Table(state, "Resource class")
        self.tokens = Table(state, "Token")
        self.runners: list[dict[str, Any]] = []
        #: Extra tasks on top of the simulated jobs, for tests that only need a number.
        self.extra_unclaimed: dict[str, int] = {}

    # -- seeding -----------------------------------------------------------------------------

    def add_resource_class(self, resource_class: str, description: str = "") -> dict[str, Any]:
        namespace, _, name = resource_class.partition("/")
        if not namespace or not name or "/" in name:
            raise ValueError(f"a resource class is namespace/name, not {resource_class!r}")
        if self.resource_classes.find(lambda r: r.json["resource_class"] == resource_class):
            raise ValueError(f"resource class {resource_class!r} already exists")
        class_id = self.state.new_id()
        json = {"id": class_id, "resource_class": resource_class, "description": description}
        self.resource_classes.put(class_id, json)
        return json

    def add_runner(
        self,
        resource_class: str,
        name: str,
        *,
        hostname: str | None = None,
        version: str = "3.0.0",
        first_connected: float | None = None,
        last_used: float | None = None,
    ) -> dict[str, Any]:
        now = self.state.clock()
        runner = {
            "resource_class": resource_class,
            "hostname": hostname or f"{name}.internal",
            "name": name,
            "first_connected": iso(first_connected if first_connected is not None else now),
            "last_connected": iso(now),
            "last_used": iso(last_used if last_used is not None else now),
            "version": version,
            "ip": f"10.0.0.{len(self.runners) + 1}",
        }
        self.runners.append(runner)
        self.state.touch()
        return runner

    # -- routes ------------------------------------------------------------------------------

    def list_runners(self, query: MultiMapping[str]) -> dict[str, Any]:
        resource_class, namespace = query.get("resource-class"), query.get("namespace")
        if resource_class is None and namespace is None:
            raise ApiError(400, "Either resource-class or namespace is required.")
        items = [
            r
            for r in self.runners
            if (resource_class is None or r["resource_class"] == resource_class)
            and (namespace is None or r["resource_class"].split("/", 1)[0] == namespace)
        ]
        return {"items": items}

    def _count(self, query: MultiMapping[str], status: str) -> int:
        resource_class = query.get("resource-class")
        if not resource_class:
            raise ApiError(400, "resource-class is required.")
        jobs = self.state.jobs_by_id.values()
        counted = sum(1 for j in jobs if j.resource_class == resource_class and j.status == status)
        return counted + (self.extra_unclaimed.get(resource_class, 0) if status == "queued" else 0)

    def unclaimed(self, query: MultiMapping[str]) -> dict[str, Any]:
        return {"unclaimed_task_count": self._count(query, "queued")}

    def running(self, query: MultiMapping[str]) -> dict[str, Any]:
        return {"running_runner_tasks": self._count(query, "running")}

    def list_resource_classes(self, query: MultiMapping[str]) -> dict[str, Any]:
        namespace = query.get("namespace")
        items = [
            r.json
            for r in self.resource_classes
            if namespace is None or r.json["resource_class"].split("/", 1)[0] == namespace
        ]
        return {"items": items}

    def create_resource_class(self, body: Any) -> dict[str, Any]:
        body = body_object(body)
        resource_class = require(body, "resource_class", str)
        description = optional(body, "description", str) or ""
        try:
            return self.add_resource_class(resource_class, description)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None

    def delete_resource_class(self, class_id: str, force: bool) -> None:
        name = self.resource_classes.get(class_id)["resource_class"]
        tokens = [r for r in self.tokens if r.json["resource_class"] == name]
        if tokens and not force:
            raise ApiError(400, "The resource class has tokens; delete them first or force.")
        for row in tokens:
            self.tokens.delete(row.json["id"])
        self.resource_classes.delete(class_id)

    def list_tokens(self, query: MultiMapping[str]) -> dict[str, Any]:
        resource_class = query.get("resource-class")
        if not resource_class:
            raise ApiError(400, "resource-class is required.")
        return {
            "items": [r.json for r in self.tokens if r.json["resource_class"] == resource_class]
        }

    def create_token(self, body: Any) -> dict[str, Any]:
        body = body_object(body)
        resource_class = require(body, "resource_class", str)
        nickname = require(body, "nickname", str)
        if not self.resource_classes.find(lambda r: r.json["resource_class"] == resource_class):
            raise ApiError(404, "Resource class not found.")
        token_id = self.state.new_id()
        listed = {
            "id": token_id,
            "resource_class": resource_class,
            "nickname": nickname,
            "created_at": iso(self.state.clock()),
        }
        self.tokens.put(token_id, listed)
        return {**listed, "token": f"{self.state.random().getrandbits(320):080x}"}

    def delete_token(self, token_id: str) -> None:
        self.tokens.delete(token_id)
