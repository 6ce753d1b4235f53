"""Webhooks processed: claims, transient errors retried with backoff, one event or a shop's
batch at a time, the sweeper that requeues what was left behind, and pruning.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.db import rows_update

from ..models import Platform, Store, WebhookEvent, WebhookEventStatus
from ..selectors import store_for_shop
from .webhook_intake import (
    _BATCH_HANDLERS,
    _HANDLERS,
    WEBHOOK_BATCH_SIZE,
    _drain_key,
    _timeout,
    webhook_handler_for,
)

logger = logging.getLogger(__package__)  # marketplaces.services, as before the package


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
    from ..channel import TRANSIENT_ERRORS, OutcomeUnknownError

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
