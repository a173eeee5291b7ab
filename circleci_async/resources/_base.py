"""What every resource namespace shares: the operation registry, request helpers, and the
conversion of Python arguments into CircleCI's query strings and path segments.

A namespace method is a thin declaration: the spec's ``operationId`` (via :func:`operation`),
the path, the query parameters under their spec names, and the model of the answer. Sending,
retrying, pacing and decoding are the client's.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import inspect
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, cast
from urllib.parse import quote

from .._observe import reset_operation, set_operation, with_operation
from ..errors import ConfigurationError
from ..models import UNSET, structure, unstructure

if TYPE_CHECKING:
    from ..client import CircleCI
    from ..pagination import AsyncPaginator

__all__ = ["Operation", "Resource", "operation", "registered_operations"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Operation(NamedTuple):
    """One API operation and the method that performs it."""

    operation_id: str
    method: str
    #: The path template as the spec (v2, runner) or the API v3 notes write it (v2 paths
    #: relative to ``/api/v2``, runner and v3 paths relative to ``/api/v3``).
    path: str
    #: Where to find it: ``cci.pipelines.trigger``.
    name: str
    #: Which API: ``"v2"``, ``"v3"`` or ``"runner"``.
    version: str = "v2"
    #: Whether a retry may repeat it after it may have reached the server; ``None``: as its
    #: method implies (GET, PUT, DELETE yes; POST no).
    idempotent: bool | None = None


_REGISTRY: dict[str, Operation] = {}


def operation(
    operation_id: str,
    method: str,
    path: str,
    *,
    version: str | None = None,
    idempotent: bool | None = None,
) -> Callable[[F], F]:
    """Tag a namespace method with the spec operation it performs.

    The method gets ``__operation_id__``; its class registers it when defined, so
    :func:`circleci_async.operations` can list coverage without calling anything. ``version``
    defaults to the namespace's ``api_version``. When the
    client has observers, the call runs with the id as the current operation, so its events
    (and a paginator's, for each page) carry it; otherwise it is called as it is.
    """

    def mark(fn: F) -> F:
        @functools.wraps(fn)
        def tagged(self: Resource, *args: Any, **kwargs: Any) -> Any:
            if not self._client.core.observers:
                return fn(self, *args, **kwargs)
            token = set_operation(operation_id)
            try:
                result = fn(self, *args, **kwargs)  # a paginator captures the id here
            finally:
                reset_operation(token)
            if inspect.iscoroutine(result):
                return with_operation(operation_id, result)
            return result

        setattr(tagged, "__operation_id__", operation_id)  # noqa: B010
        spec = (operation_id, method.upper(), path, version, idempotent)
        setattr(tagged, "__operation__", spec)  # noqa: B010
        return cast("F", tagged)

    return mark


def registered_operations() -> list[Operation]:
    """Every operation registered so far, in registration order."""
    return list(_REGISTRY.values())


def registered_operation(operation_id: str) -> Operation:
    """One registered operation (its namespace's module must have been imported)."""
    return _REGISTRY[operation_id]


class Resource:
    """Base of the namespaces: holds the client, registers its tagged methods."""

    #: The attribute of the client this namespace lives at (``pipelines`` -> cci.pipelines).
    namespace: ClassVar[str]
    #: The API the namespace's operations belong to (``Operation.version``).
    api_version: ClassVar[str] = "v2"

    def __init__(self, client: CircleCI) -> None:
        self._client = client

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in vars(cls).items():
            spec = getattr(value, "__operation__", None)
            if spec is None:
                continue
            operation_id, method, path, version, idempotent = spec
            known = _REGISTRY.get(operation_id)
            name = f"cci.{cls.namespace}.{attr}"
            if known is not None and known.name != name:
                raise RuntimeError(f"{operation_id} is both {known.name} and {name}")
            _REGISTRY[operation_id] = Operation(
                operation_id, method, path, name, version or cls.api_version, idempotent
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} cci.{self.namespace}>"

    async def _call(
        self,
        operation_id: str,
        method: str,
        path: str,
        model: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> T:
        """Send one request and read its answer as ``model``."""
        data = await self._client.request(method, path, params=query(params), json=body)
        return structure(data, model, what=operation_id)

    async def _call_no_content(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> None:
        """Send a request whose success has no body worth reading (runner deletions)."""
        await self._client.request(method, path, params=query(params), json=body)

    def _list(
        self,
        path: str,
        model: type[T],
        *,
        params: Mapping[str, Any] | None = None,
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[T]:
        """A paginator of ``model`` over a ``{items, next_page_token}`` endpoint."""
        return self._client.paginate(
            path,
            params=query(params),
            page_token=page_token,
            max_items=max_items,
            item_type=model,
        )


def segment(value: Any) -> str:
    """One path segment: ids and names are percent-encoded, so a ``/`` or ``%`` in them (sha256
    fingerprints, odd variable names) cannot change the path. Slugs are not segments: they are
    passed whole, ``/`` included."""
    return quote(_text(value), safe="")


def project_slug(slug: str, *, three_parts: bool = False) -> str:
    """A project slug as given (opaque), checked for the mistakes that would hit another path."""
    slug = slug.strip("/")
    if not slug or "//" in slug or any(part in (".", "..") for part in slug.split("/")):
        raise ConfigurationError(f"not a project slug: {slug!r}")
    if three_parts and slug.count("/") != 2:
        raise ConfigurationError(
            f"this operation needs a three-part slug (vcs/org/project), got {slug!r}"
        )
    return slug


def query(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters as CircleCI reads them: ``None`` and ``UNSET`` left out, booleans as
    ``true``/``false``, datetimes in RFC 3339, lists as repeated keys."""
    if not params:
        return None
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None or value is UNSET:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            values = [_text(item) for item in value]
            if values:
                out[name] = values
        else:
            out[name] = _text(value)
    return out or None


def body(fields: Mapping[str, Any], *, nullable: Collection[str] = ()) -> dict[str, Any]:
    """A JSON body from keyword arguments, values through the converter. ``UNSET`` is never
    sent and ``None`` only for the keys in ``nullable`` (where the spec allows null, and the
    caller's ``None`` means "clear it")."""
    return {
        name: unstructure(value)
        for name, value in fields.items()
        if value is not UNSET and (value is not None or name in nullable)
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.datetime):
        moment: dt.datetime = value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, (str, int, float, uuid.UUID)):
        return str(value)
    raise ConfigurationError(f"cannot send a {type(value).__name__} as a parameter: {value!r}")
