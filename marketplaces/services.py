"""Every change to stores, store access, connect state and webhook events goes through here."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.db import rows_update
from tenants.models import Membership, Role, User

from .models import (
    Market,
    OAuthState,
    Platform,
    Store,
    StoreAccess,
    StoreStatus,
    SyncJob,
    SyncJobStatus,
    WebhookEvent,
    WebhookEventStatus,
    WebhookType,
)
from .selectors import store_for_shop

logger = logging.getLogger(__name__)


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
        from .api import StoreSerializer

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


# --- Connect state ------------------------------------------------------------------------------

OAUTH_STATE_TTL = timedelta(minutes=15)
_STATE_SALT = "marketplaces.oauth-state"


class OAuthStateError(Exception):
    """The `state` of a connect callback is forged, expired, used or someone else's."""


def oauth_state_issue(*, membership: Membership, market: str) -> str:
    """A signed, single-use `state` for the consent page, bound to this person and tenant."""
    now = timezone.now()
    state = OAuthState.objects.create(
        nonce=secrets.token_urlsafe(32),
        tenant=membership.tenant,
        user=membership.user,
        market=Market(market),
        created_at=now,
        expires_at=now + OAUTH_STATE_TTL,
    )
    return signing.dumps(state.nonce, salt=_STATE_SALT)


def oauth_state_consume(*, state: str, user: User) -> OAuthState:
    """The connect attempt behind `state`, marked used; raises OAuthStateError otherwise."""
    try:
        nonce = signing.loads(state, salt=_STATE_SALT, max_age=OAUTH_STATE_TTL)
    except signing.SignatureExpired:
        raise OAuthStateError("This connection attempt has expired. Please start again.") from None
    except signing.BadSignature:
        raise OAuthStateError("This connection link is not valid. Please start again.") from None
    now = timezone.now()
    # The conditional update is the single-use guarantee: of two callbacks racing with the same
    # state, exactly one changes the row.
    used = OAuthState.objects.filter(
        nonce=nonce, user=user, used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if not used:
        raise OAuthStateError(
            "This connection link was already used, has expired or belongs to someone else. "
            "Please start again."
        )
    return OAuthState.objects.select_related("tenant").get(nonce=nonce)


# --- Webhooks -----------------------------------------------------------------------------------

# A claim older than this belongs to a worker that died; the event may be claimed again.
WEBHOOK_CLAIM_TIMEOUT = timedelta(minutes=10)
# A received event no worker has claimed after this long was probably never enqueued.
WEBHOOK_ENQUEUE_GRACE = timedelta(minutes=2)


def _timeout(name: str) -> timedelta:
    """A recovery timeout: the module's value unless settings name it in seconds (the fault
    suite shortens them, so that what a killed worker left is recovered within its run)."""
    from django.conf import settings

    seconds = getattr(settings, f"{name}_SECONDS", None)
    return timedelta(seconds=seconds) if seconds is not None else globals()[name]


# Events of one shop and type that a worker takes together (batch-handled types).
WEBHOOK_BATCH_SIZE = 200
# How long "a drain is on its way" holds for a shop; a drain lost with its worker frees it then
# (and the sweeper hands its events out after WEBHOOK_ENQUEUE_GRACE in any case).
WEBHOOK_DRAIN_TIMEOUT = timedelta(seconds=60)

WebhookHandler = Callable[[WebhookEvent, Store], str]
# Takes several events of one type and shop; returns the result sentence of each event it
# handled, by event id. Events it leaves out go to the type's one-event handler.
WebhookBatchHandler = Callable[[Sequence[WebhookEvent], Store], dict[int, str]]
_HANDLERS: dict[int, WebhookHandler] = {}
_BATCH_HANDLERS: dict[int, WebhookBatchHandler] = {}


def register_webhook_handler(webhook_type: int) -> Callable[[WebhookHandler], WebhookHandler]:
    """Adds the handler for one webhook type; it returns a short sentence saying what it did.

    Later features (order sync for 1/11/12, the mailbox for 13/14) register theirs from their
    AppConfig.ready(); until then those events stay "awaiting a handler" and are replayed by
    `webhook_events_requeue` once one exists.
    """

    def decorate(handler: WebhookHandler) -> WebhookHandler:
        _HANDLERS[int(webhook_type)] = handler
        return handler

    return decorate


def register_webhook_batch_handler(
    webhook_type: int,
) -> Callable[[WebhookBatchHandler], WebhookBatchHandler]:
    """Adds a handler that processes a burst of events of one type and shop together (see
    `webhook_events_drain`); the type keeps its one-event handler for what the batch leaves."""

    def decorate(handler: WebhookBatchHandler) -> WebhookBatchHandler:
        _BATCH_HANDLERS[int(webhook_type)] = handler
        return handler

    return decorate


def webhook_handler_for(webhook_type: int) -> WebhookHandler | None:
    return _HANDLERS.get(webhook_type)


def _drain_key(shop_id: str, webhook_type: int) -> str:
    return f"webhooks:drain:{webhook_type}:{shop_id}"


def _enqueue_webhook_event(event: WebhookEvent) -> None:
    """Hands a stored event to the workers, after commit.

    A type with a batch handler (NEW_MESSAGE) is not given a task per event: one drain task per
    shop and type takes whatever is waiting, a batch at a time (`webhook_events_drain`), and
    only the first event of a burst enqueues it (a cache key says one is on its way or running).
    """
    from .tasks import process_webhook_event, process_webhook_events

    try:
        if event.type not in _BATCH_HANDLERS:
            process_webhook_event.delay(event.pk)
            return
        key = _drain_key(event.shop_id, event.type)
        if cache.add(key, event.pk, timeout=WEBHOOK_DRAIN_TIMEOUT.total_seconds()):
            try:
                process_webhook_events.delay(event.shop_id, event.type)
            except Exception:
                cache.delete(key)  # the next event tries again
                raise
    except Exception:
        # The event is stored; the sweeper enqueues it again. Never fail the acknowledgement.
        logger.exception("Could not enqueue webhook event %s; the sweeper will retry", event.pk)


def webhook_event_receive(
    *, notification_id: str, webhook_type: int, shop_id: str, payload: dict[str, Any]
) -> WebhookEvent | None:
    """Stores a verified notification once and schedules its processing after commit.

    Returns None for a duplicate `tts_notification_id` (TikTok retries, the sandbox replays): the
    unique constraint decides, so two deliveries racing each other still store one row.
    """
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                platform=Platform.TIKTOK,
                notification_id=notification_id,
                type=webhook_type,
                shop_id=shop_id,
                payload=payload,
            )
            transaction.on_commit(lambda: _enqueue_webhook_event(event))
    except IntegrityError:
        if WebhookEvent.objects.filter(notification_id=notification_id).exists():
            return None
        raise
    return event


