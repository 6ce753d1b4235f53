"""The sandbox's state: one SQLite file in WAL mode, shared by every web worker and the live loop.

Orders, returns, products... are stored pre-serialised as the JSON text the API answers with, so a
search is an indexed range scan plus a byte join. Nothing here imports Django.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sellers (
    id INTEGER PRIMARY KEY, open_id TEXT NOT NULL UNIQUE, seller_name TEXT NOT NULL,
    base_region TEXT NOT NULL, user_type INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS shops (
    id TEXT PRIMARY KEY, seller_id INTEGER NOT NULL, name TEXT NOT NULL, region TEXT NOT NULL,
    seller_type TEXT NOT NULL, cipher TEXT NOT NULL UNIQUE, code TEXT NOT NULL,
    currency TEXT NOT NULL, market TEXT NOT NULL, im_user_id TEXT NOT NULL,
    authorized INTEGER NOT NULL DEFAULT 1, authorization_expire_time INTEGER NOT NULL,
    can_accept_chat INTEGER NOT NULL DEFAULT 1, avatar TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, seller_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS auth_codes (
    code TEXT PRIMARY KEY, seller_id INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS buyers (
    shop_id TEXT NOT NULL, user_id TEXT NOT NULL, im_user_id TEXT NOT NULL,
    nickname TEXT NOT NULL, avatar TEXT NOT NULL, PRIMARY KEY (shop_id, user_id)
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, user_id TEXT NOT NULL, status TEXT NOT NULL,
    create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, body TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_shop_create ON orders (shop_id, create_time, id);
CREATE INDEX IF NOT EXISTS orders_shop_update ON orders (shop_id, update_time, id);
CREATE INDEX IF NOT EXISTS orders_shop_buyer ON orders (shop_id, user_id);
CREATE TABLE IF NOT EXISTS returns (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, order_id TEXT NOT NULL, user_id TEXT NOT NULL,
    status TEXT NOT NULL, return_type TEXT NOT NULL, create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS returns_shop ON returns (shop_id, create_time);
CREATE TABLE IF NOT EXISTS cancellations (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, order_id TEXT NOT NULL, user_id TEXT NOT NULL,
    status TEXT NOT NULL, cancel_type TEXT NOT NULL, create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cancellations_shop ON cancellations (shop_id, create_time);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, status TEXT NOT NULL,
    create_time INTEGER NOT NULL, update_time INTEGER NOT NULL,
    summary TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS coupons (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, status TEXT NOT NULL, display_type TEXT NOT NULL,
    title TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, shop_id TEXT NOT NULL, buyer_user_id TEXT NOT NULL,
    create_time INTEGER NOT NULL, update_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_shop ON conversations (shop_id, update_time);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, idx INTEGER NOT NULL,
    create_time INTEGER NOT NULL, type TEXT NOT NULL, content TEXT NOT NULL,
    is_visible INTEGER NOT NULL, role TEXT NOT NULL, im_user_id TEXT NOT NULL,
    nickname TEXT NOT NULL, avatar TEXT NOT NULL, read_by_seller INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, idx);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, content_type TEXT NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    shop_id TEXT NOT NULL, event_type TEXT NOT NULL, address TEXT NOT NULL,
    create_time INTEGER NOT NULL, update_time INTEGER NOT NULL, PRIMARY KEY (shop_id, event_type)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, shop_id TEXT NOT NULL, type INTEGER NOT NULL,
    notification_id TEXT NOT NULL, body TEXT NOT NULL, created_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER, next_attempt_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, id);
"""

DEFAULT_CONFIG: dict[str, Any] = {
    "webhook_url": "",
    "redirect_url": "",
    "buyer_message_interval": 0.0,
    "status_advance_interval": 0.0,
    "access_token_ttl": 7 * 24 * 3600,
}

DEFAULT_FAULTS: dict[str, Any] = {
    "rate_limit_ratio": 0.0,
    "error_ratio": 0.0,
    "latency_ms": 0,
    "webhook_duplicate_ratio": 0.0,
    "webhook_reorder": False,
    "webhook_drop_ratio": 0.0,
}


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode; writers open explicit `BEGIN IMMEDIATE` transactions."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def meta_get(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def json_meta_get(conn: sqlite3.Connection, key: str, default: dict[str, Any]) -> dict[str, Any]:
    raw = meta_get(conn, key)
    merged = dict(default)
    if raw:
        merged.update(orjson.loads(raw))
    return merged


def json_meta_set(conn: sqlite3.Connection, key: str, value: dict[str, Any]) -> None:
    meta_set(conn, key, orjson.dumps(value).decode())


def is_seeded(conn: sqlite3.Connection) -> bool:
    try:
        return meta_get(conn, "app_key") is not None
    except sqlite3.OperationalError:
        return False


class Transaction:
    """`with Transaction(conn):` — BEGIN IMMEDIATE / COMMIT, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
