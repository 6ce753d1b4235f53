"""Control API under /_sandbox/ (JSON, loopback only, no auth): state, config, faults, triggers."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

import orjson

from marketplaces.tiktok.sandbox import auth, db, events
from marketplaces.tiktok.sandbox.app import Request, Response, json_response
from marketplaces.tiktok.sandbox.images import ACCEPTED_FORMATS

if TYPE_CHECKING:
    from marketplaces.tiktok.sandbox.app import SandboxApp

LOOPBACK = ("127.0.0.1", "::1", "localhost")
CONFIG_KEYS = {
    "webhook_url": str,
    "redirect_url": str,
    "buyer_message_interval": float,
    "status_advance_interval": float,
    "access_token_ttl": int,
}
RATIO_KEYS = ("rate_limit_ratio", "error_ratio", "webhook_duplicate_ratio", "webhook_drop_ratio")


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        value = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ControlError(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise ControlError(400, "body must be a JSON object")
    return value


def credentials(conn: sqlite3.Connection) -> dict[str, Any]:
    """What `credentials` prints: app credentials plus, per seller, a valid token and shops."""
    sellers = []
    for seller_id, open_id, seller_name in conn.execute(
        "SELECT id, open_id, seller_name FROM sellers ORDER BY id"
    ).fetchall():
        tokens = auth.test_tokens(conn, seller_id)
        shops = conn.execute(
            "SELECT id, name, region, seller_type, cipher, code, market FROM shops "
            "WHERE seller_id = ? ORDER BY rowid",
            (seller_id,),
        ).fetchall()
        sellers.append(
            {
                "seller_name": seller_name,
                "open_id": open_id,
                "market": shops[0][6] if shops else "",
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "access_token_expire_in": tokens["access_token_expire_in"],
                "shops": [
                    {
                        "id": s[0],
                        "name": s[1],
                        "region": s[2],
                        "seller_type": s[3],
                        "cipher": s[4],
                        "code": s[5],
                    }
                    for s in shops
                ],
            }
        )
    return {
        "app_key": db.meta_get(conn, "app_key"),
        "app_secret": db.meta_get(conn, "app_secret"),
        "service_id": db.meta_get(conn, "service_id"),
        "sellers": sellers,
    }


def state(request: Request) -> Response:
    conn = request.conn
    counts = {
        table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
        for table in (
            "orders",
            "returns",
            "cancellations",
            "products",
            "coupons",
            "conversations",
            "messages",
            "images",
        )
    }
    outbox = dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    shops = [
        {"id": r[0], "name": r[1], "region": r[2], "authorized": bool(r[3]), "orders": r[4]}
        for r in conn.execute(
            "SELECT s.id, s.name, s.region, s.authorized, (SELECT COUNT(*) FROM orders o "
            "WHERE o.shop_id = s.id) FROM shops s ORDER BY s.rowid"
        ).fetchall()
    ]
    return json_response(
        {
            "counts": counts,
            "webhooks": outbox,
            "shops": shops,
            "config": db.json_meta_get(conn, "config", db.DEFAULT_CONFIG),
            "faults": db.json_meta_get(conn, "faults", db.DEFAULT_FAULTS),
            "seed": orjson.loads(db.meta_get(conn, "seed") or "{}"),
            "base_url": db.meta_get(conn, "base_url"),
        }
    )


def set_config(request: Request) -> Response:
    body = _body(request)
    conn = request.conn
    with db.Transaction(conn):
        config = db.json_meta_get(conn, "config", db.DEFAULT_CONFIG)
        for key, value in body.items():
            if key not in CONFIG_KEYS:
                raise ControlError(400, f"unknown config key {key!r}")
            try:
                config[key] = (
                    CONFIG_KEYS[key](value or 0)
                    if CONFIG_KEYS[key] is not str
                    else str(value or "")
                )
            except (TypeError, ValueError):
                raise ControlError(400, f"bad value for {key!r}") from None
        db.json_meta_set(conn, "config", config)
    return json_response({"config": config})


def set_faults(request: Request) -> Response:
    """Replaces the whole fault set: POST {} resets every fault."""
    body = _body(request)
    faults = dict(db.DEFAULT_FAULTS)
    for key, value in body.items():
        if key not in faults:
            raise ControlError(400, f"unknown fault {key!r}")
        if key in RATIO_KEYS:
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ControlError(400, f"{key} must be between 0 and 1")
            faults[key] = float(value)
        elif key == "latency_ms":
            if not isinstance(value, int) or value < 0:
                raise ControlError(400, "latency_ms must be a non-negative integer")
            faults[key] = value
        else:
            faults[key] = bool(value)
    conn = request.conn
    with db.Transaction(conn):
        db.json_meta_set(conn, "faults", faults)
    return json_response({"faults": faults})


def expire_tokens(request: Request) -> Response:
    conn = request.conn
    with db.Transaction(conn):
        count = conn.execute(
            "UPDATE tokens SET expires_at = ? WHERE kind = 'access' AND expires_at > ?",
            (int(time.time()) - 1, int(time.time())),
        ).rowcount
    return json_response({"expired": count})


def deauthorize(request: Request) -> Response:
    events.shop_deauthorize(request.conn, request.params["shop_id"])
    return json_response({"shop_id": request.params["shop_id"], "authorized": False})


def authorization_expiring(request: Request) -> Response:
    days = int(_body(request).get("days", 30))
    events.shop_authorization_expiring(request.conn, request.params["shop_id"], days)
    return json_response({"shop_id": request.params["shop_id"], "days": days})


def buyers_write(request: Request) -> Response:
    body = _body(request)
    shop_id = body.get("shop_id")
    if not isinstance(shop_id, str):
        raise ControlError(400, "shop_id is required")
    message = events.buyer_write(
        request.conn,
        shop_id=shop_id,
        conversation_id=body.get("conversation_id"),
        text=body.get("text"),
        user_id=body.get("user_id"),
    )
    return json_response(message)


WRITE_MANY_LIMIT = 5000
WRITE_KEYS = ("conversation_id", "user_id", "text")


def buyers_write_many(request: Request) -> Response:
    """Many buyer messages in one call and one transaction, in order (all or none):
    {"shop_id", "messages": [{"conversation_id" | "user_id" | "new_buyer": true, "text"}]}.
    An item with neither conversation nor buyer writes as a random buyer, as `buyers/write`;
    `new_buyer` makes a buyer new to the shop, who writes in a conversation of their own."""
    body = _body(request)
    shop_id, items = body.get("shop_id"), body.get("messages")
    if not isinstance(shop_id, str):
        raise ControlError(400, "shop_id is required")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ControlError(400, "messages must be a non-empty list of objects")
    if len(items) > WRITE_MANY_LIMIT:
        raise ControlError(400, f"at most {WRITE_MANY_LIMIT} messages a call")
    for item in items:
        if any(not isinstance(item.get(key) or "", str) for key in WRITE_KEYS):
            raise ControlError(400, f"{', '.join(WRITE_KEYS)} must be strings")
    conn = request.conn
    with db.Transaction(conn):
        if conn.execute("SELECT 1 FROM shops WHERE id = ?", (shop_id,)).fetchone() is None:
            raise events.NotFound("shop")
        written = [
            events.buyer_write_in(
                conn,
                shop_id=shop_id,
                conversation_id=item.get("conversation_id"),
                text=item.get("text"),
                user_id=buyer_create(conn, shop_id)
                if item.get("new_buyer")
                else item.get("user_id"),
            )
            for item in items
        ]
    return json_response({"messages": written})


def buyer_create(conn: sqlite3.Connection, shop_id: str) -> str:
    """A buyer new to the shop (no order, no conversation yet); returns their user_id."""
    avatar = conn.execute(
        "SELECT avatar FROM buyers WHERE shop_id = ? LIMIT 1", (shop_id,)
    ).fetchone()
    user_id = events.new_id("70")
    conn.execute(
        "INSERT INTO buyers (shop_id, user_id, im_user_id, nickname, avatar) "
        "VALUES (?, ?, ?, ?, ?)",
        (shop_id, user_id, events.new_id("6"), f"buyer{user_id[-6:]}", avatar[0] if avatar else ""),
    )
    return user_id


def order_advance(request: Request) -> Response:
    return json_response(events.order_advance(request.conn, request.params["order_id"]))


def cancellation_advance(request: Request) -> Response:
    return json_response(events.cancellation_advance(request.conn, request.params["cancel_id"]))


def return_advance(request: Request) -> Response:
    return json_response(events.return_advance(request.conn, request.params["return_id"]))


def product_update(request: Request) -> Response:
    return json_response(
        events.product_update(request.conn, request.params["product_id"], _body(request))
    )


COUPON_FIELDS = ("title", "display_type", "status", "creation_source", "target_buyer_segment")


def coupon_update(request: Request) -> Response:
    """Change a coupon's fields (those that decide whether it can be sent as a card)."""
    body = _body(request)
    unknown = set(body) - set(COUPON_FIELDS)
    if unknown:
        raise ControlError(400, f"unknown coupon fields {sorted(unknown)}")
    conn = request.conn
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT body FROM coupons WHERE id = ?", (request.params["coupon_id"],)
        ).fetchone()
        if row is None:
            raise events.NotFound("coupon")
        coupon = {**orjson.loads(row[0]), **body}
        conn.execute(
            "UPDATE coupons SET status = ?, display_type = ?, title = ?, body = ? WHERE id = ?",
            (
                coupon["status"],
                coupon["display_type"],
                coupon["title"],
                orjson.dumps(coupon).decode(),
                coupon["id"],
            ),
        )
    return json_response(coupon)


