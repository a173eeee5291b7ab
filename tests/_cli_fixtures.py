"""The fixtures the command-line tests share: the fake CircleCI (a roomy rate limit, the CLI
tests' token and project), the artifact and storage hosts, and the CA file a child process
needs to trust them. A test module takes them with ``from ._cli_fixtures import api, ...``
(pytest finds fixtures among a module's names); a module that needs another setup defines
its own under the same name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from circleci_async.testing import FakeCircleCI
from circleci_async.testing.artifacts import ArtifactServers

from ._cli_support import ROOMY, SLUG, TOKEN, write_ca

__all__ = ["api", "cafile", "hosts"]


@pytest.fixture
async def api() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN, rate_limit=ROOMY) as server:
        server.add_project(SLUG)
        yield server


@pytest.fixture
async def hosts() -> AsyncIterator[ArtifactServers]:
    async with ArtifactServers(token=TOKEN) as servers:
        yield servers


@pytest.fixture
def cafile(hosts: ArtifactServers, tmp_path: Path) -> Path:
    return write_ca(hosts, tmp_path / "ca.pem")
