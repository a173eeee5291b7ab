"""Ctrl-C and SIGTERM sent to a running ``circleci-async mirror`` child process: one line on
stderr, no traceback, no "never awaited" warning, no partial file left behind."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from circleci_async.cli.errors import ExitCode
from circleci_async.testing import FakeCircleCI, Fault
from circleci_async.testing.artifacts import (
    ArtifactServers,
    GeneratedContent,
    TransferFault,
    serve_artifact_listing,
)

from ._cli_fixtures import api, hosts  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, api_args, finish, host_args, start, write_ca
from ._download_support import leftovers, tree
from ._waiting import wait_until


def seed(api: FakeCircleCI, hosts: ArtifactServers) -> None:
    for index in range(3):
        pipeline = api.add_pipeline(SLUG, "main", created_at=1_700_000_000 + index)
        workflow = api.add_workflow(pipeline["id"], "build")
        for name in ("unit", "lint"):
            job = api.add_job(workflow["id"], name)
            items = [
                hosts.add(f"out/{n}.bin", GeneratedContent(1024 * 1024, seed=n), job=job["id"])
                for n in range(2)
            ]
            serve_artifact_listing(api, SLUG, job["job_number"], items)
    for item in hosts.artifacts:
        hosts.add_fault(item.url, TransferFault("slow", delay=0.02, times=None))


@pytest.mark.parametrize("stage", ["listing", "downloading"])
@pytest.mark.parametrize(
    ("sig", "message"),
    [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated (SIGTERM)")],
)
async def test_a_signal_ends_a_mirror_cleanly(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    tmp_path: Path,
    stage: str,
    sig: signal.Signals,
    message: str,
) -> None:
    seed(api, hosts)
    if stage == "listing":
        api.inject(Fault("delay", delay=2.0, path=r"/workflow/[^/]+/job", times=100))
    cafile = write_ca(hosts, tmp_path / "ca.pem")
    dest = tmp_path / "mirror"
    args = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG, str(dest)]
    child = await start(*args)
    try:
        if stage == "listing":
            await wait_until(
                lambda: any(r.path.endswith("/job") for r in api.requests), 30, what="listing"
            )
        else:
            await wait_until(lambda: leftovers(dest), 30, what="a partial file")
    except BaseException:
        child.kill()
        await child.wait()
        raise
    child.send_signal(sig)
    run = await finish(child)
    assert run.code == ExitCode.INTERRUPTED, run
    assert "Traceback" not in run.err and "never awaited" not in run.err, run
    assert run.err.strip() == f"circleci-async: error: {message}", run
    assert leftovers(dest) == []
    if stage == "listing":
        assert [p for p in tree(dest) if p.endswith(".bin")] == []
