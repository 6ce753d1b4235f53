"""Deterministic seed: the same --seed gives the same sellers, shops, ids, orders and chats.

Timestamps are laid out backwards from the moment of seeding (stored as `anchor`), so a fresh file
always holds the last N days. Bulk inserts of pre-serialised JSON keep 90 days x 1,000 orders/day
within a couple of minutes on a small machine.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.images import generated_png
from marketplaces.tiktok.sandbox.model import (
    BASE_MARKER,
    ORDER_STATUSES,
    money,
    order_payment,
    order_set_status,
)

SELLERS = (
    # (seller_name, base_region, market, shops: (name, region, seller_type, currency, weight))
    ("Sunrise Outfitters LLC", "US", "US", (("Sunrise Outfitters", "US", "LOCAL", "USD", 1.0),)),
    (
        "Maomao Beauty Co.",
        "CN",
        "ROW",
        (
            ("Maomao Beauty UK", "GB", "CROSS_BORDER", "GBP", 1.0),
            ("Maomao Beauté FR", "FR", "CROSS_BORDER", "EUR", 0.25),
        ),
    ),
)

PRODUCTS = (
    ("Short Boat Invisible Socks", ("White", "Black", "Grey"), Decimal("9.99")),
    ("Women's Winter Crochet Cardigan", ("S", "M", "L"), Decimal("34.50")),
    ("Hydrating Rose Face Serum 30ml", ("30ml",), Decimal("18.00")),
    ("Silk Sleep Mask", ("Pink", "Navy"), Decimal("12.99")),
    ("Bamboo Hair Brush", ("Standard",), Decimal("14.25")),
    ("Vitamin C Sheet Masks (5 pack)", ("5 pack",), Decimal("11.40")),
    ("Wireless Earbuds Pro", ("Black", "White"), Decimal("49.90")),
    ("Stainless Steel Water Bottle 750ml", ("Silver", "Sage", "Coral"), Decimal("21.00")),
    ("Matte Liquid Lipstick", ("Ruby", "Nude", "Berry"), Decimal("8.75")),
    ("Yoga Mat Non-Slip 6mm", ("Purple", "Teal"), Decimal("29.99")),
    ("Scented Soy Candle", ("Vanilla", "Lavender"), Decimal("16.50")),
    ("Phone Case Clear MagSafe", ("iPhone 15", "iPhone 16"), Decimal("19.95")),
)

FIRST_NAMES = (
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Mia",
    "Lucas",
    "Amelia",
    "Ethan",
    "Isla",
    "James",
    "Sophia",
    "Harper",
    "Leo",
    "Chloe",
    "Jack",
    "Grace",
    "Oscar",
    "Ruby",
    "Max",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Martin",
    "Thomas",
    "Walker",
    "Moore",
    "Clark",
    "Lewis",
    "Hall",
    "Young",
    "King",
)
ADDRESSES = {
    "US": (
        ("1199 Coleman Ave", "San Jose", "CA", "California", "95110", "(+1)213-***-1234"),
        ("350 5th Ave", "New York", "NY", "New York", "10118", "(+1)646-***-8812"),
        ("600 Congress Ave", "Austin", "TX", "Texas", "78701", "(+1)512-***-4471"),
    ),
    "GB": (
        ("10 Downing Street", "London", "", "Greater London", "SW1A 2AA", "(+44)7700-***-123"),
        ("1 Deansgate", "Manchester", "", "Greater Manchester", "M3 1AZ", "(+44)7700-***-456"),
        ("5 Preston Road", "Ribbleton", "", "Lancashire", "PR2 6PS", "(+44)7700-***-789"),
    ),
    "FR": (
        ("8 Rue de Rivoli", "Paris", "", "Île-de-France", "75004", "(+33)6-**-**-12-34"),
        ("2 Quai Saint-Antoine", "Lyon", "", "Auvergne-Rhône-Alpes", "69002", "(+33)6-**-**-56-78"),
    ),
}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "FR": "France"}
TAX_RATES = {"USD": Decimal("0.0825"), "GBP": Decimal("0"), "EUR": Decimal("0")}
SHIPPING = {"USD": Decimal("5.99"), "GBP": Decimal("3.49"), "EUR": Decimal("4.90")}
COLORS = (
    (231, 76, 60),
    (52, 152, 219),
    (46, 204, 113),
    (155, 89, 182),
    (241, 196, 15),
    (230, 126, 34),
    (26, 188, 156),
    (52, 73, 94),
)


class Ids:
    """Unique numeric string ids of a given shape, drawn from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, prefix: str, length: int) -> str:
        while True:
            value = prefix + str(
                self.rng.randrange(10 ** (length - len(prefix) - 1), 10 ** (length - len(prefix)))
            )
            if value not in self.seen:
                self.seen.add(value)
                return value


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


