"""The ingest service on records shaped as the platform sends them (parsed by the client's own
mapping): idempotency, index order, the ticket's denormalised fields, reopen, order links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import tasks as inbox_tasks
from inbox.ingest import (
    Delivery,
    conversation_ingest,
    messages_ingest,
    messages_ingest_many,
    next_ticket_numbers,
    order_ids_in_text,
)
from inbox.models import (
    Conversation,
    ConversationOrder,
    Customer,
    DeliveryStatus,
    Message,
    MessageDirection,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from marketplaces.records import Conversation as ConversationRecord
from marketplaces.records import Message as MessageRecord
from marketplaces.tiktok import mapping
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import OrderFactory, StoreFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BUYER_USER_ID = "7494049642642441999"
BUYER_IM = "7078855651811655940"
SHOP_IM = "7078855651811650001"


def message(
    number: int,
    *,
    text: str | None = None,
    message_type: str = "TEXT",
    content: dict[str, Any] | None = None,
    role: str = "BUYER",
    visible: bool = True,
    conversation_id: str = "7106888323926000001",
    at: datetime | None = None,
) -> MessageRecord:
    """Message `number` of a conversation: index and time grow with it."""
    if content is None:
        content = {"content": text if text is not None else f"Buyer line {number}"}
    sent = at or T0 + timedelta(minutes=number)
    return mapping.message(
        {
            "id": f"72232340792636{number:05d}",
            "index": str(7494560109732334000 + number * 7),
            "type": message_type,
            "content": mapping.message_content(content)[1],
            "create_time": int(sent.timestamp()),
            "is_visible": visible,
            "sender": {
                "im_user_id": BUYER_IM if role == "BUYER" else SHOP_IM,
                "role": role,
                "nickname": "lucy_buys" if role == "BUYER" else "Sunrise Outfitters",
            },
        },
        conversation_id,
    )


def conversation(conversation_id: str = "7106888323926000001") -> ConversationRecord:
    return mapping.conversation(
        {
            "id": conversation_id,
            "participant_count": 2,
            "can_send_message": True,
            "unread_count": 1,
            "create_time": int(T0.timestamp()),
            "participants": [
                {"im_user_id": BUYER_IM, "user_id": BUYER_USER_ID, "role": "BUYER"},
                {"im_user_id": SHOP_IM, "user_id": "", "role": "SHOP"},
            ],
        }
    )


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant)


@pytest.fixture
def ticket(store) -> Conversation:
    return conversation_ingest(store=store, record=conversation())


def ingest(store, *records: MessageRecord, conversation_id: str = "7106888323926000001"):
    return messages_ingest(store=store, conversation_id=conversation_id, messages=list(records))


# --- Tickets ------------------------------------------------------------------------------------


def test_a_new_conversation_becomes_ticket_one_with_its_buyer(store, tenant):
    ticket = conversation_ingest(store=store, record=conversation())

    assert (ticket.number, ticket.tenant_id, ticket.status) == (1, tenant.pk, TicketStatus.OPEN)
    assert (ticket.external_id, ticket.created_at, ticket.message_cursor) == (
        "7106888323926000001",
        T0,
        "",
    )
    customer = Customer.objects.get()
    assert (customer.store_id, customer.buyer_user_id, customer.im_user_id) == (
        store.pk,
        BUYER_USER_ID,
        BUYER_IM,
    )
    assert ticket.customer_id == customer.pk
    assert list(TicketEvent.objects.values_list("kind", flat=True)) == [TicketEventKind.CREATED]


def test_ticket_numbers_count_per_tenant(store, other_tenant):
    their_store = StoreFactory(tenant=other_tenant)
    ours = [
        conversation_ingest(store=store, record=conversation(f"71068883239260000{n:02d}")).number
        for n in range(3)
    ]
    theirs = conversation_ingest(store=their_store, record=conversation()).number
    again = conversation_ingest(store=store, record=conversation("7106888323926000000")).number

    assert (ours, theirs, again) == ([1, 2, 3], 1, 1)
    assert Conversation.objects.filter(store=store).count() == 3


def test_the_counter_hands_out_the_next_number(tenant):
    assert [next_ticket_numbers(tenant_id=tenant.pk, count=1)[0] for _ in range(3)] == [1, 2, 3]


def test_a_message_for_an_unknown_conversation_makes_a_ticket_without_buyer_then_fills_it(store):
    result = ingest(store, message(1))
    assert (result.conversation.number, result.conversation.customer_id) == (1, None)

    conversation_ingest(store=store, record=conversation())

    ticket = Conversation.objects.get()
    assert ticket.customer.buyer_user_id == BUYER_USER_ID
    assert Conversation.objects.count() == 1


# --- Idempotency and order ----------------------------------------------------------------------


def test_the_same_messages_delivered_again_are_stored_once(store, ticket):
    first = ingest(store, message(1), message(2))
    again = ingest(store, message(2), message(1), message(2))

    assert [m.external_id for m in first.new_messages] == [
        "7223234079263600001",
        "7223234079263600002",
    ]
    assert again.new_messages == []
    assert Message.objects.count() == 2
    ticket.refresh_from_db()
    assert ticket.unread_count == 2


def test_out_of_order_arrival_keeps_index_order_and_the_newest_preview(store, ticket):
    ingest(store, message(3, text="third"))
    ingest(store, message(1, text="first"))
    ingest(store, message(2, text="second"))

    assert list(
        Message.objects.filter(conversation=ticket)
        .order_by("index_key")
        .values_list("text", flat=True)
    ) == ["first", "second", "third"]
    ticket.refresh_from_db()
    assert (ticket.last_message_preview, ticket.last_message_at) == (
        "third",
        T0 + timedelta(minutes=3),
    )
    assert ticket.last_message_from_buyer is True
    assert ticket.awaiting_reply_since == T0 + timedelta(minutes=1)
    assert ticket.unread_count == 3


def test_stored_fields_of_a_buyer_text(store, ticket, tenant):
    ingest(store, message(1, text="Hello there"))

    row = Message.objects.get()
    assert (row.tenant_id, row.store_id, row.conversation_id) == (tenant.pk, store.pk, ticket.pk)
    assert (row.external_id, row.index_key) == (
        "7223234079263600001",
        "000007494560109732334007",
    )
    assert (row.direction, row.sender_role, row.sender_name, row.type) == (
        MessageDirection.INBOUND,
        "BUYER",
        "",  # the buyer's nickname is not kept
        "TEXT",
    )
    assert (row.text, row.content, row.is_visible, row.sent_at) == (
        "Hello there",
        {"content": "Hello there"},
        True,
        T0 + timedelta(minutes=1),
    )


def test_only_a_complete_read_moves_the_cursor(store, ticket):
    ingest(store, message(5))
    ticket.refresh_from_db()
    assert ticket.message_cursor == ""  # a pushed message says nothing of the ones before it

    messages_ingest(
        store=store,
        conversation_id=ticket.external_id,
        messages=[message(1), message(2)],
        complete_after="",
    )
    ticket.refresh_from_db()
    assert ticket.message_cursor == "000007494560109732334014"


# --- Seller side, system, invisible --------------------------------------------------------------


def test_a_reply_from_seller_center_is_outbound_and_answers_the_buyer(store, ticket):
    ingest(store, message(1), message(2))
    ingest(store, message(3, text="On its way!", role="SHOP"))

    ticket.refresh_from_db()
    reply = Message.objects.get(type="TEXT", sender_role="SHOP")
    assert (reply.direction, reply.sender_name) == (MessageDirection.OUTBOUND, "Sunrise Outfitters")
    assert (ticket.awaiting_reply_since, ticket.unread_count) == (None, 0)
    assert (ticket.last_message_preview, ticket.last_message_from_buyer) == ("On its way!", False)

    ingest(store, message(4, text="Thanks"))
    ticket.refresh_from_db()
    assert (ticket.awaiting_reply_since, ticket.unread_count) == (T0 + timedelta(minutes=4), 1)


def test_a_late_buyer_message_older_than_the_reply_does_not_wait_for_an_answer(store, ticket):
    ingest(store, message(1), message(3, role="CUSTOMER_SERVICE"))
    ingest(store, message(2))

    ticket.refresh_from_db()
    assert (ticket.awaiting_reply_since, ticket.unread_count) == (None, 0)


def test_system_robot_and_invisible_messages_are_kept_but_do_not_wait_or_preview(store, ticket):
    ingest(
        store,
        message(1, text="Hello?"),
        message(2, text="We reply within 24 hours.", role="ROBOT"),
        message(
            3,
            message_type="NOTIFICATION",
            content={"content": "Please rate this conversation"},
            role="SYSTEM",
            visible=False,
        ),
    )

    rows = list(Message.objects.order_by("index_key").values_list("direction", "is_visible"))
    assert rows == [
        (MessageDirection.INBOUND, True),
        (MessageDirection.SYSTEM, True),
        (MessageDirection.SYSTEM, False),
    ]
    ticket.refresh_from_db()
    assert ticket.last_message_preview == "We reply within 24 hours."
    assert (ticket.awaiting_reply_since, ticket.unread_count) == (T0 + timedelta(minutes=1), 1)


def test_unsupported_types_are_stored_as_sent(store, ticket):
    video = {"vid": "v10394g5000cd499vc7og65mqn3r3dg0", "duration": "12.5"}
    ingest(
        store,
        message(1, message_type="VIDEO", content=video),
        message(2, message_type="HOLOGRAM", content={"beam": "1"}),
    )

    assert list(Message.objects.order_by("index_key").values_list("type", "content")) == [
        ("VIDEO", video),
        ("HOLOGRAM", {"beam": "1"}),
    ]
    ticket.refresh_from_db()
    assert ticket.last_message_preview == "[A HOLOGRAM message — not shown in Sellerdesk]"
    assert ticket.unread_count == 2


def test_our_own_reply_coming_back_is_not_duplicated_and_gets_its_place(store, ticket):
    ingest(store, message(1))
    sent = MessageFactory(
        conversation=ticket,
        external_id="7223234079263600002",
        index_key=None,
        direction=MessageDirection.OUTBOUND,
        sender_role="CUSTOMER_SERVICE",
        text="Buyer line 2",
        delivery_status=DeliveryStatus.SENT,
    )

    result = ingest(store, message(2, role="SHOP"), message(3))

    assert [m.external_id for m in result.new_messages] == ["7223234079263600003"]
    assert Message.objects.count() == 3
    sent.refresh_from_db()
    assert (sent.index_key, sent.delivery_status, sent.sent_at) == (
        "000007494560109732334014",
        DeliveryStatus.SENT,
        T0 + timedelta(minutes=2),
    )
    ticket.refresh_from_db()
    assert ticket.awaiting_reply_since == T0 + timedelta(minutes=3)


# --- Reopen -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [TicketStatus.PENDING, TicketStatus.SOLVED])
def test_a_buyer_reply_reopens_the_same_ticket(store, ticket, status):
    ingest(store, message(1))
    closed_at = timezone.now() - timedelta(minutes=5)
    Conversation.objects.filter(pk=ticket.pk).update(
        status=status, status_changed_at=closed_at, solved_at=closed_at
    )

    result = ingest(store, message(2, at=timezone.now()))

    assert result.reopened is True
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at) == (TicketStatus.OPEN, None)
    assert Conversation.objects.count() == 1
    event = TicketEvent.objects.get(kind=TicketEventKind.REOPENED)
    assert (event.conversation_id, event.data) == (ticket.pk, {"from": status, "to": "open"})


def test_a_seller_message_does_not_reopen(store, ticket):
    closed_at = timezone.now()
    Conversation.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.SOLVED, status_changed_at=closed_at
    )

    ingest(store, message(2, role="SHOP", at=closed_at + timedelta(seconds=5)))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert not TicketEvent.objects.filter(kind=TicketEventKind.REOPENED).exists()


def test_a_buyer_message_answered_before_it_arrived_does_not_reopen(store, ticket):
    closed_at = timezone.now()
    ingest(store, message(2, role="SHOP", at=closed_at - timedelta(minutes=30)))
    Conversation.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.SOLVED, status_changed_at=closed_at
    )

    # Written before the seller's reply (a lower index), delivered late: already answered.
    ingest(store, message(1, at=closed_at - timedelta(hours=1)))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert not TicketEvent.objects.filter(kind=TicketEventKind.REOPENED).exists()


@pytest.mark.parametrize("status", [TicketStatus.PENDING, TicketStatus.SOLVED])
def test_a_buyer_message_written_before_solved_but_delivered_after_reopens(store, ticket, status):
    """Issue 9, defect 5: the lost webhook's message, brought by the next poll, was left
    unread in a Solved ticket because it was written before the agent clicked Solved."""
    closed_at = timezone.now()
    Conversation.objects.filter(pk=ticket.pk).update(status=status, status_changed_at=closed_at)

    result = ingest(store, message(1, at=closed_at - timedelta(minutes=2)))

    assert result.reopened is True
    ticket.refresh_from_db()
    assert (ticket.status, ticket.unread_count) == (TicketStatus.OPEN, 1)
    assert ticket.awaiting_reply_since == closed_at.replace(microsecond=0) - timedelta(minutes=2)
    event = TicketEvent.objects.get(kind=TicketEventKind.REOPENED)
    assert event.data == {"from": status, "to": "open"}


# --- Order links --------------------------------------------------------------------------------


def test_order_ids_in_text():
    assert order_ids_in_text(
        "The order id is 576469260282336209, also 576469260282336209 and 12345 and "
        "1234567890123456789012 and #576469260282336210."
    ) == ["576469260282336209", "576469260282336210"]


def test_an_order_card_and_entered_from_order_link_synced_orders(store, ticket):
    card_order = OrderFactory(store=store, external_id="576469260282336209")
    entered_order = OrderFactory(store=store, external_id="576469260282336210")

    ingest(
        store,
        message(
            1, message_type="BUYER_ENTER_FROM_ORDER", content={"order_id": "576469260282336210"}
        ),
        message(2, message_type="ORDER_CARD", content={"order_id": "576469260282336209"}),
    )

    links = ConversationOrder.objects.order_by("order_external_id")
    assert list(links.values_list("order_external_id", "order_id", "source")) == [
        ("576469260282336209", card_order.pk, "order_card"),
        ("576469260282336210", entered_order.pk, "entered_from_order"),
    ]
    ticket.refresh_from_db()
    # Entering from an order is not a question: only the card waits for an answer.
    assert (ticket.unread_count, ticket.awaiting_reply_since) == (1, T0 + timedelta(minutes=2))
    assert TicketEvent.objects.filter(kind=TicketEventKind.ORDER_LINKED).count() == 2


def test_an_order_id_in_a_buyer_text_links_a_synced_order_of_that_store(
    store, ticket, other_tenant, django_capture_on_commit_callbacks, monkeypatch
):
    checks: list[tuple[int, list[str]]] = []
    monkeypatch.setattr(inbox_tasks.link_orders_live_many, "delay", checks.extend)
    ours = OrderFactory(store=store, external_id="576469260282336209")
    OrderFactory(store=StoreFactory(tenant=other_tenant), external_id="576469260282336211")

    with django_capture_on_commit_callbacks(execute=True):
        ingest(
            store,
            message(1, text="The order id is 576469260282336209, not 576469260282336211"),
        )

    link = ConversationOrder.objects.get()
    assert (link.order_external_id, link.order_id, link.source, link.tenant_id) == (
        "576469260282336209",
        ours.pk,
        "text",
        store.tenant_id,
    )
    # The other number is not an order of this store we hold: it is checked live after commit.
    assert checks == [(ticket.pk, ["576469260282336211"])]


def test_a_seller_text_with_an_order_id_links_nothing(store, ticket):
    OrderFactory(store=store, external_id="576469260282336209")
    ingest(store, message(1, text="Your order 576469260282336209 shipped", role="SHOP"))
    assert not ConversationOrder.objects.exists()


def test_another_tenants_mailbox_is_untouched(store, ticket, other_tenant):
    their_store = StoreFactory(tenant=other_tenant)
    theirs = ConversationFactory(store=their_store, external_id="7106888323926000001", number=7)
    MessageFactory(conversation=theirs, external_id="7223234079263600001")
    before = list(Message.objects.filter(store=their_store).values())

    ingest(store, message(1), message(2))

    assert list(Message.objects.filter(store=their_store).values()) == before
    assert Message.objects.filter(store=store).count() == 2
    theirs_after = Conversation.objects.get(pk=theirs.pk)
    assert (theirs_after.number, theirs_after.unread_count, theirs_after.tenant_id) == (
        7,
        0,
        other_tenant.pk,
    )


# --- Many conversations in one call -------------------------------------------------------------


def buyer_record(conversation_number: int, created: datetime):
    """Conversation `conversation_number` with a buyer of its own, created at `created`."""
    return mapping.conversation(
        {
            "id": f"71068883239270{conversation_number:05d}",
            "participant_count": 2,
            "can_send_message": True,
            "create_time": int(created.timestamp()),
            "participants": [
                {
                    "im_user_id": f"70788556518{conversation_number:08d}",
                    "user_id": f"74940496426{conversation_number:08d}",
                    "role": "BUYER",
                },
            ],
        }
    )


def line(conversation_number: int, number: int) -> MessageRecord:
    return mapping.message(
        {
            "id": f"7224{conversation_number:05d}{number:06d}",
            "index": str(7494560109732334000 + number * 7),
            "type": "TEXT",
            "content": f'{{"content":"line {number}"}}',
            "create_time": int((T0 + timedelta(minutes=number)).timestamp()),
            "is_visible": True,
            "sender": {"im_user_id": f"70788556518{conversation_number:08d}", "role": "BUYER"},
        },
        f"71068883239270{conversation_number:05d}",
    )


def test_a_page_of_conversations_is_stored_in_one_call_numbered_oldest_first(store):
    # Given a known ticket and two conversations seen for the first time, the newer listed first
    known = messages_ingest(
        store=store,
        conversation_id="",
        messages=[line(0, 1)],
        complete_after="",
        record=buyer_record(0, T0),
    ).conversation
    newer, older = (
        buyer_record(1, T0 + timedelta(hours=2)),
        buyer_record(2, T0 + timedelta(hours=1)),
    )

    # When one poll page brings all three
    results = messages_ingest_many(
        store=store,
        deliveries=[
            Delivery(newer.external_id, [line(1, 1), line(1, 2)], "", newer),
            Delivery(older.external_id, [line(2, 1)], "", older),
            Delivery(known.external_id, [line(0, 1), line(0, 2)], known.message_cursor, None),
        ],
    )

    # Then each is one ticket with its own buyer, the new ones numbered by age, and only the
    # messages not stored before are new
    tickets = {external_id: result.conversation for external_id, result in results.items()}
    assert [tickets[c.external_id].number for c in (newer, older)] == [3, 2]
    assert tickets[known.external_id].pk == known.pk
    assert [len(results[c.external_id].new_messages) for c in (newer, older, known)] == [2, 1, 1]
    assert Customer.objects.filter(store=store).count() == 3
    for ticket in Conversation.objects.filter(store=store):
        assert ticket.customer.buyer_user_id.endswith(ticket.external_id[-5:].rjust(8, "0"))
        assert ticket.unread_count == Message.objects.filter(conversation=ticket).count()
        newest = Message.objects.filter(conversation=ticket).order_by("-index_key").first()
        assert ticket.message_cursor == newest.index_key
        assert ticket.last_message_preview == newest.text
    assert list(
        TicketEvent.objects.filter(kind=TicketEventKind.CREATED).values_list(
            "conversation__number", flat=True
        )
    ) == [1, 2, 3]


def test_conversations_of_the_same_second_are_numbered_in_order_of_arrival(store):
    # Given two new conversations created in the same second, the larger platform id first
    # (e-mails of one batch share their Date's second, and their ids are random tokens)
    first, second = buyer_record(9, T0), buyer_record(3, T0)

    results = messages_ingest_many(
        store=store,
        deliveries=[
            Delivery(first.external_id, [line(9, 1)], "", first),
            Delivery(second.external_id, [line(3, 1)], "", second),
        ],
    )

    # Then the tie keeps the order they arrived in, not the order of their ids
    assert [results[c.external_id].conversation.number for c in (first, second)] == [1, 2]


def test_two_deliveries_for_one_conversation_are_merged_and_a_push_keeps_the_cursor(store):
    record = buyer_record(5, T0)

    results = messages_ingest_many(
        store=store,
        deliveries=[
            Delivery(record.external_id, [line(5, 1), line(5, 2)], "", record),
            Delivery(record.external_id, [line(5, 3), line(5, 2)]),  # pushed: says nothing older
        ],
    )

    (result,) = results.values()
    assert [m.text for m in result.new_messages] == ["line 1", "line 2", "line 3"]
    ticket = Conversation.objects.get()
    assert (ticket.number, ticket.unread_count, ticket.message_cursor) == (1, 3, "")
    assert ticket.last_message_preview == "line 3"


def test_the_statements_of_one_call_do_not_grow_with_its_conversations(
    store, django_assert_num_queries
):
    def page(first: int, count: int) -> list[Delivery]:
        return [
            Delivery(
                buyer_record(n, T0).external_id,
                [line(n, 1), line(n, 2)],
                "",
                buyer_record(n, T0),
            )
            for n in range(first, first + count)
        ]

    def statements(deliveries: list[Delivery]) -> int:
        with CaptureQueriesContext(connection) as captured:
            messages_ingest_many(store=store, deliveries=deliveries)
        return len(captured)

    # The tenant's first tickets create its counter row: measured apart from the pages.
    messages_ingest_many(store=store, deliveries=page(100, 1))
    new_small, new_large = statements(page(0, 2)), statements(page(10, 20))

    def pushes(number: int, count: int) -> list[Delivery]:
        return [
            Delivery(buyer_record(n, T0).external_id, [line(n, number)])
            for n in range(10, 10 + count)
        ]

    known_small, known_large = statements(pushes(3, 2)), statements(pushes(4, 20))

    assert new_small == new_large
    assert known_small == known_large
    assert Conversation.objects.filter(store=store).count() == 23
    assert Message.objects.filter(store=store).count() == 23 * 2 + 2 + 20