def _event_time(event: WebhookEvent) -> datetime | None:
    value = event.payload.get("timestamp")
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _predates_connection(event: WebhookEvent, store: Store) -> bool:
    """True for news about an authorization the store has since replaced by reconnecting."""
    sent_at = _event_time(event)
    return sent_at is not None and sent_at < store.connected_at.replace(microsecond=0)


@register_webhook_handler(WebhookType.SELLER_DEAUTHORIZATION)
def _on_seller_deauthorization(event: WebhookEvent, store: Store) -> str:
    if _predates_connection(event, store):
        return "Ignored: the store was reconnected after this notification was sent."
    if store.status == StoreStatus.DISCONNECTED:
        return "Ignored: the store is disconnected."
    store_mark_needs_reauth(
        store=store,
        reason="The seller removed Sellerdesk's access in TikTok Shop. Reconnect the store.",
        revoke_tokens=True,
    )
    return "Store marked as needing re-authorization; sync paused."


@register_webhook_handler(WebhookType.UPCOMING_AUTHORIZATION_EXPIRATION)
def _on_upcoming_authorization_expiration(event: WebhookEvent, store: Store) -> str:
    if _predates_connection(event, store):
        return "Ignored: the store was reconnected after this notification was sent."
    data = event.payload.get("data")
    raw = data.get("expiration_time") if isinstance(data, dict) else None
    try:
        # A string of Unix seconds in the contract (§8.3); a number is accepted too.
        expires_at = datetime.fromtimestamp(int(str(raw).strip()), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"expiration_time is not a Unix timestamp: {raw!r}") from None
    store_record_authorization_expiry(store=store, expires_at=expires_at)
    return f"Authorization expires {expires_at:%Y-%m-%d %H:%M} UTC; warning recorded."


def _claimable(now: datetime) -> Q:
    return Q(status=WebhookEventStatus.RECEIVED) | Q(
        status=WebhookEventStatus.PROCESSING, claimed_at__lt=now - _timeout("WEBHOOK_CLAIM_TIMEOUT")
    )


def _claim(events: QuerySet[WebhookEvent], now: datetime) -> int:
    return events.update(
        status=WebhookEventStatus.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
    )


# A webhook whose handler hit a transient error (rate limited, platform not answering) is tried
# again after WEBHOOK_RETRY_BASE * 2**(attempt-1), capped, WEBHOOK_MAX_ATTEMPTS times in all;
# then it stays FAILED for a person to look at.
WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_RETRY_BASE = timedelta(seconds=30)
WEBHOOK_RETRY_CAP = timedelta(minutes=30)


