"""The OpenTelemetry observer, read back through the SDK's in-memory exporter and reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

from circleci_async import CircleCI, RateLimitConfig
from circleci_async.errors import CircleCIError
from circleci_async.otel import DURATION_BUCKETS, OpenTelemetryObserver, aiohttp_instrumented
from circleci_async.testing import FakeCircleCI
from circleci_async.testing._faults import Fault
from circleci_async.testing._ratelimit import RateLimitPolicy
from circleci_async.testing.artifacts import ArtifactServers

from ._download_support import download_watched
from .conftest import TOKEN

UNPACED = RateLimitConfig(initial_rate=None)


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.observer = OpenTelemetryObserver(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def metrics(self, scope_name: str | None = None) -> dict[str, list[Any]]:
        """Data points by metric name (of one instrumentation scope, when named)."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                if scope_name is not None and scope.scope.name != scope_name:
                    continue
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.shutdown()


@pytest.fixture
async def traced(fake: FakeCircleCI, otel: Telemetry) -> AsyncIterator[CircleCI]:
    async with CircleCI(
        TOKEN, base_url=fake.url, rate_limit=UNPACED, observers=[otel.observer]
    ) as cci:
        yield cci


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_a_call_retried_after_a_429(
    fake: FakeCircleCI, traced: CircleCI, otel: Telemetry
) -> None:
    fake.rate_limit = RateLimitPolicy.circleci(per_second=50, per_minute=600)
    fake.inject(Fault("status", status=429, path="/me$", headers={"Retry-After": "0"}))
    await traced.users.me()
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "getCurrentUser"]
    assert call.kind is SpanKind.INTERNAL and call.parent is None
    hops = _children(spans, call)
    assert [h.name for h in hops] == ["GET", "GET"]
    assert all(h.kind is SpanKind.CLIENT for h in hops)
    first, second = sorted(hops, key=lambda s: s.start_time or 0)
    port = URL(fake.url).port
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.request.method"] == "GET"
    assert first.attributes["server.address"] == "127.0.0.1"
    assert first.attributes["server.port"] == port
    assert first.attributes["url.full"] == f"{fake.url}/me"
    assert first.attributes["http.response.status_code"] == 429
    assert first.attributes["error.type"] == "429"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["http.request.resend_count"] == 1
    assert "error.type" not in second.attributes
    assert [e.name for e in call.events if e.name == "retry"] == ["retry"]
    assert call.status.status_code is not StatusCode.ERROR

    metrics = otel.metrics()
    durations = metrics["http.client.request.duration"]
    by_status = {p.attributes["http.response.status_code"]: p for p in durations}
    assert by_status[429].count == 1 and by_status[200].count == 1
    assert tuple(by_status[200].explicit_bounds) == tuple(float(b) for b in DURATION_BUCKETS)
    assert sum(p.value for p in metrics["circleci.retries"]) == 1
    assert sum(p.value for p in metrics["circleci.rate_limited"]) == 1
    remaining = metrics["circleci.rate_limit.remaining"]
    assert remaining and 0 <= remaining[0].value <= 600  # the tightest window left


async def test_a_post_that_failed(fake: FakeCircleCI, traced: CircleCI, otel: Telemetry) -> None:
    fake.inject(Fault("disconnect", method="POST"))
    with pytest.raises(CircleCIError) as caught:
        await traced.pipelines.trigger("gh/acme/widgets", branch="main")
    error_type = type(caught.value).__name__
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "triggerPipeline"]
    (hop,) = _children(spans, call)
    assert hop.name == "POST" and hop.attributes is not None
    assert hop.attributes["error.type"] == error_type
    assert "http.response.status_code" not in hop.attributes
    assert hop.status.status_code is StatusCode.ERROR
    assert call.attributes is not None and call.attributes["error.type"] == error_type
    assert call.status.status_code is StatusCode.ERROR
    (point,) = otel.metrics()["http.client.request.duration"]
    assert point.attributes["error.type"] == error_type and point.count == 1
    assert "circleci.retries" not in otel.metrics()


async def test_the_call_span_is_current_only_while_the_call_runs(
    fake: FakeCircleCI, traced: CircleCI, otel: Telemetry
) -> None:
    """Spans the application starts inside a call hang under it; after the call, failed or
    not, the caller's span is current again (the call span never leaks into later work)."""
    from opentelemetry import trace

    app = otel.tracer_provider.get_tracer("app")
    with app.start_as_current_span("handler") as handler:
        await traced.users.me()
        assert trace.get_current_span() is handler
        fake.inject(Fault("disconnect", method="POST"))
        with pytest.raises(CircleCIError):
            await traced.pipelines.trigger("gh/acme/widgets", branch="main")
        assert trace.get_current_span() is handler
    assert trace.get_current_span() is trace.INVALID_SPAN
    spans = otel.finished()
    (outer,) = [s for s in spans if s.name == "handler"]
    calls = [s for s in spans if s.name in ("getCurrentUser", "triggerPipeline")]
    assert len(calls) == 2 and all(_children(spans, outer).count(c) == 1 for c in calls)


