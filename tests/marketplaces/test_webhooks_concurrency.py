"""Races on PostgreSQL: two deliveries of one notification, two workers given one event.

Real threads, each with its own database connection, released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection

from marketplaces import services
from marketplaces.models import StoreStatus, WebhookEvent, WebhookEventStatus
from marketplaces.tasks import process_webhook_event
from tests.factories_marketplaces import StoreFactory, TenantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 4


def race(work: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(RACERS)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work()
            with lock:
                results.append(outcome)
        except BaseException as exc:  # surfaced below, with the thread's own error
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == RACERS
    return results


def test_racing_deliveries_of_one_notification_store_one_row(monkeypatch):
    enqueued: list[int] = []
    monkeypatch.setattr(process_webhook_event, "delay", enqueued.append)

    results = race(
        lambda: services.webhook_event_receive(
            notification_id="7327112393057371910",
            webhook_type=1,
            shop_id="7494049642642441621",
            payload={"type": 1},
        )
    )

    stored = [event for event in results if event is not None]
    assert len(stored) == 1
    assert WebhookEvent.objects.count() == 1
    assert enqueued == [stored[0].pk]


def test_racing_workers_process_one_event_once(settings):
    settings.TOKEN_ENCRYPTION_KEYS = ["Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtbG9uZy1rZXk="]
    store = StoreFactory(tenant=TenantFactory(), external_shop_id="7494049642642441621")
    sent_at = store.connected_at + timedelta(minutes=1)
    event = WebhookEvent.objects.create(
        notification_id="1",
        type=6,
        shop_id="7494049642642441621",
        payload={"type": 6, "timestamp": int(sent_at.timestamp()), "data": {}},
    )

    results = race(lambda: services.webhook_event_process(event_id=event.pk))

    assert sorted(results, key=str) == [None] * (RACERS - 1) + [WebhookEventStatus.PROCESSED]
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEventStatus.PROCESSED, 1)
    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
