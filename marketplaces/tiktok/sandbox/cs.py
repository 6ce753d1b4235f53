"""Customer service endpoints (§6): conversations, messages, send, read, upload, settings."""

from __future__ import annotations

import email.parser
import email.policy
import sqlite3
from typing import TYPE_CHECKING, Any

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.aftersale import sku_allows_after_sale
from marketplaces.tiktok.sandbox.app import OPTIONAL, ApiError, Request, Response, envelope, invalid
from marketplaces.tiktok.sandbox.events import conversation_for_buyer, insert_message, new_id
from marketplaces.tiktok.sandbox.images import inspect_image
from marketplaces.tiktok.sandbox.model import (
    BASE_MARKER,
    MESSAGE_COLUMNS,
    message_object,
    stable_digits,
)

if TYPE_CHECKING:
    from marketplaces.tiktok.sandbox.app import SandboxApp

RECORD_NOT_FOUND = 45101003  # from the Read Message guide (samples README)
CRITERIA_NOT_MET = 45109003
# UNVERIFIED (the contract names no codes for these §6.2 refusals): the sandbox's own.
COUPON_NOT_SENDABLE = 45109011
NOT_AFTER_SALE_ELIGIBLE = 45109012
FILE_TOO_LARGE = 36009021
WRONG_CONTENT_TYPE = 36009023
# The sheet's image limit is UNVERIFIED; the upload guide says 10 MB (samples README).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
TEXT_LIMIT = 2000
UNSUPPORTED_TIPS = (
    "This message type is not supported. Please view it in TikTok Shop Seller Center."
)


def _page_size(request: Request, high: int) -> int:
    raw = request.query.get("page_size")
    if not raw:
        raise invalid("`page_size` is required.")
    try:
        value = int(raw)
    except ValueError:
        raise invalid("`page_size` must be an integer.") from None
    if not 1 <= value <= high:
        raise invalid(f"`page_size` must be between 1 and {high}.")
    return value


def own_conversation(request: Request, conversation_id: str) -> tuple[Any, ...]:
    row = request.conn.execute(
        "SELECT id, buyer_user_id, create_time FROM conversations WHERE id = ? AND shop_id = ?",
        (conversation_id, request.shop_id),
    ).fetchone()
    if row is None:
        raise ApiError(RECORD_NOT_FOUND, "Record not found.")
    return row


def conversation_object(
    conn: sqlite3.Connection, shop: tuple[Any, ...], row: tuple[Any, ...]
) -> dict[str, Any]:
    conversation_id, buyer_user_id, create_time = row[0], row[1], row[2]
    buyer = conn.execute(
        "SELECT im_user_id, nickname, avatar FROM buyers WHERE shop_id = ? AND user_id = ?",
        (shop[0], buyer_user_id),
    ).fetchone()
    latest = conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? "  # noqa: S608
        "ORDER BY idx DESC LIMIT 1",
        (conversation_id,),
    ).fetchone()
    unread = conn.execute(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND "
        "role = 'BUYER' AND read_by_seller = 0",
        (conversation_id,),
    ).fetchone()[0]
    participants = [
        {
            "im_user_id": buyer[0],
            "user_id": buyer_user_id,
            "role": "BUYER",
            "nickname": buyer[1],
            "avatar": buyer[2],
        },
        {
            "im_user_id": shop[4],
            "user_id": "",
            "role": "SHOP",
            "nickname": shop[5],
            "avatar": shop[6],
        },
    ]
    serving = conn.execute(
        "SELECT 1 FROM messages WHERE conversation_id = ? AND type = 'ALLOCATED_SERVICE' LIMIT 1",
        (conversation_id,),
    ).fetchone()
    if serving:
        # An agent joined (ALLOCATED_SERVICE): a third participant is serving (§6.4).
        participants.append(
            {
                "im_user_id": "68" + stable_digits(conversation_id + "agent", 17),
                "user_id": "",
                "role": "CUSTOMER_SERVICE",
                "nickname": "Agent Mia",
                "avatar": shop[6],
            }
        )
    return {
        "id": conversation_id,
        "participant_count": len(participants),
        "can_send_message": True,
        "unread_count": unread,
        "create_time": create_time,
        "participants": participants,
        "latest_message": message_object(latest) if latest else {},
    }


