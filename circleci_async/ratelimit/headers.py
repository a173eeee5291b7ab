"""Sans-I/O parser for rate-limit response headers.

Every response passes through :func:`parse_rate_limit_headers`, which turns whatever rate-limit
headers the server sent into a :class:`RateLimitSnapshot` holding one :class:`Observation` per
constraint a dialect described. It reports and never decides: choosing which observation binds (the most restrictive one) is the
limiter's job, because only it keeps state across responses.

Dialects understood, in the order their observations are reported (the order of preference of
design note §2.5; all of them are kept as separate constraints):

1. IETF draft -08 and later (``SOURCE_IETF_LIST``): ``RateLimit: "name";r=..;t=..`` (a list of
   named items; items without ``r`` are ignored) joined by name with
   ``RateLimit-Policy: "name";q=..;w=..``. Names may be strings or tokens; unknown parameters are
   ignored. Policies that no item refers to are reported on their own (limit and window only).
   The malformed ``"fixed window";"api";q=500;w=300`` that Hugging Face sends is read leniently:
   stray strings after the first one count as extra names of the policy.
2. IETF draft -07 (``SOURCE_IETF_DICT``): ``RateLimit: limit=.., remaining=.., reset=..`` with
   ``RateLimit-Policy: 100;w=10`` (joined by quota value to get the window).
3. IETF drafts -00 to -06 (``SOURCE_IETF_FIELDS``): ``RateLimit-Limit`` (the first item binds;
   later items such as ``100;w=60`` are quota policies), ``RateLimit-Remaining``,
   ``RateLimit-Reset`` and ``RateLimit-Policy: 10;w=1, 50;w=60``; GitLab's
   ``RateLimit-ResetTime`` is used when ``RateLimit-Reset`` is missing or malformed.
4. ``X-RateLimit-{Limit,Remaining,Reset,Used}`` and ``X-Rate-Limit-*`` (``SOURCE_X``), plus
   Discord's ``X-RateLimit-Reset-After`` (always a delta, preferred over ``Reset``).
5. Kong's ``X-RateLimit-{Limit,Remaining}-{Second,...,Year}`` (``SOURCE_X_WINDOW``); Kong sends no
   reset for them, so ``reset_after`` stays ``None``.

``Retry-After`` (seconds, decimal seconds, or any of the three HTTP-date forms) is reported
separately; the draft says it takes precedence over every reset field, which the retry layer and
the limiter enforce.

Resets are converted to a delay from the response. The draft defines them as delta-seconds, but
vendors also send epoch seconds, epoch milliseconds or dates; ``reset_kind`` resolves the legacy
field-style headers, while ``t=`` and ``reset=`` (defined by the draft as deltas) always use the
``"auto"`` heuristic. Epochs and dates are measured against the response's ``Date`` header when
it is valid (immune to local clock skew), else against ``now``.

Malformed fields are dropped (logged at DEBUG with only that header's name and value, never any
other header's, since those may carry credentials) and the rest is kept; nothing here raises.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal, cast

import attrs

if TYPE_CHECKING:
    import multidict

__all__ = [
    "EMPTY_SNAPSHOT",
    "SOURCE_IETF_DICT",
    "SOURCE_IETF_FIELDS",
    "SOURCE_IETF_LIST",
    "SOURCE_X",
    "SOURCE_X_WINDOW",
    "Observation",
    "RateLimitSnapshot",
    "parse_http_date",
    "parse_rate_limit_headers",
    "parse_retry_after",
]

_log = logging.getLogger("circleci_async.ratelimit")

SOURCE_IETF_LIST: Final = "ietf-list"
SOURCE_IETF_DICT: Final = "ietf-dict"
SOURCE_IETF_FIELDS: Final = "ietf-fields"
SOURCE_X: Final = "x-ratelimit"
SOURCE_X_WINDOW: Final = "x-ratelimit-window"

# Any delay beyond ten years is a server bug; capping keeps arithmetic downstream finite.
_MAX_DELAY: Final = 10 * 365 * 86400.0
# Below this a numeric reset is a window length (31+ years otherwise); at or above it an epoch.
_EPOCH_SECONDS_MIN: Final = 1e9
_EPOCH_MILLIS_MIN: Final = 1e12


@attrs.frozen(slots=True)
class Observation:
    """One rate-limit constraint as one header dialect described it.

    ``used`` is an addition to the agreed shape: ``X-RateLimit-Used`` may arrive without a limit,
    and this is the only place to keep it.
    """

    source: str
    policy: str | None
    window: float | None
    limit: int | None
    remaining: int | None
    reset_after: float | None
    used: int | None = None


@attrs.frozen(slots=True)
class RateLimitSnapshot:
    """Everything one response said about rate limits; falsy when it said nothing usable."""

    observations: tuple[Observation, ...] = ()
    retry_after: float | None = None
    server_date: float | None = None

    def __bool__(self) -> bool:
        return bool(self.observations) or self.retry_after is not None


EMPTY_SNAPSHOT: Final = RateLimitSnapshot()

# --- fast-path filter -------------------------------------------------------------------------

# Checking the first character before lower-casing keeps the common no-match case cheap.
_FIRST_CHARS: Final = frozenset("rRxXdD")
_PREFIXES: Final = ("ratelimit", "x-ratelimit", "x-rate-limit", "retry-after", "date")

# --- small lexical helpers ----------------------------------------------------------------------

# ASCII digits only: int() would happily accept other scripts' digits.
_NUM_RE: Final = re.compile(r"\s*(-?[0-9]{1,30}(?:\.[0-9]{0,30})?)\s*", re.ASCII)
# Quoted strings (possibly unterminated), separators, or runs of anything else: findall()
# partitions any text, so the structured-field splitter below never loses or rejects input.
_TOKEN_RE: Final = re.compile(r'"(?:[^"\\]|\\.)*"?|[,;]|[^,;"]+', re.DOTALL)
# Applied to stripped pieces only (a trailing ``\s*`` after ``.*?`` would backtrack quadratically).
_PARAM_RE: Final = re.compile(r"([A-Za-z*][A-Za-z0-9_.*-]*)\s*=\s*(.*)", re.DOTALL)
_ESCAPE_RE: Final = re.compile(r"\\(.)", re.DOTALL)

# Real rate-limit fields are a few hundred characters at most; the cap bounds the work a
# hostile or broken server can cause per response.
_MAX_FIELD_LEN: Final = 4096

_Member = tuple[str, dict[str, str], list[str]]  # (head, parameters, stray bare pieces)


def _describe(value: str) -> str:
    return repr(value if len(value) <= 200 else value[:200] + "...")


def _drop(name: str, value: str, reason: str) -> None:
    """Record a dropped field; only the rate-limit header's own name and value are logged."""
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("ignoring %s header %s: %s", name, _describe(value), reason)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():  # the common case, without the regex
        return float(text)
    match = _NUM_RE.fullmatch(text)
    return float(match.group(1)) if match is not None else None


