"""Two workers polling one store at the same moment on PostgreSQL: one wins the lease."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from inbox.models import Conversation, Message, StoreInboxState
from inbox.polling import PollOutcome, store_poll
from marketplaces.adapter import reset_default_client
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_polling_one_store_at_once_poll_it_once(
    tiktok_sandbox_factory, settings, tenant
):
    # Slow answers keep the winner's poll running while the other worker tries.
    sandbox = tiktok_sandbox_factory(latency_ms=100)
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            result = store_poll(store_id=store.pk)
            with lock:
                outcomes.append(result.outcome)
        except BaseException as exc:  # surfaced below
            with lock:
                errors.append(exc)
        finally:
            reset_default_client()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not errors, errors
    assert sorted(outcomes) == [PollOutcome.BUSY, PollOutcome.POLLED]
    assert Conversation.objects.filter(store=store).count() == 12
    assert sorted(Conversation.objects.filter(store=store).values_list("number", flat=True)) == (
        list(range(1, 13))
    )
    first_poll_messages = Message.objects.filter(store=store).count()
    assert StoreInboxState.objects.get(store=store).poll_lease_until is None

    again = store_poll(store_id=store.pk)
    assert (again.outcome, again.new_messages) == (PollOutcome.POLLED, 0)
    assert Message.objects.filter(store=store).count() == first_poll_messages
