"""Orders, tracking, returns, cancellations: pagination, filters, shapes and the §4.4 relations."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.samples import SAMPLES

SEARCH = "/order/202309/orders/search"


def search(sandbox, body=None, **query):
    params = {"page_size": "100", **{k: str(v) for k, v in query.items()}}
    response = sandbox.call("POST", SEARCH, query=params, json=body or {})
    payload = response.json()
    assert payload["code"] == 0, payload
    return payload["data"]


def all_orders(sandbox, body=None, **query):
    orders, token, pages = [], None, 0
    while True:
        params = dict(query)
        if token:
            params["page_token"] = token
        data = search(sandbox, body, **params)
        orders += data["orders"]
        pages += 1
        token = data["next_page_token"]
        if token == "":
            return orders, data["total_count"], pages
        # Opaque base64 like TikTok's: it carries `=`/`+`/`/`, so it is signed raw and sent
        # percent-encoded (§2.1 step 3).
        assert set(token) & set("+/=")


def test_pagination_reaches_the_last_page(tiktok_sandbox):
    orders, total, pages = all_orders(tiktok_sandbox)

    ids = [order["id"] for order in orders]
    assert total == 300  # 10 days x 30 orders/day in the US shop (small seed)
    assert len(ids) == 300
    assert len(set(ids)) == 300
    assert pages == 3
    times = [order["create_time"] for order in orders]
    assert times == sorted(times, reverse=True)


def test_ascending_by_update_time_and_time_window(tiktok_sandbox):
    everything, _, _ = all_orders(tiktok_sandbox)
    middle = sorted(order["create_time"] for order in everything)[150]
    window = {"create_time_ge": middle, "create_time_lt": middle + 86400}

    orders, total, _ = all_orders(
        tiktok_sandbox, window, sort_field="update_time", sort_order="ASC"
    )

    expected = [o for o in everything if middle <= o["create_time"] < middle + 86400]
    assert total == len(expected)
    assert sorted(o["id"] for o in orders) == sorted(o["id"] for o in expected)
    updates = [order["update_time"] for order in orders]
    assert updates == sorted(updates)


def test_status_and_buyer_filters(tiktok_sandbox):
    everything, _, _ = all_orders(tiktok_sandbox)
    buyer = everything[0]["user_id"]

    completed, completed_total, _ = all_orders(tiktok_sandbox, {"order_status": "COMPLETED"})
    by_buyer, buyer_total, _ = all_orders(tiktok_sandbox, {"buyer_user_id": buyer})

    assert completed_total == sum(1 for o in everything if o["status"] == "COMPLETED")
    assert {o["status"] for o in completed} == {"COMPLETED"}
    assert buyer_total == sum(1 for o in everything if o["user_id"] == buyer)
    assert {o["user_id"] for o in by_buyer} == {buyer}


def test_every_status_is_seeded(tiktok_sandbox):
    us_orders, _, _ = all_orders(tiktok_sandbox)
    gb = tiktok_sandbox.call("POST", SEARCH, seller_index=1, query={"page_size": "100"}, json={})

    assert {o["status"] for o in us_orders} == {
        "UNPAID",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }  # ON_HOLD is for non-US shops
    gb_statuses = set()
    token = None
    while True:
        query = {"page_size": "100", **({"page_token": token} if token else {})}
        data = tiktok_sandbox.call("POST", SEARCH, seller_index=1, query=query, json={}).json()[
            "data"
        ]
        gb_statuses |= {o["status"] for o in data["orders"]}
        token = data["next_page_token"]
        if not token:
            break
    assert gb.json()["code"] == 0
    assert "ON_HOLD" in gb_statuses


def test_page_size_bounds(tiktok_sandbox):
    too_big = tiktok_sandbox.call("POST", SEARCH, query={"page_size": "101"}, json={})
    zero = tiktok_sandbox.call("POST", SEARCH, query={"page_size": "0"}, json={})
    missing = tiktok_sandbox.call("POST", SEARCH, json={})

    for response in (too_big, zero, missing):
        assert response.json()["code"] == 40006
        assert response.json()["data"] == {}


def test_payment_relations_and_one_unit_per_line(tiktok_sandbox):
    orders, _, _ = all_orders(tiktok_sandbox)

    for order in orders:
        pay = {k: Decimal(v) for k, v in order["payment"].items() if k != "currency"}
        lines = order["line_items"]
        assert order["payment"]["currency"] == "USD"
        assert pay["sub_total"] == (
            pay["original_total_product_price"] - pay["seller_discount"] - pay["platform_discount"]
        )
        assert pay["shipping_fee"] == (
            pay["original_shipping_fee"]
            - pay["shipping_fee_seller_discount"]
            - pay["shipping_fee_platform_discount"]
        )
        assert pay["total_amount"] == (
            pay["sub_total"] + pay["shipping_fee"] + pay["tax"] + pay["retail_delivery_fee"]
        )
        assert pay["original_total_product_price"] == sum(
            Decimal(line["original_price"]) for line in lines
        )
        for line in lines:
            assert "quantity" not in line
            assert Decimal(line["sale_price"]) == (
                Decimal(line["original_price"])
                - Decimal(line["seller_discount"])
                - Decimal(line["platform_discount"])
            )


def test_order_fields_follow_the_official_sample(tiktok_sandbox):
    sample = json.loads((SAMPLES / "POST_order_202309_orders_search.json").read_text())
    sample_order = sample["response_sample"]["data"]["orders"][0]
    orders, _, _ = all_orders(tiktok_sandbox)

    for order in orders:
        assert set(order) <= set(sample_order), set(order) - set(sample_order)
        assert set(order["payment"]) <= set(sample_order["payment"])
        assert set(order["recipient_address"]) <= set(sample_order["recipient_address"])
        for line in order["line_items"]:
            assert set(line) <= set(sample_order["line_items"][0])
        assert isinstance(order["id"], str) and len(order["id"]) == 18
    shipped = next(o for o in orders if o["status"] == "DELIVERED")
    address = shipped["recipient_address"]
    assert [d["address_level"] for d in address["district_info"]] == ["L0", "L1", "L2"]
    assert "***" in address["phone_number"]
    unpaid = next(o for o in orders if o["status"] == "UNPAID")
    assert unpaid["recipient_address"] == {"region_code": "US"}


def test_order_detail_both_versions_and_limits(tiktok_sandbox):
    orders, _, _ = all_orders(tiktok_sandbox)
    wanted = [orders[5]["id"], orders[0]["id"]]

    v2023 = tiktok_sandbox.call("GET", "/order/202309/orders", query={"ids": ",".join(wanted)})
    v2025 = tiktok_sandbox.call("GET", "/order/202507/orders", query={"ids": ",".join(wanted)})
    too_many = tiktok_sandbox.call(
        "GET", "/order/202309/orders", query={"ids": ",".join(o["id"] for o in orders[:51])}
    )
    gb_order = tiktok_sandbox.call(
        "POST", SEARCH, seller_index=1, query={"page_size": "1"}, json={}
    ).json()["data"]["orders"][0]["id"]
    foreign = tiktok_sandbox.call("GET", "/order/202309/orders", query={"ids": gb_order})

    assert [o["id"] for o in v2023.json()["data"]["orders"]] == wanted
    assert v2025.json()["data"]["orders"] == v2023.json()["data"]["orders"]
    assert v2023.json()["data"]["orders"][1] == orders[0]
    assert too_many.json()["code"] == 40006
    assert foreign.json()["code"] == 21008111


def test_tracking_of_a_delivered_order(tiktok_sandbox):
    orders, _, _ = all_orders(tiktok_sandbox, {"order_status": "DELIVERED"})
    order = orders[0]

    response = tiktok_sandbox.call("GET", f"/fulfillment/202309/orders/{order['id']}/tracking")

    events = response.json()["data"]["tracking"]
    assert events[0]["description"] == "Delivered, left at front door"
    assert events[0]["update_time_millis"] == order["delivery_time"] * 1000
    assert events[-1]["update_time_millis"] == order["rts_time"] * 1000
    assert [e["update_time_millis"] for e in events] == sorted(
        (e["update_time_millis"] for e in events), reverse=True
    )


@pytest.mark.parametrize(
    ("path", "array", "low", "high"),
    [
        ("/return_refund/202309/returns/search", "return_orders", 10, 50),
        ("/return_refund/202309/cancellations/search", "cancellations", 1, 50),
    ],
)
def test_after_sale_search_pages_and_bounds(tiktok_sandbox, path, array, low, high):
    seen, token = [], None
    while True:
        query = {"page_size": str(low), **({"page_token": token} if token else {})}
        data = tiktok_sandbox.call("POST", path, query=query, json={}).json()["data"]
        seen += data[array]
        token = data["next_page_token"]
        if not token:
            break
    below = tiktok_sandbox.call("POST", path, query={"page_size": str(low - 1)}, json={})
    above = tiktok_sandbox.call("POST", path, query={"page_size": str(high + 1)}, json={})

    assert len(seen) == data["total_count"]
    assert len(seen) > low  # several pages
    assert above.json()["code"] == 40006
    if low > 1:
        assert below.json()["code"] == 40006
    times = [item["create_time"] for item in seen]
    assert times == sorted(times)  # ASC is the default for after-sale searches


def test_returns_and_cancellations_have_several_statuses(tiktok_sandbox):
    returns = tiktok_sandbox.call(
        "POST", "/return_refund/202309/returns/search", query={"page_size": "50"}, json={}
    ).json()["data"]
    cancellations = tiktok_sandbox.call(
        "POST", "/return_refund/202309/cancellations/search", query={"page_size": "50"}, json={}
    ).json()["data"]
    pending = tiktok_sandbox.call(
        "POST",
        "/return_refund/202309/cancellations/search",
        query={"page_size": "50"},
        json={"cancel_status": ["CANCELLATION_REQUEST_PENDING"]},
    ).json()["data"]

    assert len({r["return_status"] for r in returns["return_orders"]}) >= 3
    assert len({c["cancel_status"] for c in cancellations["cancellations"]}) >= 2
    assert {c["cancel_status"] for c in pending["cancellations"]} == {
        "CANCELLATION_REQUEST_PENDING"
    }
    first = returns["return_orders"][0]
    refund = first["refund_amount"]
    assert Decimal(refund["refund_total"]) == (
        Decimal(refund["refund_subtotal"])
        + Decimal(refund["refund_shipping_fee"])
        + Decimal(refund["refund_tax"])
    )
    assert isinstance(first["discount_amount"], dict)  # object, as in the official sample
