"""Links to the CircleCI web app for pipelines, workflows and jobs (pure: strings in, URLs out).

Cloud's web app is ``https://app.circleci.com``; a server install serves its web app at the root
of the host its API is on (``https://circleci.example.com/api/v2`` → ``https://circleci.example.com``).
The app spells the VCS in full (``github/acme/app``), so the short slug prefixes are expanded.
"""

from __future__ import annotations

from urllib.parse import quote

from yarl import URL

__all__ = ["job_link", "pipeline_link", "web_base", "workflow_link"]

CLOUD_API_HOST = "circleci.com"
CLOUD_APP = "https://app.circleci.com"
_LONG_PREFIX = {"gh": "github", "bb": "bitbucket"}


def web_base(api_base: URL | str) -> str:
    """The web app's origin for an API base URL."""
    url = URL(str(api_base))
    if (url.host or "").lower() in (CLOUD_API_HOST, "www.circleci.com"):
        return CLOUD_APP
    return str(url.origin())


def _slug_path(slug: str) -> str:
    vcs, sep, rest = slug.partition("/")
    vcs = _LONG_PREFIX.get(vcs.lower(), vcs)
    return quote(f"{vcs}{sep}{rest}", safe="/")


def pipeline_link(api_base: URL | str, slug: str, number: int) -> str:
    """``https://app.circleci.com/pipelines/github/acme/app/123``"""
    return f"{web_base(api_base)}/pipelines/{_slug_path(slug)}/{number}"


def workflow_link(api_base: URL | str, slug: str, number: int, workflow_id: str) -> str:
    """``.../pipelines/github/acme/app/123/workflows/<workflow id>``"""
    return f"{pipeline_link(api_base, slug, number)}/workflows/{quote(str(workflow_id), safe='')}"


def job_link(api_base: URL | str, slug: str, number: int, workflow_id: str, job_number: int) -> str:
    """``.../workflows/<workflow id>/jobs/<job number>``"""
    return f"{workflow_link(api_base, slug, number, workflow_id)}/jobs/{job_number}"
