"""Orders: an order without its recipient's personal data, payment, lines, tracking events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketplaces.records import (
    JSON,
    Money,
    Order,
    OrderLine,
    OrderPayment,
    RecipientLocation,
    TrackingEvent,
)

from .scalars import (
    ORDER_STATUS_ALIASES,
    _dict,
    dicts,
    enum_value,
    flag,
    ident,
    money,
    text,
    timestamp,
    timestamp_millis,
)

# Recipient fields that identify a person or a street; never extracted, and removed from
# `Order.raw` so the stored JSON does not carry them either. `cpf`/`cpf_name` are a Brazilian
# tax id and its holder's name.
_ADDRESS_PERSONAL_FIELDS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "first_name_local_script",
        "last_name_local_script",
        "phone_number",
        "full_address",
        "address_detail",
        "address_line1",
        "address_line2",
        "address_line3",
        "address_line4",
    }
)
_ORDER_PERSONAL_FIELDS = frozenset({"cpf", "cpf_name"})


# --- Orders -------------------------------------------------------------------------------------


def recipient_location(address: Mapping[str, Any]) -> RecipientLocation | None:
    """City, region, postal code and country; names, streets and phones are left out on purpose.

    `district_info` levels: L0 country, L1 state/region, L2 county or city, L3 city/district.
    UK addresses carry the town in `post_town`.
    """
    if not address:
        return None
    levels = {
        text(item.get("address_level")).upper(): text(item.get("address_name")).strip()
        for item in dicts(address.get("district_info"))
    }
    city = text(address.get("post_town")).strip() or levels.get("L3") or levels.get("L2") or None
    return RecipientLocation(
        country_code=text(address.get("region_code")).strip() or None,
        country=levels.get("L0") or None,
        region=levels.get("L1") or None,
        city=city,
        postal_code=text(address.get("postal_code")).strip() or None,
    )


def order_payment(data: Mapping[str, Any]) -> OrderPayment | None:
    if not data:
        return None
    currency = text(data.get("currency"))

    def amount(key: str) -> Money | None:
        return money(data.get(key), currency)

    return OrderPayment(
        currency=currency,
        total_amount=amount("total_amount"),
        sub_total=amount("sub_total"),
        shipping_fee=amount("shipping_fee"),
        seller_discount=amount("seller_discount"),
        platform_discount=amount("platform_discount"),
        original_total_product_price=amount("original_total_product_price"),
        original_shipping_fee=amount("original_shipping_fee"),
        shipping_fee_seller_discount=amount("shipping_fee_seller_discount"),
        shipping_fee_platform_discount=amount("shipping_fee_platform_discount"),
        tax=amount("tax"),
        raw=dict(data),
    )


def order_line(data: Mapping[str, Any], order_currency: str) -> OrderLine:
    currency = text(data.get("currency")) or order_currency
    return OrderLine(
        external_id=ident(data.get("id")) or "",
        product_id=ident(data.get("product_id")),
        sku_id=ident(data.get("sku_id")),
        product_name=text(data.get("product_name")),
        sku_name=text(data.get("sku_name")),
        seller_sku=text(data.get("seller_sku")),
        sku_image_url=text(data.get("sku_image")) or None,
        original_price=money(data.get("original_price"), currency),
        sale_price=money(data.get("sale_price"), currency),
        seller_discount=money(data.get("seller_discount"), currency),
        platform_discount=money(data.get("platform_discount"), currency),
        display_status=enum_value(data.get("display_status"), ORDER_STATUS_ALIASES),
        package_id=ident(data.get("package_id")),
        package_status=enum_value(data.get("package_status")),
        tracking_number=text(data.get("tracking_number")),
        shipping_provider_name=text(data.get("shipping_provider_name")),
        cancel_reason=text(data.get("cancel_reason")),
        cancel_user=text(data.get("cancel_user")),
        sku_type=enum_value(data.get("sku_type")),
        is_gift=flag(data.get("is_gift")),
        raw=dict(data),
    )


def _order_raw(data: Mapping[str, Any]) -> JSON:
    raw = {key: value for key, value in data.items() if key not in _ORDER_PERSONAL_FIELDS}
    address = data.get("recipient_address")
    if isinstance(address, dict):
        raw["recipient_address"] = {
            key: value for key, value in address.items() if key not in _ADDRESS_PERSONAL_FIELDS
        }
    return raw


def order(data: Mapping[str, Any]) -> Order:
    """One order object; the 202309 search/detail and 202507 detail shapes are the same (§4.2)."""
    payment = order_payment(_dict(data.get("payment")))
    currency = payment.currency if payment else ""
    return Order(
        external_id=ident(data.get("id")) or "",
        status=enum_value(data.get("status"), ORDER_STATUS_ALIASES),
        buyer_user_id=ident(data.get("user_id")),
        buyer_nickname=text(data.get("buyer_nickname")),
        buyer_message=text(data.get("buyer_message")),
        seller_note=text(data.get("seller_note")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        paid_at=timestamp(data.get("paid_time")),
        cancelled_at=timestamp(data.get("cancel_time")),
        delivered_at=timestamp(data.get("delivery_time")),
        shipping_due_at=timestamp(data.get("shipping_due_time")),
        delivery_due_at=timestamp(data.get("delivery_due_time")),
        cancel_reason=text(data.get("cancel_reason")),
        cancellation_initiator=enum_value(data.get("cancellation_initiator")),
        is_buyer_request_cancel=flag(data.get("is_buyer_request_cancel")),
        is_on_hold=flag(data.get("is_on_hold_order")),
        is_cod=flag(data.get("is_cod")),
        is_sample_order=flag(data.get("is_sample_order")),
        is_replacement_order=flag(data.get("is_replacement_order")),
        replaced_order_id=ident(data.get("replaced_order_id")),
        payment_method_name=text(data.get("payment_method_name")),
        shipping_type=enum_value(data.get("shipping_type")),
        fulfillment_type=enum_value(data.get("fulfillment_type")),
        delivery_option_name=text(data.get("delivery_option_name")),
        shipping_provider=text(data.get("shipping_provider")),
        shipping_provider_id=ident(data.get("shipping_provider_id")),
        tracking_number=text(data.get("tracking_number")),
        package_ids=[
            package_id
            for package in dicts(data.get("packages"))
            if (package_id := ident(package.get("id")))
        ],
        payment=payment,
        location=recipient_location(_dict(data.get("recipient_address"))),
        lines=[order_line(line, currency) for line in dicts(data.get("line_items"))],
        raw=_order_raw(data),
    )


def tracking_event(data: Mapping[str, Any]) -> TrackingEvent:
    return TrackingEvent(
        description=text(data.get("description")),
        occurred_at=timestamp_millis(data.get("update_time_millis")),
        raw=dict(data),
    )
