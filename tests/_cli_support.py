"""Running the command line as a subprocess against servers in the test's event loop.

The fake API and the artifact hosts run in the test process; the CLI runs as
``python -m circleci_async`` in a child process, started with asyncio so the loop keeps serving
while the child talks to it. The child reaches the artifact hosts, which live under their
production names, through ``--connect-to`` and trusts their throwaway CA through ``--cacert``:
the same options a user of a server install behind a proxy would use.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import attrs

from circleci_async.testing import FakeCircleCI, RateLimitPolicy, Window
from circleci_async.testing.artifacts import ArtifactServers

TOKEN = "cli-token-9f2e7d41c3b84a06"
SLUG = "gh/acme/widgets"
#: Generous enough never to bind, so the child's limiter is not stuck at its cautious initial
#: pace for want of headers.
ROOMY = RateLimitPolicy(windows=(Window(5000, 1),))


@attrs.frozen
class Run:
    """A finished CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def __str__(self) -> str:  # shown by pytest when an assert on a run fails
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


#: Settings a developer's shell may hold that would change what a child does.
AMBIENT = (
    "CIRCLECI_TOKEN",
    "CIRCLE_TOKEN",
    "CIRCLECI_BASE_URL",
    "CIRCLECI_CLI_TOKEN",
    "CIRCLECI_CLI_HOST",
    "CIRCLECI_ARTIFACT_ORIGINS",
)


def child_env(token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AMBIENT}
    env.pop("COLUMNS", None)
    env["NO_COLOR"] = "1"
    # no official-CLI settings of the developer's (~/.circleci/cli.yml) reach a child
    env["HOME"] = str(Path(__file__).parent / "no-such-home")
    env["PYTHONUNBUFFERED"] = "1"
    if token is not None:
        env["CIRCLECI_TOKEN"] = token
    env.update(extra)
    return env


async def spawn(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> asyncio.subprocess.Process:
    """``python <args>`` with its output captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env if env is not None else child_env(),
        cwd=cwd,
    )


async def start(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await spawn("-m", "circleci_async", *args, env=env)


async def finish(proc: asyncio.subprocess.Process, timeout: float = 30.0) -> Run:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 30.0) -> Run:
    return await finish(await start(*args, env=env), timeout)


async def python(code: str) -> Run:
    return await finish(await spawn("-c", code))


def api_args(api: FakeCircleCI) -> list[str]:
    return ["--base-url", api.url, "--runner-url", api.runner_url]


def host_args(hosts: ArtifactServers, cafile: Path) -> list[str]:
    """What the child needs to reach the artifact hosts as the test process does."""
    args = [
        "--connect-to",
        f"{hosts.artifact_host}::127.0.0.1:{hosts.artifact_port}",
        "--connect-to",
        f"{hosts.storage_host}::127.0.0.1:{hosts.storage_port}",
    ]
    if hosts.client_ssl is not None:
        args += ["--cacert", str(cafile)]
    return args


def write_ca(hosts: ArtifactServers, path: Path) -> Path:
    """The hosts' throwaway CA as a PEM file (the client context also holds the system CAs;
    only trustme's is written)."""
    pem = []
    if hosts.client_ssl is not None:
        certs = hosts.client_ssl.get_ca_certs(binary_form=False)
        der = hosts.client_ssl.get_ca_certs(binary_form=True)
        for info, blob in zip(certs, der, strict=True):
            subject = str(info.get("subject", ""))
            if "trustme" in subject:
                pem.append(ssl.DER_cert_to_PEM_cert(blob))
        assert pem, "the trustme CA was not found in the client context"
    path.write_text("".join(pem))
    return path
