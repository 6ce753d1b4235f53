"""NEW_MESSAGE (14) and NEW_CONVERSATION (13) end to end: a sandbox buyer writes, the sandbox
pushes the signed notification to a loopback receiver, the raw body is posted to our intake, the
registry's handler stores it; the poll is the backstop."""

from __future__ import annotations

import json

import pytest
import requests

from inbox import tasks as inbox_tasks
from inbox.models import (
    Conversation,
    ConversationOrder,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    index_key,
)
from inbox.polling import store_poll
from marketplaces import tasks as marketplace_tasks
from marketplaces.adapter import reset_default_client, store_api
from marketplaces.models import StoreStatus, WebhookEvent, WebhookEventStatus
from marketplaces.services import webhook_event_process, webhook_events_drain
from orders.ingest import orders_upsert
from orders.models import Order
from tests.factories_marketplaces import WebhookEventFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tiktok_sandbox_factory, settings, receiver):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    sandbox.set_webhook_url(receiver.url)
    yield sandbox
    reset_default_client()


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks, monkeypatch, private_cache):
    """Posts a pushed notification to our intake; its processing task (the shop's drain for
    NEW_MESSAGE) and the order checks it schedules after commit run at once."""
    monkeypatch.setattr(
        marketplace_tasks.process_webhook_event,
        "delay",
        lambda event_id: webhook_event_process(event_id=event_id),
    )
    monkeypatch.setattr(
        marketplace_tasks.process_webhook_events,
        "delay",
        lambda shop_id, kind: webhook_events_drain(shop_id=shop_id, webhook_type=kind),
    )
    monkeypatch.setattr(
        inbox_tasks.link_orders_live_many,
        "delay",
        lambda checks: inbox_tasks.link_orders_live_many(checks),
    )

    def send(body: bytes, authorization: str) -> WebhookEvent:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/tiktok/",
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=authorization,
            )
        assert response.status_code == 200
        return WebhookEvent.objects.get(notification_id=json.loads(body)["tts_notification_id"])

    return send


def first_ticket(store) -> Conversation:
    return Conversation.objects.filter(store=store).order_by("number").first()


def test_the_same_new_message_three_times_plus_a_poll_gives_one_message(
    sandbox, receiver, deliver, tenant
):
    store = connect_store(sandbox, tenant=tenant)
    store_poll(store_id=store.pk)
    ticket = first_ticket(store)
    before = Message.objects.filter(store=store).count()

    written = sandbox.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="Is it shipped yet?"
    )
    body, signature = receiver.wait_for(14, message_id=written["id"])
    events = [deliver(body, signature) for _ in range(3)]
    # TikTok's retries keep the notification id; a second notification of the same message
    # (another id, same data) is stored as an event but not as a message.
    payload = json.loads(body)
    again = WebhookEventFactory(
        type=14,
        shop_id=store.external_shop_id,
        payload={**payload, "tts_notification_id": "7327112393057371999"},
    )
    webhook_event_process(event_id=again.pk)
    polled = store_poll(store_id=store.pk)

    assert {event.pk for event in events} == {events[0].pk}
    assert events[0].status == WebhookEventStatus.PROCESSED
    assert events[0].result == f"Message {written['id']} stored in ticket #{ticket.number}."
    again.refresh_from_db()
    assert again.result == f"Message {written['id']} already stored (ticket #{ticket.number})."
    assert polled.new_messages == 0
    assert Message.objects.filter(store=store).count() == before + 1
    message = Message.objects.get(store=store, external_id=written["id"])
    assert (message.conversation_id, message.text, message.index_key) == (
        ticket.pk,
        "Is it shipped yet?",
        index_key(written["index"]),
    )
    ticket.refresh_from_db()
    assert ticket.last_message_preview == "Is it shipped yet?"
    assert ticket.message_cursor == index_key(written["index"])  # the poll read up to it


def test_a_message_in_an_unknown_conversation_makes_a_ticket_with_its_buyer(
    sandbox, receiver, deliver, tenant
):
    store = connect_store(sandbox, tenant=tenant)
    buyer = (
        store_api(store)
        .orders_by_id([next(store_api(store).order_pages(page_size=1)).items[0].external_id])[0]
        .buyer_user_id
    )
    written = sandbox.control(
        "POST",
        "/_sandbox/buyers/write",
        {"shop_id": store.external_shop_id, "user_id": buyer, "text": "Hello, first time here"},
    )

    event = deliver(*receiver.wait_for(14, message_id=written["id"]))

    ticket = Conversation.objects.get(store=store, external_id=written["conversation_id"])
    history = store_api(store).messages(ticket.external_id)
    assert event.result == f"New ticket #{ticket.number}: {len(history)} message(s) stored."
    assert ticket.customer.buyer_user_id == buyer
    assert list(
        Message.objects.filter(conversation=ticket)
        .order_by("index_key")
        .values_list("external_id", flat=True)
    ) == [m.external_id for m in history]
    assert ticket.message_cursor == index_key(history[-1].index)
    assert (ticket.unread_count, ticket.status) == (
        sum(1 for m in history if m.sender.role == "BUYER"),
        TicketStatus.OPEN,
    )


