"""Reads of Settings → Service levels. Every function takes the tenant explicitly; another
tenant's policy or store is a 404."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant

from .models import SLAPolicy, StoreClockSettings, market_window_hours


def _as_uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise Http404("Not found.") from error


def policies(*, tenant: Tenant) -> QuerySet[SLAPolicy]:
    return SLAPolicy.objects.filter(tenant=tenant).select_related("store")


def policy_get(*, tenant: Tenant, public_id: object) -> SLAPolicy:
    policy = policies(tenant=tenant).filter(public_id=_as_uuid(public_id)).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def store_zone(store: Store, tenant: Tenant) -> tzinfo:
    settings_row = StoreClockSettings.objects.filter(store=store).first()
    for name in (settings_row.time_zone if settings_row else "", tenant.time_zone, "UTC"):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


@dataclass(frozen=True)
class StoreClock:
    """A store as Settings → Service levels lists it."""

    store: Store
    time_zone: str  # "" = the organisation's
    zone_name: str  # the zone in effect
    window_hours: int
    window_is_market: bool
    holiday_from: datetime | None
    holiday_until: datetime | None

    @property
    def on_holiday(self) -> bool:
        now = timezone.now()
        return (
            self.holiday_from is not None
            and self.holiday_from <= now
            and (self.holiday_until is None or now < self.holiday_until)
        )

    @property
    def holiday_planned(self) -> bool:
        return self.holiday_from is not None and self.holiday_from > timezone.now()


def store_clocks(*, tenant: Tenant) -> list[StoreClock]:
    """Every store of the tenant with its clock settings, in one query."""
    rows = []
    for store in Store.objects.filter(tenant=tenant).select_related("clock_settings"):
        own = getattr(store, "clock_settings", None)
        zone = own.time_zone if own is not None else ""
        hours = own.reply_window_hours if own is not None else None
        rows.append(
            StoreClock(
                store=store,
                time_zone=zone,
                zone_name=zone or tenant.time_zone or "UTC",
                window_hours=hours or market_window_hours(store.region),
                window_is_market=hours is None,
                holiday_from=own.holiday_from if own is not None else None,
                holiday_until=own.holiday_until if own is not None else None,
            )
        )
    return rows