def _infrastructure_errors() -> tuple[type[BaseException], ...]:
    """Our own services not answering for a moment: Redis (cache, live updates, locks), the
    Celery broker, a dropped or conflicting database connection. They say nothing about the
    event, which is tried again like a platform that did not answer."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, BrokerError, OperationalError, InterfaceError)


def _is_transient(exc: BaseException) -> bool:
    from .channel import TRANSIENT_ERRORS, OutcomeUnknownError

    # A webhook handler only reads from the channel: an unknown outcome is a read not answered.
    return isinstance(exc, (*TRANSIENT_ERRORS, OutcomeUnknownError, *_infrastructure_errors()))


def webhook_retry_delay(attempt: int, *, retry_after: float | None = None) -> timedelta:
    """Delay before the event's attempt `attempt + 1` (jittered in its upper half)."""
    ceiling = min(WEBHOOK_RETRY_CAP, WEBHOOK_RETRY_BASE * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + ceiling / 2 * secrets.SystemRandom().random()
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), WEBHOOK_RETRY_CAP))
    return delay


def _process_one(event: WebhookEvent, now: datetime) -> str:
    """Runs the one-event handler on an event this worker claimed at `now`; its new status.

    The handler runs outside any transaction: it calls the channel first (a read, a token
    refresh that commits on its own) and writes what it got in short transactions of its own,
    each idempotent, so an event processed again after a failure or a killed worker changes
    nothing twice. Only the event's status is written here, conditional on the claim.
    """
    ours = WebhookEvent.objects.filter(
        pk=event.pk, status=WebhookEventStatus.PROCESSING, claimed_at=now
    )
    try:
        store = store_for_shop(platform=event.platform, external_shop_id=event.shop_id)
        handler = webhook_handler_for(event.type)
        if store is None:
            status = WebhookEventStatus.UNKNOWN_SHOP
            result = f"No store is connected for shop {event.shop_id or '(none)'}."
        elif handler is None:
            status = WebhookEventStatus.AWAITING_HANDLER
            result = f"Stored; {event.type_label} events are not handled yet."
        else:
            status = WebhookEventStatus.PROCESSED
            result = handler(event, store)
        ours.update(
            status=status,
            result=result[:255],
            store=store,
            processed_at=timezone.now() if status == WebhookEventStatus.PROCESSED else None,
            last_error="",
            retry_at=None,
        )
    except Exception as exc:
        retry_at = None
        if _is_transient(exc) and event.attempts < WEBHOOK_MAX_ATTEMPTS:
            retry_at = timezone.now() + webhook_retry_delay(
                event.attempts, retry_after=getattr(exc, "retry_after", None)
            )
            logger.warning(
                "Webhook event %s (type %s) failed, retried at %s: %s",
                event.pk,
                event.type,
                retry_at,
                exc,
            )
        else:
            logger.exception("Webhook event %s (type %s) failed", event.pk, event.type)
        ours.update(
            status=WebhookEventStatus.FAILED,
            last_error=f"{type(exc).__name__}: {exc}",
            retry_at=retry_at,
        )
        return WebhookEventStatus.FAILED
    return status


def _drain_batch(*, shop_id: str, webhook_type: int) -> int:
    """Takes up to WEBHOOK_BATCH_SIZE waiting events of one shop and type and runs the batch
    handler on them in one transaction; returns how many it took.

    The events are held by row locks, not by a claim: rows another drain holds are skipped, and
    a worker that dies mid-batch leaves them waiting, untouched, for the next drain. What the
    handler leaves, or every event if the batch fails, goes through the one-event path after
    the commit, each alone (so one bad event fails alone).
    """
    events: list[WebhookEvent] = []
    left: list[WebhookEvent] = []
    try:
        with transaction.atomic():
            events = list(
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(status=WebhookEventStatus.RECEIVED, type=webhook_type, shop_id=shop_id)
                .order_by("received_at", "pk")[:WEBHOOK_BATCH_SIZE]  # index webhook_waiting
            )
            taken = timezone.now()
            store = (
                store_for_shop(platform=Platform.TIKTOK, external_shop_id=shop_id)
                if events
                else None
            )
            if events and store is None:
                left = events  # each recorded as an unknown shop's
            elif events:
                results = _BATCH_HANDLERS[webhook_type](events, store)
                handled = [event for event in events if event.pk in results]
                _record_processed(handled, results, store, taken=taken)
                left = [event for event in events if event.pk not in results]
    except Exception:
        logger.exception("Webhook batch of %s type %s events failed", len(events), webhook_type)
        left = events
    for event in left:
        webhook_event_process(event_id=event.pk)
    return len(events)


