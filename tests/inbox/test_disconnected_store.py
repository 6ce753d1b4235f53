"""A disconnected store stores no more buyer messages, even for conversations it knows: not from
NEW_MESSAGE notifications (one at a time or a burst) and not from the poll."""

from __future__ import annotations

import json

import pytest

from inbox.models import Message
from inbox.polling import PollOutcome, store_poll
from marketplaces.models import StoreStatus, WebhookEvent, WebhookEventStatus
from marketplaces.services import webhook_event_process, webhook_events_drain
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory
from tests.samples import SAMPLES

pytestmark = pytest.mark.django_db

SHOP = "7494049642642441621"
CONVERSATION = "710688832392260838"


def new_message_event(notification_id: str, message_id: str) -> WebhookEvent:
    body = json.loads((SAMPLES / "webhook_14_NEW_MESSAGE.json").read_text())["request_sample"]
    body["tts_notification_id"] = notification_id
    body["data"]["message_id"] = message_id
    return WebhookEvent.objects.create(
        notification_id=notification_id, type=14, shop_id=SHOP, payload=body
    )


@pytest.fixture
def known_conversation(tenant):
    store = StoreFactory(tenant=tenant, external_shop_id=SHOP, status=StoreStatus.DISCONNECTED)
    return ConversationFactory(store=store, external_id=CONVERSATION)


def test_a_new_message_for_a_known_conversation_of_a_disconnected_store_is_not_stored(
    known_conversation, private_cache
):
    event = new_message_event("7327112393057371911", "722323407926368811")

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED

    event.refresh_from_db()
    assert event.result == "Ignored: the store is disconnected."
    assert Message.objects.count() == 0


def test_a_burst_for_a_disconnected_store_is_not_stored(known_conversation, private_cache):
    events = [new_message_event(f"73271123930573719{n}", f"72232340792636881{n}") for n in range(3)]

    webhook_events_drain(shop_id=SHOP, webhook_type=14)

    assert Message.objects.count() == 0
    assert [WebhookEvent.objects.get(pk=e.pk).result for e in events] == [
        "Ignored: the store is disconnected."
    ] * 3


def test_the_poll_skips_a_disconnected_store(known_conversation):
    assert store_poll(store_id=known_conversation.store_id).outcome == PollOutcome.SKIPPED
    assert Message.objects.count() == 0
