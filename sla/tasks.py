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


@shared_task(name="sla.rollup_recent", ignore_result=True)
def rollup_recent() -> None:
    """Beat (every 15 minutes): each organisation with a store has its recent days' report
    rollups recomputed, one task per organisation."""
    from marketplaces.models import Store

    for tenant_id in Store.objects.values_list("tenant_id", flat=True).distinct().order_by():
        rollup_tenant.delay(tenant_id)


@shared_task(name="sla.rollup_tenant", ignore_result=True)
def rollup_tenant(tenant_id: int) -> int:
    from tenants.models import Tenant

    from .reports.rollup import rollup_recent as recompute

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return 0 if tenant is None else recompute(tenant=tenant)
