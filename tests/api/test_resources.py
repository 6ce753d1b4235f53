"""Messages, notes, orders, snippets, members and webhooks through the API."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from inbox.models import DeliveryStatus, Message, Snippet
from integrations.models import WebhookSubscription
from tests.api.conftest import error_of
from tests.factories_inbox import MessageFactory

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


# --- Messages and notes -----------------------------------------------------------------------


def test_messages_list_in_order_and_updated_since(world):
    ticket = world.ours.tickets[0]
    url = f"/api/v1/tickets/{ticket.public_id}/messages/"
    body = world.read.get(url).json()
    assert [m["text"] for m in body["results"]] == [m.text for m in world.ours.messages[:2]]
    assert body["results"][0]["direction"] == "inbound"
    assert body["results"][0]["delivery_status"] is None
    assert body["results"][0]["ticket_id"] == str(ticket.public_id)
    later = timezone.now() + timedelta(seconds=1)
    Message.objects.filter(pk=world.ours.messages[1].pk).update(
        updated_at=later + timedelta(seconds=1)
    )
    changed = world.read.get(url, {"updated_since": later.isoformat()}).json()["results"]
    assert [m["id"] for m in changed] == [str(world.ours.messages[1].public_id)]


def test_message_list_queries_do_not_grow_with_page_size(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = world.ours.tickets[0]
    for _ in range(40):
        MessageFactory(conversation=ticket)
    url = f"/api/v1/tickets/{ticket.public_id}/messages/"
    world.read.get(url)
    counts = []
    for size in (2, 40):
        with CaptureQueriesContext(connection) as captured:
            assert len(world.read.get(url, {"page_size": size}).json()["results"]) == size
        counts.append(len(captured))
    assert counts == [3, 3]  # the key, the ticket, the page (authors joined)


def test_a_reply_with_text_goes_through_the_outbox(world):
    ticket = world.ours.tickets[0]
    response = world.write.post(
        f"/api/v1/tickets/{ticket.public_id}/messages/",
        {"text": "On its way!", "next_status": "pending"},
        **{"Idempotency-Key": "reply-1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["text"] == "On its way!"
    assert body["delivery_status"] == "queued"
    assert body["sender_name"] == "API key ERP"
    assert body["author"] is None
    reply = Message.objects.get(public_id=body["id"])
    assert reply.delivery_status == DeliveryStatus.QUEUED
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    again = world.write.post(
        f"/api/v1/tickets/{ticket.public_id}/messages/",
        {"text": "On its way!", "next_status": "pending"},
        **{"Idempotency-Key": "reply-1"},
    )
    assert again.json()["id"] == body["id"]
    assert Message.objects.filter(conversation=ticket, text="On its way!").count() == 1


def test_a_reply_with_an_image_is_multipart_and_checked(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = world.ours.tickets[0]
    url = f"/api/v1/tickets/{ticket.public_id}/messages/"
    image = io.BytesIO(_png())
    image.name = "photo.png"
    response = world.write.multipart(url, {"image": image})
    assert response.status_code == 201, response.content
    assert response.json()["type"] == "IMAGE"
    fake = io.BytesIO(b"MZ not an image")
    fake.name = "photo.png"
    refused = world.write.multipart(url, {"image": fake, "text": "see"})
    assert refused.status_code == 400
    assert list(error_of(refused)["fields"]) == ["image"]
    assert Message.objects.filter(conversation=ticket, text="see").count() == 0


def test_an_empty_reply_is_400(world):
    ticket = world.ours.tickets[0]
    response = world.write.post(f"/api/v1/tickets/{ticket.public_id}/messages/", {"text": " "})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"text": ["Write a reply or attach an image."]}


def test_a_conversation_that_cannot_take_messages_is_409(world):
    ticket = world.ours.tickets[0]
    type(ticket).objects.filter(pk=ticket.pk).update(can_send_message=False)
    response = world.write.post(f"/api/v1/tickets/{ticket.public_id}/messages/", {"text": "Hi"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "cannot_send"


def test_notes_list_and_create(world):
    ticket = world.ours.tickets[0]
    url = f"/api/v1/tickets/{ticket.public_id}/notes/"
    assert [n["body"] for n in world.read.get(url).json()["results"]] == [world.ours.notes[0].body]
    created = world.write.post(url, {"body": "Refund approved by Sam"})
    assert created.status_code == 201
    assert created.json()["via_api_key"] == "ERP"
    assert created.json()["author"] is None
    too_long = world.write.post(url, {"body": "x" * 5001})
    assert too_long.status_code == 400
    assert error_of(too_long)["fields"] == {"body": ["A note is limited to 5,000 characters."]}


# --- Orders -----------------------------------------------------------------------------------


def test_orders_list_detail_and_lookup(world):
    order = world.ours.orders[0]
    listed = world.read.get("/api/v1/orders/").json()["results"]
    assert sorted(o["id"] for o in listed) == sorted(str(o.public_id) for o in world.ours.orders)
    detail = world.read.get(f"/api/v1/orders/{order.public_id}/").json()
    assert detail["order_id"] == order.external_id
    assert detail["total_amount"] == "25.00"
    assert [line["product_name"] for line in detail["lines"]] == ["Short Boat Invisible Socks"]
    assert len(detail["returns"]) == 1 and len(detail["cancellations"]) == 1
    assert detail["tracking"]["tracking_number"] == ""
    found = world.read.get("/api/v1/orders/lookup/", {"order_id": order.external_id})
    assert found.json()["id"] == str(order.public_id)
    theirs = world.theirs.orders[0]
    missing = world.read.get("/api/v1/orders/lookup/", {"order_id": theirs.external_id})
    assert missing.status_code == 404
    bad = world.read.get("/api/v1/orders/lookup/", {"order_id": "1,2"})
    assert bad.status_code == 400


def test_orders_filters(world):
    store = world.ours.stores[1]
    by_store = world.read.get("/api/v1/orders/", {"store": store.public_id}).json()["results"]
    assert [o["id"] for o in by_store] == [str(world.ours.orders[1].public_id)]
    assert world.read.get("/api/v1/orders/", {"status": "DELIVERED"}).json()["results"] == []
    assert world.read.get("/api/v1/orders/", {"status": "x;drop"}).status_code == 400


def test_order_tracking_is_read_from_the_database(world, monkeypatch):
    from orders import services

    def no_calls(store):
        raise AssertionError("a GET asked the platform")

    monkeypatch.setattr(services, "store_api", no_calls)
    order = world.ours.orders[0]
    response = world.read.get(f"/api/v1/orders/{order.public_id}/tracking/")
    assert response.status_code == 200
    assert response.json() == {"events": [], "fetched_at": None, "refreshing": False, "error": ""}


def test_order_tracking_refresh_queues_a_fetch(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import tasks
    from orders.models import OrderTracking

    queued: list[int] = []
    monkeypatch.setattr(tasks.fetch_tracking, "delay", queued.append)
    order = world.ours.orders[0]
    url = f"/api/v1/orders/{order.public_id}/tracking/refresh/"

    assert world.read.post(url).status_code == 403  # a read-only key may not queue work
    with django_capture_on_commit_callbacks(execute=True):
        response = world.write.post(url)

    assert response.status_code == 202
    assert response.json() == {"events": [], "fetched_at": None, "refreshing": True, "error": ""}
    assert queued == [order.pk]
    polled = world.read.get(f"/api/v1/orders/{order.public_id}/tracking/").json()
    assert polled["refreshing"] is True
    assert OrderTracking.objects.get(order=order).tenant_id == order.tenant_id


# --- Snippets ---------------------------------------------------------------------------------


def test_snippets_crud_and_render(world):
    create = world.write.post(
        "/api/v1/snippets/",
        {"title": "Shipped", "shortcut": "shipped", "body": "Order {{ order.id }} shipped."},
    )
    assert create.status_code == 201, create.content
    snippet_id = create.json()["id"]
    duplicate = world.write.post(
        "/api/v1/snippets/", {"title": "Again", "shortcut": "shipped", "body": "x"}
    )
    assert duplicate.status_code == 400
    assert list(error_of(duplicate)["fields"]) == ["shortcut"]
    patched = world.write.patch(f"/api/v1/snippets/{snippet_id}/", {"title": "Shipped!"})
    assert patched.json()["title"] == "Shipped!"
    order = world.ours.orders[0]
    rendered = world.read.get(f"/api/v1/snippets/{snippet_id}/render/", {"order": order.public_id})
    assert rendered.json() == {"text": f"Order {order.external_id} shipped."}
    unfilled = world.read.get(f"/api/v1/snippets/{snippet_id}/render/")
    assert unfilled.status_code == 400
    theirs = world.read.get(
        f"/api/v1/snippets/{snippet_id}/render/", {"order": world.theirs.orders[0].public_id}
    )
    assert theirs.status_code == 404
    assert world.write.delete(f"/api/v1/snippets/{snippet_id}/").status_code == 204
    assert not Snippet.objects.filter(public_id=snippet_id).exists()


def test_a_store_limited_key_cannot_edit_the_snippet_library(world):
    snippet = world.ours.snippets[0]
    response = world.limited.patch(f"/api/v1/snippets/{snippet.public_id}/", {"title": "x"})
    assert response.status_code == 403
    snippet.refresh_from_db()
    assert snippet.title != "x"


# --- Members ----------------------------------------------------------------------------------


def test_members_are_read_only(world):
    members = world.read.get("/api/v1/members/").json()["results"]
    assert {m["email"] for m in members} == {"owner@acme.test", "agent@acme.test"}
    agent = world.ours.agent.user
    detail = world.read.get(f"/api/v1/members/{agent.public_id}/").json()
    assert detail == {
        "id": str(agent.public_id),
        "name": agent.display_name,
        "email": "agent@acme.test",
        "role": "agent",
        "member_since": detail["member_since"],
    }
    assert world.write.post("/api/v1/members/", {}).status_code == 405


# --- Webhooks ---------------------------------------------------------------------------------


def test_webhook_subscriptions_through_the_api(world, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    created = world.write.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hooks", "events": ["ticket.created", "note.created"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    hook_id = body["id"]
    shown = world.read.get(f"/api/v1/webhooks/{hook_id}/").json()
    assert "secret" not in shown
    assert shown["events"] == ["ticket.created", "note.created"]
    off = world.write.patch(f"/api/v1/webhooks/{hook_id}/", {"is_active": False})
    assert off.json()["is_active"] is False
    assert world.read.get(f"/api/v1/webhooks/{hook_id}/deliveries/").json()["results"] == []
    assert world.other.get(f"/api/v1/webhooks/{hook_id}/").status_code == 404
    assert world.limited.get("/api/v1/webhooks/").status_code == 403
    assert world.write.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 204
    assert not WebhookSubscription.objects.filter(public_id=hook_id).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "ftp://x.example/", "events": ["note.created"]}, "url"),
        ({"url": "http://127.0.0.1/x", "events": ["note.created"]}, "url"),
        ({"url": "https://example.com/x", "events": ["ticket.exploded"]}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
    ],
)
def test_bad_webhook_subscriptions_are_400(world, settings, data, field):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = world.write.post("/api/v1/webhooks/", data)
    assert response.status_code == 400
    assert field in error_of(response)["fields"] or any(
        key.startswith(field) for key in error_of(response)["fields"]
    )
    assert not WebhookSubscription.objects.exists()


def test_the_fast_representations_equal_the_documented_serializers(world):
    """Lists are drawn from plain values; the serializers are the documented shape: the same."""
    from inbox.api import (
        MessageSerializer,
        TicketSerializer,
        message_representation,
        ticket_representation,
        ticket_values,
    )
    from inbox.models import Conversation

    ticket = world.ours.tickets[0]
    Conversation.objects.filter(pk=ticket.pk).update(assignee=world.ours.agent.user)
    fresh = Conversation.objects.select_related("store", "customer", "assignee").get(pk=ticket.pk)
    row = ticket_values(Conversation.objects.filter(pk=ticket.pk)).get()
    assert ticket_representation(row) == dict(TicketSerializer(fresh).data)
    message = Message.objects.select_related("author", "conversation").get(
        pk=world.ours.messages[0].pk
    )
    documented = dict(MessageSerializer(message, context={"_shown": {}}).data)
    assert message_representation(message, ticket.public_id) == documented
