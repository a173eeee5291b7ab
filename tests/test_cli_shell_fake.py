"""``python -m circleci_async.testing`` as a user starts it from a shell (issue 14, item 7): it
says what it serves (URL, token, project, artifact and storage hosts, an ``export`` line), and
with only that ``export`` the README's commands work against it, artifacts and mirror
included."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

from ._cli_support import Run, child_env, finish, spawn

PROJECT = "gh/acme/app"


async def _described(process: asyncio.subprocess.Process) -> tuple[str, list[str]]:
    """The READY line and the description on stderr, up to its last line."""
    assert process.stdout is not None and process.stderr is not None
    ready = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
    lines: list[str] = []
    for _ in range(50):  # bounded: the description is a dozen lines
        text = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
        assert text, lines
        lines.append(text.rstrip("\n"))
        if "circleci-async mirror" in text:
            break
    return ready, lines


async def test_the_shell_fake_says_what_it_serves_and_the_commands_work(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "circleci_async.testing",
        "--port",
        "0",
        "--project",
        PROJECT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(token=None),
    )
    try:
        ready, lines = await _described(process)
        assert ready.startswith("READY http://127.0.0.1:"), ready
        url = ready.split()[1]
        assert f"fake CircleCI API v2 at {url}" in lines[0]
        assert "token: test-token" in lines
        assert f"project: {PROJECT}" in lines
        assert any(t.startswith("artifacts: ") and "storage host" in t for t in lines), lines
        export = next(t for t in lines if t.strip().startswith("export "))
        variables = dict(word.split("=", 1) for word in shlex.split(export)[1:])
        assert variables["CIRCLECI_BASE_URL"] == url
        assert variables["CIRCLECI_TOKEN"] == "test-token"
        env = child_env(token=None, **variables)

        async def run(*args: str) -> Run:
            proc = await spawn("-m", "circleci_async", *args, env=env, cwd=tmp_path)
            return await finish(proc, 60)

        listed = await run("pipelines", PROJECT, "--json")
        assert listed.code == 0 and listed.json(), listed
        files = await run("artifacts", PROJECT, "1", "--json")
        assert files.code == 0 and len(files.json()) >= 1, files
        mirrored = await run("mirror", PROJECT, "./mirror", "--json")
        assert mirrored.code == 0, mirrored
        report = mirrored.json()
        assert report["ok"] and report["failed"] == 0 and report["downloaded"] >= 30, report
        assert len([p for p in (tmp_path / "mirror").rglob("*") if p.is_file()]) == (
            report["downloaded"] + 1  # and the manifest
        )
    finally:
        assert process.stdin is not None
        process.stdin.close()  # its lifeline: it stops when stdin closes
        try:
            code = await asyncio.wait_for(process.wait(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert code == 0
