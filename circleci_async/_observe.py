"""Delivering events: the observer list, the operation id of the call in progress, the log
records the events also become, and the aiohttp trace config that reports pool waits.

Emit sites guard themselves with one cheap test (``if observers:``, or the logger's level for
the events that are also logged), so a client nobody watches builds no event and no redacted
URL. An observer that raises is logged once (per observer) and otherwise ignored.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import aiohttp
import attrs
from yarl import URL

from ._deprecation import DeprecationNotices, notice
from ._redact import redact_url
from .events import (
    CallFinished,
    CallStarted,
    Deprecation,
    Event,
    PoolWait,
    RateLimitChanged,
    RateLimited,
    RateLimitWait,
    RequestFailed,
    RequestSent,
    ResponseReceived,
    RetryScheduled,
    WaitReason,
)
from .ratelimit.bucket import RateLimitView
from .ratelimit.headers import RateLimitSnapshot

__all__ = [
    "Observer",
    "Observers",
    "current_operation",
    "full_url",
    "pool_wait_trace_config",
    "with_operation",
]

T = TypeVar("T")

#: An observer: any callable taking one event.
Observer = Callable[[Event], object]

logger = logging.getLogger("circleci_async")

_OPERATION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "circleci_async_operation", default=None
)


class Observers(list[Observer]):
    """A client's observers (a plain list, so ``if observers:`` costs what a list's does)."""

    __slots__ = ("_failed",)

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        given: list[object] = list(observers)
        for observer in given:
            if not callable(observer):
                from .errors import ConfigurationError

                raise ConfigurationError(f"an observer must be callable, got {observer!r}")
        super().__init__(cast("list[Observer]", given))
        self._failed: set[int] = set()

    def emit(self, event: Event) -> None:
        """Give ``event`` to every observer, in order; one that raises is logged once."""
        for observer in self:
            try:
                observer(event)
            except Exception as exc:  # an observer's bug must never break a request
                key = id(observer)
                if key not in self._failed:
                    self._failed.add(key)
                    logger.warning(
                        "observer %r failed on %s (%s: %s); its later failures are not logged",
                        observer,
                        type(event).__name__,
                        type(exc).__name__,
                        str(exc)[:200],
                    )


def current_operation() -> str | None:
    """The operation id of the namespace method running in this context, if any."""
    return _OPERATION.get()


async def with_operation(operation: str, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` with ``operation`` as the current operation id."""
    token = _OPERATION.set(operation)
    try:
        return await work
    finally:
        _OPERATION.reset(token)


def set_operation(operation: str | None) -> contextvars.Token[str | None]:
    return _OPERATION.set(operation)


def reset_operation(token: contextvars.Token[str | None]) -> None:
    _OPERATION.reset(token)


def full_url(url: URL, params: Mapping[str, Any] | None) -> str:
    """``url`` with ``params`` as its query, redacted (for events and DEBUG logs only)."""
    if params:
        with contextlib.suppress(TypeError, ValueError):
            url = url.extend_query(params)
    return redact_url(url)


