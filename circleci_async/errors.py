"""The exception hierarchy: every error the library raises, in one tree under :class:`CircleCIError`.

::

    CircleCIError
    ├── ConfigurationError          bad arguments or a missing token (raised before any request)
    ├── APIError                    the server answered with an error status
    │   ├── BadRequest              400
    │   ├── Unauthorized            401 (bad or missing token)
    │   ├── Forbidden               403
    │   ├── NotFound                404
    │   ├── Conflict                409
    │   ├── Gone                    410 (an API v3 operation that was removed for good)
    │   ├── UnprocessableEntity     422
    │   ├── RateLimitExceeded       429
    │   │   └── MaxWaitExceeded     the limiter's next slot is further away than max_wait
    │   └── ServerError             5xx
    ├── TransportError              no usable HTTP response
    │   ├── ConnectError            the request never reached the server (safe to retry)
    │   └── RequestTimeout
    ├── TooManyRedirects            a redirect loop, or more hops than allowed
    ├── DecodeError                 a response body that is not what the API promises
    │   └── ResponseTooLarge        an API response larger than max_response_size, decoded
    ├── PaginationError             a page token that repeats, or a page without ``items``
    ├── WaitTimeout                 a polled workflow or pipeline did not finish in time
    └── DownloadError               one artifact file could not be downloaded
        ├── UnsafePathError         the server's artifact path would leave the destination
        ├── PathConflictError       two artifacts would land on the same file
        ├── IntegrityError          the bytes received are not the file the server described
        ├── LocalFileError          the local disk refused (full, read-only, permissions)
        └── DownloadFailed          raised by ``fail_fast=True``; holds every file's result

Status codes map to classes in one place, :func:`error_for_status`. Errors carry the method, the
URL (redacted), the status and CircleCI's own message, never the token or request headers. An
API v3 answer's error object (``{"error": {type, id, title, detail, source.pointer}}``) is
read into :attr:`APIError.error` (an :class:`ErrorObject`), and its ``id``, the one to quote to
CircleCI support, is in the message. A
failure of the HTTP stack keeps its cause as a :class:`SanitizedCause` (the original exception's
type name and message only): the stack's own exceptions hold the request's headers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ._redact import redact_url

if TYPE_CHECKING:
    from yarl import URL

    from .download._models import DownloadResult
    from .ratelimit.headers import RateLimitSnapshot

__all__ = [
    "APIError",
    "BadRequest",
    "CircleCIError",
    "ConfigurationError",
    "Conflict",
    "ConnectError",
    "DecodeError",
    "DownloadError",
    "DownloadFailed",
    "Forbidden",
    "Gone",
    "IntegrityError",
    "LocalFileError",
    "MaxWaitExceeded",
    "NotFound",
    "PaginationError",
    "PathConflictError",
    "RateLimitExceeded",
    "RequestTimeout",
    "ResponseTooLarge",
    "SanitizedCause",
    "ServerError",
    "TooManyRedirects",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsafePathError",
    "WaitTimeout",
    "error_for_status",
    "extract_message",
]


class CircleCIError(Exception):
    """Base class of every error raised by circleci_async."""

    method: str | None
    url: str | None
    #: When the error interrupted a paginated walk, the token of the page that failed: pass it
    #: as ``page_token=`` to resume.
    page_token: str | None

    def __init__(self, message: str, *, method: str | None = None, url: URL | str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = redact_url(url) if url is not None else None
        self.page_token = None

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, method={self.method!r}, url={self.url!r})"


class ErrorObject(NamedTuple):
    """API v3's error object. Branch on the status, then on ``type``; ``title`` and ``detail``
    are for people; ``id`` is what CircleCI support asks for; ``pointer`` (``source.pointer``)
    names the request member at fault. Any member may be missing."""

    type: str | None
    id: str | None
    title: str | None
    detail: str | None
    pointer: str | None

    @classmethod
    def from_body(cls, decoded: Any) -> ErrorObject | None:
        """The error object of a decoded v3 body, or ``None`` when it has none (a v2
        ``message`` body, text, a body with neither title nor detail nor id)."""
        if not isinstance(decoded, dict):
            return None
        error = decoded.get("error")
        if not isinstance(error, dict):
            return None
        source = error.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        found = cls(
            _text(error.get("type")),
            _text(error.get("id")),
            _text(error.get("title")),
            _text(error.get("detail")),
            _text(pointer),
        )
        if found.title is None and found.detail is None and found.id is None:
            return None
        return found

    def describe(self) -> str:
        """``title: detail (at pointer) [error id X]``: the message of the error raised."""
        text = ": ".join(part for part in (self.title, self.detail) if part) or (
            self.type or "error"
        )
        if self.pointer:
            text += f" (at {self.pointer})"
        if self.id:
            text += f" [error id {self.id}]"
        return text


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value else None


class ConfigurationError(CircleCIError, ValueError):
    """Invalid client configuration, such as no token anywhere."""


class APIError(CircleCIError):
    """The API answered with a non-success status."""

    _registry: ClassVar[dict[int, type[APIError]]] = {}
    status_code: ClassVar[int | None] = None

    def __init_subclass__(cls, status: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
            APIError._registry[status] = cls

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        method: str | None = None,
        url: URL | str | None = None,
        body: bytes | None = None,
        request_id: str | None = None,
        rate_limit: RateLimitSnapshot | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        #: The raw response body, capped at 4 KiB (bodies never contain the request's token).
        self.body = body[:4096] if body is not None else None
        self.request_id = request_id
        self.rate_limit = rate_limit
        self._error: ErrorObject | bool | None = False  # False: not read yet

    @property
    def error(self) -> ErrorObject | None:
        """The API v3 error object of the answer (``None``: it had none, as v2 answers)."""
        found = self._error
        if found is False:
            found = self._error = _error_object(self.body)
        return found if isinstance(found, ErrorObject) else None

    @property
    def error_id(self) -> str | None:
        """API v3's ``error.id``: quote it to CircleCI support."""
        error = self.error
        return error.id if error is not None else None

    def __str__(self) -> str:
        status = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{status}{super().__str__()}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"method={self.method!r}, url={self.url!r})"
        )


