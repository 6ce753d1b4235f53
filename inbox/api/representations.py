"""Fast representations: lists drawn from plain values, equal to the serializers' shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from .. import display
from ..models import Conversation, Message
from .serializers import BREACH_NAMES, TICKET_PLAIN_FIELDS

# Lists are drawn from plain values, not model instances through DRF fields: 50 tickets as four
# joined models and nested serializers cost ~5x the time of these functions (bench/README.md,
# "API"). The serializers (serializers.py) stay the documented shape (OpenAPI), and the
# schemathesis test checks every answer against it.


def iso(moment: datetime | None) -> str | None:
    """A time as DRF writes it: ISO 8601 in UTC with "Z"."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person(public_id: Any, first: str | None, last: str | None, email: str | None) -> Any:
    if public_id is None:
        return None
    full = f"{first or ''} {last or ''}".strip()
    return {"id": str(public_id), "name": full or (email or "").split("@")[0], "email": email}


TICKET_COLUMNS = (
    "id",
    "public_id",
    "number",
    "status",
    "store__public_id",
    "store__name",
    "store__market",
    "store__platform",
    "customer__public_id",
    "customer__store_id",
    "customer__buyer_user_id",
    "assignee__public_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
    "external_id",
    *TICKET_PLAIN_FIELDS,
)


def ticket_values(tickets: QuerySet[Conversation]) -> QuerySet:
    """The columns a ticket's representation needs, store, buyer and assignee joined."""
    return tickets.values(*TICKET_COLUMNS)


def ticket_representation(row: dict[str, Any]) -> dict[str, Any]:
    """What GET /tickets/<id>/ answers (TicketSerializer's shape) from `ticket_values` row."""
    buyer = None
    if row["customer__public_id"] is not None:
        buyer = {
            "id": str(row["customer__public_id"]),
            "name": display.buyer_label(row["customer__store_id"], row["customer__buyer_user_id"]),
            "buyer_user_id": row["customer__buyer_user_id"],
        }
    return {
        "id": str(row["public_id"]),
        "number": row["number"],
        "status": row["status"],
        "store": {
            "id": str(row["store__public_id"]),
            "name": row["store__name"],
            "market": row["store__market"],
            "channel": row["store__platform"],
        },
        "buyer": buyer,
        "assignee": _person(
            row["assignee__public_id"],
            row["assignee__first_name"],
            row["assignee__last_name"],
            row["assignee__email"],
        ),
        "conversation_id": row["external_id"],
        "unread_count": row["unread_count"],
        "last_message_at": iso(row["last_message_at"]),
        "last_message_preview": row["last_message_preview"],
        "last_message_from_buyer": row["last_message_from_buyer"],
        "awaiting_reply_since": iso(row["awaiting_reply_since"]),
        "can_send_message": row["can_send_message"],
        "status_changed_at": iso(row["status_changed_at"]),
        "solved_at": iso(row["solved_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "first_response_at": iso(row["first_response_at"]),
        "platform_due_at": iso(row["platform_due_at"]),
        "sla_reply_due_at": iso(row["sla_reply_due_at"]),
        "sla_resolution_due_at": iso(row["sla_resolution_due_at"]),
        "sla_due_at": iso(row["sla_due_at"]),
        "sla_breached": [name for bit, name in BREACH_NAMES if row["sla_breached"] & bit],
        "intent": row["intent"],
        "intent_confidence": row["intent_confidence"],
        "intent_source": row["intent_source"],
        "language": row["language"],
        "urgent": row["urgent"],
    }


def message_representation(message: Message, ticket_public_id: Any) -> dict[str, Any]:
    """What the messages list answers (MessageSerializer's shape)."""
    shown = display.message_display(message)
    author = message.author
    return {
        "id": str(message.public_id),
        "ticket_id": str(ticket_public_id),
        "external_id": message.external_id,
        "direction": message.direction,
        "type": message.type,
        "kind": str(shown.kind),
        "text": message.text,
        "image_url": "" if message.attachment else shown.image_url,
        "order_id": shown.order_id,
        "product_id": shown.product_id,
        "sender_role": message.sender_role,
        "sender_name": message.sender_name,
        "author": None
        if author is None
        else _person(author.public_id, author.first_name, author.last_name, author.email),
        "delivery_status": message.delivery_status or None,
        "failure_reason": message.failure_reason,
        "sent_at": iso(message.sent_at),
        "created_at": iso(message.created_at),
        "updated_at": iso(message.updated_at),
    }
