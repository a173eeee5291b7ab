"""``cci.v3.orbs``, ``cci.v3.namespaces``, ``cci.v3.functions``, ``cci.v3.tools``: orb packages,
versions and categories; namespaces; function packages; tool releases (§2.8).

Quirks kept as CircleCI has them: ``GET /namespaces?filter[name]`` is one entity or a 404 (not a
collection), so :meth:`NamespacesAPI.lookup` reads the 404 as ``None``; deleting a namespace
deletes its orbs too; ``/orb/versions/{id}/source`` is raw YAML, not JSON. Actions take flat
bodies, creates the envelope (the version create's body is as the CLI sends it; the drafts'
names disagree). None is retried after a 5xx."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from yarl import URL

from ...errors import DecodeError, NotFound
from ...resources._base import operation, segment
from .._envelope import request_body
from ..models import (
    FunctionPackage,
    Namespace,
    OrbCategory,
    OrbPackage,
    OrbValidation,
    OrbVersion,
    ToolRelease,
)
from ._base import V3Resource

if TYPE_CHECKING:
    from ...pagination import AsyncPaginator

__all__ = ["FunctionsAPI", "NamespacesAPI", "OrbsAPI", "ToolsAPI"]

#: The most orb source read into memory.
MAX_SOURCE_BYTES = 16 * 1024 * 1024


class NamespacesAPI(V3Resource):
    namespace = "v3.namespaces"

    @operation("v3.getNamespace", "GET", "/namespaces")
    async def lookup(self, name: str) -> Namespace | None:
        """The namespace called ``name``, or ``None`` (CircleCI answers 404)."""
        try:
            return await self._entity(
                "v3.getNamespace", "GET", "namespaces", Namespace, params={"filter[name]": name}
            )
        except NotFound:
            return None

    @operation("v3.createNamespace", "POST", "/namespaces")
    async def create(self, name: str, org_id: uuid.UUID | str) -> Namespace:
        body = {"name": name, "org_id": str(org_id)}
        return await self._entity("v3.createNamespace", "POST", "namespaces", Namespace, body=body)

    @operation("v3.renameNamespace", "POST", "/namespaces/{id}/rename")
    async def rename(self, namespace_id: uuid.UUID | str, name: str) -> Namespace:
        path = f"namespaces/{segment(namespace_id)}/rename"
        return await self._entity(
            "v3.renameNamespace", "POST", path, Namespace, body={"name": name}
        )

    @operation("v3.deleteNamespace", "DELETE", "/namespaces/{id}")
    async def delete(self, namespace_id: uuid.UUID | str) -> None:
        """Delete a namespace **and every orb in it**."""
        await self._v3.request(
            "DELETE", f"namespaces/{segment(namespace_id)}", operation="v3.deleteNamespace"
        )


class OrbsAPI(V3Resource):
    namespace = "v3.orbs"

    @operation("v3.listOrbPackages", "GET", "/orb/packages")
    def packages(
        self,
        *,
        namespace_id: uuid.UUID | str | None = None,
        name: str | None = None,
        certified: bool = False,
        private: bool = False,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[OrbPackage]:
        """Orb packages: a namespace's, one by ``ns/orb`` name, certified ones, or private ones.
        A name that matches nothing is an empty list."""
        params = {
            "filter[namespace_id]": namespace_id,
            "filter[name]": name,
            "filter[certified]": True if certified else None,
            "filter[visibility]": "private" if private else None,
        }
        return self._collection(
            "v3.listOrbPackages",
            "orb/packages",
            OrbPackage,
            params=params,
            cursor=cursor,
            max_items=max_items,
        )

    @operation("v3.getOrbPackage", "GET", "/orb/packages/{id}")
    async def package(self, package_id: uuid.UUID | str) -> OrbPackage:
        path = f"orb/packages/{segment(package_id)}"
        return await self._entity("v3.getOrbPackage", "GET", path, OrbPackage)

    @operation("v3.createOrbPackage", "POST", "/orb/packages")
    async def create_package(
        self, namespace_id: uuid.UUID | str, name: str, *, private: bool = False
    ) -> OrbPackage:
        body = request_body({"name": name, "is_private": private}, {"namespace": namespace_id})
        return await self._entity(
            "v3.createOrbPackage", "POST", "orb/packages", OrbPackage, body=body
        )

    @operation("v3.validateOrb", "POST", "/orb/packages/validate")
    async def validate(self, yaml: str, *, org_id: uuid.UUID | str | None = None) -> OrbValidation:
        """Validate orb source; ``is_valid`` false comes with ``errors``."""
        body = {"yaml": yaml} if org_id is None else {"yaml": yaml, "org_id": str(org_id)}
        return await self._entity(
            "v3.validateOrb", "POST", "orb/packages/validate", OrbValidation, body=body
        )

    async def _package_action(
        self, operation_id: str, package_id: uuid.UUID | str, verb: str, body: dict[str, object]
    ) -> OrbPackage:
        path = f"orb/packages/{segment(package_id)}/{verb}"
        return await self._entity(operation_id, "POST", path, OrbPackage, body=body)

    @operation("v3.setOrbListed", "POST", "/orb/packages/{id}/set-listed")
    async def set_listed(self, package_id: uuid.UUID | str, listed: bool) -> OrbPackage:
        return await self._package_action(
            "v3.setOrbListed", package_id, "set-listed", {"is_listed": listed}
        )

    @operation("v3.addOrbCategory", "POST", "/orb/packages/{id}/add-category")
    async def add_category(
        self, package_id: uuid.UUID | str, category_id: uuid.UUID | str
    ) -> OrbPackage:
        return await self._package_action(
            "v3.addOrbCategory", package_id, "add-category", {"category_id": str(category_id)}
        )

    @operation("v3.removeOrbCategory", "POST", "/orb/packages/{id}/remove-category")
    async def remove_category(
        self, package_id: uuid.UUID | str, category_id: uuid.UUID | str
    ) -> OrbPackage:
        return await self._package_action(
            "v3.removeOrbCategory", package_id, "remove-category", {"category_id": str(category_id)}
        )

    @operation("v3.listOrbVersions", "GET", "/orb/versions")
    def versions(
        self,
        *,
        orb_id: uuid.UUID | str | None = None,
        channel: str | None = None,
        ref: str | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[OrbVersion]:
        """An orb's versions (``orb_id``, optionally on a ``channel``), or one by ``ref``
        (``ns/orb@1.2.3``)."""
        params = {"filter[orb_id]": orb_id, "filter[channel]": channel, "filter[ref]": ref}
        return self._collection(
            "v3.listOrbVersions",
            "orb/versions",
            OrbVersion,
            params=params,
            cursor=cursor,
            max_items=max_items,
        )

    @operation("v3.getOrbVersion", "GET", "/orb/versions/{id}")
    async def version(self, version_id: uuid.UUID | str) -> OrbVersion:
        path = f"orb/versions/{segment(version_id)}"
        return await self._entity("v3.getOrbVersion", "GET", path, OrbVersion)

    @operation("v3.getOrbVersionSource", "GET", "/orb/versions/{id}/source")
    async def source(self, version_id: uuid.UUID | str) -> str:
        """A version's YAML source, as text (at most 16 MiB)."""
        url = URL(self._v3.url(f"orb/versions/{segment(version_id)}/source"))
        chunks: list[bytes] = []
        size = 0
        async with self._v3.client.core.pipeline.stream("GET", url) as response:
            while True:
                try:
                    chunk, _ = await response.content.readchunk()
                except response.read_errors as exc:
                    raise response.body_error(exc) from None
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_SOURCE_BYTES:
                    raise DecodeError(f"orb source over {MAX_SOURCE_BYTES} bytes")
                chunks.append(chunk)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"orb source is not UTF-8 ({exc.reason})") from None

    @operation("v3.publishOrbVersion", "POST", "/orb/versions")
    async def publish(self, orb_id: uuid.UUID | str, version: str, yaml: str) -> OrbVersion:
        """Publish ``yaml`` as ``version`` of an orb (a dev version like ``dev:alpha`` too)."""
        body = request_body({"orb_id": str(orb_id), "yaml": yaml, "version": version})
        return await self._entity(
            "v3.publishOrbVersion", "POST", "orb/versions", OrbVersion, body=body
        )

    @operation("v3.promoteOrbVersion", "POST", "/orb/versions/{id}/promote")
    async def promote(self, version_id: uuid.UUID | str, segment_name: str) -> OrbVersion:
        """Promote a dev version, bumping ``major``, ``minor`` or ``patch``."""
        path = f"orb/versions/{segment(version_id)}/promote"
        return await self._entity(
            "v3.promoteOrbVersion", "POST", path, OrbVersion, body={"segment": segment_name}
        )

    @operation("v3.listOrbCategories", "GET", "/orb/categories")
    def categories(
        self, *, name: str | None = None, cursor: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[OrbCategory]:
        return self._collection(
            "v3.listOrbCategories",
            "orb/categories",
            OrbCategory,
            params={"filter[name]": name},
            cursor=cursor,
            max_items=max_items,
        )


class FunctionsAPI(V3Resource):
    namespace = "v3.functions"

    @operation("v3.listFunctionPackages", "GET", "/function/packages")
    def packages(
        self, *, name: str | None = None, cursor: str | None = None, max_items: int | None = None
    ) -> AsyncPaginator[FunctionPackage]:
        """Function packages (``name`` is VCS-style); a miss is an empty list."""
        return self._collection(
            "v3.listFunctionPackages",
            "function/packages",
            FunctionPackage,
            params={"filter[name]": name},
            cursor=cursor,
            max_items=max_items,
        )


class ToolsAPI(V3Resource):
    namespace = "v3.tools"

    @operation("v3.listToolReleases", "GET", "/tool/releases")
    async def latest(self, tool: str = "circleci-cli") -> ToolRelease | None:
        """The latest release of a tool (``filter[tool]``, required): a one-item list."""
        found = await self._collection(
            "v3.listToolReleases", "tool/releases", ToolRelease, params={"filter[tool]": tool}
        ).collect()
        return found[0] if found else None
