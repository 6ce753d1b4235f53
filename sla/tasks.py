"""Service-level background work. Task names are stable: queued messages outlive deploys."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="sla.record_breaches", ignore_result=True)
def record_breaches() -> int:
    """Beat (every minute): missed targets become history entries, a batch at a time."""
    return services.breaches_record()


@shared_task(name="sla.refresh_store_clocks", ignore_result=True)
def refresh_store_clocks(store_id: int) -> None:
    """After a store's policy, window, time zone or holiday mode changed: its running clocks
    are recomputed, a batch of tickets per transaction."""
    after = services.store_clocks_refresh(store_id=store_id)
    while after:
        after = services.store_clocks_refresh(store_id=store_id, after_pk=after)
