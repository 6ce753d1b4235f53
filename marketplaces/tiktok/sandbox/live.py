"""The live loop: one process per sandbox (never one per web worker).

It delivers queued webhooks (signed, with the duplicate / reorder / drop faults) and, when enabled,
makes buyers write and orders, cancellations and returns move on by themselves.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import time
from typing import Any

import orjson
import requests

from marketplaces.tiktok.sandbox import db, events
from marketplaces.tiktok.sandbox.model import BASE_MARKER, NEXT_STATUS
from marketplaces.tiktok.signing import sign_webhook

logger = logging.getLogger("sandbox.live")

TICK_SECONDS = 0.1
REORDER_WINDOW = 1.0  # with webhook_reorder, events are held this long and sent newest first
MAX_ATTEMPTS = 5  # then the event is marked failed; retries after 2, 4, 8, 16 s (the real
# schedule, 2 min / 30 min / 3 h / 12 h per the contract's single source, is compressed here)


class LiveLoop:
    def __init__(self, data_path: str, parent_pid: int | None = None) -> None:
        self.conn = db.connect(data_path)
        self.parent_pid = parent_pid
        self.rng = random.Random()
        self.session = requests.Session()
        self.app_key = db.meta_get(self.conn, "app_key") or ""
        self.app_secret = db.meta_get(self.conn, "app_secret") or ""
        self.next_buyer_at = 0.0
        self.next_advance_at = 0.0

    def run_forever(self) -> None:
        while self.parent_pid is None or os.getppid() == self.parent_pid:
            try:
                self.tick()
            except sqlite3.OperationalError:
                logger.exception("live loop: database busy, retrying")
            time.sleep(TICK_SECONDS)

    def tick(self) -> None:
        config = db.json_meta_get(self.conn, "config", db.DEFAULT_CONFIG)
        now = time.time()
        self.next_buyer_at = self._maybe(
            now, float(config["buyer_message_interval"]), self.next_buyer_at, self.buyer_writes
        )
        self.next_advance_at = self._maybe(
            now,
            float(config["status_advance_interval"]),
            self.next_advance_at,
            self.something_advances,
        )
        self.deliver(config, db.json_meta_get(self.conn, "faults", db.DEFAULT_FAULTS))

    def _maybe(self, now: float, interval: float, due: float, action: Any) -> float:
        if interval <= 0:
            return 0.0
        if due == 0.0:
            return now + interval
        if now >= due:
            try:
                action()
            except (events.NotFound, events.Invalid) as error:
                logger.info("live loop: nothing to do (%s)", error)
            return now + interval
        return due

    def _authorized_shops(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM shops WHERE authorized = 1")]

    def buyer_writes(self) -> None:
        shops = self._authorized_shops()
        if not shops:
            return
        shop_id = self.rng.choice(shops)
        user_id = None
        if self.rng.random() < 0.2:
            # Now and then a buyer who never chatted before starts a conversation.
            row = self.conn.execute(
                "SELECT user_id FROM orders WHERE shop_id = ? ORDER BY create_time DESC "
                "LIMIT 1 OFFSET ?",
                (shop_id, self.rng.randrange(0, 200)),
            ).fetchone()
            user_id = row[0] if row else None
        events.buyer_write(self.conn, shop_id=shop_id, user_id=user_id)

    def something_advances(self) -> None:
        roll = self.rng.random()
        shops = self._authorized_shops()
        if not shops:
            return
        marks = ", ".join("?" * len(shops))
        if roll < 0.15:
            row = self.conn.execute(
                f"SELECT id FROM cancellations WHERE shop_id IN ({marks}) AND status IN "  # noqa: S608
                "('CANCELLATION_REQUEST_PENDING', 'CANCELLATION_REQUEST_SUCCESS') "
                "ORDER BY random() LIMIT 1",
                shops,
            ).fetchone()
            if row:
                events.cancellation_advance(self.conn, row[0])
                return
        if roll < 0.3:
            row = self.conn.execute(
                f"SELECT id FROM returns WHERE shop_id IN ({marks}) AND status IN "  # noqa: S608
                "('RETURN_OR_REFUND_REQUEST_PENDING', 'AWAITING_BUYER_SHIP', 'BUYER_SHIPPED_ITEM', "
                "'RETURN_OR_REFUND_REQUEST_SUCCESS') ORDER BY random() LIMIT 1",
                shops,
            ).fetchone()
            if row:
                events.return_advance(self.conn, row[0])
                return
        statuses = ", ".join(f"'{status}'" for status in NEXT_STATUS)
        row = self.conn.execute(
            f"SELECT id FROM orders WHERE shop_id IN ({marks}) AND status IN ({statuses}) "  # noqa: S608
            "AND create_time > ? ORDER BY random() LIMIT 1",
            [*shops, int(time.time()) - 20 * 86400],
        ).fetchone()
        if row:
            events.order_advance(self.conn, row[0])

    # ------------------------------------------------------------ webhook delivery

    def address(self, config: dict[str, Any], shop_id: str, event_type: int) -> str:
        row = self.conn.execute(
            "SELECT address FROM webhooks WHERE shop_id = ? AND event_type = ?",
            (shop_id, events.EVENT_TYPES[event_type]),
        ).fetchone()
        return row[0] if row else str(config["webhook_url"] or "")

    def deliver(self, config: dict[str, Any], faults: dict[str, Any]) -> None:
        now = time.time()
        rows = self.conn.execute(
            "SELECT id, shop_id, type, notification_id, body, attempts, created_at FROM outbox "
            "WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 100",
            (now,),
        ).fetchall()
        if not rows:
            return
        if faults["webhook_reorder"]:
            if now - rows[0][6] < REORDER_WINDOW:
                return  # keep collecting, then send the batch newest first
            rows = list(reversed(rows))
        base_url = db.meta_get(self.conn, "base_url") or ""
        for row_id, shop_id, event_type, notification_id, data, attempts, _ in rows:
            url = self.address(config, shop_id, event_type)
            if not url:
                self._mark(row_id, "undeliverable", attempts, None)
                continue
            if self.rng.random() < float(faults["webhook_drop_ratio"]):
                self._mark(row_id, "dropped", attempts, None)
                continue
            body = orjson.dumps(
                {
                    "type": event_type,
                    "tts_notification_id": notification_id,
                    "shop_id": shop_id,
                    "timestamp": int(time.time()),
                    "data": orjson.loads(data),
                }
            )
            body = body.replace(BASE_MARKER.encode(), base_url.encode())
            copies = 2 if self.rng.random() < float(faults["webhook_duplicate_ratio"]) else 1
            status = None
            for _ in range(copies):
                status = self.post(url, body)
            if status is not None and 200 <= status < 300:
                self._mark(row_id, "delivered", attempts + 1, status, copies=copies)
            elif attempts + 1 >= MAX_ATTEMPTS:
                self._mark(row_id, "failed", attempts + 1, status)
            else:
                self.conn.execute(
                    "UPDATE outbox SET attempts = ?, last_status = ?, "
                    "next_attempt_at = ? WHERE id = ?",
                    (attempts + 1, status, time.time() + 2 ** (attempts + 1), row_id),
                )

    def post(self, url: str, body: bytes) -> int | None:
        signature = sign_webhook(self.app_key, self.app_secret, body)
        try:
            response = self.session.post(
                url,
                data=body,
                timeout=(2, 5),
                headers={"Content-Type": "application/json", "Authorization": signature},
            )
        except requests.RequestException as error:
            logger.warning("webhook to %s failed: %s", url, error.__class__.__name__)
            return None
        return response.status_code

    def _mark(
        self, row_id: int, state: str, attempts: int, status: int | None, copies: int = 1
    ) -> None:
        self.conn.execute(
            "UPDATE outbox SET state = ?, attempts = ?, last_status = ? WHERE id = ?",
            (state if copies == 1 else f"{state}_twice", attempts, status, row_id),
        )


def run(data_path: str, parent_pid: int | None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox-live %(message)s")
    LiveLoop(data_path, parent_pid).run_forever()
