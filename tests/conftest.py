from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from circleci_async import CircleCI, RateLimitConfig
from circleci_async.testing import FakeCircleCI

# Shared fixtures and helpers of the download tests live in a plain module; let pytest rewrite
# its asserts like a test module's.
pytest.register_assert_rewrite("tests._download_support", "tests._waiting")

TOKEN = "test-token-5d41402abc4b2a76b9719d911017c592"


@pytest.fixture
async def fake() -> AsyncIterator[FakeCircleCI]:
    async with FakeCircleCI(token=TOKEN) as server:
        server.add_project("gh/acme/widgets")
        yield server


@pytest.fixture
async def client(fake: FakeCircleCI) -> AsyncIterator[CircleCI]:
    # Unpaced until the server says otherwise, so tests run at loopback speed.
    async with CircleCI(
        TOKEN, base_url=fake.url, rate_limit=RateLimitConfig(initial_rate=None)
    ) as cci:
        yield cci
