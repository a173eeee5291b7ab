"""Test vectors and properties for the sans-I/O rate-limit header parser (design note §2.6)."""

from __future__ import annotations

import calendar
import email.utils
import logging
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

import multidict
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circleci_async.ratelimit.headers import (
    EMPTY_SNAPSHOT,
    SOURCE_IETF_DICT,
    SOURCE_IETF_FIELDS,
    SOURCE_IETF_LIST,
    SOURCE_X,
    SOURCE_X_WINDOW,
    Observation,
    RateLimitSnapshot,
    _entry,
    _fast,
    parse_http_date,
    parse_rate_limit_headers,
    parse_retry_after,
)

NOW = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT
NOW_DATE = "Tue, 14 Nov 2023 22:13:20 GMT"
EARLY_DATE = "Tue, 14 Nov 2023 22:11:40 GMT"  # NOW - 100: a server clock behind ours
MAX_DELAY = 10 * 365 * 86400.0
RFC_EXAMPLE = 784_111_777.0  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC 9110 example instant
SOURCES = {SOURCE_IETF_LIST, SOURCE_IETF_DICT, SOURCE_IETF_FIELDS, SOURCE_X, SOURCE_X_WINDOW}

Headers = Sequence[tuple[str, str]]


def obs(
    source: str,
    policy: str | None = None,
    *,
    window: float | None = None,
    limit: int | None = None,
    remaining: int | None = None,
    reset: float | None = None,
    used: int | None = None,
) -> Observation:
    return Observation(source, policy, window, limit, remaining, reset, used)


def fields(**kw: Any) -> Observation:
    return obs(SOURCE_IETF_FIELDS, **kw)


def named(policy: str, **kw: Any) -> Observation:
    return obs(SOURCE_IETF_LIST, policy, **kw)


def kong(window_name: str, seconds: float, limit: int | None, remaining: int | None) -> Observation:
    return obs(SOURCE_X_WINDOW, window_name, window=seconds, limit=limit, remaining=remaining)


# --- the table of vectors ----------------------------------------------------------------------

