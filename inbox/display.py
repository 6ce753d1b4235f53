"""How a stored message is shown: as text, an image, a card, an event, or a clear placeholder;
and how a ticket is shown as a row of the mailbox list.

Every platform type is stored as sent (`Message.type`, `Message.content`); this module decides how
the thread and the list preview present it. Types the product cannot show (VIDEO, EMOTICONS,
OTHER and any type TikTok Shop adds later) become a placeholder that says what arrived and what to
do, so nothing a buyer sends disappears silently.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import html
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from tenants.models import User
from tenants.safety import http_url

from .models import Message, MessageDirection, TicketStatus

if TYPE_CHECKING:
    from .selectors import ListTicket


class DisplayKind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    ORDER_CARD = "order_card"
    PRODUCT_CARD = "product_card"
    COUPON_CARD = "coupon_card"
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
    }
)
# Messages a buyer's mail system sent by itself, and what the thread calls them.
AUTOMATIC_TYPES = {"AUTO_REPLY": "Automatic reply", "DELIVERY_FAILURE": "Delivery failure"}
# What the placeholder calls a type the product cannot show.
UNSHOWN_TYPE_NAMES = {
    "VIDEO": "a video",
    "EMOTICONS": "a sticker",
    "OTHER": "a message that TikTok Shop does not pass on to apps",
}

# An IMAGE message whose address is not http(s): (sent by the seller, from the buyer).
UNSHOWABLE_IMAGE = (
    "An image was sent here that Sellerdesk cannot show: its address is not a web link. "
    "Open TikTok Shop Seller Center to see it.",
    "The buyer sent an image Sellerdesk cannot show: its address is not a web link. "
    "Ask the buyer to send it again.",
)

CARD_LABELS = {
    "ORDER_CARD": "Order card",
    "LOGISTICS_CARD": "Shipping card",
    "RETURN_REFUND_CARD": "Return or refund card",
    "PRODUCT_CARD": "Product card",
    "COUPON_CARD": "Coupon card",
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
    coupon_id: str = ""
    card_type: str = ""  # the platform type of a card (ORDER_CARD, LOGISTICS_CARD, ...)
    package_id: str = ""
    sku_id: str = ""
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
    return _text_of(content, "Notification from TikTok Shop."), "", ""


def message_display(message: Message) -> MessageDisplay:
    """How the thread shows `message` (`is_hidden` for is_visible=false: kept, not shown)."""
    kind_of = message.type
    content = message.content if isinstance(message.content, dict) else {}
    hidden = not message.is_visible
    if kind_of in AUTOMATIC_TYPES:
        # An out-of-office answer or a delivery failure (e-mail): shown, labelled, not a question.
        return MessageDisplay(
            DisplayKind.TEXT, message.text, label=AUTOMATIC_TYPES[kind_of], is_hidden=hidden
        )
    if kind_of == "TEXT":
        text = message.text or _text_of(content)
        if message.direction == MessageDirection.SYSTEM:
            return MessageDisplay(DisplayKind.EVENT, text, is_hidden=hidden)
        return MessageDisplay(DisplayKind.TEXT, text, is_hidden=hidden)
    if kind_of == "IMAGE":
        url = http_url(content.get("url"))
        if not url and not message.attachment:
            # Not an address a browser may load or follow (a `javascript:` URL included).
            return MessageDisplay(
                DisplayKind.PLACEHOLDER,
                UNSHOWABLE_IMAGE[message.direction == MessageDirection.INBOUND],
                label=kind_of,
                is_hidden=hidden,
            )
        return MessageDisplay(
            DisplayKind.IMAGE,
            "Image",
            image_url=url,
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
            card_type=kind_of,
            package_id=_id(content, "package_id"),
            sku_id=_id(content, "sku_id"),
            is_hidden=hidden,
        )
    if kind_of in PRODUCT_CARD_TYPES:
        product_id = _id(content, "product_id")
        return MessageDisplay(
            DisplayKind.PRODUCT_CARD,
            f"Product card: product {product_id}",
            label=CARD_LABELS[kind_of],
            product_id=product_id,
            card_type=kind_of,
            is_hidden=hidden,
        )
    if kind_of == "COUPON_CARD":
        coupon_id = _id(content, "coupon_id")
        return MessageDisplay(
            DisplayKind.COUPON_CARD,
            f"Coupon card: coupon {coupon_id}",
            label=CARD_LABELS[kind_of],
            coupon_id=coupon_id,
            card_type=kind_of,
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
    if message.type == "IMAGE":
        text = "[Image]"
    elif shown.kind == DisplayKind.PLACEHOLDER:
        name = UNSHOWN_TYPE_NAMES.get(message.type, f"a {message.type or 'new'} message")
        text = f"[{name[0].upper()}{name[1:]} — not shown in Sellerdesk]"
    elif shown.kind in (DisplayKind.ORDER_CARD, DisplayKind.PRODUCT_CARD, DisplayKind.COUPON_CARD):
        text = f"[{shown.text}]"
    elif message.type in AUTOMATIC_TYPES:
        text = f"[{AUTOMATIC_TYPES[message.type]}] {' '.join(shown.text.split())}"
    else:
        text = " ".join(shown.text.split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


# --- A ticket as a row of the list -------------------------------------------------------------
#
# The list draws 50 rows per request, every few seconds for every open mailbox: the strings a row
# shows are made here, once, in plain Python, and the template only prints them: two `{% url %}`,
# two `|date` filters and a dozen nested lookups per row were most of the list's rendering time
# (bench/README.md). The output is the same as those tags and filters gave.

STATUS_LABELS = dict(TicketStatus.choices)
ROW_PILLS = {TicketStatus.OPEN: "pill-open", TicketStatus.PENDING: "pill-pending"}  # else solved
NO_BUYER = "TikTok Shop Customer"


# Words for triage's intents (triage registers them in its AppConfig.ready): the row's tag.
INTENT_LABELS: dict[str, str] = {}


def intent_label(intent: str) -> str:
    return INTENT_LABELS.get(intent) or intent.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class RowBadge:
    """A small label in a row's badge slot (an SLA clock, a tag): `css` is its class
    ("pill-overdue", "badge-accent"), `text` its word, `title` the longer explanation."""

    css: str
    text: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class TicketRow:
    """What one row of the list prints, every string ready."""

    dom_id: str  # "ticket-<public id>"
    href: str  # the ticket, with the list's filters
    unread_count: int
    buyer: str  # the full masked label ("TikTok Shop Customer 1b0431…"), the row's tooltip
    buyer_short: str  # "Customer 1b0431", what the row shows
    buyer_initials: str  # "1B", in the buyer's avatar
    buyer_hue: int  # the avatar's colour class, hue-<n>
    at_iso: str  # <time datetime>: the tenant's zone, as `|date:"c"`
    at_text: str  # the exact time, as `|date:"j M Y, H:i"`: the tooltip
    at_short: str  # "4m", "3h", "2d", "12 Sep": what the row shows (app.js keeps it current)
    preview: str
    number: int
    store_name: str
    market: str
    pill: str
    status: str
    assigned: bool
    assignee_name: str
    assignee_initials: str
    current: bool  # the open ticket: highlighted (aria-current)
    sla_badge: str = ""  # the soonest SLA clock, ready HTML (sla.display.badge), or ""
    store_hue: int = 0  # the store's dot colour, as in the rail
    # Badges drawn between the buyer and the time (SLA clocks, tags): features add theirs here.
    badges: tuple[RowBadge, ...] = ()


URGENT = RowBadge("pill-urgent", "Urgent", "Anger, a threat, or repeated messages")


def printed(value: object, made: dict[object, SafeString] | None = None) -> object:
    """`value` as `{{ value }}` prints it, made once: text escaped (a SafeString), a number as
    its digits; anything else (True, False, None for `{% if %}`, objects whose attributes the
    template reads) as it is. Django's template escapes and localises every `{{ }}` on its own
    (escape() through a lazy wrapper, number_format for an int) and tries `obj[name]` before
    `getattr` on each lookup, raising a TypeError on an object: ~3 µs a variable, a thousand and
    more on a list or a ticket page. Dicts of ready SafeStrings print the same bytes in about a
    third of that (bench/README.md, "Mailbox pages").

    `made`: the SafeStrings already made for this page, by value. A SafeString is an object the
    garbage collector tracks (a str is not): one per field of 212 entries (`?all=1`), held
    through the render, made 2.5x the collections of the page before and full collections
    (~100 ms under load) in 7 of 100 requests; a page's values repeat (sides, classes, stores,
    empty strings), and made once each, the page runs 1.5x the collections of before."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    if isinstance(value, str) and hasattr(value, "__html__"):
        return value
    if made is None:
        return SafeString(html.escape(value) if isinstance(value, str) else value)
    safe = made.get(value)
    if safe is None:
        safe = made[value] = SafeString(html.escape(value) if isinstance(value, str) else value)
    return safe


