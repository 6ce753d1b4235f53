"""Sending under the claim: each part of a reply (image, text, card) sent once, reconciled first
when an earlier attempt left its trace, and the reply marked sent with the platform's id.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from marketplaces.adapter import StoreAPI, store_api
from marketplaces.channel import ChannelError, OutcomeUnknownError, capabilities_for
from marketplaces.records import ImageContent, OutgoingContent, TextContent
from sla import services as sla_services

from .. import cards
from .. import events as inbox_events
from ..models import DeliveryStatus, Message, index_key
from .claims import AttachmentMissingError, ClaimLostError, _mine, _save_state
from .reconciling import _found, reconcile

logger = logging.getLogger(__package__)  # inbox.outbox, as before the package


def _send_once(
    api: StoreAPI, message: Message, attempt: int, content: OutgoingContent
) -> dict[str, Any]:
    """Sends `content` unless an earlier attempt already did (reconcile first)."""
    state = message.content.setdefault("outbox", {})
    in_flight = state.get("in_flight")
    if in_flight and in_flight.get("type") == str(content.type):
        started = datetime.fromisoformat(in_flight["started_at"])
        found = reconcile(api, message, content, started_at=started)
        if found is not None:
            logger.info(
                "reply %s: found on the channel as %s after an unconfirmed send; not sent again",
                message.pk,
                found["id"],
            )
            # The trace stays until the reply is marked sent with it (see _mark_sent).
            return found
    state["in_flight"] = {"type": str(content.type), "started_at": timezone.now().isoformat()}
    _save_state(message, attempt)  # written before the call: a killed worker leaves the trace
    try:
        external_id = api.send_message(message.conversation.external_id, content=content)
    except OutcomeUnknownError:
        raise  # in_flight stays: the next attempt reconciles
    except ChannelError:
        state["in_flight"] = None  # a refusal: certainly not sent
        _save_state(message, attempt)
        raise
    if not external_id:
        raise OutcomeUnknownError("the channel accepted the message without its id")
    state["in_flight"] = None
    return _found(external_id=external_id, index=None, created_at=None, role="")


def _image_content(api: StoreAPI, message: Message, attempt: int) -> ImageContent:
    image = message.content.setdefault("image", {})
    if not image.get("url"):
        if not message.attachment or not message.attachment.storage.exists(message.attachment.name):
            raise AttachmentMissingError
        with message.attachment.open("rb") as handle:
            data = handle.read()
        uploaded = api.upload_image(image=data, filename=message.attachment.name.rsplit("/", 1)[-1])
        image.update(
            url=uploaded.url,
            width=uploaded.width or image.get("width") or 1,
            height=uploaded.height or image.get("height") or 1,
        )
        _save_state(message, attempt)
    return ImageContent(url=image["url"], width=int(image["width"]), height=int(image["height"]))


def _holder_is_a_reply(message: Message, external_id: str) -> bool:
    return (
        Message.objects.filter(store_id=message.store_id, external_id=external_id)
        .exclude(pk=message.pk)
        .filter(Q(author__isnull=False) | ~Q(delivery_status=""))
        .exists()
    )


def _mark_sent(message: Message, attempt: int, found: dict[str, Any], other_ids: list[str]) -> None:
    ours = [found["id"], *other_ids]
    state = message.content.setdefault("outbox", {})
    was_in_flight = state.get("in_flight")
    state["in_flight"] = None
    updates: dict[str, Any] = {
        "delivery_status": DeliveryStatus.SENT,
        "external_id": found["id"],
        "next_attempt_at": None,
        "failure_reason": "",
        "content": message.content,
        "sent_at": found["created_at"] or timezone.now(),
        "updated_at": timezone.now(),
    }
    if found["index"]:
        updates["index_key"] = found["index"]
    else:
        # A channel whose sent messages never come back (e-mail) places the reply by its time.
        sent_index = capabilities_for(message.store.platform).sent_index
        if sent_index is not None:
            updates["index_key"] = index_key(sent_index(updates["sent_at"]))
    if found["role"]:
        updates["sender_role"] = found["role"]
    for _ in range(3):
        try:
            with transaction.atomic():
                # The ticket first, as ingest locks it: its clocks stop in this transaction.
                ticket = sla_services.ticket_lock(message.conversation_id)
                # Ingest may have stored the platform's copy of our message first (webhook or poll
                # faster than this write): ours replaces it and takes its place in the thread.
                # Otherwise ingest gives ours its index when the copy comes back (same id).
                copies = Message.objects.filter(
                    store_id=message.store_id,
                    external_id__in=ours,
                    author__isnull=True,
                    delivery_status="",
                ).exclude(pk=message.pk)
                for copy in copies:
                    if copy.external_id == found["id"] and copy.index_key:
                        updates.update(
                            index_key=copy.index_key,
                            sent_at=copy.sent_at,
                            sender_role=copy.sender_role,
                        )
                copies.delete()
                changed = _mine(message, attempt).update(**updates)
                if changed:  # it reached the buyer: TikTok's clock and the team's stop
                    sla_services.ticket_reply_reached(
                        conversation=ticket,
                        reply_created_at=message.created_at,
                        reached_at=updates["sent_at"],
                    )
                    inbox_events.messages_event(message.tenant_id, "message.sent", [message.pk])
        except IntegrityError:
            if not _holder_is_a_reply(message, found["id"]):
                continue  # a copy ingested between our delete and our update: once more
            # Another reply holds that id (two identical replies reconciled at once): the message
            # found was not ours. The trace stays, so the next attempt checks again (that id now
            # excluded) and sends only if nothing else is found.
            for key in ("text_message_id", "image_message_id", "card_message_id"):
                if state.get(key) == found["id"]:
                    state[key] = None
            state["in_flight"] = was_in_flight
            raise OutcomeUnknownError("the message found belongs to another reply") from None
        if not changed:
            raise ClaimLostError
        for name, value in updates.items():
            setattr(message, name, value)
        return
    raise OutcomeUnknownError("the platform's copy kept coming back")


def _deliver_card(api: StoreAPI, message: Message, attempt: int) -> None:
    """A card (inbox.cards): one platform message, sent once like a reply's text."""
    state = message.content.setdefault("outbox", {})
    if not state.get("card_message_id"):
        found = _send_once(api, message, attempt, cards.outgoing_content(message))
        state["card_message_id"] = found["id"]
        _save_state(message, attempt)
    else:
        found = _found(external_id=state["card_message_id"], index=None, created_at=None, role="")
    _mark_sent(message, attempt, found, [])


def _deliver(message: Message, attempt: int) -> None:
    api = store_api(message.store)
    if cards.is_card(message.type):
        _deliver_card(api, message, attempt)
        return
    state = message.content.setdefault("outbox", {})
    sent_ids: list[str] = []
    last: dict[str, Any] | None = None
    if message.attachment and not state.get("image_message_id"):
        found = _send_once(api, message, attempt, _image_content(api, message, attempt))
        state["image_message_id"] = found["id"]
        _save_state(message, attempt)
        last = found
    if state.get("image_message_id"):
        sent_ids.append(state["image_message_id"])
    if message.text and not state.get("text_message_id"):
        found = _send_once(api, message, attempt, TextContent(message.text))
        state["text_message_id"] = found["id"]
        _save_state(message, attempt)
        last = found
    if last is None:  # everything was sent on an earlier attempt that died before marking it
        last_id = state.get("text_message_id") or state.get("image_message_id")
        last = _found(external_id=last_id, index=None, created_at=None, role="")
    _mark_sent(message, attempt, last, [i for i in sent_ids if i != last["id"]])
