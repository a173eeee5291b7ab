"""The fast path: the shapes CircleCI sends (single bare integers in the common fields), and the
IETF -07 dictionary as servers write it, read without tokenizing. It must give exactly what the
general path gives (a test checks it)."""

from __future__ import annotations

import re
from typing import Final

from ._dates import cached_server_date
from ._lex import EPOCH_SECONDS_MIN, MAX_DELAY, clamp_delay
from ._model import (
    EMPTY_SNAPSHOT,
    SOURCE_IETF_DICT,
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

# The IETF -07 ``RateLimit`` dictionary in its usual order, bare integers, and one numbered
# ``RateLimit-Policy`` (``quota;w=seconds``); any other spelling takes the general path.
_IETF_DICT: Final = re.compile(r"limit=([0-9]+), ?remaining=([0-9]+), ?reset=([0-9]+)")
_IETF_POLICY: Final = re.compile(r"([0-9]+);w=([0-9]+)")


def build_simple(found: dict[str, list[str]], date_value: str | None) -> RateLimitSnapshot | None:
    """The fast path for bare-integer fields (no dates, lists or epochs), or None.

    It must give exactly what :func:`_build_general` gives for the same input (a test checks
    it); it exists because this runs on every response and the general path costs 3x more.
    """
    ietf: dict[str, int] = {}
    plain: dict[str, int] = {}
    windows: dict[str, dict[str, int]] = {}
    retry_after: float | None = None
    dictionary: tuple[int, int, int] | None = None
    policy: tuple[int, int] | None = None
    for name, lines in found.items():
        if len(lines) != 1:
            return None
        value = lines[0]
        if name == "ratelimit" or name == "ratelimit-policy":
            match = (_IETF_DICT if name == "ratelimit" else _IETF_POLICY).fullmatch(value)
            if match is None:
                return None
            if name == "ratelimit":
                dictionary = (int(match[1]), int(match[2]), int(match[3]))
            else:
                policy = (int(match[1]), int(match[2]))
            continue
        role = SIMPLE_NAMES.get(name)
        if role is None:
            return None
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
    if policy is not None and dictionary is None:
        return None  # numbered policies joined with the -00..-06 fields: the general path
    if dictionary is not None:
        dictionary_seen = _dictionary(dictionary, policy)
        if dictionary_seen is None:
            return None
        observations.append(dictionary_seen)
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


def _dictionary(fields: tuple[int, int, int], policy: tuple[int, int] | None) -> Observation | None:
    """The -07 dictionary's observation, its window from a policy of the same quota; ``None``
    for what the general path reads differently (an epoch reset, a policy of another quota
    or with no usable window)."""
    limit, remaining, reset = fields
    if reset >= EPOCH_SECONDS_MIN:
        return None
    window: float | None = None
    if policy is not None:
        quota, seconds = policy
        if quota != limit or seconds <= 0:
            return None
        window = min(float(seconds), MAX_DELAY)
    return Observation(SOURCE_IETF_DICT, None, window, limit, remaining, clamp_delay(float(reset)))
