"""Store problems shown as a banner on every page (needs re-authorization, grant expiring)."""

from __future__ import annotations

from django.db.models import Exists, Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tenants.models import Membership, Role

from .models import Store, StoreAccess, StoreStatus


def _alerts(membership: Membership) -> list[Store]:
    # One query, and only when a template shows the banner (SimpleLazyObject). Only stores this
    # member may serve: an agent limited to some stores never learns the others' names.
    stores = Store.objects.filter(tenant_id=membership.tenant_id).filter(
        Q(status=StoreStatus.NEEDS_REAUTH)
        | Q(status=StoreStatus.ACTIVE, authorization_expires_at__isnull=False)
    )
    if not membership.has_role(Role.ADMIN):
        # As stores_visible_to, in the same query: no limits, or one of the allowed stores.
        limits = StoreAccess.objects.filter(
            tenant_id=membership.tenant_id, membership_id=membership.pk
        )
        if membership.limited_to_stores:
            stores = stores.filter(pk__in=limits.values("store_id"))
        else:
            stores = stores.filter(~Exists(limits) | Q(pk__in=limits.values("store_id")))
    return list(
        stores.only(
            "public_id", "name", "status", "status_reason", "market", "authorization_expires_at"
        ).order_by("name", "id")
    )


def store_alerts(request: HttpRequest) -> dict[str, object]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"store_alerts": ()}
    return {"store_alerts": SimpleLazyObject(lambda: _alerts(membership))}
