"""The IETF ``RateLimit`` drafts: -08 and later (a list of named items joined with
``RateLimit-Policy``), -07 (a dictionary) and -00 to -06 (separate ``RateLimit-*`` fields)."""

from __future__ import annotations

from ._lex import (
    PARAM_RE,
    describe,
    drop,
    first_item,
    integer,
    log,
    sf_name,
    split_members,
    unquote,
)
from ._model import SOURCE_IETF_DICT, SOURCE_IETF_FIELDS, SOURCE_IETF_LIST, Observation
from ._values import parse_limit, parse_remaining, parse_reset, parse_window


class _Policy:
    """A quota policy, mutable only to mark that an observation absorbed it."""

    __slots__ = ("joined", "names", "quota", "window")

    def __init__(self, names: tuple[str, ...], quota: int, window: float | None) -> None:
        self.names = names
        self.quota = quota
        self.window = window
        self.joined = False


def _parse_policies(raw: str) -> tuple[list[_Policy], list[_Policy]]:
    """Split ``RateLimit-Policy`` into -08 named policies and -04..-07 numbered ones."""
    named: list[_Policy] = []
    numbered: list[_Policy] = []
    for head, params, strays in split_members(raw, "ratelimit-policy"):
        quota = integer(head)
        if quota is not None:
            if quota < 0:
                drop("ratelimit-policy", raw, f"negative quota {describe(head)}")
                continue
            numbered.append(
                _Policy((), quota, parse_window(params.get("w"), "ratelimit-policy", raw))
            )
            continue
        name = sf_name(head)
        quota = parse_limit(params.get("q"), "ratelimit-policy", raw)
        if name is None or quota is None:
            drop("ratelimit-policy", raw, f"policy {describe(head)} has no usable name or q")
            continue
        names = [name]
        names.extend(extra for extra in map(sf_name, strays) if extra is not None)
        window = parse_window(params.get("w"), "ratelimit-policy", raw)
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


def parse_ietf(
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
    for head, params, _strays in split_members(rl_raw, "ratelimit") if rl_lines is not None else ():
        pair = PARAM_RE.fullmatch(head)
        if pair is not None:
            dictionary[pair.group(1).lower()] = unquote(pair.group(2))
            continue
        name = sf_name(head)
        if name is None:
            drop("ratelimit", rl_raw, f"item {describe(head)} has no usable name")
            continue
        items.append((name, params))

    for name, params in items:
        if "r" not in params:
            drop("ratelimit", rl_raw, f"item {describe(name)} has no r")
            continue
        remaining = parse_remaining(params["r"], "ratelimit", rl_raw)
        if remaining is None:
            continue
        reset = parse_reset(params.get("t"), "auto", reference, "ratelimit", rl_raw)
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
        limit = parse_limit(dictionary.get("limit"), "ratelimit", rl_raw)
        remaining = parse_remaining(dictionary.get("remaining"), "ratelimit", rl_raw)
        reset = parse_reset(dictionary.get("reset"), "auto", reference, "ratelimit", rl_raw)
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
        members = split_members(raw, "ratelimit-limit")
        if members:
            head, params, _strays = members[0]
            limit = parse_limit(head, "ratelimit-limit", raw)
            window = parse_window(params.get("w"), "ratelimit-limit", raw)
        for head, params, _strays in members[1:]:
            quota = parse_limit(head, "ratelimit-limit", raw)
            if quota is not None:
                trailing.append(
                    _Policy((), quota, parse_window(params.get("w"), "ratelimit-limit", raw))
                )

    remaining: int | None = None
    remaining_lines = found.get("ratelimit-remaining")
    if remaining_lines is not None:
        first = remaining_lines[0]
        remaining = parse_remaining(first_item(first), "ratelimit-remaining", first)

    reset: float | None = None
    reset_lines = found.get("ratelimit-reset")
    if reset_lines is not None:
        reset = parse_reset(reset_lines[0], kind, reference, "ratelimit-reset", reset_lines[0])
    if reset is None:
        reset_time_lines = found.get("ratelimit-resettime")  # GitLab: an IMF-fixdate
        if reset_time_lines is not None:
            first = reset_time_lines[0]
            reset = parse_reset(first, kind, reference, "ratelimit-resettime", first)

    policies = trailing + numbered
    if limit is not None or remaining is not None or reset is not None:
        window = _join_numbered(limit, window, policies)
        if limit is not None and remaining is not None and remaining > limit:
            log.debug("RateLimit-Remaining %d exceeds RateLimit-Limit %d", remaining, limit)
        out.append(Observation(SOURCE_IETF_FIELDS, None, window, limit, remaining, reset))
    _emit_unjoined(SOURCE_IETF_FIELDS, policies, out)
