"""pytest fixtures for the fake server.

Enable with ``pytest_plugins = ["circleci_async.testing.pytest_plugin"]`` in a conftest.py.
pytest and pytest-asyncio are imported only here, so the fake itself needs neither.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._server import FakeCircleCI

__all__ = ["fake_circleci"]


@pytest_asyncio.fixture
async def fake_circleci() -> AsyncIterator[FakeCircleCI]:
    """A started fake accepting ``test-token``, with the project ``gh/acme/widgets``."""
    async with FakeCircleCI(token="test-token") as fake:  # noqa: S106 - not a secret
        fake.add_project("gh/acme/widgets")
        yield fake
