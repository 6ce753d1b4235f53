"""State changes TikTok announces with a webhook: each writes the change and queues the push.

Pushes go to the `outbox` table inside the same transaction; the live loop (one process) delivers
them, so a change and its webhook can never disagree, whichever web worker made the change.
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.model import (
    MESSAGE_COLUMNS,
    NEXT_STATUS,
    message_object,
    next_action,
    order_set_status,
)

_random = random.SystemRandom()

EVENT_TYPES = {
    1: "ORDER_STATUS_CHANGE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
}

BUYER_LINES = (
    "Hi, when will my order ship?",
    "Can I change the delivery address?",
    "Do you have this in a larger size?",
    "My parcel says delivered but I can't find it.",
    "Is there a discount if I buy two?",
    "Thank you, received it today!",
    "The colour is different from the picture.",
)
# The lines that fit the buyer's newest order (none of them: any line without a status here), so
# a live buyer never asks when a delivered order ships or thanks for one still in the warehouse.
_NOT_SHIPPED = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
)
BUYER_LINE_STATUSES: dict[str, tuple[str, ...]] = {
    "Hi, when will my order ship?": _NOT_SHIPPED,
    "Can I change the delivery address?": _NOT_SHIPPED,
    "My parcel says delivered but I can't find it.": ("DELIVERED",),
    "Thank you, received it today!": ("DELIVERED", "COMPLETED"),
    "The colour is different from the picture.": ("DELIVERED", "COMPLETED"),
}


def buyer_lines_for(order_status: str | None) -> list[str]:
    """What a buyer whose newest order has `order_status` may write (None: no order)."""
    return [
        line
        for line in BUYER_LINES
        if line not in BUYER_LINE_STATUSES or order_status in BUYER_LINE_STATUSES[line]
    ]


class NotFound(Exception):
    """The object does not exist in this shop."""


class Invalid(Exception):
    """The change is not allowed in the object's current state."""


def new_id(prefix: str) -> str:
    return prefix + str(_random.randrange(10 ** (18 - len(prefix)), 10 ** (19 - len(prefix))))


def enqueue_webhook(
    conn: sqlite3.Connection, shop_id: str, event_type: int, data: dict[str, Any]
) -> str:
    notification_id = new_id("73")
    conn.execute(
        "INSERT INTO outbox (shop_id, type, notification_id, body, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (shop_id, event_type, notification_id, orjson.dumps(data).decode(), time.time()),
    )
    return notification_id


def _next_index(conn: sqlite3.Connection) -> int:
    value = int(db.meta_get(conn, "next_index") or "7494560109732334000") + _random.randrange(3, 40)
    db.meta_set(conn, "next_index", str(value))
    return value


def insert_message(
    conn: sqlite3.Connection,
    *,
    shop_id: str,
    conversation_id: str,
    role: str,
    sender: tuple[str, str, str],
    mtype: str,
    content: str,
    is_visible: bool = True,
) -> dict[str, Any]:
    """Store a message, bump its conversation and queue NEW_MESSAGE (type 14)."""
    now = int(time.time())
    message_id = new_id("72")
    index = _next_index(conn)
    conn.execute(
        "INSERT INTO messages (id, conversation_id, idx, create_time, type, content, is_visible, "
        "role, im_user_id, nickname, avatar, read_by_seller) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            conversation_id,
            index,
            now,
            mtype,
            content,
            int(is_visible),
            role,
            *sender,
            int(role != "BUYER"),
        ),
    )
    conn.execute("UPDATE conversations SET update_time = ? WHERE id = ?", (now, conversation_id))
    # The type-14 sample's sender has only im_user_id and role.
    enqueue_webhook(
        conn,
        shop_id,
        14,
        {
            "content": content,
            "conversation_id": conversation_id,
            "create_time": now,
            "is_visible": is_visible,
            "message_id": message_id,
            "index": str(index),
            "type": mtype,
            "sender": {"im_user_id": sender[0], "role": role},
        },
    )
    row = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?",  # noqa: S608
        (message_id,),
    ).fetchone()
    return message_object(row)


