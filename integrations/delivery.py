"""Sending webhook deliveries: claimed in batches, POSTed concurrently, retried with backoff for
about a day, logged, and the subscription disabled after a day of failures (admins told).

`deliveries_send_due()` (the Celery task's body) takes due deliveries under row locks (SKIP LOCKED,
so several workers share the work), marks them `sending` with a lease, commits, POSTs them from a
thread pool with keep-alive sessions (no network call inside a transaction), then writes the
outcomes, the attempt log and the subscriptions' failure runs in one short transaction per batch.
A worker killed mid-batch leaves `sending` rows whose lease expires: they are sent again with the
same `webhook-id`, which receivers de-duplicate on (Standard Webhooks).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from config.db import json_document
from marketplaces.crypto import decrypt_token

from . import signing
from .events import KICK_KEY, subscriptions_changed
from .models import (
    DeliveryAttempt,
    DeliveryStatus,
    OutboundEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from .urls_safety import UnsafeURLError, check_url

logger = logging.getLogger(__name__)

# Waits after attempt 1, 2, ... (Standard Webhooks' usual schedule): the last attempt comes ~27 h
# after the first, so an endpoint down for a day still gets everything.
BACKOFF_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000]
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
DISABLE_AFTER = timedelta(hours=24)
LEASE = timedelta(minutes=5)
BATCH_SIZE = 500
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


def backoff(attempt: int) -> float:
    """Seconds to wait after `attempt` failed, ±10% so that a burst does not come back at once."""
    base = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
    return base * (0.9 + random.random() * 0.2)


@dataclass(slots=True)
class Due:
    """A claimed delivery, as plain values (no model instances on the hot path)."""

    pk: int
    public_id: uuid.UUID
    tenant_id: int
    subscription_id: int
    event_id: int
    attempts: int

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.public_id.hex}"


@dataclass(slots=True)
class Endpoint:
    pk: int
    url: str
    secret: str
    is_active: bool


@dataclass(slots=True)
class Outcome:
    delivery_id: int
    subscription_id: int
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_pools: dict[int, urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> urllib3.PoolManager:
    """One keep-alive connection pool per process (urllib3 is thread-safe): no new TCP/TLS
    handshake per delivery to the same endpoint."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = urllib3.PoolManager(
                num_pools=256,
                maxsize=max(1, workers),
                retries=False,
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            )
        return pool


def _post(delivery: Due, body: bytes, secret: str, url: str, refusal: str, workers: int) -> Outcome:
    started = time.monotonic()
    status_code, error = None, refusal
    if not refusal:
        try:
            headers = signing.headers(
                secret=secret,
                webhook_id=delivery.webhook_id,
                timestamp=int(time.time()),
                body=body,
            )
            response = _pool(workers).request(
                "POST",
                url,
                body=body,
                headers=headers,
                redirect=False,  # a redirect could lead anywhere, a private address included
                preload_content=True,
            )
            status_code = response.status
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except urllib3.exceptions.HTTPError as exc:
            error = f"{type(exc).__name__}: could not reach the endpoint"
    return Outcome(
        delivery_id=delivery.pk,
        subscription_id=delivery.subscription_id,
        status_code=status_code,
        error=error[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )


_DUE_COLUMNS = ("pk", "public_id", "tenant_id", "subscription_id", "event_id", "attempts")


def _claim(now: datetime, limit: int) -> list[Due]:
    """Takes up to `limit` due deliveries (or ones whose sender's lease ran out) for this worker:
    row locks skipped by the others, marked `sending` with a lease, committed."""
    with transaction.atomic():
        batch = [
            Due(*row)
            for row in WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                | Q(status=DeliveryStatus.SENDING, next_attempt_at__lte=now)  # lease expired
            )
            .order_by("next_attempt_at")
            .values_list(*_DUE_COLUMNS)[:limit]
        ]
        if batch:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(
                status=DeliveryStatus.SENDING, next_attempt_at=now + LEASE
            )
    return batch


