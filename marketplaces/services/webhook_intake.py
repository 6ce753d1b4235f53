"""Webhooks in: the recovery timeouts, the handler registry, receiving an event (stored, then
enqueued or left for a drain), and the store handlers (deauthorization, authorization expiry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from ..models import Platform, Store, StoreStatus, WebhookEvent, WebhookType
from .stores import store_mark_needs_reauth, store_record_authorization_expiry

logger = logging.getLogger(__package__)  # marketplaces.services, as before the package

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
    from ..tasks import process_webhook_event, process_webhook_events

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
