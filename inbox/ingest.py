"""The one way platform conversations and messages enter the mailbox (webhooks and the poll).

Idempotent by construction: a message is unique per (store, external id), so the same message
delivered by three webhooks and a poll, in any order, is stored once. Messages are inserted in
bulk with conflicts ignored and the rows that are really new are read back by the public ids this
call generated; only those move the ticket (preview, unread count, awaiting reply, reopen, order
links).

The tickets are row-locked for the length of an ingest, so a webhook and a poll delivering to
the same conversation at once update its denormalised fields one after the other. Ticket numbers
come from the tenant's TicketCounter, locked before any ticket is created and until commit, so
numbers stay unique and gapless (a rollback hands them back).

One call may carry many conversations (`messages_ingest_many`): a poll's page or a burst of
webhook deliveries is stored with a fixed number of statements in one transaction.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils import timezone

from config.db import rows_insert_new, rows_update, without_nul
from marketplaces import records
from marketplaces.channel import capabilities_for, platforms_with_orders
from marketplaces.models import Store
from orders.models import Order
from search import index as search_index
from sla.clocks import ClockConfig, clock_config, ticket_moved

from . import events as inbox_events
from .display import message_preview
from .models import (
    Conversation,
    ConversationOrder,
    Customer,
    Message,
    MessageDirection,
    OrderLinkSource,
    TicketCounter,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    index_key,
)
from .signals import buyer_messages_stored_send

logger = logging.getLogger(__name__)

SELLER_ROLES = frozenset({"SHOP", "CUSTOMER_SERVICE"})
SYSTEM_ROLES = frozenset({"SYSTEM", "ROBOT"})
# Notices the platform sends in the buyer's or the shop's name; they are events, not messages.
SYSTEM_TYPES = frozenset({"NOTIFICATION", "ALLOCATED_SERVICE"})
# Sent automatically when a buyer opens the chat from somewhere, or by the buyer's mail system
# (an out-of-office answer, a delivery failure): not a question to answer, never reopens.
ENTRY_TYPES = frozenset(
    {
        "BUYER_ENTER_FROM_ORDER",
        "BUYER_ENTER_FROM_PRODUCT",
        "BUYER_ENTER_FROM_TRANSFER",
        "AUTO_REPLY",
        "DELIVERY_FAILURE",
    }
)
ORDER_LINK_TYPES = {
    "ORDER_CARD": OrderLinkSource.ORDER_CARD,
    "BUYER_ENTER_FROM_ORDER": OrderLinkSource.ENTERED_FROM_ORDER,
}
# Order ids are 15-20 digit numbers (contract §4); a longer or shorter run of digits is not one.
ORDER_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{15,20})(?!\d)")
# Distinct order ids looked for in one message: a pasted list of numbers is not a support case.
MAX_TEXT_ORDER_IDS = 5


def direction_of(record: records.Message) -> MessageDirection:
    role = record.sender.role
    if role in SYSTEM_ROLES or record.type in SYSTEM_TYPES:
        return MessageDirection.SYSTEM
    if role in SELLER_ROLES:
        return MessageDirection.OUTBOUND
    if role == records.SenderRole.BUYER:
        return MessageDirection.INBOUND
    return MessageDirection.SYSTEM  # a role TikTok adds later: kept, never mistaken for the buyer


def _needs_reply(message: Message) -> bool:
    """A buyer message someone should answer (reopens, counts as unread, starts the SLA)."""
    return (
        message.direction == MessageDirection.INBOUND
        and message.is_visible
        and message.type not in ENTRY_TYPES
    )


_NEEDS_REPLY = Q(direction=MessageDirection.INBOUND, is_visible=True) & ~Q(type__in=ENTRY_TYPES)
NEEDS_REPLY = _NEEDS_REPLY  # the same rule for the SLA clocks (sla.services)


def order_ids_in_text(text: str) -> list[str]:
    """Order-id-like numbers in a buyer's text, first occurrence order, at most a few."""
    found: list[str] = []
    for match in ORDER_ID_IN_TEXT.finditer(text or ""):
        if match.group(1) not in found:
            found.append(match.group(1))
        if len(found) == MAX_TEXT_ORDER_IDS:
            break
    return found


def _history(
    conversation: Conversation, kind: TicketEventKind, body: str, data: dict[str, object]
) -> TicketEvent:
    """An entry of the ticket's history (saved by the caller, in bulk)."""
    return TicketEvent(
        tenant_id=conversation.tenant_id, conversation=conversation, kind=kind, body=body, data=data
    )


