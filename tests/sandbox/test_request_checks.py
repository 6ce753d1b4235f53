"""Every API call is checked as the contract says (§0, §2, §3.2): codes and nothing changed."""

from __future__ import annotations

import time

from marketplaces.tiktok.signing import sign_request

SEARCH = "/order/202309/orders/search"
SHOPS = "/authorization/202309/shops"


def test_signed_request_is_accepted(tiktok_sandbox):
    response = tiktok_sandbox.call("GET", SHOPS, shop_index=None)

    body = response.json()
    assert response.status_code == 200
    assert body["code"] == 0
    assert body["message"] == "Success"
    assert [shop["id"] for shop in body["data"]["shops"]] == [tiktok_sandbox.shop()["id"]]
    assert body["data"]["shops"][0]["seller_type"] == "LOCAL"
    assert body["data"]["shops"][0]["region"] == "US"


def test_official_sign_vector_shape_is_what_the_sandbox_checks(tiktok_sandbox):
    # The sandbox verifies over path + sorted query + exact body: a different body byte fails.
    query = {
        "app_key": tiktok_sandbox.app_key,
        "timestamp": str(int(time.time())),
        "shop_cipher": tiktok_sandbox.shop()["cipher"],
        "page_size": "1",
    }
    signed_for = b'{"order_status":"UNPAID"}'
    sign = sign_request(tiktok_sandbox.app_secret, SEARCH, query, signed_for)
    response = tiktok_sandbox.http.post(
        tiktok_sandbox.base_url + SEARCH,
        params={**query, "sign": sign},
        data=b'{"order_status":"COMPLETED"}',
        headers={
            "x-tts-access-token": tiktok_sandbox.seller()["access_token"],
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 401
    assert response.json()["code"] == 106001


def test_bad_signature_is_106001_and_changes_nothing(tiktok_sandbox):
    conversations = tiktok_sandbox.call(
        "GET", "/customer_service/202309/conversations", query={"page_size": "1"}
    ).json()
    conversation_id = conversations["data"]["conversations"][0]["id"]
    before = tiktok_sandbox.state()["counts"]["messages"]

    response = tiktok_sandbox.call(
        "POST",
        f"/customer_service/202309/conversations/{conversation_id}/messages",
        json={"type": "TEXT", "content": '{"content": "forged"}'},
        sign="0" * 64,
    )

    assert response.status_code == 401
    assert response.json()["code"] == 106001
    assert (
        response.json()["message"] == "Invalid credentials. The `sign` query parameter is invalid."
    )
    assert tiktok_sandbox.state()["counts"]["messages"] == before


def test_missing_sign_and_wrong_app_key(tiktok_sandbox):
    missing = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + SHOPS,
        params={"app_key": tiktok_sandbox.app_key, "timestamp": str(int(time.time()))},
        headers={"x-tts-access-token": tiktok_sandbox.seller()["access_token"]},
    )
    wrong_key = tiktok_sandbox.call("GET", SHOPS, shop_index=None, query={"app_key": "nope"})

    assert missing.json()["code"] == 36009004
    assert missing.json()["message"].startswith("Missing credentials.")
    assert wrong_key.json()["code"] == 36009004
    assert wrong_key.json()["message"] == "Invalid credentials. Invalid `app_key` query parameter."


def test_timestamp_window_is_five_minutes_behind_thirty_seconds_ahead(tiktok_sandbox):
    now = int(time.time())
    stale = tiktok_sandbox.call("GET", SHOPS, shop_index=None, timestamp=now - 330)
    future = tiktok_sandbox.call("GET", SHOPS, shop_index=None, timestamp=now + 60)
    late_but_fine = tiktok_sandbox.call("GET", SHOPS, shop_index=None, timestamp=now - 240)
    early_but_fine = tiktok_sandbox.call("GET", SHOPS, shop_index=None, timestamp=now + 20)

    assert stale.json()["code"] == 36009004
    assert "earlier than 5 minutes" in stale.json()["message"]
    assert future.json()["code"] == 36009004
    assert "more than 30 seconds" in future.json()["message"]
    assert late_but_fine.json()["code"] == 0
    assert early_but_fine.json()["code"] == 0


def test_invalid_and_missing_access_token(tiktok_sandbox):
    invalid = tiktok_sandbox.call("GET", SHOPS, shop_index=None, token="TTP_not_a_token")
    missing = tiktok_sandbox.call("GET", SHOPS, shop_index=None, token="")

    for response in (invalid, missing):
        assert response.status_code == 401
        assert response.json()["code"] == 36009004
        assert response.json()["message"] == (
            "Invalid credentials. The `x-tts-access-token` header is invalid."
        )


def test_shop_cipher_required_refused_and_owned(tiktok_sandbox):
    missing = tiktok_sandbox.call(
        "POST", SEARCH, query={"page_size": "1"}, json={}, shop_index=None
    )
    unexpected = tiktok_sandbox.call("GET", SHOPS)
    other_sellers_shop = tiktok_sandbox.call(
        "POST",
        SEARCH,
        json={},
        query={"page_size": "1", "shop_cipher": tiktok_sandbox.shop(1, 0)["cipher"]},
    )

    assert missing.json()["code"] == 106013
    assert unexpected.json()["code"] == 36009004
    assert unexpected.json()["message"] == (
        "Unexpected identifier. The `shop_cipher` query parameter is not required for this request."
    )
    assert other_sellers_shop.json()["code"] == 36009004
    assert "shop_cipher" in other_sellers_shop.json()["message"]


def test_unknown_path_and_wrong_method(tiktok_sandbox):
    unknown = tiktok_sandbox.call("GET", "/order/202309/nothing-here")
    wrong_method = tiktok_sandbox.call("GET", SEARCH)

    assert unknown.status_code == 404
    assert unknown.json()["code"] == 36009009
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == 36009010


def test_expired_token_is_105002(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    old_token = sandbox.seller()["access_token"]

    expired = sandbox.expire_tokens()
    response = sandbox.call("GET", SHOPS, shop_index=None, token=old_token)

    assert expired["expired"] == 2
    assert response.status_code == 401
    assert response.json()["code"] == 105002
    fresh = sandbox.reload_credentials()["sellers"][0]["access_token"]
    assert fresh != old_token
    assert sandbox.call("GET", SHOPS, shop_index=None, token=fresh).json()["code"] == 0


def test_deauthorized_shop_is_refused_and_left_out_of_shops(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    gb_shop, fr_shop = sandbox.shop(1, 0), sandbox.shop(1, 1)

    sandbox.deauthorize(gb_shop["id"])
    shops = sandbox.call("GET", SHOPS, seller_index=1, shop_index=None).json()["data"]["shops"]
    refused = sandbox.call(
        "POST", SEARCH, seller_index=1, shop_index=0, json={}, query={"page_size": "1"}
    )
    other_shop = sandbox.call(
        "POST", SEARCH, seller_index=1, shop_index=1, json={}, query={"page_size": "1"}
    )

    assert [shop["id"] for shop in shops] == [fr_shop["id"]]
    assert refused.json()["code"] == 105005
    assert other_shop.json()["code"] == 0


def test_json_body_needs_a_json_content_type(tiktok_sandbox):
    response = tiktok_sandbox.call(
        "POST", SEARCH, query={"page_size": "1"}, json={}, headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415
    assert response.json()["code"] == 36009022
