"""/reports/, its CSV exports and /api/v1/reports/: who may see them, the filters, bad input,
and another organisation's store or member."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from inbox.models import DeliveryStatus, MessageDirection
from sla.models import DailyRollup
from sla.reports import rollup
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from tests.factories_marketplaces import StoreFactory

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def figures(tenant, owner, clock):
    """One US store; on 2 Nov a buyer answered in 1 h by the owner, another answered after
    30 h from Seller Center; rollups computed."""
    clock.set(NOW)
    store = StoreFactory(tenant=tenant, name="Sunrise US", region="US")
    for wrote, answered, author in (
        (datetime(2026, 11, 2, 9, tzinfo=UTC), datetime(2026, 11, 2, 10, tzinfo=UTC), owner),
        (datetime(2026, 11, 2, 14, tzinfo=UTC), datetime(2026, 11, 3, 20, tzinfo=UTC), None),
    ):
        ticket = ConversationFactory(
            store=store, tenant=tenant, created_at=wrote, last_message_at=answered
        )
        MessageFactory(conversation=ticket, sent_at=wrote)
        if author is None:
            MessageFactory(
                conversation=ticket, sent_at=answered, direction=MessageDirection.OUTBOUND
            )
        else:
            OutboxMessageFactory(
                conversation=ticket,
                sent_at=answered,
                author=author,
                delivery_status=DeliveryStatus.SENT,
                external_id=f"75{answered:%d%H}",
            )
    for day in (date(2026, 11, 2), date(2026, 11, 3)):
        rollup.rollup_day(tenant=tenant, day=day, now=NOW)
    return store


RANGE = {"from": "2026-11-01", "to": "2026-11-05"}


def test_owners_see_every_chart_with_its_figures_and_freshness(owner_client, figures):
    page = owner_client.get(reverse("reports"), RANGE)
    assert page.status_code == 200
    body = page.content.decode()
    for title in (
        "Daily response rate per store",
        "First response time",
        "SLA attainment per agent per week",
        "Buyer messages by weekday and hour",
        "Current backlog",
        "Median handle time",
        "Buyer messages by intent",
    ):
        assert title in body
    assert body.count('<svg class="chart"') == 6
    assert "target 90%" in body  # the US target line
    assert "Figures as of 5 Nov 2026, 12:00" in body
    assert "cdn" not in body.lower()


def test_agents_may_not_see_reports(client, agent, figures):
    client.force_login(agent)
    assert client.get(reverse("reports")).status_code == 403
    assert client.get(reverse("report_csv", args=["response-rate"])).status_code == 403


def test_each_report_exports_its_rows_as_csv(owner_client, figures):
    response = owner_client.get(reverse("report_csv", args=["response-rate"]), RANGE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["date", "store", "answered_in_time", "missed", "response_rate_percent", "target_percent"],
        ["2026-11-02", "Sunrise US", "1", "1", "50.0", "90"],
    ]
    first = owner_client.get(reverse("report_csv", args=["first-response"]), RANGE)
    assert list(csv.reader(io.StringIO(first.content.decode())))[1:] == [
        ["0-2 h", "1"],
        ["2-12 h", "0"],
        ["12-24 h", "0"],
        ["> 24 h", "1"],
    ]
    for name in ("attainment", "volume", "backlog", "handle-time", "intents"):
        assert owner_client.get(reverse("report_csv", args=[name]), RANGE).status_code == 200
    assert owner_client.get(reverse("report_csv", args=["nothing"])).status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-11-05", "to": "2026-11-01"}, "The start date is after the end date."),
        ({"from": "2024-01-01", "to": "2026-11-05"}, "Choose a range of at most two years."),
        ({"from": "yesterday"}, "is not a date (write YYYY-MM-DD)."),
    ],
)
def test_a_reversed_or_too_long_range_is_refused_with_the_typed_dates_kept(
    owner_client, figures, params, message
):
    rows_before = DailyRollup.objects.count()
    page = owner_client.get(reverse("reports"), params)
    assert page.status_code == 400
    body = page.content.decode()
    assert message in body
    assert f'value="{params["from"]}"' in body
    assert "<svg" not in body
    exported = owner_client.get(reverse("report_csv", args=["volume"]), params)
    assert exported.status_code == 400
    assert message in exported.content.decode()
    assert DailyRollup.objects.count() == rows_before


def test_a_store_filter_shows_that_store_only(owner_client, tenant, figures):
    other = StoreFactory(tenant=tenant, name="Sunrise TH", region="TH")
    response = owner_client.get(
        reverse("report_csv", args=["response-rate"]), {**RANGE, "store": str(other.public_id)}
    )
    assert list(csv.reader(io.StringIO(response.content.decode())))[1:] == []
    response = owner_client.get(
        reverse("report_csv", args=["response-rate"]), {**RANGE, "store": str(figures.public_id)}
    )
    assert len(list(csv.reader(io.StringIO(response.content.decode())))) == 2


def test_an_agent_filter_counts_what_that_agent_answered(owner_client, owner, figures):
    response = owner_client.get(
        reverse("report_csv", args=["first-response"]), {**RANGE, "agent": str(owner.public_id)}
    )
    assert [row[1] for row in csv.reader(io.StringIO(response.content.decode()))][1:] == [
        "1",
        "0",
        "0",
        "0",
    ]


def test_another_organisations_store_or_member_is_404(
    owner_client, figures, other_tenant, other_owner
):
    theirs = StoreFactory(tenant=other_tenant)
    assert owner_client.get(reverse("reports"), {"store": str(theirs.public_id)}).status_code == 404
    assert (
        owner_client.get(
            reverse("report_csv", args=["volume"]), {"agent": str(other_owner.public_id)}
        ).status_code
        == 404
    )
