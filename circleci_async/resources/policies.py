"""``cci.policies``: config policy bundles, decisions and the decision audit log (the
``Policy Management`` tag). Errors here come as ``{"error": ...}``; the client reads both."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from ..models.policies import (
    BundleDiff,
    Decision,
    DecisionLog,
    DecisionSettings,
    Policy,
    PolicyBundle,
)
from ._base import Resource, body, operation, segment

__all__ = ["PoliciesAPI"]


def _base(owner_id: uuid.UUID | str, context: str) -> str:
    """``owner/{ownerID}/context/{context}``: ``context`` is ``config`` for config policies."""
    return f"owner/{segment(owner_id)}/context/{segment(context)}"


class PoliciesAPI(Resource):
    namespace = "policies"

    @operation("GetDecisionLogs", "GET", "/owner/{ownerID}/context/{context}/decision")
    async def decision_logs(
        self,
        owner_id: uuid.UUID | str,
        context: str = "config",
        *,
        status: str | None = None,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
        branch: str | None = None,
        project_id: uuid.UUID | str | None = None,
        build_number: int | str | None = None,
        offset: int | None = None,
    ) -> list[DecisionLog]:
        """One batch of audited decisions, newest first. This endpoint pages by ``offset``
        (skip that many), not by token, and answers a bare list: call again with
        ``offset=len(seen)`` until a batch comes back empty."""
        return await self._call(
            "GetDecisionLogs",
            "GET",
            f"{_base(owner_id, context)}/decision",
            list[DecisionLog],
            params={
                "status": status,
                "after": after,
                "before": before,
                "branch": branch,
                "project_id": project_id,
                "build_number": build_number,
                "offset": offset,
            },
        )

    @operation("MakeDecision", "POST", "/owner/{ownerID}/context/{context}/decision")
    async def decide(
        self,
        owner_id: uuid.UUID | str,
        context: str = "config",
        *,
        input: str,
        metadata: Mapping[str, Any] | None = None,
    ) -> Decision:
        """Evaluate ``input`` (a config, as YAML text) against the owner's policies."""
        return await self._call(
            "MakeDecision",
            "POST",
            f"{_base(owner_id, context)}/decision",
            Decision,
            body=body({"input": input, "metadata": dict(metadata) if metadata else None}),
        )

    @operation("GetDecisionSettings", "GET", "/owner/{ownerID}/context/{context}/decision/settings")
    async def settings(
        self, owner_id: uuid.UUID | str, context: str = "config"
    ) -> DecisionSettings:
        return await self._call(
            "GetDecisionSettings",
            "GET",
            f"{_base(owner_id, context)}/decision/settings",
            DecisionSettings,
        )

    @operation(
        "SetDecisionSettings", "PATCH", "/owner/{ownerID}/context/{context}/decision/settings"
    )
    async def update_settings(
        self, owner_id: uuid.UUID | str, context: str = "config", *, enabled: bool
    ) -> DecisionSettings:
        """Turn policy evaluation on or off."""
        return await self._call(
            "SetDecisionSettings",
            "PATCH",
            f"{_base(owner_id, context)}/decision/settings",
            DecisionSettings,
            body={"enabled": enabled},
        )

    @operation("GetDecisionLog", "GET", "/owner/{ownerID}/context/{context}/decision/{decisionID}")
    async def decision_log(
        self, owner_id: uuid.UUID | str, decision_id: uuid.UUID | str, context: str = "config"
    ) -> DecisionLog:
        return await self._call(
            "GetDecisionLog",
            "GET",
            f"{_base(owner_id, context)}/decision/{segment(decision_id)}",
            DecisionLog,
        )

    @operation(
        "GetDecisionLogPolicyBundle",
        "GET",
        "/owner/{ownerID}/context/{context}/decision/{decisionID}/policy-bundle",
    )
    async def decision_policy_bundle(
        self, owner_id: uuid.UUID | str, decision_id: uuid.UUID | str, context: str = "config"
    ) -> PolicyBundle:
        """The policies as they were when the decision was made."""
        return await self._call(
            "GetDecisionLogPolicyBundle",
            "GET",
            f"{_base(owner_id, context)}/decision/{segment(decision_id)}/policy-bundle",
            PolicyBundle,
        )

    @operation("GetPolicyBundle", "GET", "/owner/{ownerID}/context/{context}/policy-bundle")
    async def bundle(self, owner_id: uuid.UUID | str, context: str = "config") -> PolicyBundle:
        return await self._call(
            "GetPolicyBundle",
            "GET",
            f"{_base(owner_id, context)}/policy-bundle",
            PolicyBundle,
        )

    @operation("CreatePolicyBundle", "POST", "/owner/{ownerID}/context/{context}/policy-bundle")
    async def replace_bundle(
        self,
        owner_id: uuid.UUID | str,
        context: str = "config",
        *,
        policies: Mapping[str, str],
        dry: bool | None = None,
    ) -> BundleDiff:
        """Replace the whole bundle with ``policies`` (name -> Rego source); with ``dry=True``
        only report what would change."""
        return await self._call(
            "CreatePolicyBundle",
            "POST",
            f"{_base(owner_id, context)}/policy-bundle",
            BundleDiff,
            params={"dry": dry},
            body={"policies": dict(policies)},
        )

    @operation(
        "GetPolicyDocument",
        "GET",
        "/owner/{ownerID}/context/{context}/policy-bundle/{policyName}",
    )
    async def policy(self, owner_id: uuid.UUID | str, name: str, context: str = "config") -> Policy:
        return await self._call(
            "GetPolicyDocument",
            "GET",
            f"{_base(owner_id, context)}/policy-bundle/{segment(name)}",
            Policy,
        )
