"""The one way platform conversations and messages enter the mailbox (webhooks and the poll).

Idempotent by construction: a message is unique per (store, external id), so the same message
delivered by three webhooks and a poll, in any order, is stored once. Messages are inserted in
bulk with conflicts ignored and the rows that are really new are read back by the public ids this
call generated; only those move the ticket (preview, unread count, awaiting reply, reopen, order
links).

The ticket row is locked for the length of an ingest, so a webhook and a poll delivering to the
same conversation at once update its denormalised fields one after the other. Ticket numbers come
from the tenant's TicketCounter under a row lock, inside the same savepoint as the ticket, so a
lost race for the same conversation gives its number back: numbers stay unique and gapless.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from marketplaces import records
from marketplaces.models import Store
from orders.models import Order

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

logger = logging.getLogger(__name__)

SELLER_ROLES = frozenset({"SHOP", "CUSTOMER_SERVICE"})
SYSTEM_ROLES = frozenset({"SYSTEM", "ROBOT"})
# Notices the platform sends in the buyer's or the shop's name; they are events, not messages.
SYSTEM_TYPES = frozenset({"NOTIFICATION", "ALLOCATED_SERVICE"})
# Sent automatically when a buyer opens the chat from somewhere: not a question to answer.
ENTRY_TYPES = frozenset(
    {"BUYER_ENTER_FROM_ORDER", "BUYER_ENTER_FROM_PRODUCT", "BUYER_ENTER_FROM_TRANSFER"}
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


def order_ids_in_text(text: str) -> list[str]:
    """Order-id-like numbers in a buyer's text, first occurrence order, at most a few."""
    found: list[str] = []
    for match in ORDER_ID_IN_TEXT.finditer(text or ""):
        if match.group(1) not in found:
            found.append(match.group(1))
        if len(found) == MAX_TEXT_ORDER_IDS:
            break
    return found


# --- Tickets ------------------------------------------------------------------------------------


_NEXT_NUMBER_SQL = (
    f"UPDATE {TicketCounter._meta.db_table} SET last_number = last_number + 1 "  # noqa: S608
    "WHERE tenant_id = %s RETURNING last_number"
)


def next_ticket_number(*, tenant_id: int) -> int:
    """The tenant's next ticket number; the counter row stays locked until the caller commits.

    Call inside a transaction (a savepoint around the ticket insert), so a failed insert hands
    the number back.
    """
    # One statement: the UPDATE takes the row lock that serialises the tenant's new tickets.
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBER_SQL, [tenant_id])
        row = cursor.fetchone()
        if row is None:  # the tenant's first ticket
            TicketCounter.objects.get_or_create(tenant_id=tenant_id)
            cursor.execute(_NEXT_NUMBER_SQL, [tenant_id])
            row = cursor.fetchone()
    return int(row[0])


def _customer_for(*, store: Store, record: records.Conversation | None) -> Customer | None:
    buyer = record.buyer if record is not None else None
    if buyer is None or not buyer.user_id:
        return None
    customer, created = Customer.objects.get_or_create(
        store=store,
        buyer_user_id=buyer.user_id,
        defaults={"tenant_id": store.tenant_id, "im_user_id": buyer.im_user_id or ""},
    )
    if not created and buyer.im_user_id and customer.im_user_id != buyer.im_user_id:
        Customer.objects.filter(pk=customer.pk).update(im_user_id=buyer.im_user_id)
        customer.im_user_id = buyer.im_user_id
    return customer


def _ticket_create(
    *, store: Store, external_id: str, record: records.Conversation | None
) -> Conversation | None:
    """A new ticket, or None when another worker created it first (nothing is left behind)."""
    created_at = (record.created_at if record else None) or timezone.now()
    try:
        with transaction.atomic():
            number = next_ticket_number(tenant_id=store.tenant_id)
            conversation = Conversation.objects.create(
                tenant_id=store.tenant_id,
                store=store,
                customer=_customer_for(store=store, record=record),
                number=number,
                external_id=external_id,
                created_at=created_at,
                last_message_at=created_at,
                status_changed_at=timezone.now(),
                can_send_message=record.can_send_message if record else True,
                participant_count=(record.participant_count or 2) if record else 2,
            )
            TicketEvent.objects.create(
                tenant_id=store.tenant_id,
                conversation=conversation,
                kind=TicketEventKind.CREATED,
                data={"conversation_id": external_id},
            )
    except IntegrityError:
        if Conversation.objects.filter(store=store, external_id=external_id).exists():
            return None
        raise
    return conversation


