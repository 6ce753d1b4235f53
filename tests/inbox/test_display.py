"""How stored messages are shown: each kind, the exact placeholder sentences, list previews;
and a ticket as a row of the mailbox list (the same strings the template filters printed)."""

from __future__ import annotations

import dataclasses
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import timezone

from inbox import display
from inbox.display import DisplayKind, MessageDisplay, message_display, message_preview
from inbox.models import Customer, Message, MessageDirection
from inbox.selectors import ListTicket
from tenants.models import User


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
        card_type="ORDER_CARD",
    )
    assert message_display(product) == MessageDisplay(
        DisplayKind.PRODUCT_CARD,
        "Product card: product 1729592969712207008",
        label="Product card",
        product_id="1729592969712207008",
        card_type="PRODUCT_CARD",
    )
    assert message_preview(order) == "[Order card: order 576469260282336209]"


def test_logistics_return_and_coupon_cards_carry_what_they_name():
    logistics = stored("LOGISTICS_CARD", {"order_id": "576", "package_id": "115"})
    refund = stored("RETURN_REFUND_CARD", {"order_id": "576", "sku_id": "1729"})
    coupon = stored("COUPON_CARD", {"coupon_id": "7262992004278206762"})

    assert message_display(logistics) == MessageDisplay(
        DisplayKind.ORDER_CARD,
        "Shipping card: order 576",
        label="Shipping card",
        order_id="576",
        card_type="LOGISTICS_CARD",
        package_id="115",
    )
    assert message_display(refund).sku_id == "1729"
    assert message_display(coupon) == MessageDisplay(
        DisplayKind.COUPON_CARD,
        "Coupon card: coupon 7262992004278206762",
        label="Coupon card",
        coupon_id="7262992004278206762",
        card_type="COUPON_CARD",
    )
    assert message_preview(coupon) == "[Coupon card: coupon 7262992004278206762]"


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


# --- A ticket as a row of the list ---------------------------------------------------------------

FILTERS = Template(
    '{% load tz %}{% timezone zone %}{{ at|date:"c" }}|{{ at|date:"j M Y, H:i T" }}'
    "{% endtimezone %}"
)


@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        (datetime(2026, 9, 12, 8, 0, tzinfo=UTC), "Europe/London"),  # summer time: 09:00 +01:00
        (datetime(2026, 1, 3, 23, 59, 59, 123456, tzinfo=UTC), "Europe/London"),
        (datetime(2026, 3, 1, 7, 5, tzinfo=UTC), "America/Los_Angeles"),  # the day before there
        (datetime(2026, 12, 31, 20, 45, tzinfo=UTC), "Asia/Kolkata"),  # +05:30: next year
        (datetime(2026, 5, 9, 0, 0, tzinfo=UTC), "UTC"),
    ],
)
def test_a_rows_time_is_what_the_date_filters_printed(moment, zone):
    expected = FILTERS.render(Context({"at": moment, "zone": zone}))
    at_iso, at_text = display.exact_time(moment, zoneinfo.ZoneInfo(zone), display.month_names())
    assert f"{at_iso}|{at_text}" == expected


NOW = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds_ago", "zone", "expected"),
    [
        (0, "UTC", "now"),
        (59, "UTC", "now"),
        (60, "UTC", "1m"),
        (59 * 60 + 59, "UTC", "59m"),  # past times round down, as app.js does
        (3600, "UTC", "1h"),
        (23 * 3600 + 3599, "UTC", "23h"),
        (86400, "UTC", "1d"),
        (7 * 86400, "UTC", "7d"),
        (8 * 86400, "Europe/London", "4 Sep"),
        (8 * 86400 + 9 * 3600, "America/Los_Angeles", "3 Sep"),  # the day there
        (300 * 86400, "UTC", "16 Nov 2025"),  # another year: with the year
        (-30, "UTC", "<1m"),
        (-90, "UTC", "2m"),  # future times to the nearest unit
    ],
)
def test_a_rows_short_time_is_what_app_js_writes(seconds_ago, zone, expected):
    moment = NOW - timedelta(seconds=seconds_ago)
    short = display.short_relative(moment, NOW, zoneinfo.ZoneInfo(zone), display.month_names())
    assert short == expected


def test_a_row_prints_its_short_time_with_the_exact_one_as_the_tooltip():
    """A list arriving by HTMX shows what app.js would write, not the wider exact time first
    (rows reflowed until the script ran: names were cut for a moment at 1024 px)."""
    row = display.ticket_rows(
        [list_ticket(last_message_at=timezone.now() - timedelta(minutes=4))],
        href_prefix="/mailbox/",
        href_suffix="/",
        zone=zoneinfo.ZoneInfo("Europe/London"),
    )[0]
    printed = render_to_string("inbox/_rows.html", {"rows": [row], "state": {}})
    assert f'data-relative="short" title="{row.at_text}">4m</time>' in printed