async def test_a_redirected_download(fake: FakeCircleCI, otel: Telemetry, tmp_path: Path) -> None:
    async with ArtifactServers(token=TOKEN) as hosts:
        item = hosts.add("out/data.bin", b"d" * 5000, hops=2)
        results = await download_watched(
            fake.url, hosts, [item], tmp_path, otel.observer, token=TOKEN
        )
    assert results.ok
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "download"]
    hops = sorted(_children(spans, call), key=lambda s: s.start_time or 0)
    assert len(hops) >= 3
    statuses = [h.attributes["http.response.status_code"] for h in hops if h.attributes]
    assert statuses[-1] == 200 and all(300 <= s < 400 for s in statuses[:-1])
    assert [h.attributes["http.request.resend_count"] for h in hops[1:] if h.attributes] == list(
        range(1, len(hops))
    )
    storage = hops[-1].attributes
    assert storage is not None
    url = str(storage["url.full"])
    assert "X-Amz-Signature=***" in url and "X-Amz-Credential=***" in url
    assert TOKEN not in repr([s.to_json() for s in spans])
    (downloaded,) = otel.metrics()["circleci.download.bytes"]
    assert downloaded.value == 5000


# -- beside opentelemetry-instrumentation-aiohttp-client ("the generic instrumentation") -------

OURS = "circleci_async"
GENERIC = "opentelemetry.instrumentation.aiohttp_client"


@pytest.fixture
def generic(otel: Telemetry) -> Iterator[Any]:
    """The generic instrumentation active (for sessions made during the test), on ``otel``'s
    providers; uninstrumented after, so other tests see plain aiohttp."""
    module = pytest.importorskip("opentelemetry.instrumentation.aiohttp_client")
    instrumentor = module.AioHttpClientInstrumentor()
    assert not instrumentor.is_instrumented_by_opentelemetry  # no test left it on
    instrumentor.instrument(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider
    )
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


def _scope(span: ReadableSpan) -> str:
    return span.instrumentation_scope.name if span.instrumentation_scope else ""


def _clients(spans: list[ReadableSpan], scope: str) -> list[ReadableSpan]:
    """The CLIENT spans of one instrumentation scope, in start order."""
    found = [s for s in spans if s.kind is SpanKind.CLIENT and _scope(s) == scope]
    return sorted(found, key=lambda s: s.start_time or 0)


def _attr(span: ReadableSpan, *names: str) -> Any:
    """The first of ``names`` the span has: the generic instrumentation writes the old HTTP
    conventions (``http.url``, ``http.status_code``) unless OTEL_SEMCONV_STABILITY_OPT_IN says
    ``http`` (``url.full``, ...) or ``http/dup`` (both)."""
    attributes = span.attributes or {}
    for name in names:
        if name in attributes:
            return attributes[name]
    raise AssertionError(f"{span.name} has none of {names}: {dict(attributes)}")


def _status(span: ReadableSpan) -> Any:
    return _attr(span, "http.response.status_code", "http.status_code")


def _url(span: ReadableSpan) -> str:
    return str(_attr(span, "url.full", "http.url"))


def _retry_me_once(fake: FakeCircleCI) -> None:
    fake.rate_limit = RateLimitPolicy.circleci(per_second=50, per_minute=600)
    fake.inject(Fault("status", status=429, path="/me$", headers={"Retry-After": "0"}))


def test_detection_follows_the_instrumentor(otel: Telemetry) -> None:
    module = pytest.importorskip("opentelemetry.instrumentation.aiohttp_client")
    instrumentor = module.AioHttpClientInstrumentor()
    assert not aiohttp_instrumented()
    instrumentor.instrument(tracer_provider=otel.tracer_provider)
    try:
        assert aiohttp_instrumented()
    finally:
        instrumentor.uninstrument()
    assert not aiohttp_instrumented()