def decisions(request: Request) -> Response:
    from marketplaces.tiktok.sandbox.aftersale import decisions_log

    return json_response({"decisions": decisions_log(request.conn)})


def webhook_log(request: Request) -> Response:
    rows = request.conn.execute(
        "SELECT id, shop_id, type, notification_id, state, attempts, last_status FROM outbox "
        "ORDER BY id DESC LIMIT 200"
    ).fetchall()
    return json_response(
        {
            "webhooks": [
                {
                    "id": r[0],
                    "shop_id": r[1],
                    "type": r[2],
                    "tts_notification_id": r[3],
                    "state": r[4],
                    "attempts": r[5],
                    "last_status": r[6],
                }
                for r in rows
            ]
        }
    )


def get_credentials(request: Request) -> Response:
    return json_response(credentials(request.conn))


def image(request: Request) -> Response:
    name = request.params["name"]
    image_id = name.split(".", 1)[0]
    row = request.conn.execute(
        "SELECT content_type, data FROM images WHERE id = ?", (image_id,)
    ).fetchone()
    if row is None or row[0] not in ACCEPTED_FORMATS.values():
        return Response(404, b"not found", "text/plain")
    return Response(200, bytes(row[1]), row[0], [("Cache-Control", "max-age=86400")])


def _guarded(handler: Any) -> Any:
    def wrapped(request: Request) -> Response:
        if request.environ.get("REMOTE_ADDR") not in LOOPBACK:
            return json_response({"error": "the control API answers loopback only"}, 403)
        try:
            return handler(request)
        except ControlError as error:
            return json_response({"error": str(error)}, error.status)
        except events.NotFound as error:
            return json_response({"error": f"{error} not found"}, 404)
        except events.Invalid as error:
            return json_response({"error": str(error)}, 409)

    return wrapped


