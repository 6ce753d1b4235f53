"""Writes about service levels: tickets' clocks when a reply reaches the buyer, missed targets
recorded in the ticket's history, SLA policies, and each store's reply window, time zone and
holiday mode.

The clock arithmetic is `sla.clocks`; this module decides when it runs and saves what it changed.
Policy and store changes move the clocks of the tickets already running, in a task
(`sla.refresh_store_clocks`) after commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.db import rows_update
from inbox.ingest import NEEDS_REPLY
from inbox.models import Conversation, Message, TicketEvent, TicketEventKind
from marketplaces.models import Store
from tenants.models import Membership, Role

from . import clocks
from .calendar import CalendarError, clean_holidays, clean_week, zone_named
from .models import SLAPolicy, StoreClockSettings, market_window_hours

logger = logging.getLogger(__name__)

# The longest target or window a person may set (a year), and the largest TikTok window.
MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_WINDOW_HOURS = 24 * 14
REFRESH_BATCH = 500
DUE_FIELDS = (
    "platform_due_at",
    "sla_reply_due_at",
    "sla_resolution_due_at",
    "sla_due_at",
    "sla_check_at",
)
BREACH_BATCH = 500


class SLASettingsInvalidError(Exception):
    """Settings that cannot be saved; `errors` maps form fields to messages for the person."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(message for messages in errors.values() for message in messages))
        self.errors = errors


# --- Tickets ----------------------------------------------------------------------------------


def ticket_lock(conversation_id: int) -> Conversation:
    """The ticket, row-locked until commit. Take it before touching its messages' platform ids:
    ingest locks the ticket first and then inserts messages, and the same order everywhere is
    what keeps the two from deadlocking."""
    return Conversation.objects.select_for_update().get(pk=conversation_id)


