"""Shapes of the sandbox's objects and the rules that change them (seed, API and live loop).

Field names follow the official samples in tests/fixtures/tiktok/ where they exist (orders:
POST_order_202309_orders_search.json; products: the 202502 search and 202309 detail samples) and the
contract sheet elsewhere. Image URLs are stored with the placeholder BASE_MARKER, replaced by the
server's own base URL when a response is written, so the data file does not depend on the port.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import Any

BASE_MARKER = "@@SANDBOX_BASE@@"

ORDER_STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)

# The next status when an order advances (live loop or control endpoint). ON_HOLD only exists for
# markets with a remorse window; the sandbox uses it for non-US shops.
NEXT_STATUS = {
    "UNPAID": "AWAITING_SHIPMENT",
    "ON_HOLD": "AWAITING_SHIPMENT",
    "AWAITING_SHIPMENT": "AWAITING_COLLECTION",
    "PARTIALLY_SHIPPING": "IN_TRANSIT",
    "AWAITING_COLLECTION": "IN_TRANSIT",
    "IN_TRANSIT": "DELIVERED",
    "DELIVERED": "COMPLETED",
}

_LINE_DISPLAY = {
    "UNPAID": "UNPAID",
    "ON_HOLD": "TO_SHIP",
    "AWAITING_SHIPMENT": "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION": "AWAITING_COLLECTION",
    "IN_TRANSIT": "IN_TRANSIT",
    "DELIVERED": "DELIVERED",
    "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}
_PACKAGE_STATUS = {
    "UNPAID": "TO_FULFILL",
    "ON_HOLD": "TO_FULFILL",
    "AWAITING_SHIPMENT": "TO_FULFILL",
    "AWAITING_COLLECTION": "PROCESSING",
    "IN_TRANSIT": "FULFILLING",
    "DELIVERED": "COMPLETED",
    "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}
_SHIPPED = {"PARTIALLY_SHIPPING", "IN_TRANSIT", "DELIVERED", "COMPLETED"}

CARRIERS = {
    "USD": ("6617675021119438849", "USPS"),
    "GBP": ("6617675021119438850", "Royal Mail"),
    "EUR": ("6617675021119438851", "Colissimo"),
}


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def stable_digits(seed: str, length: int) -> str:
    """Deterministic digits derived from a string (tracking numbers, package ids...)."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(digest)[:length].rjust(length, "1")


def order_payment(
    lines: list[dict[str, Any]],
    currency: str,
    shipping: Decimal,
    shipping_seller_discount: Decimal,
    shipping_platform_discount: Decimal,
    tax_rate: Decimal,
) -> dict[str, str]:
    """The payment object with the §4.4 relations holding exactly."""
    original_total = sum((Decimal(line["original_price"]) for line in lines), Decimal("0"))
    seller_discount = sum((Decimal(line["seller_discount"]) for line in lines), Decimal("0"))
    platform_discount = sum((Decimal(line["platform_discount"]) for line in lines), Decimal("0"))
    sub_total = original_total - seller_discount - platform_discount
    shipping_fee = shipping - shipping_seller_discount - shipping_platform_discount
    product_tax = (sub_total * tax_rate).quantize(Decimal("0.01"))
    shipping_fee_tax = (shipping_fee * tax_rate).quantize(Decimal("0.01"))
    tax = product_tax + shipping_fee_tax
    retail_delivery_fee = Decimal("0.00")
    total = sub_total + shipping_fee + tax + retail_delivery_fee
    zero = "0.00"
    return {
        "currency": currency,
        "sub_total": money(sub_total),
        "shipping_fee": money(shipping_fee),
        "seller_discount": money(seller_discount),
        "platform_discount": money(platform_discount),
        "total_amount": money(total),
        "original_total_product_price": money(original_total),
        "original_shipping_fee": money(shipping),
        "shipping_fee_seller_discount": money(shipping_seller_discount),
        "shipping_fee_platform_discount": money(shipping_platform_discount),
        "shipping_fee_cofunded_discount": zero,
        "tax": money(tax),
        "product_tax": money(product_tax),
        "shipping_fee_tax": money(shipping_fee_tax),
        "retail_delivery_fee": money(retail_delivery_fee),
        "small_order_fee": zero,
        "buyer_service_fee": zero,
        "handling_fee": zero,
        "shipping_insurance_fee": zero,
        "item_insurance_fee": zero,
    }


