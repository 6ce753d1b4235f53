"""The sandbox's seller decisions (§5.1/5.2), product changes, and the buyer page's cards.

Each test that changes a record uses a fresh sandbox (`tiktok_sandbox_factory`), so the session
sandbox other tests read stays as seeded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

RR = "/return_refund/202309"
APPROVALS = {
    "REFUND": ("APPROVE_REFUND", "RETURN_OR_REFUND_REQUEST_SUCCESS"),
    "RETURN_AND_REFUND": ("APPROVE_RETURN", "AWAITING_BUYER_SHIP"),
    "REPLACEMENT": ("APPROVE_REPLACEMENT", "REPLACEMENT_REQUEST_COMPLETE"),
}


def search(sandbox: Any, path: str, key: str, body: dict[str, Any], size: str = "50") -> list:
    answer = sandbox.call("POST", path, query={"page_size": size}, json=body).json()
    assert answer["code"] == 0, answer
    return answer["data"][key]


def returns(sandbox: Any, **body: Any) -> list[dict[str, Any]]:
    return search(sandbox, f"{RR}/returns/search", "return_orders", body)


def cancellations(sandbox: Any, **body: Any) -> list[dict[str, Any]]:
    return search(sandbox, f"{RR}/cancellations/search", "cancellations", body)


def decide(sandbox: Any, path: str, body: dict[str, Any] | None, key: str) -> dict[str, Any]:
    return sandbox.call("POST", path, query={"idempotency_key": key}, json=body).json()


@pytest.fixture
def sandbox(tiktok_sandbox_factory):
    return tiktok_sandbox_factory()


def test_eligibility_follows_the_order_status_and_open_returns(tiktok_sandbox):
    orders = search(
        tiktok_sandbox, "/order/202309/orders/search", "orders", {"order_status": "DELIVERED"}
    )
    pending = returns(tiktok_sandbox, return_status=["RETURN_OR_REFUND_REQUEST_PENDING"])
    awaiting = search(
        tiktok_sandbox,
        "/order/202309/orders/search",
        "orders",
        {"order_status": "AWAITING_SHIPMENT"},
    )

    def checks(order_id: str) -> dict[str, dict[str, Any]]:
        data = tiktok_sandbox.call("GET", f"{RR}/orders/{order_id}/aftersale_eligibility").json()
        assert data["code"] == 0
        first = data["data"]["sku_eligibility"][0]
        return {check["request_type"]: check for check in first["line_item_eligibility"]}

    with_return = {r["order_id"] for r in returns(tiktok_sandbox)}
    delivered = next(o for o in orders if o["id"] not in with_return)
    assert {k: v["eligible"] for k, v in checks(delivered["id"]).items()} == {
        "CANCEL": False,
        "REFUND": True,
        "RETURN_AND_REFUND": True,
    }
    # A line under an open return is not eligible again, with the platform's reason.
    under_return = checks(pending[0]["order_id"])
    assert under_return["RETURN_AND_REFUND"]["eligible"] is False
    assert under_return["RETURN_AND_REFUND"]["ineligible_code"] == 25020202
    assert under_return["RETURN_AND_REFUND"]["ineligible_reason"] == (
        "A return or refund is already open."
    )
    not_shipped = checks(awaiting[-1]["id"])
    assert not_shipped["RETURN_AND_REFUND"]["ineligible_reason"] == (
        "The order has not been delivered yet."
    )
    # Another seller's order is refused like order detail refuses it.
    other = tiktok_sandbox.call(
        "GET", f"{RR}/orders/{delivered['id']}/aftersale_eligibility", seller_index=1
    ).json()
    assert other["code"] == 21008111


def test_reject_reasons_depend_on_the_stage(tiktok_sandbox):
    pending = returns(tiktok_sandbox, return_status=["RETURN_OR_REFUND_REQUEST_PENDING"])[0]
    shipped = returns(tiktok_sandbox, return_status=["BUYER_SHIPPED_ITEM"])[0]
    cancel = cancellations(tiktok_sandbox, cancel_status=["CANCELLATION_REQUEST_PENDING"])[0]

    def reasons(record_id: str) -> list[str]:
        answer = tiktok_sandbox.call(
            "GET", f"{RR}/reject_reasons", query={"return_or_cancel_id": record_id}
        ).json()
        assert answer["code"] == 0
        return [reason["name"] for reason in answer["data"]["reasons"]]

    assert reasons(pending["return_id"])[0] == "reverse_reject_request_reason_1"
    assert reasons(shipped["return_id"])[0] == "reverse_reject_return_parcel_reason_1"
    assert reasons(cancel["cancel_id"]) == [
        "reverse_reject_cancel_reason_1",
        "reverse_reject_cancel_reason_2",
    ]
    missing = tiktok_sandbox.call(
        "GET", f"{RR}/reject_reasons", query={"return_or_cancel_id": "1"}
    ).json()
    assert missing["code"] == 25001001
    # The seeded next actions are the documented values (lywzx SearchReturns/Cancellations).
    assert shipped["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_RECEIVE_PACKAGE"
    assert cancel["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_CANCEL"


def test_approving_a_return_once_per_key_and_refusing_a_stale_decision(sandbox):
    target = returns(sandbox, return_status=["RETURN_OR_REFUND_REQUEST_PENDING"])[0]
    decision, moved_to = APPROVALS[target["return_type"]]
    path = f"{RR}/returns/{target['return_id']}/approve"

    first = decide(sandbox, path, {"decision": decision}, "key-1")
    again = decide(sandbox, path, {"decision": decision}, "key-1")
    stale = decide(sandbox, path, {"decision": decision}, "key-2")

    assert first["code"] == 0 and again["code"] == 0
    assert stale["code"] == 25020011
    assert moved_to in stale["message"]
    applied = sandbox.control("GET", "/_sandbox/decisions")["decisions"]
    assert applied == [
        {
            "shop_id": sandbox.shop()["id"],
            "kind": "return",
            "record_id": target["return_id"],
            "decision": decision,
            "reject_reason": "",
            "idempotency_key": "key-1",
        }
    ]
    after = returns(sandbox, return_ids=[target["return_id"]])[0]
    assert after["return_status"] == moved_to
    assert after["seller_next_action_response"] == []
    pushed = [w for w in sandbox.webhook_log() if w["type"] == 12]
    assert len(pushed) == 1


def test_rejecting_needs_a_reason_the_platform_offers(sandbox):
    target = returns(sandbox, return_status=["BUYER_SHIPPED_ITEM"])[0]
    path = f"{RR}/returns/{target['return_id']}/reject"

    made_up = decide(
        sandbox, path, {"decision": "REJECT_RECEIVED_PACKAGE", "reject_reason": "because"}, "k1"
    )
    wrong_stage = decide(
        sandbox,
        path,
        {"decision": "REJECT_RETURN", "reject_reason": "reverse_reject_request_reason_1"},
        "k2",
    )
    done = decide(
        sandbox,
        path,
        {
            "decision": "REJECT_RECEIVED_PACKAGE",
            "reject_reason": "reverse_reject_return_parcel_reason_2",
            "comment": "The seal is broken.",
        },
        "k3",
    )

    assert made_up["code"] == 25001001
    assert wrong_stage["code"] == 25020011
    assert done["code"] == 0
    assert returns(sandbox, return_ids=[target["return_id"]])[0]["return_status"] == (
        "REJECT_RECEIVE_PACKAGE"
    )
    assert len(sandbox.control("GET", "/_sandbox/decisions")["decisions"]) == 1


def test_approving_a_buyer_cancellation_cancels_the_order(sandbox):
    target = cancellations(sandbox, cancel_status=["CANCELLATION_REQUEST_PENDING"])[0]
    path = f"{RR}/cancellations/{target['cancel_id']}/approve"

    answer = decide(sandbox, path, None, "cancel-1")
    twice = decide(
        sandbox,
        f"{RR}/cancellations/{target['cancel_id']}/reject",
        {"reject_reason": "reverse_reject_cancel_reason_1"},
        "cancel-2",
    )

    assert answer["code"] == 0
    assert twice["code"] == 25020011
    order = sandbox.call("GET", "/order/202309/orders", query={"ids": target["order_id"]}).json()
    assert order["data"]["orders"][0]["status"] == "CANCELLED"
    assert order["data"]["orders"][0]["is_buyer_request_cancel"] is False
    assert [w["type"] for w in sandbox.webhook_log()][:2] == [1, 11]  # newest first


def test_product_changes_are_searchable_and_announced(sandbox):
    product = search(sandbox, "/product/202502/products/search", "products", {}, "5")[0]

    sandbox.control(
        "POST", f"/_sandbox/products/{product['id']}/update", {"quantity": 0, "title": "Renamed"}
    )
    sandbox.control(
        "POST", f"/_sandbox/products/{product['id']}/update", {"status": "SELLER_DEACTIVATED"}
    )

    changed = search(
        sandbox,
        "/product/202502/products/search",
        "products",
        {"update_time_ge": product["update_time"] + 1},
        "5",
    )
    assert [p["id"] for p in changed] == [product["id"]]
    assert changed[0]["title"] == "Renamed"
    assert changed[0]["status"] == "SELLER_DEACTIVATED"
    assert {level["quantity"] for sku in changed[0]["skus"] for level in sku["inventory"]} == {0}
    assert [w["type"] for w in sandbox.webhook_log()][:2] == [5, 15]


def test_buyer_page_draws_every_card_type_as_a_card(sandbox):
    shop = sandbox.shop()
    conversation = sandbox.call(
        "GET", "/customer_service/202309/conversations", query={"page_size": "20"}
    ).json()["data"]["conversations"][0]
    buyer = next(p for p in conversation["participants"] if p["role"] == "BUYER")
    delivered = search(
        sandbox, "/order/202309/orders/search", "orders", {"order_status": "DELIVERED"}
    )
    open_orders = {r["order_id"] for r in returns(sandbox)}
    order = next(o for o in delivered if o["id"] not in open_orders)
    product = search(sandbox, "/product/202502/products/search", "products", {}, "5")[0]
    coupon = next(
        c
        for c in search(sandbox, "/promotion/202406/coupons/search", "coupons", {}, "20")
        if c["status"] == "ONGOING"
        and c["display_type"] == "CHAT"
        and c["creation_source"] == "SELLER_CENTER"
        and c["target_buyer_segment"] == "ALL_BUYERS"
    )
    cards = [
        ("ORDER_CARD", {"order_id": order["id"]}),
        ("PRODUCT_CARD", {"product_id": product["id"]}),
        ("COUPON_CARD", {"coupon_id": coupon["id"]}),
        ("LOGISTICS_CARD", {"order_id": order["id"], "package_id": order["packages"][0]["id"]}),
        (
            "RETURN_REFUND_CARD",
            {"order_id": order["id"], "sku_id": order["line_items"][0]["sku_id"]},
        ),
    ]
    for kind, content in cards:
        answer = sandbox.call(
            "POST",
            f"/customer_service/202309/conversations/{conversation['id']}/messages",
            json={"type": kind, "content": json.dumps(content)},
        ).json()
        assert answer["code"] == 0, answer

    thread = sandbox.http.get(
        f"{sandbox.base_url}/buyer/api/thread",
        params={"shop_id": shop["id"], "user_id": buyer["user_id"]},
    ).json()

    drawn = [m["card"]["kind"] for m in thread["messages"][-5:]]
    assert drawn == ["order", "product", "coupon", "logistics", "return_refund"]
    last = thread["messages"][-5:]
    assert last[0]["card"]["status"] == "DELIVERED"
    assert last[1]["card"]["title"] == product["title"]
    assert last[2]["card"]["offer"].endswith("off on orders over 25.00 USD")
    assert last[3]["card"]["package_id"] == order["packages"][0]["id"]
    assert last[4]["card"]["action"] == "Request a return or refund"
    page = sandbox.http.get(f"{sandbox.base_url}/buyer/").text
    for kind in ("logistics", "return_refund", "coupon"):
        assert f'c.kind === "{kind}"' in page
