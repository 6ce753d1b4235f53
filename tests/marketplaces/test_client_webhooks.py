"""Webhooks the sandbox pushes verify with signing.py and map to typed records that agree with
what the client reads back over the API: one independent reading of §8 checked against another."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from marketplaces.records import (
    AuthorizationExpiring,
    CancellationStatusChanged,
    NewMessage,
    OrderStatus,
    OrderStatusChanged,
    ReturnStatusChanged,
    ShopDeauthorized,
    WebhookEvent,
)
from marketplaces.tiktok import mapping
from marketplaces.tiktok.signing import verify_webhook
from tests.marketplaces.test_client import make_client, shop_access

WAIT_SECONDS = 30.0


@dataclass
class Receiver:
    """A loopback endpoint that keeps every delivery's raw body and Authorization header."""

    url: str = ""
    deliveries: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[tuple[bytes, str]]:
        with self.lock:
            return list(self.deliveries)

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS) -> list[WebhookEvent]:
        deadline = time.monotonic() + timeout
        while True:
            events = [mapping.webhook_from_body(body) for body, _ in self.bodies()]
            if predicate(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    collected = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with collected.lock:
                collected.deliveries.append((body, self.headers.get("Authorization", "")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    collected.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/tiktok"
    try:
        yield collected
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def of_type(events: list[WebhookEvent], kind: int) -> list[WebhookEvent]:
    return [event for event in events if event.type == kind]


def test_pushed_webhooks_verify_map_and_agree_with_the_api(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(status_advance_interval=0.2, webhook_url=receiver.url)
    access = shop_access(sandbox)
    client = make_client(sandbox)
    conversation = client.conversations(**access.auth)[0]

    written = sandbox.buyer_write(
        access.shop_id, conversation_id=conversation.external_id, text="Where is my parcel?"
    )
    sandbox.authorization_expiring(access.shop_id, days=30)
    events = receiver.wait_for(lambda found: {1, 7, 11, 12, 14} <= {event.type for event in found})

    assert {1, 7, 11, 12, 14} <= {event.type for event in events}
    for body, signature in receiver.bodies():
        assert verify_webhook(sandbox.app_key, sandbox.app_secret, body, signature)
        assert not verify_webhook(sandbox.app_key, "wrong-secret", body, signature)
    assert all(event.notification_id and event.sent_at for event in events)

    (message_event,) = [
        e
        for e in of_type(events, 14)
        if isinstance(e.data, NewMessage) and e.data.message.external_id == written["id"]
    ]
    assert isinstance(message_event.data, NewMessage)
    pushed = message_event.data.message
    assert message_event.shop_id == access.shop_id
    assert (pushed.conversation_id, pushed.type, pushed.text) == (
        conversation.external_id,
        "TEXT",
        "Where is my parcel?",
    )
    read_back = client.messages(
        **access.auth, conversation_id=conversation.external_id, after_index=None
    )
    same = next(m for m in read_back if m.external_id == pushed.external_id)
    assert (same.index, same.content, same.created_at) == (
        pushed.index,
        pushed.content,
        pushed.created_at,
    )

    (expiring,) = of_type(events, 7)
    assert isinstance(expiring.data, AuthorizationExpiring)
    assert expiring.shop_id == access.shop_id
    assert expiring.data.expires_at is not None and expiring.sent_at is not None
    # Expiry is computed when the event is made, `timestamp` when it is pushed: seconds apart.
    remaining = expiring.data.expires_at - expiring.sent_at
    assert timedelta(days=30) - timedelta(minutes=1) < remaining <= timedelta(days=30)

    statuses = {str(status) for status in OrderStatus}
    for event in of_type(events, 1):
        assert isinstance(event.data, OrderStatusChanged)
        assert event.data.order_status in statuses
        assert event.data.order_id and event.data.updated_at

    for event in of_type(events, 11):
        assert isinstance(event.data, CancellationStatusChanged)
        shop = next(
            shop_access(sandbox, s, i)
            for s, seller in enumerate(sandbox.credentials["sellers"])
            for i, info in enumerate(seller["shops"])
            if info["id"] == event.shop_id
        )
        (listed,) = client.cancellations(**shop.auth, cancel_ids=[event.data.cancel_id])
        assert listed.order_id == event.data.order_id

    for event in of_type(events, 12):
        assert isinstance(event.data, ReturnStatusChanged)
        shop = next(
            shop_access(sandbox, s, i)
            for s, seller in enumerate(sandbox.credentials["sellers"])
            for i, info in enumerate(seller["shops"])
            if info["id"] == event.shop_id
        )
        (listed,) = client.returns(**shop.auth, return_ids=[event.data.return_id])
        assert (listed.order_id, listed.return_type) == (
            event.data.order_id,
            event.data.return_type,
        )


def test_deauthorization_webhook(tiktok_sandbox_factory, receiver):
    sandbox = tiktok_sandbox_factory(webhook_url=receiver.url)
    access = shop_access(sandbox)

    sandbox.deauthorize(access.shop_id)
    events = receiver.wait_for(lambda found: bool(of_type(found, 6)))

    (event,) = of_type(events, 6)
    assert event.event_type == "SELLER_DEAUTHORIZATION"
    assert event.shop_id == access.shop_id
    assert isinstance(event.data, ShopDeauthorized)
    assert access.shop_id in event.data.message
