from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(name="integrations.deliver_due", acks_late=True)
def deliver_due() -> int:
    """Sends every webhook delivery that is due (see integrations.delivery)."""
    return delivery.deliveries_send_due()
