"""Stores: their status (needs re-authorization, sync errors, authorization expiry) and who may
serve them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenants.models import Membership, Role

from ..models import Store, StoreAccess, StoreStatus, SyncJob, SyncJobStatus


class StoreError(Exception):
    """A rule was broken; the message is shown to the person as it is."""


# --- Store status -------------------------------------------------------------------------------


@transaction.atomic
def store_mark_needs_reauth(*, store: Store, reason: str, revoke_tokens: bool = False) -> Store:
    """Pauses all sync of `store` until someone reconnects it.

    `revoke_tokens` drops the stored tokens, for when the platform has already invalidated them
    (deauthorization): a dead secret is not worth keeping. A disconnected store stays disconnected.
    """
    store = Store.objects.select_for_update().get(pk=store.pk)
    if store.status == StoreStatus.DISCONNECTED:
        return store
    now = timezone.now()
    previous = store.status
    newly = store.status != StoreStatus.NEEDS_REAUTH
    if newly:
        store.status = StoreStatus.NEEDS_REAUTH
        store.status_changed_at = now
    store.status_reason = reason[:255]
    update_fields = ["status", "status_reason", "status_changed_at", "updated_at"]
    if revoke_tokens:
        store.clear_tokens()
        update_fields += [
            "access_token_encrypted",
            "access_token_expires_at",
            "refresh_token_encrypted",
            "refresh_token_expires_at",
        ]
    store.save(update_fields=update_fields)
    # A worker in the middle of a window sees the store status at its next checkpoint; jobs not
    # yet started must not start. Reconnecting puts paused jobs back in the queue.
    SyncJob.objects.filter(
        store=store, status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING]
    ).update(status=SyncJobStatus.PAUSED)
    if newly:
        _announce_needs_reauth(store, previous)
    return store


def _announce_needs_reauth(store: Store, previous: str) -> None:
    from integrations.events import emit

    def subject() -> dict[str, object]:
        from ..api import StoreSerializer

        return dict(StoreSerializer(store).data)

    emit(
        tenant_id=store.tenant_id,
        event="store.needs_reauthorization",
        subject=subject,
        changed={"status": {"from": previous, "to": StoreStatus.NEEDS_REAUTH}},
    )


# Consecutive token errors (expired/invalid token the refresh could not fix) before a store is
# marked as needing re-authorization. One error may be a blip; three in a row is not.
STORE_TOKEN_ERROR_LIMIT = 3


def store_record_sync_success(*, store: Store) -> None:
    """A call on the store's tokens worked: the last sync time moves, the token error run ends."""
    now = timezone.now()
    Store.objects.filter(pk=store.pk).update(
        last_synced_at=now, token_error_count=0, updated_at=now
    )
    store.last_synced_at, store.token_error_count = now, 0


@transaction.atomic
def store_record_error(*, store: Store, message: str, token_error: bool = False) -> Store:
    """Shows `message` as the store's last error; a run of token errors pauses the store.

    `message` is shown to admins: callers pass the platform's code and text, never a token.
    """
    now = timezone.now()
    changes: dict[str, Any] = {
        "last_error": message[:2000],
        "last_error_at": now,
        "updated_at": now,
    }
    if token_error:
        changes["token_error_count"] = F("token_error_count") + 1
    Store.objects.filter(pk=store.pk).update(**changes)
    store.refresh_from_db(
        fields=["last_error", "last_error_at", "token_error_count", "status", "status_reason"]
    )
    if token_error and store.token_error_count >= STORE_TOKEN_ERROR_LIMIT:
        store = store_mark_needs_reauth(
            store=store,
            reason=(
                f"TikTok Shop refused this store's access {store.token_error_count} times in a "
                "row. Reconnect the store."
            ),
        )
    return store


@transaction.atomic
def store_record_authorization_expiry(*, store: Store, expires_at: datetime) -> Store:
    now = timezone.now()
    Store.objects.filter(pk=store.pk).update(
        authorization_expires_at=expires_at, authorization_warned_at=now, updated_at=now
    )
    store.authorization_expires_at, store.authorization_warned_at = expires_at, now
    return store


# --- Store access -------------------------------------------------------------------------------


@transaction.atomic
def store_access_set(
    *,
    actor: Membership,
    membership: Membership,
    stores: Iterable[Store],
    all_stores: bool = False,
) -> None:
    """Limits `membership` to `stores`, or lifts the limit with `all_stores` (every store,
    present and future). A limit with no store serves none: taking away an agent's last store
    narrows their access, it never widens it to every store."""
    if not actor.has_role(Role.ADMIN):
        raise StoreError("Only owners and admins can choose which stores an agent serves.")
    if membership.tenant_id != actor.tenant_id:
        raise StoreError("That person is not a member of this organisation.")
    chosen = {} if all_stores else {store.pk: store for store in stores}
    if any(store.tenant_id != actor.tenant_id for store in chosen.values()):
        raise StoreError("One of those stores does not belong to this organisation.")
    Membership.objects.filter(pk=membership.pk).update(limited_to_stores=not all_stores)
    membership.limited_to_stores = not all_stores
    StoreAccess.objects.filter(membership=membership).exclude(store_id__in=chosen).delete()
    existing = set(
        StoreAccess.objects.filter(membership=membership).values_list("store_id", flat=True)
    )
    StoreAccess.objects.bulk_create(
        StoreAccess(tenant_id=actor.tenant_id, membership=membership, store=store)
        for pk, store in chosen.items()
        if pk not in existing
    )
