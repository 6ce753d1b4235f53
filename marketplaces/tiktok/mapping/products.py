"""Products and coupons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplaces.records import Coupon, Product, ProductSku, StockLevel

from .scalars import (
    _dict,
    _image,
    _list,
    decimal,
    dicts,
    enum_value,
    ident,
    integer,
    money,
    text,
    timestamp,
)

# --- Products and coupons -----------------------------------------------------------------------


def product_sku(data: Mapping[str, Any]) -> ProductSku:
    price = _dict(data.get("price"))
    currency = text(price.get("currency"))
    return ProductSku(
        external_id=ident(data.get("id")) or "",
        seller_sku=text(data.get("seller_sku")),
        price=money(price.get("sale_price"), currency),
        tax_exclusive_price=money(price.get("tax_exclusive_price"), currency),
        list_price=money(_dict(data.get("list_price")), currency),
        stock=[
            StockLevel(
                warehouse_id=ident(level.get("warehouse_id")),
                quantity=integer(level.get("quantity")) or 0,
            )
            for level in dicts(data.get("inventory"))
        ],
        raw=dict(data),
    )


def product(data: Mapping[str, Any]) -> Product:
    """A product from search (no images) or detail (`main_images`, description)."""
    return Product(
        external_id=ident(data.get("id")) or "",
        title=text(data.get("title")),
        status=enum_value(data.get("status") or data.get("product_status")),
        description=text(data.get("description")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        sales_regions=[text(region) for region in _list(data.get("sales_regions"))],
        audit_status=enum_value(_dict(data.get("audit")).get("status")),
        images=[
            image for item in _list(data.get("main_images")) if (image := _image(item)) is not None
        ],
        skus=[product_sku(sku) for sku in dicts(data.get("skus"))],
        raw=dict(data),
    )


def coupon(data: Mapping[str, Any]) -> Coupon:
    """Coupon fields are [S] (hsib19 types, no official sample): read defensively."""
    discount = _dict(data.get("discount"))
    threshold = _dict(data.get("threshold"))
    claim = _dict(data.get("claim_duration"))
    redemption = _dict(data.get("redemption_duration"))
    reduction = discount.get("reduction_amount")
    currency = text(reduction.get("currency")) if isinstance(reduction, dict) else ""
    return Coupon(
        external_id=ident(data.get("id")) or "",
        title=text(data.get("title")),
        display_type=enum_value(data.get("display_type")),
        status=enum_value(data.get("status")),
        creation_source=enum_value(data.get("creation_source")),
        target_buyer_segment=enum_value(data.get("target_buyer_segment")),
        promo_code=text(data.get("promo_code")),
        claim_starts_at=timestamp(claim.get("start_time")),
        claim_ends_at=timestamp(claim.get("end_time")),
        redemption_starts_at=timestamp(redemption.get("start_time")),
        redemption_ends_at=timestamp(redemption.get("end_time")),
        discount_type=enum_value(discount.get("type")),
        reduction_amount=money(reduction, currency or None),
        percentage=decimal(discount.get("percentage")),
        max_discount=money(discount.get("max_discount"), currency or None),
        min_spend=money(threshold.get("min_spend"), currency or None),
        raw=dict(data),
    )
