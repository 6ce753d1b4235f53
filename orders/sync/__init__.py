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

Layout: `common.py` (settings shared by both halves, RunResult), `starting.py` (creating,
dispatching and finding jobs), `pages.py` (the claim, windows, prefetched pages, checkpoints),
`running.py` (`sync_job_run` and `store_sync_incremental`).
"""

from __future__ import annotations

from django.utils import timezone  # noqa: F401  (callers read sync.timezone.now())

from .common import (
    BACKFILL_DAYS,
    DEFAULT_INTERVAL_SECONDS,
    INCREMENTAL_OVERLAP,
    KINDS,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    RUN_BUDGET_SECONDS,
    STALE_AFTER,
    TRANSIENT_ERRORS,
    CheckpointHook,
    RunResult,
    _stale_after,
    _whole_seconds,
    interval_seconds,
)
from .pages import (
    BACKFILL_WINDOW,
    ORDER_PAGE_SIZE,
    ClaimLostError,
    _Checkpointer,
    _count_total,
    _first_window,
    _page_options,
    _page_source,
    _Prefetch,
    _relax_commit,
    _remaining_pages,
    _store_page,
    _window_after,
    _window_filters,
    sync_job_claim,
)
from .running import (
    _fail,
    _pause,
    _retry_delay,
    _run_windows,
    store_sync_incremental,
    sync_job_run,
)
from .starting import (
    _active_or_new,
    _dispatch,
    _dispatch_on_commit,
    _incremental_start_at,
    backfill_jobs_create,
    backfill_start,
    incremental_jobs_create,
    stores_due_for_sync,
    sync_jobs_to_resume,
    sync_now,
)

__all__ = [
    "BACKFILL_DAYS",
    "BACKFILL_WINDOW",
    "DEFAULT_INTERVAL_SECONDS",
    "INCREMENTAL_OVERLAP",
    "KINDS",
    "ORDER_PAGE_SIZE",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "RUN_BUDGET_SECONDS",
    "STALE_AFTER",
    "TRANSIENT_ERRORS",
    "CheckpointHook",
    "ClaimLostError",
    "RunResult",
    "_Checkpointer",
    "_Prefetch",
    "_active_or_new",
    "_count_total",
    "_dispatch",
    "_dispatch_on_commit",
    "_fail",
    "_first_window",
    "_incremental_start_at",
    "_page_options",
    "_page_source",
    "_pause",
    "_relax_commit",
    "_remaining_pages",
    "_retry_delay",
    "_run_windows",
    "_stale_after",
    "_store_page",
    "_whole_seconds",
    "_window_after",
    "_window_filters",
    "backfill_jobs_create",
    "backfill_start",
    "incremental_jobs_create",
    "interval_seconds",
    "store_sync_incremental",
    "stores_due_for_sync",
    "sync_job_claim",
    "sync_job_run",
    "sync_jobs_to_resume",
    "sync_now",
]
