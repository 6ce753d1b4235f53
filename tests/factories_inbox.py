"""Factories for the mailbox: customers, tickets, messages, notes and history, snippets.

Ticket numbers come from a sequence here (unique per test run); production code takes them from
TicketCounter (inbox.ingest.next_ticket_numbers).
"""

from __future__ import annotations

from datetime import timedelta

import factory

from inbox.models import (
    Conversation,
    ConversationOrder,
    Customer,
    DeliveryStatus,
    Message,
    MessageDirection,
    OrderLinkSource,
    Snippet,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    index_key,
)
from tests.factories import TenantFactory
from tests.factories_marketplaces import BASE_TIME, StoreFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    buyer_user_id = factory.Sequence(lambda n: f"70214368104682{n:05d}")
    im_user_id = factory.Sequence(lambda n: f"72950863427113{n:05d}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    customer = factory.SubFactory(
        CustomerFactory,
        store=factory.SelfAttribute("..store"),
        tenant=factory.SelfAttribute("..tenant"),
    )
    number = factory.Sequence(lambda n: n + 1)
    external_id = factory.Sequence(lambda n: f"57627{n:014d}")
    status = TicketStatus.OPEN
    created_at = factory.Sequence(lambda n: BASE_TIME + timedelta(minutes=n))
    last_message_at = factory.SelfAttribute("created_at")
    status_changed_at = factory.SelfAttribute("created_at")


class MessageFactory(factory.django.DjangoModelFactory):
    """A buyer TEXT message by default; pass direction/sender_role/type for others."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    store = factory.SelfAttribute("conversation.store")
    tenant = factory.SelfAttribute("conversation.tenant")
    external_id = factory.Sequence(lambda n: f"75016{n:014d}")
    index_key = factory.Sequence(lambda n: index_key(7_494_000_000_000_000_000 + n))
    direction = MessageDirection.INBOUND
    sender_role = "BUYER"
    type = "TEXT"
    text = factory.Sequence(lambda n: f"Buyer message {n}")
    content = factory.LazyAttribute(lambda o: {"content": o.text} if o.type == "TEXT" else {})
    sent_at = factory.Sequence(lambda n: BASE_TIME + timedelta(seconds=n))
    created_at = factory.SelfAttribute("sent_at")


class OutboxMessageFactory(MessageFactory):
    """An agent's reply still waiting in the outbox (no platform id or index yet)."""

    external_id = None
    index_key = None
    direction = MessageDirection.OUTBOUND
    sender_role = "CUSTOMER_SERVICE"
    delivery_status = DeliveryStatus.QUEUED
    text = factory.Sequence(lambda n: f"Agent reply {n}")


class TicketEventFactory(factory.django.DjangoModelFactory):
    """An internal note by default."""

    class Meta:
        model = TicketEvent

    conversation = factory.SubFactory(ConversationFactory)
    tenant = factory.SelfAttribute("conversation.tenant")
    kind = TicketEventKind.NOTE
    body = factory.Sequence(lambda n: f"Internal note {n}")
    created_at = factory.Sequence(lambda n: BASE_TIME + timedelta(seconds=n))


class ConversationOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversationOrder

    conversation = factory.SubFactory(ConversationFactory)
    tenant = factory.SelfAttribute("conversation.tenant")
    order = None
    order_external_id = factory.LazyAttribute(
        lambda o: o.order.external_id if o.order is not None else "576461413038700001"
    )
    source = OrderLinkSource.MANUAL


class SnippetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Snippet

    tenant = factory.SubFactory(TenantFactory)
    title = factory.Sequence(lambda n: f"Saved reply {n}")
    shortcut = factory.Sequence(lambda n: f"reply-{n}")
    body = "Hello, thank you for your message."


def long_thread(store, messages: int = 130):
    """`messages` buyer messages with a note after every tenth: 143 entries for 130."""
    conversation = ConversationFactory(store=store, tenant=store.tenant)
    for n in range(messages):
        moment = BASE_TIME + timedelta(minutes=n)
        MessageFactory(conversation=conversation, sent_at=moment, created_at=moment)
        if n % 10 == 9:
            TicketEventFactory(
                conversation=conversation,
                body=f"Note after message {n}",
                created_at=moment + timedelta(seconds=30),
            )
    return conversation
