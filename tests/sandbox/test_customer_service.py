"""Customer service (§6): conversations, messages, the eight send types, read, upload, settings."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

BASE = "/customer_service/202309"


def conversations(sandbox, **query):
    items, token = [], None
    while True:
        params = {"page_size": "20", **query, **({"page_token": token} if token else {})}
        data = sandbox.call("GET", f"{BASE}/conversations", query=params).json()["data"]
        items += data["conversations"]
        token = data["next_page_token"]
        if not token:
            return items


def messages(sandbox, conversation_id, **query):
    items, token = [], None
    while True:
        params = {"page_size": "10", **query, **({"page_token": token} if token else {})}
        data = sandbox.call(
            "GET", f"{BASE}/conversations/{conversation_id}/messages", query=params
        ).json()["data"]
        items += data["messages"]
        token = data["next_page_token"]
        if not token:
            return items


def send(sandbox, conversation_id, message_type, content):
    return sandbox.call(
        "POST",
        f"{BASE}/conversations/{conversation_id}/messages",
        json={"type": message_type, "content": json.dumps(content)},
    ).json()


def test_conversations_pages_and_participants(tiktok_sandbox):
    first_page = tiktok_sandbox.call(
        "GET", f"{BASE}/conversations", query={"page_size": "5"}
    ).json()["data"]
    everything = conversations(tiktok_sandbox)
    too_big = tiktok_sandbox.call("GET", f"{BASE}/conversations", query={"page_size": "21"})

    assert len(first_page["conversations"]) == 5
    assert first_page["next_page_token"] != ""
    assert len(everything) >= 12
    assert len({c["id"] for c in everything}) == len(everything)
    buyer = everything[0]["participants"][0]
    assert buyer["role"] == "BUYER"
    orders = tiktok_sandbox.call(
        "POST",
        "/order/202309/orders/search",
        query={"page_size": "100"},
        json={"buyer_user_id": buyer["user_id"]},
    ).json()["data"]
    assert orders["total_count"] >= 1  # participant user_id is the order's user_id
    assert too_big.json()["code"] == 40006
    served = [c for c in everything if c["participant_count"] == 3]
    assert served
    assert {p["role"] for p in served[0]["participants"]} == {"BUYER", "SHOP", "CUSTOMER_SERVICE"}
    assert {c["participant_count"] for c in everything} == {2, 3}


def test_seeded_chats_cover_the_message_types(tiktok_sandbox):
    seen_types, invisible, texts = set(), 0, []
    for conversation in conversations(tiktok_sandbox):
        for message in messages(tiktok_sandbox, conversation["id"]):
            seen_types.add(message["type"])
            invisible += not message["is_visible"]
            if message["type"] == "TEXT":
                texts.append(json.loads(message["content"])["content"])

    assert {
        "TEXT",
        "IMAGE",
        "ORDER_CARD",
        "PRODUCT_CARD",
        "BUYER_ENTER_FROM_ORDER",
        "BUYER_ENTER_FROM_PRODUCT",
        "NOTIFICATION",
        "ALLOCATED_SERVICE",
        "VIDEO",
        "EMOTICONS",
        "OTHER",
    } <= seen_types
    assert invisible >= 1
    asking = [t for t in texts if t.startswith("Where is my order? The order id is ")]
    order_id = asking[0].rsplit(" ", 1)[1]
    detail = tiktok_sandbox.call("GET", "/order/202309/orders", query={"ids": order_id}).json()
    assert [o["id"] for o in detail["data"]["orders"]] == [order_id]


def test_seeded_chats_fit_the_orders_they_are_about(tiktok_sandbox):
    """The demo never asks when a completed order ships: each script is given to a buyer whose
    order it fits."""
    from marketplaces.tiktok.sandbox.seed.catalog import (
        ARRIVED,
        CANCELLABLE,
        NOT_SHIPPED,
        ON_ITS_WAY,
    )

    def status_of(order_id: str) -> str:
        found = tiktok_sandbox.call("GET", "/order/202309/orders", query={"ids": order_id}).json()
        return found["data"]["orders"][0]["status"]

    checked = []
    for conversation in conversations(tiktok_sandbox):
        chat = messages(tiktok_sandbox, conversation["id"], sort_order="ASC", sort_field="index")
        texts = [json.loads(m["content"]).get("content", "") for m in chat if m["type"] == "TEXT"]
        cards = [json.loads(m["content"])["order_id"] for m in chat if m["type"] == "ORDER_CARD"]
        for text in texts:
            if text.startswith("Where is my order? The order id is "):
                checked.append((status_of(text.rsplit(" ", 1)[1]), ON_ITS_WAY))
            elif text.startswith("Can I still cancel order "):
                checked.append((status_of(text.split()[-1].rstrip("?")), CANCELLABLE))
            elif text.endswith("— when will it ship?"):
                checked.append((status_of(text.split()[2]), NOT_SHIPPED))
            elif text == "The item arrived damaged, see the photo.":
                checked.append((status_of(cards[0]), ARRIVED))
    assert len(checked) >= 4
    assert [status for status, fits in checked if status not in fits] == []


def test_a_live_buyer_writes_what_fits_their_newest_order():
    from marketplaces.tiktok.sandbox.events import BUYER_LINES, buyer_lines_for

    assert "Hi, when will my order ship?" not in buyer_lines_for("COMPLETED")
    assert "Thank you, received it today!" in buyer_lines_for("COMPLETED")
    assert "Hi, when will my order ship?" in buyer_lines_for("AWAITING_SHIPMENT")
    assert "Thank you, received it today!" not in buyer_lines_for("AWAITING_SHIPMENT")
    assert buyer_lines_for(None) == [
        "Do you have this in a larger size?",
        "Is there a discount if I buy two?",
    ]
    assert set(buyer_lines_for("DELIVERED")) <= set(BUYER_LINES)


def test_messages_sort_both_ways_by_index(tiktok_sandbox):
    conversation = conversations(tiktok_sandbox)[0]

    newest_first = messages(tiktok_sandbox, conversation["id"])
    oldest_first = messages(
        tiktok_sandbox, conversation["id"], sort_order="ASC", sort_field="index"
    )
    small_pages = messages(tiktok_sandbox, conversation["id"], page_size="1", sort_order="ASC")
    too_big = tiktok_sandbox.call(
        "GET", f"{BASE}/conversations/{conversation['id']}/messages", query={"page_size": "11"}
    )

    assert [m["id"] for m in oldest_first] == [m["id"] for m in reversed(newest_first)]
    assert [m["id"] for m in small_pages] == [m["id"] for m in oldest_first]
    indexes = [int(m["index"]) for m in oldest_first]
    assert indexes == sorted(indexes)
    assert newest_first[0]["id"] == conversation["latest_message"]["id"]
    assert too_big.json()["code"] == 40006


def test_send_every_type_and_see_it_in_the_conversation(tiktok_sandbox):
    conversation = conversations(tiktok_sandbox)[1]
    orders = tiktok_sandbox.call(
        "POST",
        "/order/202309/orders/search",
        query={"page_size": "50"},
        json={"order_status": "DELIVERED"},
    ).json()["data"]["orders"]
    # A delivered order whose SKU is still open to after-sale (not under a return already).
    order = next(
        order
        for order in orders
        if any(
            check["eligible"] and check["request_type"] == "RETURN_AND_REFUND"
            for check in tiktok_sandbox.call(
                "GET", f"/return_refund/202309/orders/{order['id']}/aftersale_eligibility"
            ).json()["data"]["sku_eligibility"][0]["line_item_eligibility"]
        )
    )
    products = tiktok_sandbox.call(
        "POST",
        "/product/202309/products/search",
        query={"page_size": "5"},
        json={"status": "ACTIVATE"},
    ).json()["data"]["products"]
    coupons = tiktok_sandbox.call(
        "POST",
        "/promotion/202406/coupons/search",
        query={"page_size": "20"},
        json={"status": ["ONGOING"], "display_type": ["CHAT"]},
    ).json()["data"]["coupons"]
    sendable = [
        coupon
        for coupon in coupons
        if coupon["creation_source"] == "SELLER_CENTER"
        and coupon["target_buyer_segment"] != "REPEAT_CUSTOMERS"
    ]
    cases = [
        ("TEXT", {"content": "Your parcel is on its way."}),
        ("IMAGE", {"url": "https://example.invalid/x.png", "width": 1280, "height": 720}),
        ("VIDEO", {"vid": "v10394g5000cd499vc7og65mqn3r3dg0"}),
        ("PRODUCT_CARD", {"product_id": products[0]["id"]}),
        ("ORDER_CARD", {"order_id": order["id"]}),
        (
            "RETURN_REFUND_CARD",
            {"order_id": order["id"], "sku_id": order["line_items"][0]["sku_id"]},
        ),
        ("COUPON_CARD", {"coupon_id": sendable[0]["id"]}),
        ("LOGISTICS_CARD", {"order_id": order["id"], "package_id": order["packages"][0]["id"]}),
    ]

    sent_ids = []
    for message_type, content in cases:
        answer = send(tiktok_sandbox, conversation["id"], message_type, content)
        assert answer["code"] == 0, (message_type, answer)
        sent_ids.append(answer["data"]["message_id"])

    latest = messages(tiktok_sandbox, conversation["id"], page_size="8")[:8]
    assert [m["id"] for m in reversed(latest)] == sent_ids
    assert [m["type"] for m in reversed(latest)] == [case[0] for case in cases]
    assert {m["sender"]["role"] for m in latest} == {"SHOP"}
    assert json.loads(latest[-1]["content"]) == cases[0][1]


@pytest.mark.parametrize(
    ("message_type", "content"),
    [
        ("TEXT", "x" * 2001),
        ("TEXT", ""),
        ("STICKER", "hi"),
        ("ORDER_CARD", "not-an-order"),
        ("COUPON_CARD", "expired"),
    ],
)
def test_send_refuses_bad_messages(tiktok_sandbox, message_type, content):
    conversation = conversations(tiktok_sandbox)[2]
    if message_type == "COUPON_CARD":
        expired = tiktok_sandbox.call(
            "POST",
            "/promotion/202406/coupons/search",
            query={"page_size": "20"},
            json={"status": ["EXPIRED"]},
        ).json()["data"]["coupons"][0]
        payload = {"coupon_id": expired["id"]}
    elif message_type == "ORDER_CARD":
        payload = {"order_id": "576000000000000000"}
    else:
        payload = {"content": content}
    before = len(messages(tiktok_sandbox, conversation["id"]))

    answer = send(tiktok_sandbox, conversation["id"], message_type, payload)

    # An ineligible coupon has its own refusal (the sandbox's 45109011), the rest are malformed.
    assert answer["code"] == (45109011 if message_type == "COUPON_CARD" else 40006)
    assert len(messages(tiktok_sandbox, conversation["id"])) == before


def test_text_of_exactly_2000_characters_is_accepted(tiktok_sandbox):
    conversation = conversations(tiktok_sandbox)[2]

    assert send(tiktok_sandbox, conversation["id"], "TEXT", {"content": "y" * 2000})["code"] == 0


def test_content_must_be_a_json_string(tiktok_sandbox):
    conversation = conversations(tiktok_sandbox)[2]

    answer = tiktok_sandbox.call(
        "POST",
        f"{BASE}/conversations/{conversation['id']}/messages",
        json={"type": "TEXT", "content": {"content": "as an object"}},
    )

    assert answer.json()["code"] == 40006


def test_mark_read_clears_unread(tiktok_sandbox):
    shop_id = tiktok_sandbox.shop()["id"]
    written = tiktok_sandbox.buyer_write(shop_id, text="Anyone there?")
    before = next(c for c in conversations(tiktok_sandbox) if c["id"] == written["conversation_id"])

    answer = tiktok_sandbox.call(
        "POST", f"{BASE}/conversations/{written['conversation_id']}/messages/read", json={}
    )

    after = next(c for c in conversations(tiktok_sandbox) if c["id"] == written["conversation_id"])
    assert before["unread_count"] >= 1
    assert before["latest_message"]["id"] == written["id"]
    assert answer.json() == {**answer.json(), "code": 0, "data": {}}
    assert after["unread_count"] == 0


def test_create_conversation_returns_the_existing_one(tiktok_sandbox):
    existing = conversations(tiktok_sandbox)[0]
    buyer_user_id = existing["participants"][0]["user_id"]

    again = tiktok_sandbox.call(
        "POST", f"{BASE}/conversations", json={"buyer_user_id": buyer_user_id}
    ).json()
    stranger = tiktok_sandbox.call(
        "POST", f"{BASE}/conversations", json={"buyer_user_id": "7000000000000000001"}
    ).json()

    assert again["data"] == {"conversation_id": existing["id"]}
    assert stranger["code"] == 45109003


def test_image_upload_is_served_back(tiktok_sandbox):
    buffer = io.BytesIO()
    Image.new("RGB", (321, 123), (10, 20, 30)).save(buffer, format="PNG")
    png = buffer.getvalue()

    answer = tiktok_sandbox.call(
        "POST", f"{BASE}/images/upload", files={"data": ("photo.png", png, "image/png")}
    ).json()
    not_image = tiktok_sandbox.call(
        "POST", f"{BASE}/images/upload", files={"data": ("notes.txt", b"hello", "text/plain")}
    ).json()
    wrong_field = tiktok_sandbox.call(
        "POST", f"{BASE}/images/upload", files={"file": ("photo.png", png, "image/png")}
    ).json()

    assert answer["code"] == 0
    assert (answer["data"]["width"], answer["data"]["height"]) == (321, 123)
    assert answer["data"]["url"].startswith(tiktok_sandbox.base_url + "/_sandbox/images/")
    served = tiktok_sandbox.http.get(answer["data"]["url"])
    assert served.content == png
    assert served.headers["Content-Type"] == "image/png"
    assert not_image["code"] == 40006
    assert wrong_field["code"] == 40006


def test_agent_settings_round_trip(tiktok_sandbox):
    path = f"{BASE}/agents/settings"

    tiktok_sandbox.call("PUT", path, json={"can_accept_chat": False})
    off = tiktok_sandbox.call("GET", path).json()["data"]
    tiktok_sandbox.call("PUT", path, json={"can_accept_chat": True})
    on = tiktok_sandbox.call("GET", path).json()["data"]

    assert off == {"can_accept_chat": False}
    assert on == {"can_accept_chat": True}


def test_products_and_coupons(tiktok_sandbox):
    search_2025 = tiktok_sandbox.call(
        "POST", "/product/202502/products/search", query={"page_size": "5"}, json={}
    ).json()["data"]
    active = tiktok_sandbox.call(
        "POST",
        "/product/202309/products/search",
        query={"page_size": "100"},
        json={"status": "ACTIVATE"},
    ).json()["data"]
    detail = tiktok_sandbox.call(
        "GET", f"/product/202309/products/{search_2025['products'][0]['id']}"
    ).json()["data"]
    missing = tiktok_sandbox.call("GET", "/product/202309/products/1").json()
    coupons = tiktok_sandbox.call(
        "POST", "/promotion/202406/coupons/search", query={"page_size": "20"}, json={}
    ).json()["data"]
    coupon = tiktok_sandbox.call(
        "GET", f"/promotion/202406/coupons/{coupons['coupons'][0]['id']}"
    ).json()["data"]

    assert search_2025["total_count"] == 12
    assert len(search_2025["products"]) == 5
    assert active["total_count"] == 11
    image_url = detail["main_images"][0]["urls"][0]
    assert tiktok_sandbox.http.get(image_url).headers["Content-Type"] == "image/png"
    assert detail["skus"][0]["price"]["currency"] == "USD"
    assert missing["code"] == 12019150
    assert {(c["display_type"], c["status"]) for c in coupons["coupons"]} >= {
        ("CHAT", "ONGOING"),
        ("REGULAR", "ONGOING"),
        ("CHAT", "EXPIRED"),
        ("REGULAR", "EXPIRED"),
    }
    assert coupon["coupon"] == coupons["coupons"][0]