class BadRequest(APIError, status=400):
    """400: the request was malformed or a parameter was invalid."""


class Unauthorized(APIError, status=401):
    """401: the token is missing, wrong, or of an unsupported kind (project tokens)."""


class Forbidden(APIError, status=403):
    """403: the token's user may not do this."""


class NotFound(APIError, status=404):
    """404: no such resource, or the token may not see it."""


class Conflict(APIError, status=409):
    """409: the resource already exists or is in a conflicting state."""


class Gone(APIError, status=410):
    """410: the operation was removed for good (API v3 answers it once a deprecated route's
    ``Sunset`` has passed). Upgrade the library, or move to the replacement the notes name."""


class UnprocessableEntity(APIError, status=422):
    """422: the request was well-formed but semantically invalid."""


class RateLimitExceeded(APIError, status=429):
    """429 from the server (or, as :class:`MaxWaitExceeded`, a wait the limiter refuses).

    ``retry_after`` is how long the server (or the limiter) says to wait, in seconds. ``gated``
    is true when the client's limiter holds the next request back for that long by itself (the
    answer came from an origin that counts against the token); false for a storage host's 429,
    whose wait the retry loop sleeps instead.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        gated: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("status", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.gated = gated


class MaxWaitExceeded(RateLimitExceeded):
    """The limiter's next free slot is further away than ``RateLimitConfig.max_wait`` (a long
    Retry-After, an exhausted daily window): raised instead of sleeping that long, and never
    retried. ``status`` is ``None``: no response carried it."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry_after=retry_after, status=None)


class ServerError(APIError):
    """5xx: CircleCI failed. Retried automatically for idempotent methods only."""


class TransportError(CircleCIError):
    """No usable response: the connection failed, was dropped, or timed out."""


