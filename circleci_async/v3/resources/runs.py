"""``cci.v3.runs``: runs (v2's *pipelines*: one triggered execution). ``GET /runs`` lists the
token user's runs across projects; ``POST /runs/search`` a set of projects' runs, with a filter
expression (:func:`search_filter` builds the grammar the official CLI uses)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...resources._base import operation, segment
from ..models import Outcome, Phase, Run
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["RunsAPI", "rfc3339", "search_filter"]


class RunsAPI(V3Resource):
    namespace = "v3.runs"

    @operation("v3.getRun", "GET", "/runs/{id}")
    async def get(self, run_id: uuid.UUID | str) -> Run:
        return await self._entity("v3.getRun", "GET", f"runs/{segment(run_id)}", Run)

    @operation("v3.listRuns", "GET", "/runs")
    def list(
        self,
        *,
        user_id: str = "me",
        phase: Phase | str | None = None,
        current_outcome: Outcome | str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Run]:
        """Your runs across projects, newest first (``filter[user_id]=me`` is the one value
        the notes show). ``limit`` is at most 20."""
        params = {
            "filter[user_id]": user_id,
            "filter[phase]": phase,
            "filter[current_outcome]": current_outcome,
            "filter[from]": since,
            "filter[to]": until,
        }
        return self._collection(
            "v3.listRuns",
            "runs",
            Run,
            params=params,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )

    # [inferred] idempotent: a search changes nothing, so repeating it after a 5xx is safe;
    # the notes name no POST as documented idempotent (§6.5).
    @operation("v3.searchRuns", "POST", "/runs/search", idempotent=True)
    def search(
        self,
        project_ids: Iterable[uuid.UUID | str],
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        filter: str | None = None,
        order_by: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Run]:
        """Runs of these projects, newest first; the cursor and limit (at most 20) travel in
        the body. [inferred] ``since``/``until`` may be left out (the CLI always sends them)."""
        ids = [str(project_id) for project_id in project_ids]
        if not ids:
            raise ConfigurationError("runs.search needs at least one project id")
        scope: dict[str, Any] = {"project_ids": ids}
        if since is not None:
            scope["from"] = rfc3339(since)
        if until is not None:
            scope["to"] = rfc3339(until)
        body: dict[str, Any] = {"scope": scope}
        if filter is not None:
            body["filter"] = filter
        if order_by is not None:
            body["order_by"] = order_by
        return self._search(
            "v3.searchRuns",
            "runs/search",
            Run,
            body,
            cursor=cursor,
            limit=limit,
            max_items=max_items,
        )


#: Run statuses the search grammar knows (§3.4).
SEARCH_STATUSES = frozenset(
    [
        "canceled",
        "error",
        "failed",
        "failing",
        "not_run",
        "on_hold",
        "queued",
        "running",
        "success",
        "unauthorized",
    ]
)


def search_filter(
    *, branch: str | None = None, status: str | None = None, pipeline_id: str | None = None
) -> str | None:
    """The filter expression for :meth:`RunsAPI.search`: ``pipeline.git.branch == "main"
    and pipeline.status == "failed"`` (only ``==`` and ``and`` are known, §6.10)."""
    terms = []
    if branch is not None:
        terms.append(f"pipeline.git.branch == {_quoted(branch)}")
    if status is not None:
        if status not in SEARCH_STATUSES:
            raise ConfigurationError(f"unknown run status {status!r}")
        terms.append(f"pipeline.status == {_quoted(status)}")
    if pipeline_id is not None:
        terms.append(f"pipeline.id == {_quoted(pipeline_id)}")
    return " and ".join(terms) or None


def _quoted(value: str) -> str:
    # [inferred] escaping: the grammar's string syntax is unknown; refuse what would need it.
    if '"' in value or "\\" in value:
        raise ConfigurationError(f"cannot put {value!r} in a filter expression")
    return f'"{value}"'


def rfc3339(moment: dt.datetime) -> str:
    """A moment in RFC 3339 (UTC when naive), as v3 bodies carry it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")
