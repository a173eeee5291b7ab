"""Provider connections (an org's link to GitHub and the like) and the repositories they
reach (``shared/notes/api-v3.md`` §2.5)."""

from __future__ import annotations

import attrs

from ...models import OpenEnum

__all__ = [
    "ConnectionSetup",
    "ConnectionSetupAttributes",
    "NextStep",
    "ProviderConnection",
    "ProviderConnectionAttributes",
    "ProviderRepository",
    "ProviderRepositoryAttributes",
]


class NextStep(OpenEnum):
    REDIRECT = "redirect"
    REGISTER = "register"


@attrs.frozen(kw_only=True)
class ProviderConnectionAttributes:
    provider: str | None = None
    external_id: str | None = None
    login: str | None = None
    #: ``all`` or ``selected``.
    repository_selection: str | None = None
    authorized_username: str | None = None
    connection_error: str | None = None


@attrs.frozen(kw_only=True)
class ProviderConnection:
    """[inferred] the id's form: the notes do not say it is a UUID."""

    id: str | None = None
    attributes: ProviderConnectionAttributes = attrs.Factory(ProviderConnectionAttributes)


@attrs.frozen(kw_only=True)
class ConnectionSetupAttributes:
    next_step: NextStep | None = None
    url: str | None = None
    #: Valid for an hour; each setup call mints a new one.
    state_token: str | None = None


@attrs.frozen(kw_only=True)
class ConnectionSetup:
    id: str | None = None
    attributes: ConnectionSetupAttributes = attrs.Factory(ConnectionSetupAttributes)


@attrs.frozen(kw_only=True)
class ProviderRepositoryAttributes:
    repo_id: str | None = None
    owner: str | None = None
    repo_name: str | None = None
    repo_full_name: str | None = None
    default_branch: str | None = None
    is_private: bool | None = None
    provider: str | None = None


@attrs.frozen(kw_only=True)
class ProviderRepository:
    """Entries have no id: ``attributes.repo_id`` is the provider's."""

    id: str | None = None
    attributes: ProviderRepositoryAttributes = attrs.Factory(ProviderRepositoryAttributes)
