"""The API's own table: what an `Idempotency-Key` already did (see api.idempotency)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import Tenant


class IdempotencyState(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one organisation, kept 24 hours: the request's fingerprint and,
    once it finished, the answer to replay."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    state = models.CharField(
        max_length=8, choices=IdempotencyState.choices, default=IdempotencyState.RUNNING
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotency_tenant_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"Idempotency-Key {self.key!r} of tenant {self.tenant_id} ({self.state})"