def _integer(text: str | None) -> int | None:
    """Parse an integer leniently: servers send ``"59.0"``; fractions round down (conservative)."""
    if text is None:
        return None
    if text.isascii() and text.isdigit():  # the common case, without the regex
        return int(text)
    match = _NUM_RE.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    return int(digits) if "." not in digits else math.floor(float(digits))


def _first_item(text: str) -> str:
    """The first list member's bare item: repeated lines were joined with ``", "``."""
    return text.partition(",")[0].partition(";")[0]


def _unquote(text: str) -> str:
    text = text.strip()
    if not text.startswith('"'):
        return text
    inner = text[1:-1] if len(text) > 1 and text.endswith('"') else text[1:]
    return _ESCAPE_RE.sub(r"\1", inner) if "\\" in inner else inner


def _name(head: str) -> str | None:
    """A policy/limit name given as an SF string or token."""
    if head.startswith('"'):
        return _unquote(head) or None
    if not head or '"' in head or "=" in head:
        return None
    return head


def _members(text: str, header: str) -> list[_Member]:
    """Split a structured-field list leniently into members of head + parameters."""
    if len(text) > _MAX_FIELD_LEN:
        _drop(header, text, f"longer than {_MAX_FIELD_LEN} characters")
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

    members: list[_Member] = []
    for raw in raw_members:
        head = raw[0].strip()
        if not head:
            continue
        params: dict[str, str] = {}
        strays: list[str] = []
        for piece in raw[1:]:
            piece = piece.strip()
            match = _PARAM_RE.fullmatch(piece)
            if match is not None:
                params[match.group(1).lower()] = _unquote(match.group(2))
            elif piece:
                strays.append(piece)
        members.append((head, params, strays))
    return members


