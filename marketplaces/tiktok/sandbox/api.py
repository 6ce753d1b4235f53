"""Open API endpoints of the contract (§1.5, §4, §5, §7, §8.1) over the sandbox's SQLite state.

Customer service (§6) lives in `cs.py`, tokens (§1.2-1.3) in `pages.py` next to the consent page.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from typing import TYPE_CHECKING, Any

import orjson

from marketplaces.tiktok.sandbox import aftersale, cs, db
from marketplaces.tiktok.sandbox.app import (
    REFUSED,
    ApiError,
    Request,
    Response,
    envelope,
    invalid,
)
from marketplaces.tiktok.sandbox.events import EVENT_TYPES
from marketplaces.tiktok.sandbox.model import ORDER_STATUSES, tracking_events

if TYPE_CHECKING:
    from marketplaces.tiktok.sandbox.app import SandboxApp

MAX_DETAIL_IDS = 50
NOT_SELLERS_ORDER = 21008111
PRODUCT_NOT_FOUND = 12019150
SEARCH_CAP = 10000


# ---------------------------------------------------------------- parameters and page tokens


def page_size(request: Request, low: int, high: int, default: int | None) -> int:
    raw = request.query.get("page_size")
    if raw is None or raw == "":
        if default is None:
            raise invalid("`page_size` is required.")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid("`page_size` must be an integer.") from None
    if not low <= value <= high:
        raise invalid(f"`page_size` must be between {low} and {high}.")
    return value


def sort_order(request: Request, default: str) -> str:
    value = request.query.get("sort_order", default) or default
    if value not in ("ASC", "DESC"):
        raise invalid("`sort_order` must be ASC or DESC.")
    return value


def sort_field(request: Request, allowed: tuple[str, ...]) -> str:
    value = request.query.get("sort_field", allowed[0]) or allowed[0]
    if value not in allowed:
        raise invalid(f"`sort_field` must be one of {', '.join(allowed)}.")
    return value


def encode_token(*parts: object) -> str:
    """Opaque standard base64 (with `+`, `/`, `=`), like TikTok's, so clients must encode it."""
    return base64.b64encode(("\x1f".join(str(p) for p in parts) + "\x1fsandbox").encode()).decode()


def decode_token(request: Request, count: int) -> list[str] | None:
    token = request.query.get("page_token")
    if not token:
        return None
    try:
        parts = base64.b64decode(token.encode(), validate=True).decode().split("\x1f")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid("`page_token` is invalid.") from None
    if len(parts) != count + 1 or parts[-1] != "sandbox":
        raise invalid("`page_token` is invalid.")
    return parts[:-1]


def body_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"`{key}` must be a Unix timestamp (integer seconds).")
    return value


def body_list(body: dict[str, Any], key: str, limit: int = 100) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(f"`{key}` must be a list of strings.")
    if len(value) > limit:
        raise invalid(f"`{key}` accepts at most {limit} values.")
    return value


def time_filters(
    body: dict[str, Any], where: list[str], args: list[Any], upper: str = "lt"
) -> None:
    """create/update_time_ge (inclusive) and _lt (exclusive); products use _le."""
    operators = {"ge": ">=", "lt": "<", "le": "<="}
    for column in ("create_time", "update_time"):
        for suffix in ("ge", upper):
            value = body_int(body, f"{column}_{suffix}")
            if value is not None:
                where.append(f"{column} {operators[suffix]} ?")
                args.append(value)


def in_filter(column: str, values: list[str] | None, where: list[str], args: list[Any]) -> None:
    if values:
        where.append(f"{column} IN ({', '.join('?' * len(values))})")
        args.extend(values)


