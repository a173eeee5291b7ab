"""Organizations, their URL-orb allow-list and their groups."""

from __future__ import annotations

import uuid

import attrs

from ._base import OpenEnum

__all__ = [
    "Group",
    "OrgVcsType",
    "Organization",
    "UrlOrbAllowListEntry",
    "UrlOrbAllowListResult",
    "UrlOrbAuth",
]


class OrgVcsType(OpenEnum):
    GITHUB = "github"
    BITBUCKET = "bitbucket"
    CIRCLECI = "circleci"


@attrs.frozen(kw_only=True)
class Organization:
    """A newly created organization (``createOrganization``)."""

    id: str
    name: str
    slug: str
    vcs_type: OrgVcsType


class UrlOrbAuth(OpenEnum):
    """The credentials CircleCI sends when fetching a URL orb under this prefix."""

    GITHUB_OAUTH = "github-oauth"
    NONE = "none"
    BITBUCKET_OAUTH = "bitbucket-oauth"
    GITHUB_APP = "github-app"


@attrs.frozen(kw_only=True)
class UrlOrbAllowListEntry:
    """URL orbs whose address starts with ``prefix`` may be used. The spec gives ``prefix``
    no type; it is a URL."""

    id: str
    name: str
    prefix: str
    auth: UrlOrbAuth


@attrs.frozen(kw_only=True)
class UrlOrbAllowListResult:
    """The answer to adding or removing an allow-list entry."""

    id: str
    message: str


@attrs.frozen(kw_only=True)
class Group:
    """A group of users in an organization. The spec marks every field optional."""

    id: uuid.UUID | None = None
    name: str | None = None
    description: str | None = None
