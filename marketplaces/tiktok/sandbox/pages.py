"""Auth host (token get/refresh), the seller consent page and the buyer page."""

from __future__ import annotations

import html
import sqlite3
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from marketplaces.tiktok.sandbox import auth, db, events
from marketplaces.tiktok.sandbox.app import (
    ApiError,
    Request,
    Response,
    envelope,
    invalid,
    json_response,
)
from marketplaces.tiktok.sandbox.buyer_page import BUYER_PAGE
from marketplaces.tiktok.sandbox.model import MESSAGE_COLUMNS, message_object, tracking_events

if TYPE_CHECKING:
    from marketplaces.tiktok.sandbox.app import SandboxApp

INVALID_AUTH_CODE = 36004004


# ---------------------------------------------------------------- auth host (§1.2, §1.3)


def _check_app(request: Request, grant_type: str) -> None:
    conn = request.conn
    if request.query.get("app_key") != db.meta_get(conn, "app_key") or request.query.get(
        "app_secret"
    ) != db.meta_get(conn, "app_secret"):
        raise ApiError(36009004, "Invalid credentials. Invalid `app_key` query parameter.", 401)
    if request.query.get("grant_type") != grant_type:
        raise invalid(f"`grant_type` must be {grant_type}.")


def token_get(request: Request) -> Response:
    _check_app(request, "authorized_code")
    data = auth.redeem_code(request.conn, request.query.get("auth_code", ""))
    if data is None:
        raise ApiError(INVALID_AUTH_CODE, "Invalid auth code.")
    return envelope(data, message="success")  # the token sample's message is lowercase


def token_refresh(request: Request) -> Response:
    _check_app(request, "refresh_token")
    data = auth.refresh(request.conn, request.query.get("refresh_token", ""))
    if data is None:
        raise ApiError(
            36009004, "Invalid credentials. The refresh token is invalid or expired.", 401
        )
    return envelope(data, message="success")


# ---------------------------------------------------------------- consent page (§1.1)

