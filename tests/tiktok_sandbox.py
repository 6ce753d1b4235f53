"""pytest plugin: the TikTok Shop sandbox as a real process on loopback.

Fixtures:
- `tiktok_sandbox` (session): one sandbox with a small seed (10 days x 30 orders/day: 300 orders in
  the US shop, several pages at page_size 100), live behaviour off. Tests that change global state
  (expire tokens, deauthorize, faults) should use the factory or undo what they did.
- `tiktok_sandbox_factory(**serve_flags)` (function): a fresh, isolated sandbox per call, e.g.
  `tiktok_sandbox_factory(buyer_message_interval=0.5, webhook_url=url)`; flags are the `serve`
  command's options with underscores. All are stopped at the end of the test.

The handle talks to the sandbox with `requests` and `signing.py` only: it never imports the client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from marketplaces.tiktok.signing import sign_request

REPO_ROOT = Path(__file__).resolve().parent.parent
SMALL_SEED = {"seed": 1, "orders_per_day": 30, "days": 10}
START_TIMEOUT = 60.0
PLACEHOLDER_REDIRECT = "http://127.0.0.1:9/sandbox-callback"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxError(RuntimeError):
    pass


class TikTokSandbox:
    """A running sandbox process and helpers to drive it."""

    def __init__(self, data_path: Path, log_path: Path, flags: dict[str, Any]) -> None:
        self.data_path = data_path
        self.log_path = log_path
        self.flags = flags
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.base_url = ""
        self.http = requests.Session()
        self.credentials: dict[str, Any] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> TikTokSandbox:
        for _attempt in range(3):
            self.port = free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            command = [
                sys.executable,
                "-m",
                "marketplaces.tiktok.sandbox",
                "serve",
                "--data",
                str(self.data_path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
            for key, value in self.flags.items():
                command += [f"--{key.replace('_', '-')}", str(value)]
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            log.close()
            if self._wait_ready():
                self.reload_credentials()
                return self
            self.stop()
        raise SandboxError(f"sandbox did not start; log:\n{self.log_path.read_text()[-3000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                if self.http.get(f"{self.base_url}/_sandbox/state", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> TikTokSandbox:
        """Stop and start again on the same data file (state must survive)."""
        self.stop()
        return self.start()

    # ------------------------------------------------------------ credentials

    @property
    def app_key(self) -> str:
        return self.credentials["app_key"]

    @property
    def app_secret(self) -> str:
        return self.credentials["app_secret"]

    @property
    def service_id(self) -> str:
        return self.credentials["service_id"]

    def reload_credentials(self) -> dict[str, Any]:
        """Fresh credentials (valid tokens are re-issued after `expire_tokens`)."""
        self.credentials = self.control("GET", "/_sandbox/credentials")
        return self.credentials

    def seller(self, index: int = 0) -> dict[str, Any]:
        return self.credentials["sellers"][index]

    def shop(self, seller_index: int = 0, shop_index: int = 0) -> dict[str, Any]:
        return self.seller(seller_index)["shops"][shop_index]

    # ------------------------------------------------------------ control API

    def control(self, method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.request(method, self.base_url + path, json=json, timeout=30)
        if response.status_code >= 400:
            raise SandboxError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def state(self) -> dict[str, Any]:
        return self.control("GET", "/_sandbox/state")

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        return self.control("POST", "/_sandbox/faults", faults)

    def reset_faults(self) -> dict[str, Any]:
        return self.control("POST", "/_sandbox/faults", {})

    def expire_tokens(self) -> dict[str, Any]:
        return self.control("POST", "/_sandbox/tokens/expire")

    def deauthorize(self, shop_id: str) -> dict[str, Any]:
        return self.control("POST", f"/_sandbox/shops/{shop_id}/deauthorize")

    def authorization_expiring(self, shop_id: str, days: int = 30) -> dict[str, Any]:
        return self.control(
            "POST", f"/_sandbox/shops/{shop_id}/authorization-expiring", {"days": days}
        )

    def buyer_write(
        self, shop_id: str, conversation_id: str | None = None, text: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"shop_id": shop_id}
        if conversation_id:
            body["conversation_id"] = conversation_id
        if text is not None:
            body["text"] = text
        return self.control("POST", "/_sandbox/buyers/write", body)

    def buyers_write_many(self, shop_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Many buyer messages in one call: items of conversation_id / user_id / new_buyer, text."""
        body = {"shop_id": shop_id, "messages": items}
        return self.control("POST", "/_sandbox/buyers/write-many", body)["messages"]

    def advance_order(self, order_id: str) -> dict[str, Any]:
        return self.control("POST", f"/_sandbox/orders/{order_id}/advance")

    def set_config(self, **config: Any) -> dict[str, Any]:
        return self.control("POST", "/_sandbox/config", config)

    def set_webhook_url(self, url: str) -> dict[str, Any]:
        return self.set_config(webhook_url=url)

    def set_redirect_url(self, url: str) -> dict[str, Any]:
        return self.set_config(redirect_url=url)

    def webhook_log(self) -> list[dict[str, Any]]:
        return self.control("GET", "/_sandbox/webhooks")["webhooks"]

    # ------------------------------------------------------------ consent flow

    def consent(
        self,
        market: str = "US",
        seller_index: int = 0,
        state: str = "sandbox-state",
        decision: str = "authorize",
    ) -> dict[str, str]:
        """Drive the consent form over HTTP; returns the callback query (code, state, error)."""
        path = "/us/open/authorize" if market == "US" else "/open/authorize"
        page = self.http.get(
            self.base_url + path, params={"service_id": self.service_id, "state": state}, timeout=10
        )
        if page.status_code != 200:
            raise SandboxError(f"consent page answered {page.status_code}")
        sellers = [s for s in self.credentials["sellers"] if s.get("market") == market]
        config = self.state()["config"]
        placeholder = not config["redirect_url"]
        if placeholder:
            self.set_redirect_url(PLACEHOLDER_REDIRECT)
        try:
            response = self.http.post(
                self.base_url + path,
                allow_redirects=False,
                timeout=10,
                data={
                    "service_id": self.service_id,
                    "state": state,
                    "open_id": sellers[seller_index]["open_id"],
                    "decision": decision,
                },
            )
        finally:
            if placeholder:
                self.set_redirect_url("")
        if response.status_code != 302:
            raise SandboxError(f"consent answered {response.status_code}: {response.text[:300]}")
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return {key: values[0] for key, values in query.items()}

    def authorize(
        self, market: str = "US", seller_index: int = 0, state: str = "sandbox-state"
    ) -> str:
        """Approve on the consent page and return the auth `code` from the redirect.

        `seller_index` counts the sellers of that market (US: the US local seller; ROW: the
        cross-border seller with the GB and FR shops).
        """
        return self.consent(market, seller_index, state)["code"]

    # ------------------------------------------------------------ signed API calls

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        json: Any = None,
        seller_index: int = 0,
        shop_index: int | None = 0,
        token: str | None = None,
        timestamp: int | None = None,
        sign: str | None = None,
        headers: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
    ) -> requests.Response:
        """A hand-built signed request (§2.1): `shop_index=None` sends no shop_cipher."""
        params = {
            "app_key": self.app_key,
            "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        }
        if shop_index is not None:
            params["shop_cipher"] = self.shop(seller_index, shop_index)["cipher"]
        params.update(query or {})
        body = None if json is None else json_bytes(json)
        params["sign"] = (
            sign
            if sign is not None
            else sign_request(self.app_secret, path, params, None if files else body)
        )
        all_headers = {
            "x-tts-access-token": token
            if token is not None
            else self.seller(seller_index)["access_token"]
        }
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        return self.http.request(
            method,
            self.base_url + path,
            params=params,
            data=body,
            files=files,
            headers=all_headers,
            timeout=30,
        )


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def start_sandbox(directory: Path, **flags: Any) -> TikTokSandbox:
    """Start a sandbox with its data file in `directory` (seeded small unless flags say)."""
    merged = {**SMALL_SEED, "workers": 2, "threads": 4, **flags}
    data_path = Path(merged.pop("data", directory / "sandbox.sqlite3"))
    return TikTokSandbox(data_path, directory / "sandbox.log", merged).start()


@pytest.fixture(scope="session")
def tiktok_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikTokSandbox]:
    sandbox = start_sandbox(tmp_path_factory.mktemp("tiktok-sandbox"))
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def tiktok_sandbox_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., TikTokSandbox]]:
    started: list[TikTokSandbox] = []

    def factory(**serve_flags: Any) -> TikTokSandbox:
        sandbox = start_sandbox(tmp_path_factory.mktemp("tiktok-sandbox"), **serve_flags)
        started.append(sandbox)
        return sandbox

    try:
        yield factory
    finally:
        for sandbox in started:
            sandbox.stop()
