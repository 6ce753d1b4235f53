"""Service levels: the team's SLA policies and each store's clock settings.

Two clocks run on a ticket (their due times live on `inbox.Conversation`, see `sla.clocks`):

- the platform's: TikTok Shop wants a reply within 24 hours in the US and 12 hours in South-East
  Asian markets, counted on the wall clock every day of the week; only the store's holiday mode
  pauses it. `StoreClockSettings` keeps each store's window (when not the market's), time zone and
  holiday mode;
- the team's: an `SLAPolicy` (first response, next response, resolution) counted in business
  hours of the store's time zone, paused while the ticket is Pending. A store's own policy wins
  over the organisation's policy for all stores.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant

# TikTok Shop's reply window by shop region (docs/tiktok-shop-api.md §9): 12 hours in the
# South-East Asian markets (and Indonesia), 24 hours in the US and elsewhere.
SEA_REGIONS = frozenset({"TH", "MY", "PH", "VN", "SG", "ID"})
US_WINDOW_HOURS = 24
SEA_WINDOW_HOURS = 12
# Response-rate targets drawn on the reports: US >= 90%, SEA > 85%.
US_TARGET_PERCENT = 90
SEA_TARGET_PERCENT = 85


def market_window_hours(region: str) -> int:
    return SEA_WINDOW_HOURS if (region or "").upper() in SEA_REGIONS else US_WINDOW_HOURS


def market_target_percent(region: str) -> int:
    return SEA_TARGET_PERCENT if (region or "").upper() in SEA_REGIONS else US_TARGET_PERCENT


class StoreClockSettings(models.Model):
    """A store's reply window, time zone and holiday mode. A store without a row uses its
    market's window, the organisation's time zone and no holiday mode."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="clock_settings"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA zone of the store's team; empty: the organisation's.",
    )
    reply_window_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="TikTok's reply window; empty: the market's (24 h US, 12 h SEA).",
    )
    # Holiday mode: TikTok's clock does not run from `holiday_from` until `holiday_until` (open
    # ended while None: until switched off).
    holiday_from = models.DateTimeField(null=True, blank=True)
    holiday_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "store clock settings"

    def __str__(self) -> str:
        return f"clock settings of store {self.store_id}"


class SLAPolicy(models.Model):
    """The team's targets for one store, or (store None) for every store without its own."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="sla_policies")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    # Targets in minutes of business time; None: not measured.
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Opening hours per weekday, Monday first: [[["09:00", "17:00"]], [], ...]; None: around the
    # clock. Holidays: ISO dates, closed all day. Both read in the store's time zone.
    business_hours = models.JSONField(null=True, blank=True)
    holidays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "store"],
                condition=Q(store__isnull=False),
                name="slapolicy_tenant_store",
            ),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(store__isnull=True), name="slapolicy_tenant_default"
            ),
        ]
        ordering = ["store__name", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name
