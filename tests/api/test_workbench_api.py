"""The workbench in the API: products and coupons, cards sent to a ticket's buyer, and decisions
on returns and cancellations (review, then decide once), for this organisation only."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.models import Message
from marketplaces.channel import InvalidRequestError
from orders import aftersale
from orders.models import AfterSaleAction, Cancellation, Return
from tests.api.conftest import error_of
from tests.factories_catalog import CouponFactory, ProductFactory
from tests.factories_inbox import SnippetFactory

pytestmark = pytest.mark.django_db


def test_products_are_searched_like_the_workbench_does(world):
    store = world.ours.stores[0]
    ProductFactory(store=store, title="Silk Sleep Mask", stock=0)
    ProductFactory(store=store, title="Silk Scarf", status="SELLER_DEACTIVATED")

    live = world.read.get("/api/v1/products/", {"q": "SILK"}).json()["results"]
    every = world.read.get("/api/v1/products/", {"q": "silk", "all": "1"}).json()["results"]
    limited = world.limited.get("/api/v1/products/").json()["results"]

    assert [(p["title"], p["in_stock"], p["stock"]) for p in live] == [
        ("Silk Sleep Mask", False, 0)
    ]
    assert [p["title"] for p in every] == ["Silk Scarf", "Silk Sleep Mask"]
    assert live[0]["link"] == f"https://shop.tiktok.com/view/product/{live[0]['product_id']}"
    assert {p["store_id"] for p in limited} == {str(store.public_id)}


def test_a_snippet_renders_with_the_product_and_coupon_given(world):
    ours = world.ours
    store, ticket = ours.stores[0], ours.tickets[0]
    product = ProductFactory(
        store=store, title="Silk Sleep Mask", external_id="1729592969712200001"
    )
    coupon = CouponFactory(store=store, title="Chat $5 off", promo_code="CHAT5")
    snippet = SnippetFactory(
        tenant=ours.tenant,
        body="{{ product.name }}: {{ product.link }} | {{ coupon.offer }}, code {{ coupon.code }}",
    )
    path = f"/api/v1/snippets/{snippet.public_id}/render/"
    params = {"product": str(product.public_id), "coupon": str(coupon.public_id)}

    answer = world.read.get(path, {**params, "ticket": str(ticket.public_id)})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "text": "Silk Sleep Mask: https://shop.tiktok.com/view/product/1729592969712200001 | "
        "$5.00 off on orders over $25.00, code CHAT5"
    }
    # Without the coupon: the placeholder that cannot be filled is named.
    missing = world.read.get(path, {"product": str(product.public_id)})
    assert missing.status_code == 400
    assert error_of(missing)["fields"] == {
        "snippet": ["This snippet uses coupon details: pick a coupon in the Coupons tab first."]
    }
    # A product of another store than the ticket's.
    other_ticket = world.read.get(path, {**params, "ticket": str(ours.tickets[1].public_id)})
    assert other_ticket.status_code == 400
    assert "belongs to another store" in error_of(other_ticket)["fields"]["snippet"][0]


def test_coupons_say_whether_they_can_be_sent(world):
    store = world.ours.stores[0]
    CouponFactory(
        store=store,
        title="Live room",
        display_type="LIVE",
        card_problems=["Live coupons cannot be sent in chat (only Chat and Regular ones)."],
    )

    coupons = world.read.get("/api/v1/coupons/", {"store": str(store.public_id)}).json()["results"]

    by_title = {c["title"]: c for c in coupons}
    assert by_title["Live room"]["can_be_sent"] is False
    assert by_title["Live room"]["card_problems"] == [
        "Live coupons cannot be sent in chat (only Chat and Regular ones)."
    ]
    sendable = [c for c in coupons if c["can_be_sent"]]
    assert sendable and sendable[0]["offer"] == "$5.00 off on orders over $25.00"


def test_a_card_is_queued_once_per_idempotency_key(world):
    ticket = world.ours.tickets[0]
    product = world.ours.products[0]
    paused = ProductFactory(store=ticket.store, title="Paused", status="SELLER_DEACTIVATED")
    path = f"/api/v1/tickets/{ticket.public_id}/cards/"
    body = {"type": "PRODUCT_CARD", "product_id": str(product.public_id)}

    first = world.write.post(path, body, **{"Idempotency-Key": "card-1"})
    again = world.write.post(path, body, **{"Idempotency-Key": "card-1"})
    refused = world.write.post(path, {"type": "PRODUCT_CARD", "product_id": str(paused.public_id)})
    read_only = world.read.post(path, body)

    assert first.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"]
    sent = first.json()
    assert (sent["type"], sent["kind"], sent["product_id"], sent["delivery_status"]) == (
        "PRODUCT_CARD",
        "product_card",
        product.external_id,
        "queued",
    )
    assert sent["sender_name"] == "API key ERP"
    assert Message.objects.filter(conversation=ticket, type="PRODUCT_CARD").count() == 1
    assert refused.status_code == 409
    assert error_of(refused)["message"].startswith("“Paused” is not live")
    assert read_only.status_code == 403


def test_an_order_lists_the_decisions_open_on_its_requests(world):
    order = world.ours.orders[0]

    detail = world.read.get(f"/api/v1/orders/{order.public_id}/").json()

    assert [d["key"] for d in detail["returns"][0]["decisions"]] == [
        "APPROVE_REFUND",
        "REJECT_REFUND",
    ]
    assert detail["returns"][0]["decisions"][0]["outcome"] == (
        "The buyer is refunded the amount the marketplace works out. Nothing has to be sent back."
    )
    assert [d["key"] for d in detail["cancellations"][0]["decisions"]] == ["APPROVE", "REJECT"]


class FakeChannel:
    """A store's API: reads answer what we have; decisions are recorded, or refused."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.decided: list[tuple[str, str]] = []

    def cancellation_decide(self, cancel_id: str, *, idempotency_key: str, **_: Any) -> None:
        if self.refuse:
            raise InvalidRequestError("The cancellation is CANCELLATION_REQUEST_SUCCESS.")
        self.decided.append((cancel_id, idempotency_key))

    return_decide = cancellation_decide


