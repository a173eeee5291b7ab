"""Server-side rate limiting for the fake: fixed windows, counted per token, and their headers.

Pure: nothing here reads a clock or does I/O, every decision takes ``now`` (POSIX seconds), so
the accounting is unit-testable and the fake's injected clock drives it.

The model is Kong's rate-limiting plugin, which CircleCI's ``X-RateLimit-*-<Period>`` headers
come from: windows are fixed and aligned to multiples of their length, a request is admitted
only if every window has room, and a rejected request is not counted. CircleCI also answers
with a second, IETF-draft header system whose numbers can disagree with the first; a policy may
mix both (see :meth:`RateLimitPolicy.circleci`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from email.utils import formatdate
from typing import Literal, cast

import attrs

__all__ = [
    "RateLimitDecision",
    "RateLimitLedger",
    "RateLimitPolicy",
    "Window",
    "WindowStatus",
    "render_headers",
]

Family = Literal["x-window", "ietf", "x"]

# Kong's period names; its month and year are not fixed lengths, so they are not offered.
_PERIOD_NAMES = {1: "Second", 60: "Minute", 3600: "Hour", 86400: "Day"}
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPEC_ITEM = re.compile(r"\s*(\d+)\s*/\s*([smhd])\s*(?::\s*(x-window|ietf|x)\s*)?")


def _check_window(instance: Window, attribute: attrs.Attribute[int], value: int) -> None:
    if instance.family == "x-window" and instance.seconds not in _PERIOD_NAMES:
        raise ValueError(
            f"an x-window window must last 1, 60, 3600 or 86400 s, not {instance.seconds}"
        )


@attrs.frozen
class Window:
    """One fixed window: at most ``limit`` requests per ``seconds``, reported in ``family``."""

    limit: int = attrs.field(validator=attrs.validators.ge(0))
    seconds: int = attrs.field(validator=[attrs.validators.ge(1), _check_window])
    family: Family = attrs.field(
        default="x-window", validator=attrs.validators.in_(("x-window", "ietf", "x"))
    )


def _to_windows(value: Iterable[Window]) -> tuple[Window, ...]:
    return tuple(value)


@attrs.frozen
class RateLimitPolicy:
    """The windows the fake enforces and how its 429 answers look."""

    windows: tuple[Window, ...] = attrs.field(converter=_to_windows)
    retry_after: Literal["seconds", "date", "none"] = attrs.field(
        default="seconds", validator=attrs.validators.in_(("seconds", "date", "none"))
    )
    body: Literal["json", "text"] = attrs.field(
        default="json", validator=attrs.validators.in_(("json", "text"))
    )

    @classmethod
    def circleci(
        cls, per_second: int = 20, per_minute: int = 600, gateway_per_minute: int = 1000
    ) -> RateLimitPolicy:
        """CircleCI's situation: Kong's per-second and per-minute windows plus a gateway window
        reported in the IETF headers, so the two header systems disagree and the lower binds."""
        return cls(
            windows=(
                Window(per_second, 1),
                Window(per_minute, 60),
                Window(gateway_per_minute, 60, "ietf"),
            )
        )

    @classmethod
    def parse(cls, spec: str) -> RateLimitPolicy | None:
        """Parse the command-line form: ``none``, ``circleci`` or ``20/s,600/m[,1000/m:ietf]``."""
        text = spec.strip().lower()
        if text == "none":
            return None
        if text == "circleci":
            return cls.circleci()
        windows = []
        for item in text.split(","):
            match = _SPEC_ITEM.fullmatch(item)
            if match is None:
                raise ValueError(f"bad rate-limit window {item!r}: expected <limit>/<s|m|h|d>")
            limit, unit, family = match.groups()
            windows.append(
                Window(int(limit), _UNIT_SECONDS[unit], cast("Family", family or "x-window"))
            )
        return cls(windows=tuple(windows))


@attrs.frozen
class WindowStatus:
    """One window's count as of a decision."""

    window: Window
    remaining: int
    reset_at: int
    """POSIX second at which the window ends (exact: windows are whole seconds, aligned)."""

    @property
    def limit(self) -> int:
        return self.window.limit