_STYLE = """<style>
body{font:14px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#161823;margin:0}
main{max-width:560px;margin:40px auto;background:#fff;border-radius:10px;padding:24px 28px;
box-shadow:0 1px 4px rgba(0,0,0,.08)}h1{font-size:20px;margin:0 0 4px}.muted{color:#6b6f76}
label.seller{display:block;border:1px solid #dfe1e5;border-radius:8px;padding:10px 12px;
margin:8px 0}
ul{margin:4px 0 0 20px;padding:0}.actions{display:flex;gap:10px;margin-top:18px}
button{font:inherit;padding:8px 18px;border-radius:6px;border:1px solid #c8ccd1;background:#fff}
button.primary{background:#fe2c55;border-color:#fe2c55;color:#fff}code{font-size:13px}
</style>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title>{_STYLE}</head><body><main>{body}</main></body></html>"
    )
    return Response(status, document.encode(), "text/html; charset=utf-8")


def _market(request: Request) -> str:
    return "US" if request.path.startswith("/us/") else "ROW"


def consent_form(request: Request) -> Response:
    conn = request.conn
    market = _market(request)
    if request.query.get("service_id") != db.meta_get(conn, "service_id"):
        return _page(
            "Invalid request",
            "<h1>Invalid request</h1><p>Unknown <code>service_id</code>.</p>",
            400,
        )
    state = request.query.get("state", "")
    sellers = conn.execute(
        "SELECT DISTINCT se.id, se.open_id, se.seller_name FROM sellers se "
        "JOIN shops s ON s.seller_id = se.id WHERE s.market = ? ORDER BY se.id",
        (market,),
    ).fetchall()
    choices = []
    for position, (seller_id, open_id, name) in enumerate(sellers):
        shops = conn.execute(
            "SELECT name, region FROM shops WHERE seller_id = ? ORDER BY rowid", (seller_id,)
        ).fetchall()
        shop_items = "".join(f"<li>{html.escape(s[0])} ({html.escape(s[1])})</li>" for s in shops)
        checked = " checked" if position == 0 else ""
        choices.append(
            f'<label class=seller><input type=radio name=open_id value="{open_id}"'
            f"{checked}> <b>{html.escape(name)}</b><ul>{shop_items}</ul></label>"
        )
    market_name = "United States" if market == "US" else "Rest of world"
    body = (
        f"<h1>Authorize Sellerdesk</h1><p class=muted>TikTok Shop sandbox · {market_name}</p>"
        "<p>Sign in as one of the sandbox sellers. The app will be able to read orders, "
        "returns, products and coupons, and to chat with buyers of these shops:</p>"
        "<form method=post><input type=hidden name=service_id "
        f'value="{html.escape(request.query["service_id"])}">'
        f'<input type=hidden name=state value="{html.escape(state)}">{"".join(choices)}'
        "<div class=actions><button class=primary name=decision value=authorize>Authorize"
        "</button><button name=decision value=deny>Deny</button></div></form>"
    )
    return _page("Authorize app", body)


def consent_submit(request: Request) -> Response:
    conn = request.conn
    form = request.form()
    if form.get("service_id") != db.meta_get(conn, "service_id"):
        return _page("Invalid request", "<h1>Invalid request</h1><p>Unknown service.</p>", 400)
    state = form.get("state", "")
    redirect = str(db.json_meta_get(conn, "config", db.DEFAULT_CONFIG)["redirect_url"])
    if form.get("decision") != "authorize":
        params = {"code": "null", "error": "auth_denied", "state": state}
        return _redirect_or_show(redirect, params, "Authorization denied")
    seller = conn.execute(
        "SELECT se.id FROM sellers se JOIN shops s ON s.seller_id = se.id "
        "WHERE se.open_id = ? AND s.market = ?",
        (form.get("open_id", ""), _market(request)),
    ).fetchone()
    if seller is None:
        return _page("Invalid request", "<h1>Choose a seller</h1>", 400)
    with db.Transaction(conn):
        # Authorizing again re-grants shops that were deauthorized.
        conn.execute("UPDATE shops SET authorized = 1 WHERE seller_id = ?", (seller[0],))
        code = auth.issue_code(conn, seller[0])
    return _redirect_or_show(redirect, {"code": code, "state": state}, "Authorized")


def _redirect_or_show(redirect: str, params: dict[str, str], title: str) -> Response:
    if not redirect:
        rows = "".join(
            f"<li>{html.escape(k)} = <code>{html.escape(v)}</code></li>" for k, v in params.items()
        )
        return _page(
            title,
            f"<h1>{title}</h1><p>No redirect URL is configured (POST "
            f'/_sandbox/config {{"redirect_url": ...}}). Callback values:</p><ul>{rows}</ul>',
        )
    separator = "&" if "?" in redirect else "?"
    return Response(
        302, b"", "text/plain", [("Location", redirect + separator + urlencode(params))]
    )


# ---------------------------------------------------------------- buyer page


def buyer_page(request: Request) -> Response:
    return Response(200, BUYER_PAGE.encode(), "text/html; charset=utf-8")


def buyer_shops(request: Request) -> Response:
    conn = request.conn
    shops = []
    for shop_id, name, region, currency in conn.execute(
        "SELECT id, name, region, currency FROM shops ORDER BY rowid"
    ).fetchall():
        # Buyers who already chat come first, then other buyers with orders.
        rows = conn.execute(
            "SELECT b.user_id, b.nickname, EXISTS (SELECT 1 FROM conversations c WHERE "
            "c.shop_id = b.shop_id AND c.buyer_user_id = b.user_id) AS chatting FROM buyers b "
            "WHERE b.shop_id = ? AND EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = b.shop_id "
            "AND o.user_id = b.user_id) ORDER BY chatting DESC, b.rowid LIMIT 40",
            (shop_id,),
        ).fetchall()
        shops.append(
            {
                "id": shop_id,
                "name": name,
                "region": region,
                "currency": currency,
                "buyers": [
                    {"user_id": r[0], "nickname": r[1], "chatting": bool(r[2])} for r in rows
                ],
            }
        )
    return json_response({"shops": shops})


def _money_text(amount: str, currency: str) -> str:
    return f"{amount} {currency}".strip()


def _coupon_offer(coupon: dict[str, Any]) -> str:
    discount = coupon.get("discount") or {}
    if discount.get("type") == "PERCENTAGE_OFF":
        offer = f"{discount.get('percentage')}% off"
    else:
        reduction = discount.get("reduction_amount") or {}
        offer = f"{_money_text(reduction.get('amount', ''), reduction.get('currency', ''))} off"
    spend = (coupon.get("threshold") or {}).get("min_spend") or {}
    if spend.get("amount"):
        offer += f" on orders over {_money_text(spend['amount'], spend.get('currency', ''))}"
    return offer


def _card(conn: sqlite3.Connection, shop_id: str, message: dict[str, Any]) -> dict[str, Any] | None:
    """What the buyer's app draws for a card message: each §6.2 type as its own card."""
    try:
        content = orjson.loads(message["content"])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(content, dict):
        return None
    kind = message["type"]
    if "order_id" in content and kind in (
        "ORDER_CARD",
        "LOGISTICS_CARD",
        "RETURN_REFUND_CARD",
        "BUYER_ENTER_FROM_ORDER",
    ):
        row = conn.execute(
            "SELECT body FROM orders WHERE id = ? AND shop_id = ?", (content["order_id"], shop_id)
        ).fetchone()
        if row is None:
            return None
        order = orjson.loads(row[0])
        lines = order["line_items"]
        card: dict[str, Any] = {
            "kind": "order",
            "id": order["id"],
            "status": order["status"],
            "total": order["payment"]["total_amount"],
            "currency": order["payment"]["currency"],
            "title": lines[0]["product_name"],
            "items": len(lines),
            "image": lines[0]["sku_image"],
        }
        if kind == "LOGISTICS_CARD":
            steps = tracking_events(order)
            card.update(
                kind="logistics",
                package_id=content.get("package_id", ""),
                carrier=order.get("shipping_provider", ""),
                tracking_number=order.get("tracking_number", ""),
                latest=steps[0]["description"] if steps else "Not shipped yet",
            )
        elif kind == "RETURN_REFUND_CARD":
            line = next((item for item in lines if item["sku_id"] == content.get("sku_id")), None)
            card.update(
                kind="return_refund",
                title=line["product_name"] if line else "",
                sku_name=line["sku_name"] if line else "",
                image=line["sku_image"] if line else card["image"],
                action="Request a return or refund",
            )
        return card
    if "product_id" in content:
        row = conn.execute(
            "SELECT detail FROM products WHERE id = ? AND shop_id = ?",
            (content["product_id"], shop_id),
        ).fetchone()
        if row:
            product = orjson.loads(row[0])
            price = product["skus"][0]["price"]
            return {
                "kind": "product",
                "id": product["id"],
                "title": product["title"],
                "total": price["sale_price"],
                "currency": price["currency"],
                "image": product["main_images"][0]["urls"][0],
                "status": "" if product["status"] == "ACTIVATE" else product["status"],
            }
    if "coupon_id" in content:
        row = conn.execute(
            "SELECT body FROM coupons WHERE id = ? AND shop_id = ?", (content["coupon_id"], shop_id)
        ).fetchone()
        if row:
            coupon = orjson.loads(row[0])
            return {
                "kind": "coupon",
                "id": coupon["id"],
                "title": coupon["title"],
                "offer": _coupon_offer(coupon),
                "status": coupon["status"],
                "action": "Claim",
            }
    return None


