"""The entry point: pick the rate-limit headers out of a response's, then read them by the fast
path when it applies, else by every dialect, and merge the observations into one snapshot."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final, Literal, cast

from ._dates import cached_server_date, parse_retry_after
from ._fast import build_simple
from ._ietf import parse_ietf
from ._lex import drop, log
from ._model import EMPTY_SNAPSHOT, Observation, RateLimitSnapshot
from ._xfamily import X_ROLES, parse_x

if TYPE_CHECKING:
    import multidict

__all__ = ["parse_rate_limit_headers"]

# Checking the first character before lower-casing keeps the common no-match case cheap.
_FIRST_CHARS: Final = frozenset("rRxXdD")
_PREFIXES: Final = ("ratelimit", "x-ratelimit", "x-rate-limit", "retry-after", "date")


def parse_rate_limit_headers(
    headers: Mapping[str, str] | multidict.CIMultiDictProxy[str] | Iterable[tuple[str, str]],
    *,
    status: int | None = None,
    now: float | None = None,
    reset_kind: Literal["auto", "delta", "epoch"] = "auto",
) -> RateLimitSnapshot:
    """Read every rate-limit dialect in ``headers`` into one snapshot; never raises.

    ``headers`` may be any object whose ``items()`` yields (name, value) pairs, duplicates
    included (aiohttp's ``CIMultiDictProxy``), a plain mapping, or an iterable of pairs. Returns
    the shared :data:`EMPTY_SNAPSHOT` (no allocation) when nothing rate-limit related is present.

    ``status`` is accepted so the response can be passed through unchanged; the draft allows
    these fields on any status (a 3xx may carry ``r=0``) and ``Retry-After`` is meaningful on
    429, 503, 3xx and 202 alike, so it does not change the result.
    """
    try:
        return _parse(headers, now, reset_kind)
    except Exception as exc:  # the contract is "never raise"; _parse is tested not to need this
        log.debug("rate-limit headers ignored after an internal %s", type(exc).__name__)
        return EMPTY_SNAPSHOT


def _parse(
    headers: Mapping[str, str] | multidict.CIMultiDictProxy[str] | Iterable[tuple[str, str]],
    now: float | None,
    reset_kind: str,
) -> RateLimitSnapshot:
    items = getattr(headers, "items", None)
    # Values are typed as object: a hand-built mapping may hold None or bytes, which are skipped.
    pairs: Iterable[tuple[str, object]] = (
        items() if items is not None else cast("Iterable[tuple[str, object]]", headers)
    )
    found: dict[str, list[str]] | None = None
    date_value: str | None = None
    for name, value in pairs:
        if name[:1] not in _FIRST_CHARS:
            continue
        lower = name.lower()
        if not lower.startswith(_PREFIXES):
            continue
        if not isinstance(value, str):
            continue
        if lower == "date":
            if date_value is None:
                date_value = value
        elif found is None:
            found = {lower: [value]}
        elif lower in found:
            found[lower].append(value)
        else:
            found[lower] = [value]
    if found is None:
        return EMPTY_SNAPSHOT
    return _build(found, date_value, now, reset_kind)


def _build(
    found: dict[str, list[str]], date_value: str | None, now: float | None, reset_kind: str
) -> RateLimitSnapshot:
    if reset_kind != "epoch":
        simple = build_simple(found, date_value)
        if simple is not None:
            return simple
    return _build_general(found, date_value, now, reset_kind)


def _build_general(
    found: dict[str, list[str]], date_value: str | None, now: float | None, reset_kind: str
) -> RateLimitSnapshot:
    server_date = cached_server_date(date_value)
    if server_date is not None:
        reference = server_date
    elif now is not None:
        reference = now
    else:
        reference = time.time()
    kind = reset_kind if reset_kind in ("delta", "epoch") else "auto"

    observations: list[Observation] = []
    if any(header.startswith("ratelimit") for header in found):
        parse_ietf(found, kind, reference, observations)
    if any(header in X_ROLES for header in found):
        parse_x(found, kind, reference, observations)

    retry_after: float | None = None
    retry_lines = found.get("retry-after")
    if retry_lines is not None:
        # Repeated lines cannot be joined (dates contain commas); never under-honour: take the max.
        for line in retry_lines:
            delay = parse_retry_after(line, now=reference)
            if delay is None:
                drop("retry-after", line, "not delay-seconds or an HTTP-date")
            elif retry_after is None or delay > retry_after:
                retry_after = delay

    if not observations and retry_after is None:
        return EMPTY_SNAPSHOT
    unique = tuple(dict.fromkeys(observations))  # identical observations say nothing new
    return RateLimitSnapshot(unique, retry_after, server_date)
