"""The downloader against a hostile destination: links, FIFOs and hard links planted under the
names it creates, and temporary files a killed process left behind. Real downloads over TCP
from the test suite's artifact hosts; the destination is a real directory the test booby-traps.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
from pathlib import Path

import aiohttp
import attrs
import pytest

from circleci_async import CircleCI, events
from circleci_async.download import (
    DownloadOptions,
    DownloadResult,
    DownloadStatus,
    PathConflictError,
    UnsafePathError,
    WriteMode,
)
from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers, GeneratedContent, TransferFault

from ._cli_support import spawn
from ._download_support import UNPACED, download_watched, leftovers, tree
from ._waiting import wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX links, FIFOs and flock")

MiB = 1024 * 1024
FAST = DownloadOptions(backoff_base=0.01, backoff_max=0.05, max_attempts=2)
MODES = pytest.mark.parametrize("mode", [WriteMode.AUTO, WriteMode.THREAD])
#: Big enough to be written as a resumable ``<name>.cci-partial`` with a record.
BIG = DownloadOptions().resume_threshold + MiB
PAST = 1_600_000_000  # an mtime the victim keeps unless something writes to it
VICTIM_BYTES = b"outside the destination: must never change\n"


def victim(tmp_path: Path, content: bytes = VICTIM_BYTES) -> Path:
    """A file outside ``dest`` with a known content and mtime."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    path = outside / "victim"
    path.write_bytes(content)
    os.utime(path, (PAST, PAST))
    return path


def untouched(path: Path, content: bytes = VICTIM_BYTES) -> bool:
    st = os.stat(path, follow_symlinks=False)
    return path.read_bytes() == content and st.st_mtime == PAST


def dest_of(tmp_path: Path) -> Path:
    dest = tmp_path / "dest"
    dest.mkdir()
    return dest


async def download(
    cci: CircleCI, item: dict[str, object], dest: Path, **options: object
) -> DownloadResult:
    """One file, with a deadline: a FIFO must not make it block."""
    results = await asyncio.wait_for(
        cci.artifacts.download([item], dest, options=attrs.evolve(FAST, **options)), 60
    )
    return results[0]


# -- item 1: nothing is opened through a link ----------------------------------------------


@MODES
@pytest.mark.parametrize("planted", [".cci-partial", ".cci-partial.json"])
async def test_a_link_at_the_partial_file_or_its_record_is_never_written_through(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, mode: WriteMode, planted: str
) -> None:
    assert DownloadOptions().resume_threshold <= BIG  # so the resumable names are used
    target = victim(tmp_path)
    dest = dest_of(tmp_path)
    item = hosts.add("big.bin", GeneratedContent(BIG, seed=1))
    link = dest / f"big.bin{planted}"
    link.symlink_to(target)

    result = await download(cci, item, dest, write_mode=mode)

    assert untouched(target)
    assert not (dest / "big.bin").is_symlink()
    assert not (dest / "big.bin").exists()
    assert result.status is DownloadStatus.FAILED
    assert isinstance(result.error, UnsafePathError), result.error
    assert "symbolic link" in str(result.error)
    assert link.is_symlink() and os.readlink(link) == str(target)  # left alone
    assert sorted(leftovers(dest)) == [f"big.bin{planted}"]  # our own partial file removed


