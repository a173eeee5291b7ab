"""The README's code, run as a new user would run it, against the fake servers.

- The install, demo and test commands are run by ``.ci/run`` itself, read from the README by
  ``.ci/readme_commands.py``; here we check that reader finds them.
- "A first program" runs as a script in a child process, with ``CIRCLECI_TOKEN`` and
  ``CIRCLECI_BASE_URL`` pointing at the fake (the only change a user would make is the token).
- Every ``circleci-async`` line of "The command line" runs as written, except that the example
  pipeline id is replaced by a real one.
- The fake-server example is executed and its test function awaited.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from circleci_async.testing import FakeCircleCI, JobPlan, RateLimitPolicy, Window, WorkflowPlan
from circleci_async.testing.artifacts import ArtifactServers, serve_artifact_listing

from ._cli_support import Run, child_env, finish, spawn

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOKEN = "readme-token-5d1c0e9a7b"
SLUG = "gh/acme/app"
JOBS = 40  # job numbers given artifact listings: more than the README's pipelines use
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def block_after(marker: str, language: str) -> str:
    """The fenced block right after an HTML comment marker."""
    _, found, rest = README.partition(f"<!-- {marker} -->")
    assert found, f"README has no <!-- {marker} --> marker"
    match = re.match(rf"\s*```{language}\n(.*?)```", rest, re.S)
    assert match is not None, f"no ```{language} block after <!-- {marker} -->"
    return match.group(1)


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def load_ci_reader() -> Any:
    spec = importlib.util.spec_from_file_location(
        "readme_commands", ROOT / ".ci/readme_commands.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_runs_the_install_demo_and_test_commands_as_written() -> None:
    commands = load_ci_reader().commands(README)
    assert commands == [
        'python -m pip install -e ".[cli]"',
        "circleci-async demo",
        'python -m pip install -e ".[dev]"',
        "python -m pytest",
    ]
    ci = (ROOT / ".ci/run").read_text()
    assert "readme_commands.py README.md" in ci


def test_the_ci_reader_refuses_a_marker_without_a_block() -> None:
    with pytest.raises(ValueError, match="bash block"):
        load_ci_reader().commands("<!-- ci: run -->\nsome prose\n")


# -- against the fake ----------------------------------------------------------------------


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeCircleCI, ArtifactServers]]:
    """A project whose pipelines on main run a quick build-and-test, and whose jobs have
    artifacts on an artifact host that redirects to a storage host, both on plain loopback
    addresses so a child process reaches them without any option."""
    roomy = RateLimitPolicy(windows=(Window(5000, 1),))
    async with (
        FakeCircleCI(token=TOKEN, rate_limit=roomy) as fake,
        ArtifactServers(
            tls=False, artifact_host="127.0.0.1", storage_host="127.0.0.1", with_ports=True
        ) as hosts,
    ):
        fake.add_project(SLUG)
        fake.setup_seconds = 0.1
        fake.set_plan(
            SLUG,
            WorkflowPlan(
                "build-and-test",
                (
                    JobPlan("build", seconds=0.3, queue_seconds=0.1),
                    JobPlan("test", requires=("build",), seconds=0.3, queue_seconds=0.1),
                ),
            ),
        )
        for number in range(1, JOBS + 1):
            job = f"00000000-0000-4000-8000-{number:012d}"
            serve_artifact_listing(
                fake,
                SLUG,
                number,
                [
                    hosts.add(f"results/junit-{number}.xml", b"<testsuite/>", job=job),
                    hosts.add(f"logs/job-{number}.log", b"ok\n" * 1000, job=job),
                ],
            )
        for _ in range(3):
            fake.trigger_pipeline(SLUG, "main")
        fake.settle()
        yield fake, hosts


def env_for(fake: FakeCircleCI) -> dict[str, str]:
    return child_env(TOKEN, CIRCLECI_BASE_URL=fake.url)


async def run_child(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Run:
    return await finish(await spawn(*args, env=env, cwd=cwd), timeout)


async def test_the_first_program_lists_triggers_waits_and_downloads(
    world: tuple[FakeCircleCI, ArtifactServers], tmp_path: Path
) -> None:
    fake, hosts = world
    script = tmp_path / "first.py"
    script.write_text(block_after("readme-test: example", "python"))
    run = await run_child([str(script)], env_for(fake), tmp_path, timeout=60)
    assert run.code == 0, run
    lines = run.out.splitlines()
    # the three pipelines already there, newest first, then the outcome of the new one
    assert [line.split()[0] for line in lines[:3]] == ["3", "2", "1"], run
    assert lines[3] == "succeeded", run
    # both jobs of the new pipeline (numbers 7 and 8) were downloaded into out/<job name>
    for job, number in (("build", 7), ("test", 8)):
        assert (tmp_path / f"out/{job}/results/junit-{number}.xml").read_bytes() == b"<testsuite/>"
        assert (tmp_path / f"out/{job}/logs/job-{number}.log").stat().st_size == 3000
    assert sum(line.startswith("downloaded ") for line in lines[4:]) == 4, run
    created = [r for r in fake.requests if r.method == "POST"]
    assert len(created) == 1 and created[0].json()["branch"] == "main"
    assert created[0].json()["parameters"] == {"deploy": True}
    assert not hosts.credential_leaks


def cli_lines() -> list[list[str]]:
    lines = []
    for line in section("The command line").splitlines():
        if line.startswith("circleci-async "):
            lines.append(shlex.split(line, comments=True)[1:])
    return lines


def test_the_command_line_section_shows_every_command() -> None:
    shown = {args[0] for args in cli_lines()}
    assert {
        "pipelines",
        "trigger",
        "wait",
        "artifacts",
        "mirror",
        "insights",
        "rate-limit",
    } <= shown


async def test_the_command_line_examples_run_as_written(
    world: tuple[FakeCircleCI, ArtifactServers], tmp_path: Path
) -> None:
    fake, _ = world
    pipelines = await _pipeline_ids(fake)
    env = env_for(fake)
    for args in cli_lines():
        args = [UUID.sub(pipelines[0], arg) for arg in args]
        run = await run_child(["-m", "circleci_async", *args], env, tmp_path, timeout=60)
        assert run.code == 0, f"circleci-async {shlex.join(args)}\n{run}"
        if args[0] == "mirror":
            mirrored = {p.name for p in (tmp_path / "mirror").rglob("*.xml")}
            # every job of the 3 seeded pipelines (and of the one triggered above, if it is
            # done by now); only the *.xml artifacts were included
            assert len(mirrored) >= 6, mirrored
            assert mirrored == {f"junit-{n}.xml" for n in range(1, len(mirrored) + 1)}
            assert not list((tmp_path / "mirror").rglob("*.log"))
        if args[0] == "trigger":
            assert run.out.startswith("pipeline #4 "), run
            posted = [r for r in fake.requests if r.method == "POST"][-1].json()
            assert posted["parameters"] == {"deploy": True, "replicas": 3}
        if args[0] == "pipelines":
            assert "main" in run.out and len(run.out.splitlines()) >= 3, run
        if args[0] == "artifacts":
            assert run.json() == [], run  # job 1234 exists nowhere: an empty list, not an error


async def _pipeline_ids(fake: FakeCircleCI) -> list[str]:
    from circleci_async import CircleCI

    async with CircleCI(TOKEN, base_url=fake.url) as cci:
        return [str(p.id) for p in await cci.pipelines.list_for_project(SLUG).collect()]


async def test_the_fake_server_example_passes() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block_after("readme-test: fake", "python"), "README.md", "exec"), namespace)  # noqa: S102
    await namespace["test_my_poller"]()
