"""The client end to end, over TCP against the project's fake CircleCI server."""

from __future__ import annotations

import asyncio
import base64
import gc
import inspect
import logging
import traceback
from email.utils import formatdate
from typing import Any

import attrs
import pytest

from circleci_async import (
    AdaptiveLimiter,
    AsyncPaginator,
    CircleCI,
    RateLimitConfig,
    RetryConfig,
    Timeouts,
)
from circleci_async.errors import (
    APIError,
    BadRequest,
    ConfigurationError,
    Conflict,
    ConnectError,
    DecodeError,
    Forbidden,
    MaxWaitExceeded,
    NotFound,
    RateLimitExceeded,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
    UnprocessableEntity,
)
from circleci_async.testing import FakeCircleCI, Fault, RateLimitPolicy, Window

from ._waiting import wait_until
from .conftest import TOKEN

UNPACED = RateLimitConfig(initial_rate=None)
SLUG = "gh/acme/widgets"


class Clock:
    """A clock that moves only when the test moves it. Given to a limiter, its gate opens when
    the test says so, and the seconds it reports waiting are exactly the steps the test took:
    waits are asserted as counts, whatever the machine's speed."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def held(cci: CircleCI, call: asyncio.Task[Any], *, sent: int) -> bool:
    """``call`` has started, ``cci`` has sent ``sent`` requests, none is in flight, and the call
    is suspended: it waits at the limiter (a slot is free, so nothing else holds it).

    Between reading an answer and sending the next request the client does not yield to the
    loop, so a client that did not wait is never seen in this state.
    """
    return (
        inspect.getcoroutinestate(call.get_coro()) == inspect.CORO_SUSPENDED  # type: ignore[arg-type]
        and cci.stats.requests == sent
        and cci.rate_limit.in_flight == 0
    )


# -- construction and auth ---------------------------------------------------------------------


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRCLECI_TOKEN", raising=False)
    monkeypatch.delenv("CIRCLE_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="CIRCLECI_TOKEN"):
        CircleCI()


def test_token_env_fallback_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCLE_TOKEN", "second-choice")
    monkeypatch.setenv("CIRCLECI_TOKEN", "first-choice")
    assert CircleCI()._auth.headers_for(CircleCI().base_url)["Circle-Token"] == "first-choice"
    monkeypatch.delenv("CIRCLECI_TOKEN")
    assert CircleCI()._auth.headers_for(CircleCI().base_url)["Circle-Token"] == "second-choice"


def test_base_urls_from_arguments_environment_or_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CIRCLECI_BASE_URL", raising=False)
    monkeypatch.delenv("CIRCLECI_RUNNER_URL", raising=False)
    cloud = CircleCI(TOKEN)
    assert str(cloud.base_url) == "https://circleci.com/api/v2"
    assert str(cloud.runner_base_url) == "https://runner.circleci.com/api/v3"
    # a server install: the runner API lives on the same host
    monkeypatch.setenv("CIRCLECI_BASE_URL", "https://ci.example.com/api/v2/")
    server = CircleCI(TOKEN)
    assert str(server.base_url) == "https://ci.example.com/api/v2"
    assert str(server.runner_base_url) == "https://ci.example.com/api/v3"
    monkeypatch.setenv("CIRCLECI_RUNNER_URL", "https://runner.example.com/api/v3")
    assert str(CircleCI(TOKEN).runner_base_url) == "https://runner.example.com/api/v3"
    # arguments beat the environment
    explicit = CircleCI(TOKEN, base_url="http://127.0.0.1:1/api/v2", runner_base_url=None)
    assert str(explicit.base_url) == "http://127.0.0.1:1/api/v2"
    assert str(explicit.runner_base_url) == "https://runner.example.com/api/v3"
    monkeypatch.setenv("CIRCLECI_BASE_URL", "not a url")
    with pytest.raises(ConfigurationError, match="base_url must be an http"):
        CircleCI(TOKEN)


@pytest.mark.parametrize("bad", ["", "   ", "abc\r\nX-Evil: 1"])
def test_unusable_tokens_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        CircleCI(bad)
    assert "X-Evil" not in str(info.value)


def test_repr_hides_the_token() -> None:
    cci = CircleCI(TOKEN)
    assert TOKEN not in repr(cci)
    assert TOKEN not in repr(cci._auth)


async def test_sends_circle_token_and_accept(fake: FakeCircleCI, client: CircleCI) -> None:
    me = await client.request("GET", "me")
    assert isinstance(me, dict) and "id" in me
    sent = fake.requests[-1]
    assert sent.headers["Circle-Token"] == TOKEN
    assert sent.headers["Accept"] == "application/json"
    assert "Authorization" not in sent.headers


async def test_basic_auth_with_token_as_user_name(fake: FakeCircleCI) -> None:
    async with CircleCI(TOKEN, base_url=fake.url, auth="basic", rate_limit=UNPACED) as cci:
        await cci.request("GET", "me")
    sent = fake.requests[-1]
    assert "Circle-Token" not in sent.headers
    assert (
        sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    )


async def test_slug_with_slashes_is_passed_through(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.add_project("circleci/AbC123/XyZ789")
    project = await client.request("GET", "project/circleci/AbC123/XyZ789")
    assert project["slug"] == "circleci/AbC123/XyZ789"
    assert fake.requests[-1].path == "/api/v2/project/circleci/AbC123/XyZ789"


async def test_post_sends_json_body(fake: FakeCircleCI, client: CircleCI) -> None:
    created = await client.request(
        "POST", f"project/{SLUG}/pipeline", json={"branch": "main", "parameters": {"x": 1}}
    )
    assert created["state"] in {"created", "pending", "setup", "setup-pending", "errored"}
    sent = fake.requests[-1]
    assert sent.method == "POST"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {"branch": "main", "parameters": {"x": 1}}


async def test_query_params_are_sent(fake: FakeCircleCI, client: CircleCI) -> None:
    await client.request("GET", f"project/{SLUG}/pipeline", params={"branch": "feature/x y"})
    assert fake.requests[-1].query["branch"] == "feature/x y"


async def test_caller_session_is_not_closed(fake: FakeCircleCI) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with CircleCI(TOKEN, base_url=fake.url, session=session, rate_limit=UNPACED) as cci:
            await cci.request("GET", "me")
        assert not session.closed


async def test_closed_client_refuses_new_work(fake: FakeCircleCI) -> None:
    cci = CircleCI(TOKEN, base_url=fake.url)
    await cci.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await cci.request("GET", "me")


# -- errors ------------------------------------------------------------------------------------


async def test_bad_token_is_unauthorized_with_circleci_message(fake: FakeCircleCI) -> None:
    async with CircleCI("wrong-token", base_url=fake.url, rate_limit=UNPACED) as cci:
        with pytest.raises(Unauthorized) as info:
            await cci.request("GET", "me")
    err = info.value
    assert err.status == 401 and err.message == "Invalid token provided."
    assert err.method == "GET" and err.url is not None and err.url.endswith("/api/v2/me")
    assert "wrong-token" not in str(err) and "wrong-token" not in repr(err)


async def test_unknown_project_is_not_found(client: CircleCI) -> None:
    with pytest.raises(NotFound) as info:
        await client.request("GET", "project/gh/acme/nope")
    assert info.value.status == 404 and info.value.message


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (403, Forbidden),
        (409, Conflict),
        (422, UnprocessableEntity),
        (418, APIError),
        (501, ServerError),
    ],
)
async def test_status_mapping(fake: FakeCircleCI, client: CircleCI, status: int, cls: type) -> None:
    fake.inject(Fault(kind="status", status=status, body=f"nope {status}"))
    with pytest.raises(cls) as info:
        await client.request("GET", "me")
    assert type(info.value) is cls
    assert info.value.status == status and info.value.message == f"nope {status}"


async def test_plain_text_error_body(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.inject(Fault(kind="text", status=403, body="Forbidden by policy"))
    with pytest.raises(Forbidden, match="Forbidden by policy"):
        await client.request("GET", "me")


async def test_error_key_bodies_of_policy_endpoints(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.inject(Fault(kind="json", status=400, payload={"error": "bad policy bundle"}))
    with pytest.raises(BadRequest, match="bad policy bundle"):
        await client.request("GET", "me")


async def test_malformed_json_is_a_decode_error(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.inject(Fault(kind="malformed_json"))
    with pytest.raises(DecodeError, match="not valid JSON") as info:
        await client.request("GET", "me")
    assert info.value.status == 200


async def test_connection_refused_is_connect_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    retry = RetryConfig(max_attempts=2, backoff_base=0.01)
    async with CircleCI(
        TOKEN, base_url=f"http://127.0.0.1:{port}/api/v2", retry=retry, rate_limit=UNPACED
    ) as cci:
        with pytest.raises(ConnectError):
            await cci.request("GET", "me")
        assert cci.stats.requests == 2 and cci.stats.retries == 1


async def test_slow_answer_times_out(fake: FakeCircleCI) -> None:
    # The answer would come after a minute, and a call that waited for it would succeed: the
    # RequestTimeout itself shows the client gave up at its own deadline.
    fake.inject(Fault(kind="delay", delay=60.0))
    async with CircleCI(
        TOKEN,
        base_url=fake.url,
        timeouts=Timeouts(total=0.3),
        retry=RetryConfig(max_attempts=1),
        rate_limit=UNPACED,
    ) as cci:
        with pytest.raises(RequestTimeout):
            await cci.request("GET", "me")
        assert cci.stats.requests == 1 and cci.stats.failures == 1
    assert len(fake.requests) == 1


# -- retries -----------------------------------------------------------------------------------

FAST_RETRY = RetryConfig(backoff_base=0.01, backoff_max=0.05)


async def test_5xx_on_get_is_retried(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="status", status=503, times=2))
    async with CircleCI(TOKEN, base_url=fake.url, retry=FAST_RETRY, rate_limit=UNPACED) as cci:
        me = await cci.request("GET", "me")
        assert "id" in me
        assert cci.stats.retries == 2 and cci.stats.requests == 3
    assert [r.path for r in fake.requests].count("/api/v2/me") == 3


@pytest.mark.parametrize("kind", ["status", "disconnect"])
async def test_post_is_never_retried_after_it_may_have_arrived(
    fake: FakeCircleCI, kind: str
) -> None:
    fake.inject(Fault(kind=kind, status=502, method="POST"))  # type: ignore[arg-type]
    async with CircleCI(TOKEN, base_url=fake.url, retry=FAST_RETRY, rate_limit=UNPACED) as cci:
        with pytest.raises((ServerError, TransportError)):
            await cci.request("POST", f"project/{SLUG}/pipeline", json={"branch": "main"})
        assert cci.stats.retries == 0
    assert sum(r.method == "POST" for r in fake.requests) == 1


async def test_dropped_connection_on_get_is_retried(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="disconnect"))
    async with CircleCI(TOKEN, base_url=fake.url, retry=FAST_RETRY, rate_limit=UNPACED) as cci:
        assert "id" in await cci.request("GET", "me")
        assert cci.stats.retries == 1


async def test_429_waits_retry_after_seconds(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="status", status=429, headers={"Retry-After": "1"}))
    clock = Clock()
    async with CircleCI(
        TOKEN, base_url=fake.url, limiter=AdaptiveLimiter(UNPACED, clock=clock)
    ) as cci:
        call = asyncio.create_task(cci.request("GET", "me"))
        await wait_until(lambda: held(cci, call, sent=1))
        # The 429 closed the gate for exactly Retry-After seconds; the retry waits behind it.
        assert cci.rate_limit.blocked_for == 1.0 and len(fake.requests) == 1
        clock.now += 1.0  # the gate opens
        assert "id" in await asyncio.wait_for(call, 10)
        assert cci.stats.waited == 1.0  # all of it at the gate, none in backoff on top
        assert cci.stats.rate_limited == 1 and cci.stats.retries == 1
    assert len(fake.requests) == 2


async def test_429_waits_retry_after_http_date(fake: FakeCircleCI) -> None:
    # Measured against the answer's own Date (no clock skew): one second, exactly.
    date = 1_800_000_000
    headers = {
        "Date": formatdate(date, usegmt=True),
        "Retry-After": formatdate(date + 1, usegmt=True),
    }
    fake.inject(Fault(kind="status", status=429, headers=headers))
    clock = Clock()
    async with CircleCI(
        TOKEN, base_url=fake.url, limiter=AdaptiveLimiter(UNPACED, clock=clock)
    ) as cci:
        # 429 is retried for POST: the request was refused, not processed.
        call = asyncio.create_task(cci.request("POST", f"project/{SLUG}/pipeline", json={}))
        await wait_until(lambda: held(cci, call, sent=1))
        assert cci.rate_limit.blocked_for == 1.0 and len(fake.requests) == 1
        clock.now += 1.0
        await asyncio.wait_for(call, 10)
        assert cci.stats.waited == 1.0 and cci.stats.retries == 1
    assert sum(r.method == "POST" for r in fake.requests) == 2


async def test_429_with_plain_text_body(fake: FakeCircleCI) -> None:
    fake.inject(
        Fault(kind="text", status=429, body="Rate limited.", times=5, headers={"Retry-After": "0"})
    )
    retry = RetryConfig(max_attempts=2, backoff_base=0.01)
    async with CircleCI(TOKEN, base_url=fake.url, retry=retry, rate_limit=UNPACED) as cci:
        with pytest.raises(RateLimitExceeded) as info:
            await cci.request("GET", "me")
    assert info.value.message == "Rate limited." and info.value.retry_after == 0.0


async def test_retry_after_past_the_deadline_fails_fast(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="status", status=429, headers={"Retry-After": "30"}))
    limiter = AdaptiveLimiter(UNPACED, clock=Clock())
    async with CircleCI(
        TOKEN, base_url=fake.url, retry=RetryConfig(deadline=5.0), limiter=limiter
    ) as cci:
        with pytest.raises(RateLimitExceeded) as info:
            await cci.request("GET", "me")
        # Given up at once: no retry, nothing waited, and the gate it would have waited at is
        # still closed for all of its 30 s (the limiter's clock has not moved).
        assert cci.stats.retries == 0 and cci.stats.waited == 0.0
        assert cci.rate_limit.blocked_for == 30.0
    assert info.value.retry_after == 30.0 and info.value.status == 429
    assert len(fake.requests) == 1


async def test_wait_longer_than_max_wait_raises(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="status", status=429, headers={"Retry-After": "3600"}))
    limiter = AdaptiveLimiter(RateLimitConfig(initial_rate=None, max_wait=2.0), clock=Clock())
    async with CircleCI(
        TOKEN, base_url=fake.url, retry=RetryConfig(deadline=None), limiter=limiter
    ) as cci:
        with pytest.raises(MaxWaitExceeded, match="max_wait") as info:
            await cci.request("GET", "me")
        # Refused instead of slept: the retry never went out and nothing was waited.
        assert cci.stats.waited == 0.0 and cci.stats.requests == 1
        # The gate closes for max_wait at most, however long the server asked for.
        assert cci.rate_limit.blocked_for == 2.0
    assert isinstance(info.value, RateLimitExceeded) and info.value.status is None
    assert info.value.retry_after == 3600.0
    assert len(fake.requests) == 1


async def test_real_rate_limit_is_learned_and_respected(fake: FakeCircleCI) -> None:
    fake.rate_limit = RateLimitPolicy(windows=(Window(limit=5, seconds=1),))
    async with CircleCI(TOKEN, base_url=fake.url) as cci:
        answers = await asyncio.gather(*(cci.request("GET", "me") for _ in range(15)))
        view = cci.rate_limit
        waited = cci.stats.waited
    assert all("id" in answer for answer in answers)
    # Paced by the client, not refused by the server: at most the first burst meets a 429...
    assert fake.rate_limited_count <= 1
    assert waited > 0  # ...because the client held requests back at its limiter,
    # and the server saw them spread over at least three of its one-second windows.
    assert len({int(r.time) for r in fake.requests}) >= 3
    assert view.limit == 5 and view.window == 1


async def test_binding_limit_is_the_lower_of_two_systems(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    # Kong's 600/min against the gateway's 1000/min over the same aligned minute: 600 binds.
    fake.rate_limit = RateLimitPolicy.circleci(
        per_second=1000, per_minute=600, gateway_per_minute=1000
    )
    for _ in range(3):
        await client.request("GET", "me")
    view = client.rate_limit
    assert view.limit == 600 and view.window == 60 and view.source == "x-ratelimit-window"
    assert view.remaining == 597
    assert view.reset_after is not None and 0 < view.reset_after <= 60
    assert view.rate is not None
    assert view.rate == pytest.approx((597 - 1) / view.reset_after, rel=0.05)


# -- the shared limiter ------------------------------------------------------------------------


async def test_one_limiter_per_token_across_clients(fake: FakeCircleCI) -> None:
    a = CircleCI(TOKEN, base_url=fake.url)
    b = CircleCI(TOKEN, base_url=fake.url)
    c = CircleCI("another-token", base_url=fake.url)
    async with a, b, c:
        assert a.limiter is b.limiter
        assert a.limiter is not c.limiter


async def test_429_seen_by_one_client_pauses_the_other(fake: FakeCircleCI) -> None:
    fake.inject(Fault(kind="status", status=429, headers={"Retry-After": "1"}, path="/me$"))
    clock = Clock()
    # One limiter for both, as the process-wide one for a token is (see the test above).
    limiter = AdaptiveLimiter(UNPACED, clock=clock)
    async with (
        CircleCI(TOKEN, base_url=fake.url, limiter=limiter) as a,
        CircleCI(TOKEN, base_url=fake.url, limiter=limiter) as b,
    ):
        call_a = asyncio.create_task(a.request("GET", "me"))
        await wait_until(lambda: held(a, call_a, sent=1))  # a met the 429: the gate is closed
        call_b = asyncio.create_task(b.request("GET", f"project/{SLUG}"))
        await wait_until(lambda: held(b, call_b, sent=0))  # b waits at the same gate
        assert len(fake.requests) == 1 and limiter.view().blocked_for == 1.0
        clock.now += 1.0  # the gate opens: a, first in line, retries
        assert "id" in await asyncio.wait_for(call_a, 10)
        clock.now += 1.0  # b follows at the pace the 429 cut
        await asyncio.wait_for(call_b, 10)
        # On the test's clock: b's wait spanned the gate's whole second (and the pace after).
        assert b.stats.waited >= 1.0
        assert a.stats.rate_limited == 1 and b.stats.rate_limited == 0
    assert [r.path for r in fake.requests][-1] == f"/api/v2/project/{SLUG}"
    assert len(fake.requests) == 3


# -- credentials on redirects ------------------------------------------------------------------


async def test_token_not_sent_to_another_origin_on_redirect(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    async with FakeCircleCI(token=TOKEN) as other:
        fake.inject(Fault(kind="status", status=302, headers={"Location": f"{other.url}/me"}))
        with pytest.raises(Unauthorized):
            await client.request("GET", "me")
        assert len(other.requests) == 1
        assert "Circle-Token" not in other.requests[0].headers
        assert "Authorization" not in other.requests[0].headers


async def test_same_origin_redirect_keeps_the_token(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.inject(
        Fault(kind="status", status=307, headers={"Location": f"{fake.url}/me"}, path="/old$")
    )
    me = await client.request("GET", "old")
    assert "id" in me
    assert fake.requests[-1].headers["Circle-Token"] == TOKEN


# -- secrets in logs and errors ----------------------------------------------------------------


async def test_token_never_in_logs_or_tracebacks(
    fake: FakeCircleCI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.inject(Fault(kind="status", status=503, times=1))
    fake.inject(Fault(kind="status", status=404, path="/project/"))
    async with CircleCI(TOKEN, base_url=fake.url, retry=FAST_RETRY, rate_limit=UNPACED) as cci:
        await cci.request("GET", "me")
        with pytest.raises(NotFound) as info:
            await cci.request("GET", f"project/{SLUG}")
    text = "".join(traceback.format_exception(info.value))
    assert TOKEN not in text and TOKEN not in repr(info.value)
    assert caplog.records, "the client logs its requests at DEBUG"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


# -- pagination --------------------------------------------------------------------------------


@attrs.frozen
class MiniPipeline:
    id: str
    number: int
    state: str


async def test_paginate_walks_every_page(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 20
    fake.seed_pipelines(SLUG, count=45)
    pager = client.paginate(f"project/{SLUG}/pipeline")
    items = [p async for p in pager]
    assert len(items) == 45 and len({p["id"] for p in items}) == 45
    assert pager.pages_fetched == 3 and pager.exhausted and not pager.truncated
    tokens = [r.query.get("page-token") for r in fake.requests]
    assert tokens[0] is None and all(tokens[1:])


async def test_pages_expose_tokens_and_resume(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 10
    fake.seed_pipelines(SLUG, count=25)
    pages = [page async for page in client.paginate(f"project/{SLUG}/pipeline").pages()]
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert pages[0].page_token is None and pages[-1].next_page_token is None
    resumed = client.paginate(f"project/{SLUG}/pipeline", page_token=pages[0].next_page_token)
    rest = await resumed.collect()
    assert [p["id"] for p in rest] == [p["id"] for page in pages[1:] for p in page.items]


async def test_max_items_stops_early_and_says_so(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 10
    fake.seed_pipelines(SLUG, count=50)
    pager = client.paginate(f"project/{SLUG}/pipeline", max_items=15)
    first = await pager.collect()
    assert len(first) == 15 and pager.truncated and not pager.exhausted
    assert pager.pages_fetched == 2
    # Resuming re-reads the partly consumed page from its start.
    again = await client.paginate(
        f"project/{SLUG}/pipeline", page_token=pager.resume_token
    ).collect()
    assert [p["id"] for p in again[:5]] == [p["id"] for p in first[10:15]]
    assert len(first) + len(again) - 5 == 50


async def test_break_and_continue(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 4
    fake.seed_pipelines(SLUG, count=10)
    pager = client.paginate(f"project/{SLUG}/pipeline")
    seen = []
    async for p in pager:
        seen.append(p["id"])
        if len(seen) == 6:
            break
    seen += [p["id"] async for p in pager]
    assert len(seen) == 10 and len(set(seen)) == 10


async def test_empty_list(client: CircleCI) -> None:
    pager = client.paginate(f"project/{SLUG}/pipeline")
    assert await pager.collect() == []
    assert pager.exhausted and pager.pages_fetched == 1


async def test_typed_items(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.seed_pipelines(SLUG, count=3)
    items = await client.paginate(f"project/{SLUG}/pipeline", item_type=MiniPipeline).collect()
    assert all(isinstance(p, MiniPipeline) for p in items)
    assert sorted(p.number for p in items) == [1, 2, 3]


async def test_typed_items_decode_error_names_the_field(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    @attrs.frozen
    class Strict:
        id: str
        missing_field: int

    fake.seed_pipelines(SLUG, count=1)
    with pytest.raises(DecodeError, match="missing_field"):
        await client.paginate(f"project/{SLUG}/pipeline", item_type=Strict).collect()


async def test_repeated_page_token_raises(fake: FakeCircleCI, client: CircleCI) -> None:
    page = {"items": [{"id": "x"}], "next_page_token": "same"}
    fake.inject(Fault(kind="json", status=200, payload=page, times=3, path="/loop$"))
    pager = client.paginate("loop")
    with pytest.raises(Exception, match="second time"):
        await pager.collect()
    assert pager.pages_fetched == 2


async def test_page_token_in_params_is_refused(client: CircleCI) -> None:
    with pytest.raises(ConfigurationError, match="page_token"):
        client.paginate("x", params={"page-token": "abc"})


async def test_error_mid_walk_carries_the_failing_token(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=12)
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=False)
    it = pager.pages()
    page1 = await it.__anext__()
    fake.inject(Fault(kind="status", status=404, body="Not Found"))
    with pytest.raises(NotFound) as info:
        await it.__anext__()
    assert info.value.page_token == page1.next_page_token


async def test_read_ahead_requests_the_next_page_early(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=12)
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    it = pager.pages()
    page1 = await it.__anext__()
    # The next page is asked for before anyone asks for it.
    await wait_until(lambda: len(fake.requests) == 2)
    tokens = [r.query.get("page-token") for r in fake.requests]
    assert tokens == [None, page1.next_page_token]
    page2 = await it.__anext__()
    assert page2.page_token == page1.next_page_token
    await pager.aclose()


async def test_only_typed_walks_read_ahead_by_default(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=12)
    plain = client.paginate(f"project/{SLUG}/pipeline")
    await plain.pages().__anext__()
    # A read-ahead would have been started before the page was handed over; one more round
    # trip gives it every chance to go out, and the client counts what it sends.
    await client.request("GET", "me")
    assert client.stats.requests == 2 and client.rate_limit.in_flight == 0
    assert [r.path for r in fake.requests] == [f"/api/v2/project/{SLUG}/pipeline", "/api/v2/me"]
    fake.clear_requests()
    typed = client.paginate(f"project/{SLUG}/pipeline", item_type=MiniPipeline)
    await typed.pages().__anext__()
    await wait_until(lambda: len(fake.requests) == 2)
    assert fake.requests[1].query.get("page-token") == typed.next_page_token
    await typed.aclose()


async def test_read_ahead_error_surfaces_on_its_page(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=12)
    fake.inject(Fault(kind="delay", delay=0.01))  # the first page, served normally
    fake.inject(Fault(kind="status", status=404, body="Not Found"))  # the page read ahead
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    it = pager.pages()
    page1 = await it.__anext__()
    assert len(page1.items) == 5
    with pytest.raises(NotFound) as info:
        await it.__anext__()
    assert info.value.page_token == page1.next_page_token


async def test_read_ahead_stops_at_max_items(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=20)
    items = await client.paginate(
        f"project/{SLUG}/pipeline", max_items=10, read_ahead=True
    ).collect()
    assert len(items) == 10
    # Nothing read past what max_items allows: after one more round trip (time enough for a
    # stray read-ahead to go out), the client has sent the two pages and that request only.
    await client.request("GET", "me")
    assert client.stats.requests == 3 and client.rate_limit.in_flight == 0
    assert [r.path for r in fake.requests].count(f"/api/v2/project/{SLUG}/pipeline") == 2


@pytest.mark.parametrize("when", ["before the page is taken", "after the page is taken"])
async def test_a_walk_cancelled_as_its_read_ahead_arrives_loses_no_page(
    fake: FakeCircleCI, client: CircleCI, when: str
) -> None:
    """The walk waits for the page read ahead, and is cancelled as that page arrives: before
    the read-ahead takes it for the walk, or after (the page recorded, the next one asked
    for, and the walk not yet resumed). Either way the page is not lost: ``resume_token``
    points at it, and the same paginator hands it out next."""
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=15)
    path = f"project/{SLUG}/pipeline"
    walker: asyncio.Task[Any] | None = None
    fetched: list[str | None] = []

    async def fetch(token: str | None) -> Any:
        data = await client.request("GET", path, params={"page-token": token} if token else None)
        fetched.append(token)
        if len(fetched) == 2:
            assert walker is not None
            if when == "before the page is taken":
                walker.cancel()  # now, while the walk waits for this page
            else:
                # In the next pass of the loop: after this page was handed to the walk, before
                # the walk resumes with it.
                asyncio.get_running_loop().call_soon(walker.cancel)
        return data

    pager = AsyncPaginator(fetch, read_ahead=True)
    pages = pager.pages()
    first = await pages.__anext__()
    walker = asyncio.ensure_future(pages.__anext__())
    with pytest.raises(asyncio.CancelledError):
        await walker
    assert pager.resume_token == first.next_page_token  # the page that arrived is unseen
    assert not pager.exhausted
    second = await pages.__anext__()
    assert second.page_token == first.next_page_token and len(second.items) == 5
    rest = [page async for page in pages]
    seen = [p["id"] for page in (first, second, *rest) for p in page.items]
    assert len(seen) == 15 and len(set(seen)) == 15
    assert pager.exhausted and pager.resume_token is None
    assert len(fetched) == 3  # no page was fetched twice


async def test_abandoned_walk_cancels_the_read_ahead(fake: FakeCircleCI, client: CircleCI) -> None:
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=20)
    fake.inject(Fault(kind="delay", delay=0.01))
    fake.inject(Fault(kind="delay", delay=60.0))  # the read-ahead's answer is a minute away
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    async for _ in pager:
        break
    await wait_until(lambda: len(fake.requests) == 2)  # the read-ahead reached the server
    assert client.rate_limit.in_flight == 1
    # Cancelled, not waited for: it returns with the answer still a minute away, and nothing
    # of the walk is left in flight.
    closing = asyncio.ensure_future(pager.aclose())
    try:
        await wait_until(closing.done, timeout=10, what="aclose() returned")
    finally:
        closing.cancel()  # (only if it did not return: a cancelled wait would look like one)
    assert closing.result() is None
    assert client.rate_limit.in_flight == 0
    assert pager.resume_token is None  # the rest of the first page is still to come
    assert pager.items_yielded == 1


async def test_closing_a_walk_while_it_waits_for_its_read_ahead_ends_the_wait(
    fake: FakeCircleCI, client: CircleCI
) -> None:
    """``aclose()`` from another task while the walk waits for the page being read ahead: the
    read-ahead is cancelled, and the walk's wait ends (cancelled too) instead of hanging."""
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=20)
    fake.inject(Fault(kind="delay", delay=0.01))
    fake.inject(Fault(kind="delay", delay=60.0))  # the read-ahead's answer is a minute away
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    pages = pager.pages()
    await pages.__anext__()
    walker = asyncio.ensure_future(pages.__anext__())
    await wait_until(lambda: len(fake.requests) == 2)  # the read-ahead reached the server
    await pager.aclose()
    try:
        await wait_until(walker.done, timeout=10, what="the waiting walk ended")
    finally:
        walker.cancel()  # (only if it did not end: a hang must fail here, not block the suite)
    assert walker.cancelled()
    assert client.rate_limit.in_flight == 0
    assert pager.items_yielded == 5 and not pager.exhausted


