"""Mailbox webhooks: NEW_MESSAGE (14) stores the pushed message, NEW_CONVERSATION (13) reads the
conversation again. Registered in the marketplaces registry from `InboxConfig.ready()`; the
webhook task runs them inside its transaction, so the order checks they schedule run after commit.

A burst of NEW_MESSAGE deliveries is taken by one worker at a time (`new_messages`, the batch
handler): the messages of known conversations are stored in one ingest, one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketplaces.adapter import webhook_record
from marketplaces.channel import ChannelError
from marketplaces.models import Store, StoreStatus, WebhookEvent
from marketplaces.records import Message, NewMessage, WebhookType
from marketplaces.services import register_webhook_batch_handler, register_webhook_handler

from .ingest import Delivery, IngestResult, messages_ingest, messages_ingest_many
from .models import Conversation
from .polling import conversation_refresh


def _conversation_id(event: WebhookEvent) -> str:
    data = event.payload.get("data")
    value = data.get("conversation_id") if isinstance(data, dict) else None
    if value in (None, ""):
        raise ValueError("The notification carries no conversation_id.")
    return str(value)


# A disconnected store's seller asked Sellerdesk to stop: its buyers' messages are not stored,
# not even for tickets it has (a shop whose only store here is disconnected routes here).
DISCONNECTED_IGNORED = "Ignored: the store is disconnected."


@register_webhook_handler(WebhookType.NEW_MESSAGE)
def new_message(event: WebhookEvent, store: Store) -> str:
    if store.status == StoreStatus.DISCONNECTED:
        return DISCONNECTED_IGNORED
    conversation_id = _conversation_id(event)
    data = webhook_record(event).data
    if not isinstance(data, NewMessage):
        raise ValueError("The notification carries no message.")
    message = data.message
    known = Conversation.objects.filter(store=store, external_id=conversation_id).exists()
    if not known:
        if store.status != StoreStatus.ACTIVE:
            return f"Ignored: sync is paused ({store.get_status_display().lower()})."
        # A conversation we have not seen: its buyer comes from the conversations list, and its
        # whole history (this message included) from the messages API.
        try:
            ticket, new = conversation_refresh(store=store, conversation_id=conversation_id)
        except ChannelError as exc:
            # The platform cannot be asked now: the message is not held back for it. The ticket
            # starts without its buyer and the earlier messages; the next poll brings both.
            result = messages_ingest(
                store=store, conversation_id=conversation_id, messages=[message]
            )
            return (
                f"New ticket #{result.conversation.number} with this message only; the "
                f"conversation could not be read ({type(exc).__name__}), the poll completes it."
            )
        result = messages_ingest(store=store, conversation_id=conversation_id, messages=[message])
        new += len(result.new_messages)
        return f"New ticket #{ticket.number}: {new} message(s) stored."
    result = messages_ingest(store=store, conversation_id=conversation_id, messages=[message])
    return _stored_sentence(message, result, new=bool(result.new_messages))


def _stored_sentence(message: Message, result: IngestResult, *, new: bool) -> str:
    number = result.conversation.number
    if not new:
        return f"Message {message.external_id} already stored (ticket #{number})."
    reopened = " Ticket reopened." if result.reopened else ""
    return f"Message {message.external_id} stored in ticket #{number}.{reopened}"


@register_webhook_batch_handler(WebhookType.NEW_MESSAGE)
def new_messages(events: Sequence[WebhookEvent], store: Store) -> dict[int, str]:
    """A burst of NEW_MESSAGE deliveries: the messages of conversations that already have a
    ticket are stored in one ingest. The others (a conversation seen for the first time needs
    its buyer and history from the platform) and malformed events are left to `new_message`."""
    if store.status == StoreStatus.DISCONNECTED:
        return {event.pk: DISCONNECTED_IGNORED for event in events}
    pushed: dict[int, tuple[str, Message]] = {}
    for event in events:
        try:
            conversation_id = _conversation_id(event)
            data = webhook_record(event).data
        except ValueError:
            continue
        if isinstance(data, NewMessage):
            pushed[event.pk] = (conversation_id, data.message)
    known = set(
        Conversation.objects.filter(
            store=store, external_id__in={conversation_id for conversation_id, _ in pushed.values()}
        ).values_list("external_id", flat=True)
    )
    pushed = {pk: item for pk, item in pushed.items() if item[0] in known}
    deliveries = [
        Delivery(conversation_id, [message]) for conversation_id, message in pushed.values()
    ]
    results = messages_ingest_many(store=store, deliveries=deliveries)
    told: set[str] = set()  # the same message pushed twice in the burst is stored once
    sentences: dict[int, str] = {}
    for pk, (conversation_id, message) in pushed.items():
        result = results[conversation_id]
        new = message.external_id not in told and any(
            stored.external_id == message.external_id for stored in result.new_messages
        )
        told.add(message.external_id)
        sentences[pk] = _stored_sentence(message, result, new=new)
    return sentences


@register_webhook_handler(WebhookType.NEW_CONVERSATION)
def new_conversation(event: WebhookEvent, store: Store) -> str:
    if store.status != StoreStatus.ACTIVE:
        return f"Ignored: sync is paused ({store.get_status_display().lower()})."
    conversation_id = _conversation_id(event)
    ticket, new = conversation_refresh(store=store, conversation_id=conversation_id)
    return f"Conversation {conversation_id} refreshed (ticket #{ticket.number}, {new} new)."
