"""Under a claim: the job claimed, its windows and pages (fetched ahead in a thread) and the
checkpoints written with each page.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django import db
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from marketplaces import records
from marketplaces.adapter import StoreAPI, as_timestamp
from marketplaces.models import Store, SyncJob, SyncJobStatus, SyncKind, SyncMode

from .. import ingest
from .common import _stale_after

# Backfill windows on create_time. A day holds a few pages for most shops and keeps every window's
# cursor short; the platform's deep pagination is never needed.
BACKFILL_WINDOW = timedelta(days=1)
ORDER_PAGE_SIZE = 100  # the most order search allows (§4.1)


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
