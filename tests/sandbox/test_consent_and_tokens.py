"""Consent page, auth codes (single use), token get and refresh (contract §1)."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

TOKEN_GET = "/api/v2/token/get"
TOKEN_REFRESH = "/api/v2/token/refresh"


def token_get(sandbox, code, **overrides):
    params = {
        "app_key": sandbox.app_key,
        "app_secret": sandbox.app_secret,
        "auth_code": code,
        "grant_type": "authorized_code",
        **overrides,
    }
    return sandbox.http.get(sandbox.base_url + TOKEN_GET, params=params).json()


def token_refresh(sandbox, refresh_token):
    params = {
        "app_key": sandbox.app_key,
        "app_secret": sandbox.app_secret,
        "refresh_token": refresh_token,
        "grant_type": "refresh_token",
    }
    return sandbox.http.get(sandbox.base_url + TOKEN_REFRESH, params=params).json()


def test_consent_page_lists_the_market_sellers_and_their_shops(tiktok_sandbox):
    us = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + "/us/open/authorize",
        params={"service_id": tiktok_sandbox.service_id, "state": "s1"},
    )
    row = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + "/open/authorize",
        params={"service_id": tiktok_sandbox.service_id, "state": "s1"},
    )
    wrong = tiktok_sandbox.http.get(
        tiktok_sandbox.base_url + "/open/authorize", params={"service_id": "123", "state": "s1"}
    )

    assert us.status_code == 200
    assert "Sunrise Outfitters" in us.text
    assert "Maomao" not in us.text
    assert "Maomao Beauty UK (GB)" in row.text
    assert "Maomao Beauté FR (FR)" in row.text
    assert wrong.status_code == 400


def test_approve_then_token_get_then_code_is_single_use(tiktok_sandbox):
    code = tiktok_sandbox.authorize(market="US", seller_index=0, state="csrf-123")

    first = token_get(tiktok_sandbox, code)
    second = token_get(tiktok_sandbox, code)

    now = int(time.time())
    data = first["data"]
    assert first["code"] == 0
    assert first["message"] == "success"
    assert data["access_token"].startswith("TTP_")
    assert data["open_id"] == tiktok_sandbox.seller(0)["open_id"]
    assert data["seller_name"] == "Sunrise Outfitters LLC"
    assert data["seller_base_region"] == "US"
    assert data["user_type"] == 0
    # Absolute Unix timestamps, not durations: 7 days by default.
    assert now + 7 * 86400 - 60 <= data["access_token_expire_in"] <= now + 7 * 86400 + 5
    assert data["refresh_token_expire_in"] > data["access_token_expire_in"]
    assert second["code"] == 36004004
    assert second["message"] == "Invalid auth code."
    shops = tiktok_sandbox.call(
        "GET", "/authorization/202309/shops", shop_index=None, token=data["access_token"]
    ).json()
    assert [s["id"] for s in shops["data"]["shops"]] == [tiktok_sandbox.shop(0, 0)["id"]]


def test_consent_redirect_carries_code_and_state(tiktok_sandbox):
    callback = tiktok_sandbox.consent(market="ROW", seller_index=0, state="state-row-1")

    assert set(callback) == {"code", "state"}
    assert callback["state"] == "state-row-1"
    tokens = token_get(tiktok_sandbox, callback["code"])["data"]
    assert tokens["seller_name"] == "Maomao Beauty Co."


def test_deny_redirects_with_auth_denied(tiktok_sandbox):
    callback = tiktok_sandbox.consent(market="US", state="state-deny", decision="deny")

    assert callback == {"code": "null", "error": "auth_denied", "state": "state-deny"}


def test_wrong_secret_and_grant_type(tiktok_sandbox):
    code = tiktok_sandbox.authorize()

    wrong_secret = token_get(tiktok_sandbox, code, app_secret="nope")
    wrong_grant = token_get(tiktok_sandbox, code, grant_type="authorization_code")
    still_usable = token_get(tiktok_sandbox, code)

    assert wrong_secret["code"] == 36009004
    assert wrong_grant["code"] == 40006
    assert still_usable["code"] == 0


def test_refresh_returns_new_tokens_and_retires_the_old_refresh_token(tiktok_sandbox):
    tokens = token_get(tiktok_sandbox, tiktok_sandbox.authorize())["data"]

    refreshed = token_refresh(tiktok_sandbox, tokens["refresh_token"])
    reused = token_refresh(tiktok_sandbox, tokens["refresh_token"])

    new = refreshed["data"]
    assert refreshed["code"] == 0
    assert new["access_token"] != tokens["access_token"]
    assert new["refresh_token"] != tokens["refresh_token"]
    assert new["open_id"] == tokens["open_id"]
    assert reused["code"] == 36009004
    for access_token in (new["access_token"], tokens["access_token"]):
        response = tiktok_sandbox.call(
            "GET", "/authorization/202309/shops", shop_index=None, token=access_token
        )
        assert response.json()["code"] == 0


def test_auth_code_expires_after_thirty_minutes(tiktok_sandbox):
    code = tiktok_sandbox.authorize()
    conn = sqlite3.connect(tiktok_sandbox.data_path)
    try:
        expires_at = conn.execute(
            "SELECT expires_at FROM auth_codes WHERE code = ?", (code,)
        ).fetchone()[0]
        with conn:  # the clock moves past the 30 minutes
            conn.execute(
                "UPDATE auth_codes SET expires_at = ? WHERE code = ?", (int(time.time()) - 1, code)
            )
    finally:
        conn.close()

    answer = token_get(tiktok_sandbox, code)

    assert abs(expires_at - (int(time.time()) + 30 * 60)) <= 5
    assert answer["code"] == 36004004


def test_a_code_redeemed_twice_at_once_yields_one_token(tiktok_sandbox):
    code = tiktok_sandbox.authorize()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: token_get(tiktok_sandbox, code), range(4)))

    assert sorted(answer["code"] for answer in answers) == [0, 36004004, 36004004, 36004004]
