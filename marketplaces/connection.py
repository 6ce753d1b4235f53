"""Connecting, reconnecting and disconnecting stores: the only way a Store comes or goes.

The round trip (contract §1): `store_connect_begin` issues a signed single-use `state` and
returns the consent page URL; TikTok sends the browser back to the callback with `code` and
`state`; `store_connect_complete` checks the state, exchanges the code (token get), asks which
shops the grant covers and writes one Store per shop in one transaction. Every failure before
that transaction raises ConnectError with a sentence for the person and leaves nothing behind
(the used state aside: it is single use by design).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import AuditEvent, Membership, Role, Tenant, User

from . import services
from .models import Market, Platform, Store, StoreStatus, SyncJob, SyncJobStatus
from .records import Shop, TokenGrant
from .tiktok.adapter import default_client
from .tiktok.client import TikTokClient
from .tiktok.errors import InvalidAuthCodeError, RateLimitedError, ServerError, TikTokError

logger = logging.getLogger(__name__)


class ConnectError(Exception):
    """The connection failed and nothing was saved; the message is shown as it is."""


@dataclass
class ConnectResult:
    tenant: Tenant
    connected: list[Store] = field(default_factory=list)
    reconnected: list[Store] = field(default_factory=list)
    # Names of shops refused because another organisation has them (one shop, one tenant).
    refused: list[str] = field(default_factory=list)


def _audit(
    *, tenant: Tenant, actor: User | None, action: str, store: Store, **detail: object
) -> None:
    AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        action=action,
        detail={
            "store": str(store.public_id),
            "name": store.name,
            "shop_id": store.external_shop_id,
            **detail,
        },
    )


def _require_admin(membership: Membership | None) -> Membership:
    if membership is None or not membership.has_role(Role.ADMIN):
        raise ConnectError("Only owners and admins can connect, reconnect or disconnect stores.")
    return membership


# --- Connect ------------------------------------------------------------------------------------


def store_connect_begin(
    *, membership: Membership, market: str, client: TikTokClient | None = None
) -> str:
    """The consent page URL for `market` ("us" or "row"), with a fresh state for this person."""
    _require_admin(membership)
    client = client or default_client()
    if not (client.config.service_id and client.config.app_key):
        raise ConnectError(
            "Connecting stores is not set up on this server yet (the TikTok Shop app's "
            "TIKTOK_APP_KEY and TIKTOK_SERVICE_ID are missing). Ask whoever runs Sellerdesk."
        )
    market = Market(market)
    state = services.oauth_state_issue(membership=membership, market=market)
    return client.authorize_url(market=market.upper(), state=state)


def store_connect_complete(
    *,
    user: User,
    state: str,
    code: str = "",
    error: str = "",
    client: TikTokClient | None = None,
) -> ConnectResult:
    """Finishes a round trip from the callback's query; raises ConnectError with nothing saved."""
    try:
        attempt = services.oauth_state_consume(state=state, user=user)
    except services.OAuthStateError as exc:
        raise ConnectError(str(exc)) from None
    if error or not code or code == "null":
        if error == "auth_denied":
            raise ConnectError(
                "TikTok Shop says the authorization was declined, so no store was connected. "
                "Connect again and choose Authorize to give Sellerdesk access."
            )
        raise ConnectError(
            f"TikTok Shop did not authorize the connection ({error or 'no code returned'}). "
            "No store was connected; please try again."
        )
    membership = (
        Membership.objects.select_related("tenant").filter(tenant=attempt.tenant, user=user).first()
    )
    _require_admin(membership)
    client = client or default_client()
    grant, shops = _fetch_grant(client=client, code=code)
    return _stores_save(
        tenant=attempt.tenant, user=user, market=Market(attempt.market), grant=grant, shops=shops
    )


def _fetch_grant(*, client: TikTokClient, code: str) -> tuple[TokenGrant, list[Shop]]:
    try:
        grant = client.get_token(auth_code=code)
    except InvalidAuthCodeError:
        raise ConnectError(
            "The authorization from TikTok Shop expired or was already used (codes are valid "
            "once, for 30 minutes). No store was connected; please connect again."
        ) from None
    except (ServerError, RateLimitedError) as exc:
        logger.warning("Token get failed during connect: %s", exc)
        raise ConnectError(
            f"TikTok Shop is not answering properly right now ({exc}). No store was connected; "
            "please connect again in a few minutes."
        ) from None
    except TikTokError as exc:
        logger.warning("Token get refused during connect: %s", exc)
        raise ConnectError(
            f"TikTok Shop refused to grant access ({exc}). No store was connected; "
            "please connect again, or contact support if it keeps happening."
        ) from None
    try:
        shops = client.authorized_shops(access_token=grant.access_token)
    except TikTokError as exc:
        logger.warning("Authorized shops failed during connect: %s", exc)
        raise ConnectError(
            f"TikTok Shop did not tell us which shops you authorized ({exc}). No store was "
            "connected; please try again in a few minutes."
        ) from None
    if not shops:
        raise ConnectError(
            "This TikTok Shop account has no shops to connect. No store was connected."
        )
    return grant, shops


