"""The exception hierarchy. Every error the library raises derives from :class:`CircleCIError`.

::

    CircleCIError
    ├── ConfigurationError          bad arguments or a missing token (raised before any request)
    ├── APIError                    the server answered with an error status
    │   ├── BadRequest              400
    │   ├── Unauthorized            401 (bad or missing token)
    │   ├── Forbidden               403
    │   ├── NotFound                404
    │   ├── Conflict                409
    │   ├── UnprocessableEntity     422
    │   ├── RateLimitExceeded       429, or a local wait longer than the configured maximum
    │   └── ServerError             5xx
    ├── TransportError              no usable HTTP response
    │   ├── ConnectError            the request never reached the server (safe to retry)
    │   └── RequestTimeout
    ├── DecodeError                 a response body that is not what the API promises
    └── PaginationError             a page token that repeats, or a page without ``items``

Status codes map to classes in one place, :func:`error_for_status`. Errors carry the method, the
URL (redacted), the status and CircleCI's own message, never the token or request headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ._redact import redact_url

if TYPE_CHECKING:
    from yarl import URL

    from .ratelimit.headers import RateLimitSnapshot

__all__ = [
    "APIError",
    "BadRequest",
    "CircleCIError",
    "ConfigurationError",
    "Conflict",
    "ConnectError",
    "DecodeError",
    "Forbidden",
    "NotFound",
    "PaginationError",
    "RateLimitExceeded",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
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


class UnprocessableEntity(APIError, status=422):
    """422: the request was well-formed but semantically invalid."""


class RateLimitExceeded(APIError, status=429):
    """429 from the server, or a rate-limit wait longer than the configured maximum.

    ``retry_after`` is how long the server (or the limiter) says to wait, in seconds.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


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


class PaginationError(CircleCIError):
    """The server's page tokens would loop forever, or a page lacked ``items``."""


def extract_message(body: bytes, decoded: Any = None) -> str:
    """CircleCI's error text: ``message`` (most endpoints), ``error`` (Policy, OIDC), else the
    raw body as text (some 429s are plain ``Rate limited.``)."""
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
