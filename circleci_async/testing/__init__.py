"""A fake CircleCI API v2 and runner API server, for testing code that talks to CircleCI without
the network.

:class:`FakeCircleCI` is a real ``aiohttp.web`` application listening on loopback, so a client
is exercised over TCP exactly as in production: authentication, pagination, rate limiting with
CircleCI's two header systems, and injected faults (error statuses, gateway text bodies, delays,
dropped connections, broken JSON). It is independent of the ``circleci_async`` client.

It answers every operation of both specs, statefully: a triggered pipeline runs its project's
plan (:class:`WorkflowPlan` of :class:`JobPlan`; build then test by default), its jobs queue,
run and finish as the fake's clock moves (:meth:`FakeCircleCI.advance`, :meth:`~FakeCircleCI.settle`),
approvals hold until approved, and Insights aggregate what finished. Contexts, schedules,
webhooks, settings, policies, deploys and runner resource classes are kept as created.

Example::

    import aiohttp
    from circleci_async.testing import FakeCircleCI, Fault, RateLimitPolicy

    async def test_walk() -> None:
        async with FakeCircleCI(token="t", rate_limit=RateLimitPolicy.circleci()) as fake:
            fake.add_project("gh/acme/widgets")
            fake.seed_pipelines("gh/acme/widgets", count=100)
            fake.inject(Fault("status", status=503, headers={"Retry-After": "1"}))
            async with aiohttp.ClientSession(headers={"Circle-Token": "t"}) as http:
                url = f"{fake.url}/project/gh/acme/widgets/pipeline"
                async with http.get(url) as resp:
                    assert resp.status == 503
                async with http.get(url, params={"branch": "dev"}) as resp:
                    page = await resp.json()
            assert len(page["items"]) == 20 and page["next_page_token"]
            assert [r.path for r in fake.requests] == [
                "/api/v2/project/gh/acme/widgets/pipeline"
            ] * 2

With pytest, ``pytest_plugins = ["circleci_async.testing.pytest_plugin"]`` provides a started
``fake_circleci`` fixture; ``python -m circleci_async.testing`` serves one from the command line.
"""

from ._faults import Fault
from ._plans import DEFAULT_PLAN, JobPlan, WorkflowPlan
from ._ratelimit import RateLimitDecision, RateLimitLedger, RateLimitPolicy, Window, render_headers
from ._server import FakeCircleCI, RecordedRequest, ScaledClock

__all__ = [
    "DEFAULT_PLAN",
    "FakeCircleCI",
    "Fault",
    "JobPlan",
    "RateLimitDecision",
    "RateLimitLedger",
    "RateLimitPolicy",
    "RecordedRequest",
    "ScaledClock",
    "Window",
    "WorkflowPlan",
    "render_headers",
]
