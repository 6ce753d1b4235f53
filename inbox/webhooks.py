"""Mailbox webhooks: NEW_MESSAGE (14) stores the pushed message, NEW_CONVERSATION (13) reads the
conversation again. Registered in the marketplaces registry from `InboxConfig.ready()`; the
webhook task runs them inside its transaction, so the order checks they schedule run after commit.
"""

from __future__ import annotations

from marketplaces.adapter import StoreUnavailableError, webhook_record
from marketplaces.models import Store, StoreStatus, WebhookEvent
from marketplaces.records import NewMessage, WebhookType
from marketplaces.services import register_webhook_handler

# The stored payload is TikTok's JSON; its mapping turns it into the adapter's records.
# (marketplaces/ has no platform-neutral "event -> record" function yet; see the report.)
from marketplaces.tiktok.errors import TikTokError

from .ingest import messages_ingest
from .models import Conversation
from .polling import conversation_refresh


def _conversation_id(event: WebhookEvent) -> str:
    data = event.payload.get("data")
    value = data.get("conversation_id") if isinstance(data, dict) else None
    if value in (None, ""):
        raise ValueError("The notification carries no conversation_id.")
    return str(value)


@register_webhook_handler(WebhookType.NEW_MESSAGE)
def new_message(event: WebhookEvent, store: Store) -> str:
    conversation_id = _conversation_id(event)
    data = webhook_record(event.payload).data
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
        except (StoreUnavailableError, TikTokError) as exc:
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
    ticket = result.conversation
    if not result.new_messages:
        return f"Message {message.external_id} already stored (ticket #{ticket.number})."
    reopened = " Ticket reopened." if result.reopened else ""
    return f"Message {message.external_id} stored in ticket #{ticket.number}.{reopened}"


@register_webhook_handler(WebhookType.NEW_CONVERSATION)
def new_conversation(event: WebhookEvent, store: Store) -> str:
    if store.status != StoreStatus.ACTIVE:
        return f"Ignored: sync is paused ({store.get_status_display().lower()})."
    conversation_id = _conversation_id(event)
    ticket, new = conversation_refresh(store=store, conversation_id=conversation_id)
    return f"Conversation {conversation_id} refreshed (ticket #{ticket.number}, {new} new)."