def fields_printed(view: Any, made: dict[object, SafeString] | None = None) -> dict[str, object]:
    """A dataclass instance's fields as `printed` values in a dict, for a template that only
    prints them (the thread's entries); `made` as for `printed`, shared by a page's entries."""
    return {name: printed(getattr(view, name), made) for name in view.__dataclass_fields__}


_ROW_FIELDS = tuple(
    name for name in TicketRow.__dataclass_fields__ if name not in {"unread_count", "badges"}
)


def row_printed(row: TicketRow, made: dict[object, SafeString] | None = None) -> dict[str, object]:
    """A list row for `inbox/_rows.html`: its fields as `printed` values in a dict (the same
    markup, a third of the template's time); `made` as for `printed`, shared by a page's rows.
    `unread_count` is "" for none, so `{% if %}` holds."""
    values = {name: printed(getattr(row, name), made) for name in _ROW_FIELDS}
    values["unread_count"] = printed(row.unread_count, made) if row.unread_count else ""
    values["badges"] = [
        {
            "css": printed(badge.css, made),
            "text": printed(badge.text, made),
            "title": printed(badge.title, made),
        }
        for badge in row.badges
    ]
    return values


def _intent_badges(intent: str, urgent: bool, cache: dict[str, RowBadge]) -> tuple[RowBadge, ...]:
    """The urgent mark and the intent tag of a row (one RowBadge per intent and page)."""
    badges: tuple[RowBadge, ...] = (URGENT,) if urgent else ()
    if intent and intent != "other":
        if intent not in cache:
            cache[intent] = RowBadge(f"badge-intent intent-{intent}", intent_label(intent))
        badges = (*badges, cache[intent])
    return badges


