"""What CircleCI users look for (issue 14, item 6), the CLI run as a subprocess against the fake
and the artifact hosts: ``artifacts --download``, ``mirror --pipeline`` / ``--job-number``,
``trigger --wait``, links to the web app, shell completion."""

from __future__ import annotations

import asyncio
from pathlib import Path

from circleci_async.cli.errors import ExitCode
from circleci_async.cli.links import job_link, pipeline_link, web_base, workflow_link
from circleci_async.testing import FakeCircleCI, JobPlan, WorkflowPlan
from circleci_async.testing.artifacts import ArtifactServers, GeneratedContent

from ._cli_fixtures import api, cafile, hosts  # noqa: F401 - fixtures, by name
from ._cli_support import SLUG, api_args, child_env, cli, host_args
from .test_cli import seed_artifacts


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


async def test_artifacts_download_fetches_one_jobs_files(
    api: FakeCircleCI, hosts: ArtifactServers, cafile: Path, tmp_path: Path
) -> None:
    newest = seed_artifacts(api, hosts)[-1]
    number = str(newest["compile"]["job_number"])
    args = [*api_args(api), *host_args(hosts, cafile), "artifacts", SLUG, number]
    dest = tmp_path / "job"
    first = await cli(*args, "--download", str(dest), "--json")
    assert first.code == 0, first
    report = first.json()
    assert (report["downloaded"], report["skipped"], report["failed"]) == (2, 0, 0), report
    assert files_under(dest) == ["dist/app.bin", "logs/build.log"]
    assert GeneratedContent(300_000, seed=1).matches_file(str(dest / "dist/app.bin"))
    assert {f["status"] for f in report["files"]} == {"downloaded"}
    again = await cli(*args, "--download", str(dest))
    assert again.code == 0, again
    assert "0 downloaded" in again.out and "2 skipped" in again.out and str(dest) in again.out
    assert not hosts.credential_leaks


async def test_mirror_one_pipeline_or_one_job(
    api: FakeCircleCI, hosts: ArtifactServers, cafile: Path, tmp_path: Path
) -> None:
    seeded = seed_artifacts(api, hosts, pipelines=3)
    middle = seeded[1]
    base = [*api_args(api), *host_args(hosts, cafile), "mirror", SLUG]
    number = middle["pipeline"]["number"]
    job = middle["test"]["job_number"]
    by_pipeline, by_job, both = await asyncio.gather(
        cli(*base, str(tmp_path / "p"), "--pipeline", str(number), "--json"),
        cli(*base, str(tmp_path / "j"), "--job-number", str(job), "--json"),
        cli(*base, str(tmp_path / "x"), "--pipeline", "1", "--job-number", "1"),
    )
    assert by_pipeline.code == 0, by_pipeline
    assert (by_pipeline.json()["pipelines"], by_pipeline.json()["jobs"]) == (1, 2)
    compile_dir = f"{number}/build/compile-{middle['compile']['job_number']}"
    assert files_under(tmp_path / "p") == [
        f"{compile_dir}/dist/app.bin",
        f"{compile_dir}/logs/build.log",
        f"{number}/build/test-{job}/node-0/junit.xml",
        f"{number}/build/test-{job}/node-1/junit.xml",
        "manifest.jsonl",
    ]
    assert by_job.code == 0, by_job
    assert files_under(tmp_path / "j") == [
        f"{number}/build/test-{job}/node-0/junit.xml",
        f"{number}/build/test-{job}/node-1/junit.xml",
        "manifest.jsonl",
    ]
    assert both.code == ExitCode.USAGE and "--pipeline or --job-number" in both.err, both


async def test_trigger_wait_exits_with_the_outcome_and_links_to_the_app(
    api: FakeCircleCI,
) -> None:
    fast = {"seconds": 0.2, "queue_seconds": 0.05}
    poll = ("--wait", "--interval", "0.1")
    api.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", **fast),)))
    good = await cli(*api_args(api), "trigger", SLUG, "--branch", "main", *poll)
    api.set_plan(SLUG, WorkflowPlan("build", (JobPlan("compile", outcome="failed", **fast),)))
    bad = await cli(*api_args(api), "trigger", SLUG, "--branch", "main", *poll, "--json")
    held_plan = WorkflowPlan("deploy", (JobPlan("hold", type="approval", **fast),))
    api.set_plan(SLUG, held_plan)
    held = await cli(*api_args(api), "trigger", SLUG, *poll, "--timeout", "0.5")
    app = api.url.removesuffix("/api/v2")
    assert good.code == 0, good
    assert good.out.startswith("pipeline #1 pending: ") and "pipeline #1: success" in good.out, good
    assert f"{app}/pipelines/github/acme/widgets/1" in good.out, good
    assert f"build: {app}/pipelines/github/acme/widgets/1/workflows/" in good.out, good
    assert bad.code == ExitCode.FAILED, bad
    outcome = bad.json()  # one document: the outcome
    assert (outcome["result"], outcome["pipeline"]["number"]) == ("failed", 2)
    assert outcome["web_url"] == f"{app}/pipelines/github/acme/widgets/2"
    assert held.code == ExitCode.TIMEOUT, held
    assert len([r for r in api.requests if r.method == "POST"]) == 3  # never retried


def test_web_links_for_cloud_and_server_installs() -> None:
    cloud = "https://circleci.com/api/v2"
    assert web_base(cloud) == "https://app.circleci.com"
    assert pipeline_link(cloud, "gh/acme/app", 12) == (
        "https://app.circleci.com/pipelines/github/acme/app/12"
    )
    assert workflow_link(cloud, "bb/acme/app", 12, "w-1") == (
        "https://app.circleci.com/pipelines/bitbucket/acme/app/12/workflows/w-1"
    )
    assert job_link("https://ci.example.com/api/v2", "circleci/o/p", 3, "w", 7) == (
        "https://ci.example.com/pipelines/circleci/o/p/3/workflows/w/jobs/7"
    )


async def test_shell_completion_scripts_and_answers() -> None:
    scripts = await asyncio.gather(*(cli("completion", shell) for shell in ("bash", "zsh", "fish")))
    for run in scripts:
        assert run.code == 0 and "_CIRCLECI_ASYNC_COMPLETE" in run.out, run
    assert "complete " in scripts[0].out  # bash's builtin registers the function
    answer = await cli(
        env=child_env(
            _CIRCLECI_ASYNC_COMPLETE="bash_complete",
            COMP_WORDS="circleci-async mirror gh/a/b out --sk",
            COMP_CWORD="4",
        )
    )
    assert answer.code == 0 and answer.out.split() == ["plain,--skip"], answer
    commands = await cli(
        env=child_env(
            _CIRCLECI_ASYNC_COMPLETE="bash_complete",
            COMP_WORDS="circleci-async ",
            COMP_CWORD="1",
        )
    )
    names = {entry.partition(",")[2] for entry in commands.out.split()}
    assert {"pipelines", "trigger", "wait", "mirror", "completion"} <= names, commands
