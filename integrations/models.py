"""Outbound webhooks: an organisation's subscriptions, the event outbox, deliveries and attempts.

An event is written (OutboundEvent) with one WebhookDelivery per subscribed endpoint in the same
transaction as the change it describes (`integrations.events.emit`); a Celery task sends due
deliveries, retries them with backoff for about a day, and logs each attempt (DeliveryAttempt).
A delivery's `public_id` is its `webhook-id`: the same on every retry and on a manual resend.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.models import Tenant


class WebhookSubscription(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhooks")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types, e.g. ['ticket.created'].")
    description = models.CharField(max_length=200, blank=True)
    # "whsec_<base64>" (Standard Webhooks), Fernet-encrypted like store tokens; never logged.
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    # The start of the current run of failed attempts (None after a success): a day of failures
    # disables the subscription.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhooksub_tenant_active")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"webhook {self.public_id} of tenant {self.tenant_id}"

    def __repr__(self) -> str:
        return f"<WebhookSubscription {self.pk} tenant={self.tenant_id} active={self.is_active}>"

    @property
    def secret(self) -> str:
        from marketplaces.crypto import decrypt_token

        return decrypt_token(self.secret_encrypted)


class OutboundEvent(models.Model):
    """One thing that happened, as sent to every subscribed endpoint (the outbox row)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The body sent, exactly.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="outevent_tenant_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The sender's look for due work: only waiting rows are in it.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhookdelivery_due",
            ),
            models.Index(
                fields=["subscription", "-created_at"], name="webhookdelivery_sub_created"
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.webhook_id} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.public_id.hex}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: the delivery log."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["delivery", "number"], name="deliveryattempt_delivery")]
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
