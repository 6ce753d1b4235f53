"""Cards in the thread, drawn as cards whoever sent them: a product with its image and price, an
order with its status and items, a shipment with its carrier and tracking, a return/refund card
with its item, a coupon with its offer.

The objects a window of the thread names are read together (one query per kind that occurs, from
the ticket's own store), so a thread's cost does not grow with its cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse

from orders.catalog_display import coupon_offer, product_price
from orders.models import Coupon, Order, OrderLine, Product
from orders.views import STATUS_PILLS, money
from tenants.safety import http_url

from .display import DisplayKind, MessageDisplay
from .models import Conversation

KINDS = {
    "ORDER_CARD": "order",
    "LOGISTICS_CARD": "logistics",
    "RETURN_REFUND_CARD": "return_refund",
    "PRODUCT_CARD": "product",
    "COUPON_CARD": "coupon",
}


@dataclass
class CardView:
    """What `inbox/_cards.html` draws for one card."""

    kind: str  # order | logistics | return_refund | product | coupon
    label: str  # "Order card", "Shipping card", ...
    ident: str  # the order, product or coupon id
    title: str = ""
    subtitle: str = ""
    image_url: str = ""
    price: str = ""
    status: str = ""
    pill: str = "pill-neutral"
    lines: list[str] = field(default_factory=list)
    href: str = ""
    known: bool = True  # False: not synced (yet); the id is all there is to show


def _order_card(shown: MessageDisplay, order: Order | None) -> CardView:
    kind = KINDS.get(shown.card_type, "order")
    card = CardView(kind=kind, label=shown.label, ident=shown.order_id)
    if order is None:
        card.known = False
        card.title = f"Order {shown.order_id}"
        return card
    lines: list[OrderLine] = list(order.lines.all())
    card.title = f"Order {order.external_id}"
    card.status = order.status_label
    card.pill = STATUS_PILLS.get(order.status, "pill-neutral")
    card.price = money(order.total_amount, order.currency)
    card.href = reverse("order_detail", args=[order.public_id])
    card.image_url = http_url(next((line.image_url for line in lines if line.image_url), ""))
    counted: dict[str, int] = {}
    for line in lines:
        name = line.product_name or line.sku_name or "Item"
        counted[name] = counted.get(name, 0) + 1
    card.lines = [f"{count} \N{MULTIPLICATION SIGN} {name}" for name, count in counted.items()]
    if kind == "logistics":
        package = shown.package_id
        carrier = order.shipping_provider or "Carrier not known yet"
        tracking = order.tracking_number or next(
            (line.tracking_number for line in lines if line.tracking_number), ""
        )
        card.subtitle = f"{carrier}{' · ' + tracking if tracking else ''}"
        card.lines = [f"Package {package}"] if package else []
    elif kind == "return_refund":
        line = next((item for item in lines if item.sku_id == shown.sku_id), None)
        item = (line.product_name or line.sku_name) if line else f"SKU {shown.sku_id}"
        variant = f" ({line.sku_name})" if line and line.sku_name and line.product_name else ""
        card.subtitle = f"{item}{variant}"
        card.image_url = http_url(line.image_url if line else "") or card.image_url
        card.lines = ["The buyer can ask for a return or refund from this card."]
    return card


def _product_card(shown: MessageDisplay, product: Product | None) -> CardView:
    card = CardView(kind="product", label=shown.label, ident=shown.product_id)
    if product is None:
        card.known = False
        card.title = f"Product {shown.product_id}"
        return card
    card.title = product.title
    card.image_url = http_url(product.image_url)
    card.price = product_price(product)
    card.href = reverse("product_list") + f"?q={product.external_id}&all=1"
    if not product.is_live:
        card.status, card.pill = product.status_label, "pill-neutral"
    elif not product.in_stock:
        card.status, card.pill = "Out of stock", "pill-pending"
    return card


def _coupon_card(shown: MessageDisplay, coupon: Coupon | None) -> CardView:
    card = CardView(kind="coupon", label=shown.label, ident=shown.coupon_id)
    if coupon is None:
        card.known = False
        card.title = f"Coupon {shown.coupon_id}"
        return card
    card.title = coupon.title
    card.subtitle = coupon_offer(coupon)
    card.status = coupon.status_label
    card.pill = "pill-solved" if coupon.status == "ONGOING" else "pill-neutral"
    if coupon.claim_ends_at:
        card.lines = [f"Claim by {coupon.claim_ends_at:%-d %b %Y}"]
    return card


def attach_cards(
    conversation: Conversation, entries: list[Any], *, known_orders: dict[str, Order] | None = None
) -> None:
    """Sets `entry.card` on every card entry of `entries` (EntryView of inbox.views).
    `known_orders` are this ticket's store's orders already read with their lines (the
    workbench's, by external id): a card naming one of them does not read it again."""
    shown_cards = [
        entry
        for entry in entries
        if entry.message is not None
        and entry.shown is not None
        and entry.shown.kind
        in (DisplayKind.ORDER_CARD, DisplayKind.PRODUCT_CARD, DisplayKind.COUPON_CARD)
    ]
    if not shown_cards:
        return
    scope = {"tenant_id": conversation.tenant_id, "store_id": conversation.store_id}
    order_ids = {e.shown.order_id for e in shown_cards if e.shown.kind == DisplayKind.ORDER_CARD}
    product_ids = {
        e.shown.product_id for e in shown_cards if e.shown.kind == DisplayKind.PRODUCT_CARD
    }
    coupon_ids = {e.shown.coupon_id for e in shown_cards if e.shown.kind == DisplayKind.COUPON_CARD}
    known_orders = known_orders or {}
    orders = {ident: known_orders[ident] for ident in order_ids if ident in known_orders}
    if order_ids - orders.keys():
        orders.update(
            (order.external_id, order)
            for order in Order.objects.filter(
                **scope, external_id__in=order_ids - orders.keys()
            ).prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        )
    products = (
        {p.external_id: p for p in Product.objects.filter(**scope, external_id__in=product_ids)}
        if product_ids
        else {}
    )
    coupons = (
        {c.external_id: c for c in Coupon.objects.filter(**scope, external_id__in=coupon_ids)}
        if coupon_ids
        else {}
    )
    for entry in shown_cards:
        shown = entry.shown
        if shown.kind == DisplayKind.ORDER_CARD:
            entry.card = _order_card(shown, orders.get(shown.order_id))
        elif shown.kind == DisplayKind.PRODUCT_CARD:
            entry.card = _product_card(shown, products.get(shown.product_id))
        else:
            entry.card = _coupon_card(shown, coupons.get(shown.coupon_id))
