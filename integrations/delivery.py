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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import signing
from .events import KICK_KEY, subscriptions_changed
from .models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription
from .urls_safety import UnsafeURLError, check_url

logger = logging.getLogger(__name__)

# Waits after attempt 1, 2, ... (Standard Webhooks' usual schedule): the last attempt comes ~27 h
# after the first, so an endpoint down for a day still gets everything.
BACKOFF_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000]
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
DISABLE_AFTER = timedelta(hours=24)
LEASE = timedelta(minutes=5)
BATCH_SIZE = 200
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


def backoff(attempt: int) -> float:
    """Seconds to wait after `attempt` failed, ±10% so that a burst does not come back at once."""
    base = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
    return base * (0.9 + random.random() * 0.2)


@dataclass
class Outcome:
    delivery_id: int
    subscription_id: int
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=32)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def _post(delivery: WebhookDelivery, body: bytes, secret: str, url: str) -> Outcome:
    started = time.monotonic()
    status_code, error = None, ""
    try:
        check_url(url)
        headers = signing.headers(
            secret=secret, webhook_id=delivery.webhook_id, timestamp=int(time.time()), body=body
        )
        response = _session().post(
            url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,  # a redirect could lead anywhere, a private address included
        )
        status_code = response.status_code
        response.close()
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except UnsafeURLError as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: could not reach the endpoint"
    return Outcome(
        delivery_id=delivery.pk,
        subscription_id=delivery.subscription_id,
        status_code=status_code,
        error=error[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    with transaction.atomic():
        batch = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                | Q(status=DeliveryStatus.SENDING, next_attempt_at__lte=now)  # lease expired
            )
            .order_by("next_attempt_at")[:limit]
        )
        if batch:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(
                status=DeliveryStatus.SENDING, next_attempt_at=now + LEASE
            )
    if not batch:
        return []
    # The payloads and endpoints, read after the claim's commit (no locks held meanwhile).
    return list(
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in batch]).select_related(
            "event", "subscription"
        )
    )


def _record(batch: list[WebhookDelivery], outcomes: list[Outcome], now: datetime) -> None:
    by_id = {d.pk: d for d in batch}
    attempts = []
    succeeded, retry, failed = [], [], []
    for outcome in outcomes:
        delivery = by_id[outcome.delivery_id]
        number = delivery.attempts + 1
        attempts.append(
            DeliveryAttempt(
                tenant_id=delivery.tenant_id,
                delivery_id=delivery.pk,
                number=number,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                at=now,
            )
        )
        delivery.attempts = number
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.last_attempt_at = now
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            succeeded.append(delivery)
        elif number >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            failed.append(delivery)
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + timedelta(seconds=backoff(number))
            retry.append(delivery)
    ok_subscriptions = {o.subscription_id for o in outcomes if o.ok}
    failing_subscriptions = {o.subscription_id for o in outcomes if not o.ok} - ok_subscriptions
    with transaction.atomic():
        WebhookDelivery.objects.bulk_update(
            batch,
            [
                "status",
                "attempts",
                "next_attempt_at",
                "last_status_code",
                "last_error",
                "last_attempt_at",
                "delivered_at",
            ],
        )
        DeliveryAttempt.objects.bulk_create(attempts)
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


def _send_batch(batch: list[WebhookDelivery], workers: int) -> list[Outcome]:
    secrets_by_subscription: dict[int, str] = {}
    jobs = []
    for delivery in batch:
        subscription = delivery.subscription
        if subscription.pk not in secrets_by_subscription:
            secrets_by_subscription[subscription.pk] = subscription.secret
        body = json.dumps(delivery.event.payload, separators=(",", ":")).encode()
        jobs.append((delivery, body, secrets_by_subscription[subscription.pk], subscription.url))
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
        # A subscription disabled (or deleted) since its deliveries were queued sends nothing.
        live = [d for d in batch if d.subscription.is_active]
        dead = [d for d in batch if not d.subscription.is_active]
        if dead:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in dead]).update(
                status=DeliveryStatus.FAILED, next_attempt_at=None
            )
        outcomes = _send_batch(live, workers) if live else []
        _record(live, outcomes, now or timezone.now())
        sent += len(batch)
    return sent
