"""Products and coupons in words: prices, offers, stock, as the pages, the workbench tabs, the
thread's cards and the snippet placeholders all say them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString

from tenants.safety import http_url

from .models import Coupon, Product, ProductSku
from .views import money


def product_price(product: Product) -> str:
    """ "$9.99", or "$9.99 - $14.50" (an en dash) when its SKUs differ; "" without a price."""
    low = money(product.min_price, product.currency)
    high = money(product.max_price, product.currency)
    if not low:
        return ""
    return low if not high or high == low else f"{low} \N{EN DASH} {high}"


def sku_line(sku: ProductSku) -> str:
    """One SKU as the workbench lists it: "WHITE-01 · White · $9.99 · 12 in stock"."""
    parts = [sku.seller_sku or sku.external_id]
    if sku.name:
        parts.append(sku.name)
    price = money(sku.price, sku.currency)
    if price:
        parts.append(price)
    parts.append(f"{sku.stock} in stock" if sku.stock > 0 else "out of stock")
    return " · ".join(parts)


def _amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.2f}"


def coupon_offer(coupon: Coupon) -> str:
    """ "10% off (up to $20.00) on orders over $25.00", "$5.00 off"."""
    if coupon.percentage is not None:
        offer = f"{_amount(coupon.percentage)}% off"
        cap = money(coupon.max_discount, coupon.currency)
        if cap:
            offer += f" (up to {cap})"
    else:
        reduction = money(coupon.reduction_amount, coupon.currency)
        offer = f"{reduction} off" if reduction else "Discount"
    spend = money(coupon.min_spend, coupon.currency)
    if spend:
        offer += f" on orders over {spend}"
    return offer


def product_link(product: Product) -> str:
    """The product's page on TikTok Shop as buyers open it. UNVERIFIED: the contract gives no
    product URL; this is the public shop product path used by TikTok Shop share links."""
    return f"https://shop.tiktok.com/view/product/{product.external_id}"


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A product as the workbench and /products/ draw it."""

    product: Product
    price: str
    skus: list[tuple[str, bool]]  # (line, in stock)
    details: str  # what "Insert details" drops into the composer
    link: str
    page: str
    image: str  # an http(s) address, or "" (tenants.safety.http_url)
    sku_summary: str  # "2 SKUs"
    slot: str  # the id of the element its card button's errors go to


def product_row(product: Product, *, list_url: str = "") -> ProductRow:
    """`list_url`: /products/ reversed once by the caller (a page draws many rows)."""
    price = product_price(product)
    skus = [(sku_line(sku), sku.stock > 0) for sku in product.skus.all()]
    link = product_link(product)
    details = product.title
    if price:
        details += f" \N{EM DASH} {price}"
    details += "" if product.in_stock else " (currently out of stock)"
    details += f"\n{link}"
    return ProductRow(
        product=product,
        price=price,
        skus=skus,
        details=details,
        link=link,
        page=(list_url or reverse("product_list")) + f"?q={product.external_id}&all=1",
        image=http_url(product.image_url),
        sku_summary=f"{len(skus)} SKU{'s' if len(skus) != 1 else ''}",
        slot=f"card-error-product-{product.external_id}",
    )


# A product of the ticket's Products tab with its card button, drawn here rather than by a
# template: the tab is asked for as the agent types, and Django's template engine spent more on
# its 20 cards' ~600 variables (1.9-4.8 ms, bench/product_search.py) than the page's query did.
# Every value is escaped as {{ }} escapes it; the markup is
# templates/orders/_products_results.html's before this (the same bytes, tests).
_PRODUCT_CARD = """
<article class="mini-card product-card{out_of_stock}" data-product="{external_id}">
  <div class="product-card-head">
    {image}
    <div>
      <p class="card-title mb-0">{title}</p>
      <p class="small mb-0"><span class="money">{price}</span>{stock}</p>
      <p class="small muted mb-0"><span class="order-id">{external_id}</span></p>
    </div>
  </div>
  {skus}
  <form method="post" action="{send_url}" class="btn-row" hx-post="{send_url}" hx-target="#thread-messages" hx-swap="outerHTML" data-card-form>
    {csrf_input}<input type="hidden" name="type" value="PRODUCT_CARD"><input type="hidden" name="product" value="{public_id}"><input type="hidden" name="token" value="{token}"><input type="hidden" name="slot" value="{slot}">
    <button type="submit" class="btn btn-sm btn-primary">Send card</button>
    <button type="button" class="btn btn-sm btn-secondary" data-insert="{link}" hidden>Insert link</button>
    <button type="button" class="btn btn-sm btn-secondary" data-insert="{details}" hidden>Insert details</button>
    <button type="button" class="btn btn-sm btn-link" data-snippet-pick="product" data-snippet-value="{public_id}" data-snippet-label="{title}" hidden>Use in snippet</button>
  </form>
  <div id="{slot}" class="card-error"></div>
</article>
"""  # noqa: E501 (the markup's lines as the template had them)
_IMAGE = '<img class="card-thumb" src="{}" alt="" width="48" height="48" loading="lazy">'
_IN_STOCK = ' <span class="muted">· {} in stock</span>'
_OUT_OF_STOCK = ' <span class="pill pill-pending">Out of stock</span>'
_SKUS = '<details class="small"><summary>{}</summary><ul class="sku-list">{}</ul></details>'


def product_card(row: ProductRow, *, send_url: str, csrf_input: SafeString) -> SafeString:
    """The row as the Products tab draws it, with a card token of its own (a second click on
    the same card is not a second card: inbox.cards). Values are escaped with html.escape, which
    is what Django's escape() and {{ }} run (format_html's lazy wrappers cost 3x as much)."""
    product = row.product
    in_stock = product.in_stock
    title = escape(product.title)
    public_id = str(product.public_id)  # hex digits and dashes
    slot = escape(row.slot)
    skus = (
        _SKUS.format(
            escape(row.sku_summary),
            "".join(
                f"<li>{escape(line)}</li>"
                if sku_in_stock
                else f'<li class="muted">{escape(line)}</li>'
                for line, sku_in_stock in row.skus
            ),
        )
        if row.skus
        else ""
    )
    return SafeString(
        _PRODUCT_CARD.format(
            out_of_stock="" if in_stock else " is-out-of-stock",
            external_id=escape(product.external_id),
            image=_IMAGE.format(escape(row.image)) if row.image else "",
            title=title,
            price=escape(row.price),
            stock=_IN_STOCK.format(product.stock) if in_stock else _OUT_OF_STOCK,
            skus=skus,
            send_url=escape(send_url),
            csrf_input=csrf_input,
            public_id=public_id,
            token=uuid.uuid4(),
            slot=slot,
            link=escape(row.link),
            details=escape(row.details),
        )
    )


@dataclass(frozen=True, slots=True)
class CouponRow:
    coupon: Coupon
    offer: str
    details: str  # what "Insert details" drops into the composer


def coupon_row(coupon: Coupon) -> CouponRow:
    offer = coupon_offer(coupon)
    details = f"{coupon.title}: {offer}"
    if coupon.promo_code:
        details += f" \N{EM DASH} code {coupon.promo_code}"
    return CouponRow(coupon=coupon, offer=offer, details=details)