def buyer_write(
    conn: sqlite3.Connection,
    *,
    shop_id: str,
    conversation_id: str | None = None,
    text: str | None = None,
    user_id: str | None = None,
    mtype: str = "TEXT",
    content: str | None = None,
) -> dict[str, Any]:
    """A buyer writes now: into `conversation_id`, or the conversation of `user_id` (created when
    missing, which pushes NEW_CONVERSATION), or a random buyer's conversation."""
    with db.Transaction(conn):
        return buyer_write_in(
            conn,
            shop_id=shop_id,
            conversation_id=conversation_id,
            text=text,
            user_id=user_id,
            mtype=mtype,
            content=content,
        )


def buyer_write_in(
    conn: sqlite3.Connection,
    *,
    shop_id: str,
    conversation_id: str | None,
    text: str | None,
    user_id: str | None,
    mtype: str = "TEXT",
    content: str | None = None,
) -> dict[str, Any]:
    """`buyer_write` inside the caller's transaction."""
    if conversation_id:
        row = conn.execute(
            "SELECT buyer_user_id FROM conversations WHERE id = ? AND shop_id = ?",
            (conversation_id, shop_id),
        ).fetchone()
        if row is None:
            raise NotFound("conversation")
        user_id = row[0]
    else:
        if user_id is None:
            rows = conn.execute(
                "SELECT buyer_user_id FROM conversations WHERE shop_id = ?", (shop_id,)
            ).fetchall()
            if not rows:
                rows = conn.execute(
                    "SELECT DISTINCT user_id FROM orders WHERE shop_id = ? LIMIT 50", (shop_id,)
                ).fetchall()
            if not rows:
                raise NotFound("buyer")
            user_id = _random.choice(rows)[0]
        conversation_id = conversation_for_buyer(conn, shop_id, user_id, push=True)
    buyer = conn.execute(
        "SELECT im_user_id, nickname, avatar FROM buyers WHERE shop_id = ? AND user_id = ?",
        (shop_id, user_id),
    ).fetchone()
    if buyer is None:
        raise NotFound("buyer")
    if content is None:
        if not text:
            newest = conn.execute(
                "SELECT status FROM orders WHERE shop_id = ? AND user_id = ? "
                "ORDER BY create_time DESC LIMIT 1",
                (shop_id, user_id),
            ).fetchone()
            text = _random.choice(buyer_lines_for(newest[0] if newest else None))
        content = orjson.dumps({"content": text}).decode()
    message = insert_message(
        conn,
        shop_id=shop_id,
        conversation_id=conversation_id,
        role="BUYER",
        sender=tuple(buyer),
        mtype=mtype,
        content=content,
    )
    message["conversation_id"] = conversation_id
    return message


def conversation_for_buyer(
    conn: sqlite3.Connection, shop_id: str, user_id: str, *, push: bool
) -> str:
    """The buyer's conversation with the shop: the existing one, else a new one."""
    row = conn.execute(
        "SELECT id FROM conversations WHERE shop_id = ? AND buyer_user_id = ?", (shop_id, user_id)
    ).fetchone()
    if row:
        return row[0]
    conversation_id = new_id("71")
    now = int(time.time())
    conn.execute(
        "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
        (conversation_id, shop_id, user_id, now, now),
    )
    if push:
        enqueue_webhook(conn, shop_id, 13, {"conversation_id": conversation_id, "create_time": now})
    return conversation_id


def order_advance(
    conn: sqlite3.Connection, order_id: str, shop_id: str | None = None
) -> dict[str, Any]:
    """Move an order to its next status and push ORDER_STATUS_CHANGE (type 1)."""
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT shop_id, body, address FROM orders WHERE id = ?", (order_id,)
        ).fetchone()
        if row is None or (shop_id and row[0] != shop_id):
            raise NotFound("order")
        order = orjson.loads(row[1])
        next_status = NEXT_STATUS.get(order["status"])
        if next_status is None:
            raise Invalid(f"order is {order['status']}: no next status")
        now = max(int(time.time()), order["update_time"] + 1)
        order_set_status(order, next_status, now, orjson.loads(row[2]))
        conn.execute(
            "UPDATE orders SET status = ?, update_time = ?, body = ? WHERE id = ?",
            (next_status, now, orjson.dumps(order).decode(), order_id),
        )
        bump_orders_version(conn)
        enqueue_webhook(
            conn,
            row[0],
            1,
            {
                "order_id": order_id,
                "order_status": order["status"],
                "is_on_hold_order": order["is_on_hold_order"],
                "update_time": now,
            },
        )
    return order