@transaction.atomic
def _stores_save(
    *, tenant: Tenant, user: User, market: Market, grant: TokenGrant, shops: list[Shop]
) -> ConnectResult:
    result = ConnectResult(tenant=tenant)
    for shop in shops:
        # One shop is connected to one organisation at a time. An organisation that disconnected
        # it keeps its store (and the orders and tickets on it) but no longer holds the shop.
        stores = list(
            Store.objects.select_for_update().filter(
                platform=Platform.TIKTOK, external_shop_id=shop.external_id
            )
        )
        ours = next((s for s in stores if s.tenant_id == tenant.pk), None)
        if any(s.tenant_id != tenant.pk and s.status != StoreStatus.DISCONNECTED for s in stores):
            logger.info("Refused shop %s: connected to another tenant", shop.external_id)
            result.refused.append(shop.name)
            continue
        try:
            # A savepoint: another organisation connecting this shop at the same moment wins
            # the unique constraint on connected shops, and this one refuses the shop instead
            # of failing all.
            with transaction.atomic():
                if ours is not None:
                    store = _store_reconnect(
                        store=ours, user=user, market=market, grant=grant, shop=shop
                    )
                else:
                    store = Store(tenant=tenant, platform=Platform.TIKTOK, connected_by=user)
                    _apply(store=store, market=market, grant=grant, shop=shop)
                    store.save()
        except IntegrityError:
            result.refused.append(shop.name)
            continue
        if ours is not None:
            result.reconnected.append(store)
            continue
        _audit(tenant=tenant, actor=user, action="store.connected", store=store)
        result.connected.append(store)
    # Inside the transaction: a store never exists without its backfill jobs, and the jobs are
    # handed to the workers only once everything is committed.
    from orders import sync

    for store in [*result.connected, *result.reconnected]:
        sync.backfill_start(store=store)
    return result


def _apply(*, store: Store, market: Market, grant: TokenGrant, shop: Shop) -> None:
    """Shop and grant facts onto `store`, and its tokens (encrypted by set_tokens)."""
    store.external_shop_id = shop.external_id
    store.shop_cipher = shop.cipher
    store.shop_code = shop.code
    store.name = shop.name[:255] or shop.external_id
    store.region = shop.region[:8]
    store.seller_type = shop.seller_type[:32]
    store.market = market
    store.seller_name = grant.seller_name[:255]
    store.seller_base_region = grant.seller_base_region[:8]
    store.open_id = grant.open_id[:64]
    store.granted_scopes = list(grant.granted_scopes)
    store.set_tokens(
        access_token=grant.access_token,
        access_token_expires_at=grant.access_token_expires_at,
        refresh_token=grant.refresh_token,
        refresh_token_expires_at=grant.refresh_token_expires_at,
    )


def _store_reconnect(
    *, store: Store, user: User, market: Market, grant: TokenGrant, shop: Shop
) -> Store:
    """New tokens for a shop this tenant already has; it becomes active and paused jobs resume."""
    now = timezone.now()
    previous = store.status
    _apply(store=store, market=market, grant=grant, shop=shop)
    store.status = StoreStatus.ACTIVE
    store.status_reason = ""
    store.status_changed_at = now if previous != StoreStatus.ACTIVE else store.status_changed_at
    store.token_error_count = 0
    # A new grant: an expiry warned about for the old one no longer applies.
    store.authorization_expires_at = None
    store.authorization_warned_at = None
    store.connected_at = now
    store.connected_by = user
    store.disconnected_at = None
    store.save()
    SyncJob.objects.filter(store=store, status=SyncJobStatus.PAUSED).update(
        status=SyncJobStatus.QUEUED
    )
    _audit(
        tenant=store.tenant,
        actor=user,
        action="store.reconnected",
        store=store,
        previous_status=previous,
    )
    return store


# --- Disconnect and sync now --------------------------------------------------------------------


@transaction.atomic
def store_disconnect(*, actor: Membership, store: Store) -> Store:
    """Stops all sync and forgets the tokens; orders and tickets stay (history is kept)."""
    _require_admin(actor)
    store = Store.objects.select_for_update().get(pk=store.pk, tenant_id=actor.tenant_id)
    if store.status == StoreStatus.DISCONNECTED:
        return store
    now = timezone.now()
    previous = store.status
    store.status = StoreStatus.DISCONNECTED
    store.status_reason = f"Disconnected by {actor.user.display_name}."[:255]
    store.status_changed_at = now
    store.disconnected_at = now
    store.token_error_count = 0
    store.clear_tokens()
    store.save()
    # Paused, not failed: a later reconnect resumes them where they stopped.
    SyncJob.objects.filter(
        store=store, status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING]
    ).update(status=SyncJobStatus.PAUSED)
    _audit(
        tenant=store.tenant,
        actor=actor.user,
        action="store.disconnected",
        store=store,
        previous_status=previous,
    )
    return store


def store_sync_now(*, actor: Membership, store: Store) -> None:
    """Asks for an immediate sync of an active store."""
    _require_admin(actor)
    if store.status != StoreStatus.ACTIVE:
        problem = (
            "needs re-authorization"
            if store.status == StoreStatus.NEEDS_REAUTH
            else "is disconnected"
        )
        raise ConnectError(f"{store.name} {problem}: reconnect it before syncing.")
    from orders import sync

    sync.sync_now(store=store)
