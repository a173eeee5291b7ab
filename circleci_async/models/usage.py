"""Usage exports: CSV reports of an organization's usage, built asynchronously."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum

__all__ = ["UsageExportJob", "UsageExportJobStatus", "UsageExportState"]


class UsageExportState(OpenEnum):
    CREATED = "created"
    PROCESSING = "processing"
    FAILED = "failed"
    COMPLETED = "completed"


@attrs.frozen(kw_only=True)
class UsageExportJob:
    """A submitted export. ``download_urls`` are pre-signed storage URLs (no token needed)
    once ``state`` is ``completed``."""

    usage_export_job_id: uuid.UUID
    state: UsageExportState
    start: dt.datetime
    end: dt.datetime
    download_urls: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class UsageExportJobStatus:
    usage_export_job_id: uuid.UUID
    state: UsageExportState
    download_urls: list[str] = attrs.field(factory=list)
    error_reason: str | None = None
