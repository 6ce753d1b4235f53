"""Order sync in the background. Task names are stable: queued messages outlive deploys.

Arguments are ids; the bodies call `orders.sync`. A job paused by a rate limit or a server error
is retried with a growing countdown (never a hot loop); the beat sweeper resumes anything left
behind (broker down, worker killed, retries exhausted).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import catalog, services, sync

# Retries of one task before it gives up and leaves the job to the sweeper.
MAX_TASK_RETRIES = 8


@shared_task(bind=True, name="orders.run_sync_job", ignore_result=True, max_retries=None)
def run_sync_job(self: Any, job_id: int) -> str:
    """Runs one sync job from its checkpoint; retries later when it was paused by a limit."""
    result = sync.sync_job_run(job_id=job_id, retries=self.request.retries)
    if result.retry_in is not None:
        if result.retry_in == 0:
            # Out of its time budget, not failing: a fresh task carries on at once.
            run_sync_job.delay(job_id)
        elif self.request.retries < MAX_TASK_RETRIES:
            raise self.retry(countdown=result.retry_in)
    return str(result.status)


@shared_task(bind=True, name="orders.sync_store", ignore_result=True, max_retries=None)
def sync_store(self: Any, store_id: int) -> int:
    """One store's incremental sync (orders, returns, cancellations); skipped when not active."""
    results = sync.store_sync_incremental(store_id=store_id, retries=self.request.retries)
    delays = [r.retry_in for r in results if r.retry_in]
    if delays and self.request.retries < MAX_TASK_RETRIES:
        raise self.retry(countdown=max(delays))
    return sum(r.items for r in results)


@shared_task(name="orders.sync_due_stores", ignore_result=True)
def sync_due_stores() -> int:
    """Beat (every minute): an incremental sync for each active store whose interval has passed."""
    store_ids = sync.stores_due_for_sync()
    for store_id in store_ids:
        sync_store.delay(store_id)
    return len(store_ids)


@shared_task(name="orders.resume_sync_jobs", ignore_result=True)
def resume_sync_jobs() -> int:
    """Beat: hands queued, paused and stale jobs of active stores back to the workers."""
    job_ids = sync.sync_jobs_to_resume()
    for job_id in job_ids:
        run_sync_job.delay(job_id)
    return len(job_ids)


@shared_task(name="orders.sync_catalog", ignore_result=True)
def sync_catalog(store_id: int) -> str:
    """One pass over a store's products and coupons (resumable; one worker per store)."""
    return catalog.catalog_sync(store_id=store_id).status


@shared_task(name="orders.sync_due_catalogs", ignore_result=True)
def sync_due_catalogs() -> int:
    """Beat: a catalog pass for each active store whose interval has passed."""
    store_ids = catalog.catalogs_due()
    for store_id in store_ids:
        sync_catalog.delay(store_id)
    return len(store_ids)


@shared_task(name="orders.fetch_tracking", ignore_result=True)
def fetch_tracking(order_id: int) -> bool:
    """An order's tracking events from its channel, stored for the order page and the API."""
    return services.order_tracking_fetch(order_id=order_id) is not None
