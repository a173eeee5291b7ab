"""``cci.v3.analysis``: credit charges by job, workflow or pipeline (§2.9, **experimental**:
CircleCI may change it). A search-style POST: the cursor and limit (≤ 20) travel in the body.
[inferred] Not retried after a 5xx: the notes call no POST idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...resources._base import operation
from ..models import Charge
from ._base import V3Resource
from .runs import rfc3339

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["CHARGE_ANALYSES", "AnalysisAPI"]

#: What ``analysis`` may name.
CHARGE_ANALYSES = frozenset(["charge.job", "charge.workflow", "charge.pipeline"])


class AnalysisAPI(V3Resource):
    namespace = "v3.analysis"

    @operation("v3.analyseCharges", "POST", "/analysis/charges")
    def charges(
        self,
        analysis: str,
        project_ids: Iterable[uuid.UUID | str],
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filter: str | None = None,
        order_by: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Charge]:
        """Credits per job, workflow or pipeline (``analysis``) of these projects. Without
        ``since``/``until`` CircleCI looks back 14 days; ``order_by`` is ``"<field> [asc|desc]"``
        (credits descending by default)."""
        if analysis not in CHARGE_ANALYSES:
            raise ConfigurationError(f"analysis must be one of {sorted(CHARGE_ANALYSES)}")
        ids = [str(project_id) for project_id in project_ids]
        if not ids:
            raise ConfigurationError("analysis.charges needs at least one project id")
        scope: dict[str, Any] = {"project_ids": ids}
        if since is not None:
            scope["from"] = rfc3339(since)
        if until is not None:
            scope["to"] = rfc3339(until)
        body: dict[str, Any] = {"analysis": analysis, "scope": scope}
        if filter is not None:
            body["filter"] = filter
        if order_by is not None:
            body["order_by"] = order_by
        return self._search(
            "v3.analyseCharges",
            "analysis/charges",
            Charge,
            body,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )
