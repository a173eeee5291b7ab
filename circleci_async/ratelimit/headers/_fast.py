"""The fast path: the shapes CircleCI sends (single bare integers in the common fields) read
without tokenizing. It must give exactly what the general path gives (a test checks it)."""

from __future__ import annotations

from typing import Final

from ._dates import cached_server_date
from ._lex import EPOCH_SECONDS_MIN, MAX_DELAY, clamp_delay
from ._model import (
    EMPTY_SNAPSHOT,
    SOURCE_IETF_FIELDS,
    SOURCE_X,
    SOURCE_X_WINDOW,
    Observation,
    RateLimitSnapshot,
)
from ._xfamily import WINDOWS, X_ROLES


def _simple_names() -> dict[str, tuple[str, str, str | None]]:
    names: dict[str, tuple[str, str, str | None]] = {
        "ratelimit-limit": ("ietf", "limit", None),
        "ratelimit-remaining": ("ietf", "remaining", None),
        "ratelimit-reset": ("ietf", "reset", None),
        "retry-after": ("retry", "", None),
    }
    for name, (prefix, field, window) in X_ROLES.items():
        if prefix == "x-ratelimit-" and field in ("limit", "remaining", "reset"):
            names[name] = ("x", field, window)
    return names


# The shapes CircleCI sends: single bare integers in the common fields (lower-case name ->
# (family, field, Kong window)). These take the fast path; anything else takes the general one.
SIMPLE_NAMES: Final = _simple_names()


def build_simple(found: dict[str, list[str]], date_value: str | None) -> RateLimitSnapshot | None:
    """The fast path for bare-integer fields (no dates, lists or epochs), or None.

    It must give exactly what :func:`_build_general` gives for the same input (a test checks
    it); it exists because this runs on every response and the general path costs 3x more.
    """
    ietf: dict[str, int] = {}
    plain: dict[str, int] = {}
    windows: dict[str, dict[str, int]] = {}
    retry_after: float | None = None
    for name, lines in found.items():
        role = SIMPLE_NAMES.get(name)
        if role is None or len(lines) != 1:
            return None
        value = lines[0]
        if not (value.isascii() and value.isdigit()):
            return None
        family, field, window = role
        number = int(value)
        if family == "retry":
            retry_after = min(float(number), MAX_DELAY)
        elif field == "reset" and number >= EPOCH_SECONDS_MIN:
            return None  # an epoch: the general path converts it
        elif family == "ietf":
            ietf[field] = number
        elif window is None:
            plain[field] = number
        else:
            windows.setdefault(window, {})[field] = number
    observations: list[Observation] = []
    if ietf:
        reset = ietf.get("reset")
        observations.append(
            Observation(
                SOURCE_IETF_FIELDS,
                None,
                None,
                ietf.get("limit"),
                ietf.get("remaining"),
                clamp_delay(float(reset)) if reset is not None else None,
            )
        )
    if plain:
        reset = plain.get("reset")
        observations.append(
            Observation(
                SOURCE_X,
                None,
                None,
                plain.get("limit"),
                plain.get("remaining"),
                clamp_delay(float(reset)) if reset is not None else None,
            )
        )
    for window in sorted(windows, key=WINDOWS.__getitem__):
        fields = windows[window]
        observations.append(
            Observation(
                SOURCE_X_WINDOW,
                window,
                WINDOWS[window],
                fields.get("limit"),
                fields.get("remaining"),
                None,
            )
        )
    if not observations and retry_after is None:
        return EMPTY_SNAPSHOT
    return RateLimitSnapshot(tuple(observations), retry_after, cached_server_date(date_value))