class ConnectError(TransportError):
    """The connection could not be made, so the request never reached the server."""


class RequestTimeout(TransportError):
    """The request timed out; the server may or may not have acted on it."""


class DecodeError(CircleCIError):
    """The response body could not be decoded or did not match the expected shape."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: URL | str | None = None,
        status: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.body = body[:4096] if body is not None else None


class ResponseTooLarge(DecodeError):
    """An API response whose body, once decompressed, is larger than the client's
    ``max_response_size``: counted while it arrives, and the rest is never read (a gzip bomb of
    a few hundred KiB would otherwise cost gigabytes). ``limit`` is that size, in bytes."""

    def __init__(self, message: str, *, limit: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class TooManyRedirects(CircleCIError):
    """A URL redirected more than ``max_redirects`` times (a loop, usually), for API calls and
    artifact downloads alike."""


class PaginationError(CircleCIError):
    """The server's page tokens would loop forever, or a page lacked ``items``."""


class WaitTimeout(CircleCIError, TimeoutError):
    """The thing waited for did not finish in time. ``last`` is what the last poll saw."""

    def __init__(self, message: str, *, last: Any) -> None:
        super().__init__(message)
        self.last = last


class SanitizedCause(Exception):
    """Stands in for an HTTP stack's exception as the ``__cause__`` of a library error: the
    original's type name and message only (the original holds the request, headers included)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name


# -- downloads ---------------------------------------------------------------------------------


class DownloadError(CircleCIError):
    """One file could not be downloaded; the others are not affected. (A file's result may also
    carry an error of the main tree: ``NotFound`` for a 404, ``TransportError`` for a drop.)"""


class UnsafePathError(DownloadError):
    """The artifact path is absolute, contains ``..``, a drive letter, a NUL or control
    character, a reserved name, or would otherwise resolve outside the destination."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return f"{self.message}: {self.path!r}"


class PathConflictError(DownloadError):
    """Two artifacts map to the same local file (or one needs a directory where the other is a
    file). Neither silently overwrites the other."""


class IntegrityError(DownloadError):
    """The transfer ended with a different number of bytes than the server announced, or the
    server sent something that is not the artifact (an HTML page for a non-HTML file).

    ``retryable`` is true when another attempt may bring the right bytes (a body that ended
    early, a resume answered with the wrong range).
    """

    def __init__(
        self,
        message: str,
        *,
        expected: int | None = None,
        received: int | None = None,
        retryable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.received = received
        self.retryable = retryable


class LocalFileError(DownloadError):
    """Writing the file failed locally: disk full, read-only file system, permissions.

    ``errno`` is the operating system's error number (``errno.ENOSPC`` for a full disk).
    """

    def __init__(self, message: str, *, errno: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errno = errno


class DownloadFailed(DownloadError):
    """``fail_fast=True`` stopped a batch at its first failure.

    ``results`` holds one result per file: the failure that stopped the batch, what finished
    before it, and ``cancelled`` for the rest.
    """

    def __init__(self, message: str, *, results: list[DownloadResult]) -> None:
        super().__init__(message)
        self.results = results


def _error_object(body: bytes | None) -> ErrorObject | None:
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        return ErrorObject.from_body(json.loads(body))
    except ValueError:
        return None


def extract_message(body: bytes, decoded: Any = None) -> str:
    """CircleCI's error text: API v3's error object (title, detail, error id), ``message``
    (most v2 endpoints), ``error`` (Policy, OIDC), else the raw body as text (some 429s are
    plain ``Rate limited.``)."""
    v3 = ErrorObject.from_body(decoded)
    if v3 is not None:
        return v3.describe()
    if isinstance(decoded, dict):
        for key in ("message", "error"):
            value = decoded.get(key)
            if isinstance(value, str) and value:
                return value
    text = body[:500].decode("utf-8", "replace").strip()
    return text or "(empty response body)"


def error_for_status(status: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    cls = APIError._registry.get(status)
    if cls is not None:
        return cls
    if status >= 500:
        return ServerError
    return APIError
