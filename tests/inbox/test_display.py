"""How stored messages are shown: each kind, the exact placeholder sentences, list previews."""

from __future__ import annotations

import pytest

from inbox.display import DisplayKind, MessageDisplay, message_display, message_preview
from inbox.models import Message, MessageDirection


def stored(
    message_type: str,
    content: dict,
    *,
    text: str = "",
    direction: str = MessageDirection.INBOUND,
    visible: bool = True,
) -> Message:
    return Message(
        type=message_type, content=content, text=text, direction=direction, is_visible=visible
    )


def test_text_is_shown_as_text():
    message = stored("TEXT", {"content": "Where is my parcel?"}, text="Where is my parcel?")
    assert message_display(message) == MessageDisplay(DisplayKind.TEXT, "Where is my parcel?")
    assert message_preview(message) == "Where is my parcel?"


def test_a_robot_text_is_an_event():
    message = stored(
        "TEXT",
        {"content": "We reply within 24 hours."},
        text="We reply within 24 hours.",
        direction=MessageDirection.SYSTEM,
    )
    assert message_display(message) == MessageDisplay(
        DisplayKind.EVENT, "We reply within 24 hours."
    )


def test_an_image_keeps_its_url_and_size_given_as_strings():
    message = stored("IMAGE", {"height": "290", "url": "https://img.test/a.png", "width": "304"})
    assert message_display(message) == MessageDisplay(
        DisplayKind.IMAGE,
        "Image",
        image_url="https://img.test/a.png",
        image_width=304,
        image_height=290,
    )
    assert message_preview(message) == "[Image]"


def test_order_and_product_cards():
    order = stored("ORDER_CARD", {"order_id": "576469260282336209"})
    product = stored("PRODUCT_CARD", {"product_id": "1729592969712207008"})
    assert message_display(order) == MessageDisplay(
        DisplayKind.ORDER_CARD,
        "Order card: order 576469260282336209",
        label="Order card",
        order_id="576469260282336209",
    )
    assert message_display(product) == MessageDisplay(
        DisplayKind.PRODUCT_CARD,
        "Product card: product 1729592969712207008",
        label="Product card",
        product_id="1729592969712207008",
    )
    assert message_preview(order) == "[Order card: order 576469260282336209]"


def test_entered_from_order_and_agent_joined_are_events():
    entered = stored("BUYER_ENTER_FROM_ORDER", {"order_id": "576469260282336209"})
    joined = stored(
        "ALLOCATED_SERVICE",
        {"content": "Customer service agent joined the chat"},
        direction=MessageDirection.SYSTEM,
    )
    assert message_display(entered) == MessageDisplay(
        DisplayKind.EVENT,
        "The buyer opened the chat from order 576469260282336209.",
        order_id="576469260282336209",
    )
    assert message_display(joined) == MessageDisplay(
        DisplayKind.EVENT, "Customer service agent joined the chat"
    )


@pytest.mark.parametrize(
    ("message_type", "placeholder", "preview"),
    [
        (
            "VIDEO",
            "The buyer sent a video, which Sellerdesk cannot show. "
            "Ask the buyer to describe it in text or send photos instead.",
            "[A video — not shown in Sellerdesk]",
        ),
        (
            "EMOTICONS",
            "The buyer sent a sticker, which Sellerdesk cannot show. "
            "Ask the buyer to describe it in text or send photos instead.",
            "[A sticker — not shown in Sellerdesk]",
        ),
        (
            "OTHER",
            "The buyer sent a message that TikTok Shop does not pass on to apps, which Sellerdesk "
            "cannot show. Ask the buyer to describe it in text or send photos instead.",
            "[A message that TikTok Shop does not pass on to apps — not shown in Sellerdesk]",
        ),
        (
            "VOICE_NOTE",
            "The buyer sent a message of a type Sellerdesk does not know (VOICE_NOTE), which "
            "Sellerdesk cannot show. Ask the buyer to describe it in text or send photos instead.",
            "[A VOICE_NOTE message — not shown in Sellerdesk]",
        ),
    ],
)
def test_types_the_mailbox_cannot_show_become_a_clear_placeholder(
    message_type, placeholder, preview
):
    message = stored(message_type, {"vid": "v10394g5000cd499vc7og65mqn3r3dg0"})
    assert message_display(message) == MessageDisplay(
        DisplayKind.PLACEHOLDER, placeholder, label=message_type
    )
    assert message_preview(message) == preview


def test_a_video_from_the_seller_side_points_to_seller_center():
    message = stored("VIDEO", {"vid": "v1"}, direction=MessageDirection.OUTBOUND)
    assert message_display(message).text == (
        "A video was sent here, which Sellerdesk cannot show. "
        "Open TikTok Shop Seller Center to see it."
    )


def test_an_invisible_message_is_kept_but_marked_hidden():
    message = stored(
        "NOTIFICATION",
        {"content": "Please rate this conversation"},
        direction=MessageDirection.SYSTEM,
        visible=False,
    )
    assert message_display(message) == MessageDisplay(
        DisplayKind.EVENT, "Please rate this conversation", is_hidden=True
    )


def test_a_long_text_preview_is_cut_to_the_field():
    message = stored("TEXT", {}, text="word " * 100)
    preview = message_preview(message)
    assert len(preview) == 255
    assert preview.endswith("word…")
