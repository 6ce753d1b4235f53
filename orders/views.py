"""The Orders list and the order page.

Every view starts from `request.membership`: the order selectors and services take it, so an
agent limited to some stores and a person of another organisation both get a 404 for an order
they may not see, on every URL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from search.orders import order_search
from tenants.decorators import tenant_required

from . import selectors, services
from .forms import InternalNoteForm, OrderFilterForm
from .models import (
    Cancellation,
    CancellationLine,
    Order,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
)

ORDERS_PER_PAGE = 50
ORDERS_COUNT_CAP = 10_001  # "10,000+ orders" beyond this
CURSOR_SALT = "orders.list.cursor"

# Zero-decimal currencies are still shown with the platform's two decimals when it sends them.
CURRENCY_SYMBOLS = {
    "USD": "$",
    "GBP": "£",
    "EUR": "€",
    "JPY": "¥",
    "IDR": "Rp",
    "MYR": "RM",
    "PHP": "₱",
    "THB": "฿",
    "VND": "₫",
    "SGD": "S$",
    "MXN": "MX$",
    "BRL": "R$",
}

# Status pills: blue for work still to do, amber for waiting, green for done, grey for cancelled.
STATUS_PILLS = {
    OrderStatus.UNPAID: "pill-pending",
    OrderStatus.ON_HOLD: "pill-pending",
    OrderStatus.AWAITING_SHIPMENT: "pill-open",
    OrderStatus.PARTIALLY_SHIPPING: "pill-open",
    OrderStatus.AWAITING_COLLECTION: "pill-open",
    OrderStatus.IN_TRANSIT: "pill-open",
    OrderStatus.DELIVERED: "pill-solved",
    OrderStatus.COMPLETED: "pill-solved",
    OrderStatus.CANCELLED: "pill-neutral",
}


def money(amount: Decimal | None, currency: str) -> str:
    """Amounts as sellers read them: "$59.95", "£12.00", "1,250.00 CZK"; none is ""."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    number = f"{abs(amount):,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency}".strip()


def readable(value: str) -> str:
    """A platform code as words ("RESPOND_CANCELLATION" -> "Respond cancellation"); text that
    is already words is left alone."""
    if value and " " not in value and ("_" in value or value.isupper()):
        return value.replace("_", " ").strip().capitalize()
    return value


def cursor_dump(cursor: selectors.Cursor | None) -> str:
    """A page position for a URL, signed: it names no order and cannot be forged."""
    if cursor is None:
        return ""
    placed_at, pk = cursor
    return signing.dumps([placed_at.isoformat(), pk], salt=CURSOR_SALT)


def cursor_load(token: str | None) -> selectors.Cursor | None:
    """The position back from `cursor_dump`; anything else means the first page."""
    if not token:
        return None
    try:
        placed_at, pk = signing.loads(token, salt=CURSOR_SALT)
        moment, number = datetime.fromisoformat(placed_at), int(pk)
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (signing.BadSignature, ValueError, TypeError, OverflowError):
        return None
    # Only a position this page could have written: aware, inside years a query can hold.
    if utc is None or not 1970 <= utc.year < 9999 or not 0 < number < 2**63:
        return None
    return utc, number


# --- What the templates show ---------------------------------------------------------------------


@dataclass
class OrderRow:
    """One dense row: the order, its total, its first product and how many more lines."""

    order: Order
    total: str
    first_product: str
    more_items: int
    pill: str

    @classmethod
    def of(cls, order: Order) -> OrderRow:
        lines = list(order.lines.all())  # prefetched: no query per row
        first = lines[0] if lines else None
        return cls(
            order=order,
            total=money(order.total_amount, order.currency),
            first_product=(first.product_name or first.sku_name) if first else "",
            more_items=max(len(lines) - 1, 0),
            pill=STATUS_PILLS.get(order.status, "pill-neutral"),
        )


@dataclass
class LineRow:
    line: OrderLine
    price: str
    original_price: str
    status: str