class Seeder:
    def __init__(
        self, conn: sqlite3.Connection, seed: int, orders_per_day: int, days: int, anchor: int
    ) -> None:
        self.conn = conn
        self.rng = random.Random(seed)
        self.ids = Ids(self.rng)
        self.seed = seed
        self.orders_per_day = orders_per_day
        self.days = days
        self.anchor = anchor
        self.images: list[tuple[str, str, int, int, bytes]] = []

    def image(self, label: str, size: tuple[int, int]) -> dict[str, Any]:
        image_id = self.ids.make("9", 19)
        color = COLORS[len(self.images) % len(COLORS)]
        self.images.append(
            (image_id, "image/png", size[0], size[1], generated_png(label, color, size))
        )
        url = f"{BASE_MARKER}/_sandbox/images/{image_id}.png"
        return {
            "id": image_id,
            "url": url,
            "width": size[0],
            "height": size[1],
            "uri": f"sandbox/{image_id}",
        }

    def run(self) -> None:
        rng = self.rng
        conn = self.conn
        db.meta_set(conn, "app_key", "6" + format(rng.getrandbits(48), "012x"))
        db.meta_set(conn, "app_secret", format(rng.getrandbits(160), "040x"))
        db.meta_set(conn, "service_id", self.ids.make("7", 19))
        db.meta_set(conn, "anchor", str(self.anchor))
        db.meta_set(
            conn,
            "seed",
            orjson.dumps(
                {"seed": self.seed, "orders_per_day": self.orders_per_day, "days": self.days}
            ).decode(),
        )
        db.meta_set(conn, "next_index", str(7494560109732334000))
        for seller_number, (seller_name, base_region, market, shops) in enumerate(SELLERS, 1):
            open_id = self.ids.make("70", 19)
            conn.execute(
                "INSERT INTO sellers (id, open_id, seller_name, base_region, user_type) "
                "VALUES (?, ?, ?, ?, 0)",
                (seller_number, open_id, seller_name, base_region),
            )
            for shop_name, region, seller_type, currency, weight in shops:
                self.seed_shop(
                    seller_number,
                    market,
                    shop_name,
                    region,
                    seller_type,
                    currency,
                    max(1, round(self.orders_per_day * weight)),
                )
        conn.executemany(
            "INSERT INTO images (id, content_type, width, height, data) VALUES (?, ?, ?, ?, ?)",
            self.images,
        )

    def seed_shop(
        self,
        seller_id: int,
        market: str,
        name: str,
        region: str,
        seller_type: str,
        currency: str,
        per_day: int,
    ) -> None:
        rng = self.rng
        shop_id = self.ids.make("74", 19)
        cipher = "GCP_" + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            for _ in range(32)
        )
        code = (
            region
            + "LC"
            + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
        )
        shop_im = self.ids.make("69", 19)
        shop_avatar = self.image(name[:12], (96, 96))["url"]
        self.conn.execute(
            "INSERT INTO shops (id, seller_id, name, region, seller_type, cipher, code, currency, "
            "market, im_user_id, authorized, authorization_expire_time, avatar) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (
                shop_id,
                seller_id,
                name,
                region,
                seller_type,
                cipher,
                code,
                currency,
                market,
                shop_im,
                self.anchor + 365 * 86400,
                shop_avatar,
            ),
        )
        products = self.seed_products(shop_id, currency, region)
        buyers = self.seed_buyers(shop_id, max(12, per_day * self.days // 3))
        orders = self.seed_orders(shop_id, market, region, currency, per_day, products, buyers)
        self.seed_coupons(shop_id, currency)
        self.seed_conversations(shop_id, (shop_im, name, shop_avatar), buyers, orders, products)

    def seed_products(self, shop_id: str, currency: str, region: str) -> list[dict[str, Any]]:
        rng = self.rng
        products = []
        rows = []
        warehouse = self.ids.make("70", 19)
        for position, (title, variants, base_price) in enumerate(PRODUCTS):
            product_id = self.ids.make("17", 19)
            image = self.image(title[:20], (240, 240))
            created = self.anchor - (self.days + 30 - position) * 86400
            status = "SELLER_DEACTIVATED" if position == len(PRODUCTS) - 1 else "ACTIVATE"
            skus = []
            for variant in variants:
                price = base_price
                sku = {
                    "id": self.ids.make("17", 19),
                    "seller_sku": f"{title.split()[0][:5].upper()}-{variant.replace(' ', '')[:8]}",
                    "price": {
                        "currency": currency,
                        "tax_exclusive_price": money(price),
                        "sale_price": money(price),
                    },
                    "inventory": [{"warehouse_id": warehouse, "quantity": rng.randrange(0, 500)}],
                    "sales_attributes": [
                        {
                            "id": "100000",
                            "name": "Variant",
                            "value_id": stable_id(variant),
                            "value_name": variant,
                        }
                    ],
                }
                skus.append(sku)
            images = [
                {
                    "height": image["height"],
                    "width": image["width"],
                    "uri": image["uri"],
                    "urls": [image["url"]],
                    "thumb_urls": [image["url"]],
                }
            ]
            summary = {
                "id": product_id,
                "title": title,
                "status": status,
                "skus": [{k: v for k, v in sku.items() if k != "sales_attributes"} for sku in skus],
                "sales_regions": [region],
                "create_time": created,
                "update_time": created + 3600,
                "audit": {"status": "APPROVED"},
            }
            detail = {
                "id": product_id,
                "title": title,
                "status": status,
                "product_status": status,
                "description": f"<p>{title}. Sandbox product.</p>",
                "main_images": images,
                "skus": skus,
                "create_time": created,
                "update_time": created + 3600,
                "audit": {"status": "APPROVED"},
                "category_chains": [
                    {
                        "id": "853000",
                        "is_leaf": True,
                        "local_name": "Sandbox category",
                        "parent_id": "0",
                    }
                ],
                "is_cod_allowed": False,
            }
            products.append(
                {
                    "id": product_id,
                    "title": title,
                    "skus": skus,
                    "image": image["url"],
                    "status": status,
                }
            )
            rows.append(
                (
                    product_id,
                    shop_id,
                    status,
                    created,
                    created + 3600,
                    orjson.dumps(summary).decode(),
                    orjson.dumps(detail).decode(),
                )
            )
        self.conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return products

    def seed_buyers(self, shop_id: str, count: int) -> list[dict[str, str]]:
        rng = self.rng
        avatars = [self.image(f"Buyer {n + 1}", (64, 64))["url"] for n in range(4)]
        buyers = []
        for position in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            buyers.append(
                {
                    "user_id": self.ids.make("70", 19),
                    "im_user_id": self.ids.make("6", 18),
                    "nickname": f"{first.lower()}{last[0].lower()}{rng.randrange(10, 999)}",
                    "first_name": first,
                    "last_name": last,
                    "avatar": avatars[position % len(avatars)],
                }
            )
        self.conn.executemany(
            "INSERT INTO buyers (shop_id, user_id, im_user_id, nickname, avatar) "
            "VALUES (?, ?, ?, ?, ?)",
            [(shop_id, b["user_id"], b["im_user_id"], b["nickname"], b["avatar"]) for b in buyers],
        )
        return buyers

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
        rng = self.rng
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
                {"action": "RESPOND_CANCELLATION", "deadline": created + 2 * 86400}
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
        del rng
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
            "seller_next_action_response": [
                {"action": "RESPOND_RETURN_REQUEST", "deadline": updated + 2 * 86400}
            ]
            if status == "RETURN_OR_REFUND_REQUEST_PENDING"
            else [],
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

    def seed_coupons(self, shop_id: str, currency: str) -> None:
        rows = []
        specs = (
            ("Chat thank-you 10% off", "CHAT", "ONGOING"),
            ("Spring sale $5 off", "REGULAR", "ONGOING"),
            ("Winter chat coupon", "CHAT", "EXPIRED"),
            ("Black Friday", "REGULAR", "EXPIRED"),
            ("Live room special", "LIVE", "ONGOING"),
            ("Summer preview", "REGULAR", "NOT_START"),
        )
        for title, display_type, status in specs:
            coupon_id = self.ids.make("72", 19)
            start = self.anchor - 30 * 86400 if status != "NOT_START" else self.anchor + 7 * 86400
            end = self.anchor - 86400 if status == "EXPIRED" else self.anchor + 60 * 86400
            percentage = "10" in title
            body = {
                "id": coupon_id,
                "title": title,
                "display_type": display_type,
                "status": status,
                "claim_duration": {"start_time": start, "end_time": end},
                "redemption_duration": {"start_time": start, "end_time": end + 7 * 86400},
                "target_buyer_segment": "ALL_BUYERS",
                "usage_limits": {"per_buyer": 1, "total": 1000},
                "discount": (
                    {
                        "type": "PERCENTAGE_OFF",
                        "percentage": "10",
                        "max_discount": {"amount": "20.00", "currency": currency},
                    }
                    if percentage
                    else {
                        "type": "FIXED_DISCOUNT",
                        "reduction_amount": {"amount": "5.00", "currency": currency},
                    }
                ),
                "threshold": {
                    "type": "MINIMUM_SPEND",
                    "min_spend": {"amount": "25.00", "currency": currency},
                },
                "product_scope": "ALL_PRODUCTS",
                "creation_source": "SELLER_CENTER",
                "promo_code": "",
            }
            rows.append(
                (coupon_id, shop_id, status, display_type, title, orjson.dumps(body).decode())
            )
        self.conn.executemany("INSERT INTO coupons VALUES (?, ?, ?, ?, ?, ?)", rows)

    def seed_conversations(
        self,
        shop_id: str,
        shop: tuple[str, str, str],
        buyers: list[dict[str, str]],
        orders: list[dict[str, Any]],
        products: list[dict[str, Any]],
    ) -> None:
        rng = self.rng
        orders_by_buyer: dict[str, list[dict[str, Any]]] = {}
        for order in orders:
            orders_by_buyer.setdefault(order["user_id"], []).append(order)
        with_orders = [b for b in buyers if b["user_id"] in orders_by_buyer]
        chatty = with_orders[:12]
        index = int(db.meta_get(self.conn, "next_index") or 0)
        shop_im, shop_name, shop_avatar = shop
        conversation_rows = []
        message_rows = []
        photo = self.image("Damaged parcel", (304, 290))
        for position, buyer in enumerate(chatty):
            own = orders_by_buyer[buyer["user_id"]]
            order = own[-1]
            product_id = order["line_items"][0]["product_id"]
            conversation_id = self.ids.make("71", 19)
            start = self.anchor - (len(chatty) - position) * 5400 - rng.randrange(0, 3600)
            script = _conversation_script(
                position, order["id"], product_id, products[position % len(products)]["id"], photo
            )
            read_up_to = len(script) if position % 3 == 0 else len(script) - 1
            at = start
            for number, (role, mtype, content, visible) in enumerate(script):
                index += rng.randrange(3, 40)
                at += rng.randrange(20, 600)
                if role == "BUYER":
                    sender = (buyer["im_user_id"], buyer["nickname"], buyer["avatar"])
                else:
                    sender = (shop_im, shop_name, shop_avatar)
                message_rows.append(
                    (
                        self.ids.make("72", 19),
                        conversation_id,
                        index,
                        at,
                        mtype,
                        orjson.dumps(content).decode(),
                        int(visible),
                        role,
                        *sender,
                        int(role != "BUYER" or number < read_up_to),
                    )
                )
            conversation_rows.append((conversation_id, shop_id, buyer["user_id"], start, at))
        db.meta_set(self.conn, "next_index", str(index))
        self.conn.executemany("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", conversation_rows)
        self.conn.executemany(
            "INSERT INTO messages (id, conversation_id, idx, create_time, type, content, "
            "is_visible, role, im_user_id, nickname, avatar, read_by_seller) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            message_rows,
        )


def stable_id(text: str) -> str:
    return str(abs(hash_text(text)) % 10**7 + 10**7)


def hash_text(text: str) -> int:
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % (2**61 - 1)
    return value


def _conversation_script(
    position: int, order_id: str, product_id: str, other_product_id: str, photo: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any], bool]]:
    """Message scripts: (role, type, content before stringifying, is_visible)."""
    image = {"height": str(photo["height"]), "url": photo["url"], "width": str(photo["width"])}
    video = {
        "url": f"{BASE_MARKER}/_sandbox/videos/demo.mp4",
        "cover": photo["url"],
        "width": "720",
        "height": "1280",
        "duration": "12.5",
        "vid": "v10394g5000cd499vc7og65mqn3r3dg0",
        "expire_time": "1999999999",
        "format": "mp4",
        "size": "1048576",
        "bit_rate": "800000",
        "quality": "normal",
        "codec_type": "h264",
    }
    scripts = [
        [
            ("BUYER", "BUYER_ENTER_FROM_ORDER", {"order_id": order_id}, True),
            ("BUYER", "TEXT", {"content": f"Where is my order? The order id is {order_id}"}, True),
            (
                "SYSTEM",
                "ALLOCATED_SERVICE",
                {"content": "Customer service agent joined the chat"},
                True,
            ),
            ("SHOP", "TEXT", {"content": "Hi! Let me check that for you right away."}, True),
            ("BUYER", "TEXT", {"content": "Thanks, it's been a while."}, True),
        ],
        [
            ("BUYER", "BUYER_ENTER_FROM_PRODUCT", {"product_id": other_product_id}, True),
            ("BUYER", "PRODUCT_CARD", {"product_id": other_product_id}, True),
            ("BUYER", "TEXT", {"content": "Is this available in another colour?"}, True),
        ],
        [
            ("BUYER", "IMAGE", image, True),
            ("BUYER", "TEXT", {"content": "The item arrived damaged, see the photo."}, True),
            ("BUYER", "ORDER_CARD", {"order_id": order_id}, True),
        ],
        [
            ("BUYER", "VIDEO", video, True),
            ("BUYER", "EMOTICONS", {"url": image["url"], "width": "64", "height": "64"}, True),
            ("BUYER", "OTHER", {"content": "[Unsupported message]"}, True),
            ("BUYER", "TEXT", {"content": "Did you see my video?"}, True),
        ],
        [
            ("BUYER", "TEXT", {"content": "Hello?"}, True),
            (
                "ROBOT",
                "TEXT",
                {"content": "Thanks for your message! We reply within 24 hours."},
                True,
            ),
            ("SYSTEM", "NOTIFICATION", {"content": "Please rate this conversation"}, False),
            ("BUYER", "TEXT", {"content": f"Can I still cancel order {order_id}?"}, True),
        ],
        [
            (
                "BUYER",
                "BUYER_ENTER_FROM_TRANSFER",
                {"content": "Transferred from another agent"},
                True,
            ),
            ("BUYER", "TEXT", {"content": "I want to return my item, how do I do that?"}, True),
            (
                "SHOP",
                "TEXT",
                {"content": "Sorry to hear that! You can start a return from the order page."},
                True,
            ),
            ("SYSTEM", "NOTIFICATION", {"content": "The buyer has started a return request"}, True),
        ],
    ]
    if position < len(scripts):
        return scripts[position]
    return [
        ("BUYER", "TEXT", {"content": f"Hi, question about product {product_id}"}, True),
        ("BUYER", "TEXT", {"content": f"My order {order_id} — when will it ship?"}, True),
    ]


def seed_file(
    path: str | Path,
    *,
    seed: int = 1,
    orders_per_day: int = 40,
    days: int = 95,
    anchor: int | None = None,
) -> None:
    """Create and fill a data file; refuses to touch one that is already seeded."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = db.connect(path)
    try:
        db.create_schema(conn)
        if db.is_seeded(conn):
            return
        conn.execute("PRAGMA synchronous=OFF")
        with db.Transaction(conn):
            Seeder(conn, seed, orders_per_day, days, anchor or int(time.time())).run()
        conn.execute("PRAGMA synchronous=NORMAL")
    finally:
        conn.close()
