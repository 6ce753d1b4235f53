"""Running a job: pages stored window after window within the run's budget, and what a run ends
with (completed, paused with a retry delay, or failed); the incremental sync of a store.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketplaces.adapter import StoreAPI, store_api
from marketplaces.channel import PageTokenInvalidError, StoreUnavailableError
from marketplaces.models import Store, StoreStatus, SyncJob, SyncJobStatus, SyncMode
from marketplaces.services import store_record_error, store_record_sync_success

from .common import (
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    RUN_BUDGET_SECONDS,
    TRANSIENT_ERRORS,
    CheckpointHook,
    RunResult,
)
from .pages import (
    ClaimLostError,
    _Checkpointer,
    _count_total,
    _first_window,
    _Prefetch,
    _relax_commit,
    _remaining_pages,
    _store_page,
    _window_after,
    sync_job_claim,
)
from .starting import incremental_jobs_create

logger = logging.getLogger(__package__)  # orders.sync, as before the package


def _run_windows(
    api: StoreAPI,
    job: SyncJob,
    checkpoint: _Checkpointer,
    *,
    deadline: float,
    on_checkpoint: CheckpointHook | None,
) -> tuple[bool, int]:
    """Pages from the checkpoint on; returns (range finished, items stored in this run)."""
    stored = 0
    prefetch = _Prefetch(_remaining_pages(api, job))
    try:
        for page in prefetch:
            changes: dict[str, Any] = {
                "page_token": page.next_page_token,
                "pages_fetched": job.pages_fetched + 1,
                "items_fetched": job.items_fetched + len(page.items),
                "window_items_fetched": job.window_items_fetched + len(page.items),
            }
            if job.total_estimate is None and page.total_count is not None:
                # Incremental: one window over the whole range, so its count is the total.
                changes["total_estimate"] = page.total_count
            finished = False
            if page.is_last:
                assert job.window_start is not None and job.window_end is not None
                following = _window_after(job, (job.window_start, job.window_end))
                changes["windows_done"] = job.windows_done + 1
                changes["window_items_fetched"] = 0
                if following is None:
                    finished = True
                else:
                    changes["window_start"], changes["window_end"] = following
            with transaction.atomic():
                _relax_commit()
                _store_page(job.store, job.kind, page.items)
                checkpoint.write(**changes)
            stored += len(page.items)
            if on_checkpoint is not None:
                on_checkpoint(job)
            if finished:
                return True, stored
            if time.monotonic() > deadline:
                return False, stored
    finally:
        prefetch.close()
    # The pages ran out before the last window's last page: only possible if the platform
    # changed its answer mid-way. Not finished; the next run resumes from the checkpoint.
    return False, stored


def _retry_delay(exc: Exception, retries: int) -> float:
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**retries)
    hint = getattr(exc, "retry_after", None)
    return float(max(delay, hint or 0))


def sync_job_run(
    *,
    job_id: int,
    retries: int = 0,
    budget_seconds: float = RUN_BUDGET_SECONDS,
    on_checkpoint: CheckpointHook | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Claim a job and run it from its checkpoint until done, out of budget, or an error.

    `on_checkpoint` is called after every committed page (tests inject crashes from it);
    `retries` is how many times the task already retried (it sets the backoff).
    """
    job = sync_job_claim(job_id=job_id, now=now)
    if job is None:
        return RunResult(status="not claimed", items=0)
    checkpoint = _Checkpointer(job)
    deadline = time.monotonic() + budget_seconds
    stored = 0
    try:
        api = store_api(job.store)
        if job.window_start is None or job.window_end is None:
            window_start, window_end = _first_window(job)
            checkpoint.write(window_start=window_start, window_end=window_end, page_token="")
        if job.total_estimate is None and job.mode == SyncMode.BACKFILL:
            checkpoint.write(total_estimate=_count_total(api, job))
        finished, stored = _run_windows(
            api, job, checkpoint, deadline=deadline, on_checkpoint=on_checkpoint
        )
    except ClaimLostError:
        logger.warning("Sync job %s: claim lost, another worker carries on", job_id)
        return RunResult(status="claim lost", items=stored)
    except StoreUnavailableError as exc:
        # Paused until the store is reconnected; the sweeper only resumes active stores' jobs.
        _pause(checkpoint, str(exc))
        return RunResult(status=SyncJobStatus.PAUSED, items=stored)
    except TRANSIENT_ERRORS as exc:
        delay = _retry_delay(exc, retries)
        _pause(
            checkpoint,
            f"{type(exc).__name__}: {exc}",
            resume_at=timezone.now() + timedelta(seconds=delay),
        )
        return RunResult(status=SyncJobStatus.PAUSED, items=stored, retry_in=delay)
    except PageTokenInvalidError as exc:
        if not job.page_token:
            return _fail(checkpoint, job, exc, stored)
        # The platform no longer accepts the page position we kept (it expired, or the search
        # changed): the window is read again from its start. Pages already stored are upserted
        # again (idempotent); nothing in the window is skipped, and its items already counted
        # are taken off the count, which they re-enter when read again. A fresh task carries on.
        logger.warning("Sync job %s: page token refused, window restarted: %s", job_id, exc)
        try:
            checkpoint.write(
                status=SyncJobStatus.PAUSED,
                page_token="",
                items_fetched=F("items_fetched") - F("window_items_fetched"),
                window_items_fetched=0,
                last_error=f"The page position expired; the window was restarted ({exc})."[:2000],
                last_error_at=timezone.now(),
                resume_at=None,
            )
        except ClaimLostError:
            return RunResult(status="claim lost", items=stored)
        return RunResult(status=SyncJobStatus.PAUSED, items=stored, retry_in=0.0)
    except Exception as exc:
        logger.exception("Sync job %s failed", job_id)
        return _fail(checkpoint, job, exc, stored)
    if not finished:
        # Out of budget: hand the rest to a fresh task (the caller re-enqueues at once).
        checkpoint.write(
            status=SyncJobStatus.PAUSED, last_error="", last_error_at=None, resume_at=None
        )
        return RunResult(status=SyncJobStatus.PAUSED, items=stored, retry_in=0.0)
    checkpoint.write(status=SyncJobStatus.COMPLETED, finished_at=timezone.now(), last_error="")
    store_record_sync_success(store=job.store)
    return RunResult(status=SyncJobStatus.COMPLETED, items=stored)


