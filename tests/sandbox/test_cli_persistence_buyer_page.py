"""The CLI (credentials, seed), state across restarts, and the buyer page."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.tiktok_sandbox import REPO_ROOT

CHROMIUM = os.environ.get("SELLERDESK_CHROMIUM", "/usr/bin/chromium")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marketplaces.tiktok.sandbox", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_credentials_command_prints_working_credentials(tiktok_sandbox):
    printed = json.loads(cli("credentials", "--data", str(tiktok_sandbox.data_path)).stdout)

    assert printed["app_key"] == tiktok_sandbox.app_key
    assert printed["app_secret"] == tiktok_sandbox.app_secret
    assert printed["service_id"] == tiktok_sandbox.service_id
    assert [s["seller_name"] for s in printed["sellers"]] == [
        "Sunrise Outfitters LLC",
        "Maomao Beauty Co.",
    ]
    regions = [[shop["region"] for shop in s["shops"]] for s in printed["sellers"]]
    assert regions == [["US"], ["GB", "FR"]]
    for seller in printed["sellers"]:
        assert set(seller) >= {
            "seller_name",
            "open_id",
            "access_token",
            "refresh_token",
            "access_token_expire_in",
            "shops",
        }
        for shop in seller["shops"]:
            assert set(shop) == {"id", "name", "region", "seller_type", "cipher", "code"}
    token = printed["sellers"][1]["access_token"]
    answer = tiktok_sandbox.call(
        "GET", "/authorization/202309/shops", shop_index=None, seller_index=1, token=token
    ).json()
    assert [s["cipher"] for s in answer["data"]["shops"]] == [
        s["cipher"] for s in printed["sellers"][1]["shops"]
    ]


def _order_ids(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM orders ORDER BY id")]
    finally:
        conn.close()


def test_seed_is_deterministic(tmp_path):
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        cli(
            "seed",
            "--data",
            str(tmp_path / f"{name}.sqlite3"),
            "--seed",
            seed,
            "--orders-per-day",
            "5",
            "--days",
            "3",
        )

    a, b, c = (
        json.loads(cli("credentials", "--data", str(tmp_path / f"{n}.sqlite3")).stdout)
        for n in "abc"
    )

    assert (a["app_key"], a["app_secret"], a["service_id"]) == (
        b["app_key"],
        b["app_secret"],
        b["service_id"],
    )
    assert [s["shops"] for s in a["sellers"]] == [s["shops"] for s in b["sellers"]]
    assert _order_ids(tmp_path / "a.sqlite3") == _order_ids(tmp_path / "b.sqlite3")
    assert len(_order_ids(tmp_path / "a.sqlite3")) == 5 * 3 * 2 + 1 * 3  # US + GB, FR at 1/4
    assert a["app_key"] != c["app_key"]
    assert _order_ids(tmp_path / "a.sqlite3") != _order_ids(tmp_path / "c.sqlite3")


def test_state_survives_a_restart(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    app_key = sandbox.app_key
    written = sandbox.buyer_write(sandbox.shop()["id"], text="Still there after a restart?")
    token = sandbox.seller()["access_token"]

    sandbox.restart()

    assert sandbox.app_key == app_key
    assert sandbox.seller()["access_token"] == token
    page = sandbox.call(
        "GET",
        f"/customer_service/202309/conversations/{written['conversation_id']}/messages",
        query={"page_size": "1"},
    ).json()["data"]
    assert page["messages"][0]["id"] == written["id"]


def test_buyer_page_and_its_api(tiktok_sandbox):
    page = tiktok_sandbox.http.get(tiktok_sandbox.base_url + "/buyer/")
    shops = tiktok_sandbox.http.get(tiktok_sandbox.base_url + "/buyer/api/shops").json()["shops"]
    shop = shops[0]
    buyer = shop["buyers"][0]

    sent = tiktok_sandbox.http.post(
        tiktok_sandbox.base_url + "/buyer/api/send",
        json={
            "shop_id": shop["id"],
            "user_id": buyer["user_id"],
            "type": "TEXT",
            "text": "Typed on the buyer page",
        },
    ).json()
    seller_view = tiktok_sandbox.call(
        "GET",
        f"/customer_service/202309/conversations/{sent['conversation_id']}/messages",
        query={"page_size": "1"},
    ).json()["data"]["messages"][0]
    thread = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + "/buyer/api/thread",
        params={"shop_id": shop["id"], "user_id": buyer["user_id"]},
    ).json()
    reply = tiktok_sandbox.call(
        "POST",
        f"/customer_service/202309/conversations/{sent['conversation_id']}/messages",
        json={"type": "ORDER_CARD", "content": json.dumps({"order_id": thread["orders"][0]["id"]})},
    ).json()
    after = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + "/buyer/api/thread",
        params={"shop_id": shop["id"], "user_id": buyer["user_id"]},
    ).json()

    assert page.status_code == 200
    assert "<title>Sandbox buyer chat</title>" in page.text
    assert [s["region"] for s in shops] == ["US", "GB", "FR"]
    assert seller_view["id"] == sent["id"]
    assert seller_view["content"] == '{"content":"Typed on the buyer page"}'
    assert seller_view["sender"]["role"] == "BUYER"
    last = after["messages"][-1]
    assert last["id"] == reply["data"]["message_id"]
    assert last["card"]["kind"] == "order"
    assert last["card"]["id"] == thread["orders"][0]["id"]


@pytest.mark.e2e
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}")
def test_buyer_page_in_a_browser(tiktok_sandbox, browser):
    # The session's shared Chromium (tests/browser.py): two sync Playwrights cannot coexist.
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(tiktok_sandbox.base_url + "/buyer/")
        page.wait_for_selector("#thread .msg, #thread .empty:not(:has-text('Loading'))")
        shop_id = page.eval_on_selector("#shop", "el => el.value")
        user_id = page.eval_on_selector("#buyer", "el => el.value")
        page.fill("#text", "Hello from the browser")
        page.click("button[type=submit]")
        page.wait_for_selector(".msg.mine:has-text('Hello from the browser')")
        reply = tiktok_sandbox.call(
            "POST", "/customer_service/202309/conversations", json={"buyer_user_id": user_id}
        )
        conversation_id = reply.json()["data"]["conversation_id"]
        tiktok_sandbox.call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            json={"type": "TEXT", "content": json.dumps({"content": "Seller says hi"})},
        )
        # The page polls every 2 s: the seller's reply shows up without a reload.
        page.wait_for_selector(".msg:not(.mine):has-text('Seller says hi')")
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 50, 50)).save(buffer, format="PNG")
        page.set_input_files(
            "#image",
            files=[{"name": "parcel.png", "mimeType": "image/png", "buffer": buffer.getvalue()}],
        )
        page.wait_for_selector(".msg.mine img.photo")
        order_id = page.eval_on_selector("#order option:nth-child(2)", "el => el.value")
        page.select_option("#order", order_id)
        page.wait_for_selector(f".msg.mine .card:has-text('{order_id}')")
        product = tiktok_sandbox.call(
            "POST",
            "/product/202309/products/search",
            query={"page_size": "1"},
            json={"status": "ACTIVATE"},
        ).json()["data"]["products"][0]
        tiktok_sandbox.call(
            "POST",
            f"/customer_service/202309/conversations/{conversation_id}/messages",
            json={"type": "PRODUCT_CARD", "content": json.dumps({"product_id": product["id"]})},
        )
        page.wait_for_selector(f'.msg:not(.mine) .card:has-text("{product["title"]}")')
    finally:
        context.close()
    seller_view = tiktok_sandbox.call(
        "GET",
        f"/customer_service/202309/conversations/{conversation_id}/messages",
        query={"page_size": "5"},
    ).json()["data"]["messages"]
    assert shop_id == tiktok_sandbox.shop()["id"]
    assert [m["type"] for m in reversed(seller_view)][-4:] == [
        "TEXT",
        "IMAGE",
        "ORDER_CARD",
        "PRODUCT_CARD",
    ]
    image = json.loads(seller_view[2]["content"])
    assert (image["width"], image["height"]) == ("40", "30")  # strings, as received (§6.3)
    assert json.loads(seller_view[1]["content"]) == {"order_id": order_id}
