"""What a mirror run reports: one entry per artifact file, and the run's counts."""

from __future__ import annotations

import attrs

from ._models import DownloadResult, DownloadResults, DownloadStatus

__all__ = ["JobRef", "MirrorEntry", "MirrorResult"]


@attrs.frozen
class JobRef:
    """Where a job sits in the walk: what its files and manifest records are filed under."""

    pipeline_number: int | None
    pipeline_id: str | None
    workflow: str
    workflow_id: str | None
    job: str
    job_number: int
    #: The job reached a status after which its artifacts cannot change.
    finished: bool

    def entry(self, outcome: DownloadResult) -> MirrorEntry:
        return MirrorEntry(
            self.pipeline_number,
            self.pipeline_id,
            self.workflow,
            self.workflow_id,
            self.job,
            self.job_number,
            outcome,
        )


@attrs.frozen
class MirrorEntry:
    """One artifact file of a mirror run, with the job it belongs to."""

    pipeline_number: int | None
    pipeline_id: str | None
    workflow: str
    workflow_id: str | None
    job: str
    job_number: int
    result: DownloadResult


@attrs.define
class MirrorResult:
    """What a mirror run did. ``str(result)`` is a one-line summary."""

    dest: str
    manifest: str | None
    pipelines: int = 0
    workflows: int = 0
    jobs: int = 0
    #: Jobs not listed again: finished, and all their files already mirrored.
    jobs_up_to_date: int = 0
    entries: list[MirrorEntry] = attrs.field(factory=list)
    #: Listing failures: (what was being listed, the error).
    errors: list[tuple[str, BaseException]] = attrs.field(factory=list)

    def _count(self, status: DownloadStatus) -> int:
        return sum(1 for e in self.entries if e.result.status is status)

    @property
    def downloaded(self) -> int:
        return self._count(DownloadStatus.DOWNLOADED)

    @property
    def skipped(self) -> int:
        return self._count(DownloadStatus.SKIPPED)

    @property
    def failed(self) -> int:
        return sum(1 for e in self.entries if not e.result.ok)

    @property
    def bytes_downloaded(self) -> int:
        return sum(e.result.transferred for e in self.entries)

    @property
    def ok(self) -> bool:
        return not self.errors and self.failed == 0

    @property
    def up_to_date(self) -> bool:
        """Nothing was new: no file downloaded, none failed, no listing failed."""
        return self.ok and self.downloaded == 0

    @property
    def results(self) -> DownloadResults:
        return DownloadResults(e.result for e in self.entries)

    def __str__(self) -> str:
        head = f"{self.pipelines} pipelines, {self.workflows} workflows, {self.jobs} jobs"
        if self.jobs_up_to_date:
            head += f" ({self.jobs_up_to_date} already mirrored)"
        if self.up_to_date:
            body = f"nothing new to download; {self.skipped} files already present"
        else:
            mib = self.bytes_downloaded / (1024 * 1024)
            body = (
                f"{self.downloaded} files downloaded ({mib:.1f} MiB), {self.skipped} already "
                f"present, {self.failed} failed"
            )
            if self.errors:
                body += f", {len(self.errors)} listings failed"
        return f"{head}: {body}"