def order_set_status(
    order: dict[str, Any], status: str, at: int, address: dict[str, Any] | None
) -> None:
    """Move an order to `status` at time `at`, filling in the timestamps and fields it implies.

    `address` is the full recipient address, shown from AWAITING_SHIPMENT on (the contract says it
    is not available for UNPAID/ON_HOLD).
    """
    previous = order["status"]
    order["status"] = status
    order["update_time"] = at
    order["is_on_hold_order"] = status == "ON_HOLD"
    if status not in ("UNPAID", "CANCELLED") and "paid_time" not in order:
        order["paid_time"] = at
    if status not in ("UNPAID", "ON_HOLD", "CANCELLED") and address is not None:
        order["recipient_address"] = address
    if status == "UNPAID" or (status == "ON_HOLD" and previous in ("UNPAID", "ON_HOLD")):
        order["recipient_address"] = {
            "region_code": order["recipient_address"].get("region_code", "")
        }
    if "paid_time" in order:
        paid = order["paid_time"]
        order.setdefault("rts_sla_time", paid + 2 * 86400)
        order.setdefault("tts_sla_time", paid + 4 * 86400)
        order.setdefault("shipping_due_time", paid + 3 * 86400)
        order.setdefault("collection_due_time", paid + 3 * 86400)
        order.setdefault("delivery_due_time", paid + 10 * 86400)
        order.setdefault("delivery_sla_time", paid + 10 * 86400)
    if status in ("AWAITING_COLLECTION", *_SHIPPED):
        order.setdefault("rts_time", at)
        carrier_id, carrier_name = CARRIERS.get(order["payment"]["currency"], CARRIERS["USD"])
        order["shipping_provider_id"] = carrier_id
        order["shipping_provider"] = carrier_name
        order["tracking_number"] = "TT" + stable_digits(order["id"] + "track", 14)
    if status in ("IN_TRANSIT", "DELIVERED", "COMPLETED", "PARTIALLY_SHIPPING"):
        order.setdefault("collection_time", at)
    if status in ("DELIVERED", "COMPLETED"):
        order.setdefault("delivery_time", at)
    if status == "CANCELLED":
        order["cancel_time"] = at
        order.setdefault("cancel_reason", "No longer needed")
        order.setdefault("cancellation_initiator", "BUYER")
    for position, line in enumerate(order["line_items"]):
        line_status = status
        if status == "PARTIALLY_SHIPPING":
            # The first line has shipped, the others wait: that is what makes it "partial".
            line_status = "IN_TRANSIT" if position == 0 else "AWAITING_SHIPMENT"
        line["display_status"] = _LINE_DISPLAY[line_status]
        line["package_status"] = _PACKAGE_STATUS[line_status]
        if line_status in ("AWAITING_COLLECTION", *_SHIPPED) and "tracking_number" in order:
            line["tracking_number"] = order["tracking_number"]
            line["shipping_provider_id"] = order["shipping_provider_id"]
            line["shipping_provider_name"] = order["shipping_provider"]
            line["rts_time"] = order["rts_time"]
        if line_status == "CANCELLED":
            line["cancel_reason"] = order["cancel_reason"]
            line["cancel_user"] = order["cancellation_initiator"]


