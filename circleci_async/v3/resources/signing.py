"""``cci.v3.signing``: iOS signing certificates and signing configs with their provisioning
profiles (§2.7). Blobs are sent base64-encoded; the certificate password is sent once and
never read back. Deleting a certificate a config still uses is a 409
(:class:`~circleci_async.errors.Conflict`)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...resources._base import operation, segment
from .._envelope import request_body
from ..models import Ref, SigningCertificate, SigningConfig
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["SigningAPI"]


def _b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


class SigningAPI(V3Resource):
    namespace = "v3.signing"

    @operation("v3.createSigningCertificate", "POST", "/signing/certificates")
    async def upload_certificate(
        self, org_id: uuid.UUID | str, file_name: str, cert: bytes, password: str
    ) -> Ref:
        """Upload a ``.p12`` certificate; the answer is its id."""
        attributes = {"file_name": file_name, "cert_blob": _b64(cert), "cert_password": password}
        body = request_body(attributes, {"org": org_id})
        return await self._entity(
            "v3.createSigningCertificate", "POST", "signing/certificates", Ref, body=body
        )

    @operation("v3.listSigningCertificates", "GET", "/signing/certificates")
    def certificates(
        self, org_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[SigningCertificate]:
        return self._collection(
            "v3.listSigningCertificates",
            "signing/certificates",
            SigningCertificate,
            params={"filter[org_id]": org_id},
            max_items=max_items,
        )

    @operation("v3.deleteSigningCertificate", "DELETE", "/signing/certificates/{id}")
    async def delete_certificate(self, certificate_id: uuid.UUID | str) -> None:
        await self._v3.request(
            "DELETE",
            f"signing/certificates/{segment(certificate_id)}",
            operation="v3.deleteSigningCertificate",
        )

    @operation("v3.createSigningConfig", "POST", "/signing/configs")
    async def create_config(
        self,
        org_id: uuid.UUID | str,
        certificate_id: uuid.UUID | str,
        name: str,
        profiles: Iterable[tuple[str, bytes]],
    ) -> Ref:
        """A signing config: a certificate and provisioning profiles (``(file_name, blob)``)."""
        attributes = {
            "name": name,
            "provisioning_profiles": [
                {"file_name": file_name, "blob": _b64(blob)} for file_name, blob in profiles
            ],
        }
        body = request_body(attributes, {"org": org_id, "signing_certificate": certificate_id})
        return await self._entity(
            "v3.createSigningConfig", "POST", "signing/configs", Ref, body=body
        )

    @operation("v3.listSigningConfigs", "GET", "/signing/configs")
    def configs(
        self, org_id: uuid.UUID | str, *, max_items: int | None = None
    ) -> AsyncPaginator[SigningConfig]:
        return self._collection(
            "v3.listSigningConfigs",
            "signing/configs",
            SigningConfig,
            params={"filter[org_id]": org_id},
            max_items=max_items,
        )

    @operation("v3.deleteSigningConfig", "DELETE", "/signing/configs/{id}")
    async def delete_config(self, config_id: uuid.UUID | str) -> None:
        await self._v3.request(
            "DELETE", f"signing/configs/{segment(config_id)}", operation="v3.deleteSigningConfig"
        )

    @operation("v3.updateSigningProfile", "POST", "/signing/configs/{id}/update-profile")
    async def update_profile(self, config_id: uuid.UUID | str, file_name: str, blob: bytes) -> None:
        """Replace the profile with the same bundle id and type, or add it (flat body)."""
        await self._v3.request(
            "POST",
            f"signing/configs/{segment(config_id)}/update-profile",
            json={"file_name": file_name, "blob": _b64(blob)},
            operation="v3.updateSigningProfile",
        )

    @operation("v3.removeSigningProfile", "POST", "/signing/configs/{id}/remove-profile")
    async def remove_profile(self, config_id: uuid.UUID | str, profile_id: str) -> None:
        """Remove a profile (an absent one is a no-op)."""
        await self._v3.request(
            "POST",
            f"signing/configs/{segment(config_id)}/remove-profile",
            json={"profile_id": profile_id},
            operation="v3.removeSigningProfile",
        )