def ticket_reply_reached(
    *, conversation: Conversation, reply_created_at: datetime, reached_at: datetime
) -> set[str]:
    """A reply written at `reply_created_at` reached the buyer at `reached_at` (the sender marked
    it sent): both reply clocks stop, and start again from the buyer's oldest message written
    after the reply, if any. Call in the transaction that marks the reply sent, on the locked
    ticket. Returns the fields saved."""
    # Platform times are whole seconds: a buyer message of the reply's own second may have been
    # written after it, so it is taken as still waiting (the clock runs on rather than stop).
    waiting_after = (
        Message.objects.filter(
            conversation_id=conversation.pk, sent_at__gte=reply_created_at.replace(microsecond=0)
        )
        .filter(NEEDS_REPLY)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    changed = clocks.ticket_moved(
        conversation,
        clocks.clock_config(conversation.store_id),
        now=timezone.now(),
        reached=(reached_at, waiting_after),
    )
    if changed:
        Conversation.objects.filter(pk=conversation.pk).update(
            **clocks.changed_values(conversation, changed), updated_at=timezone.now()
        )
    return changed


@dataclass(frozen=True)
class Breach:
    clock: str  # "platform", "first_response", "next_response", "resolution"
    due_at: datetime
    sentence: str


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{round(seconds / 60)} min"


def _breaches(ticket: Conversation, config: clocks.ClockConfig, now: datetime) -> list[Breach]:
    """The clocks of `ticket` past due at `now` whose breach is not recorded yet."""
    reply, _ = clocks.reply_target(ticket, config)
    window = _hours(config.window.total_seconds()) if config.window is not None else ""
    policy = config.policy_name
    running = (
        (
            "platform",
            ticket.platform_due_at,
            f"TikTok Shop's {window} reply window was missed: the buyer has not had a reply in "
            "time.",
        ),
        (
            reply,
            ticket.sla_reply_due_at,
            f"{'First' if reply == 'first_response' else 'Next'} response target of “{policy}” "
            "missed.",
        ),
        ("resolution", ticket.sla_resolution_due_at, f"Resolution target of “{policy}” missed."),
    )
    return [
        Breach(clock, due, sentence)
        for clock, due, sentence in running
        if due is not None and due <= now and not ticket.sla_breached & BREACH_BITS[clock]
    ]


BREACH_BITS = {
    "platform": clocks.BREACH_PLATFORM,
    "first_response": clocks.BREACH_REPLY,
    "next_response": clocks.BREACH_REPLY,
    "resolution": clocks.BREACH_RESOLUTION,
}


def breaches_record(*, now: datetime | None = None, batch: int = BREACH_BATCH) -> int:
    """The sweeper (beat, every minute): each clock that passed its due time without being
    recorded yet becomes one "Service level missed" entry in the ticket's history and a
    `ticket.sla_breached` outbound webhook event, a batch of tickets per transaction. Tickets
    another transaction holds are left for the next sweep (SKIP LOCKED), so ingest never waits
    for it. Returns the entries written."""
    now = now or timezone.now()
    total = 0
    for _ in range(100):  # a bound, should a ticket's next check ever fail to move forward
        tickets, written = _breaches_batch(now, batch)
        total += written
        if tickets < batch:
            break
    return total


def _breaches_batch(now: datetime, limit: int) -> tuple[int, int]:
    with transaction.atomic():
        tickets = list(
            Conversation.objects.select_for_update(skip_locked=True)
            .filter(sla_check_at__lte=now)
            .order_by("sla_check_at")[:limit]
        )
        if not tickets:
            return 0, 0
        configs = clocks.clock_configs(ticket.store_id for ticket in tickets)
        events: list[TicketEvent] = []
        for ticket in tickets:
            config = configs[ticket.store_id]
            for breach in _breaches(ticket, config, now):
                ticket.sla_breached |= BREACH_BITS[breach.clock]
                events.append(
                    TicketEvent(
                        tenant_id=ticket.tenant_id,
                        conversation=ticket,
                        kind=TicketEventKind.SLA_BREACH,
                        body=breach.sentence,
                        data={
                            "clock": breach.clock,
                            "due_at": breach.due_at.isoformat(),
                            "policy": config.policy_name if breach.clock != "platform" else "",
                        },
                        created_at=now,
                    )
                )
            clocks.ticket_moved(ticket, config, now=now)  # the next check, past what is recorded
            ticket.updated_at = now
        TicketEvent.objects.bulk_create(events)
        rows_update(
            Conversation.objects.all(), tickets, [*DUE_FIELDS, "sla_breached", "updated_at"]
        )
        _breaches_announce(events)
    return len(tickets), len(events)


def _breaches_announce(events: list[TicketEvent]) -> None:
    """One `ticket.sla_breached` webhook event per missed clock, in the sweep's transaction
    (the outbox); the ticket as the API shows it, read after its breach bits were saved."""
    from inbox.events import ticket_objects
    from integrations.events import emit_many

    by_tenant: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in events:
        by_tenant[event.tenant_id].append(event)
    for tenant_id, missed in by_tenant.items():
        emit_many(
            tenant_id=tenant_id,
            event="ticket.sla_breached",
            subjects=lambda missed=missed: ticket_objects([e.conversation_id for e in missed]),
            changed=[{"sla_breach": event.data} for event in missed],
        )


def store_clocks_refresh(*, store_id: int, after_pk: int = 0, batch: int = REFRESH_BATCH) -> int:
    """Recomputes the running clocks of a store's tickets after its policy, window, time zone or
    holiday mode changed; one batch of tickets after `after_pk`. Returns the last pk done (0:
    finished). Only due times move: starts, pauses and recorded breaches stay."""
    config = clocks.clock_config(store_id)
    with transaction.atomic():
        tickets = list(
            Conversation.objects.select_for_update()
            .filter(store_id=store_id, pk__gt=after_pk)
            .filter(
                Q(reply_wait_since__isnull=False)
                | Q(sla_resolution_started_at__isnull=False)
                | Q(sla_due_at__isnull=False)
            )
            .order_by("pk")[:batch]
        )
        now = timezone.now()
        moved = []
        for ticket in tickets:
            if clocks.ticket_moved(ticket, config, now=now):
                ticket.updated_at = now
                moved.append(ticket)
        rows_update(Conversation.objects.all(), moved, [*DUE_FIELDS, "updated_at"])
    return tickets[-1].pk if len(tickets) == batch else 0


def _refresh_after_commit(store_ids: Sequence[int]) -> None:
    def enqueue() -> None:
        from .tasks import refresh_store_clocks

        for store_id in store_ids:
            try:
                refresh_store_clocks.delay(store_id)
            except Exception:
                # New clocks follow the change at once; running ones at the next refresh.
                logger.exception("Could not enqueue the clock refresh of store %s", store_id)

    transaction.on_commit(enqueue)


# --- Policies ---------------------------------------------------------------------------------


def _require_admin(membership: Membership) -> None:
    if not membership.has_role(Role.ADMIN):
        raise PermissionDenied("Only owners and admins can change service levels.")


def _target(errors: dict[str, list[str]], field: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append("Give the target in whole minutes.")
        return None
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        errors.setdefault(field, []).append(
            f"A target is between 1 minute and {MAX_TARGET_MINUTES // (24 * 60)} days."
        )
        return None
    return minutes


@dataclass
class PolicyInput:
    name: str
    store: Store | None
    first_response_minutes: Any = None
    next_response_minutes: Any = None
    resolution_minutes: Any = None
    business_hours: Sequence[Sequence[Sequence[str]]] | None = None  # None: around the clock
    holidays: Sequence[str] = ()


def _policy_checked(membership: Membership, data: PolicyInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["Give the policy a name."]
    elif len(name) > 120:
        errors["name"] = ["A name is limited to 120 characters."]
    if data.store is not None and data.store.tenant_id != membership.tenant_id:
        raise PermissionDenied("No such store.")
    values: dict[str, Any] = {
        "name": name,
        "store": data.store,
        "first_response_minutes": _target(
            errors, "first_response_minutes", data.first_response_minutes
        ),
        "next_response_minutes": _target(
            errors, "next_response_minutes", data.next_response_minutes
        ),
        "resolution_minutes": _target(errors, "resolution_minutes", data.resolution_minutes),
    }
    if not errors and all(
        values[key] is None
        for key in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    ):
        errors["__all__"] = [
            "Set at least one target: first response, next response or resolution."
        ]
    if data.business_hours is None:
        values["business_hours"] = None
    else:
        try:
            week = clean_week(data.business_hours)
            if not any(week):
                raise CalendarError(
                    "Business hours are empty: open at least one range in the week, or choose "
                    "“around the clock”."
                )
            values["business_hours"] = week
        except CalendarError as error:
            errors["business_hours"] = [str(error)]
    try:
        values["holidays"] = clean_holidays(data.holidays)
    except CalendarError as error:
        errors["holidays"] = [str(error)]
    if errors:
        raise SLASettingsInvalidError(errors)
    return values


def _store_taken(membership: Membership, store: Store | None, current: SLAPolicy | None) -> str:
    taken = SLAPolicy.objects.filter(tenant_id=membership.tenant_id, store=store)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if not taken.exists():
        return ""
    return (
        f"{store.name} already has a policy: edit that one."
        if store is not None
        else "There is already a policy for all stores: edit that one."
    )


def _affected_stores(membership: Membership, *stores: Store | None) -> list[int]:
    """Stores whose clocks a policy change moves: its store, or every store of the tenant."""
    if any(store is None for store in stores):
        return list(
            Store.objects.filter(tenant_id=membership.tenant_id).values_list("pk", flat=True)
        )
    return sorted({store.pk for store in stores if store is not None})


def policy_create(*, membership: Membership, data: PolicyInput) -> SLAPolicy:
    _require_admin(membership)
    values = _policy_checked(membership, data)
    problem = _store_taken(membership, values["store"], None)
    if problem:
        raise SLASettingsInvalidError({"store": [problem]})
    try:
        with transaction.atomic():
            policy = SLAPolicy.objects.create(tenant_id=membership.tenant_id, **values)
            _refresh_after_commit(_affected_stores(membership, policy.store))
    except IntegrityError as error:  # a teammate saved one for that store meanwhile
        raise SLASettingsInvalidError(
            {"store": [_store_taken(membership, values["store"], None) or "Already taken."]}
        ) from error
    return policy


def _own_policy(membership: Membership, policy: SLAPolicy) -> None:
    if policy.tenant_id != membership.tenant_id:
        raise PermissionDenied("No such policy.")


def policy_update(*, membership: Membership, policy: SLAPolicy, data: PolicyInput) -> SLAPolicy:
    _require_admin(membership)
    _own_policy(membership, policy)
    values = _policy_checked(membership, data)
    problem = _store_taken(membership, values["store"], policy)
    if problem:
        raise SLASettingsInvalidError({"store": [problem]})
    before = policy.store
    try:
        with transaction.atomic():
            SLAPolicy.objects.filter(pk=policy.pk).update(**values, updated_at=timezone.now())
            _refresh_after_commit(_affected_stores(membership, before, values["store"]))
    except IntegrityError as error:
        raise SLASettingsInvalidError({"store": ["Another policy took that store."]}) from error
    policy.refresh_from_db()
    return policy


def policy_delete(*, membership: Membership, policy: SLAPolicy) -> None:
    _require_admin(membership)
    _own_policy(membership, policy)
    with transaction.atomic():
        SLAPolicy.objects.filter(pk=policy.pk, tenant_id=membership.tenant_id).delete()
        _refresh_after_commit(_affected_stores(membership, policy.store))


# --- A store's clock settings -----------------------------------------------------------------


def _settings_row(store: Store) -> StoreClockSettings:
    row, _ = StoreClockSettings.objects.select_for_update().get_or_create(
        store=store, defaults={"tenant_id": store.tenant_id}
    )
    return row


def _own_store(membership: Membership, store: Store) -> None:
    if store.tenant_id != membership.tenant_id:
        raise PermissionDenied("No such store.")


def store_clock_settings_update(
    *, membership: Membership, store: Store, time_zone: str, reply_window_hours: Any
) -> StoreClockSettings:
    """A store's time zone ("" = the organisation's) and TikTok reply window (empty = the
    market's: 24 h US, 12 h South-East Asia)."""
    _require_admin(membership)
    _own_store(membership, store)
    errors: dict[str, list[str]] = {}
    zone = (time_zone or "").strip()
    if zone:
        try:
            zone_named(zone)
        except CalendarError as error:
            errors["time_zone"] = [str(error)]
    hours: int | None = None
    if reply_window_hours not in (None, ""):
        try:
            hours = int(reply_window_hours)
        except (TypeError, ValueError):
            hours = -1
        if not 1 <= hours <= MAX_WINDOW_HOURS:
            errors["reply_window_hours"] = [
                f"Give the reply window in whole hours, 1 to {MAX_WINDOW_HOURS} "
                f"(empty: the market's, {market_window_hours(store.region)} h)."
            ]
    if errors:
        raise SLASettingsInvalidError(errors)
    with transaction.atomic():
        row = _settings_row(store)
        row.time_zone, row.reply_window_hours = zone, hours
        row.save()
        _refresh_after_commit([store.pk])
    return row


def store_holiday_mode_set(
    *,
    membership: Membership,
    store: Store,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> StoreClockSettings:
    """Holiday mode from `starts_at` (None: off) until `ends_at` (None: until switched off).
    TikTok's clock does not run while it is on; the team's clock follows business hours."""
    _require_admin(membership)
    _own_store(membership, store)
    if starts_at is None and ends_at is not None:
        raise SLASettingsInvalidError({"holiday_from": ["Give the day holiday mode starts."]})
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise SLASettingsInvalidError({"holiday_until": ["Holiday mode must end after it starts."]})
    with transaction.atomic():
        row = _settings_row(store)
        row.holiday_from, row.holiday_until = starts_at, ends_at
        row.save()
        _refresh_after_commit([store.pk])
    return row
