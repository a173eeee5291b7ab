"""The ``X-RateLimit-*`` / ``X-Rate-Limit-*`` families (with Discord's ``Reset-After``) and
Kong's per-window ``X-RateLimit-{Limit,Remaining}-{Second,...,Year}``."""

from __future__ import annotations

from typing import Final

from ._lex import first_item
from ._model import SOURCE_X, SOURCE_X_WINDOW, Observation
from ._values import parse_limit, parse_remaining, parse_reset

WINDOWS: Final = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "month": 2592000.0,
    "year": 31536000.0,
}
_X_PREFIXES: Final = ("x-ratelimit-", "x-rate-limit-")


def _x_roles() -> dict[str, tuple[str, str, str | None]]:
    roles: dict[str, tuple[str, str, str | None]] = {}
    for prefix in _X_PREFIXES:
        for field in ("limit", "remaining", "reset", "reset-after", "used"):
            roles[prefix + field] = (prefix, field, None)
        for window in WINDOWS:
            for field in ("limit", "remaining"):
                roles[f"{prefix}{field}-{window}"] = (prefix, field, window)
    return roles


# lower-case header name -> (family prefix, field, Kong window or None)
X_ROLES: Final = _x_roles()


def _x_group_order(key: tuple[str, str | None]) -> tuple[float, int]:
    prefix, window = key
    return (WINDOWS[window] if window is not None else 0.0, _X_PREFIXES.index(prefix))


def parse_x(
    found: dict[str, list[str]], kind: str, reference: float, out: list[Observation]
) -> None:
    groups: dict[tuple[str, str | None], dict[str, str]] = {}
    for header, lines in found.items():
        role = X_ROLES.get(header)
        if role is not None:
            prefix, field, window = role
            groups.setdefault((prefix, window), {})[field] = lines[0]
    for key in sorted(groups, key=_x_group_order):
        prefix, window = key
        fields = groups[key]
        raw_limit = fields.get("limit")
        raw_remaining = fields.get("remaining")
        name_limit = prefix + "limit" + (f"-{window}" if window else "")
        name_remaining = prefix + "remaining" + (f"-{window}" if window else "")
        limit = (
            parse_limit(first_item(raw_limit), name_limit, raw_limit)
            if raw_limit is not None
            else None
        )
        remaining = (
            parse_remaining(first_item(raw_remaining), name_remaining, raw_remaining)
            if raw_remaining is not None
            else None
        )
        if window is not None:
            if limit is not None or remaining is not None:
                out.append(
                    Observation(SOURCE_X_WINDOW, window, WINDOWS[window], limit, remaining, None)
                )
            continue

        reset: float | None = None
        raw_after = fields.get("reset-after")
        if raw_after is not None:
            reset = parse_reset(raw_after, "delta", reference, prefix + "reset-after", raw_after)
        raw_reset = fields.get("reset")
        if reset is None and raw_reset is not None:
            reset = parse_reset(raw_reset, kind, reference, prefix + "reset", raw_reset)
        used: int | None = None
        raw_used = fields.get("used")
        if raw_used is not None:
            used = parse_limit(first_item(raw_used), prefix + "used", raw_used)
        if remaining is None and limit is not None and used is not None:
            remaining = max(limit - used, 0)
        if limit is not None or remaining is not None or reset is not None or used is not None:
            out.append(Observation(SOURCE_X, None, None, limit, remaining, reset, used))
