"""The one cattrs converter that turns API JSON into attrs models and back.

Unknown JSON keys are ignored (CircleCI adds fields; old clients must keep working), timestamps
become aware datetimes, and any structuring failure becomes a :class:`DecodeError` naming the
model and the path of the offending field, never a bare cattrs exception.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError

from ..errors import DecodeError

__all__ = ["converter", "structure", "unstructure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False, prefer_attrib_converters=False)


def _parse_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        parsed = dt.datetime.fromisoformat(text)
    else:
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.timezone.utc)


converter.register_structure_hook(dt.datetime, _parse_datetime)
converter.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
converter.register_structure_hook(
    uuid.UUID, lambda v, _: v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))
)
converter.register_unstructure_hook(uuid.UUID, str)


def structure(data: Any, cls: type[T], *, what: str | None = None) -> T:
    """Build ``cls`` from decoded JSON, or raise :class:`DecodeError` saying which field failed."""
    try:
        return converter.structure(data, cls)
    except (ClassValidationError, IterableValidationError) as exc:
        details = "; ".join(cattrs.transform_error(exc, path="$"))
        raise DecodeError(f"cannot read {what or cls.__name__}: {details}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise DecodeError(
            f"cannot read {what or cls.__name__}: {type(exc).__name__}: {exc}"
        ) from exc


def unstructure(obj: Any) -> Any:
    return converter.unstructure(obj)