def month_names() -> list[str]:
    """Index 1-12: "Jan" … "Dec" in the active language, as the `M` date format gives them."""
    return _month_names(get_language())


@functools.lru_cache(maxsize=16)
def _month_names(language: str | None) -> list[str]:
    # Twelve lazy translations cost ~0.1 ms: made once per language, not once per list or card.
    return ["", *(str(MONTHS_3[month]).title() for month in range(1, 13))]


def exact_time(moment: datetime, zone: tzinfo, months: list[str]) -> tuple[str, str]:
    """(ISO 8601, "12 Sep 2026, 09:00 BST") in `zone`: what `|date:"c"` and
    `|date:"j M Y, H:i T"` print inside `{% timezone zone %}`, without the filter machinery.
    Every exact time names its zone (the organisation's), so it cannot be read as the reader's."""
    local = timezone.localtime(moment, zone)
    text = (
        f"{local.day} {months[local.month]} {local.year:04d}, "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )
    return local.isoformat(), text


def short_relative(moment: datetime, now: datetime, zone: tzinfo, months: list[str]) -> str:
    """What app.js's relativeTime(short) writes: "now", "4m", "3h", "2d", then "12 Sep" (with the
    year when it is not this year) as the day in `zone`. Printed by the server too, so that a list
    arriving by HTMX does not show the wider exact time until the script rewrites it."""
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 60:
        return "now" if seconds >= 0 else "<1m"
    # Past times round down ("59m" until the hour is full), future ones to the nearest unit.
    count = math.floor if seconds >= 0 else (lambda value: math.floor(value + 0.5))
    span = abs(seconds)
    if count(span / 60) < 60:
        return f"{count(span / 60)}m"
    if count(span / 3600) < 24:
        return f"{count(span / 3600)}h"
    if span < 7.5 * 86400:
        return f"{count(span / 86400)}d"
    local = timezone.localtime(moment, zone)
    label = f"{local.day} {months[local.month]}"
    return label if local.year == timezone.localtime(now, zone).year else f"{label} {local.year}"


def text_with_breaks(text: str) -> SafeString:
    """`text` escaped, its line breaks as <br>: what `{{ text|linebreaksbr }}` prints."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return mark_safe(html.escape(text).replace("\n", "<br>"))  # noqa: S308 (escaped first)


def exact_day(moment: datetime | None, zone: tzinfo) -> tuple[str, str]:
    """(ISO 8601, "12 Sep 2026") in `zone`, as `|date:"c"` and `|date:"j M Y"` print inside
    `{% timezone zone %}`; ("", "") for no time, as the filters give."""
    if moment is None:
        return "", ""
    local = timezone.localtime(moment, zone)
    return local.isoformat(), f"{local.day} {month_names()[local.month]} {local.year:04d}"


def buyer_label(store_id: int, buyer_user_id: str) -> str:
    """The masked buyer label, as `Customer.display_name` draws it, without a model instance."""
    return buyer_identity(store_id, buyer_user_id).label


# Avatar colours: `hue-0` … `hue-11` in app.css, each with AA contrast for its letters.
HUES = 12


@dataclass(frozen=True, slots=True)
class BuyerIdentity:
    """How one buyer is told apart at a glance: TikTok masks names, so every buyer label starts
    alike; the code, the avatar's letters and its colour come from the buyer id."""

    label: str  # "TikTok Shop Customer 1b0431…" (Customer.display_name)
    short: str  # "Customer 1b0431": what a list row has room for
    initials: str  # "1B": the avatar's letters
    hue: int  # 0 … HUES - 1: the avatar's colour


