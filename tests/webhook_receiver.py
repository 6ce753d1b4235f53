"""A loopback endpoint for the sandbox's webhook pushes: keeps each raw body and signature.

Tests that drive webhooks end to end point the sandbox at `receiver.url`, wait for the delivery
they expect, then post that exact body and signature to Sellerdesk's intake.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

WAIT_SECONDS = 30.0


@dataclass
class Receiver:
    url: str = ""
    deliveries: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, webhook_type: int, **data: str) -> tuple[bytes, str]:
        """The first delivery of `webhook_type` whose data has these values (as strings)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                for body, auth in self.deliveries:
                    payload = json.loads(body)
                    found = payload.get("data", {})
                    if payload["type"] == webhook_type and all(
                        str(found.get(k)) == v for k, v in data.items()
                    ):
                        return body, auth
            time.sleep(0.1)
        raise AssertionError(f"no type {webhook_type} webhook with {data} within {WAIT_SECONDS}s")


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