def tracking_events(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Tracking derived from the order's own timestamps, newest first (update_time in ms)."""
    events: list[tuple[int, str]] = []
    if "rts_time" in order:
        events.append((order["rts_time"], "Shipping label created, parcel ready for collection"))
    if "collection_time" in order:
        events.append((order["collection_time"], "Parcel collected by carrier"))
        events.append((order["collection_time"] + 7200, "Arrived at sorting facility"))
        events.append((order["collection_time"] + 36000, "Departed sorting facility"))
    if "delivery_time" in order:
        events.append((order["delivery_time"] - 14400, "Out for delivery"))
        events.append((order["delivery_time"], "Delivered, left at front door"))
    # Events of a parcel still travelling are shown up to now, not beyond.
    now = int(time.time())
    events = [event for event in events if event[0] <= now or "delivery_time" in order]
    events.sort(key=lambda event: event[0], reverse=True)
    return [{"description": text, "update_time_millis": when * 1000} for when, text in events]


def message_object(row: tuple[Any, ...]) -> dict[str, Any]:
    """A message as GetConversationMessages returns it (§6.3). Row order: see MESSAGE_COLUMNS."""
    (
        message_id,
        idx,
        create_time,
        mtype,
        content,
        is_visible,
        role,
        im_user_id,
        nickname,
        avatar,
    ) = row
    return {
        "id": message_id,
        "index": str(idx),
        "type": mtype,
        "content": content,
        "create_time": create_time,
        "is_visible": bool(is_visible),
        "sender": {"im_user_id": im_user_id, "role": role, "nickname": nickname, "avatar": avatar},
    }


MESSAGE_COLUMNS = (
    "id, idx, create_time, type, content, is_visible, role, im_user_id, nickname, avatar"
)


# --- Returns waiting for the seller (see aftersale.py) ---------------------------------------

# A return waiting for the seller: (next action, {decision: (new status, approve?)}).
RETURN_STAGES: dict[str, tuple[str, dict[str, str]]] = {
    "REFUND": (
        "SELLER_RESPOND_REFUND",
        {
            "APPROVE_REFUND": "RETURN_OR_REFUND_REQUEST_SUCCESS",
            "REJECT_REFUND": "REFUND_OR_RETURN_REQUEST_REJECT",
        },
    ),
    "RETURN_AND_REFUND": (
        "SELLER_RESPOND_RETURN",
        {
            "APPROVE_RETURN": "AWAITING_BUYER_SHIP",
            "REJECT_RETURN": "REFUND_OR_RETURN_REQUEST_REJECT",
        },
    ),
    "REPLACEMENT": (
        "SELLER_RESPOND_REPLACEMENT",
        {
            "APPROVE_REPLACEMENT": "REPLACEMENT_REQUEST_COMPLETE",
            "ISSUE_REPLACEMENT_REFUND": "REPLACEMENT_REQUEST_REFUND_SUCCESS",
            "REJECT_REPLACEMENT": "REPLACEMENT_REQUEST_REJECT",
        },
    ),
    "PACKAGE": (
        "SELLER_RESPOND_RECEIVE_PACKAGE",
        {
            "APPROVE_RECEIVED_PACKAGE": "RETURN_OR_REFUND_REQUEST_SUCCESS",
            "REJECT_RECEIVED_PACKAGE": "REJECT_RECEIVE_PACKAGE",
        },
    ),
}


def return_stage(body: dict[str, Any]) -> str | None:
    """Which stage a return waits in for the seller, or None when it does not wait for them."""
    status = body["return_status"]
    if status == "BUYER_SHIPPED_ITEM":
        return "PACKAGE"
    if status in ("RETURN_OR_REFUND_REQUEST_PENDING", "REPLACEMENT_REQUEST_PENDING"):
        return body["return_type"] if body["return_type"] in RETURN_STAGES else None
    return None


def next_action(body: dict[str, Any], deadline: int) -> list[dict[str, Any]]:
    stage = return_stage(body)
    return [{"action": RETURN_STAGES[stage][0], "deadline": deadline}] if stage else []