VECTORS = [
    # Drafts -00..-03: policies ride in RateLimit-Limit after the binding first item.
    pytest.param(
        [
            ("RateLimit-Limit", "100, 100;w=60"),
            ("RateLimit-Remaining", "50"),
            ("RateLimit-Reset", "50"),
        ],
        (fields(window=60.0, limit=100, remaining=50, reset=50.0),),
        None,
        id="draft-00-limit-with-policy",
    ),
    pytest.param(
        [
            ("RateLimit-Limit", "10, 10;w=1, 50;w=60, 1000;w=3600, 5000;w=86400"),
            ("RateLimit-Remaining", "9"),
            ("RateLimit-Reset", "1"),
        ],
        (
            fields(window=1.0, limit=10, remaining=9, reset=1.0),
            fields(window=60.0, limit=50),
            fields(window=3600.0, limit=1000),
            fields(window=86400.0, limit=5000),
        ),
        None,
        id="draft-00-several-policies",
    ),
    # Drafts -04..-06: policies moved to RateLimit-Policy.
    pytest.param(
        [
            ("RateLimit-Limit", "10"),
            ("RateLimit-Remaining", "9"),
            ("RateLimit-Reset", "1"),
            ("RateLimit-Policy", "10;w=1, 50;w=60, 1000;w=3600, 5000;w=86400"),
        ],
        (
            fields(window=1.0, limit=10, remaining=9, reset=1.0),
            fields(window=60.0, limit=50),
            fields(window=3600.0, limit=1000),
            fields(window=86400.0, limit=5000),
        ),
        None,
        id="draft-04-policy-field",
    ),
    pytest.param(
        [
            ("RateLimit-Limit", "10"),
            ("RateLimit-Remaining", "5"),
            ("RateLimit-Reset", "1"),
            ("RateLimit-Policy", "10;w=1;burst=1000, 1000;w=3600"),
        ],
        (fields(window=1.0, limit=10, remaining=5, reset=1.0), fields(window=3600.0, limit=1000)),
        None,
        id="draft-04-extension-param-ignored",
    ),
    pytest.param(
        [("RateLimit-Policy", "100;w=60")],
        (fields(window=60.0, limit=100),),
        None,
        id="draft-04-policy-alone",
    ),
    # Draft -07: a Dictionary.
    pytest.param(
        [("RateLimit", "limit=100, remaining=50, reset=5"), ("RateLimit-Policy", "100;w=10")],
        (obs(SOURCE_IETF_DICT, window=10.0, limit=100, remaining=50, reset=5.0),),
        None,
        id="draft-07-dictionary",
    ),
    pytest.param(
        [("RateLimit", "remaining=0, reset=12, limit=100")],
        (obs(SOURCE_IETF_DICT, limit=100, remaining=0, reset=12.0),),
        None,
        id="draft-07-any-order-no-policy",
    ),
    # Drafts -08..-10: named items and named policies.
    pytest.param(
        [
            ("RateLimit", '"default";r=50;t=30'),
            ("RateLimit-Policy", '"burst";q=100;w=60,"daily";q=1000;w=86400'),
        ],
        (
            named("default", remaining=50, reset=30.0),
            named("burst", window=60.0, limit=100),
            named("daily", window=86400.0, limit=1000),
        ),
        None,
        id="draft-08-example-unjoined",
    ),
    pytest.param(
        [
            ("RateLimit", '"daily";r=999;t=3600'),
            ("RateLimit-Policy", '"burst";q=100;w=60,"daily";q=1000;w=86400'),
        ],
        (
            named("daily", window=86400.0, limit=1000, remaining=999, reset=3600.0),
            named("burst", window=60.0, limit=100),
        ),
        None,
        id="draft-08-joined-by-name",
    ),
    pytest.param(
        [("RateLimit", "default;t=10;r=5"), ("RateLimit-Policy", '"default";q=10;w=60')],
        (named("default", window=60.0, limit=10, remaining=5, reset=10.0),),
        None,
        id="draft-08-token-name-joins-string-name",
    ),
    pytest.param(
        [("RateLimit", '"a";t=5, "b";r=3;t=7;pk=:YWJj:;foo=bar')],
        (named("b", remaining=3, reset=7.0),),
        None,
        id="draft-08-item-without-r-ignored",
    ),
    pytest.param(
        [
            ("RateLimit", '"permin";r=0;t=12'),
            ("RateLimit-Policy", '"permin";q=50;qu="requests";w=60'),
        ],
        (named("permin", window=60.0, limit=50, remaining=0, reset=12.0),),
        None,
        id="draft-10-quota-unit",
    ),
    pytest.param(
        [
            ("ratelimit", '"api";r=485;t=163'),
            ("ratelimit-policy", '"fixed window";"api";q=500;w=300'),
        ],
        (named("api", window=300.0, limit=500, remaining=485, reset=163.0),),
        None,
        id="huggingface-malformed-policy",
    ),
    # CircleCI's documented mix: API gateway (IETF fields) plus Kong windows plus Retry-After.
    pytest.param(
        [
            ("Date", NOW_DATE),
            ("RateLimit-Limit", "10"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "7"),
            ("X-RateLimit-Limit-Second", "10"),
            ("X-RateLimit-Remaining-Second", "0"),
            ("X-RateLimit-Limit-Hour", "2000"),
            ("X-RateLimit-Remaining-Hour", "1500"),
            ("Retry-After", "7"),
        ],
        (
            fields(limit=10, remaining=0, reset=7.0),
            kong("second", 1.0, 10, 0),
            kong("hour", 3600.0, 2000, 1500),
        ),
        7.0,
        id="circleci-documented-mix",
    ),
    pytest.param(
        [
            ("RateLimit-Limit", "100"),
            ("RateLimit-Remaining", "99"),
            ("RateLimit-Reset", "30"),
            ("X-RateLimit-Limit-Minute", "60"),
            ("X-RateLimit-Remaining-Minute", "59"),
        ],
        (fields(limit=100, remaining=99, reset=30.0), kong("minute", 60.0, 60, 59)),
        None,
        id="circleci-disagreeing-systems-both-kept",
    ),
    pytest.param(
        [
            ("x-ratelimit-limit-month", "100000"),
            ("X-RATELIMIT-REMAINING-YEAR", "7"),
            ("x-ratelimit-remaining-day", "3"),
        ],
        (
            kong("day", 86400.0, None, 3),
            kong("month", 2592000.0, 100000, None),
            kong("year", 31536000.0, None, 7),
        ),
        None,
        id="kong-windows-sorted-by-length",
    ),
    # GitHub: epoch reset, measured against Date (the local clock here is years off).
    pytest.param(
        [
            ("Date", "Sun, 12 Feb 2017 01:06:44 GMT"),
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-reset", "1486865204"),
            ("x-ratelimit-used", "1"),
            ("x-ratelimit-resource", "core"),
        ],
        (obs(SOURCE_X, limit=5000, remaining=4999, reset=3600.0, used=1),),
        None,
        id="github-epoch-with-date",
    ),
    # GitLab: RateLimit-Reset is an epoch despite the IETF name.
    pytest.param(
        [
            ("Date", "Tue, 05 Jan 2021 10:00:00 GMT"),
            ("RateLimit-Limit", "60"),
            ("RateLimit-Observed", "67"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "1609844400"),
            ("RateLimit-ResetTime", "Tue, 05 Jan 2021 11:00:00 GMT"),
            ("Retry-After", "3600"),
        ],
        (fields(limit=60, remaining=0, reset=3600.0),),
        3600.0,
        id="gitlab-epoch-reset",
    ),
    pytest.param(
        [
            ("Date", "Tue, 05 Jan 2021 10:00:00 GMT"),
            ("RateLimit-Limit", "60"),
            ("RateLimit-Reset", "soon"),
            ("RateLimit-ResetTime", "Tue, 05 Jan 2021 11:00:00 GMT"),
        ],
        (fields(limit=60, reset=3600.0),),
        None,
        id="gitlab-resettime-fallback",
    ),
    # Redirects may carry rate-limit fields too.
    pytest.param(
        [("Location", "https://example.invalid/"), ("RateLimit", '"p";r=0;t=10')],
        (named("p", remaining=0, reset=10.0),),
        None,
        id="redirect-with-exhausted-limit",
    ),
    # Repeated field lines.
    pytest.param(
        [
            ("RateLimit", '"a";r=1;t=5'),
            ("ratelimit", '"b";r=2;t=6'),
            ("RateLimit-Policy", '"a";q=10;w=60'),
            ("RATELIMIT-POLICY", '"b";q=20;w=120'),
        ],
        (
            named("a", window=60.0, limit=10, remaining=1, reset=5.0),
            named("b", window=120.0, limit=20, remaining=2, reset=6.0),
        ),
        None,
        id="duplicated-structured-lines-joined",
    ),
    pytest.param(
        [
            ("RateLimit-Limit", "100"),
            ("RateLimit-Limit", "100;w=60"),
            ("RateLimit-Remaining", "50"),
            ("RateLimit-Reset", "50"),
        ],
        (fields(window=60.0, limit=100, remaining=50, reset=50.0),),
        None,
        id="duplicated-limit-line-is-one-list",
    ),
    pytest.param(
        [("Retry-After", "5"), ("Retry-After", "7"), ("Retry-After", "junk")],
        (),
        7.0,
        id="duplicated-retry-after-takes-max",
    ),
    pytest.param(
        [
            ("X-RateLimit-Limit", "60"),
            ("X-RateLimit-Remaining", "10"),
            ("X-Rate-Limit-Limit", "60"),
            ("X-Rate-Limit-Remaining", "10"),
        ],
        (obs(SOURCE_X, limit=60, remaining=10),),
        None,
        id="identical-observations-deduplicated",
    ),
    pytest.param(
        [
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "5"),
            ("X-Rate-Limit-Reset", "10"),
        ],
        (obs(SOURCE_X, limit=100, remaining=5, reset=10.0),),
        None,
        id="x-rate-limit-spelling",
    ),
    # Numbers as servers really send them.
    pytest.param(
        [
            ("X-RateLimit-Limit", "60.0"),
            ("X-RateLimit-Remaining", "-3"),
            ("X-RateLimit-Reset", "59.5"),
        ],
        (obs(SOURCE_X, limit=60, remaining=0, reset=59.5),),
        None,
        id="floats-and-negative-remaining",
    ),
    pytest.param(
        [("X-RateLimit-Limit", "100"), ("X-RateLimit-Remaining", "59.7")],
        (obs(SOURCE_X, limit=100, remaining=59),),
        None,
        id="fractional-remaining-rounds-down",
    ),
    pytest.param(
        [("X-RateLimit-Limit", "100"), ("X-RateLimit-Used", "30")],
        (obs(SOURCE_X, limit=100, remaining=70, used=30),),
        None,
        id="used-gives-remaining",
    ),
    pytest.param(
        [("X-RateLimit-Used", "30"), ("X-RateLimit-Reset", "20")],
        (obs(SOURCE_X, reset=20.0, used=30),),
        None,
        id="used-without-limit-kept",
    ),
    pytest.param(
        [("X-RateLimit-Reset-After", "64.57"), ("X-RateLimit-Reset", "1470173023.123")],
        (obs(SOURCE_X, reset=64.57),),
        None,
        id="discord-reset-after-preferred",
    ),
    pytest.param(
        [
            ("Date", NOW_DATE),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "1700000060000"),
        ],
        (obs(SOURCE_X, remaining=0, reset=60.0),),
        None,
        id="epoch-milliseconds",
    ),
    pytest.param(
        [
            ("Date", NOW_DATE),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "2023-11-14T22:14:20Z"),
        ],
        (obs(SOURCE_X, remaining=0, reset=60.0),),
        None,
        id="rfc3339-reset",
    ),
    pytest.param(
        [("Date", NOW_DATE), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "1600000000")],
        (obs(SOURCE_X, remaining=0, reset=0.0),),
        None,
        id="past-epoch-is-zero",
    ),
    # Malformed fields are dropped; the rest is kept.
    pytest.param(
        [("RateLimit-Limit", "10"), ("RateLimit-Remaining", "abc"), ("RateLimit-Reset", "-4")],
        (fields(limit=10),),
        None,
        id="malformed-fields-dropped",
    ),
    pytest.param(
        [("RateLimit", '"p";r=x;t=1, "q";r=2;t=y'), ("RateLimit-Policy", '"q";q=-1;w=0')],
        (named("q", remaining=2),),
        None,
        id="malformed-params-dropped",
    ),
    pytest.param(
        [
            ("RateLimit-Limit", "100;w=0"),
            ("X-RateLimit-Limit", "-5"),
            ("X-RateLimit-Remaining", "1"),
        ],
        (fields(limit=100), obs(SOURCE_X, remaining=1)),
        None,
        id="non-positive-window-and-negative-limit",
    ),
]


