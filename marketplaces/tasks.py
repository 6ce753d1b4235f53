"""Background work for store connections. Task names are stable: queued messages outlive deploys."""

from __future__ import annotations

from celery import shared_task

from . import services, tokens
from .tiktok.errors import RateLimitedError, ServerError


@shared_task(name="marketplaces.process_webhook_event", ignore_result=True)
def process_webhook_event(event_id: int) -> str | None:
    """Processes one stored webhook event; a second delivery of the same id does nothing."""
    return services.webhook_event_process(event_id=event_id)


@shared_task(name="marketplaces.process_webhook_events", ignore_result=True)
def process_webhook_events(shop_id: str, webhook_type: int) -> int:
    """Processes the shop's waiting events of one batch-handled type (NEW_MESSAGE) in batches."""
    return services.webhook_events_drain(shop_id=shop_id, webhook_type=webhook_type)


@shared_task(name="marketplaces.requeue_webhook_events", ignore_result=True)
def requeue_webhook_events() -> int:
    """Beat: hands stored events that were never processed back to the workers."""
    ids = services.webhook_events_requeue()
    for event_id in ids:
        process_webhook_event.delay(event_id)
    return len(ids)


@shared_task(name="marketplaces.prune_webhook_events", ignore_result=True)
def prune_webhook_events() -> int:
    """Beat (daily): deletes processed notifications past their retention, in batches."""
    total = 0
    while deleted := services.webhook_events_prune():
        total += deleted
    return total


@shared_task(name="marketplaces.refresh_due_store_tokens", ignore_result=True)
def refresh_due_store_tokens() -> int:
    """Beat (hourly): one refresh task per store whose access token lapses within a day."""
    ids = list(tokens.stores_due_for_refresh().values_list("pk", flat=True))
    for store_id in ids:
        refresh_store_tokens.delay(store_id)
    return len(ids)


@shared_task(
    name="marketplaces.refresh_store_tokens",
    ignore_result=True,
    autoretry_for=(ServerError, RateLimitedError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=4,
)
def refresh_store_tokens(store_id: int) -> str:
    """Refreshes one store's tokens if still due: a repeat or a sibling's refresh makes it a no-op.

    A refused refresh token marks the store as needing re-authorization (an outcome, no retry);
    only transient platform errors are retried, with backoff and a cap.
    """
    return tokens.store_tokens_refresh_if_due(store_id=store_id)
