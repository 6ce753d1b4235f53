"""Signed webhooks to a local receiver, webhook faults, API faults and live behaviour."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplaces.tiktok.signing import verify_webhook

WAIT_SECONDS = 15


class Receiver:
    """A loopback HTTP server that records every webhook (raw body and Authorization header)."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.status = status
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((body, self.headers.get("Authorization", "")))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tiktok/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        with self.lock:
            return [json.loads(body) for body, _ in self.received]

    def wait_for(self, count: int) -> list[dict]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if len(self.events()) >= count:
                return self.events()
            time.sleep(0.05)
        return self.events()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def wait_for_state(sandbox, state: str, count: int) -> list[dict]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        log = [w for w in sandbox.webhook_log() if w["state"] == state]
        if len(log) >= count:
            return log
        time.sleep(0.05)
    return [w for w in sandbox.webhook_log() if w["state"] == state]


def test_buyer_message_is_pushed_signed(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10, webhook_url=receiver.url)
    shop_id = sandbox.shop()["id"]

    message = sandbox.buyer_write(shop_id, text="Hello from a buyer")
    events = receiver.wait_for(1)

    body, signature = receiver.received[0]
    assert verify_webhook(sandbox.app_key, sandbox.app_secret, body, signature)
    assert not verify_webhook(sandbox.app_key, sandbox.app_secret, body + b" ", signature)
    assert not verify_webhook("wrong-key", sandbox.app_secret, body, signature)
    event = events[0]
    assert event["type"] == 14
    assert event["shop_id"] == shop_id
    assert event["data"]["message_id"] == message["id"]
    assert event["data"]["conversation_id"] == message["conversation_id"]
    assert event["data"]["content"] == '{"content":"Hello from a buyer"}'
    assert event["data"]["sender"]["role"] == "BUYER"
    assert event["data"]["index"] == message["index"]
    assert len(event["tts_notification_id"]) == 19


