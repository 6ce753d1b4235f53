"""A burst of NEW_MESSAGE notifications: the intake enqueues one drain per shop, the drain stores
the waiting messages a batch per transaction, and whatever the batch cannot take (a conversation
seen for the first time, a malformed event, a failing batch) still goes through one at a time.

Events are built from the official NEW_MESSAGE sample (contract §8.3, type 14).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import webhooks
from inbox.ingest import messages_ingest
from inbox.models import Conversation, Message, TicketStatus
from marketplaces import services
from marketplaces import tasks as marketplace_tasks
from marketplaces.models import Store, StoreStatus, WebhookEvent, WebhookEventStatus, WebhookType
from marketplaces.services import webhook_event_process, webhook_event_receive, webhook_events_drain
from marketplaces.tiktok import mapping
from tests.factories_marketplaces import StoreFactory
from tests.samples import SAMPLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

SAMPLE = json.loads((SAMPLES / "webhook_14_NEW_MESSAGE.json").read_text())["request_sample"]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def conversation_id(n: int) -> str:
    return f"7106888323926{n:05d}"


def notification(store, conversation: int, number: int, *, tag: str = "") -> dict:
    """The official sample, for message `number` of conversation `conversation` of `store`."""
    body = copy.deepcopy(SAMPLE)
    body["tts_notification_id"] = f"73271123930{conversation:03d}{number:05d}{tag}"
    body["shop_id"] = store.external_shop_id
    body["data"].update(
        conversation_id=conversation_id(conversation),
        message_id=f"72232340792{conversation:03d}{number:05d}",
        index=str(7494560109732334274 + number * 5),
        create_time=int((T0 + timedelta(minutes=number)).timestamp()),
        content=json.dumps({"content": f"message {number}"}),
    )
    return body


def receive(store, conversation: int, number: int, *, tag: str = "") -> WebhookEvent:
    body = notification(store, conversation, number, tag=tag)
    return WebhookEvent.objects.create(
        notification_id=body["tts_notification_id"],
        type=WebhookType.NEW_MESSAGE,
        shop_id=store.external_shop_id,
        payload=body,
    )


def known_ticket(store, conversation: int) -> Conversation:
    first = mapping.message(
        {**notification(store, conversation, 0)["data"], "id": f"7200{conversation:05d}"},
        conversation_id(conversation),
    )
    return messages_ingest(
        store=store, conversation_id=conversation_id(conversation), messages=[first]
    ).conversation


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant)


def test_a_burst_enqueues_one_drain_per_shop_until_it_has_run(
    store, monkeypatch, django_capture_on_commit_callbacks
):
    drains: list[tuple[str, int]] = []
    monkeypatch.setattr(
        marketplace_tasks.process_webhook_events,
        "delay",
        lambda shop_id, kind: drains.append((shop_id, kind)),
    )
    monkeypatch.setattr(marketplace_tasks.process_webhook_event, "delay", pytest.fail)
    known_ticket(store, 1)

    def intake(number: int) -> None:
        body = notification(store, 1, number)
        with django_capture_on_commit_callbacks(execute=True):
            webhook_event_receive(
                notification_id=body["tts_notification_id"],
                webhook_type=14,
                shop_id=store.external_shop_id,
                payload=body,
            )

    for number in (1, 2, 3):
        intake(number)
    assert drains == [(store.external_shop_id, 14)]

    assert webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14) == 3
    intake(4)  # after the drain: a new one is on its way

    assert drains == [(store.external_shop_id, 14)] * 2
    assert WebhookEvent.objects.filter(status=WebhookEventStatus.PROCESSED).count() == 3


def test_a_drain_stores_every_waiting_message_once_in_statements_that_do_not_grow(store):
    for conversation in range(12):
        known_ticket(store, conversation)

    def drain_statements(first: int, count: int) -> int:
        for n in range(first, first + count):
            receive(store, n % 12, n)
            receive(store, n % 12, n, tag="9")  # the same message, delivered twice
        with CaptureQueriesContext(connection) as captured:
            assert (
                webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14) == 2 * count
            )
        return len(captured)

    small, large = drain_statements(1, 3), drain_statements(100, 40)

    assert small == large
    assert Message.objects.filter(store=store).count() == 12 + 3 + 40
    assert not WebhookEvent.objects.exclude(status=WebhookEventStatus.PROCESSED).exists()
    # Of each message's two deliveries, one stored it and the other says it was there already.
    results = [
        result.split(" ")[2] for result in WebhookEvent.objects.values_list("result", flat=True)
    ]
    assert results.count("stored") == 43
    assert results.count("already") == 43
    for ticket in Conversation.objects.filter(store=store):
        assert ticket.unread_count == Message.objects.filter(conversation=ticket).count()


def test_a_buyer_message_in_a_burst_reopens_its_solved_ticket(store):
    ticket = known_ticket(store, 1)
    Conversation.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.SOLVED, status_changed_at=T0
    )
    reply = receive(store, 1, 5)
    # A conversation seen for the first time is left to the one-event handler, which reads it
    # from the platform; with sync paused it is ignored there (and the known one still lands).
    Store.objects.filter(pk=store.pk).update(status=StoreStatus.NEEDS_REAUTH)
    unknown = receive(store, 2, 6)

    webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    reply.refresh_from_db()
    unknown.refresh_from_db()
    assert reply.result.endswith("Ticket reopened.")
    assert unknown.result == "Ignored: sync is paused (needs re-authorization)."
    assert unknown.status == WebhookEventStatus.PROCESSED
    assert not Conversation.objects.filter(external_id=conversation_id(2)).exists()


def test_a_malformed_event_fails_alone_and_the_rest_of_its_burst_is_stored(store):
    known_ticket(store, 1)
    good = [receive(store, 1, n) for n in (1, 2)]
    broken = receive(store, 1, 3)
    broken.payload["data"].pop("conversation_id")
    broken.save()

    webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14)

    for event in good:
        event.refresh_from_db()
        assert event.status == WebhookEventStatus.PROCESSED
    broken.refresh_from_db()
    assert broken.status == WebhookEventStatus.FAILED
    assert "conversation_id" in broken.last_error
    assert Message.objects.filter(store=store).count() == 3


def test_a_failing_batch_falls_back_to_one_event_at_a_time(store, monkeypatch):
    known_ticket(store, 1)
    for n in (1, 2, 3):
        receive(store, 1, n)

    def broken_batch(events, store):
        raise RuntimeError("batch handler bug")

    monkeypatch.setitem(services._BATCH_HANDLERS, WebhookType.NEW_MESSAGE, broken_batch)

    assert webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14) == 3

    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
        WebhookEventStatus.PROCESSED
    }
    assert Message.objects.filter(store=store).count() == 4


def test_an_events_own_task_takes_only_it_and_a_drain_only_its_shops_events(store):
    # The sweeper hands a forgotten event to its own task; the drain takes its shop's batch.
    known_ticket(store, 1)
    other_shop = StoreFactory(tenant=store.tenant)
    known_ticket(other_shop, 7)
    events = [receive(store, 1, n) for n in (1, 2, 3)]
    theirs = receive(other_shop, 7, 1)

    assert webhook_event_process(event_id=events[0].pk) == WebhookEventStatus.PROCESSED
    assert Message.objects.filter(store=store).count() == 2
    assert webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14) == 2
    assert webhook_event_process(event_id=events[1].pk) is None  # already processed

    assert Message.objects.filter(store=store).count() == 4
    theirs.refresh_from_db()
    assert theirs.status == WebhookEventStatus.RECEIVED  # another shop's: its own drain's


def test_a_worker_killed_mid_batch_leaves_its_events_waiting_for_the_next_drain(store, monkeypatch):
    known_ticket(store, 1)
    for n in (1, 2, 3):
        receive(store, 1, n)
    real_ingest = webhooks.messages_ingest_many

    def killed(**kwargs):
        real_ingest(**kwargs)  # the messages are written, then the worker dies before commit
        raise SystemExit("worker killed")

    monkeypatch.setattr(webhooks, "messages_ingest_many", killed)
    with pytest.raises(SystemExit):
        webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14)

    # Nothing of the batch remains: the events wait, the messages are not there.
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {
        (WebhookEventStatus.RECEIVED, 0)
    }
    assert Message.objects.filter(store=store).count() == 1

    monkeypatch.setattr(webhooks, "messages_ingest_many", real_ingest)
    assert webhook_events_drain(shop_id=store.external_shop_id, webhook_type=14) == 3
    assert Message.objects.filter(store=store).count() == 4
    assert Conversation.objects.get().unread_count == 4
