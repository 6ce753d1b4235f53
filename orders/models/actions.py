"""Seller decisions on returns and cancellations, and who may take them.

`AfterSaleAction` is written before the platform is called and finished after: it is what makes a
double click one call (its `client_token`), keeps one decision at a time per request (the partial
unique constraint), carries the platform's idempotency key across retries, and is the history of
who decided what and when.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Membership, Tenant


class AfterSaleKind(models.TextChoices):
    RETURN = "return", "Return or refund"
    CANCELLATION = "cancellation", "Cancellation"


class AfterSaleActionStatus(models.TextChoices):
    SENDING = "sending", "Being sent"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused by the marketplace"
    UNCONFIRMED = "unconfirmed", "Not confirmed by the marketplace"


class AfterSaleAction(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=AfterSaleKind.choices)
    record_external_id = models.CharField("return or cancel id", max_length=64)
    order_external_id = models.CharField("order id", max_length=64)
    decision = models.CharField(max_length=40)
    approve = models.BooleanField()
    label = models.CharField(max_length=120, help_text="The decision in words, as offered.")
    outcome = models.CharField(max_length=500, blank=True, help_text="What the buyer gets.")
    reject_reason = models.CharField(max_length=128, blank=True)
    reject_reason_text = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)
    seen_status = models.CharField(max_length=64, help_text="The status the person decided on.")
    # The form's token: a resubmission finds this row instead of deciding twice.
    client_token = models.UUIDField()
    # Sent to the platform with every attempt of this decision.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=AfterSaleActionStatus.choices, default=AfterSaleActionStatus.SENDING
    )
    message = models.CharField(max_length=500, blank=True, help_text="Why it was refused.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, in words: the person's name, or "API key <name>" (a key has no user).
    actor_name = models.CharField(max_length=255, blank=True)
    # The ticket it was taken from, if any (a public id: orders/ does not reference inbox/).
    conversation_public_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client_token"], name="aftersaleaction_tenant_token"
            ),
            # One decision at a time on a request: a second one waits for the first's answer.
            models.UniqueConstraint(
                fields=["store", "kind", "record_external_id"],
                condition=Q(status="sending"),
                name="aftersaleaction_one_in_flight",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "order_external_id", "-created_at"], name="aftersale_order"
            )
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.decision} on {self.kind} {self.record_external_id} ({self.status})"


class AfterSaleGrant(models.Model):
    """An agent an admin allows to act on returns and cancellations of one store."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="after_sale_grants"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "membership", "store"], name="aftersalegrant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"membership {self.membership_id} may act on returns of store {self.store_id}"
