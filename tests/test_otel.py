"""The OpenTelemetry observer, read back through the SDK's in-memory exporter and reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

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
from circleci_async.otel import DURATION_BUCKETS, OpenTelemetryObserver
from circleci_async.testing import FakeCircleCI
from circleci_async.testing._faults import Fault
from circleci_async.testing._ratelimit import RateLimitPolicy
from circleci_async.testing.artifacts import ArtifactServers

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

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
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


async def test_a_redirected_download(fake: FakeCircleCI, otel: Telemetry, tmp_path: Path) -> None:
    async with ArtifactServers(token=TOKEN) as hosts:
        item = hosts.add("out/data.bin", b"d" * 5000, hops=2)
        async with (
            hosts.session() as session,
            CircleCI(
                TOKEN,
                base_url=fake.url,
                session=session,
                token_origins=hosts.token_origins,
                rate_limit=UNPACED,
                observers=[otel.observer],
            ) as cci,
        ):
            results = await cci.artifacts.download([item], tmp_path)
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