def conversations(request: Request) -> Response:
    size = _page_size(request, 20)
    conn = request.conn
    offset = _offset(request)
    rows = conn.execute(
        "SELECT id, buyer_user_id, create_time FROM conversations WHERE shop_id = ? "
        "ORDER BY update_time DESC, id DESC LIMIT ? OFFSET ?",
        (request.shop_id, size + 1, offset),
    ).fetchall()
    next_token = _token(offset + size) if len(rows) > size else ""
    assert request.shop is not None
    items = [conversation_object(conn, request.shop, row) for row in rows[:size]]
    return envelope({"conversations": items, "next_page_token": next_token})


def _offset(request: Request) -> int:
    from marketplaces.tiktok.sandbox.api import decode_token

    cursor = decode_token(request, 1)
    if cursor is None:
        return 0
    if not cursor[0].isdigit():
        raise invalid("`page_token` is invalid.")
    return int(cursor[0])


def _token(*parts: object) -> str:
    from marketplaces.tiktok.sandbox.api import encode_token

    return encode_token(*parts)


def messages(request: Request) -> Response:
    """Keyset pages on `index` (create_time grows with it); does NOT mark anything read (§6.1)."""
    size = _page_size(request, 10)
    order = request.query.get("sort_order", "DESC") or "DESC"
    field = request.query.get("sort_field", "create_time") or "create_time"
    if order not in ("ASC", "DESC") or field not in ("create_time", "index"):
        raise invalid("`sort_order` must be ASC or DESC and `sort_field` create_time or index.")
    conversation = own_conversation(request, request.params["conversation_id"])
    from marketplaces.tiktok.sandbox.api import decode_token

    cursor = decode_token(request, 1)
    where, args = "conversation_id = ?", [conversation[0]]
    if cursor is not None:
        if not cursor[0].isdigit():
            raise invalid("`page_token` is invalid.")
        where += " AND idx < ?" if order == "DESC" else " AND idx > ?"
        args.append(int(cursor[0]))
    rows = request.conn.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {where} ORDER BY idx {order} LIMIT ?",  # noqa: S608
        [*args, size + 1],
    ).fetchall()
    next_token = _token(rows[size - 1][1]) if len(rows) > size else ""
    return envelope(
        {
            "messages": [message_object(row) for row in rows[:size]],
            "next_page_token": next_token,
            "unsupported_msg_tips": UNSUPPORTED_TIPS,
        }
    )


def _content_fields(content: dict[str, Any], required: dict[str, type | tuple[type, ...]]) -> None:
    for key, kind in required.items():
        value = content.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, kind) or value == "":
            raise invalid(f"`content.{key}` is required for this message type.")


