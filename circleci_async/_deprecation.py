"""``Deprecation`` (RFC 9745) and ``Sunset`` (RFC 8594) response headers, for every API.

The request pipeline is their one reader. Each deprecated answer is a ``Deprecation`` event;
the first per operation and client is also a WARNING log line and a :class:`DeprecationWarning`
(operations are keyed by id, such as ``getWorkflow`` or ``v3.getWorkflow``, else by method and
path). The decision and its text are :func:`notice`, free of I/O; :class:`DeprecationNotices`
remembers which operations were reported.
"""

from __future__ import annotations

import threading
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
    text = f"CircleCI API operation {operation} is deprecated"
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
    """Which operations have announced a deprecation, for reporting each once (per client)."""

    _MAX = 1024  # operations remembered; beyond, a deprecation is reported again (bounded)

    def __init__(self) -> None:
        self._reported: set[str] = set()
        self._lock = threading.Lock()  # (one client may serve several threads' loops)

    def first(self, operation: str) -> bool:
        """Whether ``operation`` is reported now for the first time (and remember it)."""
        with self._lock:
            if operation in self._reported:
                return False
            if len(self._reported) < self._MAX:
                self._reported.add(operation)
            return True

    @property
    def reported(self) -> frozenset[str]:
        return frozenset(self._reported)
