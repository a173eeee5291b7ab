"""How far a mirror's listing has got, for the live display: pipelines and jobs listed.

The library's mirror walks pipelines → workflows → jobs → artifact listings without telling
anyone; the display learns it from the requests themselves. :func:`classify` is the pure part
(an API path in, what it lists out); :func:`trace_config` is the thin aiohttp adapter that feeds
each request's URL to a :class:`ListingCounter`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ListingCounter", "classify", "trace_config"]

Listed = Literal["pipelines", "pipeline", "workflow", "job"]

#: ``(kind, key)`` by API path, relative to ``/api/v2/``: a page of a project's pipelines, one
#: pipeline's workflows (the pipeline is being walked), one workflow's jobs, one job's artifacts.
_PATTERNS: tuple[tuple[Listed, re.Pattern[str]], ...] = (
    ("pipelines", re.compile(r"project/(?:[^/]+/){2,3}pipeline")),
    ("pipeline", re.compile(r"pipeline/([^/]+)/workflow")),
    ("workflow", re.compile(r"workflow/([^/]+)/job")),
    ("job", re.compile(r"project/(?:[^/]+/){2,3}(\d+)/artifacts")),
)


def classify(path: str) -> tuple[Listed, str] | None:
    """What an API request path lists (``("job", "42")``), or None for anything else."""
    _, found, rest = path.partition("/api/v2/")
    if not found:
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(rest)
        if match is not None:
            return kind, match.group(1) if match.groups() else ""
    return None


class ListingCounter:
    """Distinct pipelines, workflows and jobs whose listings were requested."""

    def __init__(self) -> None:
        self.pipeline_pages = 0
        self._seen: dict[str, set[str]] = {"pipeline": set(), "workflow": set(), "job": set()}

    def observe(self, path: str) -> None:
        found = classify(path)
        if found is None:
            return
        kind, key = found
        if kind == "pipelines":
            self.pipeline_pages += 1
        else:
            self._seen[kind].add(key)

    @property
    def pipelines(self) -> int:
        return len(self._seen["pipeline"])

    @property
    def workflows(self) -> int:
        return len(self._seen["workflow"])

    @property
    def jobs(self) -> int:
        return len(self._seen["job"])


def trace_config(counter: ListingCounter) -> aiohttp.TraceConfig:
    """An aiohttp trace that tells ``counter`` about every request a session starts."""
    import aiohttp

    async def on_start(_: Any, __: Any, params: aiohttp.TraceRequestStartParams) -> None:
        counter.observe(params.url.path)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_start)
    return config