# --- Tickets ------------------------------------------------------------------------------------


_NEXT_NUMBERS_SQL = (
    f"UPDATE {TicketCounter._meta.db_table} SET last_number = last_number + %s "  # noqa: S608
    "WHERE tenant_id = %s RETURNING last_number"
)


def _counter_lock(tenant_id: int) -> None:
    """Takes the tenant's counter row lock (held until commit): it serialises ticket creation."""
    counter = TicketCounter.objects.select_for_update().filter(tenant_id=tenant_id)
    if not counter.exists():  # the tenant's first ticket
        TicketCounter.objects.get_or_create(tenant_id=tenant_id)
        counter.exists()


def next_ticket_numbers(*, tenant_id: int, count: int) -> list[int]:
    """The tenant's next `count` ticket numbers; the counter row stays locked until commit.

    Call inside a transaction, so that a rollback hands the numbers back (numbers stay gapless).
    """
    if count < 1:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBERS_SQL, [count, tenant_id])
        row = cursor.fetchone()
        if row is None:  # the tenant's first ticket
            TicketCounter.objects.get_or_create(tenant_id=tenant_id)
            cursor.execute(_NEXT_NUMBERS_SQL, [count, tenant_id])
            row = cursor.fetchone()
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


def _customers_for(
    *, store: Store, records_: Iterable[records.Conversation]
) -> dict[str, Customer]:
    """The buyers of these conversations, created on first sight; keyed by buyer user id."""
    buyers = {
        record.buyer.user_id: record.buyer
        for record in records_
        if record.buyer is not None and record.buyer.user_id
    }
    if not buyers:
        return {}
    Customer.objects.bulk_create(
        [
            Customer(
                tenant_id=store.tenant_id,
                store=store,
                buyer_user_id=user_id,
                im_user_id=buyer.im_user_id or "",
            )
            for user_id, buyer in buyers.items()
        ],
        ignore_conflicts=True,
    )
    customers = {
        customer.buyer_user_id: customer
        for customer in Customer.objects.filter(store=store, buyer_user_id__in=buyers)
    }
    moved = []
    for user_id, customer in customers.items():
        im_user_id = buyers[user_id].im_user_id
        if im_user_id and customer.im_user_id != im_user_id:
            customer.im_user_id = im_user_id
            moved.append(customer)
    if moved:
        Customer.objects.bulk_update(moved, ["im_user_id"])
    return customers


def _customer_of(
    record: records.Conversation | None, customers: dict[str, Customer]
) -> Customer | None:
    buyer = record.buyer if record is not None else None
    return customers.get(buyer.user_id) if buyer is not None and buyer.user_id else None


def _locked_tickets(*, store: Store, external_ids: Iterable[str]) -> dict[str, Conversation]:
    """The store's tickets of these conversations, row-locked (in id order: no deadlocks)."""
    return {
        ticket.external_id: ticket
        for ticket in Conversation.objects.select_for_update()
        .filter(store=store, external_id__in=list(external_ids))
        .order_by("pk")
    }


def _tickets_create(
    *,
    store: Store,
    external_ids: Sequence[str],
    records_: dict[str, records.Conversation],
    customers: dict[str, Customer],
) -> list[Conversation]:
    """New tickets, numbered oldest conversation first; the caller holds the counter lock."""
    now = timezone.now()

    def created_at(external_id: str) -> datetime:
        record = records_.get(external_id)
        return (record.created_at if record is not None else None) or now

    # Ties (a batch of e-mails dated the same second) keep the order of arrival: sorted() is
    # stable, and `external_ids` comes in delivery order.
    ordered = sorted(external_ids, key=created_at)
    numbers = next_ticket_numbers(tenant_id=store.tenant_id, count=len(ordered))
    tickets = []
    for number, external_id in zip(numbers, ordered, strict=True):
        record = records_.get(external_id)
        tickets.append(
            Conversation(
                tenant_id=store.tenant_id,
                store=store,
                customer=_customer_of(record, customers),
                number=number,
                external_id=external_id,
                created_at=created_at(external_id),
                last_message_at=created_at(external_id),
                status_changed_at=now,
                can_send_message=record.can_send_message if record else True,
                participant_count=(record.participant_count or 2) if record else 2,
            )
        )
    Conversation.objects.bulk_create(tickets)
    for ticket in tickets:
        ticket.created_now = True  # type: ignore[attr-defined]  (announced once stored)
    TicketEvent.objects.bulk_create(
        [
            _history(ticket, TicketEventKind.CREATED, "", {"conversation_id": ticket.external_id})
            for ticket in tickets
        ]
    )
    return tickets


