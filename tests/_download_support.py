"""Fixtures and helpers shared by the download and mirror tests (no tests here).

Three loopback servers per test: the fake CircleCI API on 127.0.0.1, and the artifact host and
storage host under their production names (over TLS with a throwaway CA when trustme is
installed), reached through a resolver that maps the names to loopback ports.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from circleci_async import CircleCI, RateLimitConfig
from circleci_async.download import DownloadResult, DownloadResults
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers

TOKEN = "dl-token-0f8b7c1de2a94a6b"
SLUG = "gh/acme/widgets"
UNPACED = RateLimitConfig(initial_rate=None)


@pytest.fixture
async def api() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN) as server:
        server.add_project(SLUG)
        yield server


@pytest.fixture
async def hosts() -> AsyncIterator[ArtifactServers]:
    async with ArtifactServers(token=TOKEN) as servers:
        yield servers


@pytest.fixture
async def cci(api: FakeCircleCI, hosts: ArtifactServers) -> AsyncIterator[CircleCI]:
    async with (
        hosts.session() as session,
        CircleCI(
            TOKEN,
            base_url=api.url,
            session=session,
            token_origins=hosts.token_origins,
            rate_limit=UNPACED,
        ) as client,
    ):
        yield client


async def download_watched(
    api_url: str,
    hosts: ArtifactServers,
    items: list[dict[str, Any]],
    dest: Path,
    observer: Any,
    *,
    token: str = TOKEN,
    **options: Any,
) -> DownloadResults:
    """Download ``items`` through the artifact hosts (redirected to the storage host) with one
    client whose only observer is ``observer`` (``options`` go to ``download``)."""
    async with (
        hosts.session() as session,
        CircleCI(
            token,
            base_url=api_url,
            session=session,
            token_origins=hosts.token_origins,
            rate_limit=UNPACED,
            observers=[observer],
        ) as cci,
    ):
        return await cci.artifacts.download(items, dest, **options)


async def interrupt_mirror(cci: CircleCI, dest: Path, **options: Any) -> None:
    """Start ``cci.artifacts.mirror(SLUG, dest, ...)``, cancel it once one file is finished
    and another is under way, and check that the cancelled mirror left no partial file."""
    from ._waiting import wait_until

    progress = RecordingProgress()
    task = asyncio.ensure_future(cci.artifacts.mirror(SLUG, dest, progress=progress, **options))
    await wait_until(
        lambda: any(kind == "finish" for kind, *_ in progress.calls) and leftovers(dest),
        timeout=10,
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(dest) == []


def tree(root: Path) -> list[str]:
    """Every file under ``root``, relative, ``/``-separated, sorted."""
    found = []
    for directory, _, files in os.walk(root):
        for name in files:
            found.append(Path(directory, name).relative_to(root).as_posix())
    return sorted(found)


def leftovers(root: Path) -> list[str]:
    """Partial files and resume records under ``root``."""
    return [p for p in tree(root) if ".cci-partial" in p]


def by_path(results: list[DownloadResult]) -> dict[str, DownloadResult]:
    return {str(r.artifact.path): r for r in results}


class RecordingProgress:
    """A progress reporter that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def start(self, name: str, total: int | None) -> None:
        self.calls.append(("start", name, total))

    def advance(self, name: str, nbytes: int) -> None:
        self.calls.append(("advance", name, nbytes))

    def finish(self, name: str, result: DownloadResult) -> None:
        self.calls.append(("finish", name, result.status.value))

    def advanced(self, name: str) -> int:
        return sum(n for kind, who, n in self.calls if kind == "advance" and who == name)
