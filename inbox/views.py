"""The mailbox pages: the list (folders, filters, search), the ticket with its order workbench and
composer, ticket actions, and the cheap polling that keeps both live.

Every view about one ticket starts with `selectors.conversation_get`, which answers 404 for a
ticket of another tenant or of a store the agent may not serve — on pages, fragments, actions and
polls alike. Pages render whole without JavaScript; with HTMX the same URLs answer with only the
pane that changes (`HX-Target`).
"""

from __future__ import annotations

import dataclasses
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages as flash
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from marketplaces.channel import capabilities_for
from marketplaces.selectors import stores_visible_to
from orders import selectors as order_selectors
from orders.aftersale import may_act
from orders.models import Cancellation, Coupon, Order, Product, Return
from orders.services import is_order_id, order_fetch, order_lookup
from orders.views import STATUS_PILLS, money, readable
from search import index as search_index
from search import tickets as search_tickets
from search.query import parse as parse_search
from search.tickets import TicketSearch
from sla import display as sla_display
from tenants.decorators import tenant_required
from tenants.models import Membership
from tenants.principals import via_label

from . import (
    card_display,
    display,
    mail_display,
    presence,
    selectors,
    services,
    snippets,
    thread_pages,
)
from .forms import (
    AssignForm,
    ComposerForm,
    ListFilterForm,
    OrderSearchForm,
    SnippetPickForm,
    StatusForm,
)
from .models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
    Snippet,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from .sidebar import SIDEBAR_TABS, TICKET_BAR_PARTS
from .validation import ReplyInvalidError

LIST_PAGE_SIZE = 50
NEAR_SHARE = 0.9  # the composer's counter turns amber from this share of the channel's limit
POLL_SECONDS = 3
THREAD_WINDOW = 50
TICKET_PILLS = {
    TicketStatus.OPEN: "pill-open",
    TicketStatus.PENDING: "pill-pending",
    TicketStatus.SOLVED: "pill-solved",
}
# The status menu: (value, label, data-action its shortcut clicks, the key).
STATUS_CHOICES = [
    (TicketStatus.OPEN, TicketStatus.OPEN.label, "reopen", ""),
    (TicketStatus.PENDING, TicketStatus.PENDING.label, "pending", "p"),
    (TicketStatus.SOLVED, TicketStatus.SOLVED.label, "solve", "e"),
]
# What an empty folder says: (title, what to do). Folders not named here get a plain sentence.
EMPTY_FOLDERS = {
    "open": ("No open tickets", "All caught up. New buyer messages appear here within seconds."),
    "pending": (
        "No pending tickets",
        "Tickets waiting for the buyer's answer wait here; set one to Pending with p.",
    ),
    "solved": (
        "No solved tickets",
        "Solved tickets land here; a buyer's new message reopens them.",
    ),
    "mine": (
        "No tickets assigned to you",
        "Take a ticket with Assign to me (or a) and it shows here.",
    ),
    "unassigned": ("No unassigned tickets", "Every ticket has someone on it."),
    "all": ("No tickets yet", "Buyer messages from your stores land here as tickets."),
}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _target(request: HttpRequest) -> str:
    return request.headers.get("HX-Target", "") if _is_htmx(request) else ""


# --- What the thread and the workbench show ---------------------------------------------------


@dataclass
class EntryView:
    """One line of the thread as the template draws it.

    side: "buyer" (left, neutral), "agent" (right, tinted, with the agent's name), "note" (pale
    yellow, "Internal note") or "system" (centred, small, grey); `shown` says how a message's
    content is drawn (inbox.display: text, image, order/product card, event, placeholder).
    """

    side: str
    kind: str
    at: Any
    text: str = ""
    at_iso: str = ""  # set by entry_views: the tenant's zone, as `|date:"c"`
    at_text: str = ""  # "12 Sep 2026, 09:00", as `|date:"j M Y, H:i"`
    author: str = ""
    image_url: str = ""
    label: str = ""
    order_id: str = ""
    product_id: str = ""
    message: Message | None = None
    # Set by entry_views, so that the thread's template only prints (bench/README.md):
    text_html: str = ""  # `text` escaped with its line breaks as <br>, as `|linebreaksbr`
    dom_id: str = ""  # "message-<public id>" for a message, else ""
    delivery_class: str = ""  # "delivery-queued" | "delivery-sent" | "delivery-failed" | ""
    delivery_text: str = ""  # "Queued", "Sending…", "Sent", "Failed: <reason>"
    retry_url: str = ""  # a failed or retrying reply's Retry form action
    # A reply that has not gone: why, which attempt, when the next one is (`next_*`: the
    # tenant's zone), and what its button says ("Retry now" while retrying, "Retry" once failed).
    problem: str = ""
    next_iso: str = ""
    next_text: str = ""
    retry_label: str = ""
    shown: display.MessageDisplay | None = None
    card: Any = None  # a card's card_display.CardView, drawn by inbox/_cards.html
    email: mail_display.EmailView | None = None  # a message that arrived as an e-mail

    @property
    def delivery(self) -> str:
        return self.message.delivery_status if self.message is not None else ""


SIDES = {
    MessageDirection.INBOUND: "buyer",
    MessageDirection.OUTBOUND: "agent",
    MessageDirection.SYSTEM: "system",
}


def _message_view(message: Message, conversation: Conversation) -> EntryView:
    shown = display.message_display(message)
    side = "system" if shown.kind == "event" else SIDES.get(message.direction, "system")
    author = ""
    if side == "agent":
        author = (
            message.author.display_name
            if message.author is not None
            else (message.sender_name or "Seller, outside Sellerdesk")
        )
    image_url = shown.image_url
    if message.attachment:
        # A reply's own image, served to the team through an access-checked URL.
        image_url = reverse("reply_image", args=[conversation.public_id, message.public_id])
    text = shown.text
    if shown.kind == "image" and message.text:
        text = message.text
    elif shown.kind == "image":
        text = ""
    return EntryView(
        side=side,
        kind=str(shown.kind),
        at=message.sent_at,
        text=text,
        author=author,
        image_url=image_url,
        label=shown.label,
        order_id=shown.order_id,
        product_id=shown.product_id,
        message=message,
        shown=shown,
        email=mail_display.email_view(message, conversation),
    )