@pytest.fixture
def channel(monkeypatch):
    fake = FakeChannel()
    monkeypatch.setattr(aftersale, "store_api", lambda _store: fake)
    monkeypatch.setattr(aftersale, "after_sale_refresh", lambda *, record: record)
    return fake


def test_a_decision_is_taken_once_per_idempotency_key(world, channel):
    order = world.ours.orders[0]
    record = Cancellation.objects.get(store=order.store, order_external_id=order.external_id)
    path = f"/api/v1/orders/{order.public_id}/cancellations/{record.external_id}/decide/"
    body = {"decision": "APPROVE", "status": record.status}

    first = world.write.post(path, body, **{"Idempotency-Key": "approve-1"})
    again = world.write.post(path, body, **{"Idempotency-Key": "approve-1"})

    assert first.status_code == 200, first.content
    assert again.json() == first.json()
    assert (first.json()["status"], first.json()["actor"]) == ("done", "API key ERP")
    assert len(channel.decided) == 1
    assert AfterSaleAction.objects.filter(record_external_id=record.external_id).count() == 1


def test_a_refused_or_stale_decision_is_a_409(world, channel):
    order = world.ours.orders[0]
    record = Return.objects.get(store=order.store, order_external_id=order.external_id)
    path = f"/api/v1/orders/{order.public_id}/returns/{record.external_id}/decide/"

    stale = world.write.post(path, {"decision": "APPROVE_REFUND", "status": "SOMETHING_ELSE"})
    channel.refuse = True
    refused = world.write.post(path, {"decision": "APPROVE_REFUND", "status": record.status})

    assert stale.status_code == 409
    assert "has moved on since you opened it" in error_of(stale)["message"]
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "decision_refused"
    assert error_of(refused)["message"] == (
        "TikTok Shop refused it: The cancellation is CANCELLATION_REQUEST_SUCCESS."
    )
    assert channel.decided == []


@pytest.mark.parametrize("step", ["review", "decide"])
@pytest.mark.parametrize("kind", ["returns", "cancellations"])
def test_decisions_on_another_organisation_or_store_are_404(world, channel, step, kind):
    body = {"decision": "APPROVE", "status": "x"}

    def url(side, index: int) -> str:
        order = side.orders[index]
        model = Return if kind == "returns" else Cancellation
        record = model.objects.get(store=order.store, order_external_id=order.external_id)
        return f"/api/v1/orders/{order.public_id}/{kind}/{record.external_id}/{step}/"

    for client, path in (
        (world.write, url(world.theirs, 0)),
        (world.other, url(world.ours, 0)),
        (world.limited, url(world.ours, 1)),
    ):
        response = client.post(path, body)
        assert response.status_code == 404, (path, response.content)
    # A request of another order of ours is not found under this order either.
    mixed = url(world.ours, 0).replace(
        str(world.ours.orders[0].public_id), str(world.ours.orders[1].public_id)
    )
    assert world.write.post(mixed, body).status_code == 404
    assert world.read.post(url(world.ours, 0), body).status_code == 403
    assert channel.decided == []
    assert not AfterSaleAction.objects.exists()
