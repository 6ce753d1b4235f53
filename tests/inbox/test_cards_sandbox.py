"""Cards sent from a ticket, end to end over the sandbox's HTTP: each of the five types is queued
by the ticket's Send button, sent once by the outbox, stored on the platform and drawn as a card on
the buyer page; a double click sends once; what the platform refuses is said, and not retried."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.utils import timezone

from inbox import outbox, services
from inbox.models import DeliveryStatus, Message
from marketplaces.adapter import store_api
from marketplaces.records import ProductCardContent
from orders import catalog
from orders.ingest import orders_upsert, returns_upsert
from orders.models import Coupon, Order, Product, Return
from tenants.models import Membership
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings):
    """A sandbox of our own: cards are written into its conversations."""
    sandbox = tiktok_sandbox_factory(days=6, orders_per_day=12)
    point_settings_at(settings, sandbox)
    return sandbox


def platform_cards(sandbox: Any, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's newest messages on the platform, oldest first (signed calls)."""
    answer = sandbox.call(
        "GET",
        f"/customer_service/202309/conversations/{conversation_id}/messages",
        query={"page_size": "10", "sort_field": "index", "sort_order": "DESC"},
    ).json()
    return list(reversed(answer["data"]["messages"]))


def send(client, conversation, **fields: str) -> Any:
    return client.post(
        f"/mailbox/{conversation.public_id}/cards/",
        {"slot": "card-error-test", **fields},
        HTTP_HX_REQUEST="true",
    )


def test_every_card_type_is_sent_once_and_drawn_on_the_buyer_page(
    sandbox, tenant, owner, owner_client
):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    for page in api.order_pages(page_size=100):
        orders_upsert(store=store, orders=page.items)
    for page in api.return_pages():
        returns_upsert(store=store, returns=page.items)
    catalog.catalog_sync(store_id=store.pk)
    under_return = set(
        Return.objects.filter(store=store).values_list("order_external_id", flat=True)
    )
    order = next(
        o
        for o in Order.objects.filter(store=store, status="DELIVERED").order_by("-placed_at")
        if o.external_id not in under_return and o.raw.get("packages")
    )
    membership = Membership.objects.get(tenant=tenant, user=owner)
    conversation = services.conversation_start_from_order(membership=membership, order=order)
    product = Product.objects.filter(store=store, status="ACTIVATE").order_by("title").first()
    coupon = Coupon.objects.get(store=store, title="Chat thank-you 10% off")
    line = order.lines.order_by("id").first()
    package = order.raw["packages"][0]["id"]
    picks = [
        ("ORDER_CARD", {"order": str(order.public_id)}, {"order_id": order.external_id}),
        ("PRODUCT_CARD", {"product": str(product.public_id)}, {"product_id": product.external_id}),
        ("COUPON_CARD", {"coupon": str(coupon.public_id)}, {"coupon_id": coupon.external_id}),
        (
            "LOGISTICS_CARD",
            {"order": str(order.public_id), "package": package},
            {"order_id": order.external_id, "package_id": package},
        ),
        (
            "RETURN_REFUND_CARD",
            {"order": str(order.public_id), "sku": line.sku_id},
            {"order_id": order.external_id, "sku_id": line.sku_id},
        ),
    ]

    sent = []
    for card_type, fields, _ in picks:
        token = str(uuid.uuid4())
        first = send(owner_client, conversation, type=card_type, token=token, **fields)
        double_click = send(owner_client, conversation, type=card_type, token=token, **fields)
        assert (first.status_code, double_click.status_code) == (200, 200), first.content
        message = Message.objects.get(conversation=conversation, client_token=token)
        assert message.delivery_status == DeliveryStatus.QUEUED
        assert outbox.reply_send(message_id=message.pk).status == "sent"
        assert outbox.reply_send(message_id=message.pk).status == "skipped"
        sent.append(Message.objects.get(pk=message.pk))

    assert [m.type for m in sent] == [card_type for card_type, _, _ in picks]
    assert all(m.delivery_status == DeliveryStatus.SENT and m.external_id for m in sent)
    on_platform = platform_cards(sandbox, conversation.external_id)[-5:]
    assert [m["id"] for m in on_platform] == [m.external_id for m in sent]
    assert [json.loads(m["content"]) for m in on_platform] == [content for *_, content in picks]
    buyer_page = sandbox.http.get(
        f"{sandbox.base_url}/buyer/api/thread",
        params={"shop_id": store.external_shop_id, "user_id": order.buyer_user_id},
    ).json()
    drawn = [m["card"]["kind"] for m in buyer_page["messages"][-5:]]
    assert drawn == ["order", "product", "coupon", "logistics", "return_refund"]
    # The agent's thread draws them as cards too, with what they show.
    page = owner_client.get(f"/mailbox/{conversation.public_id}/").content.decode()
    assert page.count('data-card="product"') == 1
    assert product.title in page
    assert 'data-card="logistics"' in page and f"Package {package}" in page


