"""Keeping a store's access alive: saving granted tokens and refreshing them before they lapse.

One seller authorization (one grant) may cover several shops: a cross-border seller authorizes
once and every shop it holds becomes a Store with the same tokens. A refresh spends the grant's
refresh token (the platform may revoke the old one), so whatever one store refreshes is written to
every store of that grant in the same transaction; otherwise the next sibling to refresh would
present a dead refresh token and be marked as needing re-authorization for nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from marketplaces.records import TokenGrant
from marketplaces.tiktok.client import TikTokClient
from marketplaces.tiktok.errors import (
    InvalidSignatureError,
    RateLimitedError,
    ServerError,
    TikTokApiError,
)

from . import services
from .models import Store, StoreStatus

logger = logging.getLogger(__name__)

# Refresh when less than this is left, so a worker never starts a long backfill on a token
# that lapses half-way (TikTok access tokens live about 7 days, contract §1.4).
REFRESH_AHEAD = timedelta(hours=24)

_TOKEN_FIELDS = [
    "access_token_encrypted",
    "access_token_expires_at",
    "refresh_token_encrypted",
    "refresh_token_expires_at",
]


def store_tokens_save(*, store: Store, grant: TokenGrant) -> None:
    """Encrypt and store a grant's tokens (the caller holds the transaction)."""
    store.set_tokens(
        access_token=grant.access_token,
        access_token_expires_at=grant.access_token_expires_at,
        refresh_token=grant.refresh_token,
        refresh_token_expires_at=grant.refresh_token_expires_at,
    )
    store.save(update_fields=[*_TOKEN_FIELDS, "updated_at"])


def is_refusal(exc: TikTokApiError) -> bool:
    """True when the platform turned the refresh token down, not a blip or our own signing.

    The sandbox (and TikTok, per the samples) answers a dead refresh token with 36009004
    "Invalid credentials. The refresh token is invalid or expired.", which `classify` types as a
    plain TikTokApiError because the message names no access token; so refusal is decided here
    by what it is not: transient (5xx, rate limit, no answer) or a signature bug on our side.
    """
    return not isinstance(exc, ServerError | RateLimitedError | InvalidSignatureError)


def grant_siblings(store: Store) -> QuerySet[Store]:
    """The tenant's other active stores authorized by the same seller (same open_id)."""
    if not store.open_id:
        return Store.objects.none()
    return Store.objects.filter(
        tenant_id=store.tenant_id,
        platform=store.platform,
        open_id=store.open_id,
        status=StoreStatus.ACTIVE,
    ).exclude(pk=store.pk)


def store_tokens_refresh(*, store: Store, client: TikTokClient) -> None:
    """Swap the store's tokens for fresh ones; `store` is updated in place.

    Durable: the refresh commits in a transaction of its own, and refuses to run inside anyone
    else's (RuntimeError). The platform rotates the refresh token as it answers, so the new pair
    must be on disk whatever the caller does next: written in a caller's transaction, a rollback
    of the caller would lose our only copy of the new refresh token and kill the grant.

    The store row (and its grant siblings, in id order so that two refreshes cannot deadlock) is
    locked while refreshing, so two workers that both saw an expired token refresh once: the
    second finds new ciphertext and takes it instead of spending the (possibly single-use) refresh
    token again. This one call is made while the lock's transaction is open: the lock is what
    makes the refresh happen once, and the transaction holds nothing else.

    A refused refresh token means the seller's grant is gone: the store and the siblings sharing
    that refresh token are marked as needing re-authorization in the same durable transaction
    (so the mark, too, survives whatever the caller rolls back), and the error is raised.
    """
    seen = store.access_token_encrypted
    failed: TikTokApiError | None = None
    with transaction.atomic(durable=True):
        sibling_ids = list(grant_siblings(store).values_list("pk", flat=True))
        locked_rows = list(
            Store.objects.select_for_update().filter(pk__in=[store.pk, *sibling_ids]).order_by("pk")
        )
        locked = next(row for row in locked_rows if row.pk == store.pk)
        if locked.access_token_encrypted != seen or locked.status != StoreStatus.ACTIVE:
            _copy_tokens(locked, store)
            return
        spent = locked.refresh_token
        sharing = [
            row
            for row in locked_rows
            if row.pk != store.pk
            and row.status == StoreStatus.ACTIVE
            and row.refresh_token_encrypted
            and row.refresh_token == spent
        ]
        try:
            grant = client.refresh_token(refresh_token=spent)
        except TikTokApiError as exc:
            if not is_refusal(exc):
                raise
            logger.warning("Token refresh refused for store %s: %s", store.pk, exc)
            failed = exc
            reason = "TikTok Shop no longer accepts this store's authorization. Reconnect it."
            for row in [locked, *sharing]:
                services.store_mark_needs_reauth(store=row, reason=reason)
        else:
            for row in [locked, *sharing]:
                store_tokens_save(store=row, grant=grant)
            _copy_tokens(locked, store)
            logger.info(
                "Refreshed tokens of store %s (and %d sharing its grant)", store.pk, len(sharing)
            )
            return
    store.refresh_from_db()
    raise failed


def _copy_tokens(source: Store, target: Store) -> None:
    for field in [*_TOKEN_FIELDS, "status"]:
        setattr(target, field, getattr(source, field))


def stores_due_for_refresh(*, now: datetime | None = None) -> QuerySet[Store]:
    """Active stores whose access token lapses within REFRESH_AHEAD."""
    now = now or timezone.now()
    return (
        Store.objects.filter(status=StoreStatus.ACTIVE)
        .exclude(access_token_encrypted="")
        .filter(access_token_expires_at__lt=now + REFRESH_AHEAD)
    )


class RefreshOutcome:
    REFRESHED = "refreshed"
    NOT_DUE = "not due"
    NEEDS_REAUTH = "needs re-authorization"


def store_tokens_refresh_if_due(
    *, store_id: int, client: TikTokClient | None = None, now: datetime | None = None
) -> str:
    """The beat's per-store step: refresh when still due, else nothing (a repeat is harmless).

    Transient platform errors (5xx, rate limits, no connection) propagate for the task to retry;
    a refusal leaves the store needing re-authorization and is an outcome, not an error.
    """
    store = stores_due_for_refresh(now=now).filter(pk=store_id).first()
    if store is None:
        return RefreshOutcome.NOT_DUE
    owned = client is None
    client = client or TikTokClient.from_settings()
    try:
        store_tokens_refresh(store=store, client=client)
    except TikTokApiError as exc:
        if not is_refusal(exc):
            raise
        return RefreshOutcome.NEEDS_REAUTH
    finally:
        if owned:
            client.close()
    return RefreshOutcome.REFRESHED
