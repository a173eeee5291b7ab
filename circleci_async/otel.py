"""OpenTelemetry traces and metrics from the client's events (extra ``otel``: only
``opentelemetry-api`` is needed; the application brings the SDK and exporters).

``CircleCI(observers=[OpenTelemetryObserver()])``. Spans: one per logical call, named after the
operation id (``getPipelineById``; ``download`` for an artifact transfer), and under it one
``CLIENT`` span per HTTP hop, with the stable HTTP client semantic conventions
(``http.request.method``, ``server.address``, ``server.port``, ``url.full`` redacted, presigned
``X-Amz-*`` signatures included, ``http.response.status_code``, ``error.type``,
``http.request.resend_count``). Rate-limit waits and retries are events on the call's span.

Metrics: ``http.client.request.duration`` (s, the conventions' buckets), and
``circleci.rate_limit.wait.duration`` (s, by ``circleci.rate_limit.reason``),
``circleci.rate_limit.remaining`` (observable gauge: the lowest count left of the windows last
advertised), ``circleci.retries``, ``circleci.rate_limited`` (429 answers),
``circleci.download.bytes``.

With ``opentelemetry-instrumentation-aiohttp-client`` active (checked at the observer's first
request), aiohttp already makes a CLIENT span per request: by default (``hop_spans=None``) the
observer then makes none of its own, so no request is traced twice (the call spans and metrics
stay; with the stable conventions opted in, the instrumentation also records
``http.client.request.duration``, under its own scope). The call span is current while the
call runs, so its hop spans (and any the application makes meanwhile) are the call span's
children. It records the URL
(``http.url``, or ``url.full`` with ``OTEL_SEMCONV_STABILITY_OPT_IN=http``) with a presigned
``X-Amz-Signature`` in clear unless given a ``url_filter`` (recent releases redact only
``AWSAccessKeyId``, ``Signature``, ``sig`` and ``X-Goog-Signature``; older ones no query).
``hop_spans=True`` keeps ours: then pass a ``session=`` of your own and call
``AioHttpClientInstrumentor.uninstrument_session`` on it, or each hop is traced twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import events as ev

__all__ = ["DURATION_BUCKETS", "OpenTelemetryObserver"]

#: The HTTP semantic conventions' advised boundaries for ``http.client.request.duration``.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_MAX_OPEN = 10_000  # calls tracked at once (a call that never finishes must not grow this)


def aiohttp_instrumented() -> bool:
    """Whether opentelemetry-instrumentation-aiohttp-client is instrumenting aiohttp now."""
    module = sys.modules.get("opentelemetry.instrumentation.aiohttp_client")
    if module is None:
        return False
    instrumentor = getattr(module, "AioHttpClientInstrumentor", None)
    try:
        return bool(instrumentor().is_instrumented_by_opentelemetry) if instrumentor else False
    except Exception:  # a version with another shape: assume not
        return False


class OpenTelemetryObserver:
    """An observer turning the client's events into spans and metrics (module docstring)."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        hop_spans: bool | None = None,
    ) -> None:
        from ._version import __version__

        self._tracer = trace.get_tracer(
            "circleci_async", __version__, tracer_provider=tracer_provider
        )
        meter = metrics.get_meter("circleci_async", __version__, meter_provider=meter_provider)
        self._hop_spans = hop_spans
        self._calls: dict[int, trace.Span] = {}
        # The call span is made current while the call runs (in the caller's context), so
        # spans made inside it (the aiohttp instrumentation's, the app's own) are its children.
        self._current: dict[int, Token[otel_context.Context]] = {}
        self._hops: dict[int, trace.Span] = {}
        self._remaining: int | None = None
        self._duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._waits = meter.create_histogram(
            "circleci.rate_limit.wait.duration",
            unit="s",
            description="Time a request waited for the rate limiter, by reason.",
            explicit_bucket_boundaries_advisory=_WAIT_BUCKETS,
        )
        self._retries = meter.create_counter(
            "circleci.retries", unit="{retry}", description="Attempts retried."
        )
        self._limited = meter.create_counter(
            "circleci.rate_limited", unit="{response}", description="429 answers received."
        )
        self._bytes = meter.create_counter(
            "circleci.download.bytes", unit="By", description="Artifact bytes downloaded."
        )
        meter.create_observable_gauge(
            "circleci.rate_limit.remaining",
            callbacks=[self._observe_remaining],
            unit="{request}",
            description="Requests left in the tightest rate-limit window last advertised.",
        )

    def _observe_remaining(self, options: CallbackOptions) -> Iterable[Observation]:
        if self._remaining is None:
            return []
        return [Observation(self._remaining)]

    def __call__(self, event: ev.Event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    # -- spans --------------------------------------------------------------------------------

    def _started(self, event: ev.CallStarted) -> None:
        if len(self._calls) >= _MAX_OPEN:
            return
        span = self._tracer.start_span(
            event.operation or event.method,
            kind=SpanKind.INTERNAL,
            attributes={"http.request.method": event.method, "url.full": event.url},
        )
        self._calls[event.call] = span
        self._current[event.call] = otel_context.attach(trace.set_span_in_context(span))

    def _finished(self, event: ev.CallFinished) -> None:
        span = self._calls.pop(event.call, None)
        self._hops.pop(event.call, None)
        if span is None:
            return
        token = self._current.pop(event.call, None)
        if token is not None:
            otel_context.detach(token)
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        if event.error_type is not None:
            span.set_attribute("error.type", event.error_type)
            span.set_status(Status(StatusCode.ERROR, event.error_type))
        span.end()

    def _sent(self, event: ev.RequestSent) -> None:
        if self._hop_spans is None:
            self._hop_spans = not aiohttp_instrumented()
        if not self._hop_spans:
            return
        parent = self._calls.get(event.call)
        context = trace.set_span_in_context(parent) if parent is not None else None
        attributes: dict[str, Any] = {
            "http.request.method": event.method,
            "server.address": event.server_address,
            "url.full": event.url,
        }
        if event.server_port is not None:
            attributes["server.port"] = event.server_port
        resends = event.attempt - 1 + event.hop
        if resends:
            attributes["http.request.resend_count"] = resends
        if len(self._hops) < _MAX_OPEN:
            self._hops[event.call] = self._tracer.start_span(
                event.method,
                context=context or otel_context.get_current(),
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )

    def _received(self, event: ev.ResponseReceived) -> None:
        attributes = _metric_attributes(event.method, event.server_address, event.server_port)
        attributes["http.response.status_code"] = event.status
        if event.status >= 400:
            attributes["error.type"] = str(event.status)
        self._duration.record(event.duration, attributes)
        snapshot = event.rate_limit
        if snapshot is not None:
            left = [o.remaining for o in snapshot.observations if o.remaining is not None]
            if left:
                self._remaining = min(left)
        span = self._hops.pop(event.call, None)
        if span is None:
            return
        span.set_attribute("http.response.status_code", event.status)
        if event.status >= 400:
            span.set_attribute("error.type", str(event.status))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def _failed(self, event: ev.RequestFailed) -> None:
        attributes = _metric_attributes(event.method, event.server_address, event.server_port)
        attributes["error.type"] = event.error_type
        self._duration.record(event.duration, attributes)
        span = self._hops.pop(event.call, None)
        if span is None:
            return
        span.set_attribute("error.type", event.error_type)
        span.set_status(Status(StatusCode.ERROR, event.error_type))
        span.end()

    def _retry(self, event: ev.RetryScheduled) -> None:
        self._retries.add(1, {"error.type": event.error_type})
        span = self._calls.get(event.call)
        if span is not None:
            span.add_event(
                "retry",
                {
                    "circleci.retry.attempt": event.attempt,
                    "circleci.retry.delay": event.delay,
                    "circleci.retry.reason": event.reason,
                    "error.type": event.error_type,
                },
            )

    def _wait(self, event: ev.RateLimitWait) -> None:
        self._waits.record(event.seconds, {"circleci.rate_limit.reason": event.why})
        span = self._calls.get(event.call)
        if span is not None:
            span.add_event(
                "rate_limit.wait",
                {
                    "circleci.rate_limit.reason": event.why,
                    "circleci.rate_limit.wait": event.seconds,
                },
            )

    def _rate_limited(self, event: ev.RateLimited) -> None:
        self._limited.add(1)
        span = self._calls.get(event.call)
        if span is not None and event.retry_after is not None:
            span.add_event("rate_limited", {"circleci.rate_limit.retry_after": event.retry_after})

    def _changed(self, event: ev.RateLimitChanged) -> None:
        if event.view.remaining is not None:
            self._remaining = event.view.remaining

    def _downloaded(self, event: ev.DownloadFinished) -> None:
        if event.transferred:
            self._bytes.add(event.transferred, {"circleci.download.outcome": "finished"})

    def _download_failed(self, event: ev.DownloadFailed) -> None:
        if event.transferred:
            self._bytes.add(event.transferred, {"circleci.download.outcome": "failed"})


def _metric_attributes(method: str, address: str, port: int | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"http.request.method": method, "server.address": address}
    if port is not None:
        attributes["server.port"] = port
    return attributes


_HANDLERS: dict[type[Any], Any] = {
    ev.CallStarted: OpenTelemetryObserver._started,
    ev.CallFinished: OpenTelemetryObserver._finished,
    ev.RequestSent: OpenTelemetryObserver._sent,
    ev.ResponseReceived: OpenTelemetryObserver._received,
    ev.RequestFailed: OpenTelemetryObserver._failed,
    ev.RetryScheduled: OpenTelemetryObserver._retry,
    ev.RateLimitWait: OpenTelemetryObserver._wait,
    ev.RateLimited: OpenTelemetryObserver._rate_limited,
    ev.RateLimitChanged: OpenTelemetryObserver._changed,
    ev.DownloadFinished: OpenTelemetryObserver._downloaded,
    ev.DownloadFailed: OpenTelemetryObserver._download_failed,
}
