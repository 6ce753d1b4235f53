"""Races on PostgreSQL: workers given the same sync job, the same page, the same store.

Real threads, each with its own database connection and HTTP client, released together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection

from marketplaces.adapter import store_api
from marketplaces.models import SyncJob, SyncJobStatus, SyncMode
from orders import sync
from orders.ingest import orders_upsert
from orders.models import Order, OrderLine
from tests.sandbox_stores import connect_store, point_settings_at

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
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == RACERS
    return results


def test_racing_workers_on_one_backfill_job_run_it_once(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    [job, *_] = sync.backfill_jobs_create(store=store)

    results = race(lambda: sync.sync_job_run(job_id=job.pk))

    statuses = sorted(str(result.status) for result in results)
    assert statuses == ["completed", "not claimed", "not claimed", "not claimed"]
    job.refresh_from_db()
    assert (job.status, job.attempts, job.items_fetched) == (SyncJobStatus.COMPLETED, 1, 300)
    assert Order.objects.filter(store=store).count() == 300


def test_racing_upserts_of_one_page_store_each_order_once(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    page = next(store_api(store).order_pages(page_size=100)).items

    results = race(lambda: orders_upsert(store=store, orders=page))

    assert results == [100] * RACERS
    assert Order.objects.filter(store=store).count() == 100
    assert OrderLine.objects.filter(order__store=store).count() == sum(len(o.lines) for o in page)


def test_racing_incremental_syncs_of_one_store_make_one_job_per_kind(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)

    race(lambda: sync.incremental_jobs_create(store=store))

    jobs = SyncJob.objects.filter(store=store, mode=SyncMode.INCREMENTAL)
    assert sorted(jobs.values_list("kind", flat=True)) == ["cancellations", "orders", "returns"]


def test_a_token_expiring_mid_backfill_is_refreshed_by_the_fetching_thread(
    tiktok_sandbox_factory, settings, tenant, monkeypatch
):
    # The refresh happens on the prefetch thread, with its own database connection.
    monkeypatch.setattr(sync.pages, "BACKFILL_WINDOW", timedelta(days=5))
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    old_token = store.access_token_encrypted
    [job, *_] = sync.backfill_jobs_create(store=store)

    def expire_once(current: SyncJob) -> None:
        if current.pages_fetched == 2:
            sandbox.expire_tokens()

    result = sync.sync_job_run(job_id=job.pk, on_checkpoint=expire_once)

    assert result.status == SyncJobStatus.COMPLETED
    job.refresh_from_db()
    assert (job.items_fetched, job.total_estimate) == (300, 300)
    assert Order.objects.filter(store=store).count() == 300
    store.refresh_from_db()
    assert store.access_token_encrypted != old_token
    assert store.status == "active"
