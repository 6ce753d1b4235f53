"""The two clocks of a ticket, kept as due-time columns on `inbox.Conversation`.

**TikTok's clock** (`platform_due_at`) starts with the buyer's oldest message that no reply has
reached (`reply_wait_since`) and runs on the wall clock — nights, weekends, Pending and Solved
alike — for the store's window (24 h in the US, 12 h in South-East Asia, or the store's own);
only the store's holiday mode stops it. A reply stops it when it REACHES the buyer: a queued reply
does not, and a reply that fails to send leaves it running.

**The team's clock** follows the store's SLA policy in business hours of the store's time zone:
the reply clock (first response until a reply has ever reached the buyer, next response after
that) starts with the same buyer message and stops with the same reply; the resolution clock
starts with the buyer's first waiting message and stops when the ticket is Solved (a reopened
ticket starts it again). Both stand still while the ticket is not Open: the business time spent
Pending (or Solved, then reopened) is added to their targets when it is Open again.

`sla_due_at` is the soonest of the three; `sla_check_at` the soonest not yet recorded as missed
(`sla.services.breaches_record` writes the history entry when it passes).

The functions here change a ticket in memory and return the names of the fields they changed;
the caller saves them in the transaction that moved the ticket (ingest in its batch statement,
the ticket services with their own update).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from inbox.models import Conversation, TicketStatus
from marketplaces.channel import capabilities_for
from marketplaces.models import Store

from .calendar import BusinessCalendar, CalendarError
from .models import SLAPolicy, market_window_hours

BREACH_PLATFORM = 1
BREACH_REPLY = 2
BREACH_RESOLUTION = 4

SLA_FIELDS = (
    "reply_wait_since",
    "first_response_at",
    "platform_due_at",
    "sla_reply_due_at",
    "sla_resolution_started_at",
    "sla_resolution_due_at",
    "sla_paused_at",
    "sla_reply_paused_seconds",
    "sla_resolution_paused_seconds",
    "sla_due_at",
    "sla_breached",
    "sla_check_at",
)


@dataclass(frozen=True)
class ClockConfig:
    """What a store's clocks count by: its platform window and holiday mode, its policy."""

    window: timedelta | None  # None: the store's channel has no platform reply window (e-mail)
    calendar: BusinessCalendar
    holiday_from: datetime | None = None
    holiday_until: datetime | None = None
    policy_name: str = ""
    first_response: int | None = None  # seconds of business time
    next_response: int | None = None
    resolution: int | None = None


def _zone(*names: str | None) -> zoneinfo.ZoneInfo:
    for name in names:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue  # checked on the way in; a zone removed from tzdata since falls back
    return zoneinfo.ZoneInfo("UTC")


def _seconds(minutes: int | None) -> int | None:
    return None if minutes is None else int(minutes) * 60


def _has_reply_window(platform: str | None) -> bool:
    """Whether the store's channel holds it to a platform reply window (not a mailbox)."""
    try:
        return platform is None or capabilities_for(platform).platform_reply_window
    except LookupError:
        return True


def config_from(store: dict[str, Any], policy: SLAPolicy | None) -> ClockConfig:
    """A store's clock configuration from its row (see `_STORE_COLUMNS`) and its policy."""
    zone = _zone(store["clock_settings__time_zone"], store["tenant__time_zone"])
    hours = store["clock_settings__reply_window_hours"] or market_window_hours(store["region"])
    if policy is None:
        calendar = BusinessCalendar(zone=zone)
    else:
        try:
            calendar = BusinessCalendar.build(
                zone=zone, week=policy.business_hours, holidays=policy.holidays or ()
            )
        except CalendarError:  # stored hours are checked on the way in; never stop a clock
            calendar = BusinessCalendar(zone=zone)
    return ClockConfig(
        window=timedelta(hours=hours) if _has_reply_window(store.get("platform")) else None,
        calendar=calendar,
        holiday_from=store["clock_settings__holiday_from"],
        holiday_until=store["clock_settings__holiday_until"],
        policy_name=policy.name if policy is not None else "",
        first_response=_seconds(policy.first_response_minutes) if policy else None,
        next_response=_seconds(policy.next_response_minutes) if policy else None,
        resolution=_seconds(policy.resolution_minutes) if policy else None,
    )


_STORE_COLUMNS = (
    "pk",
    "platform",
    "tenant_id",
    "region",
    "tenant__time_zone",
    "clock_settings__time_zone",
    "clock_settings__reply_window_hours",
    "clock_settings__holiday_from",
    "clock_settings__holiday_until",
)


def clock_configs(store_ids: Iterable[int]) -> dict[int, ClockConfig]:
    """The clock configuration of each store, in two queries whatever their number."""
    wanted = list(set(store_ids))
    if not wanted:
        return {}
    stores = list(Store.objects.filter(pk__in=wanted).values(*_STORE_COLUMNS))
    tenants = {store["tenant_id"] for store in stores}
    own: dict[int, SLAPolicy] = {}
    default: dict[int, SLAPolicy] = {}
    for policy in SLAPolicy.objects.filter(tenant_id__in=tenants).filter(
        Q(store_id__in=wanted) | Q(store__isnull=True)
    ):
        if policy.store_id is None:
            default[policy.tenant_id] = policy
        else:
            own[policy.store_id] = policy
    return {
        store["pk"]: config_from(store, own.get(store["pk"]) or default.get(store["tenant_id"]))
        for store in stores
    }


def clock_config(store_id: int) -> ClockConfig:
    return clock_configs([store_id])[store_id]


# --- The clocks -------------------------------------------------------------------------------