@attrs.frozen
class RateLimitDecision:
    """Whether one request is admitted, with every window's state for the response headers."""

    admitted: bool
    now: float
    statuses: tuple[WindowStatus, ...]

    @property
    def retry_at(self) -> int | None:
        """When every window blocking this request has reset; None if it was admitted."""
        blocking = [s.reset_at for s in self.statuses if s.remaining <= 0]
        if self.admitted or not blocking:
            return None
        return max(blocking)

    @property
    def retry_after(self) -> int | None:
        """Whole seconds to wait (rounded up, at least 1); None if the request was admitted."""
        retry_at = self.retry_at
        if retry_at is None:
            return None
        return max(1, math.ceil(retry_at - self.now))


def _window_start(now: float, seconds: int) -> int:
    return int(now // seconds) * seconds


class RateLimitLedger:
    """Per-key, per-window counters. Only the current window of each is kept."""

    def __init__(self) -> None:
        # (key, window) -> (window start, admitted count in that window)
        self._counts: dict[tuple[str, Window], tuple[int, int]] = {}

    def clear(self) -> None:
        self._counts.clear()

    def hit(self, policy: RateLimitPolicy, key: str, now: float) -> RateLimitDecision:
        """Account one request by ``key`` at ``now``: admit and count it in every window, or
        reject it (counted nowhere) if any window is full."""
        current: list[tuple[Window, int, int]] = []
        admitted = True
        for window in policy.windows:
            start = _window_start(now, window.seconds)
            seen_start, count = self._counts.get((key, window), (start, 0))
            if seen_start != start:
                count = 0
            current.append((window, start, count))
            if count >= window.limit:
                admitted = False
        statuses = []
        for window, start, count in current:
            if admitted:
                count += 1
                self._counts[key, window] = (start, count)
            statuses.append(
                WindowStatus(window, max(0, window.limit - count), start + window.seconds)
            )
        return RateLimitDecision(admitted, now, tuple(statuses))


def _most_constrained(statuses: list[WindowStatus]) -> WindowStatus:
    # Fewest remaining; on a tie the later reset, which is the more conservative to report.
    return min(statuses, key=lambda s: (s.remaining, -s.reset_at))


def render_headers(policy: RateLimitPolicy, decision: RateLimitDecision) -> dict[str, str]:
    """The rate-limit headers for one response (and ``Retry-After`` on a rejection)."""
    headers: dict[str, str] = {}
    by_family: dict[str, list[WindowStatus]] = {}
    for status in decision.statuses:
        by_family.setdefault(status.window.family, []).append(status)
    by_period: dict[int, list[WindowStatus]] = {}
    for status in by_family.get("x-window", ()):
        by_period.setdefault(status.window.seconds, []).append(status)
    for seconds, group in sorted(by_period.items()):
        shown = _most_constrained(group)
        period = _PERIOD_NAMES[seconds]
        headers[f"X-RateLimit-Limit-{period}"] = str(shown.limit)
        headers[f"X-RateLimit-Remaining-{period}"] = str(shown.remaining)
    for family, prefix in (("ietf", "RateLimit"), ("x", "X-RateLimit")):
        if family in by_family:
            shown = _most_constrained(by_family[family])
            headers[f"{prefix}-Limit"] = str(shown.limit)
            headers[f"{prefix}-Remaining"] = str(shown.remaining)
            headers[f"{prefix}-Reset"] = str(max(1, math.ceil(shown.reset_at - decision.now)))
    retry_at = decision.retry_at
    if retry_at is not None:
        if policy.retry_after == "seconds":
            headers["Retry-After"] = str(decision.retry_after)
        elif policy.retry_after == "date":
            headers["Retry-After"] = formatdate(retry_at, usegmt=True)
    return headers
