"""Lexing of header values, leniently and in bounded time: numbers, the structured-field lists
and parameters of the IETF drafts, and the DEBUG log of what is dropped (a header's own name
and value only, never another header's, since those may carry credentials)."""

from __future__ import annotations

import logging
import math
import re
from typing import Final

log = logging.getLogger("circleci_async.ratelimit")

# Any delay beyond ten years is a server bug; capping keeps arithmetic downstream finite.
MAX_DELAY: Final = 10 * 365 * 86400.0
# Below this a numeric reset is a window length (31+ years otherwise); at or above it an epoch.
EPOCH_SECONDS_MIN: Final = 1e9
EPOCH_MILLIS_MIN: Final = 1e12


# ASCII digits only: int() would happily accept other scripts' digits.
NUM_RE: Final = re.compile(r"\s*(-?[0-9]{1,30}(?:\.[0-9]{0,30})?)\s*", re.ASCII)
# Quoted strings (possibly unterminated), separators, or runs of anything else: findall()
# partitions any text, so the structured-field splitter below never loses or rejects input.
_TOKEN_RE: Final = re.compile(r'"(?:[^"\\]|\\.)*"?|[,;]|[^,;"]+', re.DOTALL)
# Applied to stripped pieces only (a trailing ``\s*`` after ``.*?`` would backtrack quadratically).
PARAM_RE: Final = re.compile(r"([A-Za-z*][A-Za-z0-9_.*-]*)\s*=\s*(.*)", re.DOTALL)
_ESCAPE_RE: Final = re.compile(r"\\(.)", re.DOTALL)

# Real rate-limit fields are a few hundred characters at most; the cap bounds the work a
# hostile or broken server can cause per response.
_MAX_FIELD_LEN: Final = 4096

Member = tuple[str, dict[str, str], list[str]]  # (head, parameters, stray bare pieces)


def describe(value: str) -> str:
    return repr(value if len(value) <= 200 else value[:200] + "...")


def drop(name: str, value: str, reason: str) -> None:
    """Record a dropped field; only the rate-limit header's own name and value are logged."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("ignoring %s header %s: %s", name, describe(value), reason)


def number(text: str | None) -> float | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():  # the common case, without the regex
        return float(text)
    match = NUM_RE.fullmatch(text)
    return float(match.group(1)) if match is not None else None


def integer(text: str | None) -> int | None:
    """Parse an integer leniently: servers send ``"59.0"``; fractions round down (conservative)."""
    if text is None:
        return None
    if text.isascii() and text.isdigit():  # the common case, without the regex
        return int(text)
    match = NUM_RE.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    return int(digits) if "." not in digits else math.floor(float(digits))


def first_item(text: str) -> str:
    """The first list member's bare item: repeated lines were joined with ``", "``."""
    return text.partition(",")[0].partition(";")[0]


def unquote(text: str) -> str:
    text = text.strip()
    if not text.startswith('"'):
        return text
    inner = text[1:-1] if len(text) > 1 and text.endswith('"') else text[1:]
    return _ESCAPE_RE.sub(r"\1", inner) if "\\" in inner else inner


def sf_name(head: str) -> str | None:
    """A policy/limit name given as an SF string or token."""
    if head.startswith('"'):
        return unquote(head) or None
    if not head or '"' in head or "=" in head:
        return None
    return head


def split_members(text: str, header: str) -> list[Member]:
    """Split a structured-field list leniently into members of head + parameters."""
    if len(text) > _MAX_FIELD_LEN:
        drop(header, text, f"longer than {_MAX_FIELD_LEN} characters")
        return []
    if text.isascii() and text.isdigit():  # a bare integer, as CircleCI sends: no tokenizing
        return [(text, {}, [])]
    raw_members: list[list[str]] = []
    pieces: list[str] = []
    buf: list[str] = []
    for part in _TOKEN_RE.findall(text):
        if part == ",":
            pieces.append("".join(buf))
            raw_members.append(pieces)
            pieces, buf = [], []
        elif part == ";":
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(part)
    pieces.append("".join(buf))
    raw_members.append(pieces)

    members: list[Member] = []
    for raw in raw_members:
        head = raw[0].strip()
        if not head:
            continue
        params: dict[str, str] = {}
        strays: list[str] = []
        for piece in raw[1:]:
            piece = piece.strip()
            match = PARAM_RE.fullmatch(piece)
            if match is not None:
                params[match.group(1).lower()] = unquote(match.group(2))
            elif piece:
                strays.append(piece)
        members.append((head, params, strays))
    return members


def clamp_delay(seconds: float) -> float:
    """Clamp to [0, cap]; NaN (from a hostile ``now``) becomes 0."""
    if not seconds > 0.0:
        return 0.0
    return min(seconds, MAX_DELAY)