def test_state_changes_push_types_1_6_7_11_12(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10, webhook_url=receiver.url)
    shop = sandbox.shop()
    unpaid = sandbox.call(
        "POST",
        "/order/202309/orders/search",
        query={"page_size": "10"},
        json={"order_status": "UNPAID"},
    ).json()["data"]["orders"][0]
    pending_cancel = sandbox.call(
        "POST",
        "/return_refund/202309/cancellations/search",
        query={"page_size": "10"},
        json={"cancel_status": ["CANCELLATION_REQUEST_PENDING"]},
    ).json()["data"]["cancellations"][0]
    pending_return = sandbox.call(
        "POST",
        "/return_refund/202309/returns/search",
        query={"page_size": "10"},
        json={"return_status": ["RETURN_OR_REFUND_REQUEST_PENDING"]},
    ).json()["data"]["return_orders"][0]

    advanced = sandbox.advance_order(unpaid["id"])
    sandbox.control("POST", f"/_sandbox/cancellations/{pending_cancel['cancel_id']}/advance")
    sandbox.control("POST", f"/_sandbox/returns/{pending_return['return_id']}/advance")
    sandbox.authorization_expiring(shop["id"], days=30)
    sandbox.deauthorize(shop["id"])
    events = receiver.wait_for(5)

    by_type = {event["type"]: event for event in events}
    assert sorted(by_type) == [1, 6, 7, 11, 12]
    assert by_type[1]["data"]["order_id"] == unpaid["id"]
    assert by_type[1]["data"]["order_status"] == advanced["status"] == "AWAITING_SHIPMENT"
    assert by_type[11]["data"]["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert by_type[12]["data"]["return_status"] == "AWAITING_BUYER_SHIP"
    assert by_type[6]["data"]["message"] == (
        f"Shop_id {shop['id']} is deauthorized from your APP by merchant."
    )
    assert by_type[7]["data"]["expiration_time"].isdigit()
    assert len({event["tts_notification_id"] for event in events}) == 5
    detail = sandbox.call(
        "GET", "/order/202309/orders", query={"ids": unpaid["id"]}, seller_index=1, shop_index=0
    )
    assert detail.json()["code"] == 21008111  # another seller's order, whatever its state


def test_duplicate_and_drop_faults(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10, webhook_url=receiver.url)
    shop_id = sandbox.shop()["id"]

    sandbox.set_faults(webhook_duplicate_ratio=1.0)
    sandbox.buyer_write(shop_id, text="twice")
    twice = receiver.wait_for(2)
    sandbox.set_faults(webhook_drop_ratio=1.0)
    sandbox.buyer_write(shop_id, text="never")
    dropped = wait_for_state(sandbox, "dropped", 1)

    assert len(twice) == 2
    assert receiver.received[0] == receiver.received[1]  # same bytes, same notification id
    assert len(dropped) == 1
    assert len(receiver.events()) == 2


def test_reorder_fault_delivers_newest_first(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10, webhook_url=receiver.url)
    shop_id = sandbox.shop()["id"]
    sandbox.set_faults(webhook_reorder=True)

    written = [sandbox.buyer_write(shop_id, text=f"message {n}")["id"] for n in range(3)]
    events = receiver.wait_for(3)

    pushed = [event["data"]["message_id"] for event in events if event["type"] == 14]
    assert pushed == list(reversed(written))


def test_failed_delivery_is_retried(tiktok_sandbox_factory):
    failing = Receiver(status=503)
    try:
        sandbox = tiktok_sandbox_factory(days=3, orders_per_day=10, webhook_url=failing.url)
        sandbox.buyer_write(sandbox.shop()["id"], text="retry me")
        attempts = failing.wait_for(2)
    finally:
        failing.close()

    assert len(attempts) == 2
    # A retry is the same notification (same id and data); `timestamp` is the push time.
    assert attempts[0]["tts_notification_id"] == attempts[1]["tts_notification_id"]
    assert attempts[0]["data"] == attempts[1]["data"]


def test_rate_limit_and_server_error_faults(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5, rate_limit_ratio=1)

    limited = sandbox.call("GET", "/authorization/202309/shops", shop_index=None)
    sandbox.set_faults(error_ratio=1.0)
    failing = sandbox.call("GET", "/authorization/202309/shops", shop_index=None)
    sandbox.reset_faults()
    healthy = sandbox.call("GET", "/authorization/202309/shops", shop_index=None)

    assert limited.status_code == 429
    assert limited.json()["code"] == 36009002
    assert failing.status_code == 500
    assert failing.json()["code"] == 36009003
    assert healthy.json()["code"] == 0
    assert sandbox.state()["faults"]["rate_limit_ratio"] == 0.0


def test_live_buyers_write_and_orders_advance(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(
        days=3,
        orders_per_day=10,
        webhook_url=receiver.url,
        buyer_message_interval=0.2,
        status_advance_interval=0.2,
    )
    before = sandbox.state()["counts"]["messages"]

    events = receiver.wait_for(8)

    types = {event["type"] for event in events}
    assert 14 in types
    assert types & {1, 11, 12}
    assert sandbox.state()["counts"]["messages"] > before
    sandbox.set_config(buyer_message_interval=0, status_advance_interval=0)


def test_registered_address_and_new_conversation(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(days=3, orders_per_day=30)  # more buyers than chats
    hooks = "/event/202309/webhooks"
    for event_type in ("NEW_CONVERSATION", "NEW_MESSAGE"):
        put = sandbox.call("PUT", hooks, json={"address": receiver.url, "event_type": event_type})
        assert put.json()["code"] == 0
    registered = sandbox.call("GET", hooks).json()["data"]
    shop_id = sandbox.shop()["id"]
    buyers = sandbox.http.get(sandbox.base_url + "/buyer/api/shops").json()["shops"][0]["buyers"]
    newcomer = next(b for b in buyers if not b["chatting"])

    sandbox.http.post(
        sandbox.base_url + "/buyer/api/send",
        json={"shop_id": shop_id, "user_id": newcomer["user_id"], "type": "TEXT", "text": "First!"},
    )
    events = receiver.wait_for(2)
    deleted = sandbox.call("DELETE", hooks, json={"event_type": "NEW_MESSAGE"}).json()
    remaining = sandbox.call("GET", hooks).json()["data"]

    assert registered["total_count"] == 2
    assert {h["event_type"] for h in registered["webhooks"]} == {"NEW_CONVERSATION", "NEW_MESSAGE"}
    assert [event["type"] for event in events] == [13, 14]
    assert events[0]["data"]["conversation_id"] == events[1]["data"]["conversation_id"]
    assert deleted["code"] == 0
    assert [h["event_type"] for h in remaining["webhooks"]] == ["NEW_CONVERSATION"]
