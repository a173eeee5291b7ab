"""Projects and what hangs off them: checkout keys, environment variables, settings."""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from ._base import OpenEnum, key

__all__ = [
    "AdvancedSettings",
    "CheckoutKey",
    "CheckoutKeyInputType",
    "CheckoutKeyType",
    "EnvironmentVariable",
    "Project",
    "ProjectSettings",
    "ProjectVcsInfo",
    "VcsProvider",
]


class VcsProvider(OpenEnum):
    BITBUCKET = "Bitbucket"
    CIRCLECI = "CircleCI"
    GITHUB = "GitHub"


@attrs.frozen(kw_only=True)
class ProjectVcsInfo:
    vcs_url: str
    provider: VcsProvider
    default_branch: str


@attrs.frozen(kw_only=True)
class Project:
    """A project. ``slug`` is opaque (``gh/org/repo``, or ``circleci/<ids>`` for GitHub App
    and GitLab projects): pass it back as it is."""

    slug: str
    name: str
    id: uuid.UUID
    organization_name: str
    organization_slug: str
    organization_id: uuid.UUID
    vcs_info: ProjectVcsInfo


class CheckoutKeyType(OpenEnum):
    DEPLOY_KEY = "deploy-key"
    GITHUB_USER_KEY = "github-user-key"


class CheckoutKeyInputType(OpenEnum):
    """What to create: a user key (needs a user token) or a deploy key."""

    USER_KEY = "user-key"
    DEPLOY_KEY = "deploy-key"


@attrs.frozen(kw_only=True)
class CheckoutKey:
    public_key: str = attrs.field(metadata=key("public-key"))
    type: CheckoutKeyType
    fingerprint: str
    preferred: bool
    created_at: dt.datetime = attrs.field(metadata=key("created-at"))


@attrs.frozen(kw_only=True)
class EnvironmentVariable:
    """A project environment variable. ``value`` is masked (``xxxx`` and the last four
    characters) except in the answer to creating it.

    ``created_at`` is kept as the API's text: the spec gives it no type, and CircleCI has been
    seen sending an EDN instant (``#joda/inst 2023-04-14T21:20:14+0000``) there.
    """

    name: str
    value: str
    created_at: str | None = attrs.field(default=None, metadata=key("created-at"))


@attrs.frozen(kw_only=True)
class AdvancedSettings:
    """A project's advanced settings; ``None`` where the answer did not say."""

    autocancel_builds: bool | None = None
    build_fork_prs: bool | None = None
    build_prs_only: bool | None = None
    disable_ssh: bool | None = None
    forks_receive_secret_env_vars: bool | None = None
    oss: bool | None = None
    set_github_status: bool | None = None
    setup_workflows: bool | None = None
    write_settings_requires_admin: bool | None = None
    pr_only_branch_overrides: list[str] | None = None


@attrs.frozen(kw_only=True)
class ProjectSettings:
    advanced: AdvancedSettings | None = None