@dataclass
class AfterSaleRow:
    """A return or a cancellation with its amounts written out, and its lines with their refund."""

    record: Return | Cancellation
    reason: str
    next_action: str
    refund_total: str
    refund_subtotal: str
    refund_shipping_fee: str
    refund_tax: str
    lines: list[tuple[ReturnLine | CancellationLine, str]] = field(default_factory=list)

    @classmethod
    def of(cls, record: Return | Cancellation) -> AfterSaleRow:
        currency = record.currency
        return cls(
            record=record,
            reason=record.reason_text or readable(record.reason),
            next_action=readable(record.seller_next_action),
            refund_total=money(record.refund_total, currency),
            refund_subtotal=money(record.refund_subtotal, currency),
            refund_shipping_fee=money(record.refund_shipping_fee, currency),
            refund_tax=money(record.refund_tax, currency),
            lines=[
                (line, money(line.refund_total, line.currency or currency))
                for line in record.lines.all()
            ],
        )


def _order_page(
    request: HttpRequest,
    order: Order,
    *,
    note_form: InternalNoteForm,
    status: int = 200,
    note_conflict: bool = False,
    **extra: Any,
) -> HttpResponse:
    from .aftersale import actions_of_order, may_act

    tenant = request.tenant  # type: ignore[attr-defined]
    currency = order.currency
    context = {
        **extra,
        "may_act_on_returns": may_act(request.membership, order.store),  # type: ignore[attr-defined]
        "decisions": actions_of_order(store=order.store, order_external_id=order.external_id),
        "order": order,
        "pill": STATUS_PILLS.get(order.status, "pill-neutral"),
        "lines": [
            LineRow(
                line=line,
                price=money(line.sale_price, line.currency or currency),
                original_price=money(line.original_price, line.currency or currency)
                if line.original_price != line.sale_price
                else "",
                status=readable(line.display_status),
            )
            for line in order.lines.all()
        ],
        "amounts": [
            (label, money(amount, currency))
            for label, amount in (
                ("Subtotal", order.sub_total),
                ("Shipping", order.shipping_fee),
                ("Tax", order.tax),
                ("Total", order.total_amount),
            )
            if amount is not None
        ],
        "cancellations": [
            AfterSaleRow.of(c) for c in selectors.cancellations_of_order(tenant=tenant, order=order)
        ],
        "returns": [
            AfterSaleRow.of(r) for r in selectors.returns_of_order(tenant=tenant, order=order)
        ],
        "other_orders": [
            OrderRow.of(other)
            for other in selectors.orders_of_buyer(
                tenant=tenant, store=order.store, buyer_user_id=order.buyer_user_id, exclude=order
            )
        ],
        "note_form": note_form,
        "note_conflict": note_conflict,
        **_tracking_context(request, order),
    }
    return render(request, "orders/order_detail.html", context, status=status)


# --- Views ---------------------------------------------------------------------------------------


@tenant_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = OrderFilterForm(request.GET or None, membership=membership)
    if form.is_bound:
        form.is_valid()  # fields that validated still apply; the others show their error
    # The mailbox's search (search.orders): an order id (exact, in the database; the page offers
    # to ask the stores with a POST), a ticket number, a buyer or words they wrote find those
    # tickets' orders.
    # Read from the request whatever the field's checks say: any text is a search.
    found = order_search(membership=membership, text=request.GET.get("q", ""))
    if found.query.text:
        return render(
            request,
            "orders/order_list.html",
            {
                "form": form,
                "lookup": found.lookup,
                "searched": found.query.text,
                "rows": [OrderRow.of(order) for order in found.orders],
            },
        )
    orders = selectors.orders_of_tenant(
        tenant=request.tenant,  # type: ignore[attr-defined]
        membership=membership,
        **form.filters(),
    )
    page = selectors.orders_page(
        orders,
        size=ORDERS_PER_PAGE,
        before=cursor_load(request.GET.get("before")),
        after=cursor_load(request.GET.get("after")),
    )
    context = {
        "form": form,
        "page": page,
        "newer": cursor_dump(page.newer),
        "older": cursor_dump(page.older),
        "count": selectors.orders_count(orders, cap=ORDERS_COUNT_CAP),
        "count_cap": ORDERS_COUNT_CAP - 1,
        "rows": [OrderRow.of(order) for order in page.orders],
        "filtered": form.is_bound and any(form.filters().values()),
    }
    return render(request, "orders/order_list.html", context)