def _clamp_delay(seconds: float) -> float:
    """Clamp to [0, cap]; NaN (from a hostile ``now``) becomes 0."""
    if not seconds > 0.0:
        return 0.0
    return min(seconds, _MAX_DELAY)


# --- dates -------------------------------------------------------------------------------------

_MONTHS: Final = {
    name: index
    for index, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# The date patterns run on stripped text of bounded length and never put two unbounded
# whitespace runs next to each other, so a hostile header cannot make them backtrack
# quadratically.
_MAX_DATE_LEN: Final = 64
_ZONE: Final = r"(?:\s*(?P<zone>GMT|UTC|UT|Z|[+-]\d{2}(?::?\d{2})?))?"
# IMF-fixdate and RFC 850 (``Sun, 06 Nov 1994 ...`` / ``Sunday, 06-Nov-94 ...``); the weekday is
# optional and not cross-checked: it carries no information the date does not.
_IMF_RE: Final = re.compile(
    r"(?:[A-Za-z]{3,9},?\s*)?(?P<day>\d{1,2})[ -]+(?P<mon>[A-Za-z]{3})[ -]+"
    r"(?P<year>\d{4}|\d{2})\s+(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
# asctime (``Sun Nov  6 08:49:37 1994``): no zone, and HTTP-dates are always UTC.
_ASCTIME_RE: Final = re.compile(
    r"[A-Za-z]{3}\s+(?P<mon>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})\s+(?P<year>\d{4})" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
_ISO_RE: Final = re.compile(
    r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?" + _ZONE,
    re.ASCII | re.IGNORECASE,
)
_EPOCH: Final = datetime(1970, 1, 1)  # naive: all arithmetic below is in UTC


def _zone_offset(zone: str | None) -> int:
    if zone is None or zone[0] not in "+-":
        return 0  # no zone, GMT, UTC, UT or Z: HTTP-dates without a zone are UTC
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
    return -offset if zone[0] == "-" else offset


def _timestamp(match: re.Match[str], month: int, year: int) -> float | None:
    second = int(match.group("S") or 0)
    try:
        moment = datetime(
            year,
            month,
            int(match.group("day")),
            int(match.group("H") or 0),
            int(match.group("M") or 0),
            min(second, 59),  # a leap second is the last second of its minute
        )
    except ValueError:
        return None
    return (moment - _EPOCH).total_seconds() - _zone_offset(match.group("zone"))


def parse_http_date(value: str) -> float | None:
    """Parse an RFC 9110 HTTP-date (IMF-fixdate, RFC 850, asctime) into POSIX seconds.

    A missing zone means UTC (``email.utils`` would use local time); ``UTC`` and numeric offsets
    are accepted too, because servers send them despite the grammar.
    """
    try:
        value = value.strip()
        if len(value) > _MAX_DATE_LEN:
            return None
        match = _IMF_RE.fullmatch(value) or _ASCTIME_RE.fullmatch(value)
        if match is None:
            return None
        month = _MONTHS.get(match.group("mon").lower())
        if month is None:
            return None
        year_text = match.group("year")
        year = int(year_text)
        if len(year_text) == 2:
            # RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
            year += 2000
            if year > time.gmtime().tm_year + 50:
                year -= 100
        return _timestamp(match, month, year)
    except Exception:  # never raise on header content, whatever the input type
        return None


def _parse_date_text(value: str) -> float | None:
    """An HTTP-date, or the RFC 3339 / ISO-8601 form some vendors put in reset headers."""
    stamp = parse_http_date(value)
    if stamp is not None:
        return stamp
    value = value.strip()
    if len(value) > _MAX_DATE_LEN:
        return None
    match = _ISO_RE.fullmatch(value)
    if match is None:
        return None
    stamp = _timestamp(match, int(match.group("mon")), int(match.group("year")))
    frac = match.group("frac")
    if stamp is not None and frac:
        stamp += int(frac) / 10 ** len(frac)
    return stamp


# --- Retry-After -------------------------------------------------------------------------------


def parse_retry_after(
    value: str, *, now: float | None = None, server_date: float | None = None
) -> float | None:
    """Seconds to wait according to ``Retry-After``, or ``None`` when it is unusable.

    Decimal seconds are accepted because some servers send them. A date is measured against
    ``server_date`` when given (no clock skew), else ``now``, else the local clock; a date in
    the past means "now" (0.0). Values are capped at ten years only to keep arithmetic finite:
    deciding what is too long to wait belongs to the retry layer.
    """
    try:
        match = _NUM_RE.fullmatch(value)
        if match is not None:
            digits = match.group(1)
            if digits.startswith("-"):
                return None
            return min(float(digits), _MAX_DELAY)
        stamp = _parse_date_text(value)
        if stamp is None:
            return None
        if server_date is not None:
            reference = server_date
        else:
            reference = now if now is not None else time.time()
        return _clamp_delay(stamp - reference)
    except Exception:  # never raise on header content, whatever the input type
        return None


# --- resets ------------------------------------------------------------------------------------


def _reset_delay(text: str, kind: str, reference: float) -> float | None:
    """Convert one reset value (delta, epoch s/ms, or date) to a delay from the response."""
    value = _number(text)
    if value is None:
        stamp = _parse_date_text(text)
        if stamp is None:
            first = _first_item(text)
            if first == text:
                return None
            return _reset_delay(first, kind, reference)  # a joined repeat: "7, 7"
        return _clamp_delay(stamp - reference)
    if value < 0.0:
        return None
    if kind == "delta" or (kind != "epoch" and value < _EPOCH_SECONDS_MIN):
        return _clamp_delay(value)
    if value >= _EPOCH_MILLIS_MIN:
        value /= 1000.0
    return _clamp_delay(value - reference)


# --- the IETF drafts ---------------------------------------------------------------------------


class _Policy:
    """A quota policy, mutable only to mark that an observation absorbed it."""

    __slots__ = ("joined", "names", "quota", "window")

    def __init__(self, names: tuple[str, ...], quota: int, window: float | None) -> None:
        self.names = names
        self.quota = quota
        self.window = window
        self.joined = False


def _window(text: str | None, header: str, raw: str) -> float | None:
    if text is None:
        return None
    value = _number(text)
    if value is None or not value > 0.0:
        _drop(header, raw, f"window {_describe(text)} is not a positive number")
        return None
    return min(value, _MAX_DELAY)


def _limit(text: str | None, header: str, raw: str) -> int | None:
    if text is None:
        return None
    value = _integer(text)
    if value is None or value < 0:
        _drop(header, raw, f"limit {_describe(text)} is not a non-negative integer")
        return None
    return value


def _remaining(text: str | None, header: str, raw: str) -> int | None:
    if text is None:
        return None
    value = _integer(text)
    if value is None:
        _drop(header, raw, f"remaining {_describe(text)} is not a number")
        return None
    return max(value, 0)


def _reset(text: str | None, kind: str, reference: float, header: str, raw: str) -> float | None:
    if text is None:
        return None
    delay = _reset_delay(text, kind, reference)
    if delay is None:
        _drop(header, raw, f"reset {_describe(text)} is not a delay, epoch or date")
    return delay


def _parse_policies(raw: str) -> tuple[list[_Policy], list[_Policy]]:
    """Split ``RateLimit-Policy`` into -08 named policies and -04..-07 numbered ones."""
    named: list[_Policy] = []
    numbered: list[_Policy] = []
    for head, params, strays in _members(raw, "ratelimit-policy"):
        quota = _integer(head)
        if quota is not None:
            if quota < 0:
                _drop("ratelimit-policy", raw, f"negative quota {_describe(head)}")
                continue
            numbered.append(_Policy((), quota, _window(params.get("w"), "ratelimit-policy", raw)))
            continue
        name = _name(head)
        quota = _limit(params.get("q"), "ratelimit-policy", raw)
        if name is None or quota is None:
            _drop("ratelimit-policy", raw, f"policy {_describe(head)} has no usable name or q")
            continue
        names = [name]
        names.extend(extra for extra in map(_name, strays) if extra is not None)
        window = _window(params.get("w"), "ratelimit-policy", raw)
        named.append(_Policy(tuple(names), quota, window))
    return named, numbered


def _join_numbered(
    limit: int | None, window: float | None, policies: list[_Policy]
) -> float | None:
    """Give a bare limit the window of the policy with the same quota, and absorb that policy."""
    if limit is None:
        return window
    if window is None:
        for policy in policies:
            if policy.quota == limit and policy.window is not None:
                window = policy.window
                break
    for policy in policies:
        if policy.quota == limit and (policy.window is None or policy.window == window):
            policy.joined = True
    return window


def _emit_unjoined(source: str, policies: list[_Policy], out: list[Observation]) -> None:
    for policy in policies:
        if not policy.joined:
            name = policy.names[0] if policy.names else None
            out.append(Observation(source, name, policy.window, policy.quota, None, None))


def _parse_ietf(
    found: dict[str, list[str]], kind: str, reference: float, out: list[Observation]
) -> None:
    named: list[_Policy] = []
    numbered: list[_Policy] = []
    policy_lines = found.get("ratelimit-policy")
    if policy_lines is not None:
        named, numbered = _parse_policies(", ".join(policy_lines))

    # RateLimit is a -08+ List of named items or a -07 Dictionary; decide per member.
    dictionary: dict[str, str] = {}
    items: list[tuple[str, dict[str, str]]] = []
    rl_lines = found.get("ratelimit")
    rl_raw = ", ".join(rl_lines) if rl_lines is not None else ""
    for head, params, _strays in _members(rl_raw, "ratelimit") if rl_lines is not None else ():
        pair = _PARAM_RE.fullmatch(head)
        if pair is not None:
            dictionary[pair.group(1).lower()] = _unquote(pair.group(2))
            continue
        name = _name(head)
        if name is None:
            _drop("ratelimit", rl_raw, f"item {_describe(head)} has no usable name")
            continue
        items.append((name, params))

    for name, params in items:
        if "r" not in params:
            _drop("ratelimit", rl_raw, f"item {_describe(name)} has no r")
            continue
        remaining = _remaining(params["r"], "ratelimit", rl_raw)
        if remaining is None:
            continue
        reset = _reset(params.get("t"), "auto", reference, "ratelimit", rl_raw)
        policy = next((p for p in named if name in p.names), None)
        if policy is None:
            out.append(Observation(SOURCE_IETF_LIST, name, None, None, remaining, reset))
        else:
            policy.joined = True
            out.append(
                Observation(SOURCE_IETF_LIST, name, policy.window, policy.quota, remaining, reset)
            )
    _emit_unjoined(SOURCE_IETF_LIST, named, out)

    if dictionary:
        limit = _limit(dictionary.get("limit"), "ratelimit", rl_raw)
        remaining = _remaining(dictionary.get("remaining"), "ratelimit", rl_raw)
        reset = _reset(dictionary.get("reset"), "auto", reference, "ratelimit", rl_raw)
        if limit is not None or remaining is not None or reset is not None:
            window = _join_numbered(limit, None, numbered)
            out.append(Observation(SOURCE_IETF_DICT, None, window, limit, remaining, reset))
        _emit_unjoined(SOURCE_IETF_DICT, numbered, out)
        numbered = []  # the -07 dictionary claimed RateLimit-Policy

    _parse_ietf_fields(found, kind, reference, numbered, out)


def _parse_ietf_fields(
    found: dict[str, list[str]],
    kind: str,
    reference: float,
    numbered: list[_Policy],
    out: list[Observation],
) -> None:
    """Drafts -00..-06: separate Limit / Remaining / Reset fields."""
    limit: int | None = None
    window: float | None = None
    trailing: list[_Policy] = []
    limit_lines = found.get("ratelimit-limit")
    if limit_lines is not None:
        raw = ", ".join(limit_lines)
        members = _members(raw, "ratelimit-limit")
        if members:
            head, params, _strays = members[0]
            limit = _limit(head, "ratelimit-limit", raw)
            window = _window(params.get("w"), "ratelimit-limit", raw)
        for head, params, _strays in members[1:]:
            quota = _limit(head, "ratelimit-limit", raw)
            if quota is not None:
                trailing.append(
                    _Policy((), quota, _window(params.get("w"), "ratelimit-limit", raw))
                )

    remaining: int | None = None
    remaining_lines = found.get("ratelimit-remaining")
    if remaining_lines is not None:
        first = remaining_lines[0]
        remaining = _remaining(_first_item(first), "ratelimit-remaining", first)

    reset: float | None = None
    reset_lines = found.get("ratelimit-reset")
    if reset_lines is not None:
        reset = _reset(reset_lines[0], kind, reference, "ratelimit-reset", reset_lines[0])
    if reset is None:
        reset_time_lines = found.get("ratelimit-resettime")  # GitLab: an IMF-fixdate
        if reset_time_lines is not None:
            first = reset_time_lines[0]
            reset = _reset(first, kind, reference, "ratelimit-resettime", first)

    policies = trailing + numbered
    if limit is not None or remaining is not None or reset is not None:
        window = _join_numbered(limit, window, policies)
        if limit is not None and remaining is not None and remaining > limit:
            _log.debug("RateLimit-Remaining %d exceeds RateLimit-Limit %d", remaining, limit)
        out.append(Observation(SOURCE_IETF_FIELDS, None, window, limit, remaining, reset))
    _emit_unjoined(SOURCE_IETF_FIELDS, policies, out)


# --- X-RateLimit families ----------------------------------------------------------------------

_WINDOWS: Final = {
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
        for window in _WINDOWS:
            for field in ("limit", "remaining"):
                roles[f"{prefix}{field}-{window}"] = (prefix, field, window)
    return roles


# lower-case header name -> (family prefix, field, Kong window or None)
_X_ROLES: Final = _x_roles()


def _x_group_order(key: tuple[str, str | None]) -> tuple[float, int]:
    prefix, window = key
    return (_WINDOWS[window] if window is not None else 0.0, _X_PREFIXES.index(prefix))


def _parse_x(
    found: dict[str, list[str]], kind: str, reference: float, out: list[Observation]
) -> None:
    groups: dict[tuple[str, str | None], dict[str, str]] = {}
    for header, lines in found.items():
        role = _X_ROLES.get(header)
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
            _limit(_first_item(raw_limit), name_limit, raw_limit) if raw_limit is not None else None
        )
        remaining = (
            _remaining(_first_item(raw_remaining), name_remaining, raw_remaining)
            if raw_remaining is not None
            else None
        )
        if window is not None:
            if limit is not None or remaining is not None:
                out.append(
                    Observation(SOURCE_X_WINDOW, window, _WINDOWS[window], limit, remaining, None)
                )
            continue

        reset: float | None = None
        raw_after = fields.get("reset-after")
        if raw_after is not None:
            reset = _reset(raw_after, "delta", reference, prefix + "reset-after", raw_after)
        raw_reset = fields.get("reset")
        if reset is None and raw_reset is not None:
            reset = _reset(raw_reset, kind, reference, prefix + "reset", raw_reset)
        used: int | None = None
        raw_used = fields.get("used")
        if raw_used is not None:
            used = _limit(_first_item(raw_used), prefix + "used", raw_used)
        if remaining is None and limit is not None and used is not None:
            remaining = max(limit - used, 0)
        if limit is not None or remaining is not None or reset is not None or used is not None:
            out.append(Observation(SOURCE_X, None, None, limit, remaining, reset, used))


# --- entry point -------------------------------------------------------------------------------


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
        _log.debug("rate-limit headers ignored after an internal %s", type(exc).__name__)
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


_last_date: tuple[str | None, float | None] = (None, None)


def _server_date(date_value: str | None) -> float | None:
    if date_value is None:
        return None
    global _last_date
    cached_text, cached_stamp = _last_date
    if date_value == cached_text:  # Date changes once a second; responses come faster
        return cached_stamp
    server_date = parse_http_date(date_value)
    _last_date = (date_value, server_date)
    if server_date is None:
        _drop("date", date_value, "not an HTTP-date; using the local clock")
    return server_date


def _simple_names() -> dict[str, tuple[str, str, str | None]]:
    names: dict[str, tuple[str, str, str | None]] = {
        "ratelimit-limit": ("ietf", "limit", None),
        "ratelimit-remaining": ("ietf", "remaining", None),
        "ratelimit-reset": ("ietf", "reset", None),
        "retry-after": ("retry", "", None),
    }
    for name, (prefix, field, window) in _X_ROLES.items():
        if prefix == "x-ratelimit-" and field in ("limit", "remaining", "reset"):
            names[name] = ("x", field, window)
    return names


# The shapes CircleCI sends: single bare integers in the common fields (lower-case name ->
# (family, field, Kong window)). These take the fast path; anything else takes the general one.
_SIMPLE_NAMES: Final = _simple_names()


def _build(
    found: dict[str, list[str]], date_value: str | None, now: float | None, reset_kind: str
) -> RateLimitSnapshot:
    if reset_kind != "epoch":
        simple = _build_simple(found, date_value)
        if simple is not None:
            return simple
    return _build_general(found, date_value, now, reset_kind)


def _build_simple(found: dict[str, list[str]], date_value: str | None) -> RateLimitSnapshot | None:
    """The fast path for bare-integer fields (no dates, lists or epochs), or None.

    It must give exactly what :func:`_build_general` gives for the same input (a test checks
    it); it exists because this runs on every response and the general path costs 3x more.
    """
    ietf: dict[str, int] = {}
    plain: dict[str, int] = {}
    windows: dict[str, dict[str, int]] = {}
    retry_after: float | None = None
    for name, lines in found.items():
        role = _SIMPLE_NAMES.get(name)
        if role is None or len(lines) != 1:
            return None
        value = lines[0]
        if not (value.isascii() and value.isdigit()):
            return None
        family, field, window = role
        number = int(value)
        if family == "retry":
            retry_after = min(float(number), _MAX_DELAY)
        elif field == "reset" and number >= _EPOCH_SECONDS_MIN:
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
                _clamp_delay(float(reset)) if reset is not None else None,
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
                _clamp_delay(float(reset)) if reset is not None else None,
            )
        )
    for window in sorted(windows, key=_WINDOWS.__getitem__):
        fields = windows[window]
        observations.append(
            Observation(
                SOURCE_X_WINDOW,
                window,
                _WINDOWS[window],
                fields.get("limit"),
                fields.get("remaining"),
                None,
            )
        )
    if not observations and retry_after is None:
        return EMPTY_SNAPSHOT
    return RateLimitSnapshot(tuple(observations), retry_after, _server_date(date_value))


def _build_general(
    found: dict[str, list[str]], date_value: str | None, now: float | None, reset_kind: str
) -> RateLimitSnapshot:
    server_date = _server_date(date_value)
    if server_date is not None:
        reference = server_date
    elif now is not None:
        reference = now
    else:
        reference = time.time()
    kind = reset_kind if reset_kind in ("delta", "epoch") else "auto"

    observations: list[Observation] = []
    if any(header.startswith("ratelimit") for header in found):
        _parse_ietf(found, kind, reference, observations)
    if any(header in _X_ROLES for header in found):
        _parse_x(found, kind, reference, observations)

    retry_after: float | None = None
    retry_lines = found.get("retry-after")
    if retry_lines is not None:
        # Repeated lines cannot be joined (dates contain commas); never under-honour: take the max.
        for line in retry_lines:
            delay = parse_retry_after(line, now=reference)
            if delay is None:
                _drop("retry-after", line, "not delay-seconds or an HTTP-date")
            elif retry_after is None or delay > retry_after:
                retry_after = delay

    if not observations and retry_after is None:
        return EMPTY_SNAPSHOT
    unique = tuple(dict.fromkeys(observations))  # identical observations say nothing new
    return RateLimitSnapshot(unique, retry_after, server_date)
