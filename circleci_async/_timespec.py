"""Points in time as users write them: ISO 8601, or an age such as ``30m``, ``12h``, ``7d``.

One parser for the library (``mirror(since=...)``) and the command line (``--since``), so the
two accept the same forms. Pure: the current time is a parameter.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import ConfigurationError

__all__ = ["ACCEPTED_FORMS", "parse_time"]

#: What the error message lists, for the library and the CLI alike.
ACCEPTED_FORMS = (
    "an aware datetime, an ISO 8601 time (2026-03-01, 2026-03-01T12:00Z; naive means UTC) "
    "or an age (30m, 12h, 7d, 2w)"
)

_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_SECONDS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_time(
    value: datetime | str | None, *, what: str = "time", now: datetime | None = None
) -> datetime | None:
    """``value`` as an aware UTC datetime (``None`` stays ``None``), or
    :class:`ConfigurationError` naming ``what`` and the accepted forms.

    Ages count back from ``now`` (default: the current time)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if not isinstance(value, str):
        raise ConfigurationError(f"{what}: expected {ACCEPTED_FORMS}, got a {type(value).__name__}")
    text = value.strip()
    age = _AGE.fullmatch(text.lower())
    if age is not None:
        seconds = float(age.group(1)) * _SECONDS[age.group(2)]
        try:
            return (now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
        except OverflowError:
            raise ConfigurationError(f"{what} {value!r}: that age is too large") from None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso) if iso else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ConfigurationError(f"{what} {value!r}: expected {ACCEPTED_FORMS}")
    return _utc(parsed)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
