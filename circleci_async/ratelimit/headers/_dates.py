"""HTTP dates (RFC 9110's three forms, plus the ISO-8601 some vendors send), ``Retry-After``,
and resets given as a delta, an epoch (seconds or milliseconds) or a date."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Final

from ._lex import (
    EPOCH_MILLIS_MIN,
    EPOCH_SECONDS_MIN,
    MAX_DELAY,
    NUM_RE,
    clamp_delay,
    drop,
    first_item,
    number,
)

_MONTHS: Final = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# The date patterns run on stripped text of bounded length and never put two unbounded
# whitespace runs next to each other, so a hostile header cannot make them backtrack
# quadratically.
_MAX_DATE_LEN: Final = 64
_ZONE: Final = r"(?:\s*(?P<zone>GMT|UTC|UT|Z|[+-]\d{2}(?::?\d{2})?))?"
# IMF-fixdate and RFC 850 (``Sun, 06 Nov 1994 ...`` / ``Sunday, 06-Nov-94 ...``); the weekday is
# optional and not cross-checked: it carries no information the date does not.
_IMF_RE: Final = re.compile(
    r"(?:[A-Za-z]{3,9},?\s*)?(?P<day>\d{1,2})[ -]+(?P<mon>[A-Za-z]{3})[ -]+"
    r"(?P<year>\d{4}|\d{2})\s+(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
# asctime (``Sun Nov  6 08:49:37 1994``): no zone, and HTTP-dates are always UTC.
_ASCTIME_RE: Final = re.compile(
    r"[A-Za-z]{3}\s+(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})\s+(?P<year>\d{4})" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
_ISO_RE: Final = re.compile(
    r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
_EPOCH: Final = datetime(1970, 1, 1)  # naive: all arithmetic below is in UTC


def _zone_offset(zone: str | None) -> int:
    if zone is None or zone[0] not in "+-":
        return 0  # no zone, GMT, UTC, UT or Z: HTTP-dates without a zone are UTC
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
    return -offset if zone[0] == "-" else offset


def _timestamp(match: re.Match[str], month: int, year: int) -> float | None:
    second = int(match.group("S") or 0)
    try:
        moment = datetime(
            year,
            month,
            int(match.group("day")),
            int(match.group("H") or 0),
            int(match.group("M") or 0),
            min(second, 59),  # a leap second is the last second of its minute
        )
    except ValueError:
        return None
    return (moment - _EPOCH).total_seconds() - _zone_offset(match.group("zone"))


def parse_http_date(value: str) -> float | None:
    """Parse an RFC 9110 HTTP-date (IMF-fixdate, RFC 850, asctime) into POSIX seconds.

    A missing zone means UTC (``email.utils`` would use local time); ``UTC`` and numeric offsets
    are accepted too, because servers send them despite the grammar.
    """
    try:
        value = value.strip()
        if len(value) > _MAX_DATE_LEN:
            return None
        match = _IMF_RE.fullmatch(value) or _ASCTIME_RE.fullmatch(value)
        if match is None:
            return None
        month = _MONTHS.get(match.group("mon").lower())
        if month is None:
            return None
        year_text = match.group("year")
        year = int(year_text)
        if len(year_text) == 2:
            # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
            year += 2000
            if year > time.gmtime().tm_year + 50:
                year -= 100
        return _timestamp(match, month, year)
    except Exception:  # never raise on header content, whatever the input type
        return None


def parse_date_text(value: str) -> float | None:
    """An HTTP-date, or the RFC 3339 / ISO-8601 form some vendors put in reset headers."""
    stamp = parse_http_date(value)
    if stamp is not None:
        return stamp
    value = value.strip()
    if len(value) > _MAX_DATE_LEN:
        return None
    match = _ISO_RE.fullmatch(value)
    if match is None:
        return None
    stamp = _timestamp(match, int(match.group("mon")), int(match.group("year")))
    frac = match.group("frac")
    if stamp is not None and frac:
        stamp += int(frac) / 10 ** len(frac)
    return stamp


def parse_retry_after(
    value: str, *, now: float | None = None, server_date: float | None = None
) -> float | None:
    """Seconds to wait according to ``Retry-After``, or ``None`` when it is unusable.

    Decimal seconds are accepted because some servers send them. A date is measured against
    ``server_date`` when given (no clock skew), else ``now``, else the local clock; a date in
    the past means "now" (0.0). Values are capped at ten years only to keep arithmetic finite:
    deciding what is too long to wait belongs to the retry layer.
    """
    try:
        match = NUM_RE.fullmatch(value)
        if match is not None:
            digits = match.group(1)
            if digits.startswith("-"):
                return None
            return min(float(digits), MAX_DELAY)
        stamp = parse_date_text(value)
        if stamp is None:
            return None
        if server_date is not None:
            reference = server_date
        else:
            reference = now if now is not None else time.time()
        return clamp_delay(stamp - reference)
    except Exception:  # never raise on header content, whatever the input type
        return None


def reset_delay(text: str, kind: str, reference: float) -> float | None:
    """Convert one reset value (delta, epoch s/ms, or date) to a delay from the response."""
    value = number(text)
    if value is None:
        stamp = parse_date_text(text)
        if stamp is None:
            first = first_item(text)
            if first == text:
                return None
            return reset_delay(first, kind, reference)  # a joined repeat: "7, 7"
        return clamp_delay(stamp - reference)
    if value < 0.0:
        return None
    if kind == "delta" or (kind != "epoch" and value < EPOCH_SECONDS_MIN):
        return clamp_delay(value)
    if value >= EPOCH_MILLIS_MIN:
        value /= 1000.0
    return clamp_delay(value - reference)


# The last Date header seen and its reading: Date changes once a second, responses come faster.
_last_date: tuple[str | None, float | None] = (None, None)


def cached_server_date(date_value: str | None) -> float | None:
    if date_value is None:
        return None
    global _last_date
    cached_text, cached_stamp = _last_date
    if date_value == cached_text:  # Date changes once a second; responses come faster
        return cached_stamp
    server_date = parse_http_date(date_value)
    _last_date = (date_value, server_date)
    if server_date is None:
        drop("date", date_value, "not an HTTP-date; using the local clock")
    return server_date