async def test_beside_the_generic_instrumentation_each_hop_is_traced_once(
    fake: FakeCircleCI, otel: Telemetry, generic: Any
) -> None:
    _retry_me_once(fake)
    app = otel.tracer_provider.get_tracer("app")
    with app.start_as_current_span("handler") as handler:
        async with CircleCI(
            TOKEN, base_url=fake.url, rate_limit=UNPACED, observers=[otel.observer]
        ) as cci:
            await cci.users.me()
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "getCurrentUser"]
    assert _scope(call) == OURS and call.kind is SpanKind.INTERNAL
    assert [e.name for e in call.events if e.name == "retry"] == ["retry"]
    assert _clients(spans, OURS) == []
    hops = _clients(spans, GENERIC)
    assert [_status(h) for h in hops] == [429, 200]  # one per hop: the 429 and the retry
    assert all(_url(h) == f"{fake.url}/me" for h in hops)
    # One trace: the call span and the generic hop spans both hang under the app's span.
    trace_id = handler.get_span_context().trace_id
    assert {s.context.trace_id for s in [call, *hops]} == {trace_id}
    assert call.parent is not None and call.parent.span_id == handler.get_span_context().span_id
    # Our metrics stay (the generic ones are under its own scope).
    durations = otel.metrics(OURS)["http.client.request.duration"]
    assert sorted(p.attributes["http.response.status_code"] for p in durations) == [200, 429]
    assert sum(p.value for p in otel.metrics(OURS)["circleci.retries"]) == 1


async def test_the_generic_hop_spans_hang_under_the_call_span(
    fake: FakeCircleCI, otel: Telemetry, generic: Any
) -> None:
    _retry_me_once(fake)
    async with CircleCI(
        TOKEN, base_url=fake.url, rate_limit=UNPACED, observers=[otel.observer]
    ) as cci:
        await cci.users.me()
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "getCurrentUser"]
    hops = _clients(spans, GENERIC)
    assert len(hops) == 2 and _children(spans, call) == hops


async def test_hop_spans_true_keeps_ours_beside_the_generic_ones(
    fake: FakeCircleCI, otel: Telemetry, generic: Any
) -> None:
    observer = OpenTelemetryObserver(
        tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider, hop_spans=True
    )

    async def me(session: aiohttp.ClientSession) -> tuple[ReadableSpan, list[ReadableSpan]]:
        otel.spans.clear()
        _retry_me_once(fake)
        async with CircleCI(
            TOKEN, base_url=fake.url, session=session, rate_limit=UNPACED, observers=[observer]
        ) as cci:
            await cci.users.me()
        spans = otel.finished()
        (call,) = [s for s in spans if s.name == "getCurrentUser"]
        return call, spans

    # Both trace each hop: the duplicates the docstring warns of.
    async with aiohttp.ClientSession() as session:
        call, spans = await me(session)
    ours, theirs = _clients(spans, OURS), _clients(spans, GENERIC)
    assert [_status(h) for h in ours] == [429, 200] == [_status(h) for h in theirs]
    children = {h.context.span_id for h in _children(spans, call) if h.context is not None}
    assert children == {h.context.span_id for h in ours + theirs if h.context is not None}
    # The docstring's remedy: the generic instrumentation turned off for this session.
    async with aiohttp.ClientSession() as session:
        generic.uninstrument_session(session)
        call, spans = await me(session)
    assert _clients(spans, GENERIC) == []
    assert [_status(h) for h in _children(spans, call)] == [429, 200]


@pytest.mark.parametrize("hop_spans", [None, True])
async def test_the_generic_instrumentation_records_presigned_signatures(
    fake: FakeCircleCI, otel: Telemetry, generic: Any, tmp_path: Path, hop_spans: bool | None
) -> None:
    """Recent releases redact only AWSAccessKeyId, Signature, sig and X-Goog-Signature (SigV2,
    Azure, GCS), older ones no query: a SigV4 X-Amz-Signature is recorded in clear. Ours never
    carry it."""
    observer = OpenTelemetryObserver(
        tracer_provider=otel.tracer_provider,
        meter_provider=otel.meter_provider,
        hop_spans=hop_spans,
    )
    async with ArtifactServers(token=TOKEN) as hosts:
        item = hosts.add("out/data.bin", b"d" * 5000, hops=2)
        results = await download_watched(fake.url, hosts, [item], tmp_path, observer, token=TOKEN)
    assert results.ok
    spans = otel.finished()
    (call,) = [s for s in spans if s.name == "download"]
    assert _url(call) == item["url"]  # the call span names the artifact, not the storage URL
    hops = _clients(spans, GENERIC)
    assert [_status(h) for h in hops] == [302, 302, 200]  # artifact host twice, then storage
    storage = urlsplit(_url(hops[-1]))
    assert storage.hostname == hosts.storage_host
    signature = parse_qs(storage.query)["X-Amz-Signature"][0]
    assert len(signature) >= 16 and set(signature) != {"*"} and signature != "REDACTED"
    ours = _clients(spans, OURS)
    if hop_spans:
        assert [_status(h) for h in ours] == [302, 302, 200]
        assert "X-Amz-Signature=***" in _url(ours[-1])
    else:
        assert ours == []
    ours_text = repr([s.to_json() for s in spans if _scope(s) == OURS])
    assert signature not in ours_text
    assert TOKEN not in repr([s.to_json() for s in spans])
