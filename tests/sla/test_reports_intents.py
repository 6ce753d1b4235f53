"""The intent mix of /reports/ (issue 18 on issue 13's page): buyer messages counted per triage
intent in the daily rollups, every intent listed, summed over the report's store, agent and
dates; owners and admins only; another organisation's messages never counted; the rollup and
the page do not issue a query per ticket or per message."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inbox.models import MessageDirection
from sla.models import DailyRollup, RollupState
from sla.reports import rollup
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import StoreFactory
from triage.labels import Intent
from triage.models import MessageLabel

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
DAYS = (date(2026, 11, 2), date(2026, 11, 3))
RANGE = {"from": "2026-11-01", "to": "2026-11-05"}


def labelled(ticket, at: datetime, intent: str | None, **values):
    """A message of `ticket` at `at`, labelled `intent` by triage (None: not labelled yet)."""
    message = MessageFactory(conversation=ticket, sent_at=at, **values)
    if intent is not None:
        MessageLabel.objects.create(
            message=message,
            tenant=ticket.tenant,
            conversation=ticket,
            intent=intent,
            confidence=0.9,
            language="en",
            source="model",
        )
    return message


def ticket_of(store, assignee=None):
    return ConversationFactory(
        store=store, tenant=store.tenant, assignee=assignee, created_at=NOW - timedelta(days=10),
        last_message_at=NOW,
    )  # fmt: skip


@pytest.fixture
def mix(tenant, owner, agent, other_tenant, clock):
    """Two stores. US: the agent's ticket (2 Nov: two order-status questions, one delivery
    problem; 3 Nov: one order status) and an unassigned one (2 Nov: a refund, a message not
    labelled yet, a buyer entering from an order (labelled, not a message to answer), and our
    labelled reply). TH: the owner's ticket (3 Nov: a refund). 31 Oct (out of range): a coupon
    question. Another organisation: five of each on 2 Nov. Rollups of 31 Oct to 3 Nov."""
    clock.set(NOW)
    us = StoreFactory(tenant=tenant, name="Sunrise US", region="US")
    th = StoreFactory(tenant=tenant, name="Sunrise TH", region="TH")
    mine, unassigned, owners = ticket_of(us, agent), ticket_of(us), ticket_of(th, owner)
    second, third = datetime(2026, 11, 2, 15, tzinfo=UTC), datetime(2026, 11, 3, 15, tzinfo=UTC)
    for minute, intent in enumerate(("order_status", "order_status", "delivery_problem")):
        labelled(mine, second + timedelta(minutes=minute), intent)
    labelled(mine, third, "order_status")
    labelled(unassigned, second, "return_refund")
    labelled(unassigned, second + timedelta(minutes=1), None)
    labelled(
        unassigned, second + timedelta(minutes=2), "order_status", type="BUYER_ENTER_FROM_ORDER"
    )
    labelled(
        unassigned, second + timedelta(minutes=3), "thanks_closing",
        direction=MessageDirection.OUTBOUND, sender_role="CUSTOMER_SERVICE",
    )  # fmt: skip
    labelled(owners, third, "return_refund")
    labelled(mine, datetime(2026, 10, 31, 15, tzinfo=UTC), "discount_coupon")
    theirs = ticket_of(StoreFactory(tenant=other_tenant))
    for minute, intent in enumerate(Intent.values * 5):
        labelled(theirs, second + timedelta(seconds=minute), intent)
    for day in (date(2026, 10, 31), *DAYS):
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
        rollup.rollup_day(tenant=other_tenant, day=day, now=NOW)
    return {"us": us, "th": th}


def intent_rows(client, **params) -> list[list[str]]:
    response = client.get(reverse("report_csv", args=["intents"]), {**RANGE, **params})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def counts(rows: list[list[str]]) -> dict[str, int]:
    return {row[0]: int(row[2]) for row in rows[1:] if row[2] != "0"}


def test_the_rollup_counts_each_days_labelled_buyer_messages_per_store_and_assignee(
    tenant, agent, owner, mix
):
    rows = {
        (row.day, row.store_id, row.agent_id): row.inbound_by_intent
        for row in DailyRollup.objects.filter(tenant=tenant)
        if row.inbound_by_intent
    }
    assert rows == {
        (date(2026, 10, 31), mix["us"].pk, agent.pk): {"discount_coupon": 1},
        (DAYS[0], mix["us"].pk, agent.pk): {"order_status": 2, "delivery_problem": 1},
        (DAYS[0], mix["us"].pk, None): {"return_refund": 1},
        (DAYS[1], mix["us"].pk, agent.pk): {"order_status": 1},
        (DAYS[1], mix["th"].pk, owner.pk): {"return_refund": 1},
    }


def test_recomputing_a_day_gives_the_same_intents(tenant, mix):
    def of_the_day():
        return sorted(
            (row.store_id, row.agent_id or 0, sorted(row.inbound_by_intent.items()))
            for row in DailyRollup.objects.filter(tenant=tenant, day=DAYS[0])
        )

    before = of_the_day()
    rollup.rollup_day(tenant=tenant, day=DAYS[0], now=NOW)
    rollup.rollup_day(tenant=tenant, day=DAYS[0], now=NOW)
    assert of_the_day() == before


def test_the_page_lists_every_intent_with_its_count_and_share(owner_client, mix):
    rows = intent_rows(owner_client)
    assert rows[0] == ["intent", "label", "buyer_messages", "share_percent"]
    # Every intent, in the enum's order, the ones nobody asked about at zero (no share).
    assert [row[0] for row in rows[1:]] == Intent.values
    assert [row[1] for row in rows[1:]] == Intent.labels
    assert rows[1] == ["order_status", "Order status", "3", "50.0"]
    assert counts(rows) == {"order_status": 3, "delivery_problem": 1, "return_refund": 2}
    assert [row[3] for row in rows[1:]] == [
        "50.0", "16.7", "0.0", "33.3", "0.0", "0.0", "0.0", "0.0", "0.0", "0.0", "0.0"
    ]  # fmt: skip
    body = owner_client.get(reverse("reports"), RANGE).content.decode()
    assert "Buyer messages by intent" in body
    assert "Buyer messages by intent: how many, and their share" in body  # the chart
    assert "<td>Payment issue</td><td>0</td><td>0.0%</td>" in body
    assert "<td>Order status</td><td>3</td><td>50.0%</td>" in body
    assert "1 not labelled yet are left out of the shares" in body


def test_the_filters_narrow_the_intent_mix(owner_client, agent, owner, mix):
    assert counts(intent_rows(owner_client, store=str(mix["th"].public_id))) == {"return_refund": 1}
    assert counts(intent_rows(owner_client, agent=str(agent.public_id))) == {
        "order_status": 3,
        "delivery_problem": 1,
    }
    assert counts(intent_rows(owner_client, agent=str(owner.public_id))) == {"return_refund": 1}
    assert counts(intent_rows(owner_client, **{"from": "2026-11-03", "to": "2026-11-03"})) == {
        "order_status": 1,
        "return_refund": 1,
    }
    assert counts(intent_rows(owner_client, **{"from": "2026-10-31", "to": "2026-11-01"})) == {
        "discount_coupon": 1
    }
    empty = intent_rows(owner_client, **{"from": "2026-11-04", "to": "2026-11-05"})
    assert [(row[2], row[3]) for row in empty[1:]] == [("0", "")] * len(Intent.values)


def test_agents_are_refused_the_intent_mix(agent_client, mix):
    assert agent_client.get(reverse("reports"), RANGE).status_code == 403
    assert agent_client.get(reverse("report_csv", args=["intents"]), RANGE).status_code == 403


def test_another_organisations_messages_are_never_counted(
    owner_client, other_tenant, other_owner, mix
):
    # Theirs: 5 of each intent on 2 Nov, counted in their own rollups only.
    theirs = DailyRollup.objects.get(tenant=other_tenant, day=DAYS[0])
    assert theirs.inbound_by_intent == dict.fromkeys(Intent.values, 5)
    assert sum(counts(intent_rows(owner_client)).values()) == 6
    their_store = DailyRollup.objects.filter(tenant=other_tenant).values("store__public_id")[0]
    assert (
        owner_client.get(
            reverse("report_csv", args=["intents"]),
            {**RANGE, "store": str(their_store["store__public_id"])},
        ).status_code
        == 404
    )
    assert (
        owner_client.get(
            reverse("report_csv", args=["intents"]), {**RANGE, "agent": str(other_owner.public_id)}
        ).status_code
        == 404
    )


def test_the_rollup_counts_intents_in_one_query_whatever_the_number_of_tickets(tenant, owner):
    store = StoreFactory(tenant=tenant, region="US")
    at = datetime(2026, 11, 2, 15, tzinfo=UTC)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rollup.rollup_day(tenant=tenant, day=DAYS[0], now=NOW)
        return len(captured)

    for intent in Intent.values[:2]:
        labelled(ticket_of(store, owner), at, intent)
    queries()  # the first run also creates the organisation's rollup state
    few = queries()
    for n, intent in enumerate(Intent.values * 3):
        labelled(ticket_of(store, owner if n % 2 else None), at + timedelta(minutes=n), intent)
    assert queries() == few
    assert sum(
        sum(row.inbound_by_intent.values()) for row in DailyRollup.objects.filter(tenant=tenant)
    ) == 2 + 3 * len(Intent.values)


def test_the_page_reads_the_same_queries_whatever_the_data(
    owner_client, tenant, mix, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as captured:
        assert owner_client.get(reverse("reports"), RANGE).status_code == 200
    # Ten times the tickets, in more stores and days: not one query more.
    for _ in range(10):
        store = StoreFactory(tenant=tenant, region="US")
        for day in DAYS:
            labelled(ticket_of(store), datetime.combine(day, datetime.min.time(), UTC), "other")
    for day in DAYS:
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
    assert RollupState.objects.get(tenant=tenant).computed_at == NOW
    with django_assert_max_num_queries(len(captured)):
        page = owner_client.get(reverse("reports"), RANGE)
    assert "<td>Other</td><td>20</td>" in page.content.decode()
