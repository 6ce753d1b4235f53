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

from django.conf import settings
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


# --- Reports: daily rollups (sla.reports.rollup keeps them; /reports/ reads only these) -------

# First response time buckets of the report's histogram, in hours: 0-2, 2-12, 12-24, > 24.
FIRST_RESPONSE_BUCKETS = ("frt_under_2h", "frt_2_12h", "frt_12_24h", "frt_over_24h")
# Upper edges (minutes) of the handle-time histogram's buckets; a last bucket holds the rest.
HANDLE_EDGES_MINUTES = (
    5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440,
    2160, 2880, 4320, 5760, 7200, 10080, 20160, 43200,
)  # fmt: skip


class DailyRollup(models.Model):
    """One organisation's figures of one day (its time zone) for one store and one agent.

    `agent` is who answered (a reply written elsewhere, e.g. Seller Center: None) or, for what
    nobody answered, inbound volume and solved tickets, the ticket's assignee (None:
    unassigned). A wait belongs to the day its buyer's first unanswered message arrived.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Buyers waiting for a reply (the first unanswered message of a run); of them, decided
    # against TikTok's window: answered in time, or answered late / still unanswered past it.
    waits = models.PositiveIntegerField(default=0)
    platform_met = models.PositiveIntegerField(default=0)
    platform_missed = models.PositiveIntegerField(default=0)
    # The same against the team's first/next response target (waits under a policy only).
    team_met = models.PositiveIntegerField(default=0)
    team_missed = models.PositiveIntegerField(default=0)
    # First responses (the ticket's first reply to reach the buyer) by how long they took.
    frt_under_2h = models.PositiveIntegerField(default=0)
    frt_2_12h = models.PositiveIntegerField(default=0)
    frt_12_24h = models.PositiveIntegerField(default=0)
    frt_over_24h = models.PositiveIntegerField(default=0)
    responses = models.PositiveIntegerField(default=0)
    response_seconds = models.BigIntegerField(default=0)
    # Buyer messages by hour of the day (24 counts, local time).
    inbound_by_hour = models.JSONField(default=list)
    # The same buyer messages labelled by triage, by intent ({"order_status": 3, ...}; a message
    # not labelled yet is in inbound_by_hour only). Days computed before this field: empty.
    inbound_by_intent = models.JSONField(default=dict)
    # Tickets solved that day, and their handle times (creation to solve) by HANDLE_EDGES_MINUTES.
    solved = models.PositiveIntegerField(default=0)
    handle_histogram = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="sla_rollup_tenant_day")]

    def __str__(self) -> str:
        return f"rollup {self.tenant_id} {self.day} store {self.store_id} agent {self.agent_id}"


class RollupState(models.Model):
    """When an organisation's rollups were last computed (the report says how fresh it is);
    its row lock serialises two runs for one organisation."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    computed_at = models.DateTimeField(null=True, blank=True)
    first_day = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollup state of {self.tenant_id}"