def validate_send(
    request: Request, conversation: tuple[Any, ...], mtype: str, content: dict[str, Any]
) -> None:
    """Shapes of §6.2; cards must point at this shop's objects."""
    conn = request.conn
    shop_id = request.shop_id
    if mtype == "TEXT":
        _content_fields(content, {"content": str})
        if len(content["content"]) > TEXT_LIMIT:
            raise invalid(f"TEXT content is limited to {TEXT_LIMIT} characters.")
    elif mtype == "IMAGE":
        _content_fields(content, {"url": str, "width": int, "height": int})
    elif mtype == "VIDEO":
        _content_fields(content, {"vid": str})
    elif mtype == "PRODUCT_CARD":
        _content_fields(content, {"product_id": str})
        if not conn.execute(
            "SELECT 1 FROM products WHERE id = ? AND shop_id = ?", (content["product_id"], shop_id)
        ).fetchone():
            raise invalid("The product does not exist in this shop.")
    elif mtype in ("ORDER_CARD", "LOGISTICS_CARD", "RETURN_REFUND_CARD"):
        _content_fields(
            content, {"order_id": str, **({"sku_id": str} if mtype == "RETURN_REFUND_CARD" else {})}
        )
        row = conn.execute(
            "SELECT body FROM orders WHERE id = ? AND shop_id = ?", (content["order_id"], shop_id)
        ).fetchone()
        if row is None:
            raise invalid("The order does not exist in this shop.")
        order = orjson.loads(row[0])
        if mtype == "RETURN_REFUND_CARD":
            if content["sku_id"] not in {line["sku_id"] for line in order["line_items"]}:
                raise invalid("The SKU is not part of the order.")
            if not sku_allows_after_sale(conn, order, content["sku_id"]):
                raise ApiError(
                    NOT_AFTER_SALE_ELIGIBLE,
                    "The order is not eligible for after-sale service for this SKU.",
                )
        if (
            mtype == "LOGISTICS_CARD"
            and content.get("package_id")
            and content["package_id"]
            not in {package["id"] for package in order.get("packages", [])}
        ):
            raise invalid("The package is not part of the order.")
    elif mtype == "COUPON_CARD":
        _content_fields(content, {"coupon_id": str})
        row = conn.execute(
            "SELECT body FROM coupons WHERE id = ? AND shop_id = ?", (content["coupon_id"], shop_id)
        ).fetchone()
        if row is None:
            raise invalid("The coupon does not exist in this shop.")
        coupon = orjson.loads(row[0])
        if (
            coupon["display_type"] not in ("CHAT", "REGULAR")
            or coupon["status"] != "ONGOING"
            or coupon["creation_source"] != "SELLER_CENTER"
            or coupon["target_buyer_segment"] == "REPEAT_CUSTOMERS"
        ):
            raise ApiError(
                COUPON_NOT_SENDABLE,
                "This coupon cannot be sent in chat: it must have display type CHAT or REGULAR, "
                "status ONGOING, be created in Seller Center and not target repeat customers.",
            )
    else:
        raise invalid(
            "`type` must be one of TEXT, IMAGE, VIDEO, PRODUCT_CARD, ORDER_CARD, "
            "RETURN_REFUND_CARD, COUPON_CARD, LOGISTICS_CARD."
        )


def send_message(request: Request) -> Response:
    conversation = own_conversation(request, request.params["conversation_id"])
    body = request.json()
    mtype = body.get("type")
    raw_content = body.get("content")
    if not isinstance(mtype, str):
        raise invalid("`type` is required.")
    # §6.2: content is a JSON-serialised STRING, not an object.
    if not isinstance(raw_content, str):
        raise invalid("`content` must be a JSON string.")
    try:
        content = orjson.loads(raw_content)
    except orjson.JSONDecodeError:
        raise invalid("`content` is not valid JSON.") from None
    if not isinstance(content, dict):
        raise invalid("`content` must encode a JSON object.")
    validate_send(request, conversation, mtype, content)
    conn = request.conn
    shop = request.shop
    assert shop is not None
    with db.Transaction(conn):
        message = insert_message(
            conn,
            shop_id=shop[0],
            conversation_id=conversation[0],
            role="SHOP",
            sender=(shop[4], shop[5], shop[6]),
            mtype=mtype,
            content=raw_content,
        )
    return envelope({"message_id": message["id"]})


def read_messages(request: Request) -> Response:
    conversation = own_conversation(request, request.params["conversation_id"])
    conn = request.conn
    with db.Transaction(conn):
        conn.execute(
            "UPDATE messages SET read_by_seller = 1 WHERE conversation_id = ? "
            "AND read_by_seller = 0",
            (conversation[0],),
        )
    return envelope({})


