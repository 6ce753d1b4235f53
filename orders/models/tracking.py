"""An order's tracking events as last fetched from its channel, and whether a fetch is queued.

Pages and the API read this row; only the `orders.fetch_tracking` task asks the platform (a GET
never does), so every reader says how old the events are and whether newer ones are on the way.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from tenants.models import Tenant

from .orders import Order


class OrderTracking(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="tracking")
    # [{"description": str, "occurred_at": ISO 8601 or null}], newest first, as last fetched.
    events = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the events were last fetched successfully."
    )
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When a fetch was last queued; pending while newer."
    )
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(
        max_length=500, blank=True, help_text="Why the last attempt failed, for the agent."
    )

    # A fetch queued longer ago than this and never finished (a worker died, the broker was down)
    # is no longer shown as on its way: the agent may ask again.
    PENDING_FOR = timedelta(minutes=5)

    def __str__(self) -> str:
        return f"Tracking of order {self.order_id}"

    @property
    def pending(self) -> bool:
        """A fetch was queued recently and has not finished since."""
        if self.requested_at is None or self.requested_at < timezone.now() - self.PENDING_FOR:
            return False
        return self.attempted_at is None or self.attempted_at < self.requested_at