@pytest.mark.parametrize(("headers", "expected", "retry_after"), VECTORS)
def test_vectors(
    headers: Headers, expected: tuple[Observation, ...], retry_after: float | None
) -> None:
    snapshot = parse_rate_limit_headers(headers, now=NOW)
    assert snapshot.observations == expected
    assert snapshot.retry_after == retry_after


@pytest.mark.parametrize(("headers", "expected", "retry_after"), VECTORS)
def test_vectors_through_cimultidict(
    headers: Headers, expected: tuple[Observation, ...], retry_after: float | None
) -> None:
    """aiohttp hands us a CIMultiDictProxy: duplicates and original case preserved."""
    proxy = multidict.CIMultiDictProxy(multidict.CIMultiDict(headers))
    snapshot = parse_rate_limit_headers(proxy, status=200, now=NOW)
    assert snapshot.observations == expected
    assert snapshot.retry_after == retry_after


def _distinct_names(vector: Any) -> bool:
    headers = cast("Headers", vector.values[0])
    return len({name for name, _ in headers}) == len(headers)


@pytest.mark.parametrize(
    ("headers", "expected", "retry_after"), [v for v in VECTORS if _distinct_names(v)]
)
def test_vectors_through_plain_mapping(
    headers: Headers, expected: tuple[Observation, ...], retry_after: float | None
) -> None:
    """A plain dict gives the same answer; names differing only in case are still joined."""
    snapshot = parse_rate_limit_headers(dict(headers), now=NOW)
    assert snapshot.observations == expected
    assert snapshot.retry_after == retry_after


