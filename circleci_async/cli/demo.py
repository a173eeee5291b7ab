"""``circleci-async demo``: the mirror command against a fake CircleCI, in this process.

It shows what the library does where it matters, without a token or the network: the fake API
(:class:`~circleci_async.testing.FakeCircleCI`) enforces a per-second rate limit in CircleCI's
two header systems, so the client's limiter visibly paces; artifacts live on an artifact host
that redirects to a storage host under their production names (over TLS with a throwaway CA
when trustme is installed), and the storage host records any request carrying credentials.
The mirror itself is :func:`~.mirroring.run_mirror`, the same call the ``mirror`` command makes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from rich.text import Text
from rich.tree import Tree

from ..testing import FakeCircleCI, RateLimitPolicy
from ..testing.artifacts import ArtifactServers
from ..testing.demo import DEMO_PROJECT, seed_demo
from .errors import ExitCode
from .listing import ListingCounter, trace_config
from .mirroring import MirrorFilters, run_mirror, summary_table
from .render import emit_json, human_bytes, line, stderr_console, stdout_console
from .session import Settings, open_client
from .terminal import printable

__all__ = ["DEMO_PROJECT", "run_demo", "seed_demo"]

DEMO_TOKEN = "demo-token-not-a-secret"  # noqa: S105 - the in-process fake's token


def _tree(root: Path, *, shown: int = 3) -> tuple[Tree, int, int]:
    """A short tree of ``root`` (the first ``shown`` pipelines in full, then counts), with the
    total number of files and bytes."""
    totals: dict[Path, tuple[int, int]] = {}
    count = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            length = path.stat().st_size
            count, size = count + 1, size + length
            for parent in path.relative_to(root).parents:
                files, total = totals.get(parent, (0, 0))
                totals[parent] = (files + 1, total + length)
    tree = Tree(
        Text.assemble((printable(str(root)), "bold"), f"  {count} files, {human_bytes(size)}")
    )
    entries = sorted(root.iterdir(), key=lambda p: (p.is_file(), _number_first(p.name)))
    pipelines = [p for p in entries if p.is_dir()]
    for pipeline_dir in pipelines[:shown]:
        files, total = totals.get(pipeline_dir.relative_to(root), (0, 0))
        branch = tree.add(line(f"{pipeline_dir.name}/  {files} files, {human_bytes(total)}"))
        for workflow in sorted(pipeline_dir.iterdir()):
            wf_files, wf_total = totals.get(workflow.relative_to(root), (0, 0))
            node = branch.add(line(f"{workflow.name}/  {wf_files} files, {human_bytes(wf_total)}"))
            for job in sorted(workflow.iterdir()):
                job_files, _ = totals.get(job.relative_to(root), (0, 0))
                node.add(line(f"{job.name}/  {job_files} files"))
    if len(pipelines) > shown:
        tree.add(f"... {len(pipelines) - shown} more pipeline directories")
    for path in entries:
        if path.is_file():
            tree.add(line(f"{path.name}  {human_bytes(path.stat().st_size)}"))
    return tree, count, size


def _number_first(name: str) -> tuple[int, str]:
    return (-int(name), name) if name.isdigit() else (0, name)


async def run_demo(
    *, dest: str | None, files: int, rate: int, as_json: bool, keep: bool = False
) -> int:
    """Serve, seed, mirror, report. Exit code 1 if any file failed or a credential leaked.
    Without ``dest`` the mirror goes to a new temporary directory, removed at the end (it holds
    tens of megabytes) unless ``keep``; a ``dest`` of the user's is always kept."""
    if dest is not None:
        return await _run(dest, files=files, rate=rate, as_json=as_json, kept=True)
    target = tempfile.mkdtemp(prefix="circleci-async-demo-")
    try:
        return await _run(target, files=files, rate=rate, as_json=as_json, kept=keep)
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)


async def _run(target: str, *, files: int, rate: int, as_json: bool, kept: bool) -> int:
    err = stderr_console()
    policy = RateLimitPolicy.circleci(per_second=rate, per_minute=max(600, rate * 60))
    async with (
        FakeCircleCI(token=DEMO_TOKEN, rate_limit=policy) as api,
        ArtifactServers(token=DEMO_TOKEN) as hosts,
    ):
        api.add_project(DEMO_PROJECT)
        served = seed_demo(api, hosts, files)
        if not as_json:
            err.print(
                f"fake CircleCI at {api.url} ({rate} requests/s per token), {served} artifacts "
                f"on {hosts.scheme}://{hosts.artifact_host} → {hosts.storage_host}"
                + (" (TLS, throwaway CA)" if hosts.tls else ""),
                style="dim",
                highlight=False,
            )
        settings = Settings(token=DEMO_TOKEN, base_url=api.url, runner_url=api.runner_url)
        listing = ListingCounter()
        async with (
            hosts.session(trace_configs=[trace_config(listing)]) as http,
            open_client(settings, session=http, token_origins=hosts.token_origins) as cci,
        ):
            report = await run_mirror(
                cci,
                DEMO_PROJECT,
                target,
                MirrorFilters(),
                live=not as_json and sys.stderr.isatty(),
                listing=listing,
            )
        leaks = len(hosts.credential_leaks)
        storage = len(hosts.storage_requests)
        with_token = sum(1 for r in hosts.artifact_requests if r.carries_credentials)
        artifact = len(hosts.artifact_requests)
    tree, on_disk, disk_bytes = _tree(Path(report.result.dest))
    ok = report.ok and leaks == 0
    if as_json:
        emit_json(
            {
                "ok": ok,
                "dest": report.result.dest,
                "kept": kept,
                "served": served,
                "files_on_disk": on_disk,
                "bytes_on_disk": disk_bytes,
                "mirror": report.to_json(),
                "artifact_host": {"requests": artifact, "with_token": with_token},
                "storage_host": {"requests": storage, "with_credentials": leaks},
                "rate_limit": f"{rate}/s",
            }
        )
        return ExitCode.OK if ok else ExitCode.FAILED
    out = stdout_console()
    out.print(summary_table(report))
    out.print(tree)
    if leaks == 0:
        out.print(
            f"[green]✓[/] storage host received {storage} requests, none with credentials "
            f"(the token went only to the artifact host: {with_token} of {artifact} requests)"
        )
    else:
        out.print(f"[red]✗ {leaks} of {storage} storage-host requests carried credentials[/]")
    if kept:
        out.print(line(f"mirrored into {report.result.dest}"))
    else:
        out.print(line(f"mirrored into {report.result.dest} (removed now; --keep keeps it)"))
    return ExitCode.OK if ok else ExitCode.FAILED