def _ticket_refresh(
    ticket: Conversation, record: records.Conversation, customers: dict[str, Customer]
) -> set[str]:
    """Brings an existing ticket's buyer and flags up to the conversation list; changed fields."""
    changed: set[str] = set()
    if ticket.customer_id is None:
        customer = _customer_of(record, customers)
        if customer is not None:
            ticket.customer = customer
            changed.add("customer")
    if ticket.can_send_message != record.can_send_message:
        ticket.can_send_message = record.can_send_message
        changed.add("can_send_message")
    if record.participant_count and ticket.participant_count != record.participant_count:
        ticket.participant_count = record.participant_count
        changed.add("participant_count")
    return changed


def tickets_ingest(
    *,
    store: Store,
    external_ids: Sequence[str],
    records_: dict[str, records.Conversation] | None = None,
) -> tuple[dict[str, Conversation], dict[str, set[str]]]:
    """The tickets of these conversations, row-locked, created on first sight; call inside a
    transaction. Returns (tickets by conversation id, fields changed and not yet saved by id).

    `records_` (from the conversations list) bring the buyer and the flags; a conversation
    without one (a message for a conversation the list did not show) gets a ticket without a
    customer that the next poll fills in.

    Race-safe without retries: creating tickets takes the tenant's counter lock first and only
    then locks the conversations, the one order every worker follows, so a conversation missing
    after the counter lock is missing for everybody until this transaction commits, and its
    number is handed out exactly once.
    """
    records_ = records_ or {}
    wanted = list(dict.fromkeys(external_ids))
    existing = set(
        Conversation.objects.filter(store=store, external_id__in=wanted).values_list(
            "external_id", flat=True
        )
    )
    if len(existing) < len(wanted):
        _counter_lock(store.tenant_id)
    tickets = _locked_tickets(store=store, external_ids=wanted)
    missing = [external_id for external_id in wanted if external_id not in tickets]
    needs_buyer = [
        record
        for external_id, record in records_.items()
        if external_id in missing
        or (external_id in tickets and tickets[external_id].customer_id is None)
    ]
    customers = _customers_for(store=store, records_=needs_buyer)
    changed: dict[str, set[str]] = {external_id: set() for external_id in wanted}
    for external_id, ticket in tickets.items():
        record = records_.get(external_id)
        if record is not None:
            changed[external_id] |= _ticket_refresh(ticket, record, customers)
    if missing:
        for ticket in _tickets_create(
            store=store, external_ids=missing, records_=records_, customers=customers
        ):
            tickets[ticket.external_id] = ticket
    return tickets, changed


def _search_words(
    store: Store,
    tickets: Sequence[Conversation],
    changed: dict[str, set[str]],
    new_messages: dict[int, list[Message]],
) -> dict[int, tuple[str, str]]:
    """Per ticket pk, what its search document gains: (buyer terms when the ticket got its
    buyer now, the text of its new visible messages)."""
    words: dict[int, tuple[str, str]] = {}
    for ticket in tickets:
        buyer = ""
        got_buyer = getattr(ticket, "created_now", False) or "customer" in changed.get(
            ticket.external_id, ()
        )
        if got_buyer and ticket.customer_id is not None and ticket.customer is not None:
            buyer = search_index.buyer_terms(store.pk, ticket.customer.buyer_user_id)
        text = " ".join(
            filter(None, (search_index.searchable_text(m) for m in new_messages.get(ticket.pk, ())))
        )
        if buyer or text:
            words[ticket.pk] = (buyer, text)
    return words