def _endpoints(batch: list[Due]) -> dict[int, Endpoint]:
    ids = {d.subscription_id for d in batch}
    return {
        pk: Endpoint(pk, url, decrypt_token(secret), is_active)
        for pk, url, secret, is_active in WebhookSubscription.objects.filter(
            pk__in=ids
        ).values_list("pk", "url", "secret_encrypted", "is_active")
    }


def _bodies(batch: list[Due]) -> dict[int, bytes]:
    """Each event's body, encoded once for all its endpoints (the exact bytes that are signed)."""
    ids = {d.event_id for d in batch}
    return {
        pk: json.dumps(payload, separators=(",", ":")).encode()
        for pk, payload in OutboundEvent.objects.filter(pk__in=ids).values_list("pk", "payload")
    }


_UPDATE_SQL = """
    UPDATE {table} AS d
       SET status = b.status, attempts = b.attempts, next_attempt_at = b.next_attempt_at,
           last_status_code = b.last_status_code, last_error = b.last_error,
           last_attempt_at = b.last_attempt_at, delivered_at = b.delivered_at
      FROM jsonb_to_recordset(%s::jsonb) AS b(
           id bigint, status varchar, attempts integer, next_attempt_at timestamptz,
           last_status_code integer, last_error varchar, last_attempt_at timestamptz,
           delivered_at timestamptz)
     WHERE d.id = b.id
"""
_ATTEMPTS_SQL = """
    INSERT INTO {table} (tenant_id, delivery_id, number, status_code, error, duration_ms, at)
    SELECT b.tenant_id, b.delivery_id, b.number, b.status_code, b.error, b.duration_ms, b.at
      FROM jsonb_to_recordset(%s::jsonb) AS b(
           tenant_id bigint, delivery_id bigint, number integer, status_code integer,
           error varchar, duration_ms integer, at timestamptz)
"""


