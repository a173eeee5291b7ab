"""The demo's world: pipelines of a build, parallel unit tests and parallel browser tests, each
job with artifacts of every size served through the artifact and storage hosts.

One seeding for ``circleci-async demo`` (in process) and ``python -m circleci_async.testing``
(from a shell), so both show the same project.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import attrs

from ._server import FakeCircleCI
from .artifacts import ArtifactServers, GeneratedContent, serve_artifact_listing

__all__ = ["DEMO_PROJECT", "seed_demo"]

DEMO_PROJECT = "gh/demo/widgets"
KiB = 1024
MiB = 1024 * KiB


@attrs.frozen
class _Job:
    workflow: str
    name: str
    parallelism: int
    status: str = "success"


# What each pipeline runs: a build, parallel unit tests, parallel browser tests.
_JOBS = (
    _Job("build", "compile", 1),
    _Job("build", "unit-tests", 4),
    _Job("e2e", "browser-tests", 3),
)


def _artifacts(job: _Job, node: int, rng: random.Random) -> Iterator[tuple[str, Any]]:
    """``(path, content)`` for one node of a job: small text, mid-size images, big binaries."""
    if job.name == "compile":
        yield (
            "dist/widgets.tar.gz",
            GeneratedContent(rng.randint(1 * MiB, 3 * MiB), rng.getrandbits(16)),
        )
        yield "build.log", (f"compiling widgets on node {node}\n" * rng.randint(20, 400)).encode()
    elif job.name == "unit-tests":
        cases = rng.randint(20, 200)
        yield (
            "results/junit.xml",
            (
                f'<testsuite name="unit" tests="{cases}" node="{node}">'
                + "".join(f'<testcase name="test_{i}"/>' for i in range(cases))
                + "</testsuite>"
            ).encode(),
        )
        yield (
            f"coverage/coverage-{node}.json",
            GeneratedContent(rng.randint(40 * KiB, 300 * KiB), node),
        )
        yield "logs/pytest.log", (f"node {node}: PASSED\n" * rng.randint(50, 500)).encode()
    else:
        for shot in range(4):
            yield (
                f"screenshots/page-{shot}.png",
                GeneratedContent(rng.randint(60 * KiB, 700 * KiB), shot),
            )
        yield "video/run.mp4", GeneratedContent(rng.randint(512 * KiB, 2 * MiB), 99)
        yield "results/junit.xml", f'<testsuite name="e2e" node="{node}"/>'.encode()


def _per_pipeline() -> int:
    rng = random.Random(0)
    return sum(len(list(_artifacts(j, n, rng))) for j in _JOBS for n in range(j.parallelism))


def seed_demo(
    api: FakeCircleCI,
    hosts: ArtifactServers,
    files: int,
    *,
    seed: int = 7,
    project: str = DEMO_PROJECT,
) -> int:
    """Pipelines (an hour apart, the newest now) with workflows, parallel jobs and about
    ``files`` artifacts, in ``project`` (which must exist); returns the number of artifacts
    served."""
    rng = random.Random(seed)
    pipelines = max(1, round(files / _per_pipeline()))
    now = time.time()
    served = 0
    for index in range(pipelines):
        branch = "main" if index % 3 else "feature/faster-widgets"
        pipeline = api.add_pipeline(project, branch, created_at=now - (pipelines - index) * 3600)
        workflows: dict[str, dict[str, Any]] = {}
        for spec in _JOBS:
            if spec.workflow not in workflows:
                failed = spec.workflow == "e2e" and index % 4 == 1
                workflows[spec.workflow] = api.add_workflow(
                    pipeline["id"], spec.workflow, "failed" if failed else "success"
                )
            job = api.add_job(
                workflows[spec.workflow]["id"],
                spec.name,
                spec.status,
                parallelism=spec.parallelism,
            )
            items = [
                hosts.add(path, content, node_index=node, job=job["id"])
                for node in range(spec.parallelism)
                for path, content in _artifacts(spec, node, rng)
            ]
            serve_artifact_listing(api, project, job["job_number"], items)
            served += len(items)
    return served
