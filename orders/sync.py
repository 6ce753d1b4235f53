"""The order sync engine: the 90-day backfill, the incremental sync, and their entry points.

A sync is a `SyncJob` per store, kind (orders, returns, cancellations) and mode:

- backfill: records *created* in [range_start, range_end), walked in time windows from the newest
  to the oldest (recent orders show up first), page by page;
- incremental: records *updated* in [previous end - overlap, now), one window, oldest change first.

Resumable: after every page, in the same transaction as the page's upsert, the job stores where
the next page starts (window and page token) and its counts. A worker killed mid-way leaves the
job RUNNING with an old heartbeat; the next run reclaims it and starts exactly after the last
stored page: the page being written when it died is either fully stored with its checkpoint or not
at all, so nothing is skipped and nothing counted twice (rows are upserts anyway).

One worker per job: a run starts with a conditional UPDATE that only succeeds on a job that is
queued or paused (a failed one is queued again by `backfill_jobs_create`), or running with a
stale heartbeat, and bumps `attempts`; every checkpoint is conditional on that same `attempts`,
so a worker that lost its claim stops.

Streaming: pages are consumed one at a time and dropped after their upsert, while a thread fetches
the next ones (at most two wait); memory does not grow with the number of orders.

Errors: a rate limit (the client already retried with backoff) or a server/transport error pauses
the job and returns a delay for the task to retry later; a store that is not active pauses the job
until it is reconnected; a page position the platform no longer accepts restarts the window;
anything else fails the job with its message (Sync now resumes it).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import db
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from marketplaces import records
from marketplaces.adapter import StoreAPI, as_timestamp, store_api
from marketplaces.channel import (
    InvalidTokenError,
    PageTokenInvalidError,
    QuotaExceededError,
    RateLimitedError,
    StoreUnavailableError,
    UnavailableError,
    platforms_with_orders,
)
from marketplaces.models import (
    Store,
    StoreStatus,
    SyncJob,
    SyncJobStatus,
    SyncKind,
    SyncMode,
)
from marketplaces.services import store_record_error, store_record_sync_success

from . import ingest

logger = logging.getLogger(__name__)

BACKFILL_DAYS = 90
# Backfill windows on create_time. A day holds a few pages for most shops and keeps every window's
# cursor short; the platform's deep pagination is never needed.
BACKFILL_WINDOW = timedelta(days=1)
ORDER_PAGE_SIZE = 100  # the most order search allows (§4.1)
# Incremental sync re-reads this much before the previous end: a record updated in the very
# second the previous search ran, or indexed late by the platform, is still seen.
INCREMENTAL_OVERLAP = timedelta(minutes=2)
DEFAULT_INTERVAL_SECONDS = 300  # settings.ORDER_SYNC_INTERVAL_SECONDS overrides
# A RUNNING job whose last checkpoint is older than this belongs to a dead worker.
STALE_AFTER = timedelta(minutes=10)


def _stale_after() -> timedelta:
    """STALE_AFTER unless settings.SYNC_STALE_AFTER_SECONDS says otherwise (the fault suite)."""
    seconds = getattr(settings, "SYNC_STALE_AFTER_SECONDS", None)
    return timedelta(seconds=seconds) if seconds is not None else STALE_AFTER


# One run stops cleanly after this long and hands the rest to a new task, so a huge backfill
# never hits the Celery time limit and never holds a worker for long.
RUN_BUDGET_SECONDS = 10 * 60
# Transient failures are retried after min(cap, base * 2**retries) seconds (or Retry-After).
RETRY_BASE_SECONDS = 30
RETRY_CAP_SECONDS = 30 * 60

KINDS = (SyncKind.ORDERS, SyncKind.RETURNS, SyncKind.CANCELLATIONS)

TRANSIENT_ERRORS = (RateLimitedError, UnavailableError, QuotaExceededError, InvalidTokenError)

CheckpointHook = Callable[[SyncJob], None]


def interval_seconds() -> int:
    """Seconds between a store's incremental syncs (setting ORDER_SYNC_INTERVAL_SECONDS)."""
    return int(getattr(settings, "ORDER_SYNC_INTERVAL_SECONDS", DEFAULT_INTERVAL_SECONDS))


