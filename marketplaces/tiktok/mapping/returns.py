"""Returns and cancellations: requests, their lines and amounts, seller actions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marketplaces.records import (
    JSON,
    AfterSaleLine,
    Cancellation,
    Money,
    RefundAmount,
    Return,
    ReturnDiscount,
    ReturnShippingFee,
    SellerAction,
)

from .scalars import (
    CANCEL_STATUS_ALIASES,
    RETURN_STATUS_ALIASES,
    _dict,
    _image,
    dicts,
    enum_value,
    flag,
    ident,
    money,
    text,
    timestamp,
)

# --- Returns and cancellations ------------------------------------------------------------------


def seller_actions(value: Any) -> list[SellerAction]:
    return [
        SellerAction(
            action=enum_value(item.get("action")), deadline=timestamp(item.get("deadline"))
        )
        for item in dicts(value)
    ]


def refund_amount(data: Mapping[str, Any]) -> RefundAmount | None:
    if not data:
        return None
    currency = text(data.get("currency"))
    return RefundAmount(
        currency=currency,
        total=money(data.get("refund_total"), currency),
        subtotal=money(data.get("refund_subtotal"), currency),
        shipping_fee=money(data.get("refund_shipping_fee"), currency),
        tax=money(data.get("refund_tax"), currency),
        retail_delivery_fee=money(data.get("retail_delivery_fee"), currency),
        buyer_service_fee=money(data.get("buyer_service_fee"), currency),
    )


def _amount_objects(value: Any) -> list[JSON]:
    """The contract lists `discount_amount[]`/`shipping_fee_amount[]` as arrays, the changelog
    sample sends objects: accept both (a list is summed key by key per currency)."""
    if isinstance(value, dict):
        return [value]
    return dicts(value)


def _summed(objects: Iterable[Mapping[str, Any]], *keys: str) -> Money | None:
    """The first present key of `keys` in each object, summed (same currency as the first)."""
    total: Money | None = None
    for obj in objects:
        currency = text(obj.get("currency"))
        amount = next(
            (found for key in keys if (found := money(obj.get(key), currency)) is not None), None
        )
        if amount is None:
            continue
        if total is None:
            total = amount
        elif total.currency == amount.currency:
            total = Money(total.amount + amount.amount, total.currency)
    return total


def return_discount(value: Any) -> ReturnDiscount | None:
    objects = _amount_objects(value)
    if not objects:
        return None
    return ReturnDiscount(
        product_platform_discount=_summed(objects, "product_platform_discount"),
        product_seller_discount=_summed(objects, "product_seller_discount"),
        shipping_fee_platform_discount=_summed(objects, "shipping_fee_platform_discount"),
        shipping_fee_seller_discount=_summed(objects, "shipping_fee_seller_discount"),
    )


def return_shipping_fee(value: Any) -> ReturnShippingFee | None:
    """`return_shipping_fee_amount` (sample) or `shipping_fee_amount[]` (sheet); the changelog's
    JSON says `seller_paid_return_shipping_fee`, its prose `..._fee_amount`: both accepted."""
    objects = _amount_objects(value)
    if not objects:
        return None
    return ReturnShippingFee(
        seller_paid=_summed(
            objects, "seller_paid_return_shipping_fee", "seller_paid_return_shipping_fee_amount"
        ),
        buyer_paid=_summed(
            objects, "buyer_paid_return_shipping_fee", "buyer_paid_return_shipping_fee_amount"
        ),
        platform_paid=_summed(
            objects, "platform_paid_return_shipping_fee", "platform_paid_return_shipping_fee_amount"
        ),
    )


def after_sale_line(data: Mapping[str, Any], id_key: str) -> AfterSaleLine:
    image = _image(data.get("product_image"))
    return AfterSaleLine(
        external_id=ident(data.get(id_key)),
        order_line_item_id=ident(data.get("order_line_item_id")),
        sku_id=ident(data.get("sku_id")),
        sku_name=text(data.get("sku_name")),
        product_name=text(data.get("product_name")),
        seller_sku=text(data.get("seller_sku")),
        product_image_url=image.url if image else None,
        refund=refund_amount(_dict(data.get("refund_amount"))),
        raw=dict(data),
    )


def return_order(data: Mapping[str, Any]) -> Return:
    return Return(
        external_id=ident(data.get("return_id")),
        order_id=ident(data.get("order_id")),
        return_type=enum_value(data.get("return_type")),
        status=enum_value(data.get("return_status"), RETURN_STATUS_ALIASES),
        arbitration_status=enum_value(data.get("arbitration_status")),
        role=enum_value(data.get("role")),
        reason=text(data.get("return_reason")),
        reason_text=text(data.get("return_reason_text")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        return_tracking_number=text(data.get("return_tracking_number")),
        return_provider_name=text(data.get("return_provider_name")),
        can_buyer_keep_item=(
            flag(data["can_buyer_keep_item"])
            if data.get("can_buyer_keep_item") is not None
            else None
        ),
        seller_actions=seller_actions(data.get("seller_next_action_response")),
        refund=refund_amount(_dict(data.get("refund_amount"))),
        discount=return_discount(data.get("discount_amount")),
        return_shipping_fee=return_shipping_fee(
            data.get("return_shipping_fee_amount", data.get("shipping_fee_amount"))
        ),
        partial_refund=money(_dict(data.get("partial_refund")), None),
        lines=[
            after_sale_line(line, "return_line_item_id")
            for line in dicts(data.get("return_line_items"))
        ],
        raw=dict(data),
    )


def cancellation(data: Mapping[str, Any]) -> Cancellation:
    return Cancellation(
        external_id=ident(data.get("cancel_id")),
        order_id=ident(data.get("order_id")),
        cancel_type=enum_value(data.get("cancel_type")),
        status=enum_value(data.get("cancel_status"), CANCEL_STATUS_ALIASES),
        role=enum_value(data.get("role")),
        reason=text(data.get("cancel_reason")),
        reason_text=text(data.get("cancel_reason_text")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        seller_actions=seller_actions(data.get("seller_next_action_response")),
        refund=refund_amount(_dict(data.get("refund_amount"))),
        lines=[
            after_sale_line(line, "cancel_line_item_id")
            for line in dicts(data.get("cancel_line_items"))
        ],
        raw=dict(data),
    )