async def test_a_failed_read_ahead_of_an_abandoned_walk_is_not_logged(
    fake: FakeCircleCI, client: CircleCI, caplog: pytest.LogCaptureFixture
) -> None:
    """A walk left without ``aclose()`` whose page read ahead failed: the failure was never
    anyone's to see, and asyncio must not log it as "exception was never retrieved"."""
    fake.page_size = 5
    fake.seed_pipelines(SLUG, count=20)
    fake.inject(Fault(kind="delay", delay=0.01))  # the first page
    fake.inject(Fault(kind="status", status=404, body="Not Found"))  # the page read ahead
    pager = client.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    async for _ in pager:
        break
    await wait_until(lambda: len(fake.requests) == 2 and client.rate_limit.in_flight == 0)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        del pager
        gc.collect()
        await asyncio.sleep(0)  # (a destroyed task's report goes through the loop's handler)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


# -- the pytest plugin's client fixture --------------------------------------------------------


async def test_plugin_client_fixture_talks_to_the_plugin_fake(
    fake_circleci: FakeCircleCI, circleci_client: CircleCI
) -> None:
    project = await circleci_client.request("GET", f"project/{SLUG}")
    assert project["slug"] == SLUG
    assert fake_circleci.requests[-1].headers["Circle-Token"] == "test-token"


