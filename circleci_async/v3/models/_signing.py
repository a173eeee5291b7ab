"""iOS code signing: certificates and signing configs with their provisioning profiles
(``shared/notes/api-v3.md`` §2.7)."""

from __future__ import annotations

import attrs

from ._core import Ref

__all__ = [
    "ProvisioningProfile",
    "SigningCertificate",
    "SigningCertificateAttributes",
    "SigningCertificateRef",
    "SigningConfig",
    "SigningConfigAttributes",
    "SigningConfigReferences",
]


@attrs.frozen(kw_only=True)
class SigningCertificateAttributes:
    file_name: str | None = None
    cert_type: str | None = None


@attrs.frozen(kw_only=True)
class SigningCertificate:
    """[inferred] the id's form (the notes show only ``data.id``)."""

    id: str | None = None
    attributes: SigningCertificateAttributes = attrs.Factory(SigningCertificateAttributes)
    references: dict[str, Ref] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class ProvisioningProfile:
    id: str | None = None
    file_name: str | None = None


@attrs.frozen(kw_only=True)
class SigningConfigAttributes:
    name: str | None = None
    provisioning_profiles: list[ProvisioningProfile] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class SigningCertificateRef:
    id: str | None = None
    attributes: SigningCertificateAttributes | None = None


@attrs.frozen(kw_only=True)
class SigningConfigReferences:
    signing_certificate: SigningCertificateRef | None = None
    org: Ref | None = None


@attrs.frozen(kw_only=True)
class SigningConfig:
    id: str | None = None
    attributes: SigningConfigAttributes = attrs.Factory(SigningConfigAttributes)
    references: SigningConfigReferences = attrs.Factory(SigningConfigReferences)
