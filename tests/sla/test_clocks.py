"""Both clocks of a ticket as ingest, replies and status changes move them: TikTok's wall-clock
window by market (paused only by holiday mode) and the team's policy in business hours (paused
while Pending), across DST changes, holidays, reopening and breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox import services
from inbox.models import Conversation, TicketEvent, TicketEventKind, TicketStatus
from sla import clocks
from sla import services as sla_services
from sla.models import StoreClockSettings
from sla.tasks import refresh_store_clocks
from tests.sla.conftest import WEEKDAYS_9_TO_5, arrives

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday, 07:00 in New York


def ny(*args: int) -> datetime:
    """New York wall-clock time, as a UTC instant (so that adding hours adds elapsed time)."""
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


def fresh(ticket: Conversation) -> Conversation:
    return Conversation.objects.get(pk=ticket.pk)


def set_status(membership, ticket: Conversation, status: str) -> Conversation:
    services.ticket_set_status(membership=membership, conversation=ticket, status=status)
    return fresh(ticket)


# --- TikTok's clock ----------------------------------------------------------------------------


def test_tiktok_window_is_24_hours_in_the_us_and_12_in_south_east_asia(us_store, thai_store, clock):
    clock.set(T0 + timedelta(minutes=1))
    us = arrives(us_store, T0)
    thai = arrives(thai_store, T0, conversation_id="7106888323926000002")

    assert (us.reply_wait_since, us.platform_due_at, us.sla_due_at) == (
        T0,
        T0 + timedelta(hours=24),
        T0 + timedelta(hours=24),
    )
    assert thai.platform_due_at == T0 + timedelta(hours=12)
    # No policy: the team's clocks do not run.
    assert (us.sla_reply_due_at, us.sla_resolution_due_at) == (None, None)


def test_a_store_may_set_its_own_window(us_store, owner_membership, clock):
    clock.set(T0)
    sla_services.store_clock_settings_update(
        membership=owner_membership, store=us_store, time_zone="", reply_window_hours="6"
    )
    assert arrives(us_store, T0).platform_due_at == T0 + timedelta(hours=6)


def test_tiktok_clock_runs_on_the_wall_clock_through_nights_pending_and_dst(
    us_store, owner_membership, make_policy, clock
):
    make_policy(first_response_minutes=60, business_hours=WEEKDAYS_9_TO_5)
    StoreClockSettings.objects.create(
        store=us_store, tenant=us_store.tenant, time_zone="America/New_York"
    )
    # Saturday 2026-10-31 18:00 EDT; the clocks go back on Sunday at 02:00.
    written = ny(2026, 10, 31, 18, 0)
    clock.set(written + timedelta(minutes=1))
    ticket = arrives(us_store, written)
    assert ticket.platform_due_at == written + timedelta(hours=24)
    assert ticket.platform_due_at.astimezone(NEW_YORK) == ny(2026, 11, 1, 17, 0)  # EST now
    # The team's first response: Monday 10:00 EST (closed on the weekend).
    assert ticket.sla_reply_due_at == ny(2026, 11, 2, 10, 0)
    assert ticket.sla_due_at == ticket.platform_due_at

    clock.set(written + timedelta(hours=1))
    pending = set_status(owner_membership, ticket, TicketStatus.PENDING)
    assert pending.platform_due_at == written + timedelta(hours=24)  # Pending does not stop it
    assert (pending.sla_reply_due_at, pending.sla_paused_at) == (None, clock.now)
    assert pending.sla_due_at == written + timedelta(hours=24)


def test_holiday_mode_pauses_tiktoks_clock_only(us_store, owner_membership, make_policy, clock):
    make_policy(first_response_minutes=120)
    clock.set(T0)
    ticket = arrives(us_store, T0)
    assert (ticket.platform_due_at, ticket.sla_reply_due_at) == (
        T0 + timedelta(hours=24),
        T0 + timedelta(hours=2),
    )

    # Holiday mode from T0+2h, open ended: TikTok's clock stands still.
    clock.set(T0 + timedelta(hours=2))
    sla_services.store_holiday_mode_set(
        membership=owner_membership, store=us_store, starts_at=clock.now, ends_at=None
    )
    refresh_store_clocks(us_store.pk)  # the task the change enqueued after commit
    on_holiday = fresh(ticket)
    assert on_holiday.platform_due_at is None
    assert on_holiday.sla_reply_due_at == T0 + timedelta(hours=2)  # the team's is not paused
    assert on_holiday.sla_due_at == T0 + timedelta(hours=2)

    # Switched off five hours later: the window closes five hours later than it would have.
    clock.set(T0 + timedelta(hours=7))
    sla_services.store_holiday_mode_set(
        membership=owner_membership,
        store=us_store,
        starts_at=T0 + timedelta(hours=2),
        ends_at=clock.now,
    )
    refresh_store_clocks(us_store.pk)
    assert fresh(ticket).platform_due_at == T0 + timedelta(hours=29)

    # A buyer who writes during a planned holiday: the window opens when it ends.
    clock.set(T0 + timedelta(days=3))
    sla_services.store_holiday_mode_set(
        membership=owner_membership,
        store=us_store,
        starts_at=T0 + timedelta(days=3),
        ends_at=T0 + timedelta(days=5),
    )
    later = arrives(us_store, T0 + timedelta(days=4), conversation_id="7106888323926000009")
    assert later.platform_due_at == T0 + timedelta(days=6)


def test_a_seller_reply_from_outside_sellerdesk_stops_both_clocks(us_store, make_policy, clock):
    make_policy(first_response_minutes=60, next_response_minutes=30)
    clock.set(T0)
    arrives(us_store, T0)
    clock.set(T0 + timedelta(minutes=40))
    answered = arrives(us_store, T0 + timedelta(minutes=40), role="SHOP")
    assert (answered.reply_wait_since, answered.platform_due_at, answered.sla_reply_due_at) == (
        None,
        None,
        None,
    )
    assert answered.first_response_at == T0 + timedelta(minutes=40)
    assert answered.sla_due_at is None

    # The buyer writes again: the next-response target applies now.
    clock.set(T0 + timedelta(hours=2))
    again = arrives(us_store, T0 + timedelta(hours=2))
    assert (again.reply_wait_since, again.sla_reply_due_at) == (
        T0 + timedelta(hours=2),
        T0 + timedelta(hours=2, minutes=30),
    )
    assert again.first_response_at == T0 + timedelta(minutes=40)


def test_only_the_oldest_unanswered_message_counts(us_store, clock):
    clock.set(T0 + timedelta(hours=1))
    arrives(us_store, T0)
    ticket = arrives(us_store, T0 + timedelta(hours=1))
    assert (ticket.reply_wait_since, ticket.platform_due_at) == (T0, T0 + timedelta(hours=24))


# --- The team's clock ---------------------------------------------------------------------------


def test_first_response_counts_business_hours_of_the_store_zone_and_skips_holidays(
    us_store, make_policy, clock
):
    make_policy(
        first_response_minutes=4 * 60,
        resolution_minutes=16 * 60,
        business_hours=WEEKDAYS_9_TO_5,
        holidays=["2026-11-16"],
    )
    StoreClockSettings.objects.create(
        store=us_store, tenant=us_store.tenant, time_zone="America/New_York"
    )
    written = ny(2026, 11, 13, 16, 30)  # Friday; Monday 16th is a holiday
    clock.set(written)
    ticket = arrives(us_store, written)
    assert ticket.sla_reply_due_at == ny(2026, 11, 17, 12, 30)
    # 16 business hours: 30 min Friday, 8 h Tuesday, 7.5 h Wednesday.
    assert ticket.sla_resolution_due_at == ny(2026, 11, 18, 16, 30)
    assert ticket.platform_due_at == written + timedelta(hours=24)


def test_a_store_policy_wins_over_the_policy_for_all_stores(
    us_store, thai_store, make_policy, clock
):
    make_policy(name="Everyone", first_response_minutes=120)
    make_policy(name="Thailand", store=thai_store, first_response_minutes=30)
    clock.set(T0)
    assert arrives(us_store, T0).sla_reply_due_at == T0 + timedelta(hours=2)
    thai = arrives(thai_store, T0, conversation_id="7106888323926000002")
    assert thai.sla_reply_due_at == T0 + timedelta(minutes=30)


def test_pending_pauses_the_team_clock_by_the_business_time_spent_pending(
    us_store, owner_membership, make_policy, clock
):
    make_policy(
        first_response_minutes=120, resolution_minutes=8 * 60, business_hours=WEEKDAYS_9_TO_5
    )
    StoreClockSettings.objects.create(
        store=us_store, tenant=us_store.tenant, time_zone="America/New_York"
    )
    written = ny(2026, 11, 13, 15, 0)  # Friday 15:00
    clock.set(written)
    ticket = arrives(us_store, written)
    assert ticket.sla_reply_due_at == ny(2026, 11, 13, 17, 0)

    clock.set(ny(2026, 11, 13, 16, 0))  # an hour used, Pending over the weekend
    ticket = set_status(owner_membership, ticket, TicketStatus.PENDING)
    assert (ticket.sla_reply_due_at, ticket.sla_resolution_due_at) == (None, None)
    assert ticket.sla_due_at == written + timedelta(hours=24)  # TikTok's still runs

    clock.set(ny(2026, 11, 16, 10, 0))  # Open again Monday 10:00: 1 business hour spent Pending
    ticket = set_status(owner_membership, ticket, TicketStatus.OPEN)
    assert (ticket.sla_reply_paused_seconds, ticket.sla_resolution_paused_seconds) == (
        2 * 3600,
        2 * 3600,
    )
    assert ticket.sla_paused_at is None
    # One hour of the two remained: due at 11:00; resolution 8 h - 1 h used = 7 h from 10:00.
    assert ticket.sla_reply_due_at == ny(2026, 11, 16, 11, 0)
    assert ticket.sla_resolution_due_at == ny(2026, 11, 16, 17, 0)


def test_a_buyer_who_writes_on_a_pending_ticket_reopens_it_and_the_clock_resumes(
    us_store, owner_membership, make_policy, clock
):
    make_policy(first_response_minutes=60)
    clock.set(T0)
    ticket = arrives(us_store, T0)
    clock.set(T0 + timedelta(minutes=10))
    set_status(owner_membership, ticket, TicketStatus.PENDING)
    clock.set(T0 + timedelta(minutes=40))
    reopened = arrives(us_store, T0 + timedelta(minutes=39))
    assert reopened.status == TicketStatus.OPEN
    # Still the first message's clock, 30 paused minutes later.
    assert reopened.reply_wait_since == T0
    assert reopened.sla_reply_due_at == T0 + timedelta(minutes=90)


def test_solving_stops_the_team_clocks_and_a_reopen_starts_a_new_resolution_clock(
    us_store, owner_membership, make_policy, clock
):
    make_policy(first_response_minutes=60, next_response_minutes=30, resolution_minutes=240)
    clock.set(T0)
    arrives(us_store, T0)
    clock.set(T0 + timedelta(minutes=20))
    ticket = arrives(us_store, T0 + timedelta(minutes=20), role="SHOP")
    assert ticket.sla_resolution_due_at == T0 + timedelta(hours=4)

    clock.set(T0 + timedelta(minutes=30))
    solved = set_status(owner_membership, ticket, TicketStatus.SOLVED)
    assert (solved.sla_resolution_started_at, solved.sla_resolution_due_at, solved.sla_due_at) == (
        None,
        None,
        None,
    )

    clock.set(T0 + timedelta(days=2))
    reopened = arrives(us_store, T0 + timedelta(days=2) - timedelta(seconds=5))
    assert reopened.status == TicketStatus.OPEN
    assert reopened.sla_resolution_started_at == clock.now
    assert reopened.sla_resolution_due_at == clock.now + timedelta(hours=4)
    # A reply reached the buyer before: the next-response target, from the new message.
    assert reopened.sla_reply_due_at == T0 + timedelta(days=2, minutes=30, seconds=-5)
    assert reopened.platform_due_at == T0 + timedelta(days=3, seconds=-5)


def test_an_agent_reopening_a_solved_ticket_starts_its_resolution_clock(
    us_store, owner_membership, make_policy, clock
):
    make_policy(resolution_minutes=60)
    clock.set(T0)
    ticket = set_status(owner_membership, arrives(us_store, T0), TicketStatus.SOLVED)
    clock.set(T0 + timedelta(hours=5))
    reopened = set_status(owner_membership, ticket, TicketStatus.OPEN)
    assert (reopened.sla_resolution_started_at, reopened.sla_resolution_due_at) == (
        clock.now,
        clock.now + timedelta(hours=1),
    )


# --- Missed targets -------------------------------------------------------------------------------


def test_missed_targets_become_history_entries_once(us_store, make_policy, clock, other_tenant):
    make_policy(first_response_minutes=60)
    clock.set(T0)
    ticket = arrives(us_store, T0)
    assert ticket.sla_check_at == T0 + timedelta(hours=1)

    clock.set(T0 + timedelta(minutes=59))
    assert sla_services.breaches_record() == 0
    clock.set(T0 + timedelta(hours=2))
    assert sla_services.breaches_record() == 1
    assert sla_services.breaches_record() == 0  # recorded once

    ticket = fresh(ticket)
    event = TicketEvent.objects.get(conversation=ticket, kind=TicketEventKind.SLA_BREACH)
    assert event.body == "First response target of “Standard” missed."
    assert event.data == {
        "clock": "first_response",
        "due_at": (T0 + timedelta(hours=1)).isoformat(),
        "policy": "Standard",
    }
    assert ticket.sla_breached == clocks.BREACH_REPLY
    assert ticket.sla_check_at == T0 + timedelta(hours=24)  # TikTok's is next
    assert ticket.sla_due_at == T0 + timedelta(hours=1)  # still overdue, still in the folder

    clock.set(T0 + timedelta(hours=25))
    assert sla_services.breaches_record() == 1
    platform = TicketEvent.objects.filter(kind=TicketEventKind.SLA_BREACH).latest("id")
    assert platform.body == (
        "TikTok Shop's 24 h reply window was missed: the buyer has not had a reply in time."
    )
    assert fresh(ticket).sla_check_at is None
    assert fresh(ticket).sla_breached == clocks.BREACH_REPLY | clocks.BREACH_PLATFORM
