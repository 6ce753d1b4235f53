"""Seller decisions on returns and cancellations (§5.1/5.2): eligibility, reject reasons, approve
and reject, over the sandbox's SQLite state. Written from the contract and the Partner Center pages
it cites (lywzx `returnAndRefund/*`), independently of the product's client.

Rules the contract leaves open are the sandbox's choices (README "Choices"):
- after-sale eligibility per SKU and request type: CANCEL while UNPAID / ON_HOLD /
  AWAITING_SHIPMENT with no cancellation under way; REFUND while IN_TRANSIT or DELIVERED;
  RETURN_AND_REFUND once DELIVERED; nothing after COMPLETED or CANCELLED, nor on a line with a
  return that is not rejected or cancelled;
- which decision each return stage takes, and what it leads to (`RETURN_STAGES`);
- errors: 25020011 "status does not allow this decision", 25001001 for an unknown id, a
  decision of another stage's vocabulary or a reject reason not offered for the stage.
- every write takes `idempotency_key` (query): the same key on the same path answers what the
  first call answered and changes nothing again.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

import orjson

from marketplaces.tiktok.sandbox import db
from marketplaces.tiktok.sandbox.app import ApiError, Request, Response, envelope, invalid
from marketplaces.tiktok.sandbox.events import bump_orders_version, enqueue_webhook
from marketplaces.tiktok.sandbox.model import (
    RETURN_STAGES,
    next_action,
    order_set_status,
    return_stage,
)

if TYPE_CHECKING:
    from marketplaces.tiktok.sandbox.app import SandboxApp

NOT_SELLERS_ORDER = 21008111
INVALID_REQUEST = 25001001  # "invalid param" of the return_refund pages
STATUS_DOES_NOT_ALLOW = 25020011
INELIGIBLE_STATUS = 25020201
INELIGIBLE_OPEN_REQUEST = 25020202
INELIGIBLE_ENDED = 25020203

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT NOT NULL, path TEXT NOT NULL, shop_id TEXT NOT NULL, response BLOB NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (key, path)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, shop_id TEXT NOT NULL, kind TEXT NOT NULL,
    record_id TEXT NOT NULL, decision TEXT NOT NULL, reject_reason TEXT NOT NULL,
    idempotency_key TEXT NOT NULL, created_at REAL NOT NULL
);
"""

CLOSED_RETURN_STATUSES = ("RETURN_OR_REFUND_REQUEST_CANCEL", "REFUND_OR_RETURN_REQUEST_REJECT")

ALL_DECISIONS = frozenset(
    decision for _, decisions in RETURN_STAGES.values() for decision in decisions
) | {"OFFER_PARTIAL_REFUND"}

REJECT_REASONS = {
    "request": (
        ("reverse_reject_request_reason_1", "The item was delivered as described"),
        ("reverse_reject_request_reason_2", "The buyer's claim is not supported by the photos"),
        ("reverse_reject_request_reason_3", "The request was made after the return window"),
    ),
    "package": (
        ("reverse_reject_return_parcel_reason_1", "The returned item is not the product sold"),
        ("reverse_reject_return_parcel_reason_2", "The returned item is damaged or used"),
        ("reverse_reject_return_parcel_reason_3", "Items are missing from the returned package"),
    ),
    "cancel": (
        ("reverse_reject_cancel_reason_1", "The order has already been packed for shipping"),
        ("reverse_reject_cancel_reason_2", "The buyer agreed in chat to keep the order"),
    ),
}


def ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


# ---------------------------------------------------------------- eligibility


