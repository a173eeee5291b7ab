"""``cci.usage``: usage exports (rate limited by CircleCI to 10 per hour per organization)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from ..models.usage import UsageExportJob, UsageExportJobStatus
from ._base import Resource, body, operation, segment

__all__ = ["UsageAPI"]


class UsageAPI(Resource):
    namespace = "usage"

    @operation("createUsageExport", "POST", "/organizations/{org_id}/usage_export_job")
    async def create_export(
        self,
        org_id: uuid.UUID | str,
        *,
        start: dt.datetime,
        end: dt.datetime,
        shared_org_ids: Sequence[uuid.UUID | str] | None = None,
    ) -> UsageExportJob:
        """Start building a usage report for ``start``..``end`` (32 days at most, within the
        last 13 months); poll :meth:`get_export` until it is ``completed``."""
        payload = body(
            {
                "start": start,
                "end": end,
                "shared_org_ids": (
                    [str(org) for org in shared_org_ids] if shared_org_ids is not None else None
                ),
            }
        )
        return await self._call(
            "createUsageExport",
            "POST",
            f"organizations/{segment(org_id)}/usage_export_job",
            UsageExportJob,
            body=payload,
        )

    @operation(
        "getUsageExport", "GET", "/organizations/{org_id}/usage_export_job/{usage_export_job_id}"
    )
    async def get_export(
        self, org_id: uuid.UUID | str, job_id: uuid.UUID | str
    ) -> UsageExportJobStatus:
        return await self._call(
            "getUsageExport",
            "GET",
            f"organizations/{segment(org_id)}/usage_export_job/{segment(job_id)}",
            UsageExportJobStatus,
        )
