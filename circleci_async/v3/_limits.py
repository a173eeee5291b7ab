"""Per-operation ``page[limit]`` bounds of API v3, as the notes give them (§3.1). CircleCI
answers 400 to a limit out of range rather than clamping it, so the client refuses it first,
with a :class:`~circleci_async.errors.ConfigurationError`. No I/O.

Known maxima: runs list and search 20, projects 50, charges 20, provider repositories 100,
contexts and their variables 100. Elsewhere the maximum is unknown:
only ``limit >= 1`` is checked and the server decides [inferred].
"""

from __future__ import annotations

from ..errors import ConfigurationError

__all__ = ["PAGE_LIMITS", "check_limit"]

#: The largest ``page[limit]`` per operation id, where the notes give one.
PAGE_LIMITS: dict[str, int] = {
    "v3.listRuns": 20,
    "v3.searchRuns": 20,
    "v3.listProjects": 50,
    "v3.analyseCharges": 20,
    "v3.listProviderRepositories": 100,
    "v3.listContexts": 100,
    "v3.listContextEnvVars": 100,
}


def check_limit(operation: str | None, limit: int | None) -> None:
    """Refuse a ``page[limit]`` the server would answer 400 to."""
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(f"page limit must be a positive integer, got {limit!r}")
    most = PAGE_LIMITS.get(operation or "")
    if most is not None and limit > most:
        raise ConfigurationError(
            f"{operation} accepts a page limit of at most {most}, got {limit} "
            "(CircleCI answers 400 rather than clamping it)"
        )