def platform_due(start: datetime, config: ClockConfig) -> datetime | None:
    """When TikTok's window for a buyer waiting since `start` closes: `start` plus the window on
    the wall clock, plus the part of the store's holiday mode that falls inside it (None while
    an open-ended holiday mode stops it)."""
    if config.window is None:
        return None
    due = start + config.window
    begins, ends = config.holiday_from, config.holiday_until
    if begins is None or begins >= due or (ends is not None and ends <= start):
        return due
    if ends is None:
        return None
    return due + (ends - max(begins, start))


def _pause_ends(ticket: Conversation, now: datetime, config: ClockConfig) -> None:
    """Open again: the business time spent paused is added to the running team clocks."""
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_at = None
    if paused_at is None:
        return
    calendar = config.calendar
    if ticket.reply_wait_since is not None:
        ticket.sla_reply_paused_seconds += calendar.seconds_between(
            max(paused_at, ticket.reply_wait_since), now
        )
    if ticket.sla_resolution_started_at is not None:
        ticket.sla_resolution_paused_seconds += calendar.seconds_between(
            max(paused_at, ticket.sla_resolution_started_at), now
        )


def _status_changed(
    ticket: Conversation, previous: str, now: datetime, config: ClockConfig
) -> None:
    status = ticket.status
    if status == previous:
        return
    if status == TicketStatus.OPEN:
        _pause_ends(ticket, now, config)
    elif ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    if status == TicketStatus.SOLVED:
        ticket.sla_resolution_started_at = None
        ticket.sla_resolution_paused_seconds = 0
    elif previous == TicketStatus.SOLVED:
        # Reopened: a new resolution clock, and no breach of it recorded yet.
        ticket.sla_resolution_started_at = now
        ticket.sla_resolution_paused_seconds = 0
        ticket.sla_breached &= ~BREACH_RESOLUTION


def _reply_reached(ticket: Conversation, at: datetime, waiting_after: datetime | None) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = at
    ticket.reply_wait_since = waiting_after
    ticket.sla_reply_paused_seconds = 0
    ticket.sla_breached &= ~(BREACH_PLATFORM | BREACH_REPLY)


def _buyer_waiting(ticket: Conversation, since: datetime) -> None:
    if ticket.reply_wait_since is None:
        ticket.reply_wait_since = since
        ticket.sla_reply_paused_seconds = 0
        ticket.sla_breached &= ~(BREACH_PLATFORM | BREACH_REPLY)
    elif since < ticket.reply_wait_since:  # an older message delivered late
        ticket.reply_wait_since = since
    if ticket.sla_resolution_started_at is None and ticket.status != TicketStatus.SOLVED:
        ticket.sla_resolution_started_at = since
        ticket.sla_resolution_paused_seconds = 0
        ticket.sla_breached &= ~BREACH_RESOLUTION


def reply_target(ticket: Conversation, config: ClockConfig) -> tuple[str, int | None]:
    """("first_response" or "next_response", its target in seconds)."""
    if ticket.first_response_at is None:
        return "first_response", config.first_response
    return "next_response", config.next_response


def _recompute(ticket: Conversation, config: ClockConfig) -> None:
    waiting = ticket.reply_wait_since
    ticket.platform_due_at = platform_due(waiting, config) if waiting is not None else None
    running = ticket.status == TicketStatus.OPEN
    _, target = reply_target(ticket, config)
    ticket.sla_reply_due_at = (
        config.calendar.add(waiting, target + ticket.sla_reply_paused_seconds)
        if running and waiting is not None and target is not None
        else None
    )
    started = ticket.sla_resolution_started_at
    ticket.sla_resolution_due_at = (
        config.calendar.add(started, config.resolution + ticket.sla_resolution_paused_seconds)
        if running and started is not None and config.resolution is not None
        else None
    )
    clocks = (
        (ticket.platform_due_at, BREACH_PLATFORM),
        (ticket.sla_reply_due_at, BREACH_REPLY),
        (ticket.sla_resolution_due_at, BREACH_RESOLUTION),
    )
    ticket.sla_due_at = min((due for due, _ in clocks if due is not None), default=None)
    ticket.sla_check_at = min(
        (due for due, bit in clocks if due is not None and not ticket.sla_breached & bit),
        default=None,
    )


def ticket_moved(
    ticket: Conversation,
    config: ClockConfig,
    *,
    now: datetime,
    previous_status: str | None = None,
    reached: tuple[datetime, datetime | None] | None = None,
    buyer_since: datetime | None = None,
) -> set[str]:
    """Moves the clocks of `ticket` (in memory) by what just happened to it, in this order:
    its status changed from `previous_status` (at `now`); a reply reached the buyer
    (`reached` = (when, the oldest buyer message still waiting after it)); buyer messages that
    need a reply arrived (`buyer_since`: the oldest). Returns the fields it changed."""
    before = [getattr(ticket, name) for name in SLA_FIELDS]
    if previous_status is not None:
        _status_changed(ticket, previous_status, now, config)
    if reached is not None:
        _reply_reached(ticket, *reached)
    if buyer_since is not None:
        _buyer_waiting(ticket, buyer_since)
    _recompute(ticket, config)
    return {
        name
        for name, value in zip(SLA_FIELDS, before, strict=True)
        if getattr(ticket, name) != value
    }


def changed_values(ticket: Conversation, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in fields}


__all__ = [
    "BREACH_PLATFORM",
    "BREACH_REPLY",
    "BREACH_RESOLUTION",
    "ClockConfig",
    "clock_config",
    "clock_configs",
    "platform_due",
    "ticket_moved",
]
