"""Daily rollups: what /reports/ draws, computed from messages and tickets by a task
(`sla.rollup_recent`, beat), never per page view.

A **wait** is a buyer left waiting: the buyer's first message that needs a reply (as the clocks
count it, `inbox.ingest.NEEDS_REPLY`) after the last reply that reached them. It belongs to the
day (the organisation's time zone) that message arrived. It is answered by the next seller
message that reached the buyer (a reply sent from Sellerdesk, or one written in Seller Center);
a queued or failed reply answers nothing. Against TikTok's window (the store's, holiday mode
included) and the team's first/next response target (the store's policy now, in business hours)
a wait is *met* (answered in time), *missed* (answered late, or unanswered past its due time) or
not decided yet (still inside the window): the response rate is met / (met + missed). Pending
pauses are not counted here (a buyer's message reopens a Pending ticket, so a wait rarely
spends time in it).

Recent days change as late answers arrive and windows close, so the task recomputes the last
few days every run (`RECENT_DAYS`, more when a store's window is longer); the first run of an
organisation fills the last `FIRST_RUN_DAYS` days.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, FloatField, Q, QuerySet
from django.db.models.functions import Cast, Extract
from django.utils import timezone

from inbox.ingest import NEEDS_REPLY
from inbox.models import Conversation, DeliveryStatus, Message, MessageDirection, TicketStatus
from marketplaces.models import Store
from tenants.models import Tenant

from .. import clocks
from ..models import HANDLE_EDGES_MINUTES, DailyRollup, RollupState

RECENT_DAYS = 3
FIRST_RUN_DAYS = 90
HOUR = 3600
# A reply from Sellerdesk reaches the buyer once sent; one written elsewhere arrives with no
# delivery state of ours.
REACHED_STATES = ("", DeliveryStatus.SENT)


def tenant_zone(tenant: Tenant) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tenant.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def day_bounds(day: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's (local midnights, 23 or 25 hours apart when
    the clocks change), as UTC instants."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    # In UTC: arithmetic between two times of one zone is wall-clock time in Python.
    return start.astimezone(UTC), end.astimezone(UTC)


class Cell:
    """The figures of one (store, agent) of the day."""

    __slots__ = (
        "frt",
        "handle_histogram",
        "inbound_by_hour",
        "inbound_by_intent",
        "platform_met",
        "platform_missed",
        "response_seconds",
        "responses",
        "solved",
        "team_met",
        "team_missed",
        "waits",
    )

    def __init__(self) -> None:
        self.waits = self.platform_met = self.platform_missed = 0
        self.team_met = self.team_missed = 0
        self.frt = [0, 0, 0, 0]
        self.responses = self.response_seconds = 0
        self.inbound_by_hour = [0] * 24
        self.inbound_by_intent: dict[str, int] = {}
        self.solved = 0
        self.handle_histogram = [0] * (len(HANDLE_EDGES_MINUTES) + 1)

    def row(self, **keys: Any) -> DailyRollup:
        return DailyRollup(
            **keys,
            waits=self.waits,
            platform_met=self.platform_met,
            platform_missed=self.platform_missed,
            team_met=self.team_met,
            team_missed=self.team_missed,
            frt_under_2h=self.frt[0],
            frt_2_12h=self.frt[1],
            frt_12_24h=self.frt[2],
            frt_over_24h=self.frt[3],
            responses=self.responses,
            response_seconds=self.response_seconds,
            # Empty when all zero: most rows (an agent's answers) have none, and the report
            # reads these lists back for every row of its range.
            inbound_by_hour=self.inbound_by_hour if any(self.inbound_by_hour) else [],
            inbound_by_intent=self.inbound_by_intent,
            solved=self.solved,
            handle_histogram=self.handle_histogram if self.solved else [],
        )


def frt_bucket(seconds: float) -> int:
    """0: under 2 h, 1: 2-12 h, 2: 12-24 h, 3: over 24 h (an edge belongs to the bucket below)."""
    hours = seconds / HOUR
    return 0 if hours <= 2 else 1 if hours <= 12 else 2 if hours <= 24 else 3


def handle_bucket(seconds: float) -> int:
    minutes = seconds / 60
    for index, edge in enumerate(HANDLE_EDGES_MINUTES):
        if minutes <= edge:
            return index
    return len(HANDLE_EDGES_MINUTES)


def _decided(answered_at: datetime | None, due: datetime | None, now: datetime) -> int:
    """1 met, -1 missed, 0 not decided yet (or never due: an open-ended holiday mode)."""
    if due is None:
        return 0
    if answered_at is not None:
        return 1 if answered_at <= due else -1
    return -1 if now >= due else 0


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _waits(
    cells: dict[tuple[int, int | None], Cell],
    tickets: dict[int, tuple[int, int | None]],
    configs: dict[int, clocks.ClockConfig],
    messages: list[tuple[Any, ...]],
    start: float,
    end: float,
    now: datetime,
) -> None:
    """Walks each ticket's messages in order: (ticket, seconds since the epoch, inbound?,
    author), sorted by ticket, time and id."""
    current = None
    answered_before = False
    waiting: float | None = None
    first = False

    def close(ticket_id: int, answer: tuple[float, int | None] | None) -> None:
        assert waiting is not None
        if not start <= waiting < end:
            return
        store_id, assignee_id = tickets[ticket_id]
        config = configs[store_id]
        began = _moment(waiting)
        answered_at = author_id = None
        if answer is not None:
            answered_at, author_id = _moment(answer[0]), answer[1]
        cell = cells[(store_id, author_id if answer is not None else assignee_id)]
        cell.waits += 1
        outcome = _decided(answered_at, clocks.platform_due(began, config), now)
        cell.platform_met += outcome == 1
        cell.platform_missed += outcome == -1
        target = config.first_response if first else config.next_response
        if target is not None:
            team = _decided(answered_at, config.calendar.add(began, target), now)
            cell.team_met += team == 1
            cell.team_missed += team == -1
        if answer is not None:
            took = max(answer[0] - waiting, 0)
            cell.responses += 1
            cell.response_seconds += int(took)
            if first:
                cell.frt[frt_bucket(took)] += 1

    for ticket_id, at, inbound, author_id in messages:
        if ticket_id != current:
            if current is not None and waiting is not None:
                close(current, None)
            current, answered_before, waiting = ticket_id, False, None
        if inbound:
            if waiting is None:
                waiting, first = at, not answered_before
        else:
            if waiting is not None:
                close(ticket_id, (at, author_id))
                waiting = None
            answered_before = True
    if current is not None and waiting is not None:
        close(current, None)


def _active(tenant: Tenant, start: datetime, end: datetime) -> QuerySet[Conversation]:
    """Tickets that may have been written to in [start, end), through the activity index: a
    ticket written to that day was created before its end and active on or after its start."""
    return Conversation.objects.filter(
        tenant=tenant, last_message_at__gte=start, created_at__lt=end
    )


def _counted_messages(tenant: Tenant, start: datetime, end: datetime) -> list[tuple[Any, ...]]:
    """Every message that counts of the tickets a buyer wrote to in [start, end): buyer
    messages needing a reply and seller messages that reached the buyer, their whole history
    (what came before the day tells a first response apart), in order, one query. Times as
    seconds since the epoch: on PostgreSQL the database converts them (reading 100,000
    timestamps into datetimes took most of a 10,000-ticket day's rollup, bench/README.md)."""
    written_to = (
        Message.objects.filter(
            tenant=tenant,
            conversation__in=_active(tenant, start, end),
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .filter(NEEDS_REPLY)
        .values("conversation_id")
    )
    rows = (
        Message.objects.filter(conversation_id__in=written_to)
        .filter(
            NEEDS_REPLY | Q(direction=MessageDirection.OUTBOUND, delivery_status__in=REACHED_STATES)
        )
        .order_by("conversation_id", "sent_at", "id")
    )
    if connection.vendor == "postgresql":
        epoch = Cast(Extract("sent_at", "epoch"), FloatField())
        return [
            (ticket, at, direction == MessageDirection.INBOUND, author)
            for ticket, at, direction, author in rows.annotate(at=epoch).values_list(
                "conversation_id", "at", "direction", "author_id"
            )
        ]
    return [
        (ticket, at.timestamp(), direction == MessageDirection.INBOUND, author)
        for ticket, at, direction, author in rows.values_list(
            "conversation_id", "sent_at", "direction", "author_id"
        )
    ]


def _labelled_by_intent(
    tenant: Tenant, start: datetime, end: datetime
) -> list[tuple[int, str, int]]:
    """(ticket, intent, buyer messages) of the buyer messages counted as inbound volume in
    [start, end) that triage has labelled, counted by the database (one query)."""
    return list(
        Message.objects.filter(
            tenant=tenant,
            conversation__in=_active(tenant, start, end),
            sent_at__gte=start,
            sent_at__lt=end,
            triage_label__isnull=False,
        )
        .filter(NEEDS_REPLY)
        .values_list("conversation_id", "triage_label__intent")
        .annotate(messages=Count("pk"))
        .order_by()
    )


def rollup_day(*, tenant: Tenant, day: date, now: datetime | None = None) -> int:
    """Recomputes the organisation's rollup rows of `day`; returns how many were written."""
    now = now or timezone.now()
    zone = tenant_zone(tenant)
    start, end = day_bounds(day, zone)
    store_ids = list(Store.objects.filter(tenant=tenant).values_list("pk", flat=True))
    configs = clocks.clock_configs(store_ids)
    cells: dict[tuple[int, int | None], Cell] = defaultdict(Cell)

    messages = _counted_messages(tenant, start, end)
    # The same active tickets' store and assignee (a superset; 10,000 ids as parameters cost
    # more to send than these rows).
    tickets = {
        pk: (store_id, assignee_id)
        for pk, store_id, assignee_id in _active(tenant, start, end).values_list(
            "pk", "store_id", "assignee_id"
        )
    }
    first, last = start.timestamp(), end.timestamp()
    for ticket_id, at, inbound, _ in messages:
        if inbound and first <= at < last:
            cells[tickets[ticket_id]].inbound_by_hour[datetime.fromtimestamp(at, zone).hour] += 1
    for ticket_id, intent, count in _labelled_by_intent(tenant, start, end):
        by_intent = cells[tickets[ticket_id]].inbound_by_intent
        by_intent[intent] = by_intent.get(intent, 0) + count
    _waits(cells, tickets, configs, messages, first, last, now)

    for store_id, assignee_id, created_at, solved_at in Conversation.objects.filter(
        tenant=tenant, status=TicketStatus.SOLVED, solved_at__gte=start, solved_at__lt=end
    ).values_list("store_id", "assignee_id", "created_at", "solved_at"):
        cell = cells[(store_id, assignee_id)]
        cell.solved += 1
        cell.handle_histogram[handle_bucket((solved_at - created_at).total_seconds())] += 1

    rows = [
        cell.row(tenant=tenant, day=day, store_id=store_id, agent_id=agent_id, computed_at=now)
        for (store_id, agent_id), cell in cells.items()
    ]
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(tenant=tenant)
        DailyRollup.objects.filter(tenant=tenant, day=day).delete()
        DailyRollup.objects.bulk_create(rows, batch_size=1000)
        state.computed_at = now
        if state.first_day is None or day < state.first_day:
            state.first_day = day
        state.save()
    return len(rows)


def days_to_refresh(tenant: Tenant, *, today: date) -> list[date]:
    """Today and the days whose waits may still be undecided; the last FIRST_RUN_DAYS on an
    organisation's first run."""
    state = RollupState.objects.filter(tenant=tenant).first()
    if state is None or state.computed_at is None:
        back = FIRST_RUN_DAYS
    else:
        configs = clocks.clock_configs(
            Store.objects.filter(tenant=tenant).values_list("pk", flat=True)
        ).values()
        # A mailbox (e-mail) has no platform window: only the team's targets decide its waits.
        longest = max(
            (c.window for c in configs if c.window is not None), default=timedelta(hours=24)
        )
        back = max(RECENT_DAYS, longest.days + 2)
    return [today - timedelta(days=n) for n in range(back - 1, -1, -1)]


def rollup_recent(*, tenant: Tenant, now: datetime | None = None) -> int:
    """The task's work for one organisation: every day that may have changed."""
    now = now or timezone.now()
    today = now.astimezone(tenant_zone(tenant)).date()
    return sum(
        rollup_day(tenant=tenant, day=day, now=now) for day in days_to_refresh(tenant, today=today)
    )
