"""Background work for store connections. Task names are stable: queued messages outlive deploys."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="marketplaces.process_webhook_event", ignore_result=True)
def process_webhook_event(event_id: int) -> str | None:
    """Processes one stored webhook event; a second delivery of the same id does nothing."""
    return services.webhook_event_process(event_id=event_id)


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