def test_new_conversation_refreshes_that_conversation(sandbox, receiver, deliver, tenant):
    store = connect_store(sandbox, tenant=tenant)
    buyer = next(store_api(store).order_pages(page_size=1)).items[0].buyer_user_id
    written = sandbox.control(
        "POST",
        "/_sandbox/buyers/write",
        {"shop_id": store.external_shop_id, "user_id": buyer, "text": "Hi"},
    )

    event = deliver(*receiver.wait_for(13, conversation_id=written["conversation_id"]))

    ticket = Conversation.objects.get(store=store)
    assert event.result == (
        f"Conversation {written['conversation_id']} refreshed (ticket #1, "
        f"{Message.objects.filter(conversation=ticket).count()} new)."
    )
    assert ticket.customer.buyer_user_id == buyer
    assert Message.objects.filter(conversation=ticket, external_id=written["id"]).exists()


def test_a_lost_webhook_is_recovered_by_the_poll_in_index_order(sandbox, receiver, deliver, tenant):
    store = connect_store(sandbox, tenant=tenant)
    store_poll(store_id=store.pk)
    ticket = first_ticket(store)
    lost = sandbox.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="first (lost)"
    )
    arrived = sandbox.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="second"
    )

    deliver(*receiver.wait_for(14, message_id=arrived["id"]))
    assert not Message.objects.filter(external_id=lost["id"]).exists()
    polled = store_poll(store_id=store.pk)

    assert polled.new_messages == 1
    newest = list(
        Message.objects.filter(conversation=ticket)
        .order_by("-index_key")
        .values_list("text", flat=True)[:2]
    )
    assert newest == ["second", "first (lost)"]
    ticket.refresh_from_db()
    assert ticket.last_message_preview == "second"
    assert ticket.message_cursor == index_key(arrived["index"])


