"""Injected faults: what can go wrong on the wire, and which requests it hits.

A :class:`Fault` is a frozen description; :class:`FaultQueue` keeps how many uses each injected
fault has left and hands out the first one matching a request. Producing the faulty response is
the server's job (it needs aiohttp); this module has no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["Fault", "FaultKind", "FaultQueue"]

FaultKind = Literal["status", "json", "text", "delay", "disconnect", "malformed_json"]
_KINDS = ("status", "json", "text", "delay", "disconnect", "malformed_json")


def _freeze_headers(value: Mapping[str, str]) -> Mapping[str, str]:
    # A private copy, so a caller mutating their dict cannot change an injected fault.
    return dict(value)


@attrs.frozen
class Fault:
    """One kind of failure, applied to the next ``times`` matching requests.

    - ``status``: answer ``status`` with ``{"message": body}`` (a default message if None).
    - ``json``: answer ``status`` with ``payload`` as the JSON body, for other error shapes such
      as the ``{"error": ...}`` of the policy and OIDC endpoints.
    - ``text``: answer ``status`` with ``body`` as text/plain, as proxies and gateways do.
    - ``delay``: wait ``delay`` seconds, then serve the request normally.
    - ``disconnect``: send headers promising more body than is written, then drop the connection.
    - ``malformed_json``: answer 200 ``application/json`` with a truncated, undecodable body.

    ``headers`` are added to the response in every case (e.g. ``Retry-After`` on a 503).
    """

    kind: FaultKind = attrs.field(validator=attrs.validators.in_(_KINDS))
    times: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    method: str | None = None
    path: str | None = None
    """A regular expression, searched (``re.search``) in the decoded request path."""
    status: int = attrs.field(
        default=500, validator=[attrs.validators.ge(100), attrs.validators.le(599)]
    )
    body: str | None = None
    delay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_freeze_headers)
    payload: Any = None
    """The JSON body for ``json`` faults."""

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


@attrs.define
class _Armed:
    fault: Fault
    left: int


class FaultQueue:
    """Injected faults in injection order; each is used up after ``times`` matches."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []

    def __bool__(self) -> bool:
        return bool(self._armed)

    def add(self, fault: Fault) -> None:
        if fault.path is not None:
            re.compile(fault.path)  # fail at injection, not inside a request handler
        self._armed.append(_Armed(fault, fault.times))

    def clear(self) -> None:
        self._armed.clear()

    @property
    def pending(self) -> list[tuple[Fault, int]]:
        """Each injected fault that is not used up, with its remaining uses."""
        return [(armed.fault, armed.left) for armed in self._armed]

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, with one use consumed; None if none match."""
        for index, armed in enumerate(self._armed):
            if armed.fault.matches(method, path):
                armed.left -= 1
                if armed.left == 0:
                    del self._armed[index]
                return armed.fault
        return None