def _locked_ticket(*, store: Store, external_id: str) -> Conversation | None:
    return (
        Conversation.objects.select_for_update()
        .filter(store=store, external_id=external_id)
        .first()
    )


def conversation_ingest(
    *, store: Store, record: records.Conversation | None = None, external_id: str = ""
) -> Conversation:
    """The ticket of a platform conversation, created on first sight; keeps its buyer and flags.

    `record` (from the conversations list) brings the buyer; without it (a message for a
    conversation the list did not show) the ticket is made without a customer and the next poll
    fills it in. Its messages are stored by `messages_ingest`, never from `latest_message`: that
    one message alone would hide the ones before it from the poll's cursor.
    """
    external_id = record.external_id if record is not None else external_id
    if not external_id:
        raise ValueError("A conversation needs its platform id.")
    # Inside messages_ingest's transaction no savepoint is needed: an error rolls back both.
    with transaction.atomic(savepoint=False):
        conversation = _locked_ticket(store=store, external_id=external_id)
        if conversation is None:
            created = _ticket_create(store=store, external_id=external_id, record=record)
            if created is not None:
                return created
            conversation = _locked_ticket(store=store, external_id=external_id)
            assert conversation is not None
            if record is None:
                return conversation
        elif record is None:
            return conversation
        changed: list[str] = []
        if conversation.customer_id is None:
            customer = _customer_for(store=store, record=record)
            if customer is not None:
                conversation.customer = customer
                changed.append("customer")
        if conversation.can_send_message != record.can_send_message:
            conversation.can_send_message = record.can_send_message
            changed.append("can_send_message")
        if record.participant_count and conversation.participant_count != record.participant_count:
            conversation.participant_count = record.participant_count
            changed.append("participant_count")
        if changed:
            conversation.save(update_fields=[*changed, "updated_at"])
        return conversation


# --- Messages -----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    conversation: Conversation
    new_messages: list[Message] = field(default_factory=list)
    reopened: bool = False
    linked_order_ids: list[str] = field(default_factory=list)
    # Order ids seen in buyer text that are not synced: checked live after commit.
    order_ids_to_check: list[str] = field(default_factory=list)


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
        sender_name="" if role == records.SenderRole.BUYER else record.sender.nickname[:255],
        type=record.type[:32],
        text=record.text or "",
        content=record.content,
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


def _fill_echoes(store: Store, rows: Sequence[Message]) -> list[Message]:
    """A reply sent from Sellerdesk comes back from the platform: it already exists (matched on
    external id) but without the index the send call does not return. Give it its place."""
    by_id = {row.external_id: row for row in rows}
    echoes = list(
        Message.objects.filter(store=store, external_id__in=by_id, index_key__isnull=True)
    )
    for echo in echoes:
        row = by_id[echo.external_id]
        echo.index_key, echo.sent_at = row.index_key, row.sent_at
    if echoes:
        Message.objects.bulk_update(echoes, ["index_key", "sent_at"])
    return echoes


def _link_orders(
    *, conversation: Conversation, links: dict[str, str], result: IngestResult
) -> None:
    """Links order ids to the ticket (first source wins); records each new link in its history."""
    if not links:
        return
    existing = set(
        ConversationOrder.objects.filter(
            conversation=conversation, order_external_id__in=links
        ).values_list("order_external_id", flat=True)
    )
    fresh = {order_id: source for order_id, source in links.items() if order_id not in existing}
    if not fresh:
        return
    orders = {
        order.external_id: order
        for order in Order.objects.filter(store_id=conversation.store_id, external_id__in=fresh)
    }
    ConversationOrder.objects.bulk_create(
        [
            ConversationOrder(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                order=orders.get(order_id),
                order_external_id=order_id,
                source=source,
            )
            for order_id, source in fresh.items()
        ],
        ignore_conflicts=True,
    )
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                kind=TicketEventKind.ORDER_LINKED,
                body=f"Order {order_id} linked ({OrderLinkSource(source).label.lower()}).",
                data={"order_id": order_id, "source": source},
            )
            for order_id, source in fresh.items()
        ]
    )
    result.linked_order_ids.extend(fresh)
    # Cards name an order of this store: fetch it live when it is not synced yet.
    result.order_ids_to_check.extend(order_id for order_id in fresh if order_id not in orders)