def _event_view(event: TicketEvent) -> EntryView:
    via = via_label(event.data)  # "API key <name>" when an integration acted
    actor = event.actor.display_name if event.actor is not None else "Sellerdesk"
    if event.kind == TicketEventKind.NOTE:
        return EntryView(
            side="note", kind="text", at=event.created_at, text=event.body, author=via or actor
        )
    sentence = _event_sentence(event, "An integration" if via else actor)
    return EntryView(
        side="system",
        kind="event",
        at=event.created_at,
        text=f"{sentence} via {via}" if via else sentence,
    )


def _event_sentence(event: TicketEvent, actor: str) -> str:
    """History in words: "Dana Agent set the status to Solved", "… assigned the ticket to Sam"."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == TicketEventKind.STATUS:
        to = str(data.get("to") or "")
        return f"{actor} set the status to {dict(TicketStatus.choices).get(to, to)}"
    if event.kind == TicketEventKind.ASSIGNMENT:
        to = data.get("to") if isinstance(data.get("to"), dict) else None
        if to is None:
            return f"{actor} unassigned the ticket"
        name = to.get("name", "a teammate")
        if event.actor is not None and to.get("id") == str(event.actor.public_id):
            return f"{actor} took the ticket"
        return f"{actor} assigned the ticket to {name}"
    if event.body:
        return event.body
    if event.kind == TicketEventKind.ORDER_LINKED and data.get("order_id"):
        return f"Order {data['order_id']} linked to the ticket"
    return str(TicketEventKind(event.kind).label) if event.kind in TicketEventKind.values else ""


def entry_views(
    entries: list[selectors.ThreadEntry],
    *,
    conversation: Conversation,
    zone: tzinfo,
    known_orders: dict[str, Order] | None = None,
) -> list[EntryView]:
    """The thread's lines, their times already written out in `zone` (two `|date` filters per
    entry were about a tenth of a long ticket's time, bench/README.md). Order cards of the
    `known_orders` (read by the workbench) are drawn without reading them again."""
    months = display.month_names()
    views = [
        _message_view(entry.message, conversation)
        if entry.message is not None
        else _event_view(entry.event)
        for entry in entries
    ]
    retry_prefix = retry_suffix = ""
    for view in views:
        view.at_iso, view.at_text = display.exact_time(view.at, zone, months)
        if view.side == "system":
            continue
        view.text_html = display.text_with_breaks(view.text)
        message = view.message
        if message is None:
            continue
        view.dom_id = f"message-{message.public_id}"
        view.delivery_class, view.delivery_text = _delivery(message)
        if _delivery_problem(view, message, zone, months):
            if not retry_prefix:
                # One reverse() for the thread: each Retry is the same URL around its reply's id.
                placeholder = str(uuid.UUID(int=0))
                url = reverse("reply_retry", args=[conversation.public_id, placeholder])
                retry_prefix, _, retry_suffix = url.partition(placeholder)
            view.retry_url = f"{retry_prefix}{message.public_id}{retry_suffix}"
    card_display.attach_cards(conversation, views, known_orders=known_orders)
    return views


DELIVERY_SHOWN = {
    DeliveryStatus.QUEUED: ("delivery-queued", "Queued"),
    DeliveryStatus.SENDING: ("delivery-queued", "Sending\N{HORIZONTAL ELLIPSIS}"),
    DeliveryStatus.SENT: ("delivery-sent", "Sent"),
}


RETRYING_PREFIX = "Retrying: "  # how inbox.outbox words the reason of an attempt to be repeated


def _retrying(message: Message) -> bool:
    return (
        message.delivery_status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
        and message.attempts > 0
        and message.failure_reason.startswith(RETRYING_PREFIX)
    )


def _delivery(message: Message) -> tuple[str, str]:
    """(class, words) of a reply's delivery state; ("", "") for anything else."""
    if message.delivery_status == DeliveryStatus.FAILED:
        reason = message.failure_reason or "TikTok Shop did not accept it"
        return "delivery-failed", f"Failed: {reason}"
    if _retrying(message):
        if message.delivery_status == DeliveryStatus.SENDING:
            return "delivery-queued", f"Sending again (attempt {message.attempts + 1})"
        return "delivery-queued", "Not sent yet"
    return DELIVERY_SHOWN.get(message.delivery_status, ("", ""))


def _delivery_problem(view: EntryView, message: Message, zone: tzinfo, months: list[str]) -> bool:
    """Fills in why a reply has not gone and when it is tried again; True when it offers Retry
    (failed, or waiting for its next attempt: "Retry now")."""
    if message.delivery_status == DeliveryStatus.FAILED:
        view.retry_label = "Retry"
        return True
    if not _retrying(message):
        return False
    reason = message.failure_reason.removeprefix(RETRYING_PREFIX).strip()
    limit = int(settings.INBOX_SEND_MAX_ATTEMPTS)
    view.problem = f"{reason} Attempt {message.attempts} of {limit} did not go through."
    if message.delivery_status == DeliveryStatus.SENDING:
        return False  # being sent right now: nothing to press
    if message.next_attempt_at is not None:
        view.next_iso, view.next_text = display.exact_time(message.next_attempt_at, zone, months)
    view.retry_label = "Retry now"
    return True


@dataclass
class OrderCard:
    """A compact order card of the workbench, with the text its Insert button drops in."""

    order: Any
    linked: bool
    total: str
    pill: str
    status: str
    items: list[tuple[int, str]]
    location: str
    returns: list[dict[str, Any]]
    cancellations: list[dict[str, Any]]
    insert_text: str
    placed_iso: str  # <time datetime>: the tenant's zone, as `|date:"c"`
    placed_text: str  # "12 Sep 2026", as `|date:"j M Y"`
    href: str  # the order's own page


