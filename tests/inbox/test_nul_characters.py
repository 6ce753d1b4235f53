"""A buyer message with a NUL character (U+0000) is stored, on SQLite and on PostgreSQL (whose
text columns cannot hold one): the NUL is removed the same way on both, the rest of the text,
the message and its ticket's preview are kept. Nothing is dropped silently."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inbox.ingest import messages_ingest
from inbox.models import Conversation, Message
from marketplaces.tiktok import mapping
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

CONVERSATION = "7106888323926000001"


def record(number: int, text: str):
    return mapping.message(
        {
            "id": f"72232340792636{number:05d}",
            "index": str(7494560109732334000 + number * 7),
            "type": "TEXT",
            "content": mapping.message_content({"content": text})[1],
            "create_time": int(datetime(2026, 11, 20, 9, number, tzinfo=UTC).timestamp()),
            "is_visible": True,
            "sender": {"im_user_id": "7078855651811655940", "role": "BUYER", "nickname": "lucy"},
        },
        CONVERSATION,
    )


def test_a_message_with_a_nul_character_is_stored_without_it(tenant, db_vendor):
    store = StoreFactory(tenant=tenant)

    result = messages_ingest(
        store=store,
        conversation_id=CONVERSATION,
        messages=[record(1, "Where\x00 is my\x00\x00 order?"), record(2, "\x00")],
    )

    assert len(result.new_messages) == 2
    stored = list(Message.objects.order_by("index_key"))
    assert [m.text for m in stored] == ["Where is my order?", ""]
    assert stored[0].content == {"content": "Where is my order?"}
    assert "\x00" not in str(stored[1].content)
    ticket = Conversation.objects.get()
    assert "\x00" not in ticket.last_message_preview
