from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(name="integrations.deliver_due", acks_late=True)
def deliver_due() -> int:
    """Sends every webhook delivery that is due (see integrations.delivery)."""
    return delivery.deliveries_send_due()


@shared_task(name="integrations.prune_events")
def prune_events() -> int:
    """Events (with their deliveries and attempt log) older than EVENT_RETENTION are deleted."""
    return delivery.events_prune()