def order_summary(card: selectors.SidebarOrder, *, zone: tzinfo) -> OrderCard:
    order = card.order
    lines = list(order.lines.all())
    counted: dict[str, int] = {}
    for line in lines:
        name = display.line_label(line.product_name, line.sku_name)
        counted[name] = counted.get(name, 0) + 1  # one line per unit
    items = [(count, name) for name, count in counted.items()]
    total = money(order.total_amount, order.currency)
    status = order.status_label
    location = ", ".join(
        p for p in (order.city, order.state, order.postal_code, order.country) if p
    )
    parts = [f"Order {order.external_id}", status]
    if items:
        parts.append(", ".join(f"{count} \N{MULTIPLICATION SIGN} {name}" for count, name in items))
    if total:
        parts.append(total)
    if order.tracking_number:
        carrier = order.shipping_provider or "carrier"
        parts.append(f"{carrier} tracking {order.tracking_number}")
    placed_iso, placed_text = display.exact_day(order.placed_at, zone)
    return OrderCard(
        order=order,
        linked=card.linked,
        total=total,
        pill=STATUS_PILLS.get(order.status, "pill-neutral"),
        status=status,
        items=items,
        location=location,
        returns=[_after_sale(record) for record in card.returns],
        cancellations=[_after_sale(record) for record in card.cancellations],
        insert_text=" · ".join(parts),
        placed_iso=placed_iso,
        placed_text=placed_text,
        href=reverse("order_detail", args=[order.public_id]),
    )


def _after_sale(record: Return | Cancellation) -> dict[str, Any]:
    return {
        "record": record,
        "status": record.status_label,
        "reason": record.reason_text or readable(record.reason),
        "refund": money(record.refund_total, record.currency),
        "items": [line.product_name for line in record.lines.all()],
    }


# --- The list -----------------------------------------------------------------------------------


# TicketStatus.values builds its list on every call (asked once per row of a list).
_STATUS_VALUES = frozenset(TicketStatus.values)


@dataclass
class ListState:
    """What the rail and the list show for one request's filters."""

    form: ListFilterForm
    filters: selectors.ListFilters
    counts: dict[str, int]
    version: str
    page: selectors.ListPage
    cursor: str
    query: str  # the filters as a query string, without the page cursor
    search: TicketSearch | None = None  # what the search box asked, read (None: no search)

    @property
    def folder_label(self) -> str:
        return selectors.FOLDERS[self.filters.folder]

    @property
    def mixed_statuses(self) -> bool:
        """Whether the rows need their status: not in a folder of one status."""
        return self.filters.folder not in _STATUS_VALUES

    @property
    def empty_title(self) -> str:
        title, _ = EMPTY_FOLDERS.get(
            self.filters.folder, (f"No tickets in {self.folder_label}", "")
        )
        if self.filters.assignee is not None and self.filters.folder != "mine":
            title = f"{title} assigned to {self.filters.assignee.user.display_name}"
        if self.filters.store is not None:
            title = f"{title} in {self.filters.store.name}"
        return title

    @property
    def empty_hint(self) -> str:
        _, hint = EMPTY_FOLDERS.get(self.filters.folder, ("", "Pick another folder."))
        if self.filters.store is not None or self.filters.assignee is not None:
            return "Clear the store or assignee filter to see more."
        return hint


def _list_form(request: HttpRequest) -> ListFilterForm:
    membership = request.membership  # type: ignore[attr-defined]
    return ListFilterForm(
        request.GET or None,
        stores=stores_visible_to(membership),
        members=Membership.objects.filter(tenant=membership.tenant),
    )


def _list_query(request: HttpRequest) -> str:
    """The list's filters as a query string: what the rows' links, the poll and the lazy list
    pane carry along (not the page cursor, nor the ticket page's own parameters)."""
    query = request.GET.copy()
    for key in ("before", "v", "page", "snippet", "order", "earlier", "from", "selected"):
        query.pop(key, None)
    return query.urlencode()


def _list_state(request: HttpRequest, *, rows: bool = True, counts: bool = True) -> ListState:
    """The filters and change stamp, plus the folder counts (for the rail) and the page of
    rows (for the list) when asked for."""
    membership = request.membership  # type: ignore[attr-defined]
    tenant = request.tenant  # type: ignore[attr-defined]
    form = _list_form(request)
    filters = selectors.ListFilters(
        folder=form.value("folder") or selectors.DEFAULT_FOLDER,
        store=form.value("store"),
        assignee=form.value("assignee"),
        # Read by the search itself, whatever was typed (NUL bytes, 1,000 characters): a
        # result or an empty list, never the whole folder because the field was refused.
        search=parse_search(request.GET.get("q", "")).text,
        sort=form.value("sort") or "",
        intent=form.value("intent") or "",
    )
    # Read once for the counts and the rows (an idle poll needs neither: no query for it).
    search = (
        selectors.list_search(tenant=tenant, membership=membership, filters=filters)
        if filters.search and (rows or counts)
        else None
    )
    version = selectors.list_stamp(tenant=tenant, membership=membership, store=filters.store)
    if filters.urgent:
        # Tickets enter Due soon and Overdue as time passes, not only when they change.
        version = f"{version}-{sla_display.clock_minute()}"
    folder_counts = (
        selectors.folder_counts_cached(
            tenant=tenant, membership=membership, store=filters.store, stamp=version, search=search
        )
        if counts
        else {}
    )
    # Who is replying where (the rows' markers) changes without any ticket changing.
    generation = presence.generation(tenant.pk)
    if generation:
        version = f"{version}-p{generation}"
    cursor = request.GET.get("before", "")
    page = (
        selectors.list_page(
            selectors.mailbox_conversations(
                tenant=tenant, membership=membership, filters=filters, search=search
            ),
            cursor=cursor,
            size=LIST_PAGE_SIZE,
            urgent=filters.urgent,
            first=search.exact_ids if search else (),
        )
        if rows
        else selectors.ListPage(rows=[], next_cursor="")
    )
    return ListState(
        form=form,
        filters=filters,
        counts=folder_counts,
        version=version,
        page=page,
        cursor=cursor,
        query=_list_query(request),
        search=search,
    )


def _href(**params: object) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return reverse("mailbox") + (f"?{query}" if query else "")