def bump_orders_version(conn: sqlite3.Connection) -> None:
    """Invalidates the web workers' cached `total_count`s."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('orders_version', '1') ON CONFLICT (key) "
        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


_CANCELLATION_NEXT = {
    "CANCELLATION_REQUEST_PENDING": "CANCELLATION_REQUEST_SUCCESS",
    "CANCELLATION_REQUEST_SUCCESS": "CANCELLATION_REQUEST_COMPLETE",
}
_RETURN_NEXT = {
    "RETURN_OR_REFUND_REQUEST_PENDING": "AWAITING_BUYER_SHIP",
    "AWAITING_BUYER_SHIP": "BUYER_SHIPPED_ITEM",
    "BUYER_SHIPPED_ITEM": "RETURN_OR_REFUND_REQUEST_SUCCESS",
    "RETURN_OR_REFUND_REQUEST_SUCCESS": "RETURN_OR_REFUND_REQUEST_COMPLETE",
}


def cancellation_advance(conn: sqlite3.Connection, cancel_id: str) -> dict[str, Any]:
    """Pending -> success -> complete; completing cancels the order (type 11, then type 1)."""
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT shop_id, body FROM cancellations WHERE id = ?", (cancel_id,)
        ).fetchone()
        if row is None:
            raise NotFound("cancellation")
        body = orjson.loads(row[1])
        next_status = _CANCELLATION_NEXT.get(body["cancel_status"])
        if next_status is None:
            raise Invalid(f"cancellation is {body['cancel_status']}")
        now = int(time.time())
        body.update(cancel_status=next_status, update_time=now, seller_next_action_response=[])
        conn.execute(
            "UPDATE cancellations SET status = ?, update_time = ?, body = ? WHERE id = ?",
            (next_status, now, orjson.dumps(body).decode(), cancel_id),
        )
        enqueue_webhook(
            conn,
            row[0],
            11,
            {
                "order_id": body["order_id"],
                "cancellations_role": body["role"],
                "cancel_status": next_status,
                "cancel_id": cancel_id,
                "create_time": body["create_time"],
            },
        )
        if next_status == "CANCELLATION_REQUEST_COMPLETE":
            order_row = conn.execute(
                "SELECT body, address FROM orders WHERE id = ?", (body["order_id"],)
            ).fetchone()
            order = orjson.loads(order_row[0])
            if order["status"] != "CANCELLED":
                order["cancellation_initiator"] = body["role"]
                order["cancel_reason"] = body["cancel_reason"]
                order_set_status(order, "CANCELLED", now, orjson.loads(order_row[1]))
                conn.execute(
                    "UPDATE orders SET status = ?, update_time = ?, body = ? WHERE id = ?",
                    ("CANCELLED", now, orjson.dumps(order).decode(), body["order_id"]),
                )
                bump_orders_version(conn)
                # The type-1 webhook page enumerates CANCEL (not CANCELLED): emit the webhook's
                # documented spelling there, the API's in the order object.
                enqueue_webhook(
                    conn,
                    row[0],
                    1,
                    {
                        "order_id": body["order_id"],
                        "order_status": "CANCEL",
                        "is_on_hold_order": False,
                        "update_time": now,
                    },
                )
    return body


def return_advance(conn: sqlite3.Connection, return_id: str) -> dict[str, Any]:
    """Move a return along the happy path and push RETURN_STATUS_CHANGE (type 12)."""
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT shop_id, body FROM returns WHERE id = ?", (return_id,)
        ).fetchone()
        if row is None:
            raise NotFound("return")
        body = orjson.loads(row[1])
        next_status = _RETURN_NEXT.get(body["return_status"])
        if next_status is None:
            raise Invalid(f"return is {body['return_status']}")
        now = int(time.time())
        body.update(return_status=next_status, update_time=now)
        body["seller_next_action_response"] = next_action(body, now + 2 * 86400)
        conn.execute(
            "UPDATE returns SET status = ?, update_time = ?, body = ? WHERE id = ?",
            (next_status, now, orjson.dumps(body).decode(), return_id),
        )
        enqueue_webhook(
            conn,
            row[0],
            12,
            {
                "order_id": body["order_id"],
                "return_role": body["role"],
                "return_type": body["return_type"],
                "return_status": next_status,
                "return_id": return_id,
                "create_time": body["create_time"],
                "update_time": now,
            },
        )
    return body


def shop_deauthorize(conn: sqlite3.Connection, shop_id: str) -> None:
    with db.Transaction(conn):
        if conn.execute("UPDATE shops SET authorized = 0 WHERE id = ?", (shop_id,)).rowcount == 0:
            raise NotFound("shop")
        enqueue_webhook(
            conn,
            shop_id,
            6,
            {"message": f"Shop_id {shop_id} is deauthorized from your APP by merchant."},
        )


def shop_authorization_expiring(conn: sqlite3.Connection, shop_id: str, days: int = 30) -> None:
    with db.Transaction(conn):
        expires = int(time.time()) + days * 86400
        if (
            conn.execute(
                "UPDATE shops SET authorization_expire_time = ? WHERE id = ?", (expires, shop_id)
            ).rowcount
            == 0
        ):
            raise NotFound("shop")
        enqueue_webhook(
            conn,
            shop_id,
            7,
            {
                "message": f"Authorization of shop_id {shop_id} is expiring in {days} days. "
                "Please direct the merchant to re-authorize.",
                "expiration_time": str(expires),
            },
        )


PRODUCT_CHANGES = ("title", "status", "quantity", "sale_price")


def product_update(
    conn: sqlite3.Connection, product_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change a product (title, status, every SKU's quantity or sale price) and announce it:
    PRODUCT_STATUS_CHANGE (type 5) for a status, else PRODUCT_INFORMATION_CHANGE (type 15).

    Type 15's data is not documented (§8.3 lists no fields): the sandbox sends type 5's
    `product_id` and `update_time`.
    """
    unknown = set(changes) - set(PRODUCT_CHANGES)
    if unknown:
        raise Invalid(f"unknown product change {sorted(unknown)}")
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT shop_id, summary, detail FROM products WHERE id = ?", (product_id,)
        ).fetchone()
        if row is None:
            raise NotFound("product")
        summary, detail = orjson.loads(row[1]), orjson.loads(row[2])
        now = max(int(time.time()), detail["update_time"] + 1)
        for body in (summary, detail):
            body["update_time"] = now
            for key in ("title", "status"):
                if key in changes:
                    body[key] = changes[key]
            if "status" in changes and "product_status" in body:
                body["product_status"] = changes["status"]
            for sku in body["skus"]:
                if "quantity" in changes:
                    for level in sku["inventory"]:
                        level["quantity"] = int(changes["quantity"])
                if "sale_price" in changes:
                    sku["price"]["sale_price"] = str(changes["sale_price"])
        conn.execute(
            "UPDATE products SET status = ?, update_time = ?, summary = ?, detail = ? WHERE id = ?",
            (
                detail["status"],
                now,
                orjson.dumps(summary).decode(),
                orjson.dumps(detail).decode(),
                product_id,
            ),
        )
        if "status" in changes:
            enqueue_webhook(
                conn,
                row[0],
                5,
                {
                    "product_id": product_id,
                    "status": changes["status"],
                    "suspended_reason": "",
                    "update_time": now,
                },
            )
        else:
            enqueue_webhook(conn, row[0], 15, {"product_id": product_id, "update_time": now})
    return detail