def buyer_thread(request: Request) -> Response:
    conn = request.conn
    shop_id = request.query.get("shop_id", "")
    user_id = request.query.get("user_id", "")
    row = conn.execute(
        "SELECT id FROM conversations WHERE shop_id = ? AND buyer_user_id = ?", (shop_id, user_id)
    ).fetchone()
    messages = []
    if row:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? "  # noqa: S608
            "ORDER BY idx DESC LIMIT 200",
            (row[0],),
        ).fetchall()
        for message_row in reversed(rows):
            message = message_object(message_row)
            message["card"] = _card(conn, shop_id, message)
            messages.append(message)
    orders = [
        {"id": r[0], "status": r[1], "create_time": r[2]}
        for r in conn.execute(
            "SELECT id, status, create_time FROM orders WHERE shop_id = ? AND user_id = ? "
            "ORDER BY create_time DESC LIMIT 20",
            (shop_id, user_id),
        ).fetchall()
    ]
    products = [
        {"id": r[0], "title": r[1]}
        for r in conn.execute(
            "SELECT id, json_extract(summary, '$.title') FROM products WHERE shop_id = ? "
            "AND status = 'ACTIVATE' ORDER BY create_time DESC LIMIT 50",
            (shop_id,),
        ).fetchall()
    ]
    return json_response(
        {
            "conversation_id": row[0] if row else None,
            "messages": messages,
            "orders": orders,
            "products": products,
        }
    )