def create_conversation(request: Request) -> Response:
    buyer_user_id = request.json().get("buyer_user_id")
    if not isinstance(buyer_user_id, str) or not buyer_user_id:
        raise invalid("`buyer_user_id` is required.")
    conn = request.conn
    # §6.5: a seller may start a chat only with a buyer who ordered (or chatted) recently; the
    # sandbox accepts any buyer it knows in this shop.
    if not conn.execute(
        "SELECT 1 FROM buyers WHERE shop_id = ? AND user_id = ?", (request.shop_id, buyer_user_id)
    ).fetchone():
        raise ApiError(
            CRITERIA_NOT_MET,
            "Criteria not met: the buyer has no recent order or conversation with this shop.",
        )
    with db.Transaction(conn):
        conversation_id = conversation_for_buyer(conn, request.shop_id, buyer_user_id, push=False)
    return envelope({"conversation_id": conversation_id})


def parse_multipart(request: Request) -> dict[str, tuple[bytes, str]]:
    """{field: (bytes, filename)} of a multipart/form-data body."""
    content_type = request.headers.get("content-type", "")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + request.body
    )
    fields: dict[str, tuple[bytes, str]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_payload(decode=True) or b"", part.get_filename() or "")
    return fields


def store_image(conn: sqlite3.Connection, data: bytes) -> dict[str, Any]:
    """Keep an uploaded image and return its (served) url, width and height."""
    inspected = inspect_image(data)
    if inspected is None:
        raise invalid("The file must be a JPEG, PNG, GIF or WEBP image.")
    content_type, width, height = inspected
    image_id = new_id("9")
    extension = content_type.split("/")[1].replace("jpeg", "jpg")
    with db.Transaction(conn):
        conn.execute(
            "INSERT INTO images VALUES (?, ?, ?, ?, ?)",
            (image_id, content_type, width, height, data),
        )
    return {
        "url": f"{BASE_MARKER}/_sandbox/images/{image_id}.{extension}",
        "width": width,
        "height": height,
    }


def upload_image(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(
            WRONG_CONTENT_TYPE,
            "Invalid request format. The value of the "
            "`content-type` header must be `multipart/form-data`.",
            415,
        )
    if len(request.body) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise ApiError(
            FILE_TOO_LARGE,
            "Invalid file size. The uploaded file size exceeds the maximum limit.",
            413,
        )
    fields = parse_multipart(request)
    if "data" not in fields:
        raise invalid("The image file must be sent in the multipart field `data`.")
    data = fields["data"][0]
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(
            FILE_TOO_LARGE,
            "Invalid file size. The uploaded file size exceeds the maximum limit.",
            413,
        )
    return envelope(store_image(request.conn, data))


def agent_settings_get(request: Request) -> Response:
    row = request.conn.execute(
        "SELECT can_accept_chat FROM shops WHERE id = ?", (request.shop_id,)
    ).fetchone()
    return envelope({"can_accept_chat": bool(row[0])})


def agent_settings_put(request: Request) -> Response:
    value = request.json().get("can_accept_chat")
    if not isinstance(value, bool):
        raise invalid("`can_accept_chat` must be a boolean.")
    conn = request.conn
    with db.Transaction(conn):
        conn.execute(
            "UPDATE shops SET can_accept_chat = ? WHERE id = ?", (int(value), request.shop_id)
        )
    return envelope({})


def register(app: SandboxApp) -> None:
    base = "/customer_service/202309"
    app.add("GET", f"{base}/conversations", conversations)
    app.add("POST", f"{base}/conversations", create_conversation)
    app.add("GET", f"{base}/conversations/{{conversation_id}}/messages", messages)
    app.add("POST", f"{base}/conversations/{{conversation_id}}/messages", send_message)
    app.add("POST", f"{base}/conversations/{{conversation_id}}/messages/read", read_messages)
    # The sheet leaves shop_cipher off "images/upload" (an SDK's path regex that also matches this
    # path) while the endpoint is shop-scoped: the sandbox accepts it with or without.
    app.add("POST", f"{base}/images/upload", upload_image, cipher=OPTIONAL)
    app.add("GET", f"{base}/agents/settings", agent_settings_get)
    app.add("PUT", f"{base}/agents/settings", agent_settings_put)