def pool_wait_trace_config(observers: Observers) -> aiohttp.TraceConfig:
    """An aiohttp trace config emitting :class:`PoolWait` for every wait for a connection."""
    trace = aiohttp.TraceConfig()

    async def queued_start(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        context.circleci_queued_at = time.monotonic()

    async def queued_end(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        started = getattr(context, "circleci_queued_at", None)
        if started is not None and observers:
            observers.emit(PoolWait(time.monotonic() - started))

    trace.on_connection_queued_start.append(queued_start)
    trace.on_connection_queued_end.append(queued_end)
    return trace


_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


def log_extra(event: Event) -> dict[str, Any]:
    """``event``'s fields as a log record's ``extra=``, under the events' names (plus ``event``,
    the class name); a name the record itself uses gets an ``event_`` prefix."""
    extra: dict[str, Any] = {"event": type(event).__name__}
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if attrs.has(type(value)):
            value = attrs.asdict(value)
        name = field.name
        extra[f"event_{name}" if name in _RESERVED else name] = value
    return extra


_CALLS = itertools.count(1)


class CallWatch:
    """One logical call as observers and the DEBUG log see it; built only when someone
    listens (observers registered, or the ``circleci_async`` logger at DEBUG)."""

    __slots__ = (
        "_clock",
        "_hop",
        "_hop_method",
        "_hop_url",
        "_sent_at",
        "attempts",
        "call",
        "method",
        "observers",
        "operation",
        "started",
        "status",
        "url",
    )

    def __init__(
        self,
        observers: Observers,
        method: str,
        url: URL,
        params: Mapping[str, Any] | None,
        clock: Callable[[], float],
        operation: str | None = None,
    ) -> None:
        self.observers = observers
        self.call = next(_CALLS)
        self.operation = operation
        self.method = method
        self.url = full_url(url, params)
        self._clock = clock
        self.started = self._sent_at = clock()
        self.attempts = 0
        self.status: int | None = None
        self._hop = 0
        self._hop_method = method
        self._hop_url = self.url

    def start(self) -> None:
        """The call begins, in the context that awaits it (where its operation id is set)."""
        if self.operation is None:
            self.operation = _OPERATION.get()
        if self.observers:
            self.observers.emit(CallStarted(self.call, self.operation, self.method, self.url))

    def finish(self, error: BaseException | None) -> None:
        if self.observers:
            error_type = None if error is None else type(error).__name__
            self.observers.emit(
                CallFinished(
                    self.call,
                    self.operation,
                    self.method,
                    self.url,
                    self.attempts,
                    self._clock() - self.started,
                    self.status,
                    error_type,
                )
            )

    def sent(
        self, method: str, url: URL, params: Mapping[str, Any] | None, hop: int, attempt: int
    ) -> None:
        """A hop leaves (its answer or failure is reported next, by :meth:`received` or
        :meth:`failed`)."""
        self._sent_at = self._clock()
        self.attempts = attempt
        text = self.url if hop == 0 else full_url(url, params)
        self._hop, self._hop_method, self._hop_url = hop, method, text
        if not self.observers:
            return
        self.observers.emit(
            RequestSent(
                self.call,
                self.operation,
                method,
                text,
                hop,
                attempt,
                url.host or "",
                url.port,
            )
        )

    def received(
        self, url: URL, status: int, size: int | None, snapshot: RateLimitSnapshot | None
    ) -> None:
        duration = self._clock() - self._sent_at
        method, text, hop, attempt = self._hop_method, self._hop_url, self._hop, self.attempts
        self.status = status
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms",
                method,
                text,
                status,
                duration * 1000,
                extra={
                    "event": "ResponseReceived",
                    "call": self.call,
                    "operation": self.operation,
                    "method": method,
                    "url": text,
                    "hop": hop,
                    "attempt": attempt,
                    "status": status,
                    "duration": duration,
                    "bytes": size,
                },
            )
        observers = self.observers
        if observers:
            observers.emit(
                ResponseReceived(
                    self.call,
                    self.operation,
                    method,
                    text,
                    hop,
                    attempt,
                    status,
                    duration,
                    size,
                    url.host or "",
                    url.port,
                    snapshot or None,
                )
            )
            if status == 429:
                retry_after = snapshot.retry_after if snapshot is not None else None
                observers.emit(RateLimited(self.call, self.operation, method, text, retry_after))

    def failed(self, url: URL, error: Exception) -> None:
        duration = self._clock() - self._sent_at
        method, text, hop, attempt = self._hop_method, self._hop_url, self._hop, self.attempts
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s failed after %.1f ms: %s",
                method,
                text,
                duration * 1000,
                type(error).__name__,
                extra={
                    "event": "RequestFailed",
                    "call": self.call,
                    "operation": self.operation,
                    "method": method,
                    "url": text,
                    "hop": hop,
                    "attempt": attempt,
                    "error_type": type(error).__name__,
                    "duration": duration,
                },
            )
        if self.observers:
            self.observers.emit(
                RequestFailed(
                    self.call,
                    self.operation,
                    method,
                    text,
                    hop,
                    attempt,
                    type(error).__name__,
                    str(error)[:300],
                    duration,
                    url.host or "",
                    url.port,
                )
            )

    def retry(self, attempt: int, delay: float, reason: str, error: Exception) -> None:
        if self.observers:
            self.observers.emit(
                RetryScheduled(
                    self.call,
                    self.operation,
                    self.method,
                    self.url,
                    attempt,
                    delay,
                    reason,
                    type(error).__name__,
                )
            )

    def waited(self, seconds: float, why: str) -> None:
        """The limiter's report of a wait (its ``on_wait`` callback)."""
        if self.observers:
            reason = cast("WaitReason", why)
            self.observers.emit(RateLimitWait(self.call, self.operation, seconds, reason))


def deprecation(
    observers: Observers,
    notices: DeprecationNotices,
    method: str,
    url: URL,
    headers: Mapping[str, str],
    operation: str | None = None,
) -> None:
    """An answer carried ``Deprecation`` or ``Sunset``: if it announces a deprecation (see
    :func:`~circleci_async._deprecation.notice`), an event each time, and the first time per
    operation (``operation``, else the namespace method's, else method and path) a WARNING
    and a :class:`DeprecationWarning`."""
    operation = operation or _OPERATION.get()
    key = operation or f"{method} {url.path}"
    text = notice(key, headers)
    if text is None:
        return
    event = Deprecation(
        operation,
        method,
        redact_url(url.with_query(None)),
        headers.get("Deprecation"),
        headers.get("Sunset"),
        headers.get("Link"),
    )
    if notices.first(key):
        logger.warning("%s", text, extra=log_extra(event))
        warnings.warn(text, DeprecationWarning, stacklevel=2)
    if observers:
        observers.emit(event)


def binding_key(view: RateLimitView) -> tuple[object, ...]:
    """What identifies the binding window, for :class:`RateLimitChanged`: which window, its
    limit, and whether the gate is closed."""
    return (view.source, view.policy, view.window, view.limit, view.blocked_for > 0)


def rate_limit_changed(
    observers: Observers, previous: RateLimitView | None, view: RateLimitView
) -> RateLimitView:
    """Emit :class:`RateLimitChanged` if the binding window differs; returns ``view``."""
    if previous is None or binding_key(previous) != binding_key(view):
        observers.emit(RateLimitChanged(view, previous))
    return view