def _whole_seconds(value: datetime) -> datetime:
    # The API filters on Unix seconds; aligned bounds make consecutive ranges meet exactly.
    return value.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run of a job ended with; `retry_in` is set when the task should try again."""

    status: str
    items: int
    retry_in: float | None = None


# --- Starting jobs --------------------------------------------------------------------------------


def _dispatch(job_ids: list[int]) -> None:
    from .tasks import run_sync_job

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
    from .catalog import catalog_sync_start

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
    from .tasks import sync_store

    backfills = backfill_jobs_create(store=store)
    _dispatch_on_commit(backfills)
    from .catalog import catalog_sync_start

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


# --- Running a job --------------------------------------------------------------------------------


class ClaimLostError(Exception):
    """Another worker reclaimed the job (this one was thought dead): stop without writing."""


def sync_job_claim(*, job_id: int, now: datetime | None = None) -> SyncJob | None:
    """Take a job for this worker, or None when another worker holds it or it is finished."""
    now = now or timezone.now()
    # A job paused by a limit waits out its backoff, whoever dispatched it (the beat's next
    # incremental sync used to take a rate-limited job again at once).
    claimable = (
        Q(status=SyncJobStatus.QUEUED)
        | Q(status=SyncJobStatus.PAUSED, resume_at__isnull=True)
        | Q(status=SyncJobStatus.PAUSED, resume_at__lte=now)
        | Q(status=SyncJobStatus.RUNNING, heartbeat_at__lt=now - _stale_after())
    )
    claimed = SyncJob.objects.filter(claimable, pk=job_id).update(
        status=SyncJobStatus.RUNNING,
        heartbeat_at=now,
        started_at=Coalesce("started_at", Value(now)),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return SyncJob.objects.select_related("store").get(pk=job_id)


def _page_source(api: StoreAPI, job: SyncJob) -> Callable[..., Iterator[records.Page[Any]]]:
    return {
        SyncKind.ORDERS: api.order_pages,
        SyncKind.RETURNS: api.return_pages,
        SyncKind.CANCELLATIONS: api.cancellation_pages,
    }[SyncKind(job.kind)]


def _page_options(job: SyncJob) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if job.kind == SyncKind.ORDERS:
        options["page_size"] = ORDER_PAGE_SIZE
    if job.mode == SyncMode.INCREMENTAL:
        # Oldest change first: a record changed again while paging moves behind the cursor and
        # is met again, never skipped.
        options.update(sort_field="update_time", sort_order="ASC")
    else:
        options["sort_field"] = "create_time"
    return options


def _window_filters(job: SyncJob, window: tuple[datetime, datetime]) -> dict[str, int]:
    field = "update_time" if job.mode == SyncMode.INCREMENTAL else "create_time"
    return {f"{field}_ge": as_timestamp(window[0]), f"{field}_lt": as_timestamp(window[1])}


def _store_page(store: Store, kind: str, items: list[Any]) -> int:
    if kind == SyncKind.ORDERS:
        return ingest.orders_upsert(store=store, orders=items)
    if kind == SyncKind.RETURNS:
        return ingest.returns_upsert(store=store, returns=items)
    return ingest.cancellations_upsert(store=store, cancellations=items)


def _count_total(api: StoreAPI, job: SyncJob) -> int | None:
    """The platform's total_count for the whole backfill range (for "41,200 of 90,000")."""
    filters = {
        "create_time_ge": as_timestamp(job.range_start),
        "create_time_lt": as_timestamp(job.range_end),
    }
    # The smallest page each search accepts: only the count is read.
    page_size = 10 if job.kind == SyncKind.RETURNS else 1
    first = next(_page_source(api, job)(page_size=page_size, **filters), None)
    return first.total_count if first is not None else 0


def _first_window(job: SyncJob) -> tuple[datetime, datetime]:
    if job.mode == SyncMode.INCREMENTAL:
        return job.range_start, job.range_end
    return max(job.range_start, job.range_end - BACKFILL_WINDOW), job.range_end


def _window_after(
    job: SyncJob, window: tuple[datetime, datetime]
) -> tuple[datetime, datetime] | None:
    """The window after `window`, or None when the range is done (backfill: newest first)."""
    if job.mode == SyncMode.INCREMENTAL or window[0] <= job.range_start:
        return None
    return max(job.range_start, window[0] - BACKFILL_WINDOW), window[0]


def _remaining_pages(api: StoreAPI, job: SyncJob) -> Iterator[records.Page[Any]]:
    """Every page still to fetch, window after window, starting at the job's checkpoint.

    Each window ends with a last page (`is_last`), so the consumer knows when to move its
    checkpoint to the next window.
    """
    assert job.window_start is not None and job.window_end is not None
    source = _page_source(api, job)
    options = _page_options(job)
    window: tuple[datetime, datetime] | None = (job.window_start, job.window_end)
    page_token = job.page_token or None
    while window is not None:
        last_seen = False
        for page in source(page_token=page_token, **options, **_window_filters(job, window)):
            last_seen = page.is_last
            yield page
        if not last_seen:  # a search that answered nothing at all: the window is empty
            yield records.Page(items=[], next_page_token="", total_count=0)
        page_token = None
        window = _window_after(job, window)


class _Prefetch:
    """Fetches the next pages in a thread while the caller writes the current one.

    The HTTP round trip and the parsing overlap the database writes, which is most of what
    makes the backfill fast. At most `depth` pages wait in the queue, so memory stays flat; an
    error in the fetching thread is raised in the caller, in order, after the pages before it.
    """

    def __init__(self, pages: Iterator[records.Page[Any]], *, depth: int = 2) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._fetch, args=(pages,), name="order-sync-prefetch", daemon=True
        )
        self._thread.start()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def _fetch(self, pages: Iterator[records.Page[Any]]) -> None:
        try:
            for page in pages:
                if not self._put(("page", page)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the caller, which decides
            self._put(("error", exc))
        finally:
            # The adapter may have written (token refresh) on this thread's own connection.
            db.connections.close_all()

    def __iter__(self) -> Iterator[records.Page[Any]]:
        while True:
            kind, value = self._queue.get()
            if kind == "page":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)


class _Checkpointer:
    """Conditional writes to one claimed job: each one fails if another worker took it over."""

    def __init__(self, job: SyncJob) -> None:
        self.job = job
        self.claim = SyncJob.objects.filter(
            pk=job.pk, status=SyncJobStatus.RUNNING, attempts=job.attempts
        )

    def write(self, **changes: Any) -> None:
        changes.setdefault("heartbeat_at", timezone.now())
        if not self.claim.update(**changes):
            raise ClaimLostError(f"Sync job {self.job.pk} was reclaimed by another worker.")
        for name, value in changes.items():
            if not hasattr(value, "resolve_expression"):
                setattr(self.job, name, value)


def _relax_commit() -> None:
    """A page and its checkpoint can always be fetched again, so their commit need not wait
    for the WAL flush: a database crash loses at most the last moment's pages *together with
    their checkpoint*, and the next run fetches them again. Nothing else is relaxed."""
    if db.connection.vendor == "postgresql":
        with db.connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