async def test_a_link_at_the_partial_file_with_a_valid_record_is_not_resumed_through(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    content = GeneratedContent(BIG, seed=2)
    target = victim(tmp_path, content.read(0, 1000))
    dest = dest_of(tmp_path)
    item = hosts.add("big.bin", content)
    (dest / "big.bin.cci-partial").symlink_to(target)
    record = {"version": 1, "url": item["url"], "size": content.size}
    (dest / "big.bin.cci-partial.json").write_text(json.dumps(record))

    result = await download(cci, item, dest)

    assert untouched(target, content.read(0, 1000))
    assert result.status is DownloadStatus.FAILED
    assert isinstance(result.error, UnsafePathError)
    assert result.resumed_from == 0
    assert not (dest / "big.bin").exists()


async def test_a_record_behind_a_link_is_not_read(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    content = b"the real artifact, small enough for a unique temporary file"
    item = hosts.add("small.txt", content)
    # A record that would make the download resume from the (wrong) bytes planted beside it.
    forged = json.dumps({"version": 1, "url": item["url"], "size": len(content)}).encode()
    target = victim(tmp_path, forged)
    dest = dest_of(tmp_path)
    (dest / "small.txt.cci-partial").write_bytes(b"WRONG BYTES")
    (dest / "small.txt.cci-partial.json").symlink_to(target)

    result = await download(cci, item, dest)

    assert result.status is DownloadStatus.DOWNLOADED, result.error
    assert result.resumed_from == 0
    assert (dest / "small.txt").read_bytes() == content
    assert untouched(target, forged)
    assert (dest / "small.txt.cci-partial.json").is_symlink()  # a link is left alone
    assert not (dest / "small.txt.cci-partial").exists()  # our own stale partial: tidied


@pytest.mark.parametrize("size", [1000, BIG])
async def test_a_link_at_the_final_name_is_left_alone(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, size: int
) -> None:
    target = victim(tmp_path)
    dest = dest_of(tmp_path)
    item = hosts.add("out.bin", GeneratedContent(size, seed=3))
    (dest / "out.bin").symlink_to(target)

    result = await download(cci, item, dest)

    assert untouched(target)
    assert result.status is DownloadStatus.FAILED
    assert isinstance(result.error, UnsafePathError), result.error
    assert (dest / "out.bin").is_symlink() and os.readlink(dest / "out.bin") == str(target)
    assert leftovers(dest) == []


@pytest.mark.parametrize("with_record", [True, False])
async def test_a_hard_link_at_the_partial_file_is_never_written_to(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, with_record: bool
) -> None:
    content = GeneratedContent(BIG, seed=4)
    target = victim(tmp_path)
    dest = dest_of(tmp_path)
    item = hosts.add("big.bin", content)
    os.link(target, dest / "big.bin.cci-partial")  # same file system: the same inode
    if with_record:  # looks resumable, so the sweep keeps it and the writer meets it
        record = {"version": 1, "url": item["url"], "size": content.size}
        (dest / "big.bin.cci-partial.json").write_text(json.dumps(record))

    result = await download(cci, item, dest)

    assert untouched(target)
    assert os.stat(target).st_nlink == (2 if with_record else 1)
    if with_record:
        assert result.status is DownloadStatus.FAILED
        assert isinstance(result.error, UnsafePathError), result.error
        assert "hard link" in str(result.error)
        assert result.resumed_from == 0
        assert not (dest / "big.bin").exists()
    else:  # not resumable: swept (the name unlinked, the file elsewhere kept), then a download
        assert result.status is DownloadStatus.DOWNLOADED, result.error
        assert content.matches_file(str(dest / "big.bin"))
        assert leftovers(dest) == []


@MODES
@pytest.mark.parametrize("where", [".cci-partial", ".cci-partial.json", ""])
async def test_a_fifo_in_the_way_fails_the_file_without_blocking(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path, mode: WriteMode, where: str
) -> None:
    dest = dest_of(tmp_path)
    item = hosts.add("big.bin", GeneratedContent(BIG, seed=5))
    other = hosts.add("other.bin", b"unaffected")
    fifo = dest / f"big.bin{where}"
    os.mkfifo(fifo)
    os.mkfifo(dest / "x.0123abcd.cci-partial")  # named like a temporary file: not ours to sweep

    results = await asyncio.wait_for(
        cci.artifacts.download([item, other], dest, options=attrs.evolve(FAST, write_mode=mode)),
        60,
    )

    failed = results[0]
    assert failed.status is DownloadStatus.FAILED
    assert isinstance(failed.error, PathConflictError), failed.error
    assert "FIFO" in str(failed.error)
    assert results[1].status is DownloadStatus.DOWNLOADED
    assert (dest / "other.bin").read_bytes() == b"unaffected"
    assert fifo.is_fifo() and (dest / "x.0123abcd.cci-partial").is_fifo()
    if where:  # no file under the final name either
        assert not (dest / "big.bin").exists()


# -- item 5: temporary files a killed process left are swept -------------------------------

CHILD = """
import asyncio, json, sys
from circleci_async import CircleCI, RateLimitConfig

async def main():
    item, dest = json.loads(sys.argv[1]), sys.argv[2]
    async with CircleCI("not-needed", rate_limit=RateLimitConfig(initial_rate=None)) as cci:
        await cci.artifacts.download([item], dest)

asyncio.run(main())
"""


def temporaries(dest: Path) -> list[str]:
    return [name for name in tree(dest) if name.endswith(".cci-partial") and name.count(".") >= 3]


async def test_a_killed_download_leaves_a_temp_file_the_next_run_removes(
    tmp_path: Path,
) -> None:
    dest = dest_of(tmp_path)
    content = GeneratedContent(MiB, seed=6)
    async with ArtifactServers(
        tls=False,
        artifact_host="127.0.0.1",
        storage_host="127.0.0.1",
        with_ports=True,
        chunk_size=16 * 1024,
    ) as hosts:
        slow = TransferFault("slow", delay=0.2, times=None)
        item = hosts.add("slow.bin", content, faults=[slow])
        child = await spawn("-c", CHILD, json.dumps(item), str(dest))
        try:
            left = await wait_until(lambda: temporaries(dest), 30, what="the child's temp file")
            # Mid-transfer: the file is there and still short of its size.
            assert (dest / left[0]).stat().st_size < content.size
        finally:
            child.send_signal(signal.SIGKILL)
            await child.communicate()
        assert child.returncode == -signal.SIGKILL
        assert temporaries(dest) == left  # nobody removed it

        hosts.artifact(item).faults.clear()
        async with (
            aiohttp.ClientSession() as session,
            CircleCI("not-needed", session=session, rate_limit=UNPACED) as cci,
        ):
            results = await cci.artifacts.download([item], dest)
    assert results[0].status is DownloadStatus.DOWNLOADED, results[0].error
    assert content.matches_file(str(dest / "slow.bin"))
    assert leftovers(dest) == []


async def test_the_sweep_spares_locked_links_and_resumable_files(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    dest = dest_of(tmp_path)
    target = victim(tmp_path)
    item = hosts.add("new.txt", b"new")
    live = dest / "busy.bin.0badc0de.cci-partial"  # a running download's file (we hold it)
    live.write_bytes(b"in progress")
    stale = dest / "dead.bin.deadbeef.cci-partial"  # a killed one's: no lock
    stale.write_bytes(b"abandoned")
    linked = dest / "link.bin.00000001.cci-partial"
    linked.symlink_to(target)
    resumable = dest / "keep.bin.cci-partial"  # a resume for a later run, with its record
    resumable.write_bytes(b"first half")
    record = {"version": 1, "url": "https://output.circle-artifacts.com/k", "size": 20}
    (dest / "keep.bin.cci-partial.json").write_text(json.dumps(record))
    recordless = dest / "lost.bin.cci-partial"  # no record: cannot be resumed
    recordless.write_bytes(b"orphan")
    lone_record = dest / "gone.bin.cci-partial.json"  # its partial file is gone
    lone_record.write_text(json.dumps(record))
    unrelated = dest / "notes.0123abcd.txt"
    unrelated.write_bytes(b"not ours")

    holder = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = (await cci.artifacts.download([item], dest))[0]
        assert result.status is DownloadStatus.DOWNLOADED, result.error
        assert live.read_bytes() == b"in progress"  # locked: a live download's, kept
    finally:
        os.close(holder)

    assert not stale.exists()
    assert not recordless.exists()
    assert not lone_record.exists()
    assert linked.is_symlink() and untouched(target)
    assert resumable.read_bytes() == b"first half"
    assert (dest / "keep.bin.cci-partial.json").exists()
    assert unrelated.read_bytes() == b"not ours"
    assert (dest / "new.txt").read_bytes() == b"new"


async def test_the_sweep_leaves_a_new_empty_temporary_file_to_its_writer(
    hosts: ArtifactServers, cci: CircleCI, tmp_path: Path
) -> None:
    """A writer locks its new file before its first byte: a new, empty, unlocked temporary
    file may be one between its open and its lock, so the sweep leaves it (until it is an hour
    old, when it is taken for abandoned like any other)."""
    dest = dest_of(tmp_path)
    item = hosts.add("new.txt", b"new")
    fresh = dest / "fresh.bin.0000abcd.cci-partial"
    fresh.write_bytes(b"")
    old = dest / "old.bin.0000dcba.cci-partial"
    old.write_bytes(b"")
    os.utime(old, (PAST, PAST))

    result = (await cci.artifacts.download([item], dest))[0]

    assert result.status is DownloadStatus.DOWNLOADED, result.error
    assert fresh.exists()
    assert not old.exists()


# -- the listing: one look per directory ----------------------------------------------------


async def test_a_link_planted_at_a_final_name_during_the_run_is_replaced_not_followed(
    api: FakeCircleCI, hosts: ArtifactServers, tmp_path: Path
) -> None:
    """What is in the way is read from the directory's listing, taken before its first file.
    A link planted after it (a process racing the run) is not looked at again: the rename
    replaces it like any name and nothing is written through it."""
    target = victim(tmp_path)
    dest = dest_of(tmp_path)
    first = hosts.add("first.txt", b"first")
    second = hosts.add("second.txt", b"second")
    planted = dest / "second.txt"

    def plant(event: object) -> None:  # the first file is streaming: the listing is done
        if isinstance(event, events.DownloadStarted) and event.path == "first.txt":
            planted.symlink_to(target)

    results = await download_watched(api.url, hosts, [first, second], dest, plant, concurrency=1)

    assert [r.status for r in results] == [DownloadStatus.DOWNLOADED] * 2, results
    assert untouched(target)
    assert not planted.is_symlink()
    assert planted.read_bytes() == b"second"
    assert leftovers(dest) == []