def order_eligibility(conn: sqlite3.Connection, order: dict[str, Any]) -> list[dict[str, Any]]:
    """`sku_eligibility` of an order (see the module's rules)."""
    status = order["status"]
    cancelling = conn.execute(
        "SELECT 1 FROM cancellations WHERE order_id = ? AND status IN "
        "('CANCELLATION_REQUEST_PENDING', 'CANCELLATION_REQUEST_SUCCESS', "
        "'CANCELLATION_REQUEST_COMPLETE') LIMIT 1",
        (order["id"],),
    ).fetchone()
    open_lines: set[str] = set()
    for (body,) in conn.execute(
        "SELECT body FROM returns WHERE order_id = ? AND status NOT IN (?, ?)",
        (order["id"], *CLOSED_RETURN_STATUSES),
    ).fetchall():
        open_lines.update(
            line["order_line_item_id"] for line in orjson.loads(body)["return_line_items"]
        )
    by_sku: dict[str, list[str]] = {}
    for line in order["line_items"]:
        by_sku.setdefault(line["sku_id"], []).append(line["id"])
    result = []
    for sku_id, line_ids in by_sku.items():
        checks = []
        for request_type in ("CANCEL", "REFUND", "RETURN_AND_REFUND"):
            code, reason = _ineligible(request_type, status, bool(cancelling))
            if code is None and request_type != "CANCEL" and set(line_ids) <= open_lines:
                code, reason = INELIGIBLE_OPEN_REQUEST, "A return or refund is already open."
            checks.append(
                {
                    "request_type": request_type,
                    "order_line_items_ids": line_ids,
                    "eligible": code is None,
                    **({"ineligible_code": code, "ineligible_reason": reason} if code else {}),
                }
            )
        result.append({"sku_id": sku_id, "line_item_eligibility": checks})
    return result


def _ineligible(request_type: str, status: str, cancelling: bool) -> tuple[int | None, str]:
    if status in ("COMPLETED", "CANCELLED"):
        return INELIGIBLE_ENDED, "The after-sale period of this order has ended."
    if request_type == "CANCEL":
        if status not in ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"):
            return INELIGIBLE_STATUS, "The order has shipped and can no longer be cancelled."
        if cancelling:
            return INELIGIBLE_OPEN_REQUEST, "A cancellation is already under way."
        return None, ""
    allowed = ("IN_TRANSIT", "DELIVERED") if request_type == "REFUND" else ("DELIVERED",)
    if status not in allowed:
        return INELIGIBLE_STATUS, "The order has not been delivered yet."
    return None, ""


def sku_allows_after_sale(conn: sqlite3.Connection, order: dict[str, Any], sku_id: str) -> bool:
    """A RETURN_REFUND_CARD needs a SKU the buyer may ask a refund or a return for."""
    for item in order_eligibility(conn, order):
        if item["sku_id"] == sku_id:
            return any(
                check["eligible"] and check["request_type"] != "CANCEL"
                for check in item["line_item_eligibility"]
            )
    return False


def _own_order(request: Request, order_id: str) -> dict[str, Any]:
    row = request.conn.execute(
        "SELECT shop_id, body FROM orders WHERE id = ?", (order_id,)
    ).fetchone()
    if row is None or row[0] != request.shop_id:
        raise ApiError(
            NOT_SELLERS_ORDER, "The order or package does not belong to the current seller."
        )
    return orjson.loads(row[1])


def eligibility(request: Request) -> Response:
    order = _own_order(request, request.params["order_id"])
    return envelope({"sku_eligibility": order_eligibility(request.conn, order)})


# ---------------------------------------------------------------- reject reasons


def _record(request: Request, table: str, record_id: str) -> dict[str, Any]:
    row = request.conn.execute(
        f"SELECT body FROM {table} WHERE id = ? AND shop_id = ?",  # noqa: S608
        (record_id, request.shop_id),
    ).fetchone()
    if row is None:
        raise ApiError(INVALID_REQUEST, f"Invalid parameter. The {table[:-1]} does not exist.")
    return orjson.loads(row[0])


def _reasons_for(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    if "cancel_id" in body:
        return REJECT_REASONS["cancel"]
    return REJECT_REASONS["package" if return_stage(body) == "PACKAGE" else "request"]


def reject_reasons(request: Request) -> Response:
    record_id = request.query.get("return_or_cancel_id", "")
    if not record_id:
        raise invalid("`return_or_cancel_id` is required.")
    found = request.conn.execute(
        "SELECT 'returns' FROM returns WHERE id = ? UNION ALL "
        "SELECT 'cancellations' FROM cancellations WHERE id = ?",
        (record_id, record_id),
    ).fetchone()
    if found is None:
        raise ApiError(
            INVALID_REQUEST, "Invalid parameter. The return or cancellation does not exist."
        )
    body = _record(request, found[0], record_id)
    reasons = [{"name": name, "text": text} for name, text in _reasons_for(body)]
    return envelope({"reasons": reasons})


# ---------------------------------------------------------------- decisions


def _idempotent(request: Request, act: Any) -> Response:
    """Runs `act(conn)` once per (idempotency_key, path); a repeat answers the stored result."""
    key = request.query.get("idempotency_key", "")
    if len(key) > 255:
        raise invalid("`idempotency_key` is limited to 255 characters.")
    conn = request.conn
    with db.Transaction(conn):
        if key:
            row = conn.execute(
                "SELECT shop_id, response FROM idempotency WHERE key = ? AND path = ?",
                (key, request.path),
            ).fetchone()
            if row is not None and row[0] == request.shop_id:
                return envelope(bytes(row[1]))
        data = act(conn)
        raw = orjson.dumps(data)
        if key:
            conn.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                (key, request.path, request.shop_id, raw, time.time()),
            )
    return envelope(raw)


