"""``cci.webhooks``: outbound webhooks of a project."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from ..models.common import MessageResponse
from ..models.webhooks import Webhook, WebhookEvent
from ..pagination import AsyncPaginator
from ._base import Resource, body, operation, segment

__all__ = ["WebhooksAPI"]


class WebhooksAPI(Resource):
    namespace = "webhooks"

    @operation("getWebhooks", "GET", "/webhook")
    def list(
        self,
        scope_id: uuid.UUID | str,
        *,
        scope_type: str = "project",
        page_token: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Webhook]:
        """The webhooks of a scope (a project id). Paginated although the spec declares no
        ``page-token``."""
        return self._list(
            "webhook",
            Webhook,
            params={"scope-id": scope_id, "scope-type": scope_type},
            page_token=page_token,
            max_items=max_items,
        )

    @operation("createWebhook", "POST", "/webhook")
    async def create(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[WebhookEvent | str],
        scope_id: uuid.UUID | str,
        signing_secret: str,
        verify_tls: bool = True,
        scope_type: str = "project",
    ) -> Webhook:
        payload = body(
            {
                "name": name,
                "url": url,
                "events": list(events),
                "verify-tls": verify_tls,
                "signing-secret": signing_secret,
                "scope": {"id": str(scope_id), "type": scope_type},
            }
        )
        return await self._call("createWebhook", "POST", "webhook", Webhook, body=payload)

    @operation("getWebhookById", "GET", "/webhook/{webhook-id}")
    async def get(self, webhook_id: uuid.UUID | str) -> Webhook:
        return await self._call("getWebhookById", "GET", f"webhook/{segment(webhook_id)}", Webhook)

    @operation("updateWebhook", "PUT", "/webhook/{webhook-id}")
    async def update(
        self,
        webhook_id: uuid.UUID | str,
        *,
        name: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent | str] | None = None,
        signing_secret: str | None = None,
        verify_tls: bool | None = None,
    ) -> Webhook:
        """Change what is given (a PUT, but the API treats missing fields as unchanged)."""
        payload = body(
            {
                "name": name,
                "url": url,
                "events": list(events) if events is not None else None,
                "signing-secret": signing_secret,
                "verify-tls": verify_tls,
            }
        )
        return await self._call(
            "updateWebhook", "PUT", f"webhook/{segment(webhook_id)}", Webhook, body=payload
        )

    @operation("deleteWebhook", "DELETE", "/webhook/{webhook-id}")
    async def delete(self, webhook_id: uuid.UUID | str) -> MessageResponse:
        return await self._call(
            "deleteWebhook", "DELETE", f"webhook/{segment(webhook_id)}", MessageResponse
        )