def register(app: SandboxApp) -> None:
    routes = (
        ("GET", "/_sandbox/state", state),
        ("GET", "/_sandbox/credentials", get_credentials),
        ("POST", "/_sandbox/config", set_config),
        ("POST", "/_sandbox/faults", set_faults),
        ("POST", "/_sandbox/tokens/expire", expire_tokens),
        ("POST", "/_sandbox/shops/{shop_id}/deauthorize", deauthorize),
        ("POST", "/_sandbox/shops/{shop_id}/authorization-expiring", authorization_expiring),
        ("POST", "/_sandbox/buyers/write", buyers_write),
        ("POST", "/_sandbox/buyers/write-many", buyers_write_many),
        ("POST", "/_sandbox/orders/{order_id}/advance", order_advance),
        ("POST", "/_sandbox/cancellations/{cancel_id}/advance", cancellation_advance),
        ("POST", "/_sandbox/returns/{return_id}/advance", return_advance),
        ("GET", "/_sandbox/webhooks", webhook_log),
        ("POST", "/_sandbox/products/{product_id}/update", product_update),
        ("POST", "/_sandbox/coupons/{coupon_id}/update", coupon_update),
        ("GET", "/_sandbox/decisions", decisions),
    )
    for method, path, handler in routes:
        app.add(method, path, _guarded(handler), kind="plain")
    app.add("GET", "/_sandbox/images/{name}", image, kind="plain")
