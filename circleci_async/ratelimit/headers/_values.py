"""One field value of any dialect, validated: a window, a limit, a remaining count, a reset.
An unusable value is dropped (logged) and reads as ``None``."""

from __future__ import annotations

from ._dates import reset_delay
from ._lex import MAX_DELAY, describe, drop, integer, number


def parse_window(text: str | None, header: str, raw: str) -> float | None:
    if text is None:
        return None
    value = number(text)
    if value is None or not value > 0.0:
        drop(header, raw, f"window {describe(text)} is not a positive number")
        return None
    return min(value, MAX_DELAY)


def parse_limit(text: str | None, header: str, raw: str) -> int | None:
    if text is None:
        return None
    value = integer(text)
    if value is None or value < 0:
        drop(header, raw, f"limit {describe(text)} is not a non-negative integer")
        return None
    return value


def parse_remaining(text: str | None, header: str, raw: str) -> int | None:
    if text is None:
        return None
    value = integer(text)
    if value is None:
        drop(header, raw, f"remaining {describe(text)} is not a number")
        return None
    return max(value, 0)


def parse_reset(
    text: str | None, kind: str, reference: float, header: str, raw: str
) -> float | None:
    if text is None:
        return None
    delay = reset_delay(text, kind, reference)
    if delay is None:
        drop(header, raw, f"reset {describe(text)} is not a delay, epoch or date")
    return delay