def _tickets_save(
    store: Store,
    tickets: Sequence[Conversation],
    changed: dict[str, set[str]],
    new_messages: dict[int, list[Message]] | None = None,
) -> None:
    """Saves the changed fields of the locked tickets in one statement, which also appends the
    new messages' words (and a buyer found now) to their search documents (search.index)."""
    words = _search_words(store, tickets, changed, new_messages or {})
    dirty = [ticket for ticket in tickets if changed.get(ticket.external_id) or ticket.pk in words]
    if not dirty:
        return
    now = timezone.now()
    for ticket in dirty:
        ticket.updated_at = now  # a bulk write does not apply auto_now
    fields = sorted(set().union(*(changed[ticket.external_id] for ticket in dirty)))
    document = search_index.ingest_append(dirty, words, search_index.search_config(store.region))
    rows_update(
        Conversation.objects.all(),
        dirty,
        [*fields, "updated_at"],
        computed=[document] if document is not None else [],
    )


def conversation_ingest(
    *, store: Store, record: records.Conversation | None = None, external_id: str = ""
) -> Conversation:
    """The ticket of one platform conversation, created on first sight; keeps its buyer and
    flags (see `tickets_ingest`). Its messages are stored by `messages_ingest`, never from
    `latest_message`: that one message alone would hide the ones before it from the poll's
    cursor.
    """
    external_id = record.external_id if record is not None else external_id
    if not external_id:
        raise ValueError("A conversation needs its platform id.")
    with transaction.atomic():
        tickets, changed = tickets_ingest(
            store=store,
            external_ids=[external_id],
            records_={external_id: record} if record is not None else None,
        )
        _tickets_save(store, list(tickets.values()), changed)
        _announce(store, tickets.values(), [], [])
    return tickets[external_id]


# --- Messages -----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    conversation: Conversation
    new_messages: list[Message] = field(default_factory=list)
    reopened: bool = False
    linked_order_ids: list[str] = field(default_factory=list)
    # Order ids seen in buyer text that are not synced: checked live after commit.
    order_ids_to_check: list[str] = field(default_factory=list)


@dataclass
class Delivery:
    """Messages of one conversation as a feed delivered them (see `messages_ingest`)."""

    conversation_id: str
    messages: Sequence[records.Message]
    complete_after: str | None = None
    record: records.Conversation | None = None


# The ON CONFLICT target of the message_store_ext constraint: (store, platform id) is stored once.
_MESSAGE_EXISTS = '("store_id", "external_id") WHERE "external_id" IS NOT NULL'


def _message_row(
    store: Store, conversation: Conversation, record: records.Message, now: datetime
) -> Message:
    direction = direction_of(record)
    role = record.sender.role
    return Message(
        tenant_id=store.tenant_id,
        store=store,
        conversation=conversation,
        public_id=uuid.uuid4(),
        external_id=record.external_id,
        index_key=index_key(record.index),
        direction=direction,
        sender_role=role[:32],
        # A buyer's TikTok nickname is personal data the mailbox does not keep (it shows a masked
        # label); shop and agent names are kept.
        sender_name=(
            "" if role == records.SenderRole.BUYER else without_nul(record.sender.nickname[:255])
        ),
        type=without_nul(record.type[:32]),
        # A NUL character cannot be stored in PostgreSQL: removed alike on every database.
        text=without_nul(record.text or ""),
        content=without_nul(record.content),
        is_visible=record.is_visible,
        sent_at=record.created_at or now,
        created_at=now,
    )


def _unique_records(messages: Iterable[records.Message]) -> list[records.Message]:
    """One record per external id (the newest delivery wins), skipping ones without id/index."""
    by_id: dict[str, records.Message] = {}
    for record in messages:
        if not record.external_id or index_key(record.index) is None:
            logger.warning("Message without id or index skipped: type %s", record.type)
            continue
        by_id[record.external_id] = record
    return list(by_id.values())


def _merged(deliveries: Iterable[Delivery]) -> dict[str, Delivery]:
    """One delivery per conversation. The cursor may move only when every part was a complete
    read: a pushed message says nothing about the ones before it."""
    merged: dict[str, Delivery] = {}
    for delivery in deliveries:
        external_id = (
            delivery.record.external_id if delivery.record is not None else delivery.conversation_id
        )
        if not external_id:
            raise ValueError("A conversation needs its platform id.")
        seen = merged.get(external_id)
        if seen is None:
            merged[external_id] = Delivery(
                external_id, list(delivery.messages), delivery.complete_after, delivery.record
            )
            continue
        seen.messages = [*seen.messages, *delivery.messages]
        if seen.complete_after is None or delivery.complete_after is None:
            seen.complete_after = None
        else:
            seen.complete_after = min(seen.complete_after, delivery.complete_after)
        seen.record = delivery.record or seen.record
    return merged