# --- time references ---------------------------------------------------------------------------

GITHUB = [
    ("x-ratelimit-limit", "5000"),
    ("x-ratelimit-remaining", "4999"),
    ("x-ratelimit-reset", "1486865204"),
]


def test_epoch_without_date_uses_now() -> None:
    snapshot = parse_rate_limit_headers(GITHUB, now=1_486_865_204.0 - 1800)
    assert snapshot.observations == (obs(SOURCE_X, limit=5000, remaining=4999, reset=1800.0),)
    assert snapshot.server_date is None


def test_epoch_with_date_ignores_local_clock() -> None:
    headers = [*GITHUB, ("Date", "Sun, 12 Feb 2017 02:05:44 GMT")]
    for now in (0.0, NOW, None):
        snapshot = parse_rate_limit_headers(headers, now=now)
        assert snapshot.observations[0].reset_after == 60.0
        assert snapshot.server_date == 1_486_865_144.0


def test_invalid_date_falls_back_to_now() -> None:
    headers = [*GITHUB, ("Date", "yesterday-ish")]
    snapshot = parse_rate_limit_headers(headers, now=1_486_865_204.0 - 5)
    assert snapshot.observations[0].reset_after == 5.0
    assert snapshot.server_date is None


def test_now_defaults_to_the_local_clock() -> None:
    soon = time.time() + 3600
    snapshot = parse_rate_limit_headers([("X-RateLimit-Reset", str(int(soon)))])
    reset = snapshot.observations[0].reset_after
    assert reset is not None
    assert 3590 < reset <= 3600


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("auto", "30", 30.0),
        ("auto", "999999999", MAX_DELAY),  # below 1e9 is a delta (capped at ten years)
        ("auto", "1700000030", 30.0),
        ("auto", "1700000030000", 30.0),
        ("delta", "30", 30.0),
        ("delta", "1700000030", MAX_DELAY),  # trusted as a delta, then capped
        ("epoch", "1700000030", 30.0),
        ("epoch", "1700000030000", 30.0),
        ("epoch", "30", 0.0),  # an epoch in 1970 is long past
        ("epoch", "Tue, 14 Nov 2023 22:13:50 GMT", 30.0),  # text is a date whatever the kind
        ("delta", "2023-11-14T22:13:50+00:00", 30.0),
    ],
)
def test_reset_kind(kind: Any, value: str, expected: float) -> None:
    snapshot = parse_rate_limit_headers(
        [("Date", NOW_DATE), ("X-RateLimit-Reset", value)], now=0.0, reset_kind=kind
    )
    assert snapshot.observations == (obs(SOURCE_X, reset=expected),)


def test_reset_kind_does_not_apply_to_draft_deltas() -> None:
    """t= and reset= are deltas by definition; "epoch" is meant for legacy vendor headers."""
    snapshot = parse_rate_limit_headers(
        [("RateLimit", '"p";r=1;t=30'), ("X-RateLimit-Reset", "1700000060")],
        now=NOW,
        reset_kind="epoch",
    )
    assert snapshot.observations == (named("p", remaining=1, reset=30.0), obs(SOURCE_X, reset=60.0))