def _record_processed(
    events: list[WebhookEvent], results: dict[int, str], store: Store, *, taken: datetime
) -> None:
    now = timezone.now()
    for event in events:
        event.status = WebhookEventStatus.PROCESSED
        event.result = results[event.pk][:255]
        event.store = store
        event.claimed_at, event.processed_at = taken, now
        event.attempts += 1
        event.last_error = ""
    fields = ["status", "result", "store", "claimed_at", "processed_at", "attempts", "last_error"]
    rows_update(WebhookEvent.objects.all(), events, fields)


def webhook_event_process(*, event_id: int) -> str | None:
    """Processes one stored event with its type's one-event handler; returns its new status, or
    None when it was not ours to take.

    Claimed with a conditional UPDATE, so of two workers given the same id exactly one proceeds;
    a claim left by a dead worker expires after WEBHOOK_CLAIM_TIMEOUT.
    """
    now = timezone.now()
    if not _claim(WebhookEvent.objects.filter(_claimable(now), pk=event_id), now):
        return None
    return _process_one(WebhookEvent.objects.get(pk=event_id), now)


def webhook_events_drain(*, shop_id: str, webhook_type: int) -> int:
    """Processes a shop's waiting events of a batch-handled type (NEW_MESSAGE), a batch per
    transaction, until none is left; returns how many were taken.

    Before its last look it frees the shop's "drain on its way" key: an event stored after that
    look finds the key free and enqueues a new drain, so none waits for the sweeper.
    """
    taken = 0
    released = False
    while True:
        count = _drain_batch(shop_id=shop_id, webhook_type=webhook_type)
        taken += count
        if count:
            continue
        if released:
            return taken
        cache.delete(_drain_key(shop_id, webhook_type))
        released = True


def webhook_events_requeue(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of events to hand to workers again, marked received (the sweeper calls this).

    - received but never claimed after a grace period (the broker was down at intake);
    - claimed by a worker that died (claim older than the timeout);
    - awaiting a handler for a type that has one now;
    - failed on a transient error, once their retry time has come.
    """
    now = now or timezone.now()
    handled_types = list(_HANDLERS)
    stale = (
        Q(
            status=WebhookEventStatus.RECEIVED,
            received_at__lt=now - _timeout("WEBHOOK_ENQUEUE_GRACE"),
        )
        | Q(
            status=WebhookEventStatus.PROCESSING,
            claimed_at__lt=now - _timeout("WEBHOOK_CLAIM_TIMEOUT"),
        )
        | Q(status=WebhookEventStatus.AWAITING_HANDLER, type__in=handled_types)
    )
    ids = list(
        WebhookEvent.objects.filter(stale)
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
    retries = list(
        WebhookEvent.objects.filter(status=WebhookEventStatus.FAILED, retry_at__lte=now)
        .order_by("retry_at")
        .values_list("id", flat=True)[: max(0, limit - len(ids))]
    )
    # Back to "received" so the claim in webhook_event_process applies; a failed event only if
    # it is still failed and due (conditional: two sweepers hand it out once).
    WebhookEvent.objects.filter(id__in=ids, status=WebhookEventStatus.AWAITING_HANDLER).update(
        status=WebhookEventStatus.RECEIVED
    )
    retried = set(
        WebhookEvent.objects.filter(
            id__in=retries, status=WebhookEventStatus.FAILED, retry_at__lte=now
        ).values_list("id", flat=True)
    )
    if retried:
        WebhookEvent.objects.filter(id__in=retried, status=WebhookEventStatus.FAILED).update(
            status=WebhookEventStatus.RECEIVED, retry_at=None
        )
    return ids + [pk for pk in retries if pk in retried]


# Processed notifications are kept this long for support questions ("did TikTok tell us?"), then
# deleted in batches. Failed and awaiting-handler events are kept until someone deals with them.
WEBHOOK_RETENTION = timedelta(days=30)


def webhook_events_prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Deletes one batch of old processed or unknown-shop events; returns how many."""
    cutoff = (now or timezone.now()) - WEBHOOK_RETENTION
    ids = list(
        WebhookEvent.objects.filter(
            status__in=[WebhookEventStatus.PROCESSED, WebhookEventStatus.UNKNOWN_SHOP],
            received_at__lt=cutoff,
        ).values_list("id", flat=True)[:batch]
    )
    deleted, _ = WebhookEvent.objects.filter(id__in=ids).delete()
    return deleted