def _without_reply_parts(rows: list[Message], tickets: Iterable[Conversation]) -> list[Message]:
    """Leaves out the platform's copies of a reply's other parts.

    A reply with an image and text is two platform messages (an IMAGE, then a TEXT, when the
    channel cannot carry both in one): the reply's row holds the text's id, the outbox keeps the
    image's (`content.outbox.image_message_id`). The image coming back by webhook or poll is
    that same reply, not a new message. Checked with the tickets locked, as the outbox marks a
    reply sent with its ticket locked: one of the two always sees the other's commit.
    """
    outbound = [row.external_id for row in rows if row.direction == MessageDirection.OUTBOUND]
    if not outbound:
        return rows
    parts = set(
        Message.objects.filter(
            conversation_id__in=[ticket.pk for ticket in tickets],
            content__outbox__image_message_id__in=outbound,
        )
        .exclude(delivery_status="")  # replies written here (by an agent or an API key)
        .values_list("content__outbox__image_message_id", flat=True)
    )
    if not parts:
        return rows
    return [row for row in rows if row.external_id not in parts]


def _fill_echoes(store: Store, rows: Sequence[Message]) -> list[Message]:
    """A reply sent from Sellerdesk comes back from the platform: it already exists (matched on
    external id) but without the index the send call does not return. Give it its place."""
    by_id = {row.external_id: row for row in rows}
    echoes = list(
        Message.objects.filter(store=store, external_id__in=by_id, index_key__isnull=True)
    )
    now = timezone.now()
    for echo in echoes:
        row = by_id[echo.external_id]
        echo.index_key, echo.sent_at, echo.updated_at = row.index_key, row.sent_at, now
    if echoes:
        rows_update(Message.objects.all(), echoes, ["index_key", "sent_at", "updated_at"])
    return echoes


def _order_links_of(new: Sequence[Message]) -> tuple[dict[str, str], list[str]]:
    """(links from cards, order-id-like numbers in buyer text) of one ticket's new messages."""
    links: dict[str, str] = {}
    in_text: list[str] = []
    for message in new:
        if message.direction != MessageDirection.INBOUND:
            continue
        source = ORDER_LINK_TYPES.get(message.type)
        order_id = message.content.get("order_id") if isinstance(message.content, dict) else None
        if source is not None and order_id:
            links.setdefault(str(order_id), source)
        elif message.type == records.MessageType.TEXT and message.is_visible:
            for found in order_ids_in_text(message.text):
                if found not in in_text:
                    in_text.append(found)
    return links, in_text


def _link_orders(
    *, store_id: int, wanted: Sequence[tuple[IngestResult, dict[str, str], list[str]]]
) -> None:
    """Links the order ids the tickets' new messages name (first source wins) and records each
    new link in the ticket's history; ids not synced yet go to `order_ids_to_check`.

    A card names an order of this store and is linked at once; a number in the text is linked
    only when it is an order of this store: the synced ones now, the others once a task has
    asked the platform (after commit).
    """
    wanted = [(result, links, in_text) for result, links, in_text in wanted if links or in_text]
    if not wanted:
        return
    named = {order_id for _, links, in_text in wanted for order_id in [*links, *in_text]}
    store = Store.objects.only("tenant_id", "platform").get(pk=store_id)
    has_orders = capabilities_for(store.platform).has_orders
    if has_orders:
        orders = Order.objects.filter(store_id=store_id, external_id__in=named)
    else:
        # A channel without orders (e-mail): the buyer names an order of one of the tenant's
        # marketplace stores. Only synced ones are linked: there is no platform to ask.
        orders = Order.objects.filter(
            tenant_id=store.tenant_id,
            store__platform__in=platforms_with_orders(),
            external_id__in=named,
        )
    synced = {order.external_id: order for order in orders}
    existing = set(
        ConversationOrder.objects.filter(
            conversation_id__in=[result.conversation.pk for result, _, _ in wanted]
        ).values_list("conversation_id", "order_external_id")
    )
    new_links: list[ConversationOrder] = []
    new_events: list[TicketEvent] = []
    for result, links, in_text in wanted:
        pk = result.conversation.pk
        for order_id in in_text:
            if order_id in synced:
                links.setdefault(order_id, OrderLinkSource.TEXT)
            elif order_id not in links and has_orders:
                result.order_ids_to_check.append(order_id)
        fresh = {
            order_id: source for order_id, source in links.items() if (pk, order_id) not in existing
        }
        conversation = result.conversation
        for order_id, source in fresh.items():
            new_links.append(
                ConversationOrder(
                    tenant_id=conversation.tenant_id,
                    conversation=conversation,
                    order=synced.get(order_id),
                    order_external_id=order_id,
                    source=source,
                )
            )
            new_events.append(
                _history(
                    conversation,
                    TicketEventKind.ORDER_LINKED,
                    f"Order {order_id} linked ({OrderLinkSource(source).label.lower()}).",
                    {"order_id": order_id, "source": source},
                )
            )
            result.linked_order_ids.append(order_id)
            if order_id not in synced:  # a card's order not synced yet: fetched live
                result.order_ids_to_check.append(order_id)
    ConversationOrder.objects.bulk_create(new_links, ignore_conflicts=True)
    TicketEvent.objects.bulk_create(new_events)