def joined(items: list[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def chunks(items: list[bytes]) -> list[bytes]:
    """A JSON array as byte chunks, for a response joined once at the end."""
    parts = [b"["]
    for position, item in enumerate(items):
        if position:
            parts.append(b",")
        parts.append(item)
    parts.append(b"]")
    return parts


# ---------------------------------------------------------------- authorization, seller


def authorized_shops(request: Request) -> Response:
    rows = request.conn.execute(
        "SELECT id, name, region, seller_type, cipher, code FROM shops "
        "WHERE seller_id = ? AND authorized = 1 ORDER BY rowid",
        (request.seller_id,),
    ).fetchall()
    shops = [
        {
            "id": r[0],
            "name": r[1],
            "region": r[2],
            "seller_type": r[3],
            "cipher": r[4],
            "code": r[5],
        }
        for r in rows
    ]
    return envelope({"shops": shops})


def active_shops(request: Request) -> Response:
    rows = request.conn.execute(
        "SELECT id, region FROM shops WHERE seller_id = ? AND authorized = 1 ORDER BY rowid",
        (request.seller_id,),
    ).fetchall()
    return envelope({"shops": [{"id": r[0], "region": r[1]} for r in rows]})


# ---------------------------------------------------------------- orders


class _CountCache:
    """total_count per filter, valid while no order changes (meta `orders_version`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = ""
        self.counts: dict[tuple[Any, ...], int] = {}

    def get(self, request: Request, where_sql: str, args: list[Any]) -> int:
        conn = request.conn
        version = db.meta_get(conn, "orders_version") or "0"
        key = (where_sql, *args)
        with self.lock:
            if version != self.version:
                self.version, self.counts = version, {}
            if key in self.counts:
                return self.counts[key]
        count = conn.execute(
            f"SELECT COUNT(*) FROM orders WHERE {where_sql}",  # noqa: S608
            args,
        ).fetchone()[0]
        with self.lock:
            if len(self.counts) > 2000:
                self.counts.clear()
            self.counts[key] = count
        return count


_order_counts = _CountCache()


def orders_search(request: Request) -> Response:
    size = page_size(request, 1, 100, None)
    field = sort_field(request, ("create_time", "update_time"))
    order = sort_order(request, "DESC")
    body = request.json()
    where = ["shop_id = ?"]
    args: list[Any] = [request.shop_id]
    time_filters(body, where, args)
    status = body.get("order_status")
    if status is not None:
        if status not in ORDER_STATUSES:
            raise invalid("`order_status` is not a valid order status.")
        where.append("status = ?")
        args.append(status)
    if body.get("buyer_user_id") is not None:
        where.append("user_id = ?")
        args.append(str(body["buyer_user_id"]))
    if body.get("shipping_type") is not None:
        where.append("json_extract(body, '$.shipping_type') = ?")
        args.append(str(body["shipping_type"]))
    if body.get("is_buyer_request_cancel") is not None:
        where.append("json_extract(body, '$.is_buyer_request_cancel') = ?")
        args.append(1 if body["is_buyer_request_cancel"] else 0)
    where_sql = " AND ".join(where)
    total = _order_counts.get(request, where_sql, args)
    cursor = decode_token(request, 2)
    page_where, page_args = where_sql, list(args)
    comparison = "<" if order == "DESC" else ">"
    if cursor is not None:
        page_where += f" AND ({field}, id) {comparison} (?, ?)"
        try:
            page_args += [int(cursor[0]), cursor[1]]
        except ValueError:
            raise invalid("`page_token` is invalid.") from None
    rows = request.conn.execute(
        f"SELECT CAST(body AS BLOB), {field}, id FROM orders WHERE {page_where} "  # noqa: S608
        f"ORDER BY {field} {order}, id {order} LIMIT ?",
        [*page_args, size + 1],
    ).fetchall()
    next_token = ""
    if len(rows) > size:
        rows = rows[:size]
        next_token = encode_token(rows[-1][1], rows[-1][2])
    head = b'{"next_page_token":"%s","total_count":%d,"orders":' % (next_token.encode(), total)
    data = [head, *chunks([r[0] for r in rows]), b"}"]
    return envelope(data)


def orders_detail(request: Request) -> Response:
    raw = request.query.get("ids", "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid("`ids` is required.")
    if len(ids) > MAX_DETAIL_IDS:
        raise invalid(f"`ids` accepts at most {MAX_DETAIL_IDS} order ids.")
    marks = ", ".join("?" * len(ids))
    rows = request.conn.execute(
        f"SELECT id, shop_id, CAST(body AS BLOB) FROM orders WHERE id IN ({marks})",  # noqa: S608
        ids,
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    for row in rows:
        if row[1] != request.shop_id:
            raise ApiError(
                NOT_SELLERS_ORDER, "The order or package does not belong to the current seller."
            )
    # Unknown ids are left out; the order of `ids` is kept.
    return envelope(b'{"orders":' + joined([by_id[i][2] for i in ids if i in by_id]) + b"}")


def own_order(request: Request, order_id: str) -> dict[str, Any]:
    row = request.conn.execute(
        "SELECT shop_id, body FROM orders WHERE id = ?", (order_id,)
    ).fetchone()
    if row is None or row[0] != request.shop_id:
        raise ApiError(
            NOT_SELLERS_ORDER, "The order or package does not belong to the current seller."
        )
    return orjson.loads(row[1])


def tracking(request: Request) -> Response:
    order = own_order(request, request.params["order_id"])
    return envelope({"tracking": tracking_events(order)})


# ---------------------------------------------------------------- returns and cancellations


def _after_sale_search(
    request: Request,
    table: str,
    array_key: str,
    size_bounds: tuple[int, int],
    filters: tuple[tuple[str, str], ...],
) -> Response:
    size = page_size(request, size_bounds[0], size_bounds[1], 10)
    field = sort_field(request, ("create_time", "update_time"))
    order = sort_order(request, "ASC")
    body = request.json()
    where = ["shop_id = ?"]
    args: list[Any] = [request.shop_id]
    time_filters(body, where, args)
    for key, column in filters:
        in_filter(column, body_list(body, key), where, args)
    where_sql = " AND ".join(where)
    conn = request.conn
    total = conn.execute(
        f"SELECT COUNT(*) FROM {table} WHERE {where_sql}",  # noqa: S608
        args,
    ).fetchone()[0]
    cursor = decode_token(request, 1)
    offset = int(cursor[0]) if cursor and cursor[0].isdigit() else 0
    rows = conn.execute(
        f"SELECT CAST(body AS BLOB) FROM {table} WHERE {where_sql} "  # noqa: S608
        f"ORDER BY {field} {order}, id {order} LIMIT ? OFFSET ?",
        [*args, size, offset],
    ).fetchall()
    next_token = encode_token(offset + size) if offset + size < total else ""
    return envelope(
        b'{"'
        + array_key.encode()
        + b'":'
        + joined([r[0] for r in rows])
        + b',"total_count":'
        + str(total).encode()
        + b',"next_page_token":"'
        + next_token.encode()
        + b'"}'
    )


def returns_search(request: Request) -> Response:
    return _after_sale_search(
        request,
        "returns",
        "return_orders",
        (10, 50),
        (
            ("return_ids", "id"),
            ("order_ids", "order_id"),
            ("buyer_user_ids", "user_id"),
            ("return_types", "return_type"),
            ("return_status", "status"),
        ),
    )


def cancellations_search(request: Request) -> Response:
    return _after_sale_search(
        request,
        "cancellations",
        "cancellations",
        (1, 50),
        (
            ("cancel_ids", "id"),
            ("order_ids", "order_id"),
            ("buyer_user_ids", "user_id"),
            ("cancel_types", "cancel_type"),
            ("cancel_status", "status"),
        ),
    )


# ---------------------------------------------------------------- products and coupons

PRODUCT_STATUSES = (
    "ALL",
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)


def products_search(request: Request) -> Response:
    size = page_size(request, 1, 100, None)
    body = request.json()
    status = body.get("status", "ALL")
    if status not in PRODUCT_STATUSES:
        raise invalid("`status` is not a valid product status.")
    where = ["shop_id = ?"]
    args: list[Any] = [request.shop_id]
    if status != "ALL":
        where.append("status = ?")
        args.append(status)
    time_filters(body, where, args, upper="le")
    conn = request.conn
    rows = conn.execute(
        f"SELECT summary FROM products WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY create_time DESC, id DESC",
        args,
    ).fetchall()
    products = [orjson.loads(row[0]) for row in rows]
    seller_skus = body_list(body, "seller_skus", 10)
    sku_ids = body_list(body, "sku_ids", 10)
    if seller_skus:
        products = [p for p in products if any(s["seller_sku"] in seller_skus for s in p["skus"])]
    if sku_ids:
        products = [p for p in products if any(s["id"] in sku_ids for s in p["skus"])]
    cursor = decode_token(request, 1)
    offset = int(cursor[0]) if cursor and cursor[0].isdigit() else 0
    if offset + size > SEARCH_CAP:
        raise ApiError(12052180, "The total number of search results can not exceed 10000.")
    page = products[offset : offset + size]
    next_token = encode_token(offset + size) if offset + size < len(products) else ""
    return envelope({"total_count": len(products), "products": page, "next_page_token": next_token})


def product_detail(request: Request) -> Response:
    row = request.conn.execute(
        "SELECT CAST(detail AS BLOB) FROM products WHERE id = ? AND shop_id = ?",
        (request.params["product_id"], request.shop_id),
    ).fetchone()
    if row is None:
        raise ApiError(PRODUCT_NOT_FOUND, "The product ID does not exist.")
    return envelope(row[0])


def coupons_search(request: Request) -> Response:
    # page_size bounds for coupons are not in the contract: 1-100, default 20, like products.
    size = page_size(request, 1, 100, 20)
    body = request.json()
    where = ["shop_id = ?"]
    args: list[Any] = [request.shop_id]
    in_filter("status", body_list(body, "status"), where, args)
    in_filter("display_type", body_list(body, "display_type"), where, args)
    keyword = body.get("title_keyword")
    if keyword:
        where.append("title LIKE ?")
        args.append(f"%{keyword}%")
    rows = request.conn.execute(
        f"SELECT CAST(body AS BLOB) FROM coupons WHERE {' AND '.join(where)} ORDER BY id",  # noqa: S608
        args,
    ).fetchall()
    cursor = decode_token(request, 1)
    offset = int(cursor[0]) if cursor and cursor[0].isdigit() else 0
    next_token = encode_token(offset + size) if offset + size < len(rows) else ""
    return envelope(
        b'{"coupons":'
        + joined([r[0] for r in rows[offset : offset + size]])
        + b',"total_count":'
        + str(len(rows)).encode()
        + b',"next_page_token":"'
        + next_token.encode()
        + b'"}'
    )


def coupon_detail(request: Request) -> Response:
    row = request.conn.execute(
        "SELECT CAST(body AS BLOB) FROM coupons WHERE id = ? AND shop_id = ?",
        (request.params["coupon_id"], request.shop_id),
    ).fetchone()
    if row is None:
        raise invalid("The coupon does not exist.")
    # UNVERIFIED: no sample of Get Coupon; the sandbox wraps the object as data.coupon.
    return envelope(b'{"coupon":' + row[0] + b"}")


# ---------------------------------------------------------------- webhook registration (§8.1)


def webhooks_get(request: Request) -> Response:
    rows = request.conn.execute(
        "SELECT event_type, address, create_time, update_time FROM webhooks WHERE shop_id = ? "
        "ORDER BY event_type",
        (request.shop_id,),
    ).fetchall()
    hooks = [
        {"event_type": r[0], "address": r[1], "create_time": r[2], "update_time": r[3]}
        for r in rows
    ]
    return envelope({"webhooks": hooks, "total_count": len(hooks)})


def webhooks_put(request: Request) -> Response:
    body = request.json()
    event_type = body.get("event_type")
    address = body.get("address")
    if event_type not in EVENT_TYPES.values():
        raise invalid("`event_type` is not a supported event type.")
    if not isinstance(address, str) or not address or len(address) > 255:
        raise invalid("`address` must be a URL of at most 255 characters.")
    now = int(time.time())
    conn = request.conn
    with db.Transaction(conn):
        conn.execute(
            "INSERT INTO webhooks VALUES (?, ?, ?, ?, ?) ON CONFLICT (shop_id, event_type) "
            "DO UPDATE SET address = excluded.address, update_time = excluded.update_time",
            (request.shop_id, event_type, address, now, now),
        )
    return envelope({})


def webhooks_delete(request: Request) -> Response:
    body = request.json()
    event_type = body.get("event_type")
    if event_type not in EVENT_TYPES.values():
        raise invalid("`event_type` is not a supported event type.")
    conn = request.conn
    with db.Transaction(conn):
        conn.execute(
            "DELETE FROM webhooks WHERE shop_id = ? AND event_type = ?",
            (request.shop_id, event_type),
        )
    return envelope({})


def register(app: SandboxApp) -> None:
    app.add("GET", "/authorization/202309/shops", authorized_shops, cipher=REFUSED)
    app.add("GET", "/seller/202309/shops", active_shops, cipher=REFUSED)
    app.add("POST", "/order/202309/orders/search", orders_search)
    app.add("GET", "/order/202309/orders", orders_detail)
    app.add("GET", "/order/202507/orders", orders_detail)
    app.add("GET", "/fulfillment/202309/orders/{order_id}/tracking", tracking)
    app.add("POST", "/return_refund/202309/returns/search", returns_search)
    app.add("POST", "/return_refund/202309/cancellations/search", cancellations_search)
    app.add("POST", "/product/202309/products/search", products_search)
    app.add("POST", "/product/202502/products/search", products_search)
    app.add("GET", "/product/202309/products/{product_id}", product_detail)
    app.add("POST", "/promotion/202406/coupons/search", coupons_search)
    app.add("GET", "/promotion/202406/coupons/{coupon_id}", coupon_detail)
    app.add("GET", "/event/202309/webhooks", webhooks_get)
    app.add("PUT", "/event/202309/webhooks", webhooks_put)
    app.add("DELETE", "/event/202309/webhooks", webhooks_delete)
    aftersale.register(app)
    cs.register(app)
