"""The suite's fixtures: the shipped pytest plugin's (``fake_circleci``, ``circleci_client``,
exactly what a user gets), plus the two the tests use under short names, built by the plugin's
own helpers with the suite's distinctive token (tests search reprs, logs and requests for it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from circleci_async import CircleCI
from circleci_async.testing import FakeCircleCI

# The suite's one declaration (test modules declare none): the shipped plugin's fixtures, and
# the download tests' loopback servers (``api``, ``hosts``, ``cci``; a module that defines a
# fixture of the same name uses its own).
pytest_plugins = ["circleci_async.testing.pytest_plugin", "tests._download_support"]

# Shared fixtures and helpers of the download tests live in a plain module; let pytest rewrite
# its asserts like a test module's.
pytest.register_assert_rewrite("tests._download_support", "tests._waiting")

#: Accepted by ``fake`` and sent by ``client``; long and unusual, so that finding it anywhere
#: (a repr, a log line, a request to another host) cannot be a coincidence.
TOKEN = "test-token-5d41402abc4b2a76b9719d911017c592"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCircleCI]:
    """The plugin's ``fake_circleci`` (project ``gh/acme/widgets``), accepting :data:`TOKEN`."""
    from circleci_async.testing.pytest_plugin import serve_fake  # after pytest loaded it

    async with serve_fake(TOKEN) as server:
        yield server


@pytest.fixture
async def client(fake: FakeCircleCI) -> AsyncIterator[CircleCI]:
    """The plugin's ``circleci_client`` for :func:`fake` (v2 and runner API, unpaced until the
    server says otherwise, so tests run at loopback speed)."""
    from circleci_async.testing.pytest_plugin import client_for

    async with client_for(fake, TOKEN) as cci:
        yield cci
