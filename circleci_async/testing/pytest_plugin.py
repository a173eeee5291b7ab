"""pytest fixtures for the fake server.

Enable with ``pytest_plugins = ["circleci_async.testing.pytest_plugin"]`` in your top-level
conftest.py (install the ``testing`` extra: ``pip install "circleci-async[testing]"``). pytest
and pytest-asyncio are imported only here, so the fake itself needs neither.

* ``fake_circleci_token``: the token the fake accepts and the client sends, ``test-token``;
  override this fixture to use another one.
* ``fake_circleci``: a started :class:`FakeCircleCI` accepting that token, with the project
  ``gh/acme/widgets``.
* ``circleci_client``: a :class:`~circleci_async.CircleCI` pointed at it (v2 and runner API),
  unpaced until the fake advertises limits, so tests run at loopback speed.

The fixtures are thin wrappers over :func:`serve_fake` and :func:`client_for`, for fixtures of
your own that need another project or client settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from ._server import FakeCircleCI

if TYPE_CHECKING:
    from circleci_async import CircleCI

__all__ = [
    "DEFAULT_PROJECT",
    "TOKEN",
    "circleci_client",
    "client_for",
    "fake_circleci",
    "fake_circleci_token",
    "serve_fake",
]

TOKEN = "test-token"  # noqa: S105 - the fake's token, not a secret
DEFAULT_PROJECT = "gh/acme/widgets"


@asynccontextmanager
async def serve_fake(
    token: str = TOKEN, projects: Iterable[str] = (DEFAULT_PROJECT,), **options: Any
) -> AsyncIterator[FakeCircleCI]:
    """A started fake accepting ``token``, with ``projects`` added; ``options`` go to
    :class:`FakeCircleCI` (rate limits, clock...)."""
    async with FakeCircleCI(token=token, **options) as fake:
        for slug in projects:
            fake.add_project(slug)
        yield fake


@asynccontextmanager
async def client_for(
    fake: FakeCircleCI, token: str = TOKEN, **options: Any
) -> AsyncIterator[CircleCI]:
    """A client for ``fake`` (its v2 and runner API), unpaced unless ``options`` say otherwise;
    ``options`` go to :class:`~circleci_async.CircleCI`. The client is imported lazily: the
    fake does not need it."""
    from circleci_async import CircleCI, RateLimitConfig

    options.setdefault("rate_limit", RateLimitConfig(initial_rate=None))
    async with CircleCI(
        token, base_url=fake.url, runner_base_url=fake.runner_url, **options
    ) as client:
        yield client


@pytest.fixture
def fake_circleci_token() -> str:
    """The token of :func:`fake_circleci` and :func:`circleci_client`; override to change it."""
    return TOKEN


@pytest_asyncio.fixture
async def fake_circleci(fake_circleci_token: str) -> AsyncIterator[FakeCircleCI]:
    """A started fake accepting :func:`fake_circleci_token`, with the project
    ``gh/acme/widgets``."""
    async with serve_fake(fake_circleci_token) as fake:
        yield fake


@pytest_asyncio.fixture
async def circleci_client(
    fake_circleci: FakeCircleCI, fake_circleci_token: str
) -> AsyncIterator[CircleCI]:
    """A client for :func:`fake_circleci`."""
    async with client_for(fake_circleci, fake_circleci_token) as client:
        yield client
