"""Triage's own rows: each buyer message's label, the agents' corrections, and the models
retrained per organisation (versions kept; one active, the one before it kept as well)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.models import Conversation, Message
from tenants.models import Tenant

from .labels import Intent, LabelSource


class MessageLabel(models.Model):
    """The label of one buyer message, written once it is labelled (after its ingest)."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="triage_label"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    intent = models.CharField(max_length=24, choices=Intent.choices)
    confidence = models.FloatField()
    language = models.CharField(max_length=3)
    urgent = models.BooleanField(default=False)
    reasons = models.CharField(max_length=64, blank=True, help_text="Why urgent, comma-separated.")
    source = models.CharField(max_length=8, choices=LabelSource.choices)
    rule = models.CharField(max_length=64, blank=True)
    model_version = models.CharField(max_length=40, blank=True)
    labelled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["conversation", "-labelled_at"], name="label_ticket")]

    def __str__(self) -> str:
        return f"{self.intent} ({self.confidence:.2f})"


class IntentCorrection(models.Model):
    """An agent's "this ticket is about X": the buyer's words it was about, kept per
    organisation to retrain that organisation's model (and nobody else's)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True, help_text="The buyer's words the correction labels.")
    intent = models.CharField(max_length=24, choices=Intent.choices)
    previous_intent = models.CharField(max_length=24, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="correction_tenant_time")]

    def __str__(self) -> str:
        return f"{self.previous_intent or '-'} -> {self.intent}"


class ModelStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PREVIOUS = "previous", "Previous (kept)"
    REJECTED = "rejected", "Rejected (scored lower)"


class TenantModel(models.Model):
    """A model retrained for one organisation from the shipped set plus its corrections."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=ModelStatus.choices)
    artefact = models.BinaryField(help_text="The pickled model (empty once rejected).")
    examples = models.PositiveIntegerField()
    corrections = models.PositiveIntegerField()
    accuracy = models.FloatField(help_text="On the shipped held-out set.")
    macro_f1 = models.FloatField()
    train_seconds = models.FloatField()
    trained_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="tenant_model_version")
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="tenant_model_status")]

    def __str__(self) -> str:
        return f"v{self.version} ({self.status})"
