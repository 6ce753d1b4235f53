"""Reads about stores. Every function takes the tenant (or the membership) explicitly.

Store limits: an agent limited to stores (`Membership.limited_to_stores`, or StoreAccess rows)
serves only the stores listed, none when none is left (fail closed); an agent without limits, and
every owner or admin, serves all of the tenant's stores. An object outside what the caller may
see is a 404, exactly like an object of another tenant.
"""

from __future__ import annotations

import uuid

from django.db.models import Case, F, OuterRef, QuerySet, Subquery, When
from django.http import Http404

from tenants.models import Membership, Role, Tenant
from tenants.principals import is_key

from .models import (
    ACTIVE_SYNC_STATUSES,
    APIKeyStoreAccess,
    Store,
    StoreAccess,
    StoreStatus,
    SyncJob,
    SyncKind,
    SyncMode,
)


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such store.") from exc


def stores_of_tenant(*, tenant: Tenant) -> QuerySet[Store]:
    return Store.objects.filter(tenant=tenant).order_by("name", "id")


def allowed_store_ids(membership: Membership) -> QuerySet[StoreAccess] | None:
    """None when `membership` may serve every store of its tenant; otherwise a lazy subquery of
    the allowed store ids, for filters on other tables: `.filter(store_id__in=allowed)`.

    An API key (tenants.principals.KeyMember) limited to stores serves exactly its listed stores,
    none when none is listed (fail closed); an unlimited key serves every store."""
    if is_key(membership):
        key = membership.api_key  # type: ignore[attr-defined]
        if not key.limited_to_stores:
            return None
        return APIKeyStoreAccess.objects.filter(
            tenant_id=membership.tenant_id, api_key_id=key.pk
        ).values("store_id")
    if membership.has_role(Role.ADMIN):
        return None
    allowed = StoreAccess.objects.filter(
        tenant_id=membership.tenant_id, membership=membership
    ).values("store_id")
    if getattr(membership, "limited_to_stores", False):
        return allowed  # even when empty: a limit with no store left serves none
    return allowed if allowed.exists() else None


def is_store_limited(membership: Membership) -> bool:
    """True when `membership` may serve only some of the tenant's stores."""
    return allowed_store_ids(membership) is not None


def stores_visible_to(membership: Membership) -> QuerySet[Store]:
    """The stores this member may serve (disconnected ones included: their history stays)."""
    stores = stores_of_tenant(tenant=membership.tenant)
    allowed = allowed_store_ids(membership)
    return stores if allowed is None else stores.filter(pk__in=allowed)


# --- Access helpers: the object of *this* tenant (and visible to this member), or 404.


def store_get(*, tenant: Tenant, public_id: object, membership: Membership | None = None) -> Store:
    if membership is not None and membership.tenant_id != tenant.pk:
        raise Http404("No such store.")
    stores = stores_visible_to(membership) if membership else stores_of_tenant(tenant=tenant)
    store = stores.filter(public_id=_as_uuid(public_id)).first()
    if store is None:
        raise Http404("No such store.")
    return store


def store_for_shop(*, platform: str, external_shop_id: str) -> Store | None:
    """The store a marketplace shop id belongs to, whatever the tenant (webhooks, callbacks).

    A shop is connected to one organisation at a time, but organisations that disconnected it
    keep their (disconnected) store with its history: the connected one wins, else the one
    disconnected last."""
    return (
        Store.objects.select_related("tenant")
        .filter(platform=platform, external_shop_id=external_shop_id)
        .order_by(
            Case(When(status=StoreStatus.DISCONNECTED, then=1), default=0),
            F("disconnected_at").desc(nulls_first=True),
            "-pk",
        )
        .first()
    )


# --- Sync progress ------------------------------------------------------------------------------


def sync_jobs_of_store(*, tenant: Tenant, store: Store) -> QuerySet[SyncJob]:
    return SyncJob.objects.filter(tenant=tenant, store=store).order_by("-created_at", "-id")


def sync_progress(*, tenant: Tenant, stores: QuerySet[Store] | list[Store]) -> dict[int, SyncJob]:
    """The orders backfill to draw a progress bar for, per store id: the unfinished one if any,
    else the latest. One query for the whole Stores page."""
    jobs = SyncJob.objects.filter(
        tenant=tenant, store__in=stores, kind=SyncKind.ORDERS, mode=SyncMode.BACKFILL
    ).order_by("store_id", "-created_at", "-id")
    chosen: dict[int, SyncJob] = {}
    for job in jobs:
        current = chosen.get(job.store_id)
        if current is None or (job.status in ACTIVE_SYNC_STATUSES and not current.is_active):
            chosen[job.store_id] = job
    return chosen


def latest_order_checks(
    *, tenant: Tenant, stores: QuerySet[Store] | list[Store]
) -> dict[int, SyncJob]:
    """The newest incremental orders sync per store ("Sync now" and the regular check for
    changes), for the Stores page's row. One query (the newest per store through the
    store/kind/created index), however many checks a store has run."""
    newest = (
        SyncJob.objects.filter(
            store_id=OuterRef("pk"), kind=SyncKind.ORDERS, mode=SyncMode.INCREMENTAL
        )
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    per_store = (
        Store.objects.filter(tenant=tenant, pk__in=[store.pk for store in stores])
        .annotate(newest_check=Subquery(newest))
        .values("newest_check")
    )
    jobs = SyncJob.objects.filter(tenant=tenant, pk__in=per_store)
    return {job.store_id: job for job in jobs}
