"""Workbench tags: what an order card can send (`order_card_options`), and the decisions open on
a return or cancellation (`aftersale_offers`)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from orders.aftersale import Offer, kind_of, offers_of
from orders.models import Cancellation, Order, Return

from ..cards import NOT_SHIPPED

register = template.Library()

# A buyer may ask for a return or refund once the parcel is on its way; the platform has the last
# word when the card is sent (inbox.cards asks it), this only decides whether to offer the button.
AFTER_SALE_STATUSES = ("IN_TRANSIT", "DELIVERED", "PARTIALLY_SHIPPING")


@dataclass(frozen=True, slots=True)
class OrderCardOptions:
    shipped: bool
    packages: list[str]
    skus: list[tuple[str, str]]  # (sku id, what the agent reads)
    after_sale: bool


@register.simple_tag
def order_card_options(order: Order) -> OrderCardOptions:
    lines = list(order.lines.all())  # prefetched by the sidebar's selector
    packages = list(dict.fromkeys(line.package_id for line in lines if line.package_id))
    for package in order.raw.get("packages") or [] if isinstance(order.raw, dict) else []:
        if isinstance(package, dict) and package.get("id") and str(package["id"]) not in packages:
            packages.append(str(package["id"]))
    skus: dict[str, str] = {}
    for line in lines:
        if line.sku_id and line.sku_id not in skus:
            name = line.product_name or line.sku_id
            skus[line.sku_id] = f"{name} ({line.sku_name})" if line.sku_name else name
    return OrderCardOptions(
        shipped=order.status not in NOT_SHIPPED,
        packages=packages,
        skus=list(skus.items()),
        after_sale=order.status in AFTER_SALE_STATUSES and bool(skus),
    )


@register.simple_tag
def aftersale_offers(record: Return | Cancellation) -> list[Offer]:
    """The decisions the marketplace offers on a return or cancellation, in words."""
    return offers_of(record)


@register.simple_tag
def aftersale_kind(record: Return | Cancellation) -> str:
    return kind_of(record)