def test_the_buyer_label_is_the_customers_own():
    customer = Customer(store_id=42, buyer_user_id="7494560000000000123")
    assert display.buyer_label(42, "7494560000000000123") == customer.display_name


def test_buyers_are_told_apart_by_a_code_and_a_colour_from_their_id():
    identities = [display.buyer_identity(7, f"70214368104682{n:05d}") for n in range(60)]
    # The same buyer always looks the same; another store's buyer with the same id does not.
    assert display.buyer_identity(7, "7021436810468200000") == identities[0]
    assert display.buyer_identity(8, "7021436810468200000") != identities[0]
    assert len({identity.short for identity in identities}) == 60
    assert len({identity.hue for identity in identities}) == display.HUES  # every colour used
    first = identities[0]
    code = first.label.removeprefix("TikTok Shop Customer ").removesuffix("…")
    assert (first.short, first.initials) == (f"Customer {code}", code[:2].upper())
    assert display.buyer_identity(None, None) == display.NO_BUYER_IDENTITY


@pytest.mark.parametrize(
    ("product", "variant", "label"),
    [
        ("Vitamin C Sheet Masks (5 pack)", "5 pack", "Vitamin C Sheet Masks (5 pack)"),
        ("Ceramic Mug", "White", "Ceramic Mug (White)"),
        ("Ceramic Mug", "", "Ceramic Mug"),
        ("", "Red", "Red"),
        ("Socks - RED", "red", "Socks - RED"),
        ("", "", "Item"),
    ],
)
def test_a_line_names_its_variant_once(product, variant, label):
    assert display.line_label(product, variant) == label


def list_ticket(**values) -> ListTicket:
    defaults = {
        "pk": 7,
        "public_id": uuid.UUID("8f0e4a52-1111-4e6b-9c7a-2b1f0c6d9e01"),
        "number": 12,
        "status": "open",
        "last_message_at": datetime(2026, 9, 12, 8, 0, tzinfo=UTC),
        "last_message_preview": "Where is my parcel?",
        "last_message_from_buyer": True,
        "unread_count": 0,
        "store_name": "Acme US",
        "store_market": "us",
        "buyer_store_id": 3,
        "buyer_user_id": "7021436810000000001",
        "assignee_id": None,
        "assignee_first_name": None,
        "assignee_last_name": None,
        "assignee_email": None,
    }
    return ListTicket(**{**defaults, **values})


def test_ticket_rows_make_every_string_a_row_prints():
    named = User(first_name="Dana", last_name="Agent", email="dana@acme.test")
    unnamed = User(email="sam.k@acme.test")
    tickets = [
        list_ticket(unread_count=2),
        list_ticket(
            pk=8,
            public_id=uuid.UUID("8f0e4a52-2222-4e6b-9c7a-2b1f0c6d9e02"),
            status="pending",
            last_message_preview="It ships today.",
            last_message_from_buyer=False,
            assignee_id=5,
            assignee_first_name="Dana",
            assignee_last_name="Agent",
            assignee_email="dana@acme.test",
        ),
        list_ticket(
            pk=9,
            status="solved",
            last_message_preview="",
            buyer_store_id=None,
            buyer_user_id=None,
            assignee_id=6,
            assignee_first_name="",
            assignee_last_name="",
            assignee_email="sam.k@acme.test",
        ),
    ]

    rows = display.ticket_rows(
        tickets,
        href_prefix="/mailbox/",
        href_suffix="/?folder=all",
        zone=zoneinfo.ZoneInfo("Europe/London"),
        selected=8,
    )

    first, second, third = rows
    assert first.dom_id == "ticket-8f0e4a52-1111-4e6b-9c7a-2b1f0c6d9e01"
    assert first.href == "/mailbox/8f0e4a52-1111-4e6b-9c7a-2b1f0c6d9e01/?folder=all"
    assert (first.unread_count, first.current, first.assigned) == (2, False, False)
    label = Customer(store_id=3, buyer_user_id="7021436810000000001").display_name
    code = label.removeprefix("TikTok Shop Customer ").removesuffix("…")
    assert first.buyer == label
    assert (first.buyer_short, first.buyer_initials) == (f"Customer {code}", code[:2].upper())
    assert 0 <= first.buyer_hue < display.HUES
    assert first.store_hue == display.store_hue("Acme US")
    assert first.badges == ()
    assert (first.at_iso, first.at_text) == (
        "2026-09-12T09:00:00+01:00",
        "12 Sep 2026, 09:00 BST",
    )
    assert first.preview == "Where is my parcel?"
    assert (first.pill, first.status, first.number) == ("pill-open", "Open", 12)
    assert (first.store_name, first.market) == ("Acme US", "us")
    assert second.current is True
    assert second.preview == "You: It ships today."
    assert (second.pill, second.status) == ("pill-pending", "Pending")
    assert (second.assignee_name, second.assignee_initials) == (named.display_name, "DA")
    assert (third.buyer, third.buyer_short, third.buyer_initials) == (
        "TikTok Shop Customer",
        "Customer",
        "?",
    )
    assert third.preview == "No messages yet"
    assert (third.pill, third.status) == ("pill-solved", "Solved")
    assert (third.assignee_name, third.assignee_initials) == (unnamed.display_name, "SA")


