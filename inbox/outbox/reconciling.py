"""Reconciling: after an unconfirmed send, our message found among the rows ingest stored or on
the platform after the conversation's cursor, and adopted instead of sending again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplaces.adapter import StoreAPI
from marketplaces.records import ImageContent, OutgoingContent, TextContent
from marketplaces.records import Message as MessageRecord

from .. import cards
from ..models import Conversation, Message, MessageDirection, index_key
from .claims import CLOCK_SKEW, SELLER_ROLES


def _matches(record: MessageRecord, content: OutgoingContent) -> bool:
    if record.type != content.type or record.sender.role not in SELLER_ROLES:
        return False
    if isinstance(content, TextContent):
        return (record.text or "") == content.text
    if isinstance(content, ImageContent):
        return record.image is not None and record.image.url == content.url
    if cards.is_card(str(content.type)):
        ids = cards.card_ids(content)
        return {key: str(record.content.get(key) or "") for key in ids} == ids
    return False


def _ingested_twin(message: Message, content: OutgoingContent, since: datetime) -> Message | None:
    """The platform's copy of our message stored by ingest (webhook or poll) as its own row."""
    twins = Message.objects.filter(
        store_id=message.store_id,
        conversation_id=message.conversation_id,
        direction=MessageDirection.OUTBOUND,
        sender_role__in=SELLER_ROLES,
        delivery_status="",
        external_id__isnull=False,
        type=str(content.type),
        sent_at__gte=since,
    ).exclude(pk=message.pk)
    if isinstance(content, TextContent):
        twins = twins.filter(text=content.text)
    elif isinstance(content, ImageContent):
        twins = twins.filter(content__url=content.url)
    elif cards.is_card(str(content.type)):
        for key, value in cards.card_ids(content).items():
            twins = twins.filter(**{f"content__{key}": value})
    return twins.order_by("index_key", "pk").first()


def _found(
    *, external_id: str, index: str | None, created_at: datetime | None, role: str
) -> dict[str, Any]:
    return {"id": external_id, "index": index, "created_at": created_at, "role": role}


def reconcile(
    api: StoreAPI, message: Message, content: OutgoingContent, *, started_at: datetime
) -> dict[str, Any] | None:
    """Our message, if the channel has it, sent at or after `started_at` (minus clock skew)."""
    since = started_at - CLOCK_SKEW
    twin = _ingested_twin(message, content, since)
    if twin is not None and twin.external_id:
        return _found(
            external_id=twin.external_id,
            index=twin.index_key,
            created_at=twin.sent_at,
            role=twin.sender_role,
        )
    conversation = Conversation.objects.only("external_id", "message_cursor").get(
        pk=message.conversation_id
    )
    # The cursor is stored zero-padded (models.index_key); the platform index has no padding,
    # and the client compares indexes by length first.
    after = conversation.message_cursor.lstrip("0") or None
    records = api.messages(conversation.external_id, after_index=after)
    candidates = [
        record
        for record in records
        if _matches(record, content)
        and record.external_id
        and (record.created_at is None or record.created_at >= since)
    ]
    if not candidates:
        return None
    taken = set(
        Message.objects.filter(
            store_id=message.store_id,
            external_id__in=[record.external_id for record in candidates],
        )
        .exclude(pk=message.pk)
        .values_list("external_id", flat=True)
    )
    for record in candidates:
        if record.external_id not in taken:
            return _found(
                external_id=record.external_id,
                index=index_key(record.index) if record.index else None,
                created_at=record.created_at,
                role=record.sender.role,
            )
    return None
