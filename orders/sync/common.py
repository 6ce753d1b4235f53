"""What starting and running jobs share: the sync's settings, the transient errors, `RunResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from marketplaces.channel import (
    InvalidTokenError,
    QuotaExceededError,
    RateLimitedError,
    UnavailableError,
)
from marketplaces.models import SyncJob, SyncKind

BACKFILL_DAYS = 90


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