def _order_links_of(
    conversation: Conversation, new: Sequence[Message]
) -> tuple[dict[str, str], list[str]]:
    """(links from cards, order ids in buyer text that still need checking)."""
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
    if in_text:
        # A number in the text is linked only when it is an order of this store: the synced ones
        # now, the others once a task has asked the platform (after commit).
        synced = set(
            Order.objects.filter(
                store_id=conversation.store_id, external_id__in=in_text
            ).values_list("external_id", flat=True)
        )
        for order_id in in_text:
            if order_id in synced:
                links.setdefault(order_id, OrderLinkSource.TEXT)
        in_text = [order_id for order_id in in_text if order_id not in synced]
    return links, in_text


def _update_ticket(
    conversation: Conversation,
    new: Sequence[Message],
    result: IngestResult,
    echoes: Sequence[Message] = (),
) -> set[str]:
    """Moves the ticket's denormalised fields by the new messages, in index order.

    One aggregate reads the newest visible index and the newest seller reply; the buyer messages
    still waiting are counted in the database only when a new reply arrived (otherwise they
    follow from the ticket's own fields and the new messages). Returns the fields it changed
    (the caller saves them with its own).
    """
    changed: set[str] = set()
    stored = Message.objects.filter(conversation=conversation).aggregate(
        newest=Max("index_key", filter=Q(is_visible=True)),
        last_reply=Max(
            "index_key",
            filter=Q(direction=MessageDirection.OUTBOUND, index_key__isnull=False),
        ),
    )
    last_reply: str | None = stored["last_reply"]
    visible = [m for m in new if m.is_visible]
    newest = max(visible, key=lambda m: m.index_key or "", default=None)
    if newest is not None and newest.index_key == stored["newest"]:
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
        # Platform times are whole seconds; a reply in the second the ticket was closed counts.
        since = conversation.status_changed_at.replace(microsecond=0)
        if any(m.sent_at >= since for m in new_buyer):
            previous = conversation.status
            conversation.status = TicketStatus.OPEN
            conversation.status_changed_at = timezone.now()
            conversation.solved_at = None
            changed |= {"status", "status_changed_at", "solved_at"}
            TicketEvent.objects.create(
                tenant_id=conversation.tenant_id,
                conversation=conversation,
                kind=TicketEventKind.REOPENED,
                body=f"Reopened by the buyer's message (was {TicketStatus(previous).label}).",
                data={"from": previous, "to": TicketStatus.OPEN},
            )
            result.reopened = True
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
    batch = _unique_records(messages)
    with transaction.atomic():
        _relax_commit()
        if record is not None:
            conversation = conversation_ingest(store=store, record=record)
        else:
            conversation = _locked_ticket(
                store=store, external_id=conversation_id
            ) or conversation_ingest(store=store, external_id=conversation_id)
        result = IngestResult(conversation=conversation)
        now = timezone.now()
        rows = [_message_row(store, conversation, record, now) for record in batch]
        echoes: list[Message] = []
        changed: set[str] = set()
        if rows:
            Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            mine = {row.public_id for row in rows}
            result.new_messages = sorted(
                Message.objects.filter(conversation=conversation, public_id__in=mine),
                key=lambda m: m.index_key or "",
            )
            echoes = _fill_echoes(store, rows) if len(result.new_messages) < len(rows) else []
        if result.new_messages or echoes:
            links, to_check = _order_links_of(conversation, result.new_messages)
            _link_orders(conversation=conversation, links=links, result=result)
            result.order_ids_to_check.extend(to_check)
            changed |= _update_ticket(conversation, result.new_messages, result, echoes)
        if complete_after is not None and rows:
            newest = max(row.index_key or "" for row in rows)
            if newest > conversation.message_cursor:
                conversation.message_cursor = newest
                changed.add("message_cursor")
        if changed:
            conversation.save(update_fields=[*sorted(changed), "updated_at"])
        if result.order_ids_to_check:
            _schedule_order_check(conversation.pk, list(result.order_ids_to_check))
    return result


def _schedule_order_check(conversation_pk: int, order_ids: list[str]) -> None:
    from .tasks import link_orders_live

    def enqueue() -> None:
        try:
            link_orders_live.delay(conversation_pk, order_ids)
        except Exception:
            # The message is stored; the link is a convenience an agent can still make by hand.
            logger.exception("Could not enqueue the order check of ticket %s", conversation_pk)

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
            conversation=conversation,
            links={order_id: OrderLinkSource.TEXT for order_id in orders},
            result=result,
        )
    return result.linked_order_ids