@pytest.mark.parametrize("status", [TicketStatus.PENDING, TicketStatus.SOLVED])
def test_a_buyer_reply_by_webhook_reopens_the_ticket(sandbox, receiver, deliver, tenant, status):
    store = connect_store(sandbox, tenant=tenant)
    store_poll(store_id=store.pk)
    ticket = first_ticket(store)
    Conversation.objects.filter(pk=ticket.pk).update(status=status)

    written = sandbox.buyer_write(
        store.external_shop_id, conversation_id=ticket.external_id, text="It still hasn't come"
    )
    event = deliver(*receiver.wait_for(14, message_id=written["id"]))

    assert event.result == (
        f"Message {written['id']} stored in ticket #{ticket.number}. Ticket reopened."
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert (
        TicketEvent.objects.filter(
            conversation=ticket, kind=TicketEventKind.REOPENED, data__from=status
        ).count()
        == 1
    )
    assert Conversation.objects.filter(store=store).count() == 12


def test_order_ids_in_a_buyer_text_are_linked_live_and_a_foreign_number_links_nothing(
    sandbox, receiver, deliver, tenant, other_tenant
):
    store = connect_store(sandbox, tenant=tenant)
    foreign_store = connect_store(sandbox, tenant=other_tenant, market="ROW")
    store_poll(store_id=store.pk)
    ticket = first_ticket(store)
    api = store_api(store)
    orders = [order for page in api.order_pages(page_size=100) for order in page.items]
    synced, unsynced = orders[0], orders[1]
    orders_upsert(store=store, orders=[synced])
    foreign = next(store_api(foreign_store).order_pages(page_size=1)).items[0]
    ConversationOrder.objects.filter(conversation=ticket).delete()

    written = sandbox.buyer_write(
        store.external_shop_id,
        conversation_id=ticket.external_id,
        text=(
            f"Orders {synced.external_id} and {unsynced.external_id}; "
            f"also {foreign.external_id} and 999999999999999999"
        ),
    )
    deliver(*receiver.wait_for(14, message_id=written["id"]))

    links = {
        link.order_external_id: (link.source, link.order.store_id if link.order else None)
        for link in ConversationOrder.objects.filter(conversation=ticket).select_related("order")
    }
    assert links == {
        synced.external_id: ("text", store.pk),
        unsynced.external_id: ("text", store.pk),
    }
    fetched = Order.objects.get(store=store, external_id=unsynced.external_id)
    assert (fetched.status, fetched.tenant_id) == (unsynced.status, tenant.pk)
    assert not Order.objects.filter(external_id=foreign.external_id, store=store).exists()
    assert not Order.objects.filter(store=foreign_store).exists()


def test_an_order_card_from_the_buyer_page_links_the_order_fetched_live(
    sandbox, receiver, deliver, tenant
):
    store = connect_store(sandbox, tenant=tenant)
    store_poll(store_id=store.pk)
    order = next(store_api(store).order_pages(page_size=1)).items[0]
    assert not Order.objects.filter(store=store).exists()

    response = requests.post(
        f"{sandbox.base_url}/buyer/api/send",
        json={
            "shop_id": store.external_shop_id,
            "user_id": order.buyer_user_id,
            "type": "ORDER_CARD",
            "order_id": order.external_id,
        },
        timeout=10,
    )
    assert response.status_code == 200
    written = response.json()
    deliver(*receiver.wait_for(14, message_id=written["id"]))

    ticket = Conversation.objects.get(store=store, external_id=written["conversation_id"])
    link = ConversationOrder.objects.get(conversation=ticket, order_external_id=order.external_id)
    assert (link.source, link.order.external_id, link.order.store_id) == (
        "order_card",
        order.external_id,
        store.pk,
    )
    card = Message.objects.get(external_id=written["id"])
    assert (card.type, card.direction, card.content) == (
        "ORDER_CARD",
        MessageDirection.INBOUND,
        {"order_id": order.external_id},
    )


def test_the_seeded_entered_from_order_links_its_order(
    sandbox, tenant, django_capture_on_commit_callbacks, monkeypatch
):
    store = connect_store(sandbox, tenant=tenant)
    monkeypatch.setattr(
        inbox_tasks.link_orders_live_many,
        "delay",
        lambda checks: inbox_tasks.link_orders_live_many(checks),
    )

    with django_capture_on_commit_callbacks(execute=True):
        store_poll(store_id=store.pk)

    entered = Message.objects.get(store=store, type="BUYER_ENTER_FROM_ORDER")
    link = ConversationOrder.objects.get(
        conversation=entered.conversation, source="entered_from_order"
    )
    assert link.order_external_id == entered.content["order_id"]
    assert link.order is not None and link.order.store_id == store.pk


def test_a_message_for_an_unknown_conversation_of_a_paused_store_is_left_to_the_poll(
    sandbox, tenant
):
    store = connect_store(sandbox, tenant=tenant)
    store.status = StoreStatus.NEEDS_REAUTH
    store.save(update_fields=["status"])
    event = WebhookEventFactory(
        type=14,
        shop_id=store.external_shop_id,
        payload={
            "type": 14,
            "tts_notification_id": "7327112393057371910",
            "shop_id": store.external_shop_id,
            "timestamp": 1644412885,
            "data": {
                "content": '{"content":"444"}',
                "conversation_id": "710688832392260838",
                "create_time": 1681790246,
                "is_visible": True,
                "message_id": "722323407926368819",
                "index": "7494560109732334274",
                "type": "TEXT",
                "sender": {"im_user_id": "707885565181165594", "role": "BUYER"},
            },
        },
    )

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED

    event.refresh_from_db()
    assert event.result == "Ignored: sync is paused (needs re-authorization)."
    assert not Conversation.objects.exists()


def test_an_unknown_conversation_the_platform_cannot_answer_for_keeps_the_message(
    sandbox, receiver, deliver, tenant, settings
):
    store = connect_store(sandbox, tenant=tenant)
    buyer = next(store_api(store).order_pages(page_size=1)).items[0].buyer_user_id
    written = sandbox.control(
        "POST",
        "/_sandbox/buyers/write",
        {"shop_id": store.external_shop_id, "user_id": buyer, "text": "Anyone there?"},
    )
    body, signature = receiver.wait_for(14, message_id=written["id"])
    settings.TIKTOK_MAX_RETRIES = 0
    reset_default_client()
    sandbox.set_faults(rate_limit_ratio=1.0)

    event = deliver(body, signature)

    ticket = Conversation.objects.get(store=store)
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.result == (
        f"New ticket #{ticket.number} with this message only; the conversation could not be "
        "read (RateLimitedError), the poll completes it."
    )
    assert ticket.customer_id is None
    assert list(Message.objects.filter(conversation=ticket).values_list("text", flat=True)) == [
        "Anyone there?"
    ]

    sandbox.reset_faults()
    store_poll(store_id=store.pk)

    ticket.refresh_from_db()
    assert ticket.customer.buyer_user_id == buyer
    history = store_api(store).messages(ticket.external_id)
    assert Message.objects.filter(conversation=ticket).count() == len(history)
    assert ticket.message_cursor == index_key(history[-1].index)
