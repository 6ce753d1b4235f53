"""Daily rollups against a direct count of the same messages, and the report tables summed from
them.

The direct count is written differently on purpose: for every buyer message it asks "does it
start a wait?" by looking back over the ticket's messages, and "what answered it?" by looking
forward, instead of the rollup's single walk."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from inbox.models import DeliveryStatus, Message, MessageDirection, TicketStatus
from marketplaces.selectors import stores_visible_to
from sla.models import DailyRollup, RollupState
from sla.reports import rollup
from sla.reports.figures import ReportFilters, report
from sla.reports.params import agent_names
from tenants.models import Membership
from tests.factories import MembershipFactory
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreFactory

DAY = date(2026, 11, 2)  # a Monday
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
WINDOW = {"US": timedelta(hours=24), "TH": timedelta(hours=12)}


@pytest.fixture
def world(tenant, owner, make_policy):
    """Two stores (US 24 h, TH 12 h), two agents, 40 tickets of random conversations over
    three days: buyer messages, replies from each agent, replies from Seller Center, replies
    that failed or are still queued, notes-free. Seeded: the same every run."""
    tenant.time_zone = "America/New_York"
    tenant.save()
    us = StoreFactory(tenant=tenant, name="Sunrise US", region="US")
    th = StoreFactory(tenant=tenant, name="Sunrise TH", region="TH")
    make_policy(first_response_minutes=120, next_response_minutes=240)
    agents = [owner, MembershipFactory(tenant=tenant, user__first_name="Ana").user]
    rng = random.Random(13)
    start = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    for n in range(40):
        store = us if n % 2 else th
        created = start + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        ticket = ConversationFactory(
            store=store,
            tenant=tenant,
            created_at=created,
            last_message_at=NOW,
            assignee=agents[n % 3] if n % 3 < 2 else None,
            status=TicketStatus.SOLVED if n % 4 == 0 else TicketStatus.OPEN,
            solved_at=created + timedelta(minutes=rng.randrange(1, 3000)) if n % 4 == 0 else None,
        )
        at = created
        for _ in range(rng.randrange(1, 7)):
            at += timedelta(minutes=rng.choice([1, 30, 90, 200, 700, 1000, 1600]))
            kind = rng.random()
            if kind < 0.55:
                MessageFactory(conversation=ticket, sent_at=at, created_at=at)
            elif kind < 0.62:  # a buyer entering from an order: nothing to answer
                MessageFactory(
                    conversation=ticket, sent_at=at, created_at=at, type="BUYER_ENTER_FROM_ORDER"
                )
            elif kind < 0.85:
                OutboxMessageFactory(
                    conversation=ticket,
                    sent_at=at,
                    created_at=at,
                    author=rng.choice(agents),
                    delivery_status=DeliveryStatus.SENT,
                    external_id=f"7501{n:04d}{at:%H%M%S%f}",
                )
            elif kind < 0.93:  # from Seller Center: reaches the buyer, no author of ours
                MessageFactory(
                    conversation=ticket,
                    sent_at=at,
                    created_at=at,
                    direction=MessageDirection.OUTBOUND,
                    sender_role="CUSTOMER_SERVICE",
                )
            else:
                OutboxMessageFactory(
                    conversation=ticket,
                    sent_at=at,
                    created_at=at,
                    author=agents[0],
                    delivery_status=rng.choice([DeliveryStatus.FAILED, DeliveryStatus.QUEUED]),
                )
    return {"us": us, "th": th, "agents": agents}


def direct_count(tenant, day: date, now: datetime) -> Counter:
    zone = rollup.tenant_zone(tenant)
    begin, end = rollup.day_bounds(day, zone)
    policy_first, policy_next = timedelta(minutes=120), timedelta(minutes=240)
    totals: Counter = Counter()
    messages = list(Message.objects.filter(tenant=tenant).select_related("conversation__store"))

    def buyer(m: Message) -> bool:
        return m.direction == MessageDirection.INBOUND and m.type != "BUYER_ENTER_FROM_ORDER"

    def reached(m: Message) -> bool:
        return m.direction == MessageDirection.OUTBOUND and m.delivery_status in ("", "sent")

    for m in messages:
        if not buyer(m) or not begin <= m.sent_at < end:
            continue
        same = sorted(
            (x for x in messages if x.conversation_id == m.conversation_id),
            key=lambda x: (x.sent_at, x.pk),
        )
        before = [
            x for x in same if (x.sent_at, x.pk) < (m.sent_at, m.pk) and (buyer(x) or reached(x))
        ]
        if before and buyer(before[-1]):
            continue  # the buyer was already waiting
        answers = [x for x in same if (x.sent_at, x.pk) > (m.sent_at, m.pk) and reached(x)]
        answer = answers[0] if answers else None
        first = not any(reached(x) for x in before)
        totals["waits"] += 1
        window = WINDOW[m.conversation.store.region]
        due = m.sent_at + window
        if answer is not None and answer.sent_at <= due:
            totals["platform_met"] += 1
        elif answer is not None or now >= due:
            totals["platform_missed"] += 1
        team_due = m.sent_at + (policy_first if first else policy_next)  # around the clock
        if answer is not None and answer.sent_at <= team_due:
            totals["team_met"] += 1
        elif answer is not None or now >= team_due:
            totals["team_missed"] += 1
        if answer is not None and first:
            hours = (answer.sent_at - m.sent_at).total_seconds() / 3600
            bucket = 0 if hours <= 2 else 1 if hours <= 12 else 2 if hours <= 24 else 3
            totals[f"frt{bucket}"] += 1
        agent = answer.author_id if answer is not None else m.conversation.assignee_id
        totals[f"agent{agent}"] += 1
    return totals


def summed(tenant, day: date) -> Counter:
    totals: Counter = Counter()
    for row in DailyRollup.objects.filter(tenant=tenant, day=day):
        for name in ("waits", "platform_met", "platform_missed", "team_met", "team_missed"):
            totals[name] += getattr(row, name)
        for index, name in enumerate(("frt_under_2h", "frt_2_12h", "frt_12_24h", "frt_over_24h")):
            totals[f"frt{index}"] += getattr(row, name)
        totals[f"agent{row.agent_id}"] += row.waits
    return +totals


def test_rollups_equal_a_direct_count_of_the_same_messages(tenant, world):
    days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]
    for day in days:
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
    for day in days:
        expected = +direct_count(tenant, day, NOW)
        assert summed(tenant, day) == expected, day
    # The data is rich enough to tell the outcomes apart.
    everything = sum((summed(tenant, day) for day in days), Counter())
    assert everything["waits"] >= 30
    assert everything["platform_missed"] > 0 and everything["platform_met"] > 0
    assert everything["team_missed"] > 0 and everything["team_met"] > 0
    assert everything["frt0"] > 0 and everything["frt3"] + everything["frt2"] > 0


def test_inbound_volume_and_solved_tickets_are_counted_by_local_hour_and_day(tenant, world):
    zone = rollup.tenant_zone(tenant)
    rollup.rollup_day(tenant=tenant, day=DAY, now=NOW)
    begin, end = rollup.day_bounds(DAY, zone)
    hours = Counter(
        m.sent_at.astimezone(zone).hour
        for m in Message.objects.filter(
            tenant=tenant,
            direction=MessageDirection.INBOUND,
            sent_at__gte=begin,
            sent_at__lt=end,
        ).exclude(type="BUYER_ENTER_FROM_ORDER")
    )
    got: Counter = Counter()
    solved = 0
    for row in DailyRollup.objects.filter(tenant=tenant, day=DAY):
        for hour, count in enumerate(row.inbound_by_hour):
            got[hour] += count
        solved += row.solved
    assert +got == hours
    assert solved == sum(
        1
        for t in tenant_tickets(tenant)
        if t.status == TicketStatus.SOLVED and begin <= t.solved_at < end
    )


def tenant_tickets(tenant):
    from inbox.models import Conversation

    return Conversation.objects.filter(tenant=tenant)


def test_recomputing_a_day_replaces_its_rows(tenant, world):
    rollup.rollup_day(tenant=tenant, day=DAY, now=NOW)
    first = Counter(
        DailyRollup.objects.filter(tenant=tenant).values_list("store_id", "agent_id", "waits")
    )
    assert first
    rollup.rollup_day(tenant=tenant, day=DAY, now=NOW)
    assert (
        Counter(
            DailyRollup.objects.filter(tenant=tenant).values_list("store_id", "agent_id", "waits")
        )
        == first
    )
    assert RollupState.objects.get(tenant=tenant).computed_at == NOW


def test_the_report_sums_the_rollups_of_the_range(tenant, owner, world):
    days = [DAY + timedelta(days=n) for n in range(3)]
    for day in days:
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
    membership = Membership.objects.get(user=owner, tenant=tenant)
    built = report(
        tenant=tenant,
        membership=membership,
        filters=ReportFilters(
            date_from=days[0], date_to=days[-1], stores=tuple(stores_visible_to(membership))
        ),
        agents=agent_names(tenant),
    )
    expected = sum((direct_count(tenant, day, NOW) for day in days), Counter())
    rate = built.tables["response-rate"].rows
    assert sum(row[2] for row in rate) == expected["platform_met"]
    assert sum(row[3] for row in rate) == expected["platform_missed"]
    assert [row[1] for row in built.tables["first-response"].rows] == [
        expected[f"frt{n}"] for n in range(4)
    ]
    attainment = built.tables["attainment"].rows
    assert sum(row[2] for row in attainment) == expected["team_met"]
    assert sum(row[3] for row in attainment) == expected["team_missed"]
    # Each row's rate is its own met / (met + missed), with its market's target.
    for row in rate:
        assert row[4] == round(100 * row[2] / (row[2] + row[3]), 1)
        assert row[5] == (85 if row[1] == "Sunrise TH" else 90)


def test_another_organisations_messages_never_reach_the_rollups(tenant, other_tenant, world):
    store = StoreFactory(tenant=other_tenant)
    ticket = ConversationFactory(store=store, tenant=other_tenant, last_message_at=NOW)
    MessageFactory(conversation=ticket, sent_at=datetime(2026, 11, 2, 15, tzinfo=UTC))
    rollup.rollup_day(tenant=tenant, day=DAY, now=NOW)
    assert not DailyRollup.objects.filter(store=store).exists()
    rollup.rollup_day(tenant=other_tenant, day=DAY, now=NOW)
    assert DailyRollup.objects.get(tenant=other_tenant).waits == 1


def test_a_day_is_the_organisations_local_day_even_when_it_lasts_25_hours(tenant):
    tenant.time_zone = "America/New_York"
    tenant.save()
    zone = rollup.tenant_zone(tenant)
    begin, end = rollup.day_bounds(date(2026, 11, 1), zone)  # clocks go back at 02:00
    assert end - begin == timedelta(hours=25)
    store = StoreFactory(tenant=tenant, region="US")
    ticket = ConversationFactory(
        store=store,
        tenant=tenant,
        created_at=datetime(2026, 10, 31, tzinfo=UTC),
        last_message_at=NOW,
    )
    for buyer_at in (
        datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # 00:30 EDT, 1 Nov
        datetime(2026, 11, 2, 4, 30, tzinfo=UTC),  # 23:30 EST, still 1 Nov
        datetime(2026, 11, 2, 5, 30, tzinfo=UTC),  # 00:30 EST, 2 Nov
    ):
        MessageFactory(conversation=ticket, sent_at=buyer_at)
        MessageFactory(
            conversation=ticket,
            sent_at=buyer_at + timedelta(minutes=10),
            direction=MessageDirection.OUTBOUND,
        )
    for day in (date(2026, 11, 1), date(2026, 11, 2)):
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
    first, second = (
        DailyRollup.objects.get(tenant=tenant, day=day)
        for day in (date(2026, 11, 1), date(2026, 11, 2))
    )
    assert (first.waits, first.platform_met, second.waits, second.platform_met) == (2, 2, 1, 1)
    assert [h for h, n in enumerate(first.inbound_by_hour) if n] == [0, 23]
    assert [h for h, n in enumerate(second.inbound_by_hour) if n] == [0]
    assert first.frt_under_2h == 1 and second.frt_under_2h == 0  # only the first is a first


def test_the_task_fills_90_days_first_then_the_days_still_open(tenant, clock):
    from sla.models import StoreClockSettings
    from sla.tasks import rollup_tenant

    clock.set(NOW)
    store = StoreFactory(tenant=tenant, region="US")
    assert rollup.days_to_refresh(tenant, today=NOW.date())[0] == NOW.date() - timedelta(days=89)
    rollup_tenant(tenant.pk)
    assert RollupState.objects.get(tenant=tenant).first_day == NOW.date() - timedelta(days=89)
    # Afterwards: today and the days a 24 h window may still decide.
    assert rollup.days_to_refresh(tenant, today=NOW.date()) == [
        NOW.date() - timedelta(days=2),
        NOW.date() - timedelta(days=1),
        NOW.date(),
    ]
    # A store's 5-day window keeps a week open.
    StoreClockSettings.objects.create(store=store, tenant=tenant, reply_window_hours=120)
    assert len(rollup.days_to_refresh(tenant, today=NOW.date())) == 7
