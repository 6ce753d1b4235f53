"""/api/v1/reports/<name>/: the rows of the page's CSV, bad filters as 400, a store-limited key
sees its stores only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from inbox.models import DeliveryStatus
from sla.reports import rollup
from tests.api.conftest import error_of
from tests.factories_inbox import ConversationFactory, MessageFactory, OutboxMessageFactory
from triage.labels import Intent
from triage.models import MessageLabel

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(world):
    """Yesterday a buyer of each of our stores was answered within the hour by the owner."""
    today = timezone.now().date()
    day = today - timedelta(days=1)
    wrote = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    for store in world.ours.stores:
        ticket = ConversationFactory(
            store=store, tenant=store.tenant, last_message_at=timezone.now()
        )
        MessageFactory(conversation=ticket, sent_at=wrote)
        OutboxMessageFactory(
            conversation=ticket,
            sent_at=wrote + timedelta(minutes=30),
            author=world.ours.owner.user,
            delivery_status=DeliveryStatus.SENT,
            external_id=f"7599{store.pk:05d}",
        )
    world.ours.tenant.time_zone = "UTC"
    world.ours.tenant.save()
    rollup.rollup_day(tenant=world.ours.tenant, day=day)
    return day


def test_a_report_answers_its_rows(world, answered):
    response = world.read.get("/api/v1/reports/response-rate/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report"] == "response-rate"
    assert body["date_to"] == timezone.now().date().isoformat()
    assert body["computed_at"] is not None
    assert sorted(
        (row["store"], row["answered_in_time"], row["missed"]) for row in body["rows"]
    ) == [
        ("acme store 1", 1, 0),
        ("acme store 2", 1, 0),
    ]
    frt = world.read.get("/api/v1/reports/first-response/").json()
    assert frt["rows"][0] == {"bucket": "0-2 h", "first_responses": 2}


def test_the_intent_mix_counts_every_intent_of_the_keys_stores(world, answered):
    """Each side's buyer messages of yesterday labelled: ours one order status per store,
    theirs a payment issue per store (never counted for us)."""
    for side, intent in ((world.ours, "order_status"), (world.theirs, "payment_issue")):
        for store in side.stores:
            ticket = ConversationFactory(
                store=store, tenant=side.tenant, last_message_at=timezone.now()
            )
            message = MessageFactory(
                conversation=ticket,
                sent_at=datetime.combine(answered, datetime.min.time(), tzinfo=UTC)
                + timedelta(hours=11),
            )
            MessageLabel.objects.create(
                message=message,
                tenant=side.tenant,
                conversation=ticket,
                intent=intent,
                confidence=0.8,
                language="en",
                source="model",
            )
        side.tenant.time_zone = "UTC"
        side.tenant.save()
        rollup.rollup_day(tenant=side.tenant, day=answered)
    body = world.read.get("/api/v1/reports/intents/").json()
    assert body["columns"] == ["intent", "label", "buyer_messages", "share_percent"]
    assert [row["intent"] for row in body["rows"]] == Intent.values
    assert body["rows"][0] == {
        "intent": "order_status",
        "label": "Order status",
        "buyer_messages": 2,
        "share_percent": 100.0,
    }
    assert sum(row["buyer_messages"] for row in body["rows"]) == 2
    limited = world.limited.get("/api/v1/reports/intents/").json()["rows"]
    assert limited[0]["buyer_messages"] == 1
    their_store = world.theirs.stores[0].public_id
    assert (
        world.read.get("/api/v1/reports/intents/", {"store": str(their_store)}).status_code == 404
    )


def test_a_store_limited_key_sees_its_store_only(world, answered):
    rows = world.limited.get("/api/v1/reports/response-rate/").json()["rows"]
    assert [row["store"] for row in rows] == ["acme store 1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "from"),
        ({"to": "soon"}, "to"),
    ],
)
def test_bad_filters_are_400_with_the_field(world, params, field):
    response = world.read.get("/api/v1/reports/volume/", params)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]


def test_an_unknown_report_is_404(world):
    assert world.read.get("/api/v1/reports/everything/").status_code == 404