def _write_outcomes(updates: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> None:
    """Two statements for the whole batch on PostgreSQL (bulk_update's CASE per row and model
    instances cost more than the deliveries themselves); row by row elsewhere (make run)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _UPDATE_SQL.format(table=WebhookDelivery._meta.db_table),
                [json_document(updates)],
            )
            cursor.execute(
                _ATTEMPTS_SQL.format(table=DeliveryAttempt._meta.db_table),
                [json_document(attempts)],
            )
        return
    for update in updates:
        values = dict(update)
        WebhookDelivery.objects.filter(pk=values.pop("id")).update(**values)
    DeliveryAttempt.objects.bulk_create([DeliveryAttempt(**attempt) for attempt in attempts])


def _record(batch: list[Due], outcomes: list[Outcome], now: datetime) -> None:
    by_id = {d.pk: d for d in batch}
    updates: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for outcome in outcomes:
        delivery = by_id[outcome.delivery_id]
        number = delivery.attempts + 1
        attempts.append(
            {
                "tenant_id": delivery.tenant_id,
                "delivery_id": delivery.pk,
                "number": number,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "duration_ms": outcome.duration_ms,
                "at": now,
            }
        )
        update: dict[str, Any] = {
            "id": delivery.pk,
            "attempts": number,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "last_attempt_at": now,
            "delivered_at": None,
            "next_attempt_at": None,
        }
        if outcome.ok:
            update.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now)
        elif number >= MAX_ATTEMPTS:
            update.update(status=DeliveryStatus.FAILED)
        else:
            update.update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=now + timedelta(seconds=backoff(number)),
            )
        updates.append(update)
    ok_subscriptions = {o.subscription_id for o in outcomes if o.ok}
    failing_subscriptions = {o.subscription_id for o in outcomes if not o.ok} - ok_subscriptions
    with transaction.atomic():
        if updates:
            _write_outcomes(updates, attempts)
        if ok_subscriptions:
            WebhookSubscription.objects.filter(
                pk__in=ok_subscriptions, failing_since__isnull=False
            ).update(failing_since=None)
        if failing_subscriptions:
            WebhookSubscription.objects.filter(
                pk__in=failing_subscriptions, failing_since__isnull=True
            ).update(failing_since=now)
            for subscription in WebhookSubscription.objects.filter(
                pk__in=failing_subscriptions,
                is_active=True,
                failing_since__lte=now - DISABLE_AFTER,
            ):
                subscription_disable_failing(subscription=subscription, now=now)


def subscription_disable_failing(*, subscription: WebhookSubscription, now: datetime) -> None:
    """A day of failures: the subscription stops, its waiting deliveries fail, admins are told
    (an e-mail after commit, and a banner on every page until they act)."""
    changed = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason="Every delivery failed for 24 hours.",
    )
    if not changed:
        return
    WebhookDelivery.objects.filter(
        subscription=subscription, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    subscriptions_changed(subscription.tenant_id)
    subscription_id = subscription.pk
    transaction.on_commit(lambda: _tell_admins(subscription_id))


def _tell_admins(subscription_id: int) -> None:
    from .services import subscription_disabled_notify

    try:
        subscription_disabled_notify(subscription_id=subscription_id)
    except Exception:
        logger.exception("Could not e-mail the admins about webhook %s", subscription_id)


def _send_batch(
    batch: list[Due], endpoints: dict[int, Endpoint], bodies: dict[int, bytes], workers: int
) -> list[Outcome]:
    """POSTs the batch from `workers` threads. Each endpoint's URL is checked once per batch
    (resolved again: an address that changed to a private one is refused)."""
    refusals: dict[str, str] = {}
    jobs = []
    for delivery in batch:
        endpoint = endpoints[delivery.subscription_id]
        if endpoint.url not in refusals:
            try:
                check_url(endpoint.url)
                refusals[endpoint.url] = ""
            except UnsafeURLError as exc:
                refusals[endpoint.url] = str(exc)
        jobs.append(
            (
                delivery,
                bodies[delivery.event_id],
                endpoint.secret,
                endpoint.url,
                refusals[endpoint.url],
                workers,
            )
        )
    if len(jobs) == 1 or workers <= 1:
        return [_post(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(lambda job: _post(*job), jobs))


def deliveries_send_due(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Sends what is due, a batch at a time, until nothing is due (or `limit` were sent)."""
    cache.delete(KICK_KEY)  # a change committed from now on queues another run
    workers = int(getattr(settings, "WEBHOOKS_CONCURRENCY", 16))
    sent = 0
    while limit is None or sent < limit:
        moment = now or timezone.now()
        size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - sent)
        batch = _claim(moment, size)
        if not batch:
            break
        endpoints = _endpoints(batch)
        # A subscription disabled (or deleted) since its deliveries were queued sends nothing.
        live = [
            d
            for d in batch
            if d.subscription_id in endpoints and endpoints[d.subscription_id].is_active
        ]
        live_ids = {d.pk for d in live}
        dead = [d.pk for d in batch if d.pk not in live_ids]
        if dead:
            WebhookDelivery.objects.filter(pk__in=dead).update(
                status=DeliveryStatus.FAILED, next_attempt_at=None
            )
        outcomes = _send_batch(live, endpoints, _bodies(live), workers) if live else []
        _record(live, outcomes, now or timezone.now())
        sent += len(batch)
    return sent


EVENT_RETENTION = timedelta(days=30)


def events_prune(*, now: datetime | None = None) -> int:
    """Deletes events older than 30 days, unless a delivery of theirs still waits to be sent."""
    cutoff = (now or timezone.now()) - EVENT_RETENTION
    waiting = WebhookDelivery.objects.filter(
        event=models.OuterRef("pk"), status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    )
    old = OutboundEvent.objects.filter(created_at__lt=cutoff).exclude(models.Exists(waiting))
    deleted = 0
    while True:
        ids = list(old.values_list("pk", flat=True)[:5000])
        if not ids:
            return deleted
        OutboundEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
