"""Orders with their payments, addresses and statuses; returns and cancellations."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from decimal import Decimal
from typing import Any

import orjson

from marketplaces.tiktok.sandbox.model import (
    ORDER_STATUSES,
    money,
    next_action,
    order_payment,
    order_set_status,
)
from marketplaces.tiktok.sandbox.seed.catalog import ADDRESSES, COUNTRY_NAMES, SHIPPING, TAX_RATES
from marketplaces.tiktok.sandbox.seed.ids import Ids


def _status_for_age(rng: random.Random, age_hours: float, lines: int, market: str) -> str:
    roll = rng.random()
    if age_hours < 2:
        if roll < 0.4:
            return "UNPAID"
        return "ON_HOLD" if market != "US" and roll < 0.7 else "AWAITING_SHIPMENT"
    if age_hours < 24:
        table = (
            ("AWAITING_SHIPMENT", 0.45),
            ("AWAITING_COLLECTION", 0.25),
            ("PARTIALLY_SHIPPING" if lines > 1 else "AWAITING_SHIPMENT", 0.1),
            ("UNPAID", 0.05),
            ("CANCELLED", 0.15),
        )
    elif age_hours < 24 * 5:
        table = (
            ("IN_TRANSIT", 0.5),
            ("AWAITING_COLLECTION", 0.1),
            ("DELIVERED", 0.3),
            ("CANCELLED", 0.1),
        )
    elif age_hours < 24 * 15:
        table = (("DELIVERED", 0.85), ("IN_TRANSIT", 0.05), ("CANCELLED", 0.1))
    else:
        table = (("COMPLETED", 0.9), ("CANCELLED", 0.08), ("DELIVERED", 0.02))
    for status, share in table:
        if roll < share:
            return status
        roll -= share
    return table[0][0]


def _path_to(status: str, market: str) -> list[str]:
    """The statuses an order passes through to reach `status` (for its timestamps)."""
    if status == "CANCELLED":
        return ["UNPAID", "CANCELLED"]
    path = ["UNPAID"]
    if status == "UNPAID":
        return path
    if market != "US":
        path.append("ON_HOLD")
    if status == "ON_HOLD":
        return path
    for step in (
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
    ):
        if step == "PARTIALLY_SHIPPING" and status != "PARTIALLY_SHIPPING":
            continue
        path.append(step)
        if step == status:
            break
    return path


class OrderSeeding:
    """The order half of the Seeder (mixed into it): needs rng, ids, anchor, days, conn."""

    rng: random.Random
    ids: Ids
    anchor: int
    days: int
    conn: sqlite3.Connection

    def build_order(
        self,
        shop_id: str,
        market: str,
        region: str,
        currency: str,
        created: int,
        buyer: dict[str, str],
        products: list[dict[str, Any]],
        line_count: int,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        order_id = self.ids.make("576", 18)
        lines = []
        for _ in range(line_count):
            product = products[rng.randrange(len(products) - 1)]  # the last one is deactivated
            sku = rng.choice(product["skus"])
            original = Decimal(sku["price"]["sale_price"])
            seller_discount = (
                (original * Decimal("0.10")).quantize(Decimal("0.01"))
                if rng.random() < 0.3
                else Decimal("0")
            )
            platform_discount = Decimal("1.00") if rng.random() < 0.2 else Decimal("0")
            lines.append(
                {
                    "id": self.ids.make("577", 18),
                    "sku_id": sku["id"],
                    "product_id": product["id"],
                    "product_name": product["title"],
                    "sku_name": sku["sales_attributes"][0]["value_name"],
                    "sku_image": product["image"],
                    "seller_sku": sku["seller_sku"],
                    "original_price": money(original),
                    "sale_price": money(original - seller_discount - platform_discount),
                    "platform_discount": money(platform_discount),
                    "seller_discount": money(seller_discount),
                    "currency": currency,
                    "display_status": "UNPAID",
                    "package_id": "",
                    "package_status": "TO_FULFILL",
                    "sku_type": "NORMAL",
                    "is_gift": False,
                    "item_tax": [
                        {
                            "tax_type": "SALES_TAX",
                            "tax_amount": money(
                                (original - seller_discount - platform_discount)
                                * TAX_RATES[currency]
                            ),
                            "tax_rate": str(TAX_RATES[currency]),
                        }
                    ]
                    if TAX_RATES[currency]
                    else [],
                }
            )
        package_id = self.ids.make("115", 19)
        for line in lines:
            line["package_id"] = package_id
        shipping = SHIPPING[currency]
        free_shipping = rng.random() < 0.3
        payment = order_payment(
            lines,
            currency,
            shipping,
            shipping if free_shipping else Decimal("0"),
            Decimal("0"),
            TAX_RATES[currency],
        )
        street, city, state, state_name, postal, phone = rng.choice(ADDRESSES[region])
        platform_logistics = rng.random() < 0.5
        name = f"{buyer['first_name']} {buyer['last_name']}"
        shown_first, shown_last = buyer["first_name"], buyer["last_name"]
        if platform_logistics:
            # Names are masked for platform-logistics orders (contract §4.4).
            shown_first, shown_last = shown_first[0] + "***", shown_last[0] + "***"
            name = f"{shown_first} {shown_last}"
        house = rng.randrange(1, 200)
        state_part = f", {state}" if state else ""
        address = {
            "name": name,
            "first_name": shown_first,
            "last_name": shown_last,
            "phone_number": phone,
            "full_address": f"{street}, Apt {house}, {city}{state_part} {postal}",
            "address_detail": f"Apt {house}",
            "address_line1": street,
            "address_line2": f"Apt {house}",
            "address_line3": "",
            "address_line4": "",
            "postal_code": postal,
            "region_code": region,
            "post_town": city,
            "district_info": [
                {
                    "address_level_name": "Country",
                    "address_name": COUNTRY_NAMES[region],
                    "address_level": "L0",
                },
                {
                    "address_level_name": "State" if region == "US" else "County",
                    "address_name": state_name,
                    "address_level": "L1",
                },
                {"address_level_name": "City", "address_name": city, "address_level": "L2"},
            ],
            "delivery_preferences": {"drop_off_location": "Front Door"},
        }
        order = {
            "id": order_id,
            "status": "UNPAID",
            "create_time": created,
            "update_time": created,
            "user_id": buyer["user_id"],
            "buyer_email": f"{buyer['nickname']}@chat.seller.tiktok.com",
            "buyer_message": "Please ship asap!" if rng.random() < 0.1 else "",
            "buyer_nickname": buyer["nickname"],
            "buyer_avatar": buyer["avatar"],
            "seller_note": "",
            "payment_method_name": rng.choice(("CCDC", "PayPal", "Apple Pay")),
            "is_cod": False,
            "payment": payment,
            "recipient_address": {"region_code": region},
            "line_items": lines,
            "packages": [{"id": package_id}],
            "shipping_type": "TIKTOK" if platform_logistics else "SELLER",
            "delivery_option_id": "7091146663229654785",
            "delivery_option_name": "Standard Shipping",
            "delivery_type": "HOME_DELIVERY",
            "fulfillment_type": "FULFILLMENT_BY_SELLER",
            "warehouse_id": "6955005333819123123",
            "split_or_combine_tag": "",
            "is_on_hold_order": False,
            "is_sample_order": False,
            "is_replacement_order": False,
            "is_buyer_request_cancel": False,
            "has_updated_recipient_address": False,
            "order_type": "NORMAL",
            "commerce_platform": "TIKTOK_SHOP",
        }
        return order, address

    def seed_orders(
        self,
        shop_id: str,
        market: str,
        region: str,
        currency: str,
        per_day: int,
        products: list[dict[str, Any]],
        buyers: list[dict[str, str]],
    ) -> list[dict[str, Any]]:
        rng = self.rng
        plans = []
        for day in range(self.days, 0, -1):
            for _ in range(per_day):
                created = self.anchor - (day - 1) * 86400 - rng.randrange(1, 86400)
                plans.append(created)
        plans.sort()
        statuses = []
        line_counts = []
        for created in plans:
            lines = 1 if rng.random() < 0.7 else rng.randrange(2, 4)
            line_counts.append(lines)
            statuses.append(_status_for_age(rng, (self.anchor - created) / 3600, lines, market))
        # Every status exists in every shop, whatever the volume: the newest orders take the
        # missing ones (a multi-line order for PARTIALLY_SHIPPING).
        counts = Counter(statuses)
        position = len(plans) - 1
        for status in ORDER_STATUSES:
            if counts[status] or (status == "ON_HOLD" and market == "US"):
                continue
            while position >= 0 and counts[statuses[position]] < 2:
                position -= 1
            if position < 0:
                break
            counts[statuses[position]] -= 1
            counts[status] += 1
            statuses[position] = status
            if status == "PARTIALLY_SHIPPING":
                line_counts[position] = max(2, line_counts[position])
            position -= 1
        orders = []
        rows = []
        cancel_rows = []
        return_rows = []
        # Whatever the volume, the newest candidates carry every after-sale status at least once.
        forced_cancel = dict(
            zip(
                reversed([i for i, s in enumerate(statuses) if s == "AWAITING_SHIPMENT"]),
                ("CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_CANCEL"),
                strict=False,
            )
        )
        forced_return = dict(
            zip(
                reversed([i for i, s in enumerate(statuses) if s == "DELIVERED"]),
                (
                    "RETURN_OR_REFUND_REQUEST_PENDING",
                    "AWAITING_BUYER_SHIP",
                    "BUYER_SHIPPED_ITEM",
                    "RETURN_OR_REFUND_REQUEST_SUCCESS",
                ),
                strict=False,
            )
        )
        forced_return.update(
            zip(
                reversed([i for i, s in enumerate(statuses) if s == "COMPLETED"]),
                (
                    "RETURN_OR_REFUND_REQUEST_COMPLETE",
                    "REFUND_OR_RETURN_REQUEST_REJECT",
                    "RETURN_OR_REFUND_REQUEST_CANCEL",
                ),
                strict=False,
            )
        )
        for position, (created, status, lines) in enumerate(
            zip(plans, statuses, line_counts, strict=True)
        ):
            buyer = buyers[rng.randrange(len(buyers))]
            order, address = self.build_order(
                shop_id, market, region, currency, created, buyer, products, lines
            )
            path = _path_to(status, market)
            span = max(60, min(self.anchor - created - 60, 12 * 86400))
            moments = sorted(created + rng.randrange(0, span) for _ in path[1:])
            for step, at in zip(path[1:], moments, strict=True):
                order_set_status(order, step, at, address)
            if status == "CANCELLED":
                order["cancellation_initiator"] = rng.choice(("BUYER", "SELLER", "SYSTEM"))
                order["cancel_reason"] = rng.choice(
                    ("No longer needed", "Pricing error", "Out of stock", "Payment overdue")
                )
                order_set_status(order, "CANCELLED", order["update_time"], address)
                cancel_rows.append(
                    self.cancellation(shop_id, order, "CANCELLATION_REQUEST_COMPLETE")
                )
            elif status == "AWAITING_SHIPMENT" and (
                position in forced_cancel or rng.random() < 0.15
            ):
                pending = forced_cancel.get(
                    position, "CANCELLATION_REQUEST_PENDING" if rng.random() < 0.6 else ""
                ) == ("CANCELLATION_REQUEST_PENDING")
                if pending:
                    order["is_buyer_request_cancel"] = True
                    order["request_cancel_time"] = order["update_time"]
                cancel_rows.append(
                    self.cancellation(
                        shop_id,
                        order,
                        "CANCELLATION_REQUEST_PENDING"
                        if pending
                        else "CANCELLATION_REQUEST_CANCEL",
                    )
                )
            elif status in ("DELIVERED", "COMPLETED") and (
                position in forced_return or rng.random() < 0.08
            ):
                return_rows.append(self.return_order(shop_id, order, forced_return.get(position)))
            orders.append(order)
            rows.append(
                (
                    order["id"],
                    shop_id,
                    order["user_id"],
                    order["status"],
                    created,
                    order["update_time"],
                    orjson.dumps(order).decode(),
                    orjson.dumps(address).decode(),
                )
            )
        self.conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.conn.executemany(
            "INSERT INTO cancellations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", cancel_rows
        )
        self.conn.executemany("INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", return_rows)
        return orders

    def refund(self, order: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, str]:
        currency = order["payment"]["currency"]
        subtotal = sum((Decimal(line["sale_price"]) for line in lines), Decimal("0"))
        return {
            "currency": currency,
            "refund_total": money(subtotal),
            "refund_subtotal": money(subtotal),
            "refund_shipping_fee": "0.00",
            "refund_tax": "0.00",
            "retail_delivery_fee": "0.00",
            "buyer_service_fee": "0.00",
        }

    def cancellation(self, shop_id: str, order: dict[str, Any], status: str) -> tuple[Any, ...]:
        cancel_id = self.ids.make("403", 19)
        role = (
            order.get("cancellation_initiator", "BUYER") if status.endswith("COMPLETE") else "BUYER"
        )
        cancel_type = "BUYER_CANCEL" if role == "BUYER" else "CANCEL"
        created = order["update_time"]
        body = {
            "cancel_id": cancel_id,
            "order_id": order["id"],
            "cancel_type": cancel_type,
            "cancel_status": status,
            "role": role,
            "cancel_reason": order.get("cancel_reason", "No longer needed"),
            "cancel_reason_text": order.get("cancel_reason", "No longer needed"),
            "create_time": created,
            "update_time": created,
            "seller_next_action_response": [
                # lywzx SearchCancellations.ts: the one documented value.
                {"action": "SELLER_RESPOND_CANCEL", "deadline": created + 2 * 86400}
            ]
            if status == "CANCELLATION_REQUEST_PENDING"
            else [],
            "refund_amount": self.refund(order, order["line_items"]),
            "cancel_line_items": [
                {
                    "cancel_line_item_id": self.ids.make("403", 19),
                    "order_line_item_id": line["id"],
                    "sku_id": line["sku_id"],
                    "sku_name": line["sku_name"],
                    "product_name": line["product_name"],
                    "seller_sku": line["seller_sku"],
                    "product_image": {"url": line["sku_image"], "width": 240, "height": 240},
                    "refund_amount": self.refund(order, [line]),
                }
                for line in order["line_items"]
            ],
        }
        return (
            cancel_id,
            shop_id,
            order["id"],
            order["user_id"],
            status,
            cancel_type,
            created,
            created,
            orjson.dumps(body).decode(),
        )

    def return_order(
        self, shop_id: str, order: dict[str, Any], forced_status: str | None = None
    ) -> tuple[Any, ...]:
        rng = self.rng
        return_id = self.ids.make("404", 19)
        age_days = (self.anchor - order["update_time"]) / 86400
        if age_days < 10:
            status = rng.choice(
                (
                    "RETURN_OR_REFUND_REQUEST_PENDING",
                    "AWAITING_BUYER_SHIP",
                    "BUYER_SHIPPED_ITEM",
                    "RETURN_OR_REFUND_REQUEST_SUCCESS",
                )
            )
        else:
            status = rng.choice(
                (
                    "RETURN_OR_REFUND_REQUEST_COMPLETE",
                    "REFUND_OR_RETURN_REQUEST_REJECT",
                    "RETURN_OR_REFUND_REQUEST_CANCEL",
                    "RETURN_OR_REFUND_REQUEST_COMPLETE",
                )
            )
        status = forced_status or status
        return_type = rng.choice(
            ("REFUND", "RETURN_AND_REFUND", "RETURN_AND_REFUND", "REPLACEMENT")
        )
        created = min(order["update_time"] + rng.randrange(3600, 3 * 86400), self.anchor - 60)
        updated = min(created + rng.randrange(0, 2 * 86400), self.anchor - 30)
        lines = order["line_items"][:1]
        refund = self.refund(order, lines)
        currency = order["payment"]["currency"]
        body = {
            "return_id": return_id,
            "order_id": order["id"],
            "return_type": return_type,
            "return_status": status,
            "arbitration_status": "",
            "role": "BUYER",
            "return_reason": "ecom_order_delivered_refund_and_return_reason_damaged",
            "return_reason_text": rng.choice(("Damaged item", "Wrong size", "Not as described")),
            "create_time": created,
            "update_time": updated,
            "shipment_type": "PLATFORM",
            "handover_method": "DROP_OFF",
            "return_tracking_number": ("RT" + return_id[-10:])
            if status in ("BUYER_SHIPPED_ITEM", "RETURN_OR_REFUND_REQUEST_COMPLETE")
            else "",
            "return_provider_name": "USPS" if currency == "USD" else "Royal Mail",
            "can_buyer_keep_item": return_type == "REFUND",
            "seller_next_action_response": next_action(
                {"return_status": status, "return_type": return_type}, updated + 2 * 86400
            ),
            "refund_amount": refund,
            "discount_amount": {
                "currency": currency,
                "product_platform_discount": "0.00",
                "product_seller_discount": "0.00",
                "shipping_fee_platform_discount": "0.00",
                "shipping_fee_seller_discount": "0.00",
            },
            "return_shipping_fee_amount": {
                "currency": currency,
                "seller_paid_return_shipping_fee": "0.00",
                "buyer_paid_return_shipping_fee": "0.00",
                "platform_paid_return_shipping_fee": "0.00",
            },
            "return_line_items": [
                {
                    "return_line_item_id": self.ids.make("404", 19),
                    "order_line_item_id": line["id"],
                    "sku_id": line["sku_id"],
                    "sku_name": line["sku_name"],
                    "product_name": line["product_name"],
                    "seller_sku": line["seller_sku"],
                    "product_image": {"url": line["sku_image"], "width": 240, "height": 240},
                    "refund_amount": self.refund(order, [line]),
                }
                for line in lines
            ],
            "is_combined_return": False,
            "combined_return_id": "",
        }
        return (
            return_id,
            shop_id,
            order["id"],
            order["user_id"],
            status,
            return_type,
            created,
            updated,
            orjson.dumps(body).decode(),
        )
