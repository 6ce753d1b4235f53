from __future__ import annotations

from celery import shared_task

from . import idempotency


@shared_task(name="api.expire_idempotency_keys")
def expire_idempotency_keys() -> int:
    return idempotency.records_expire()
