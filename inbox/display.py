"""How a stored message is shown: as text, an image, a card, an event, or a clear placeholder.

Every platform type is stored as sent (`Message.type`, `Message.content`); this module decides how
the thread and the list preview present it. Types the product cannot show (VIDEO, EMOTICONS,
OTHER and any type TikTok Shop adds later) become a placeholder that says what arrived and what to
do, so nothing a buyer sends disappears silently.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .models import Message, MessageDirection


class DisplayKind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    ORDER_CARD = "order_card"
    PRODUCT_CARD = "product_card"
    EVENT = "event"
    PLACEHOLDER = "placeholder"


# Platform types shown as an order card (the content carries an order id).
ORDER_CARD_TYPES = frozenset({"ORDER_CARD", "LOGISTICS_CARD", "RETURN_REFUND_CARD"})
PRODUCT_CARD_TYPES = frozenset({"PRODUCT_CARD"})
# Notices rather than messages: shown as a line in the thread, not as a bubble.
EVENT_TYPES = frozenset(
    {
        "ALLOCATED_SERVICE",
        "NOTIFICATION",
        "BUYER_ENTER_FROM_TRANSFER",
        "BUYER_ENTER_FROM_PRODUCT",
        "BUYER_ENTER_FROM_ORDER",
        "COUPON_CARD",
    }
)
# What the placeholder calls a type the product cannot show.
UNSHOWN_TYPE_NAMES = {
    "VIDEO": "a video",
    "EMOTICONS": "a sticker",
    "OTHER": "a message that TikTok Shop does not pass on to apps",
}

CARD_LABELS = {
    "ORDER_CARD": "Order card",
    "LOGISTICS_CARD": "Shipping card",
    "RETURN_REFUND_CARD": "Return or refund card",
    "PRODUCT_CARD": "Product card",
}


@dataclass(frozen=True, slots=True)
class MessageDisplay:
    """What the thread renders for one message."""

    kind: DisplayKind
    text: str
    label: str = ""
    image_url: str = ""
    image_width: int | None = None
    image_height: int | None = None
    order_id: str = ""
    product_id: str = ""
    is_hidden: bool = False


def _number(value: Any) -> int | None:
    """Received IMAGE sizes are strings ("290"); sent ones are numbers."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _text_of(content: dict[str, Any], fallback: str = "") -> str:
    value = content.get("content")
    return value if isinstance(value, str) and value else fallback


def _id(content: dict[str, Any], key: str) -> str:
    value = content.get(key)
    return str(value) if value not in (None, "") else ""


def placeholder_text(message_type: str, *, from_buyer: bool) -> str:
    """The sentence shown instead of a message the product cannot show."""
    what = UNSHOWN_TYPE_NAMES.get(
        message_type, f"a message of a type Sellerdesk does not know ({message_type or 'no type'})"
    )
    if from_buyer:
        return (
            f"The buyer sent {what}, which Sellerdesk cannot show. "
            "Ask the buyer to describe it in text or send photos instead."
        )
    return (
        f"{what[0].upper()}{what[1:]} was sent here, which Sellerdesk cannot show. "
        "Open TikTok Shop Seller Center to see it."
    )


def _event_text(message_type: str, content: dict[str, Any]) -> tuple[str, str, str]:
    """(text, order id, product id) of a notice."""
    if message_type == "BUYER_ENTER_FROM_ORDER":
        order_id = _id(content, "order_id")
        return f"The buyer opened the chat from order {order_id}.", order_id, ""
    if message_type == "BUYER_ENTER_FROM_PRODUCT":
        product_id = _id(content, "product_id")
        return f"The buyer opened the chat from product {product_id}.", "", product_id
    if message_type == "BUYER_ENTER_FROM_TRANSFER":
        return _text_of(content, "The chat was transferred from another agent."), "", ""
    if message_type == "ALLOCATED_SERVICE":
        return _text_of(content, "A customer service agent joined the chat."), "", ""
    if message_type == "COUPON_CARD":
        return f"Coupon {_id(content, 'coupon_id')} was sent.", "", ""
    return _text_of(content, "Notification from TikTok Shop."), "", ""


def message_display(message: Message) -> MessageDisplay:
    """How the thread shows `message` (`is_hidden` for is_visible=false: kept, not shown)."""
    kind_of = message.type
    content = message.content if isinstance(message.content, dict) else {}
    hidden = not message.is_visible
    if kind_of == "TEXT":
        text = message.text or _text_of(content)
        if message.direction == MessageDirection.SYSTEM:
            return MessageDisplay(DisplayKind.EVENT, text, is_hidden=hidden)
        return MessageDisplay(DisplayKind.TEXT, text, is_hidden=hidden)
    if kind_of == "IMAGE":
        return MessageDisplay(
            DisplayKind.IMAGE,
            "Image",
            image_url=str(content.get("url") or ""),
            image_width=_number(content.get("width")),
            image_height=_number(content.get("height")),
            is_hidden=hidden,
        )
    if kind_of in ORDER_CARD_TYPES:
        order_id = _id(content, "order_id")
        label = CARD_LABELS[kind_of]
        return MessageDisplay(
            DisplayKind.ORDER_CARD,
            f"{label}: order {order_id}",
            label=label,
            order_id=order_id,
            is_hidden=hidden,
        )
    if kind_of in PRODUCT_CARD_TYPES:
        product_id = _id(content, "product_id")
        return MessageDisplay(
            DisplayKind.PRODUCT_CARD,
            f"Product card: product {product_id}",
            label=CARD_LABELS[kind_of],
            product_id=product_id,
            is_hidden=hidden,
        )
    if kind_of in EVENT_TYPES:
        text, order_id, product_id = _event_text(kind_of, content)
        return MessageDisplay(
            DisplayKind.EVENT, text, order_id=order_id, product_id=product_id, is_hidden=hidden
        )
    return MessageDisplay(
        DisplayKind.PLACEHOLDER,
        placeholder_text(kind_of, from_buyer=message.direction == MessageDirection.INBOUND),
        label=kind_of,
        is_hidden=hidden,
    )


PREVIEW_LENGTH = 255


def message_preview(message: Message) -> str:
    """One line for the mailbox list (Conversation.last_message_preview)."""
    shown = message_display(message)
    if shown.kind == DisplayKind.PLACEHOLDER:
        name = UNSHOWN_TYPE_NAMES.get(message.type, f"a {message.type or 'new'} message")
        text = f"[{name[0].upper()}{name[1:]} — not shown in Sellerdesk]"
    elif shown.kind == DisplayKind.IMAGE:
        text = "[Image]"
    elif shown.kind in (DisplayKind.ORDER_CARD, DisplayKind.PRODUCT_CARD):
        text = f"[{shown.text}]"
    else:
        text = " ".join(shown.text.split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"