# --- Retry-After -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Tue, 14 Nov 2023 22:15:20 GMT", 120.0, id="imf-fixdate"),
        pytest.param("Tuesday, 14-Nov-23 22:15:20 GMT", 120.0, id="rfc850"),
        pytest.param("Tue Nov 14 22:15:20 2023", 120.0, id="asctime"),
        pytest.param("Tue, 14 Nov 2023 22:15:20 UTC", 120.0, id="utc-zone"),
        pytest.param("Tue, 14 Nov 2023 23:15:20 +0100", 120.0, id="numeric-zone"),
        pytest.param("Tue, 14 Nov 2023 22:00:00 GMT", 0.0, id="past-date"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-1", None, id="negative"),
        pytest.param("1.5", 1.5, id="decimal"),
        pytest.param("  120 ", 120.0, id="padded"),
        pytest.param("soon", None, id="junk"),
        pytest.param("", None, id="empty"),
        pytest.param("1e3", None, id="exponent"),
        pytest.param("١٢٠", None, id="non-ascii-digits"),
        pytest.param("9" * 30, MAX_DELAY, id="absurd-capped"),
        pytest.param("Fri, 31 Dec 9999 23:59:59 GMT", MAX_DELAY, id="far-future-capped"),
        pytest.param("Tue, 31 Feb 2023 22:15:20 GMT", None, id="impossible-date"),
    ],
)
def test_retry_after(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected
    snapshot = parse_rate_limit_headers([("Date", NOW_DATE), ("Retry-After", value)], now=0.0)
    assert snapshot.retry_after == expected
    assert snapshot.observations == ()
    if expected is None:
        assert snapshot is EMPTY_SNAPSHOT


def test_retry_after_prefers_server_date() -> None:
    value = "Tue, 14 Nov 2023 22:13:40 GMT"  # NOW + 20
    assert parse_retry_after(value, now=NOW) == 20.0
    assert parse_retry_after(value, now=NOW, server_date=NOW - 100) == 120.0
    assert parse_rate_limit_headers([("Retry-After", value)], now=NOW).retry_after == 20.0
    with_date = [("Date", EARLY_DATE), ("Retry-After", value)]
    assert parse_rate_limit_headers(with_date, now=NOW).retry_after == 120.0


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_asctime_is_utc_on_a_non_utc_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """email.utils.mktime_tz would read the zone-less asctime form as local time."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_http_date("Sun Nov  6 08:49:37 1994") == RFC_EXAMPLE
        assert parse_retry_after("Tue Nov 14 22:15:20 2023", now=NOW) == 120.0
    finally:
        monkeypatch.undo()
        time.tzset()


# --- HTTP-date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE),
        ("Sunday, 06-Nov-94 08:49:37 GMT", RFC_EXAMPLE),
        ("Sun Nov  6 08:49:37 1994", RFC_EXAMPLE),
        ("sun, 06 nov 1994 08:49:37 gmt", RFC_EXAMPLE),
        ("Sun, 06 Nov 1994 08:49:37", RFC_EXAMPLE),
        ("Sun, 06 Nov 1994 09:49:37 +01:00", RFC_EXAMPLE),
        ("Sun, 06 Nov 1994 03:49:37 -0500", RFC_EXAMPLE),
        ("Sat, 31 Dec 2016 23:59:60 GMT", 1_483_228_799.0),  # leap second
        ("Sun, 06 Nov 1994 24:00:00 GMT", None),
        ("Sun, 06 Foo 1994 08:49:37 GMT", None),
        ("Sun, 06 Nov 1994 08:49:37 EST", None),
        ("1994-11-06T08:49:37Z", None),  # not an HTTP-date (accepted only for resets)
        ("", None),
    ],
)
def test_parse_http_date(value: str, expected: float | None) -> None:
    assert parse_http_date(value) == expected


def test_rfc850_two_digit_year_is_never_far_future() -> None:
    """RFC 9110: a two-digit year over 50 years ahead means the previous century."""
    year = time.gmtime().tm_year
    for ahead, expected_year in ((40, year + 40), (60, year + 60 - 100)):
        two_digits = (year + ahead) % 100
        stamp = parse_http_date(f"Monday, 01-Jan-{two_digits:02d} 00:00:00 GMT")
        assert stamp is not None
        assert time.gmtime(stamp).tm_year == expected_year


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=253_402_300_799))
def test_http_date_round_trips(stamp: int) -> None:
    assert parse_http_date(email.utils.formatdate(stamp, usegmt=True)) == float(stamp)
    t = time.gmtime(stamp)
    asctime = time.strftime("%a %b ", t) + f"{t.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y", t)
    assert parse_http_date(asctime) == float(stamp)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=10**12))
def test_delay_seconds_round_trip(seconds: int) -> None:
    assert parse_retry_after(f" {seconds} ") == min(float(seconds), MAX_DELAY)


# --- fast path, inputs, logging ----------------------------------------------------------------

PLAIN = {
    "Content-Type": "application/json",
    "Content-Length": "1234",
    "Date": NOW_DATE,
    "Server": "nginx",
    "Connection": "keep-alive",
    "Vary": "Accept-Encoding",
    "X-Request-Id": "abc",
    "Strict-Transport-Security": "max-age=31536000",
}


@pytest.mark.parametrize(
    "headers",
    [
        PLAIN,
        multidict.CIMultiDictProxy(multidict.CIMultiDict(PLAIN)),
        list(PLAIN.items()),
        iter(PLAIN.items()),
        {},
        [("Date", NOW_DATE)],
        [("RateLimit-Observed", "67")],  # a rate-limit name we do not use
        [("RateLimit", "garbage=yes"), ("X-RateLimit-Limit", "lots")],
        [("X-RateLimit-Remaining-Fortnight", "3")],
    ],
    ids=[
        "dict",
        "multidict",
        "pairs",
        "iterator",
        "empty",
        "date-only",
        "unused",
        "junk",
        "unknown",
    ],
)
def test_nothing_usable_returns_the_shared_empty_snapshot(headers: Any) -> None:
    snapshot = parse_rate_limit_headers(headers, now=NOW)
    assert snapshot is EMPTY_SNAPSHOT
    assert not snapshot


def test_snapshot_truthiness() -> None:
    assert not EMPTY_SNAPSHOT
    assert RateLimitSnapshot() == EMPTY_SNAPSHOT
    assert RateLimitSnapshot(retry_after=0.0)
    assert RateLimitSnapshot(observations=(obs(SOURCE_X, remaining=1),))
    assert not RateLimitSnapshot(server_date=NOW)


def test_observation_is_frozen_and_hashable() -> None:
    o = obs(SOURCE_X, limit=1)
    with pytest.raises(AttributeError):
        o.limit = 2  # type: ignore[misc]
    assert len({o, obs(SOURCE_X, limit=1)}) == 1


def test_header_names_are_case_insensitive() -> None:
    variants = [
        [("ratelimit-limit", "10"), ("x-ratelimit-remaining-minute", "4"), ("retry-after", "3")],
        [("RATELIMIT-LIMIT", "10"), ("X-RATELIMIT-REMAINING-MINUTE", "4"), ("RETRY-AFTER", "3")],
        [("RateLimit-Limit", "10"), ("X-RateLimit-Remaining-Minute", "4"), ("Retry-After", "3")],
    ]
    expected = RateLimitSnapshot((fields(limit=10), kong("minute", 60.0, None, 4)), 3.0, None)
    for headers in variants:
        assert parse_rate_limit_headers(headers, now=NOW) == expected
        proxy = multidict.CIMultiDictProxy(multidict.CIMultiDict(headers))
        assert parse_rate_limit_headers(proxy, now=NOW) == expected


def test_cimultidict_keeps_duplicates_in_mixed_case() -> None:
    md: multidict.CIMultiDict[str] = multidict.CIMultiDict()
    md.add("RateLimit", '"a";r=1')
    md.add("Content-Type", "text/plain")
    md.add("ratelimit", '"b";r=0;t=4')
    md.add("RATELIMIT-POLICY", '"b";q=5;w=10')
    snapshot = parse_rate_limit_headers(multidict.CIMultiDictProxy(md), now=NOW)
    assert snapshot.observations == (
        named("a", remaining=1),
        named("b", window=10.0, limit=5, remaining=0, reset=4.0),
    )


def test_server_date_is_reported() -> None:
    snapshot = parse_rate_limit_headers([("date", NOW_DATE), ("retry-after", "1")], now=0.0)
    assert snapshot.server_date == NOW


@pytest.mark.parametrize(
    "headers",
    [
        None,
        42,
        "RateLimit: 1",
        [("RateLimit-Limit",)],
        [(b"RateLimit-Limit", b"10")],
        [(7, "10")],
        {"RateLimit-Limit": None, "Retry-After": 5},
    ],
    ids=["none", "int", "str", "short-pair", "bytes", "int-name", "non-str-values"],
)
def test_wrong_input_types_never_raise(headers: Any) -> None:
    assert parse_rate_limit_headers(headers, now=NOW) is EMPTY_SNAPSHOT
    assert parse_retry_after(headers) is None
    assert parse_http_date(headers) is None


def test_non_str_values_are_skipped_not_fatal() -> None:
    headers = cast(
        "Any", [("RateLimit-Limit", None), ("RateLimit-Limit", "10"), ("Retry-After", b"5")]
    )
    assert parse_rate_limit_headers(headers, now=NOW) == RateLimitSnapshot((fields(limit=10),))


def test_logs_only_the_rate_limit_header(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="circleci_async.ratelimit")
    secret = "ccipat_SECRET-TOKEN-VALUE"
    headers = [
        ("Circle-Token", secret),
        ("Authorization", f"Basic {secret}"),
        ("Set-Cookie", f"session={secret}"),
        ("RateLimit-Remaining", "not-a-number"),
        ("Retry-After", "whenever"),
    ]
    assert parse_rate_limit_headers(headers, now=NOW) is EMPTY_SNAPSHOT
    assert "not-a-number" in caplog.text
    assert "whenever" in caplog.text
    assert secret not in caplog.text
    assert all(r.name == "circleci_async.ratelimit" for r in caplog.records)
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


def test_long_values_are_truncated_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="circleci_async.ratelimit")
    parse_rate_limit_headers([("RateLimit-Remaining", "x" * 10_000)], now=NOW)
    assert "x" * 200 in caplog.text
    assert "x" * 201 not in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        "Sun" + " " * 50_000 + "x",
        "Sun Nov" + " " * 50_000 + "6 x",
        '"p";r=x' + " " * 50_000 + "y",
        ",;" * 50_000,
        '"a"' * 50_000,
        " " * 50_000 + "1" + " " * 50_000 + "x",
    ],
    ids=["imf", "asctime", "param", "separators", "strings", "padded-number"],
)
def test_hostile_values_are_refused_whole(value: str) -> None:
    """Values shaped to make a backtracking parser quadratic (seconds each at this size) are
    refused, every header of them. No clock is read (the suite has no timed assertions): a
    parser gone quadratic again shows as this test taking minutes."""
    names = ["RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Reset", "Retry-After"]
    headers = [(name, value) for name in names] + [("Date", value), ("X-RateLimit-Reset", value)]
    assert parse_rate_limit_headers(headers, now=NOW) is EMPTY_SNAPSHOT


def test_over_long_structured_field_is_dropped_rest_kept() -> None:
    huge = ", ".join(f'"p{i}";r={i}' for i in range(1000))
    headers = [("RateLimit", huge), ("RateLimit-Remaining", "3")]
    assert parse_rate_limit_headers(headers, now=NOW).observations == (fields(remaining=3),)


def test_internal_errors_are_contained(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The safety net holds even if a bug slips into the dialect parsers."""

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(_entry, "_build", broken)
    caplog.set_level(logging.DEBUG, logger="circleci_async.ratelimit")
    assert parse_rate_limit_headers([("X-RateLimit-Limit", "1")], now=NOW) is EMPTY_SNAPSHOT
    assert "RuntimeError" in caplog.text


# --- properties --------------------------------------------------------------------------------

RATE_LIMIT_NAMES = [
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-ResetTime",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "X-RateLimit-Used",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Reset",
    "X-RateLimit-Limit-Minute",
    "X-RateLimit-Remaining-Second",
    "X-RateLimit-Remaining-Year",
    "Retry-After",
    "Date",
]

FRAGMENTS = [
    '"p"',
    '"q";',
    "p;",
    '"',
    "\\",
    ";",
    ",",
    ", ",
    "=",
    "r=",
    "t=",
    "q=",
    "w=",
    "pk=:YWJj:",
    'qu="requests"',
    ";r=",
    ";t=",
    ";q=",
    ";w=",
    "limit=",
    "remaining=",
    "reset=",
    "-",
    ".",
    "0",
    "1",
    "59.0",
    "-1",
    "1e3",
    "nan",
    "inf",
    "9" * 40,
    "1700000000",
    "1700000000000",
    " ",
    "\t",
    "\x00",
    "\r\n",
    "é",
    "٣",
    "GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "2023-11-14T22:13:20Z",
    "Sunday, 06-Nov-94 08:49:37 GMT",
]

grammar_values = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
values = st.one_of(grammar_values, numbers, st.text(max_size=60))


@st.composite
def header_names(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        name = draw(st.sampled_from(RATE_LIMIT_NAMES))
        return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in name)
    return draw(st.one_of(st.text(max_size=20), st.sampled_from(["ratelimit-", "x-ratelimit-x"])))


header_lists = st.lists(st.tuples(header_names(), values), max_size=10)


def check_invariants(snapshot: RateLimitSnapshot) -> None:
    assert isinstance(snapshot, RateLimitSnapshot)
    if not snapshot:
        assert snapshot is EMPTY_SNAPSHOT
    assert len(set(snapshot.observations)) == len(snapshot.observations)
    for o in snapshot.observations:
        assert o.source in SOURCES
        assert o.remaining is None or o.remaining >= 0
        assert o.limit is None or o.limit >= 0
        assert o.used is None or o.used >= 0
        assert o.reset_after is None or 0.0 <= o.reset_after <= MAX_DELAY
        assert o.window is None or 0.0 < o.window <= MAX_DELAY
        assert o.source != SOURCE_X_WINDOW or o.reset_after is None
        assert any(v is not None for v in (o.limit, o.remaining, o.reset_after, o.used))
    assert snapshot.retry_after is None or 0.0 <= snapshot.retry_after <= MAX_DELAY
    assert snapshot.server_date is None or math.isfinite(snapshot.server_date)


def _pairs(headers: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    yield from headers


@settings(max_examples=300)
@given(header_lists, st.sampled_from(["auto", "delta", "epoch"]))
def test_parser_never_raises_and_keeps_invariants(
    headers: list[tuple[str, str]], kind: Any
) -> None:
    # The unguarded core must not need the safety net in parse_rate_limit_headers.
    check_invariants(_entry._parse(headers, NOW, kind))
    check_invariants(parse_rate_limit_headers(_pairs(headers), now=NOW, reset_kind=kind))
    proxy = multidict.CIMultiDictProxy(multidict.CIMultiDict(headers))
    check_invariants(_entry._parse(proxy, None, kind))


@settings(max_examples=300)
@given(values, st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
def test_retry_after_never_raises(value: str, now: float | None) -> None:
    delay = parse_retry_after(value, now=now)
    assert delay is None or 0.0 <= delay <= MAX_DELAY
    stamp = parse_http_date(value)
    assert stamp is None or math.isfinite(stamp)


@settings(max_examples=300)
@given(grammar_values, grammar_values)
def test_structured_fragments_never_raise(limit_value: str, policy_value: str) -> None:
    headers = [("RateLimit", limit_value), ("RateLimit-Policy", policy_value)]
    check_invariants(_entry._parse(headers, NOW, "auto"))
    legacy = [("RateLimit-Limit", limit_value), ("RateLimit-Policy", policy_value)]
    check_invariants(_entry._parse(legacy, NOW, "auto"))


@settings(max_examples=300)
@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz -_", min_size=1, max_size=12),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=10**6),
)
def test_well_formed_draft_08_round_trips(
    name: str, remaining: int, reset: int, quota: int, window: int
) -> None:
    headers = [
        ("RateLimit", f'"{name}";r={remaining};t={reset}'),
        ("RateLimit-Policy", f'"{name}";q={quota};w={window}'),
    ]
    snapshot = parse_rate_limit_headers(headers, now=NOW)
    assert snapshot.observations == (
        named(name, window=float(window), limit=quota, remaining=remaining, reset=float(reset)),
    )


def test_calendar_sanity_of_constants() -> None:
    """The fixed instants the vectors rely on are what their comments say."""
    assert calendar.timegm((2023, 11, 14, 22, 13, 20)) == NOW
    assert parse_http_date(NOW_DATE) == NOW
    assert parse_http_date(EARLY_DATE) == NOW - 100
    assert calendar.timegm((1994, 11, 6, 8, 49, 37)) == RFC_EXAMPLE


# --- the fast path ----------------------------------------------------------------------------

_SIMPLE = sorted(_fast.SIMPLE_NAMES)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(_SIMPLE),
        st.one_of(
            st.integers(min_value=0, max_value=2 * 10**12).map(str),
            st.sampled_from(["", "1.5", " 7", "-1", "10, 10", "١٢"]),  # not simple: general path
        ),
        max_size=8,
    ),
    st.sampled_from([None, NOW_DATE, "garbage"]),
)
def test_fast_path_agrees_with_the_general_parser(fields: dict[str, str], date: str | None) -> None:
    found = {name: [value] for name, value in fields.items()}
    for kind in ("auto", "delta"):
        fast = _entry._build(found, date, NOW, kind)
        general = _entry._build_general(found, date, NOW, kind)
        assert fast == general


