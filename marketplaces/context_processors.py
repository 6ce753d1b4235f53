"""Store problems shown as a banner on every page (needs re-authorization, grant expiring)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import Store, StoreStatus


def _alerts(tenant_id: int) -> list[Store]:
    # One query, and only when a template shows the banner (SimpleLazyObject).
    return list(
        Store.objects.filter(tenant_id=tenant_id)
        .filter(
            Q(status=StoreStatus.NEEDS_REAUTH)
            | Q(status=StoreStatus.ACTIVE, authorization_expires_at__isnull=False)
        )
        .only("public_id", "name", "status", "status_reason", "market", "authorization_expires_at")
        .order_by("name", "id")
    )


def store_alerts(request: HttpRequest) -> dict[str, object]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"store_alerts": ()}
    tenant_id = membership.tenant_id
    return {"store_alerts": SimpleLazyObject(lambda: _alerts(tenant_id))}