NO_BUYER_IDENTITY = BuyerIdentity(NO_BUYER, "Customer", "?", 0)


def buyer_identity(store_id: int | None, buyer_user_id: str | None) -> BuyerIdentity:
    if store_id is None or buyer_user_id is None:
        return NO_BUYER_IDENTITY
    digest = hashlib.sha256(f"{store_id}:{buyer_user_id}".encode()).hexdigest()
    if "@" in buyer_user_id:  # an e-mail buyer (Customer.display_name): their address
        return BuyerIdentity(
            label=buyer_user_id,
            short=buyer_user_id,
            initials=buyer_user_id[:2].upper(),
            hue=int(digest[6:10], 16) % HUES,
        )
    code = digest[:6]
    return BuyerIdentity(
        label=f"{NO_BUYER} {code}…",
        short=f"Customer {code}",
        initials=code[:2].upper(),
        hue=int(digest[6:10], 16) % HUES,
    )


def store_hue(store_name: str) -> int:
    """The colour of a store's dot, the same in the rail and in every row."""
    return zlib.crc32(store_name.encode()) % HUES


def line_label(product_name: str, sku_name: str) -> str:
    """ "Mug (White)"; the product alone when its name already says the variant ("Sheet Masks
    (5 pack)" with variant "5 pack", not "… (5 pack) (5 pack)")."""
    product, variant = product_name.strip(), sku_name.strip()
    if not variant or variant.casefold() in product.casefold():
        return product or variant or "Item"
    if not product:
        return variant
    return f"{product} ({variant})"


def ticket_rows(
    tickets: Iterable[ListTicket],
    *,
    href_prefix: str,
    href_suffix: str,
    zone: tzinfo,
    selected: int | None = None,
) -> list[TicketRow]:
    """The list's rows. A ticket's link is `href_prefix + public id + href_suffix` (the URL is
    reversed once per page, not once per row); `selected` is the pk of the open ticket."""
    from sla import display as sla_display  # sla.display draws with this module's helpers

    now = timezone.now()
    months = month_names()
    assignees: dict[int, tuple[str, str]] = {}
    store_hues: dict[str, int] = {}
    intent_badges: dict[str, RowBadge] = {}
    rows = []
    for ticket in tickets:
        at_iso, at_text = exact_time(ticket.last_message_at, zone, months)
        at_short = short_relative(ticket.last_message_at, now, zone, months)
        preview = ticket.last_message_preview
        if preview and not ticket.last_message_from_buyer:
            preview = f"You: {preview}"
        name = initials = ""
        if ticket.assignee_id is not None:
            if ticket.assignee_id not in assignees:
                # A few teammates, many rows: the User's own naming rules, once per teammate.
                person = User(
                    first_name=ticket.assignee_first_name or "",
                    last_name=ticket.assignee_last_name or "",
                    email=ticket.assignee_email or "",
                )
                assignees[ticket.assignee_id] = (person.display_name, person.initials)
            name, initials = assignees[ticket.assignee_id]
        public_id = str(ticket.public_id)
        due = (
            sla_display.soonest(
                platform_due_at=ticket.platform_due_at,
                sla_reply_due_at=ticket.sla_reply_due_at,
                sla_resolution_due_at=ticket.sla_resolution_due_at,
                first_response_at=ticket.first_response_at,
            )
            if ticket.sla_due_at is not None
            else None
        )
        buyer = buyer_identity(ticket.buyer_store_id, ticket.buyer_user_id)
        if ticket.store_name not in store_hues:
            store_hues[ticket.store_name] = store_hue(ticket.store_name)
        rows.append(
            TicketRow(
                dom_id=f"ticket-{public_id}",
                href=f"{href_prefix}{public_id}{href_suffix}",
                unread_count=ticket.unread_count,
                buyer=buyer.label,
                buyer_short=buyer.short,
                buyer_initials=buyer.initials,
                buyer_hue=buyer.hue,
                at_iso=at_iso,
                at_text=at_text,
                at_short=at_short,
                preview=preview or "No messages yet",
                number=ticket.number,
                store_name=ticket.store_name,
                market=ticket.store_market,
                pill=ROW_PILLS.get(ticket.status, "pill-solved"),
                status=STATUS_LABELS.get(ticket.status, ticket.status),
                assigned=ticket.assignee_id is not None,
                assignee_name=name,
                assignee_initials=initials,
                current=ticket.pk == selected,
                sla_badge=(
                    sla_display.badge(due, now=now, zone=zone, months=months)
                    if due is not None
                    else ""
                ),
                store_hue=store_hues[ticket.store_name],
                badges=_intent_badges(ticket.intent, ticket.urgent, intent_badges),
            )
        )
    return rows