_COUNT = st.one_of(
    st.integers(min_value=0, max_value=2 * 10**12).map(str),
    st.sampled_from(["0", "1.5", "-1", "١٢", ""]),
)


@settings(max_examples=300, deadline=None)
@given(
    limit=_COUNT,
    remaining=_COUNT,
    reset=_COUNT,
    separator=st.sampled_from([", ", ",", " , ", ";"]),
    policy=st.one_of(
        st.none(),
        st.tuples(_COUNT, _COUNT).map(lambda qw: f"{qw[0]};w={qw[1]}"),
        st.sampled_from(["100;w=60, 1000;w=3600", '"burst";q=100;w=60', "100"]),
    ),
    same_quota=st.booleans(),
    fields=st.dictionaries(st.sampled_from(_SIMPLE), st.integers(0, 10**6).map(str), max_size=3),
    date=st.sampled_from([None, NOW_DATE]),
)
def test_fast_path_agrees_on_the_ietf_dictionary(
    limit: str,
    remaining: str,
    reset: str,
    separator: str,
    policy: str | None,
    same_quota: bool,
    fields: dict[str, str],
    date: str | None,
) -> None:
    """The -07 ``RateLimit`` dictionary (and its ``RateLimit-Policy``), alone or beside other
    fields: the fast path reads what the general parser reads, or leaves it to it."""
    if policy is not None and same_quota and ";w=" in policy and "," not in policy:
        policy = f"{limit};w={policy.split(';w=')[1]}"
    found = {name: [value] for name, value in fields.items()}
    found["ratelimit"] = [f"limit={limit}{separator}remaining={remaining}{separator}reset={reset}"]
    if policy is not None:
        found["ratelimit-policy"] = [policy]
    for kind in ("auto", "delta"):
        assert _entry._build(found, date, NOW, kind) == _entry._build_general(
            found, date, NOW, kind
        )


def test_the_usual_ietf_dictionary_takes_the_fast_path() -> None:
    found = {
        "ratelimit": ["limit=10000000, remaining=9999999, reset=60"],
        "ratelimit-policy": ["10000000;w=60"],
    }
    fast = _fast.build_simple(found, NOW_DATE)
    assert fast is not None and fast.observations[0].window == 60.0
    assert fast == _entry._build_general(found, NOW_DATE, NOW, "auto")


def test_circleci_shapes_take_the_fast_path() -> None:
    found = {
        "ratelimit-limit": ["10"],
        "ratelimit-remaining": ["0"],
        "ratelimit-reset": ["7"],
        "x-ratelimit-limit-second": ["10"],
        "x-ratelimit-remaining-second": ["0"],
        "x-ratelimit-limit-hour": ["2000"],
        "x-ratelimit-remaining-hour": ["1500"],
        "retry-after": ["7"],
    }
    fast = _fast.build_simple(found, NOW_DATE)
    assert fast is not None
    assert fast == _entry._build_general(found, NOW_DATE, NOW, "auto")