def test_printed_rows_draw_the_same_markup_as_the_rows_themselves():
    """The list prints `row_printed` dicts (escaped once in Python): byte for byte what the
    template made of the rows, with text that needs escaping, badges, unread counts, an
    assignee, the open ticket and hue 0."""
    from django.template.loader import render_to_string

    tickets = [
        list_ticket(
            unread_count=3,
            last_message_preview='<b>"Tom & Jerry"</b> it\'s late',
            store_name="Shop <&> 'quoted'",
            intent="where_is_my_order",
            urgent=True,
            sla_due_at=datetime(2026, 9, 12, 10, 0, tzinfo=UTC),
            sla_reply_due_at=datetime(2026, 9, 12, 10, 0, tzinfo=UTC),
        ),
        list_ticket(
            pk=8,
            number=100000,
            public_id=uuid.UUID("8f0e4a52-2222-4e6b-9c7a-2b1f0c6d9e02"),
            status="pending",
            last_message_from_buyer=False,
            assignee_id=5,
            assignee_first_name="Dana <x>",
            assignee_last_name="O'Brien",
            assignee_email="dana@acme.test",
        ),
        list_ticket(pk=9, status="solved", buyer_store_id=None, buyer_user_id=None),
    ]
    rows = display.ticket_rows(
        tickets,
        href_prefix="/mailbox/",
        href_suffix="/?folder=all&q=a+%22b%22",
        zone=zoneinfo.ZoneInfo("Europe/London"),
        selected=8,
    )
    rows[2] = dataclasses.replace(
        rows[2],
        buyer_hue=0,
        store_hue=0,
        badges=(display.RowBadge("pill-presence", "Ann & Bo replying", ""),),
    )
    state = {"mixed_statuses": True, "version": "v1", "query": "folder=all"}
    context = {"state": state, "poll_seconds": 5, "stores": ["a store"]}

    as_rows = render_to_string("inbox/_rows.html", {**context, "rows": rows})
    as_printed = render_to_string(
        "inbox/_rows.html", {**context, "rows": [display.row_printed(row) for row in rows]}
    )

    assert as_printed == as_rows
    assert as_printed.count("data-ticket-row") == 3
    assert "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt; it&#x27;s late" in as_printed
    assert 'title="3 unread"' in as_printed and "#100000" in as_printed
    assert "hue-0" in as_printed and "Ann &amp; Bo replying" in as_printed
    assert rows[0].sla_badge and rows[0].sla_badge in as_printed


ROW_ARGS = {"href_prefix": "/m/", "href_suffix": "/", "zone": zoneinfo.ZoneInfo("UTC")}


def test_printed_values():
    assert display.printed('a <b> & "c"') == "a &lt;b&gt; &amp; &quot;c&quot;"
    assert display.printed(0) == "0" and display.printed(12) == "12"
    assert (display.printed(True), display.printed(False), display.printed(None)) == (
        True,
        False,
        None,
    )
    safe = display.text_with_breaks("<a>\nb")
    assert display.printed(safe) is safe
    row = display.row_printed(display.ticket_rows([list_ticket()], **ROW_ARGS)[0])
    assert (row["unread_count"], row["badges"]) == ("", [])


def test_a_page_makes_each_printed_value_once():
    made: dict = {}
    rows = display.ticket_rows(
        [list_ticket(), list_ticket(pk=8, public_id=uuid.uuid4(), number=13)], **ROW_ARGS
    )
    first, second = (display.row_printed(row, made) for row in rows)
    assert first["store_name"] is second["store_name"] and first["pill"] is second["pill"]
    assert first["number"] == "12" and second["number"] == "13"
    assert first["dom_id"] != second["dom_id"]
    assert display.row_printed(rows[0]) == first  # the same values without sharing