def _log(
    conn: sqlite3.Connection,
    request: Request,
    kind: str,
    record_id: str,
    decision: str,
    reason: str,
) -> None:
    conn.execute(
        "INSERT INTO decisions (shop_id, kind, record_id, decision, reject_reason, "
        "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            request.shop_id,
            kind,
            record_id,
            decision,
            reason,
            request.query.get("idempotency_key", ""),
            time.time(),
        ),
    )


def _save_return(conn: sqlite3.Connection, shop_id: str, body: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE returns SET status = ?, update_time = ?, body = ? WHERE id = ?",
        (
            body["return_status"],
            body["update_time"],
            orjson.dumps(body).decode(),
            body["return_id"],
        ),
    )
    enqueue_webhook(
        conn,
        shop_id,
        12,
        {
            "order_id": body["order_id"],
            "return_role": body["role"],
            "return_type": body["return_type"],
            "return_status": body["return_status"],
            "return_id": body["return_id"],
            "create_time": body["create_time"],
            "update_time": body["update_time"],
        },
    )


def _decide_return(request: Request, *, approve: bool) -> Response:
    return_id = request.params["return_id"]
    payload = request.json()
    decision = payload.get("decision")
    if not isinstance(decision, str) or decision not in ALL_DECISIONS:
        raise invalid("`decision` is not a valid decision.")
    if approve == decision.startswith("REJECT_"):
        raise ApiError(
            INVALID_REQUEST,
            f"Invalid parameter. {decision} is not an {'approval' if approve else 'rejection'}.",
        )
    reason = payload.get("reject_reason", "")
    keep_item = payload.get("buyer_keep_item", False)
    if not approve and (not isinstance(reason, str) or not reason):
        raise invalid("`reject_reason` is required.")
    if not isinstance(keep_item, bool) or (keep_item and decision != "APPROVE_RETURN"):
        raise invalid("`buyer_keep_item` goes with APPROVE_RETURN only.")

    def act(conn: sqlite3.Connection) -> dict[str, Any]:
        body = _record(request, "returns", return_id)
        stage = return_stage(body)
        if stage is None or decision not in RETURN_STAGES[stage][1]:
            raise ApiError(
                STATUS_DOES_NOT_ALLOW,
                f"The return is {body['return_status']}: its status does not allow {decision}.",
            )
        if not approve and reason not in {name for name, _ in _reasons_for(body)}:
            raise ApiError(
                INVALID_REQUEST,
                "Invalid parameter. The reject reason is not "
                "one of the reasons offered for this return.",
            )
        now = max(int(time.time()), body["update_time"] + 1)
        status = RETURN_STAGES[stage][1][decision]
        if keep_item:
            status = "RETURN_OR_REFUND_REQUEST_SUCCESS"
        body.update(return_status=status, update_time=now)
        body["seller_next_action_response"] = next_action(body, now + 2 * 86400)
        if not approve:
            body["seller_reject_reason"] = reason
        _save_return(conn, request.shop_id, body)
        _log(conn, request, "return", return_id, decision, reason)
        return {}

    return _idempotent(request, act)


def return_approve(request: Request) -> Response:
    return _decide_return(request, approve=True)


def return_reject(request: Request) -> Response:
    return _decide_return(request, approve=False)