def _stored_marks(conversation_pks: Iterable[int]) -> dict[int, dict[str, str | None]]:
    """Per ticket, after the insert: the newest visible index and the newest seller reply.

    Each is the first row of a backward scan of the (conversation, index) index, so the cost
    does not grow with the length of the conversations.
    """

    def newest(**conditions: object) -> Subquery:
        return Subquery(
            Message.objects.filter(
                conversation=OuterRef("pk"), index_key__isnull=False, **conditions
            )
            .order_by("-index_key")
            .values("index_key")[:1]
        )

    return {
        row["pk"]: row
        for row in Conversation.objects.filter(pk__in=list(conversation_pks))
        .annotate(
            newest=newest(is_visible=True),
            last_reply=newest(direction=MessageDirection.OUTBOUND),
        )
        .values("pk", "newest", "last_reply")
    }


def _update_ticket(
    result: IngestResult,
    stored: dict[str, str | None],
    echoes: Sequence[Message],
    events: list[TicketEvent],
    clock: ClockConfig,
) -> set[str]:
    """Moves the ticket's denormalised fields by its new messages, in index order.

    `stored` holds the newest visible index and the newest seller reply as stored now; the buyer
    messages still waiting are counted in the database only when a new reply arrived (otherwise
    they follow from the ticket's own fields and the new messages). Returns the fields it changed
    (saved by the caller); a reopening adds its history event to `events`. The SLA clocks move
    with it (`sla.clocks`, by the store's `clock` configuration).
    """
    conversation, new = result.conversation, result.new_messages
    previous_status = conversation.status
    reached: tuple[datetime, datetime | None] | None = None
    changed: set[str] = set()
    last_reply: str | None = stored.get("last_reply")
    visible = [m for m in new if m.is_visible]
    newest = max(visible, key=lambda m: m.index_key or "", default=None)
    if newest is not None and newest.index_key == stored.get("newest"):
        # An older message arriving late does not replace the preview of a newer one.
        conversation.last_message_at = max(conversation.last_message_at, newest.sent_at)
        conversation.last_message_preview = message_preview(newest)
        conversation.last_message_from_buyer = newest.direction == MessageDirection.INBOUND
        changed |= {"last_message_at", "last_message_preview", "last_message_from_buyer"}

    new_buyer = [
        m
        for m in new
        if _needs_reply(m) and (last_reply is None or (m.index_key or "") > last_reply)
    ]
    # A reply sent from Sellerdesk that came back with its index answers like any other.
    new_replies = [m for m in [*new, *echoes] if m.direction == MessageDirection.OUTBOUND]
    if new_replies and last_reply == max(m.index_key or "" for m in new_replies):
        # Someone answered from outside Sellerdesk: only what the buyer wrote after it waits.
        waiting = (
            Message.objects.filter(conversation=conversation, index_key__gt=last_reply)
            .filter(_NEEDS_REPLY)
            .aggregate(since=Min("sent_at"), count=Count("id"))
        )
        awaiting, unread = waiting["since"], waiting["count"]
        # A seller message on the platform has reached the buyer: both clocks stop there.
        reached = (max(m.sent_at for m in new_replies), awaiting)
    else:
        # Buyer messages before the newest reply were answered; the ones after it wait.
        times = [m.sent_at for m in new_buyer]
        if conversation.awaiting_reply_since is not None:
            times.append(conversation.awaiting_reply_since)
        awaiting = min(times, default=None)
        unread = conversation.unread_count + len(new_buyer)
    if conversation.awaiting_reply_since != awaiting:
        conversation.awaiting_reply_since = awaiting
        changed.add("awaiting_reply_since")
    if unread != conversation.unread_count:
        conversation.unread_count = unread
        changed.add("unread_count")

    if new_buyer and conversation.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
        # Whenever the buyer wrote it: a message written before the agent clicked Solved but
        # delivered after it (a lost webhook, brought by the next poll) was never seen by the
        # agent, and a Solved ticket with a waiting buyer message is one nobody will open.
        previous = conversation.status
        conversation.status = TicketStatus.OPEN
        conversation.status_changed_at = timezone.now()
        conversation.solved_at = None
        changed |= {"status", "status_changed_at", "solved_at"}
        events.append(
            _history(
                conversation,
                TicketEventKind.REOPENED,
                f"Reopened by the buyer's message (was {TicketStatus(previous).label}).",
                {"from": previous, "to": TicketStatus.OPEN},
            )
        )
        result.reopened = True
    changed |= ticket_moved(
        conversation,
        clock,
        now=timezone.now(),
        previous_status=previous_status,
        reached=reached,
        buyer_since=min((m.sent_at for m in new_buyer), default=None) if reached is None else None,
    )
    return changed