def test_what_the_platform_refuses_is_said_and_nothing_is_sent(
    sandbox, tenant, owner, owner_client
):
    store = connect_store(sandbox, tenant=tenant)
    api = store_api(store)
    for page in api.order_pages(page_size=100):
        orders_upsert(store=store, orders=page.items)
    catalog.catalog_sync(store_id=store.pk)
    pending = next(api.return_pages(statuses=["RETURN_OR_REFUND_REQUEST_PENDING"])).items[0]
    order = Order.objects.get(store=store, external_id=pending.order_id)
    membership = Membership.objects.get(tenant=tenant, user=owner)
    conversation = services.conversation_start_from_order(membership=membership, order=order)
    before = len(platform_cards(sandbox, conversation.external_id))

    # A SKU under a return is not open to another: the platform says so before anything is stored.
    refused = send(
        owner_client,
        conversation,
        type="RETURN_REFUND_CARD",
        order=str(order.public_id),
        sku=pending.lines[0].sku_id or "",
        token=str(uuid.uuid4()),
    )
    assert refused.status_code == 400
    assert refused["HX-Retarget"] == "#card-error-test"
    assert (
        f"Order {order.external_id} is not open to a return or refund for this item: A return "
        "or refund is already open."
    ) in refused.content.decode()
    assert not Message.objects.filter(conversation=conversation, type="RETURN_REFUND_CARD").exists()

    # A coupon that expired on the platform since the last sync: refused when sent, not retried.
    coupon = Coupon.objects.get(store=store, title="Spring sale $5 off")
    sandbox.control("POST", f"/_sandbox/coupons/{coupon.external_id}/update", {"status": "EXPIRED"})
    token = str(uuid.uuid4())
    assert (
        send(
            owner_client,
            conversation,
            type="COUPON_CARD",
            coupon=str(coupon.public_id),
            token=token,
        ).status_code
        == 200
    )
    message = Message.objects.get(client_token=token)

    outcome = outbox.reply_send(message_id=message.pk)

    message.refresh_from_db()
    assert outcome.status == "failed"
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.failure_reason.startswith(
        "TikTok Shop refused the message: This coupon cannot be sent in chat"
    )
    assert message.failure_reason.endswith("(code 45109011).")
    assert message.attempts == 1
    assert len(platform_cards(sandbox, conversation.external_id)) == before

    # A worker that died after the platform took a product card: the retry finds it, and
    # adopts it instead of sending a second card.
    product = Product.objects.filter(store=store, status="ACTIVATE").order_by("title").first()
    token = str(uuid.uuid4())
    send(
        owner_client, conversation, type="PRODUCT_CARD", product=str(product.public_id), token=token
    )
    card = Message.objects.get(client_token=token)
    assert outbox.reply_claim(message_id=card.pk) == 1
    Message.objects.filter(pk=card.pk).update(
        content={
            **card.content,
            "outbox": {
                "in_flight": {"type": "PRODUCT_CARD", "started_at": timezone.now().isoformat()}
            },
        },
        delivery_status=DeliveryStatus.QUEUED,
        next_attempt_at=timezone.now(),
    )
    taken = store_api(store).send_message(
        conversation.external_id, content=ProductCardContent(product_id=product.external_id)
    )

    assert outbox.reply_send(message_id=card.pk).status == "sent"
    card.refresh_from_db()
    assert (card.external_id, card.attempts) == (taken, 2)
    products_sent = [
        m for m in platform_cards(sandbox, conversation.external_id) if m["type"] == "PRODUCT_CARD"
    ]
    assert [m["id"] for m in products_sent] == [taken]
