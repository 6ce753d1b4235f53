"""Races on PostgreSQL: workers ingesting at the same time, each with its own connection.

Ticket numbers stay unique and gapless per tenant; one conversation delivered by several workers
at once becomes one ticket with each message once; the ticket's counters add up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from inbox.ingest import Delivery, conversation_ingest, messages_ingest, messages_ingest_many
from inbox.models import Conversation, Message, TicketCounter
from marketplaces.models import WebhookEvent, WebhookEventStatus, WebhookType
from marketplaces.services import webhook_events_drain
from marketplaces.tiktok import mapping
from tests.factories_marketplaces import StoreFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 4
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def race(work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(RACERS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(racer: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work(racer)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # surfaced below, with the thread's own error
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == RACERS
    return results


def conversation_record(number: int):
    return mapping.conversation(
        {
            "id": f"71068883239260{number:05d}",
            "participant_count": 2,
            "can_send_message": True,
            "create_time": int(T0.timestamp()),
            "participants": [
                {
                    "im_user_id": f"70788556518{number:05d}",
                    "user_id": f"749404964264{number:05d}",
                    "role": "BUYER",
                },
            ],
        }
    )


def buyer_message(conversation: int, number: int):
    return mapping.message(
        {
            "id": f"7223{conversation:05d}{number:06d}",
            "index": str(7494560109732334000 + number * 3),
            "type": "TEXT",
            "content": f'{{"content":"line {number}"}}',
            "create_time": int((T0 + timedelta(seconds=number)).timestamp()),
            "is_visible": True,
            "sender": {"im_user_id": "707885565181165594", "role": "BUYER"},
        },
        f"71068883239260{conversation:05d}",
    )


def test_ticket_numbers_are_unique_and_gapless_under_concurrency(tenant, other_tenant):
    store = StoreFactory(tenant=tenant)
    second_store = StoreFactory(tenant=tenant)
    theirs = StoreFactory(tenant=other_tenant)

    def work(racer: int) -> list[int]:
        numbers = []
        # Every racer sees the same 10 shared conversations, plus 10 of its own, in two stores.
        for n in range(10):
            numbers.append(conversation_ingest(store=store, record=conversation_record(n)).number)
            own = 100 + racer * 10 + n
            target = second_store if n % 2 else store
            numbers.append(
                conversation_ingest(store=target, record=conversation_record(own)).number
            )
        conversation_ingest(store=theirs, record=conversation_record(racer))
        return numbers

    race(work)

    ours = sorted(Conversation.objects.filter(tenant=tenant).values_list("number", flat=True))
    assert ours == list(range(1, 10 + RACERS * 10 + 1))
    assert (
        Conversation.objects.filter(
            store=store, external_id__startswith="71068883239260000"
        ).count()
        == 10
    )
    assert TicketCounter.objects.get(tenant=tenant).last_number == 10 + RACERS * 10
    assert sorted(
        Conversation.objects.filter(tenant=other_tenant).values_list("number", flat=True)
    ) == [1, 2, 3, 4]


def test_workers_delivering_one_conversation_at_once_store_each_message_once(tenant):
    store = StoreFactory(tenant=tenant)
    messages = [buyer_message(1, n) for n in range(1, 41)]

    def work(racer: int) -> int:
        # Each racer delivers an overlapping, differently ordered slice (webhooks and polls).
        mine = messages[racer * 5 : racer * 5 + 25]
        mine = mine[::-1] if racer % 2 else mine
        result = messages_ingest(store=store, conversation_id="7106888323926000001", messages=mine)
        return len(result.new_messages)

    created = race(work)

    assert sum(created) == 40
    ticket = Conversation.objects.get(store=store)
    assert ticket.number == 1
    assert Message.objects.filter(conversation=ticket).count() == 40
    assert ticket.unread_count == 40
    assert ticket.last_message_preview == "line 40"
    assert ticket.awaiting_reply_since == T0 + timedelta(seconds=1)


def test_racing_poll_pages_of_overlapping_conversations_number_them_once(tenant):
    store = StoreFactory(tenant=tenant)

    def work(racer: int) -> int:
        # Racer r reads conversations 5r..5r+9: each overlaps its neighbours by five.
        results = messages_ingest_many(
            store=store,
            deliveries=[
                Delivery(
                    conversation_record(n).external_id,
                    [buyer_message(n, 1), buyer_message(n, 2)],
                    "",
                    conversation_record(n),
                )
                for n in range(racer * 5, racer * 5 + 10)
            ],
        )
        return sum(len(result.new_messages) for result in results.values())

    created = race(work)

    conversations = 5 * RACERS + 5
    assert sum(created) == 2 * conversations
    numbers = sorted(Conversation.objects.filter(store=store).values_list("number", flat=True))
    assert numbers == list(range(1, conversations + 1))
    assert Message.objects.filter(store=store).count() == 2 * conversations
    assert set(Conversation.objects.values_list("unread_count", flat=True)) == {2}


@pytest.mark.usefixtures("private_cache")
def test_racing_drains_store_a_burst_of_notifications_once(tenant):
    store = StoreFactory(tenant=tenant)
    for n in range(20):
        conversation_ingest(store=store, record=conversation_record(n))
    events = []
    for number in range(1, 201):
        message = buyer_message(number % 20, number)
        for copy in ("a", "b"):  # every message delivered twice
            events.append(
                WebhookEvent(
                    notification_id=f"{number}{copy}",
                    type=WebhookType.NEW_MESSAGE,
                    shop_id=store.external_shop_id,
                    payload={
                        "type": 14,
                        "tts_notification_id": f"{number}{copy}",
                        "shop_id": store.external_shop_id,
                        "data": {
                            "conversation_id": message.conversation_id,
                            "message_id": message.external_id,
                            "index": message.index,
                            "type": "TEXT",
                            "content": f'{{"content":"line {number}"}}',
                            "create_time": int(message.created_at.timestamp()),
                            "is_visible": True,
                            "sender": {"im_user_id": "707885565181165594", "role": "BUYER"},
                        },
                    },
                )
            )
    WebhookEvent.objects.bulk_create(events)

    processed = race(
        lambda racer: webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14)
    )

    assert sum(processed) == 400
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
        WebhookEventStatus.PROCESSED
    }
    assert Message.objects.filter(store=store).count() == 200
    for ticket in Conversation.objects.filter(store=store):
        assert ticket.unread_count == 10
        assert ticket.messages.count() == 10
