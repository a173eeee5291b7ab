"""pytest fixtures for the fake server.

Enable with ``pytest_plugins = ["circleci_async.testing.pytest_plugin"]`` in your top-level
conftest.py. pytest and pytest-asyncio are imported only here, so the fake itself needs neither.

* ``fake_circleci``: a started :class:`FakeCircleCI` accepting ``test-token``, with the project
  ``gh/acme/widgets``.
* ``circleci_client``: a :class:`~circleci_async.CircleCI` pointed at it (v2 and runner API),
  unpaced until the fake advertises limits, so tests run at loopback speed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest_asyncio

from ._server import FakeCircleCI

if TYPE_CHECKING:
    from circleci_async import CircleCI

__all__ = ["circleci_client", "fake_circleci"]

TOKEN = "test-token"  # noqa: S105 - the fake's token, not a secret


@pytest_asyncio.fixture
async def fake_circleci() -> AsyncIterator[FakeCircleCI]:
    """A started fake accepting ``test-token``, with the project ``gh/acme/widgets``."""
    async with FakeCircleCI(token=TOKEN) as fake:
        fake.add_project("gh/acme/widgets")
        yield fake


@pytest_asyncio.fixture
async def circleci_client(fake_circleci: FakeCircleCI) -> AsyncIterator[CircleCI]:
    """A client for :func:`fake_circleci` (imported lazily: the fake does not need the client)."""
    from circleci_async import CircleCI, RateLimitConfig

    async with CircleCI(
        TOKEN,
        base_url=fake_circleci.url,
        runner_base_url=f"{fake_circleci.root_url}/api/v3",
        rate_limit=RateLimitConfig(initial_rate=None),
    ) as client:
        yield client