async def test_runner_origin_receives_the_token(fake: FakeCircleCI) -> None:
    async with CircleCI(
        TOKEN, base_url=fake.url, runner_base_url=f"{fake.root_url}/api/v3", rate_limit=UNPACED
    ) as cci:
        assert cci._auth.allows(cci.runner_base_url)
    async with CircleCI(TOKEN, rate_limit=UNPACED) as cloud:
        assert cloud._auth.allows(cloud.runner_base_url)  # https://runner.circleci.com
        assert not cloud._auth.allows(cloud.runner_base_url.with_scheme("http"))
        assert not cloud._auth.allows(cloud.base_url.with_host("evil.example.com"))
        assert cloud._auth.allows(cloud.base_url.with_host("output.circle-artifacts.com"))
        assert not cloud._auth.allows(cloud.base_url.with_host("circle-artifacts.com.evil.io"))


async def test_requests_after_close_fail_clearly(fake: FakeCircleCI) -> None:
    cci = CircleCI(TOKEN, base_url=fake.url, rate_limit=UNPACED)
    await cci.request("GET", "me")
    fake.page_size = 2
    fake.seed_pipelines(SLUG, count=6)
    pager = cci.paginate(f"project/{SLUG}/pipeline", read_ahead=True)
    async for _ in pager:
        break  # a read-ahead is in flight or done
    await cci.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await cci.request("GET", "me")
    await pager.aclose()