def _tenant_zone(tenant: Any) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(tenant.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _ticket_rows(
    request: HttpRequest, state: ListState, *, selected: int | None
) -> list[display.TicketRow]:
    # One reverse() for the page: each row's link is the same URL around its own id.
    placeholder = str(uuid.UUID(int=0))
    prefix, _, suffix = reverse("ticket_detail", args=[placeholder]).partition(placeholder)
    if state.query:
        suffix = f"{suffix}?{state.query}"
    rows = display.ticket_rows(
        state.page.rows,
        href_prefix=prefix,
        href_suffix=suffix,
        zone=_tenant_zone(request.tenant),  # type: ignore[attr-defined]
        selected=selected,
    )
    if state.search is not None:
        rows = _highlighted(rows, state.page.rows, state.search)
    return _with_presence(request, rows, state.page.rows)


def _highlighted(
    rows: list[display.TicketRow], tickets: list[selectors.ListTicket], search: TicketSearch
) -> list[display.TicketRow]:
    """The rows of a search with what matched: the newest matching message with its words
    marked (one query for the page), else the preview with the searched words marked."""
    stores = {ticket.store_id for ticket in tickets if ticket.store_id is not None}
    configs = dict(search.store_configs)  # the stores searched, read by the search itself
    if search.postgres and search.query.words and not stores <= configs.keys():
        configs = search_index.store_configs(stores)
    found = search_tickets.snippets(
        search, [(ticket.pk, ticket.store_id or 0) for ticket in tickets], configs
    )
    marked = []
    for row, ticket in zip(rows, tickets, strict=True):
        snippet = found.get(ticket.pk)
        if snippet is not None:
            preview = snippet.html if snippet.from_buyer else mark_safe(f"You: {snippet.html}")  # noqa: S308 (escaped snippet)
        else:
            preview = search_tickets.highlighted(row.preview, search.query)
        marked.append(dataclasses.replace(row, preview=preview))
    return marked


def _with_presence(
    request: HttpRequest, rows: list[display.TicketRow], tickets: list[selectors.ListTicket]
) -> list[display.TicketRow]:
    """Teammates writing a reply (inbox.presence) marked on their rows: one cache round trip."""
    replying = presence.replying_on([ticket.pk for ticket in tickets], user_id=request.user.pk)
    if not replying:
        return rows
    return [
        dataclasses.replace(
            row,
            badges=(
                *row.badges,
                display.RowBadge(
                    "pill-presence", f"{' and '.join(names)} replying", "Writing a reply now"
                ),
            ),
        )
        if (names := replying.get(ticket.pk))
        else row
        for row, ticket in zip(rows, tickets, strict=True)
    ]


def _mailbox_context(
    request: HttpRequest,
    state: ListState,
    *,
    rail: bool = True,
    rows: bool = True,
    selected: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """What the rail (folders with counts, stores) and the list (rows, assignee filter) draw;
    `selected` is the open ticket's pk, whose row is highlighted."""
    membership = request.membership  # type: ignore[attr-defined]
    filters = state.filters
    store_id = filters.store.public_id if filters.store else ""
    # Only what the rail shows: a store's other columns (tokens, scopes, sync state) are not
    # read on every list and page.
    stores = list(stores_visible_to(membership).only("public_id", "name", "market"))
    context: dict[str, Any] = {
        "state": state,
        "stores": stores,
        "poll_seconds": POLL_SECONDS,
        **extra,
    }
    if rail:
        context["folder_links"] = [
            (
                key,
                label,
                selectors.folder_count_label(state.counts[key]),
                _href(folder=key, store=store_id, q=filters.search),
            )
            for key, label in selectors.FOLDERS.items()
        ]
        context["store_links"] = [
            (
                store,
                _href(folder=filters.folder, store=store.public_id),
                display.store_hue(store.name),
            )
            for store in stores
        ]
        context["all_stores_href"] = _href(folder=filters.folder, q=filters.search)
    if filters.search and filters.folder != "all":
        # Nothing here? The same search over every folder (the rail's counts say where).
        context["search_all_href"] = _href(folder="all", store=store_id, q=filters.search)
    if rows:
        # Ready to print (display.row_printed): the template's own escaping and lookups of
        # ~1,100 variables were most of a list's rendering.
        made: dict[object, SafeString] = {}
        context["rows"] = [
            display.row_printed(row, made)
            for row in _ticket_rows(request, state, selected=selected)
        ]
        teammates = list(
            Membership.objects.filter(tenant=membership.tenant)
            .select_related("user")
            .only("public_id", "user__first_name", "user__last_name", "user__email")
            .order_by("user__first_name", "user__last_name", "user__email")
        )
        context["teammates"] = teammates
        chosen = filters.assignee.pk if filters.assignee is not None else None
        keep = {
            "folder": filters.folder,
            "store": store_id,
            "q": filters.search,
            "sort": filters.sort,
            "intent": filters.intent,
        }
        context["assignee_links"] = [
            ("Anyone", _href(**keep), chosen is None),
            *(
                (
                    teammate.user.display_name + (" (me)" if teammate.pk == membership.pk else ""),
                    _href(**keep, assignee=teammate.public_id),
                    teammate.pk == chosen,
                )
                for teammate in teammates
            ),
        ]
        context["assignee_current"] = next(
            (label for label, _, current in context["assignee_links"] if current), "Anyone"
        )
        assignee_id = filters.assignee.public_id if filters.assignee is not None else ""
        sort = filters.sort
        context["sort_links"] = (
            []
            if filters.folder in selectors.DUE_FOLDERS  # always most urgent first
            else [
                (label, _href(**{**keep, "assignee": assignee_id, "sort": key}), key == sort)
                for key, label in selectors.SORTS.items()
            ]
        )
        context["sort_current"] = selectors.SORTS.get(filters.sort, "")
        # Triage's intents (none when triage is not installed).
        context["intent_links"] = (
            [
                (
                    "Any intent",
                    _href(**{**keep, "assignee": assignee_id, "intent": ""}),
                    not filters.intent,
                )
            ]
            + [
                (
                    label,
                    _href(**{**keep, "assignee": assignee_id, "intent": key}),
                    key == filters.intent,
                )
                for key, label in display.INTENT_LABELS.items()
            ]
            if display.INTENT_LABELS
            else []
        )
        context["intent_current"] = display.INTENT_LABELS.get(filters.intent, "")
    return context


@tenant_required
@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    """The list. `?selected=<ticket id>` highlights that ticket's row (404 for a ticket the agent
    may not see, like every URL about a ticket): the list pane a ticket page opened by URL loads
    right after itself, which needs no rail (the page drew it)."""
    selected = (
        _conversation(request, request.GET["selected"]).pk if "selected" in request.GET else None
    )
    lazy_pane = selected is not None and _target(request) == "list-pane"
    state = _list_state(request, counts=not lazy_pane)
    context = _mailbox_context(request, state, rail=not lazy_pane, selected=selected)
    if lazy_pane:
        return render(request, "inbox/_list.html", context)
    if _target(request) == "ticket-rows":
        # A search: the rows, and the rail with the search's folder counts (out of band); the
        # search box stays.
        return render(request, "inbox/_list_poll.html", context)
    if _target(request) == "list-pane":  # a folder or store: the list and the rail
        return render(request, "inbox/_list_nav.html", context)
    return render(request, "inbox/mailbox.html", context)


@tenant_required
@require_GET
def list_poll(request: HttpRequest) -> HttpResponse:
    """Polled every few seconds by the list: 204 when nothing changed (one index probe), else
    the fresh first page and folder counts."""
    state = _list_state(request, rows=False, counts=False)
    if request.GET.get("v") == state.version:
        return HttpResponse(status=204)
    state = _list_state(request)
    return render(request, "inbox/_list_poll.html", _mailbox_context(request, state))


# --- One ticket ---------------------------------------------------------------------------------


def _conversation(request: HttpRequest, public_id: uuid.UUID | str) -> Conversation:
    return selectors.conversation_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=request.membership,  # type: ignore[attr-defined]
        public_id=public_id,
    )


def _ticket_context(
    request: HttpRequest,
    conversation: Conversation,
    *,
    composer: ComposerForm | None = None,
    order_search: dict[str, Any] | None = None,
    snippet_error: str = "",
    thread_only: bool = False,
) -> dict[str, Any]:
    """What a ticket's templates draw. `thread_only`: just the thread and the header, as a poll
    that found changes and "Show earlier" redraw them (inbox/_thread_update.html): without the
    sidebar's order summaries, the snippets and the composer, which stay as they are on screen."""
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    shown = _thread_slice(request, conversation)
    zone = _tenant_zone(tenant)
    sidebar_orders = selectors.ticket_orders(tenant=tenant, conversation=conversation)
    list_query = _list_query(request)
    now = timezone.now()
    max_chars = capabilities_for(conversation.store.platform).text_max_chars
    # The newest message shown: a reply sent after others wrote since is a conflict. It comes
    # with the thread's version stamp (one query for both).
    state = selectors.thread_state(conversation=conversation)
    last_seen = state.newest_message_id
    if composer is None and not thread_only:
        composer = ComposerForm(
            initial={"mode": ComposerForm.MODE_REPLY, "last_seen_message_id": last_seen}
        )
    elif composer is not None and not composer.is_bound:
        composer.initial.setdefault("last_seen_message_id", last_seen)
    context = {
        "conversation": conversation,
        "presence_sentence": presence.sentence(
            presence.others_on(conversation.pk, user_id=request.user.pk)
        ),
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
        "sla_badges": sla_display.ticket_badges(conversation, now=now, zone=zone),
        "sla_soonest": _soonest_clock(conversation, now=now, zone=zone),
        "buyer": (
            display.buyer_identity(
                conversation.customer.store_id, conversation.customer.buyer_user_id
            )
            if conversation.customer is not None
            else display.NO_BUYER_IDENTITY
        ),
        "store_hue": display.store_hue(conversation.store.name),
        "back_href": reverse("mailbox") + (f"?{list_query}" if list_query else ""),
        "status_choices": STATUS_CHOICES,
        "sidebar_tabs": SIDEBAR_TABS,
        "ticket_bar_parts": TICKET_BAR_PARTS,
        "pill": TICKET_PILLS.get(conversation.status, "pill-neutral"),
        "entries": _entries_printed(shown.entries, conversation, zone, sidebar_orders),
        "hidden_count": shown.hidden,
        "thread_first": thread_pages.first_message_id(shown.entries),
        "thread_version": state.version,
        "statuses": TicketStatus.choices,
        "members": selectors.assignable_members(tenant=tenant, conversation=conversation),
        "me": membership,
        "composer": composer,
        "last_seen_message_id": last_seen,
        "max_chars": max_chars,
        "near_chars": int(max_chars * NEAR_SHARE),
        "poll_seconds": POLL_SECONDS,
    }
    if thread_only:
        return context
    context.update(
        {
            "orders": [order_summary(card, zone=zone) for card in sidebar_orders],
            "order_search": order_search,
            "snippets": list(Snippet.objects.filter(tenant=tenant).order_by("title")),
            "snippet_error": snippet_error,
            "card_token": uuid.uuid4,  # called by each card form: its own idempotency token
            "may_act_on_returns": may_act(membership, conversation.store),
        }
    )
    return context


def _thread_param(request: HttpRequest, name: str) -> str:
    """A thread parameter from the query, or from a form inside the thread (its hx-include)."""
    value = request.GET.get(name, "")
    if not value and request.method == "POST":
        value = request.POST.get(name, "")
    return value


def _thread_slice(request: HttpRequest, conversation: Conversation) -> thread_pages.ThreadSlice:
    """What the thread shows: its newest entries, like chat inboxes (drawing hundreds of
    entries is what makes a long ticket slow, bench/README.md); from a message on (`from`: a
    poll or an action redrawing what "Show earlier" added); or, for the link without
    JavaScript, the page before a message and everything after it (`earlier`)."""
    shown = None
    if before := request.GET.get("earlier", ""):
        shown = thread_pages.earlier(conversation=conversation, before=before, through_end=True)
    elif first := _thread_param(request, "from"):
        shown = thread_pages.since(conversation=conversation, first=first)
    if shown is not None:
        return shown
    entries, hidden = selectors.thread_window(conversation=conversation, newest=THREAD_WINDOW)
    return thread_pages.starting_at_a_message(entries, hidden)


def _entries_printed(
    entries: list[selectors.ThreadEntry],
    conversation: Conversation,
    zone: tzinfo,
    sidebar_orders: list[Any],
) -> list[Any]:
    """The entries ready to print, as the list's rows (display.fields_printed)."""
    made: dict[object, SafeString] = {}  # the entries' SafeStrings, by value (display.printed)
    views = entry_views(
        entries,
        conversation=conversation,
        zone=zone,
        known_orders={card.order.external_id: card.order for card in sidebar_orders},
    )
    return [display.fields_printed(entry, made) for entry in views]


def _soonest_clock(conversation: Conversation, *, now: Any, zone: tzinfo) -> str:
    """The SLA clock that falls due first, as one badge for the ticket bar (every clock is in
    the More menu)."""
    due = sla_display.soonest(
        platform_due_at=conversation.platform_due_at,
        sla_reply_due_at=conversation.sla_reply_due_at,
        sla_resolution_due_at=conversation.sla_resolution_due_at,
        first_response_at=conversation.first_response_at,
    )
    return sla_display.badge(due, now=now, zone=zone) if due is not None else ""


def _ticket_page(
    request: HttpRequest, conversation: Conversation, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    """The ticket: just its panes for HTMX navigation, else the whole mailbox around it.

    The whole page (a ticket opened by URL) draws the rail, the thread, the sidebar and the
    composer, but not the list's rows: its list pane loads itself right after the page
    (`hx-trigger="load"`: the list URL with the same filters and `selected=` this ticket, whose
    row is highlighted). Drawing 50 rows beside the thread is what kept this page over its
    target (bench/README.md); without JavaScript the pane is a link to that same list.
    """
    context = _ticket_context(request, conversation, **kwargs)
    if _target(request) in ("thread-pane", "composer"):
        return render(request, "inbox/_ticket_panes.html", context, status=status)
    state = _list_state(request, rows=False)
    context.update(_mailbox_context(request, state, rows=False))
    query = f"{state.query}&" if state.query else ""
    context["list_href"] = f"{reverse('mailbox')}?{query}selected={conversation.public_id}"
    return render(request, "inbox/mailbox.html", context, status=status)


@tenant_required
@require_GET
def ticket_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = _conversation(request, public_id)
    if conversation.unread_count:
        # Like the ticket's poll: a ticket already read (most openings) costs no transaction.
        services.ticket_open(membership=request.membership, conversation=conversation)  # type: ignore[attr-defined]
        conversation.unread_count = 0
    composer = None
    snippet_error = ""
    if "snippet" in request.GET:
        # Without JavaScript the snippet picker is a GET form: its text lands in the composer.
        answer = _snippet_text(request, conversation)
        snippet_error = answer.error
        if answer.choices is not None:
            snippet_error = f"{answer.question} Choose it under Order."
        composer = ComposerForm(initial={"mode": ComposerForm.MODE_REPLY, "text": answer.text})
    return _ticket_page(request, conversation, composer=composer, snippet_error=snippet_error)


@tenant_required
@require_GET
def ticket_poll(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Polled every few seconds by an open ticket: 204 when nothing changed (one query after the
    access check), else the thread and header, which slide in without touching the composer."""
    conversation = _conversation(request, public_id)
    if before := request.GET.get("earlier", ""):
        return _thread_earlier(request, conversation, before)
    version = selectors.thread_version(conversation=conversation)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    if conversation.unread_count:
        # The agent is looking at it: what just arrived is read (here and on TikTok).
        services.ticket_open(membership=request.membership, conversation=conversation)  # type: ignore[attr-defined]
        conversation.unread_count = 0
    context = _ticket_context(request, conversation, thread_only=True)
    return render(request, "inbox/_thread_update.html", context)


def _thread_earlier(request: HttpRequest, conversation: Conversation, before: str) -> HttpResponse:
    """ "Show earlier": the page before message `before`, drawn in place of the link above it
    (with the next link), so that no click draws the whole thread again."""
    page = thread_pages.earlier(conversation=conversation, before=before)
    if page is None:
        raise Http404("No such message in this ticket.")
    zone = _tenant_zone(request.tenant)  # type: ignore[attr-defined]
    sidebar_orders = selectors.ticket_orders(
        tenant=request.tenant,  # type: ignore[attr-defined]
        conversation=conversation,
    )
    context = {
        "conversation": conversation,
        "entries": _entries_printed(page.entries, conversation, zone, sidebar_orders),
        "hidden_count": page.hidden,
        # A page of history alone (notes before the first message) names no message: what is on
        # screen still starts at `before`'s page, and `since` takes those notes in.
        "thread_first": thread_pages.first_message_id(page.entries) or before,
    }
    return render(request, "inbox/_thread_earlier.html", context)


def _after_action(
    request: HttpRequest,
    conversation: Conversation,
    *,
    composer_too: bool = False,
    error: str = "",
) -> HttpResponse:
    """HTMX: the thread and header again (and the composer, emptied, after a send); the draft
    in the composer is left alone otherwise. Without JS: back to the ticket (POST-redirect-GET).
    An action that could not be done says why, above the thread (400)."""
    if not _is_htmx(request):
        if error:
            flash.error(request, error)
        return redirect(reverse("ticket_detail", args=[conversation.public_id]))
    conversation = _conversation(request, conversation.public_id)
    status = 400 if error else 200
    if composer_too:
        context = _ticket_context(request, conversation)
        return render(request, "inbox/_ticket_panes.html", context, status=status)
    context = {**_ticket_context(request, conversation), "action_error": error}
    return render(request, "inbox/_thread_update.html", context, status=status)


@tenant_required
@require_POST
def ticket_reply(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Send a reply (or save an internal note). Errors keep the draft next to the composer."""
    conversation = _conversation(request, public_id)
    membership = request.membership  # type: ignore[attr-defined]
    form = ComposerForm(request.POST, request.FILES)
    if not form.is_valid() and "image" in form.errors:
        # An attachment the form itself refused (an empty file, no file name) is not dropped
        # silently while the text goes out alone: nothing is sent, the error shows.
        return _composer_error(request, conversation, form)
    text = form.cleaned_data.get("text") or ""
    if not form.is_note and "last_seen_message_id" in request.POST:
        conflict = _stale_reply(request, conversation, form)
        if conflict is not None:
            return conflict
    try:
        if form.is_note:
            services.note_add(membership=membership, conversation=conversation, body=text)
        else:
            services.reply_create(
                membership=membership,
                conversation=conversation,
                text=text,
                image=form.cleaned_data.get("image"),
                next_status=form.cleaned_data.get("next_status") or None,
                client_token=form.cleaned_data.get("client_token"),
            )
    except ReplyInvalidError as error:
        for field, problems in error.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return _composer_error(request, conversation, form)
    except services.InboxActionError as error:
        form.add_error("text" if form.is_note else None, str(error))
        return _composer_error(request, conversation, form)
    return _after_action(request, conversation, composer_too=True)


STALE_REPLY = (
    "New messages since you opened this ticket — review them, then send. Your reply is kept."
)


def _stale_reply(
    request: HttpRequest, conversation: Conversation, form: ComposerForm
) -> HttpResponse | None:
    """409 with the thread as it is now and the draft kept (the next send goes out) when the
    buyer or someone else wrote since the agent's view of the thread; None when not."""
    try:
        news = presence.new_since(
            conversation=conversation,
            last_seen_message_id=form.cleaned_data.get("last_seen_message_id") or "",
            author_id=request.user.pk,
        )
    except presence.PresenceError:
        news = 1  # a view of the thread we cannot place: show the agent the thread as it is
    if not news:
        return None
    data = request.POST.copy()
    data["last_seen_message_id"] = presence.newest_message_id(conversation)
    kept = ComposerForm(data)
    kept.is_valid()
    kept.add_error(None, STALE_REPLY)
    if form.files.get("image") is not None:
        kept.image_dropped = True  # type: ignore[attr-defined]
    if _is_htmx(request):
        context = _ticket_context(request, conversation, composer=kept)
        return render(request, "inbox/_ticket_panes.html", context, status=409)
    return _ticket_page(request, conversation, composer=kept, status=409)


def _composer_error(
    request: HttpRequest, conversation: Conversation, form: ComposerForm
) -> HttpResponse:
    """400 with the composer re-rendered: the text stays, the error sits next to it."""
    if form.files.get("image") is not None:
        form.image_dropped = True  # type: ignore[attr-defined]
    if _is_htmx(request):
        context = _ticket_context(request, conversation, composer=form)
        response = render(request, "inbox/_composer.html", context, status=400)
        response["HX-Retarget"] = "#composer"
        response["HX-Reswap"] = "outerHTML"
        return response
    return _ticket_page(request, conversation, composer=form, status=400)


@tenant_required
@require_POST
def ticket_status(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = _conversation(request, public_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _after_action(request, conversation, error="Choose Open, Pending or Solved.")
    try:
        services.ticket_set_status(
            membership=request.membership,  # type: ignore[attr-defined]
            conversation=conversation,
            status=form.cleaned_data["status"],
        )
    except services.InboxActionError as error:
        return _after_action(request, conversation, error=str(error))
    return _after_action(request, conversation)


@tenant_required
@require_POST
def ticket_assign(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = _conversation(request, public_id)
    membership = request.membership  # type: ignore[attr-defined]
    form = AssignForm(request.POST)
    form.is_valid()
    wanted = form.cleaned_data.get("assignee") or ""
    assignee: Membership | None = None
    if wanted == "me":
        assignee = membership
    elif wanted:
        members = selectors.assignable_members(
            tenant=request.tenant,  # type: ignore[attr-defined]
            conversation=conversation,
        )
        assignee = next((m for m in members if str(m.public_id) == wanted), None)
        if assignee is None:
            raise Http404("No such teammate for this store.")
    try:
        services.ticket_assign(
            membership=membership, conversation=conversation, assignee_membership=assignee
        )
    except services.InboxActionError as error:
        return _after_action(request, conversation, error=str(error))
    return _after_action(request, conversation)


@tenant_required
@require_POST
def reply_retry(request: HttpRequest, public_id: uuid.UUID, message_id: uuid.UUID) -> HttpResponse:
    conversation = _conversation(request, public_id)
    message = selectors.message_get(conversation=conversation, public_id=message_id)
    try:
        services.reply_retry(membership=request.membership, message=message)  # type: ignore[attr-defined]
    except services.InboxActionError as error:
        return _after_action(request, conversation, error=str(error))
    if not _is_htmx(request):
        flash.success(request, "The reply is queued to be sent again.")
    return _after_action(request, conversation)


@tenant_required
@require_GET
def reply_image(request: HttpRequest, public_id: uuid.UUID, message_id: uuid.UUID) -> HttpResponse:
    """An image an agent attached to a reply; served only to people who may see the ticket."""
    conversation = _conversation(request, public_id)
    message: Message = selectors.message_get(conversation=conversation, public_id=message_id)
    if not message.attachment:
        raise Http404("No image on this message.")
    try:
        stored = message.attachment.open("rb")
    except OSError as error:  # the file is gone from the media storage
        raise Http404("This image is no longer stored.") from error
    return FileResponse(
        stored, content_type=message.attachment_content_type or "application/octet-stream"
    )


# --- The order workbench and snippets -----------------------------------------------------------


def _ticket_order_search(
    request: HttpRequest, conversation: Conversation, wanted: str, *, live: bool
) -> HttpResponse:
    """The sidebar with the order `wanted` of this ticket's store: from the database (a GET), or
    asked of the store (`live`, a POST from "Look it up in <store>")."""
    membership = request.membership  # type: ignore[attr-defined]
    search: dict[str, Any] = {"q": wanted, "card": None, "problem": "", "offer_fetch": False}
    if wanted:
        if live:
            lookup = order_fetch(
                membership=membership, external_id=wanted, store=conversation.store
            )
        else:
            lookup = order_lookup(membership=membership, external_id=wanted)
        order = lookup.order
        if order is not None and order.store_id == conversation.store_id:
            cards = selectors.orders_with_after_sales(
                tenant=request.tenant,  # type: ignore[attr-defined]
                orders=[order],
            )
            search["card"] = order_summary(
                cards[0],
                zone=_tenant_zone(request.tenant),  # type: ignore[attr-defined]
            )
        elif lookup.unreachable:
            search["problem"] = (
                f"Order {wanted} is not synced and {conversation.store.name} could not be asked "
                "right now. Try again in a minute."
            )
        elif order is None and not live and is_order_id(wanted):
            search["problem"] = f"Order {wanted} is not synced in Sellerdesk (yet)."
            search["offer_fetch"] = True
        else:
            search["problem"] = f"No order {wanted} in {conversation.store.name}."
    if _is_htmx(request):
        context = _ticket_context(request, conversation, order_search=search)
        return render(request, "inbox/_sidebar.html", context)
    return _ticket_page(request, conversation, order_search=search)


@tenant_required
@require_GET
def ticket_orders(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Search an order id within this ticket's store, among synced orders (never the platform:
    an unsynced id is offered a POST that asks the store)."""
    conversation = _conversation(request, public_id)
    form = OrderSearchForm(request.GET)
    form.is_valid()
    return _ticket_order_search(request, conversation, form.cleaned_data.get("q", ""), live=False)


@tenant_required
@require_POST
def ticket_order_fetch(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """ "Look it up in <store>": an order id not synced yet, asked of this ticket's store."""
    conversation = _conversation(request, public_id)
    form = OrderSearchForm(request.POST)
    form.is_valid()
    return _ticket_order_search(request, conversation, form.cleaned_data.get("q", ""), live=True)


def _snippet_picks(
    request: HttpRequest, conversation: Conversation, form: SnippetPickForm
) -> tuple[Product | None, Coupon | None]:
    """The product and coupon picked in the workbench tabs: of this ticket's store, else 404."""
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    product = coupon = None
    if form.cleaned_data.get("product"):
        product = order_selectors.product_get(
            tenant=tenant, public_id=form.cleaned_data["product"], membership=membership
        )
    if form.cleaned_data.get("coupon"):
        coupon = order_selectors.coupon_get(
            tenant=tenant, public_id=form.cleaned_data["coupon"], membership=membership
        )
    for thing in (product, coupon):
        if thing is not None and thing.store_id != conversation.store_id:
            raise Http404("Not a product or coupon of this ticket's store.")
    return product, coupon


@dataclass
class SnippetAnswer:
    """What inserting a snippet comes to: its text, a reason it cannot be used, or — a snippet
    about an order on a ticket whose buyer has several and none or many linked — the question
    which order, with the buyer's orders to choose from (linked first)."""

    text: str = ""
    error: str = ""
    question: str = ""
    choices: list[dict[str, Any]] | None = None


def _order_choice(card: selectors.SidebarOrder, zone: tzinfo) -> dict[str, Any]:
    order = card.order
    parts = [order.status_label, display.exact_day(order.placed_at, zone)[1]]
    total = money(order.total_amount, order.currency)
    if total:
        parts.append(total)
    if card.linked:
        parts.append("linked to this ticket")
    return {
        "id": str(order.public_id),
        "external_id": order.external_id,
        "label": " · ".join(part for part in parts if part),
        "linked": card.linked,
    }


def _snippet_text(request: HttpRequest, conversation: Conversation) -> SnippetAnswer:
    form = SnippetPickForm(request.GET or request.POST)
    if not form.is_valid():
        return SnippetAnswer(error="Pick a snippet.")
    tenant = request.tenant  # type: ignore[attr-defined]
    snippet = Snippet.objects.filter(tenant=tenant, public_id=form.cleaned_data["snippet"]).first()
    if snippet is None:
        raise Http404("No such snippet.")
    try:
        needs_order = any(
            name.startswith("order.") for name in snippets.placeholders_of(snippet.body)
        )
    except snippets.SnippetError as error:
        return SnippetAnswer(error=f"The snippet “{snippet.title}” could not be used: {error}")
    order = None
    if form.cleaned_data.get("order") or needs_order:
        cards = selectors.ticket_orders(tenant=tenant, conversation=conversation)
        wanted = form.cleaned_data.get("order")
        if wanted:
            order = next((card.order for card in cards if card.order.public_id == wanted), None)
            if order is None:
                raise Http404("No such order for this ticket.")
        else:
            # The ticket's one linked order; else the buyer's only order; else ask.
            linked = [card for card in cards if card.linked]
            chosen = linked if len(linked) == 1 else cards if len(cards) == 1 else []
            if chosen:
                order = chosen[0].order
            elif not cards:
                return SnippetAnswer(
                    error=(
                        f"The snippet “{snippet.title}” uses order details, and this buyer has "
                        f"no orders in {conversation.store.name} yet. Find the order by its id "
                        "in the Orders tab, or write the details yourself."
                    )
                )
            else:
                zone = _tenant_zone(tenant)
                return SnippetAnswer(
                    question=(
                        f"“{snippet.title}” is about an order. This buyer has {len(cards)}: "
                        "which one?"
                    ),
                    choices=[_order_choice(card, zone) for card in cards],
                )
    product, coupon = _snippet_picks(request, conversation, form)
    try:
        context = snippets.snippet_context(
            tenant=tenant,
            order=order,
            customer=conversation.customer,
            store_name=conversation.store.name,
            agent=request.user,  # type: ignore[arg-type]
            product=product,
            coupon=coupon,
        )
        text = snippets.render(snippet.body, context)
    except snippets.SnippetError as error:
        return SnippetAnswer(error=f"The snippet “{snippet.title}” could not be used: {error}")
    return SnippetAnswer(text=text)


@tenant_required
@require_GET
def snippet_insert(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The composer's snippet picker: the rendered text to insert for editing, the error, or
    which of the buyer's orders the snippet is about (`question` and `orders`)."""
    conversation = _conversation(request, public_id)
    answer = _snippet_text(request, conversation)
    if answer.error:
        return JsonResponse({"error": answer.error}, status=400)
    if answer.choices is not None:
        return JsonResponse({"question": answer.question, "orders": answer.choices})
    return JsonResponse({"text": answer.text})
