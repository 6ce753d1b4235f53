"""Triage's background work. Task names are stable; arguments are ids."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Max

from .models import IntentCorrection, TenantModel
from .services import messages_label
from .tenant_models import tenant_model_retrain


@shared_task(name="triage.label_messages", ignore_result=True)
def label_messages(message_ids: list[int]) -> int:
    """After an ingest commits: labels its new buyer messages (idempotent: labelled ones are
    skipped)."""
    return messages_label(message_ids=message_ids)


@shared_task(name="triage.retrain_tenants", ignore_result=True)
def retrain_tenants() -> int:
    """Nightly (beat): a retrain for every organisation with corrections newer than its latest
    model."""
    last_trained = dict(
        TenantModel.objects.values("tenant_id")
        .annotate(at=Max("trained_at"))
        .values_list("tenant_id", "at")
    )
    newest = (
        IntentCorrection.objects.values("tenant_id")
        .annotate(at=Max("created_at"))
        .values_list("tenant_id", "at")
    )
    due = [
        tenant_id
        for tenant_id, at in newest
        if last_trained.get(tenant_id) is None or at > last_trained[tenant_id]
    ]
    for tenant_id in due:
        retrain_tenant.delay(tenant_id)
    return len(due)


@shared_task(name="triage.retrain_tenant", ignore_result=True, time_limit=600)
def retrain_tenant(tenant_id: int) -> int | None:
    row = tenant_model_retrain(tenant_id=tenant_id)
    return row.version if row is not None else None
