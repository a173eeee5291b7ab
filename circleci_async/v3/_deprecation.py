"""``Deprecation`` (RFC 9745) and ``Sunset`` (RFC 8594) on API v3 answers, surfaced as a
:class:`DeprecationWarning` once per operation and client.

The decision (does this answer announce a deprecation, and what to say) is :func:`notice`,
free of I/O; :class:`DeprecationNotices` remembers which operations were reported.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["DeprecationNotices", "notice"]


def notice(operation: str, headers: Mapping[str, str]) -> str | None:
    """What to tell the user about ``operation`` from its answer's headers (``None``: not
    deprecated). ``Deprecation: false`` is not a deprecation [inferred: RFC 9745 has no false
    value, but a server may send it]."""
    deprecation = headers.get("Deprecation")
    sunset = headers.get("Sunset")
    if deprecation is not None and deprecation.strip().lower() in ("", "false", "0"):
        deprecation = None
    if deprecation is None and not sunset:
        return None
    text = f"CircleCI API v3 operation {operation} is deprecated"
    if sunset:
        when = _http_date(sunset)
        text += f" and will be removed after {when}" if when else f" (Sunset: {sunset[:60]})"
    link = headers.get("Link")
    if link and 'rel="deprecation"' in link:
        text += f"; see {link.split(';', 1)[0].strip().strip('<>')[:200]}"
    return text


def _http_date(value: str) -> str | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.strftime("%Y-%m-%d") if parsed is not None else None


class DeprecationNotices:
    """Warn once per operation (per client), from the pipeline's ``on_response`` hook."""

    def __init__(self) -> None:
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def seen(self, operation: str, status: int, headers: Mapping[str, str]) -> None:
        if operation in self._reported or not 200 <= status < 300:
            return
        text = notice(operation, headers)
        if text is None:
            return
        with self._lock:
            if operation in self._reported:
                return
            self._reported.add(operation)
        warnings.warn(text, DeprecationWarning, stacklevel=2)

    @property
    def reported(self) -> frozenset[str]:
        return frozenset(self._reported)
