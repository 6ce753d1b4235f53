"""Auth codes and tokens (contract §1): codes single use for 30 minutes, expiry times absolute."""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

from marketplaces.tiktok.sandbox import db

AUTH_CODE_TTL = 30 * 60
# The refresh token lives as long as the seller's authorization (§1.4); the sandbox grants a year.
REFRESH_TOKEN_TTL = 365 * 24 * 3600
GRANTED_SCOPES = [
    "seller.authorization.info",
    "seller.order.info",
    "seller.fulfillment.basic",
    "seller.return_refund.basic",
    "seller.product.basic",
    "seller.promotion.info",
    "seller.customer_service",
]


def access_token_ttl(conn: sqlite3.Connection) -> int:
    return int(db.json_meta_get(conn, "config", db.DEFAULT_CONFIG)["access_token_ttl"])


def issue_code(conn: sqlite3.Connection, seller_id: int) -> str:
    code = "ROW_" + secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO auth_codes (code, seller_id, expires_at) VALUES (?, ?, ?)",
        (code, seller_id, int(time.time()) + AUTH_CODE_TTL),
    )
    return code


def issue_tokens(conn: sqlite3.Connection, seller_id: int) -> dict[str, Any]:
    """A new access/refresh pair and the token response `data` of §1.4."""
    now = int(time.time())
    access = "TTP_" + secrets.token_urlsafe(40)
    refresh = "TTP_" + secrets.token_urlsafe(40)
    access_expires = now + access_token_ttl(conn)
    refresh_expires = now + REFRESH_TOKEN_TTL
    conn.executemany(
        "INSERT INTO tokens (token, kind, seller_id, expires_at) VALUES (?, ?, ?, ?)",
        [
            (access, "access", seller_id, access_expires),
            (refresh, "refresh", seller_id, refresh_expires),
        ],
    )
    seller = conn.execute(
        "SELECT open_id, seller_name, base_region, user_type FROM sellers WHERE id = ?",
        (seller_id,),
    ).fetchone()
    return {
        "access_token": access,
        "access_token_expire_in": access_expires,
        "refresh_token": refresh,
        "refresh_token_expire_in": refresh_expires,
        "open_id": seller[0],
        "seller_name": seller[1],
        "seller_base_region": seller[2],
        "user_type": seller[3],
        "granted_scopes": GRANTED_SCOPES,
    }


def redeem_code(conn: sqlite3.Connection, code: str) -> dict[str, Any] | None:
    """Single use: the conditional UPDATE claims the code, so two redeemers cannot both win."""
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT seller_id FROM auth_codes WHERE code = ? AND used = 0 AND expires_at > ?",
            (code, int(time.time())),
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE auth_codes SET used = 1 WHERE code = ?", (code,))
        return issue_tokens(conn, row[0])


def refresh(conn: sqlite3.Connection, refresh_token: str) -> dict[str, Any] | None:
    """New access and refresh tokens.

    UNVERIFIED in the contract (§10): whether the old refresh token stays valid. The sandbox
    revokes it, the stricter reading: a client that forgets to persist the new refresh token
    fails here rather than in production. The old access token stays valid until it expires.
    """
    with db.Transaction(conn):
        row = conn.execute(
            "SELECT seller_id FROM tokens WHERE token = ? AND kind = 'refresh' "
            "AND revoked = 0 AND expires_at > ?",
            (refresh_token, int(time.time())),
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE tokens SET revoked = 1 WHERE token = ?", (refresh_token,))
        return issue_tokens(conn, row[0])


def test_tokens(conn: sqlite3.Connection, seller_id: int) -> dict[str, Any]:
    """Partner Center's "test access token": the seller's stored pair, re-issued when unusable."""
    now = int(time.time())
    key = f"test_tokens:{seller_id}"
    stored = db.json_meta_get(conn, key, {})
    if stored:
        access = conn.execute(
            "SELECT expires_at, revoked FROM tokens WHERE token = ?", (stored["access_token"],)
        ).fetchone()
        refresh_row = conn.execute(
            "SELECT revoked FROM tokens WHERE token = ?", (stored["refresh_token"],)
        ).fetchone()
        if access and access[0] > now and not access[1] and refresh_row and not refresh_row[0]:
            return stored
    with db.Transaction(conn):
        data = issue_tokens(conn, seller_id)
        db.json_meta_set(conn, key, data)
    return data
