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

The modules, one job each: ``_model`` (the snapshot and its observations), ``_lex`` (numbers
and structured-field lists), ``_dates`` (HTTP dates, ``Retry-After``, resets), ``_values`` (one
validated field value), ``_ietf`` and ``_xfamily`` (the dialects), ``_fast`` (CircleCI's bare
integers without tokenizing), ``_entry`` (picking the headers, choosing the path, merging).
"""

from ._dates import parse_http_date, parse_retry_after
from ._entry import parse_rate_limit_headers
from ._model import (
    EMPTY_SNAPSHOT,
    SOURCE_IETF_DICT,
    SOURCE_IETF_FIELDS,
    SOURCE_IETF_LIST,
    SOURCE_X,
    SOURCE_X_WINDOW,
    Observation,
    RateLimitSnapshot,
)

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