@tenant_required
@require_GET
def order_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    order = selectors.order_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=public_id,
        membership=request.membership,  # type: ignore[attr-defined]
    )
    note_form = InternalNoteForm(
        initial={"note": order.internal_note, "version": services.note_version(order)}
    )
    return _order_page(request, order, note_form=note_form)


@tenant_required
@require_POST
def order_note_update(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    order = selectors.order_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=public_id,
        membership=membership,
    )
    form = InternalNoteForm(request.POST)
    if not form.is_valid():
        # The text stays in the form so nothing typed is lost.
        return _order_page(request, order, note_form=form, status=400)
    try:
        changed = services.order_internal_note_update(
            order=order,
            note=form.cleaned_data["note"],
            by=membership,
            # A form without the field (an old tab, a script) saves as before: last one wins.
            seen_version=form.cleaned_data["version"] if "version" in request.POST else None,
        )
    except services.NoteConflictError as conflict:
        return _note_conflict(request, order, form, conflict.order)
    if changed:
        messages.success(request, "Internal note saved.")
    return redirect(reverse("order_detail", args=[order.public_id]) + "#note")


def _note_conflict(
    request: HttpRequest, order: Order, form: InternalNoteForm, current: Order
) -> HttpResponse:
    """Keep what this person typed, show what the other person saved, and let them save again."""
    editor = current.internal_note_updated_by
    form = InternalNoteForm(
        {"note": form.cleaned_data["note"], "version": services.note_version(current)}
    )
    form.is_valid()
    form.add_error(
        None,
        f"{editor.display_name if editor else 'Someone'} saved this note while you were editing "
        "it. Their text is shown below; your text is still in the box. Combine them and save "
        "again.",
    )
    order.internal_note = current.internal_note
    order.internal_note_updated_at = current.internal_note_updated_at
    order.internal_note_updated_by = editor
    return _order_page(request, order, note_form=form, status=409, note_conflict=True)


def _tracking_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    tracking = selectors.tracking_of_order(order=order)
    return {
        "order": order,
        "tracking": tracking,
        "steps": services.tracking_steps(tracking),
        "shipped": services.has_shipped(order),
        "tracking_error": tracking.error if tracking else "",
        "platform": order.store.get_platform_display(),
    }


@tenant_required
@require_GET
def order_tracking(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The stored tracking events with their age: a fragment for the order page (HTMX, polled
    while a fetch is on its way), a page without JS. Never asks the platform."""
    order = selectors.order_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=public_id,
        membership=request.membership,  # type: ignore[attr-defined]
    )
    context = _tracking_context(request, order)
    is_fragment = request.headers.get("HX-Request") == "true"
    template = "orders/_tracking.html" if is_fragment else "orders/order_tracking.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two bodies: caches must tell them apart
    return response


@tenant_required
@require_POST
def order_tracking_refresh(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """ "Refresh tracking": queue a fetch from the platform; the page shows it as on its way."""
    order = selectors.order_get(
        tenant=request.tenant,  # type: ignore[attr-defined]
        public_id=public_id,
        membership=request.membership,  # type: ignore[attr-defined]
    )
    services.order_tracking_refresh(order=order)
    if request.headers.get("HX-Request") == "true":
        return render(request, "orders/_tracking.html", _tracking_context(request, order))
    return redirect(reverse("order_tracking", args=[order.public_id]))


@tenant_required
@require_POST
def order_fetch(request: HttpRequest) -> HttpResponse:
    """ "Look it up in your stores": an order id the search did not find in the database, asked
    of each store this person serves (a POST: it calls the platform)."""
    membership = request.membership  # type: ignore[attr-defined]
    external_id = str(request.POST.get("order_id", "")).strip()
    lookup = services.order_fetch(membership=membership, external_id=external_id)
    if lookup.order is not None:
        if lookup.fetched_live:
            messages.success(
                request,
                f"Order {lookup.external_id} was not synced yet: Sellerdesk fetched it from "
                f"{lookup.order.store.name} just now.",
            )
        return redirect(reverse("order_detail", args=[lookup.order.public_id]))
    form = OrderFilterForm(None, membership=membership)
    return render(
        request,
        "orders/order_list.html",
        {"form": form, "lookup": lookup, "searched": external_id, "rows": []},
    )
