"""The ticket page's window: exactly the tail of the whole thread, read in as many queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import selectors
from tests.factories_inbox import (
    ConversationFactory,
    MessageFactory,
    OutboxMessageFactory,
    TicketEventFactory,
)
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db


def _keys(entries) -> list[str]:
    return [f"m{e.message.pk}" if e.message else f"e{e.event.pk}" for e in entries]


@pytest.fixture
def conversation(tenant):
    return ConversationFactory(store=StoreFactory(tenant=tenant))


def _fill(conversation, messages: int) -> None:
    for number in range(messages):
        message = MessageFactory(conversation=conversation)
        if number % 4 == 0:  # a note or history row between messages now and then
            TicketEventFactory(
                conversation=conversation, created_at=message.sent_at + timedelta(milliseconds=1)
            )
    if messages:  # a history row older than every message
        TicketEventFactory(
            conversation=conversation, created_at=message.sent_at - timedelta(days=1)
        )
    OutboxMessageFactory(conversation=conversation)  # queued: no index yet, goes last
    MessageFactory(conversation=conversation, is_visible=False)  # never shown, never counted


@pytest.mark.parametrize(("messages", "newest"), [(40, 10), (40, 60), (3, 10), (0, 10)])
def test_the_window_is_the_tail_of_the_whole_thread(conversation, messages, newest):
    _fill(conversation, messages)
    whole = selectors.thread(conversation=conversation)

    shown, hidden = selectors.thread_window(conversation=conversation, newest=newest)

    assert _keys(shown) == _keys(whole[-newest:])
    assert hidden == len(whole) - len(shown)


def test_the_window_costs_the_same_queries_as_the_whole_thread(conversation):
    _fill(conversation, 40)
    with CaptureQueriesContext(connection) as whole:
        selectors.thread(conversation=conversation)
    with CaptureQueriesContext(connection) as window:
        selectors.thread_window(conversation=conversation, newest=10)
    assert len(window.captured_queries) == len(whole.captured_queries) == 2
