"""The set-based writes of config.db, on the database the suite runs on (PostgreSQL in CI: the
JSON-batch statements; elsewhere the ORM's bulk methods they stand in for)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.db import DataError, IntegrityError, transaction

from config.db import rows_insert_new, rows_update
from inbox.models import Conversation, Message, MessageDirection
from tests.factories_inbox import ConversationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_rows_update_writes_each_rows_own_values_and_only_rows_the_queryset_matches():
    first, second, third = ConversationFactory.create_batch(3)
    first.last_message_preview, first.unread_count, first.awaiting_reply_since = "one", 1, T0
    second.last_message_preview, second.unread_count, second.awaiting_reply_since = "two", 2, None
    third.last_message_preview = "not matched"

    written = rows_update(
        Conversation.objects.exclude(pk=third.pk),
        [first, second, third],
        ["last_message_preview", "unread_count", "awaiting_reply_since"],
    )

    assert written == 2
    rows = {
        row.pk: (row.last_message_preview, row.unread_count, row.awaiting_reply_since)
        for row in Conversation.objects.all()
    }
    assert rows[first.pk] == ("one", 1, T0)
    assert rows[second.pk] == ("two", 2, None)
    assert rows[third.pk][0] != "not matched"


@pytest.mark.postgres  # SQLite does not enforce a varchar's length
def test_rows_update_refuses_a_value_too_long_for_its_column_instead_of_cutting_it():
    ticket = ConversationFactory()
    ticket.last_message_preview = "x" * 256  # the column holds 255

    with pytest.raises(DataError), transaction.atomic():
        rows_update(Conversation.objects.all(), [ticket], ["last_message_preview"])


def message(ticket: Conversation, external_id: str, content: dict) -> Message:
    return Message(
        tenant_id=ticket.tenant_id,
        store_id=ticket.store_id,
        conversation=ticket,
        public_id=uuid.uuid4(),
        external_id=external_id,
        index_key=external_id.zfill(24),
        direction=MessageDirection.INBOUND,
        type="TEXT",
        text=f"text {external_id}",
        content=content,
        sent_at=T0,
    )


def test_rows_insert_new_returns_only_the_rows_it_inserted_with_their_keys():
    ticket = ConversationFactory()
    rows_insert_new(Message, [message(ticket, "1", {})], conflict=CONFLICT)
    # A platform number beyond 64 bits in the content still travels.
    batch = [message(ticket, "1", {}), message(ticket, "2", {"order_id": 2**70, "a": [1]})]

    inserted = rows_insert_new(Message, batch, conflict=CONFLICT)

    assert inserted == [batch[1]]
    stored = Message.objects.get(pk=batch[1].pk)
    assert (stored.external_id, stored.content, stored.sent_at, stored.public_id) == (
        "2",
        {"order_id": 2**70, "a": [1]},
        T0,
        batch[1].public_id,
    )
    assert Message.objects.filter(conversation=ticket).count() == 2


@pytest.mark.postgres  # SQLite's INSERT OR IGNORE ignores every constraint
def test_rows_insert_new_still_refuses_what_another_constraint_forbids():
    ticket = ConversationFactory()
    row = message(ticket, "1", {})
    rows_insert_new(Message, [row], conflict=CONFLICT)
    again = message(ticket, "9", {})
    again.public_id = row.public_id  # unique too, but not the conflict target

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert_new(Message, [again], conflict=CONFLICT)


CONFLICT = '("store_id", "external_id") WHERE "external_id" IS NOT NULL'
