"""Who owns the transactions (issue 9, defects 1, 2 and 10): channel calls run outside any
database transaction, token refreshes commit on their own, and a webhook that met a transient
error is tried again, with backoff, a bounded number of times."""

from __future__ import annotations

from datetime import timedelta

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import OperationalError, transaction
from django.utils import timezone

from marketplaces import channel, services
from marketplaces.adapter import store_api
from marketplaces.models import StoreStatus, WebhookEvent, WebhookEventStatus, WebhookType
from marketplaces.services import webhook_event_process, webhook_events_requeue
from marketplaces.tiktok.client import TikTokClient
from orders import ingest as orders_ingest
from tests.factories_marketplaces import StoreFactory, WebhookEventFactory
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_sandbox(tiktok_sandbox_factory, settings):
    """A sandbox of this test's own: expiring its tokens disturbs no other test."""
    sandbox = tiktok_sandbox_factory(days=2, orders_per_day=5)
    point_settings_at(settings, sandbox)
    return sandbox


def order_event(store, order_id: str) -> WebhookEvent:
    return WebhookEventFactory(
        type=WebhookType.ORDER_STATUS_CHANGE,
        shop_id=store.external_shop_id,
        payload={
            "type": 1,
            "tts_notification_id": f"n-{order_id}",
            "shop_id": store.external_shop_id,
            "timestamp": int(timezone.now().timestamp()),
            "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT"},
        },
    )


def test_a_channel_call_inside_a_transaction_is_refused(tiktok_settings, tenant):
    store = connect_store(tiktok_settings, tenant=tenant)

    with pytest.raises(channel.TransactionOpenError), transaction.atomic():
        store_api(store).orders_by_id(["576461413038"])


def test_a_token_refreshed_by_a_webhook_handler_that_then_fails_is_kept(
    own_sandbox, tenant, monkeypatch
):
    """Defect 1: the platform rotated the refresh token; the handler's failure must not lose it."""
    store = connect_store(own_sandbox, tenant=tenant)
    order = next(store_api(store).order_pages(page_size=1)).items[0]
    spent = store.refresh_token
    own_sandbox.expire_tokens()

    def disk_full(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders_ingest, "orders_upsert", disk_full)
    event = order_event(store, order.external_id)

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED

    store.refresh_from_db()
    assert store.refresh_token != spent
    assert store.status == StoreStatus.ACTIVE
    # The grant lives: the stored refresh token is the one the platform accepts now.
    grant = TikTokClient.from_settings().refresh_token(refresh_token=store.refresh_token)
    assert grant.access_token


def test_a_refused_refresh_in_a_failing_webhook_handler_still_marks_the_store(own_sandbox, tenant):
    """Defect 2: the "needs re-authorization" mark survives the handler's failure."""
    store = connect_store(own_sandbox, tenant=tenant)
    order = next(store_api(store).order_pages(page_size=1)).items[0]
    # The grant's refresh token is spent elsewhere (the sandbox revokes a spent one).
    TikTokClient.from_settings().refresh_token(refresh_token=store.refresh_token)
    own_sandbox.expire_tokens()
    event = order_event(store, order.external_id)

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED

    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
    event.refresh_from_db()
    assert event.last_error.startswith("InvalidTokenError")
    assert event.retry_at is None  # a refusal is not tried again


def test_token_refresh_refuses_to_run_inside_a_callers_transaction(tiktok_settings, tenant):
    from marketplaces import tokens

    store = connect_store(tiktok_settings, tenant=tenant)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        tokens.store_tokens_refresh(store=store, client=TikTokClient.from_settings())


@pytest.fixture
def flaky_handler(monkeypatch):
    """The order handler fails as the platform does when it does not answer, `failures` times."""
    calls: list[int] = []
    state = {"failures": 1, "error": channel.UnavailableError("TikTok is not answering")}

    def handler(event, store):
        calls.append(event.pk)
        if len(calls) <= state["failures"]:
            raise state["error"]
        return "Order refreshed."

    monkeypatch.setitem(services._HANDLERS, int(WebhookType.ORDER_STATUS_CHANGE), handler)
    return state


def test_a_webhook_that_met_a_transient_error_is_retried_after_its_backoff(flaky_handler):
    """Defect 10: a FAILED event with a transient error used to stay FAILED forever."""
    store = StoreFactory()
    event = order_event(store, "576461413038")

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED
    event.refresh_from_db()
    assert event.status == WebhookEventStatus.FAILED
    assert event.retry_at is not None
    first_delay = event.retry_at - timezone.now()
    assert timedelta(seconds=14) < first_delay <= services.WEBHOOK_RETRY_BASE

    # Not before its time...
    assert webhook_events_requeue() == []
    # ...then handed out once, and processed.
    later = event.retry_at + timedelta(seconds=1)
    assert webhook_events_requeue(now=later) == [event.pk]
    assert webhook_events_requeue(now=later) == []
    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED
    event.refresh_from_db()
    assert (event.status, event.result, event.retry_at) == (
        WebhookEventStatus.PROCESSED,
        "Order refreshed.",
        None,
    )


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6391."),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        kombu.exceptions.OperationalError("[Errno 111] Connection refused"),
        OperationalError("server closed the connection unexpectedly"),
    ],
    ids=["redis-down", "redis-timeout", "broker-down", "database-dropped"],
)
def test_a_webhook_that_met_our_own_service_down_is_retried(flaky_handler, error):
    """The fault suite's Redis restart left two events FAILED for good: a Redis, broker or
    database connection error says nothing about the event and is retried like the platform's."""
    flaky_handler["error"] = error
    store = StoreFactory()
    event = order_event(store, "576461413041")

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED
    event.refresh_from_db()
    assert event.retry_at is not None
    assert webhook_events_requeue(now=event.retry_at + timedelta(seconds=1)) == [event.pk]
    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.PROCESSED


def test_transient_retries_are_bounded_and_back_off(flaky_handler):
    flaky_handler["failures"] = 100
    flaky_handler["error"] = channel.RateLimitedError("slow down", retry_after=1)
    store = StoreFactory()
    event = order_event(store, "576461413039")
    delays = []
    now = timezone.now()
    for _ in range(services.WEBHOOK_MAX_ATTEMPTS):
        assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED
        event.refresh_from_db()
        if event.retry_at is None:
            break
        delays.append(event.retry_at - timezone.now())
        now = event.retry_at + timedelta(seconds=1)
        assert webhook_events_requeue(now=now) == [event.pk]
    assert event.attempts == services.WEBHOOK_MAX_ATTEMPTS
    assert event.retry_at is None  # given up: it stays failed for a person
    assert len(delays) == services.WEBHOOK_MAX_ATTEMPTS - 1
    ceilings = [
        min(services.WEBHOOK_RETRY_CAP, services.WEBHOOK_RETRY_BASE * 2**i)
        for i in range(len(delays))
    ]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 - timedelta(seconds=2) <= delay <= ceiling
    assert webhook_events_requeue(now=now + timedelta(days=1)) == []


def test_a_webhook_that_failed_for_good_is_not_retried(flaky_handler):
    flaky_handler["error"] = ValueError("The notification carries no order_id.")
    store = StoreFactory()
    event = order_event(store, "576461413040")

    assert webhook_event_process(event_id=event.pk) == WebhookEventStatus.FAILED
    event.refresh_from_db()
    assert event.retry_at is None
    assert webhook_events_requeue(now=timezone.now() + timedelta(days=1)) == []
