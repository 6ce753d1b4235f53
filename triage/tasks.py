"""Triage's background work. Task names are stable; arguments are ids."""

from __future__ import annotations

import json

from celery import shared_task
from django.db.models import Max

from .child import last_error_line, manage_in_child
from .models import IntentCorrection, TenantModel
from .services import messages_label
from .tenant_models import tenant_model_retrain

RETRAIN_TIMEOUT = 540  # inside the task's time limit of 600 s


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
    """One organisation's retrain, in a child process (`manage.py triage_retrain`): the worker
    never holds scikit-learn or the training's memory. Here only when no child can be started
    (triage.child); a child that ran and failed fails the task, with its last error line."""
    finished = manage_in_child(
        "triage_retrain", "--tenant", str(tenant_id), database=True, timeout=RETRAIN_TIMEOUT
    )
    if finished is None:
        row = tenant_model_retrain(tenant_id=tenant_id)
        return row.version if row is not None else None
    if finished.returncode != 0:
        raise RuntimeError(
            f"Triage retrain of organisation {tenant_id} failed: {last_error_line(finished)}"
        )
    return json.loads(finished.stdout.strip().splitlines()[-1])["version"]