def buyer_send(request: Request) -> Response:
    conn = request.conn
    try:
        body = orjson.loads(request.body or b"{}")
    except orjson.JSONDecodeError:
        return json_response({"error": "body is not JSON"}, 400)
    shop_id, user_id = str(body.get("shop_id", "")), str(body.get("user_id", ""))
    kind = body.get("type", "TEXT")
    if kind == "TEXT":
        text = str(body.get("text", "")).strip()
        if not text:
            return json_response({"error": "empty message"}, 400)
        content = orjson.dumps({"content": text}).decode()
    elif kind == "ORDER_CARD":
        if not conn.execute(
            "SELECT 1 FROM orders WHERE id = ? AND shop_id = ? AND user_id = ?",
            (body.get("order_id"), shop_id, user_id),
        ).fetchone():
            return json_response({"error": "not one of this buyer's orders"}, 400)
        content = orjson.dumps({"order_id": body["order_id"]}).decode()
    elif kind == "PRODUCT_CARD":
        if not conn.execute(
            "SELECT 1 FROM products WHERE id = ? AND shop_id = ?", (body.get("product_id"), shop_id)
        ).fetchone():
            return json_response({"error": "not a product of this shop"}, 400)
        content = orjson.dumps({"product_id": body["product_id"]}).decode()
    elif kind == "IMAGE":
        # Received IMAGE content carries width/height as strings (§6.3).
        content = orjson.dumps(
            {
                "height": str(body.get("height", "")),
                "url": body.get("url", ""),
                "width": str(body.get("width", "")),
            }
        ).decode()
    else:
        return json_response({"error": "type must be TEXT, ORDER_CARD, PRODUCT_CARD or IMAGE"}, 400)
    try:
        message = events.buyer_write(
            conn, shop_id=shop_id, user_id=user_id, mtype=kind, content=content
        )
    except events.NotFound as error:
        return json_response({"error": f"{error} not found"}, 404)
    return json_response(message)


def buyer_upload(request: Request) -> Response:
    from marketplaces.tiktok.sandbox.cs import parse_multipart, store_image

    fields = parse_multipart(request)
    if "data" not in fields:
        return json_response({"error": "send the image in the field `data`"}, 400)
    try:
        return json_response(store_image(request.conn, fields["data"][0]))
    except ApiError as error:
        return json_response({"error": error.message}, 400)


def register(app: SandboxApp) -> None:
    app.add("GET", "/api/v2/token/get", token_get, kind="auth")
    app.add("GET", "/api/v2/token/refresh", token_refresh, kind="auth")
    for prefix in ("", "/us"):
        app.add("GET", f"{prefix}/open/authorize", consent_form, kind="plain")
        app.add("POST", f"{prefix}/open/authorize", consent_submit, kind="plain")
    app.add("GET", "/buyer/", buyer_page, kind="plain")
    app.add("GET", "/buyer/api/shops", buyer_shops, kind="plain")
    app.add("GET", "/buyer/api/thread", buyer_thread, kind="plain")
    app.add("POST", "/buyer/api/send", buyer_send, kind="plain")
    app.add("POST", "/buyer/api/upload", buyer_upload, kind="plain")
