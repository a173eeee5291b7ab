"""``ClientStats.storage_requests``: requests to origins that get no token (the storage hosts
artifact downloads are redirected to) are counted apart, and still within ``requests``."""

from __future__ import annotations

from pathlib import Path

from circleci_async import CircleCI
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers, serve_artifact_listing

from ._download_support import SLUG

pytest_plugins = ["tests._download_support"]  # its fixtures: api, hosts, cci


async def test_storage_hops_are_counted_apart(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    items = [hosts.add(f"f{i}.txt", b"x" * (i + 1)) for i in range(3)]
    direct = hosts.add("report.html", b"<html/>", direct=True)  # served by the artifact host
    serve_artifact_listing(api, SLUG, 7, [*items, direct])
    await cci.artifacts.list(SLUG, 7).collect()
    before = (cci.stats.requests, cci.stats.storage_requests)
    results = await cci.artifacts.download(cci.artifacts.list(SLUG, 7), tmp_path)
    assert results.ok
    assert cci.stats.storage_requests - before[1] == len(hosts.storage_requests) == 3
    listing = 1
    artifact_hops = len(hosts.artifact_requests)  # one per file, each taking the token
    assert artifact_hops == 4
    assert cci.stats.requests - before[0] == listing + artifact_hops + 3