def _relax_commit() -> None:
    """On PostgreSQL this transaction's commit does not wait for the WAL flush.

    Safe here: whatever a crash could lose in that window (the messages, the ticket's fields,
    the cursor, the webhook event marked processed) is lost together, and both feeds bring it
    again (the event is requeued, the poll reads from the unchanged cursor). It halves the
    time of a one-message delivery on a busy disk.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def messages_ingest_many(
    *, store: Store, deliveries: Iterable[Delivery]
) -> dict[str, IngestResult]:
    """Stores the messages of many conversations of one store in one transaction, once each,
    and moves their tickets accordingly; the results by conversation id.

    The set-based form of `messages_ingest` (same rules, see there): a poll's page of
    conversations or a burst of webhook deliveries costs a fixed number of statements, not a
    transaction per message. Two deliveries for one conversation are merged.
    """
    merged = _merged(deliveries)
    if not merged:
        return {}
    batches = {external_id: _unique_records(d.messages) for external_id, d in merged.items()}
    with transaction.atomic():
        _relax_commit()
        tickets, changed = tickets_ingest(
            store=store,
            external_ids=list(merged),
            records_={
                external_id: d.record for external_id, d in merged.items() if d.record is not None
            },
        )
        results = {
            external_id: IngestResult(conversation=tickets[external_id]) for external_id in merged
        }
        now = timezone.now()
        rows = [
            _message_row(store, tickets[external_id], record, now)
            for external_id, batch in batches.items()
            for record in batch
        ]
        rows = _without_reply_parts(rows, tickets.values())
        echoes: list[Message] = []
        if rows:
            by_pk = {ticket.pk: external_id for external_id, ticket in tickets.items()}
            for message in rows_insert_new(Message, rows, conflict=_MESSAGE_EXISTS):
                results[by_pk[message.conversation_id]].new_messages.append(message)
            for result in results.values():
                result.new_messages.sort(key=lambda m: m.index_key or "")
            if sum(len(result.new_messages) for result in results.values()) < len(rows):
                echoes = _fill_echoes(store, rows)
        echoes_of: dict[int, list[Message]] = {}
        for echo in echoes:
            echoes_of.setdefault(echo.conversation_id, []).append(echo)
        moved = [
            result
            for result in results.values()
            if result.new_messages or result.conversation.pk in echoes_of
        ]
        _link_orders(
            store_id=store.pk,
            wanted=[(result, *_order_links_of(result.new_messages)) for result in moved],
        )
        marks = _stored_marks(result.conversation.pk for result in moved) if moved else {}
        clock = clock_config(store.pk) if moved else None
        events: list[TicketEvent] = []
        for result in moved:
            ticket = result.conversation
            assert clock is not None
            changed[ticket.external_id] |= _update_ticket(
                result, marks.get(ticket.pk, {}), echoes_of.get(ticket.pk, ()), events, clock
            )
        TicketEvent.objects.bulk_create(events)
        for external_id, delivery in merged.items():
            batch = batches[external_id]
            if delivery.complete_after is None or not batch:
                continue
            ticket = tickets[external_id]
            newest = max(index_key(record.index) or "" for record in batch)
            if newest > ticket.message_cursor:
                ticket.message_cursor = newest
                changed[external_id].add("message_cursor")
        _tickets_save(
            store,
            list(tickets.values()),
            changed,
            {result.conversation.pk: result.new_messages for result in results.values()},
        )
        _announce(
            store,
            tickets.values(),
            [m for result in results.values() for m in result.new_messages],
            events,
        )
        # Triage labels them after commit (a task per batch: ingest itself does no more work).
        buyer_messages_stored_send(
            tenant_id=store.tenant_id,
            message_ids=[m.pk for r in results.values() for m in r.new_messages if _needs_reply(m)],
        )
        checks = {
            result.conversation.pk: list(dict.fromkeys(result.order_ids_to_check))
            for result in results.values()
            if result.order_ids_to_check
        }
        if checks:
            _schedule_order_checks(checks)
    return results


def _announce(
    store: Store,
    tickets: Iterable[Conversation],
    new_messages: Sequence[Message],
    history: Sequence[TicketEvent],
) -> None:
    """Webhook events of this ingest, in its transaction: new tickets, buyers' messages, and
    tickets the buyer reopened."""
    created = {ticket.pk: {} for ticket in tickets if getattr(ticket, "created_now", False)}
    inbox_events.tickets_changed(store.tenant_id, "ticket.created", created)
    received = [
        message.pk for message in new_messages if message.direction == MessageDirection.INBOUND
    ]
    inbox_events.messages_event(store.tenant_id, "message.received", received)
    reopened = {
        event.conversation_id: {"status": {"from": event.data["from"], "to": event.data["to"]}}
        for event in history
        if event.kind == TicketEventKind.REOPENED and event.conversation_id not in created
    }
    inbox_events.tickets_changed(store.tenant_id, "ticket.updated", reopened)


def messages_ingest(
    *,
    store: Store,
    conversation_id: str,
    messages: Iterable[records.Message],
    complete_after: str | None = None,
    record: records.Conversation | None = None,
) -> IngestResult:
    """Stores a conversation's messages once each and moves its ticket accordingly.

    `complete_after`: the caller read every message newer than this index (the poll's read from
    the cursor; "" for a full history), so the ticket's polling cursor may move to the newest
    index given. Webhook deliveries leave it None: one pushed message says nothing about the ones
    before it, which may have been lost, so only a complete read moves the cursor.

    `record` (the conversation from the list, as the poll has it) creates or updates the ticket
    in the same transaction.
    """
    delivery = Delivery(conversation_id, list(messages), complete_after, record)
    results = messages_ingest_many(store=store, deliveries=[delivery])
    return next(iter(results.values()))


def _schedule_order_checks(checks: dict[int, list[str]]) -> None:
    """One task for the order checks of this transaction's tickets, sent after commit."""
    from .tasks import link_orders_live_many

    def enqueue() -> None:
        try:
            link_orders_live_many.delay(list(checks.items()))
        except Exception:
            # The messages are stored; a link is a convenience an agent can still make by hand.
            logger.exception("Could not enqueue the order checks of tickets %s", list(checks))

    transaction.on_commit(enqueue)


# --- Order ids checked live ---------------------------------------------------------------------


def conversation_orders_link_live(
    *, conversation: Conversation, order_ids: Sequence[str], fetched: Sequence[records.Order]
) -> list[str]:
    """After a live fetch: stores the store's orders among `fetched` and links them to the ticket.

    Cards are already linked (their order is named by the platform): the link gets its order. A
    number from text is linked only when the platform returned it as an order of this store.
    """
    from orders.ingest import orders_upsert

    store = conversation.store
    found = [order for order in fetched if order.external_id in order_ids]
    if found:
        orders_upsert(store=store, orders=found)
    found_ids = {order.external_id for order in found}
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        orders = {
            order.external_id: order
            for order in Order.objects.filter(store=store, external_id__in=found_ids)
        }
        for link in ConversationOrder.objects.filter(
            conversation=conversation, order_external_id__in=orders, order__isnull=True
        ):
            link.order = orders[link.order_external_id]
            link.save(update_fields=["order"])
        result = IngestResult(conversation=conversation)
        _link_orders(
            store_id=store.pk,
            wanted=[(result, {order_id: OrderLinkSource.TEXT for order_id in orders}, [])],
        )
    return result.linked_order_ids
