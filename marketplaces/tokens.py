"""Keeping a store's access alive: saving granted tokens and refreshing them before they lapse."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from marketplaces.records import TokenGrant
from marketplaces.tiktok.client import TikTokClient
from marketplaces.tiktok.errors import InvalidCredentialsError

from . import services
from .models import Store, StoreStatus

logger = logging.getLogger(__name__)

# Refresh when less than this is left, so a worker never starts a long backfill on a token
# that lapses half-way (TikTok access tokens live about 7 days, contract §1.4).
REFRESH_AHEAD = timedelta(hours=24)


def store_tokens_save(*, store: Store, grant: TokenGrant) -> None:
    """Encrypt and store a grant's tokens (the caller holds the transaction)."""
    store.set_tokens(
        access_token=grant.access_token,
        access_token_expires_at=grant.access_token_expires_at,
        refresh_token=grant.refresh_token,
        refresh_token_expires_at=grant.refresh_token_expires_at,
    )
    store.save(
        update_fields=[
            "access_token_encrypted",
            "access_token_expires_at",
            "refresh_token_encrypted",
            "refresh_token_expires_at",
            "updated_at",
        ]
    )


def store_tokens_refresh(*, store: Store, client: TikTokClient) -> None:
    """Swap the store's tokens for fresh ones; `store` is updated in place.

    The store row is locked while refreshing, so two workers that both saw an expired token
    refresh once: the second finds new ciphertext and takes it instead of spending the (possibly
    single-use) refresh token again. A refused refresh token means the seller's grant is gone:
    the store is marked as needing re-authorization and the error is raised.
    """
    seen = store.access_token_encrypted
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        if locked.access_token_encrypted != seen or locked.status != StoreStatus.ACTIVE:
            _copy_tokens(locked, store)
            return
        try:
            grant = client.refresh_token(refresh_token=locked.refresh_token)
        except InvalidCredentialsError as exc:
            logger.warning("Token refresh refused for store %s: %s", store.pk, exc)
            failed = exc
        else:
            store_tokens_save(store=locked, grant=grant)
            _copy_tokens(locked, store)
            logger.info("Refreshed tokens of store %s", store.pk)
            return
    services.store_mark_needs_reauth(
        store=store,
        reason="TikTok Shop no longer accepts this store's authorization. Reconnect it.",
    )
    store.refresh_from_db()
    raise failed


def _copy_tokens(source: Store, target: Store) -> None:
    for field in (
        "access_token_encrypted",
        "access_token_expires_at",
        "refresh_token_encrypted",
        "refresh_token_expires_at",
        "status",
    ):
        setattr(target, field, getattr(source, field))


def stores_due_for_refresh(*, now: datetime | None = None) -> QuerySet[Store]:
    """Active stores whose access token lapses within REFRESH_AHEAD."""
    now = now or timezone.now()
    return (
        Store.objects.filter(status=StoreStatus.ACTIVE)
        .exclude(access_token_encrypted="")
        .filter(access_token_expires_at__lt=now + REFRESH_AHEAD)
    )