def _decide_cancellation(request: Request, *, approve: bool) -> Response:
    cancel_id = request.params["cancel_id"]
    payload = request.json()
    reason = payload.get("reject_reason", "")
    if not approve and (not isinstance(reason, str) or not reason):
        raise invalid("`reject_reason` is required.")

    def act(conn: sqlite3.Connection) -> dict[str, Any]:
        body = _record(request, "cancellations", cancel_id)
        if body["cancel_status"] != "CANCELLATION_REQUEST_PENDING" or body["cancel_type"] != (
            "BUYER_CANCEL"
        ):
            raise ApiError(
                STATUS_DOES_NOT_ALLOW,
                f"The cancellation is {body['cancel_status']}: it is not waiting for the seller.",
            )
        if not approve and reason not in {name for name, _ in REJECT_REASONS["cancel"]}:
            raise ApiError(
                INVALID_REQUEST,
                "Invalid parameter. The reject reason is not one "
                "of the reasons offered for this cancellation.",
            )
        now = max(int(time.time()), body["update_time"] + 1)
        status = "CANCELLATION_REQUEST_SUCCESS" if approve else "CANCELLATION_REQUEST_CANCEL"
        body.update(cancel_status=status, update_time=now, seller_next_action_response=[])
        conn.execute(
            "UPDATE cancellations SET status = ?, update_time = ?, body = ? WHERE id = ?",
            (status, now, orjson.dumps(body).decode(), cancel_id),
        )
        enqueue_webhook(
            conn,
            request.shop_id,
            11,
            {
                "order_id": body["order_id"],
                "cancellations_role": body["role"],
                "cancel_status": status,
                "cancel_id": cancel_id,
                "create_time": body["create_time"],
            },
        )
        _order_after_cancellation(conn, request.shop_id, body, approve=approve, now=now)
        _log(conn, request, "cancellation", cancel_id, "APPROVE" if approve else "REJECT", reason)
        return {}

    return _idempotent(request, act)


def _order_after_cancellation(
    conn: sqlite3.Connection,
    shop_id: str,
    cancellation: dict[str, Any],
    *,
    approve: bool,
    now: int,
) -> None:
    """Approved: the order is cancelled. Rejected: it goes ahead, no longer asking to cancel."""
    row = conn.execute(
        "SELECT body, address FROM orders WHERE id = ?", (cancellation["order_id"],)
    ).fetchone()
    order = orjson.loads(row[0])
    order["is_buyer_request_cancel"] = False
    if approve and order["status"] != "CANCELLED":
        order["cancellation_initiator"] = cancellation["role"]
        order["cancel_reason"] = cancellation["cancel_reason"]
        order_set_status(order, "CANCELLED", now, orjson.loads(row[1]))
    else:
        order["update_time"] = max(now, order["update_time"] + 1)
    conn.execute(
        "UPDATE orders SET status = ?, update_time = ?, body = ? WHERE id = ?",
        (order["status"], order["update_time"], orjson.dumps(order).decode(), order["id"]),
    )
    bump_orders_version(conn)
    enqueue_webhook(
        conn,
        shop_id,
        1,
        {
            # The type-1 page enumerates CANCEL, not CANCELLED (see events.cancellation_advance).
            "order_id": order["id"],
            "order_status": "CANCEL" if order["status"] == "CANCELLED" else order["status"],
            "is_on_hold_order": order["is_on_hold_order"],
            "update_time": order["update_time"],
        },
    )


def cancellation_approve(request: Request) -> Response:
    return _decide_cancellation(request, approve=True)


def cancellation_reject(request: Request) -> Response:
    return _decide_cancellation(request, approve=False)


def decisions_log(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every decision applied (control API): what a test counts to prove "acted once"."""
    rows = conn.execute(
        "SELECT shop_id, kind, record_id, decision, reject_reason, idempotency_key "
        "FROM decisions ORDER BY id"
    ).fetchall()
    keys = ("shop_id", "kind", "record_id", "decision", "reject_reason", "idempotency_key")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def register(app: SandboxApp) -> None:
    ensure_schema(app.conn())
    base = "/return_refund/202309"
    app.add("GET", f"{base}/orders/{{order_id}}/aftersale_eligibility", eligibility)
    app.add("GET", f"{base}/reject_reasons", reject_reasons)
    app.add("POST", f"{base}/returns/{{return_id}}/approve", return_approve)
    app.add("POST", f"{base}/returns/{{return_id}}/reject", return_reject)
    app.add("POST", f"{base}/cancellations/{{cancel_id}}/approve", cancellation_approve)
    app.add("POST", f"{base}/cancellations/{{cancel_id}}/reject", cancellation_reject)
