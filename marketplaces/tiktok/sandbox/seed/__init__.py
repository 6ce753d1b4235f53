"""Deterministic seed: the same --seed gives the same sellers, shops, ids, orders and chats.

Timestamps are laid out backwards from the moment of seeding (stored as `anchor`), so a fresh file
always holds the last N days. Bulk inserts of pre-serialised JSON keep 90 days x 1,000 orders/day
within a couple of minutes on a small machine.
"""

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.images import generated_png
from marketplaces.tiktok.sandbox.model import BASE_MARKER, money
from marketplaces.tiktok.sandbox.seed.catalog import (
    COLORS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    SELLERS,
    conversation_script,
    script_order_statuses,
)
from marketplaces.tiktok.sandbox.seed.ids import Ids, stable_id
from marketplaces.tiktok.sandbox.seed.orders import OrderSeeding


class Seeder(OrderSeeding):
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
        self.seed_unsendable_coupons()

    def seed_unsendable_coupons(self) -> None:
        """Two more coupons per shop that §6.2 forbids as cards for its other two reasons (a
        repeat-customer target, a coupon not created in Seller Center). Drawn from their own
        generator after everything else, so the rest of the seed keeps its ids."""
        ids = Ids(random.Random(f"{self.seed}-coupons"))
        rows = []
        for shop_id, currency in self.conn.execute(
            "SELECT id, currency FROM shops ORDER BY rowid"
        ).fetchall():
            for title, segment, source in (
                ("Welcome back 15% off", "REPEAT_CUSTOMERS", "SELLER_CENTER"),
                ("Partner app coupon", "ALL_BUYERS", "OPEN_API"),
            ):
                coupon_id = ids.make("72", 19)
                body = {
                    "id": coupon_id,
                    "title": title,
                    "display_type": "CHAT",
                    "status": "ONGOING",
                    "claim_duration": {
                        "start_time": self.anchor - 5 * 86400,
                        "end_time": self.anchor + 30 * 86400,
                    },
                    "redemption_duration": {
                        "start_time": self.anchor - 5 * 86400,
                        "end_time": self.anchor + 37 * 86400,
                    },
                    "target_buyer_segment": segment,
                    "usage_limits": {"per_buyer": 1, "total": 500},
                    "discount": {
                        "type": "FIXED_DISCOUNT",
                        "reduction_amount": {"amount": "3.00", "currency": currency},
                    },
                    "threshold": {
                        "type": "MINIMUM_SPEND",
                        "min_spend": {"amount": "15.00", "currency": currency},
                    },
                    "product_scope": "ALL_PRODUCTS",
                    "creation_source": source,
                    "promo_code": "",
                }
                rows.append(
                    (coupon_id, shop_id, "ONGOING", "CHAT", title, orjson.dumps(body).decode())
                )
        self.conn.executemany("INSERT INTO coupons VALUES (?, ?, ?, ?, ?, ?)", rows)

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
        chatty = with_orders[:12]  # how many chat (each script goes to a buyer it fits)
        index = int(db.meta_get(self.conn, "next_index") or 0)
        shop_im, shop_name, shop_avatar = shop
        conversation_rows = []
        message_rows = []
        photo = self.image("Damaged parcel", (304, 290))
        waiting = list(with_orders)
        for position in range(len(chatty)):
            buyer, order = _buyer_for_script(waiting, orders_by_buyer, position)
            product_id = order["line_items"][0]["product_id"]
            conversation_id = self.ids.make("71", 19)
            start = self.anchor - (len(chatty) - position) * 5400 - rng.randrange(0, 3600)
            script = conversation_script(
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


def _buyer_for_script(
    waiting: list[dict[str, str]],
    orders_by_buyer: dict[str, list[dict[str, Any]]],
    position: int,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The first buyer still waiting who has an order the script fits, and their newest such
    order; taken off `waiting`. With no such buyer (a tiny seed), the first one and their newest
    order."""
    fits = script_order_statuses(position)
    for buyer in waiting:
        own = orders_by_buyer[buyer["user_id"]]
        fitting = [order for order in own if fits is None or order["status"] in fits]
        if fitting:
            waiting.remove(buyer)
            return buyer, fitting[-1]
    buyer = waiting.pop(0)
    return buyer, orders_by_buyer[buyer["user_id"]][-1]


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
