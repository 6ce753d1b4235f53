"""Starting jobs: the backfill's and the incremental sync's jobs created (or the active ones
reused), dispatched on commit, and what the beat finds due or to resume.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from marketplaces.channel import StoreUnavailableError, platforms_with_orders
from marketplaces.models import Store, StoreStatus, SyncJob, SyncJobStatus, SyncMode

from .common import (
    BACKFILL_DAYS,
    INCREMENTAL_OVERLAP,
    KINDS,
    _stale_after,
    _whole_seconds,
    interval_seconds,
)

logger = logging.getLogger(__package__)  # orders.sync, as before the package


def _dispatch(job_ids: list[int]) -> None:
    from ..tasks import run_sync_job

    for job_id in job_ids:
        try:
            run_sync_job.delay(job_id)
        except Exception:
            # The job is stored; the resume sweeper picks it up.
            logger.exception("Could not enqueue sync job %s; the sweeper will retry", job_id)


def _dispatch_on_commit(jobs: list[SyncJob]) -> None:
    ids = [job.pk for job in jobs if job.status in (SyncJobStatus.QUEUED, SyncJobStatus.PAUSED)]
    if ids:
        transaction.on_commit(lambda: _dispatch(ids))


def _active_or_new(
    *, store: Store, kind: str, mode: str, range_start: datetime, range_end: datetime
) -> SyncJob:
    """The store's unfinished job of this kind and mode, else a new queued one."""
    unfinished = SyncJob.objects.filter(
        store=store,
        kind=kind,
        mode=mode,
        status__in=(SyncJobStatus.QUEUED, SyncJobStatus.RUNNING, SyncJobStatus.PAUSED),
    )
    existing = unfinished.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return SyncJob.objects.create(
                tenant_id=store.tenant_id,
                store=store,
                kind=kind,
                mode=mode,
                range_start=range_start,
                range_end=range_end,
            )
    except IntegrityError:
        # Another caller created it between the read and the insert: the constraint decided.
        return unfinished.get()


def backfill_jobs_create(*, store: Store, now: datetime | None = None) -> list[SyncJob]:
    """One backfill job per kind over the last 90 days, unless one exists already.

    A failed backfill is queued again (it resumes from its checkpoint); a completed one is kept
    (the incremental sync carries on from its end).
    """
    now = _whole_seconds(now or timezone.now())
    jobs = []
    for kind in KINDS:
        latest = (
            SyncJob.objects.filter(store=store, kind=kind, mode=SyncMode.BACKFILL)
            .order_by("-created_at", "-id")
            .first()
        )
        if latest is not None and latest.status == SyncJobStatus.FAILED:
            SyncJob.objects.filter(pk=latest.pk, status=SyncJobStatus.FAILED).update(
                status=SyncJobStatus.QUEUED
            )
            latest.status = SyncJobStatus.QUEUED
        if latest is not None and latest.status != SyncJobStatus.FAILED:
            jobs.append(latest)
            continue
        jobs.append(
            _active_or_new(
                store=store,
                kind=kind,
                mode=SyncMode.BACKFILL,
                range_start=now - timedelta(days=BACKFILL_DAYS),
                range_end=now,
            )
        )
    return jobs


def backfill_start(*, store: Store) -> list[SyncJob]:
    """Connect flow: create the store's backfill jobs and run them after the transaction commits;
    its products and coupons are read too."""
    from ..catalog import catalog_sync_start

    jobs = backfill_jobs_create(store=store)
    _dispatch_on_commit(jobs)
    catalog_sync_start(store=store)
    return jobs


def _incremental_start_at(store: Store, kind: str, now: datetime) -> datetime:
    """Where the next incremental sync of `kind` starts: the previous one's end, less overlap."""
    previous_end = (
        SyncJob.objects.filter(
            store=store,
            kind=kind,
            status=SyncJobStatus.COMPLETED,
            mode__in=(SyncMode.INCREMENTAL, SyncMode.BACKFILL),
        )
        .order_by("-range_end")
        .values_list("range_end", flat=True)
        .first()
    )
    if previous_end is None:
        # The backfill is still running: changes since it started are what is missing.
        previous_end = (
            SyncJob.objects.filter(store=store, kind=kind, mode=SyncMode.BACKFILL)
            .order_by("-range_end")
            .values_list("range_end", flat=True)
            .first()
        )
    if previous_end is None:
        previous_end = now - timedelta(days=BACKFILL_DAYS)
    return min(previous_end - INCREMENTAL_OVERLAP, now - timedelta(seconds=1))


def incremental_jobs_create(*, store: Store, now: datetime | None = None) -> list[SyncJob]:
    """One incremental job per kind (or the unfinished one), from the previous end to now."""
    # Up to the next whole second: a change stamped in the current second is included.
    now = _whole_seconds(now or timezone.now()) + timedelta(seconds=1)
    return [
        _active_or_new(
            store=store,
            kind=kind,
            mode=SyncMode.INCREMENTAL,
            range_start=_incremental_start_at(store, kind, now),
            range_end=now,
        )
        for kind in KINDS
    ]


def sync_now(*, store: Store) -> None:
    """Stores page "Sync now": an incremental sync at once; a failed or missing backfill resumes."""
    if store.status != StoreStatus.ACTIVE:
        raise StoreUnavailableError(store)
    from ..tasks import sync_store

    backfills = backfill_jobs_create(store=store)
    _dispatch_on_commit(backfills)
    from ..catalog import catalog_sync_start

    # The check's jobs exist before the page comes back, so the store's row shows it waiting
    # and then running (the task picks these unfinished jobs up instead of making new ones).
    incremental_jobs_create(store=store)
    store_id = store.pk
    transaction.on_commit(lambda: sync_store.delay(store_id))
    catalog_sync_start(store=store)


def stores_due_for_sync(*, now: datetime | None = None) -> list[int]:
    """Active stores whose last incremental sync started more than the interval ago."""
    now = now or timezone.now()
    due_before = now - timedelta(seconds=interval_seconds())
    recent = SyncJob.objects.filter(mode=SyncMode.INCREMENTAL, created_at__gt=due_before).values(
        "store_id"
    )
    return list(
        Store.objects.filter(status=StoreStatus.ACTIVE, platform__in=platforms_with_orders())
        .exclude(pk__in=recent)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def sync_jobs_to_resume(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Jobs of active stores that no worker is on: queued, paused a while ago, or stale."""
    now = now or timezone.now()
    waiting = (
        Q(status=SyncJobStatus.QUEUED, created_at__lt=now - timedelta(minutes=1))
        | Q(status=SyncJobStatus.PAUSED, resume_at__lte=now)
        | Q(
            status=SyncJobStatus.PAUSED,
            resume_at__isnull=True,
            last_error_at__lt=now - timedelta(minutes=5),
        )
        | Q(status=SyncJobStatus.PAUSED, resume_at__isnull=True, last_error_at__isnull=True)
        | Q(status=SyncJobStatus.RUNNING, heartbeat_at__lt=now - _stale_after())
    )
    return list(
        SyncJob.objects.filter(waiting, store__status=StoreStatus.ACTIVE)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