def _fail(checkpoint: _Checkpointer, job: SyncJob, exc: Exception, stored: int) -> RunResult:
    message = f"{type(exc).__name__}: {exc}"
    try:
        checkpoint.write(
            status=SyncJobStatus.FAILED,
            last_error=message[:2000],
            last_error_at=timezone.now(),
            finished_at=timezone.now(),
        )
    except ClaimLostError:
        return RunResult(status="claim lost", items=stored)
    store_record_error(store=job.store, message=f"Order sync failed: {message}")
    return RunResult(status=SyncJobStatus.FAILED, items=stored)


def _pause(checkpoint: _Checkpointer, message: str, *, resume_at: datetime | None = None) -> None:
    with contextlib.suppress(ClaimLostError):
        checkpoint.write(
            status=SyncJobStatus.PAUSED,
            last_error=message[:2000],
            last_error_at=timezone.now(),
            resume_at=resume_at,
        )


def store_sync_incremental(
    *, store_id: int, retries: int = 0, on_checkpoint: CheckpointHook | None = None
) -> list[RunResult]:
    """One store's incremental sync of orders, returns and cancellations, one kind after another.

    Skipped for a store that is not active. Each kind is its own job: the unique "one active job
    per store, kind and mode" constraint and the claim keep two workers off the same store.
    """
    store = Store.objects.filter(pk=store_id, status=StoreStatus.ACTIVE).first()
    if store is None:
        return []
    results = []
    for job in incremental_jobs_create(store=store):
        results.append(sync_job_run(job_id=job.pk, retries=retries, on_checkpoint=on_checkpoint))
    return results
