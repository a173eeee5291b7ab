"""A mirror split across workers (``shard=(i, n)``) over TCP: the shards together mirror exactly
what one run mirrors, never a file twice, each with its own manifest and the same idempotence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from circleci_async import CircleCI
from circleci_async.download import MirrorOptions
from circleci_async.download.options import shard_manifest
from circleci_async.errors import ConfigurationError
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers, GeneratedContent, TransferFault

from ._download_support import SLUG, interrupt_mirror, tree
from .test_mirror import seed

SHARDS = 4


def files_only(root: Path) -> list[str]:
    """The mirrored files: everything but the manifests."""
    return [p for p in tree(root) if not p.startswith("manifest")]


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_four_shards_mirror_exactly_what_one_run_mirrors(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=7)  # 7 pipelines over 4 shards: uneven shares
    whole = await cci.artifacts.mirror(SLUG, tmp_path / "whole")
    assert whole.ok and whole.downloaded == 7 * 6

    hosts.clear_requests()
    dest = tmp_path / "sharded"
    results = await asyncio.gather(
        *(cci.artifacts.mirror(SLUG, dest, shard=(i, SHARDS)) for i in range(SHARDS))
    )
    assert all(r.ok for r in results), [r.errors for r in results]
    assert files_only(dest) == files_only(tmp_path / "whole")
    # Every pipeline in exactly one shard, every file downloaded by exactly one.
    assert sum(r.pipelines for r in results) == 7
    assert sum(r.downloaded for r in results) == whole.downloaded
    assert all(r.skipped == 0 for r in results)
    fetched = [e.result.relative for r in results for e in r.entries]
    assert len(fetched) == len(set(fetched)) == whole.downloaded
    storage_paths = [r.path for r in hosts.storage_requests]
    assert len(storage_paths) == len(set(storage_paths)) == whole.downloaded

    manifests = sorted(p for p in tree(dest) if p.startswith("manifest"))
    assert manifests == [f"manifest.shard-{i}-of-{SHARDS}.jsonl" for i in range(SHARDS)]
    for index, result in enumerate(results):
        assert result.manifest == str(dest / f"manifest.shard-{index}-of-{SHARDS}.jsonl")
        book = records(dest / manifests[index])
        numbers = {r["pipeline"] for r in book}
        assert numbers and all(n % SHARDS == index for n in numbers)
        assert len([r for r in book if r["type"] == "file"]) == result.downloaded

    hosts.clear_requests()
    api.clear_requests()
    for index in range(SHARDS):
        again = await cci.artifacts.mirror(SLUG, dest, shard=f"{index}/{SHARDS}")
        assert again.up_to_date and again.downloaded == 0
        assert again.jobs_up_to_date == results[index].jobs
    assert hosts.artifact_requests == [] and hosts.storage_requests == []
    assert not any(r.path.endswith("/artifacts") for r in api.requests)


async def test_max_pipelines_picks_the_same_pipelines_for_every_shard(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=9)
    whole = await cci.artifacts.mirror(SLUG, tmp_path / "whole", max_pipelines=5)
    assert whole.pipelines == 5
    dest = tmp_path / "sharded"
    shares = [
        await cci.artifacts.mirror(SLUG, dest, max_pipelines=5, shard=(i, 3)) for i in range(3)
    ]
    assert sum(s.pipelines for s in shares) == 5
    assert files_only(dest) == files_only(tmp_path / "whole")


async def test_an_interrupted_shard_finishes_on_its_rerun(
    api: FakeCircleCI, hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    seed(api, hosts, pipelines=4, content=GeneratedContent(2 * 1024 * 1024))
    for item in hosts.artifacts:
        if item.path.startswith("logs/"):
            hosts.add_fault(item.url, TransferFault("slow", delay=0.01, times=None))
    await interrupt_mirror(cci, tmp_path, shard=(1, 2))
    interrupted = len(files_only(tmp_path))
    for item in hosts.artifacts:
        item.faults.clear()
    done = await cci.artifacts.mirror(SLUG, tmp_path, shard=(1, 2))
    assert done.ok and done.downloaded > 0 and done.pipelines == 2
    assert done.downloaded + done.skipped == 2 * 6
    assert len(files_only(tmp_path)) == 12 > interrupted
    book = records(tmp_path / "manifest.shard-1-of-2.jsonl")
    assert {r["pipeline"] % 2 for r in book} == {1}
    assert not (tmp_path / "manifest.jsonl").exists()
    again = await cci.artifacts.mirror(SLUG, tmp_path, shard=(1, 2))
    assert again.up_to_date and again.downloaded == 0


@pytest.mark.parametrize(
    "shard", [(4, 4), (0, 0), (-1, 2), (1, -2), (True, 2), (1, 2, 3), "a/b", "1/0", "2", "1/2/3"]
)
async def test_a_bad_shard_is_refused_before_any_request(
    api: FakeCircleCI, cci: CircleCI, tmp_path: Path, shard: Any
) -> None:
    with pytest.raises(ConfigurationError, match="shard"):
        await cci.artifacts.mirror(SLUG, tmp_path, shard=shard)
    with pytest.raises(ConfigurationError, match="shard"):
        MirrorOptions(shard=shard)
    assert api.requests == []
    assert tree(tmp_path) == []


def test_shard_forms_and_manifest_names() -> None:
    assert MirrorOptions(shard="1/4").shard == (1, 4)
    assert MirrorOptions(shard=" 0 / 1 ").shard == (0, 1)
    assert MirrorOptions(shard=(3, 4)).shard == (3, 4)
    assert MirrorOptions().shard is None
    assert shard_manifest("manifest.jsonl", None) == "manifest.jsonl"
    assert shard_manifest("manifest.jsonl", (0, 4)) == "manifest.shard-0-of-4.jsonl"
    assert shard_manifest("books/run.jsonl", (2, 3)) == "books/run.shard-2-of-3.jsonl"
    assert shard_manifest("books/record", (2, 3)) == "books/record.shard-2-of-3"
    assert shard_manifest(".hidden", (0, 2)) == ".hidden.shard-0-of-2"
