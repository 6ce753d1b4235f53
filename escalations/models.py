"""Escalation cases: a problem of one store sent to a partner's support team, tracked to the end.

A case is of one kind (`kinds.py` says which fields each kind has); its values are kept as JSON
keyed by those field names, its screenshots as attachments named by their field. Every change
goes through `services.py`, which writes the history row in the same transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplaces.models import Store
from tenants.models import Tenant

from .kinds import KIND_CHOICES, KINDS, Kind


class EscalationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    WAITING = "waiting", "Waiting on partner"
    RESOLVED = "resolved", "Resolved"
    REJECTED = "rejected", "Rejected"


# Where a case may go from each status by hand (draft -> submitted only by submitting it: that is
# what sends the e-mail). A rejected case is reopened as a draft, to be completed and sent again.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    EscalationStatus.DRAFT: (),
    EscalationStatus.SUBMITTED: (
        EscalationStatus.WAITING,
        EscalationStatus.RESOLVED,
        EscalationStatus.REJECTED,
    ),
    EscalationStatus.WAITING: (EscalationStatus.RESOLVED, EscalationStatus.REJECTED),
    EscalationStatus.RESOLVED: (EscalationStatus.WAITING,),
    EscalationStatus.REJECTED: (EscalationStatus.DRAFT,),
}
CLOSED_STATUSES = (EscalationStatus.RESOLVED, EscalationStatus.REJECTED)

# Status pills, with the word always beside the colour.
STATUS_PILLS = {
    EscalationStatus.DRAFT: "pill-neutral",
    EscalationStatus.SUBMITTED: "pill-open",
    EscalationStatus.WAITING: "pill-pending",
    EscalationStatus.RESOLVED: "pill-solved",
    EscalationStatus.REJECTED: "pill-overdue",
}


class Escalation(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="escalations")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    status = models.CharField(
        max_length=16, choices=EscalationStatus.choices, default=EscalationStatus.DRAFT
    )
    values = models.JSONField(default=dict, blank=True, help_text="Field name -> value.")
    summary = models.CharField(max_length=255, blank=True, help_text="The list's one line.")

    # Where it was escalated from; the ticket's sidebar shows its cases.
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations",
    )
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_to = models.EmailField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Claimed while its e-mail is being sent, so a double click cannot send it twice.
    submitting_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The list's order, to the tie-breaker: a page's ids come from this index alone
            # (an index-only scan, whatever the filter by store, status or kind), never from a
            # sort of all the tenant's cases (selectors.escalation_page_ids).
            models.Index(
                fields=["tenant", "-created_at", "-id"],
                include=["store", "status", "kind"],
                name="escalation_tenant_list",
            ),
            models.Index(
                fields=["tenant", "status", "-created_at", "-id"],
                name="escalation_tenant_status_id",
            ),
            models.Index(
                fields=["conversation", "-created_at"],
                condition=Q(conversation__isnull=False),
                name="escalation_conversation",
            ),
            models.Index(
                fields=["order", "-created_at"],
                condition=Q(order__isnull=False),
                name="escalation_order",
            ),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.kind}"

    @property
    def reference(self) -> str:
        """What the partner and the team call the case: ESC-1A2B3C4D."""
        return f"ESC-{self.public_id.hex[:8].upper()}"

    @property
    def kind_spec(self) -> Kind:
        return KINDS[self.kind]

    @property
    def kind_label(self) -> str:
        kind = KINDS.get(self.kind)
        return kind.label if kind else self.kind

    @property
    def pill(self) -> str:
        return STATUS_PILLS.get(EscalationStatus(self.status), "pill-neutral")

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        labels = dict(EscalationStatus.choices)
        return [(status, labels[status]) for status in TRANSITIONS[self.status]]

    @property
    def is_editable(self) -> bool:
        return self.status == EscalationStatus.DRAFT


def attachment_path(instance: EscalationAttachment, filename: str) -> str:
    # A random name on disk: the original (checked) name is kept in `name` for the e-mail.
    return f"escalations/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename[-60:]}"


class EscalationAttachment(models.Model):
    """A screenshot, PDF or CSV of one field of a case. Without a case it is *staged*: kept from
    a form that was refused, so that the person need not choose the file again."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    field = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["escalation", "field"], name="escattachment_case_field"),
            models.Index(
                fields=["created_at"],
                condition=Q(escalation__isnull=True),
                name="escattachment_staged",
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class EscalationEventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    SUBMITTED = "submitted", "Submitted"
    SEND_FAILED = "send_failed", "E-mail not sent"
    STATUS = "status", "Status changed"
    NOTE = "note", "Note"


class EscalationEvent(models.Model):
    """The case's history: who did what, with the notes they left."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EscalationEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted when it was not a person: "API key ERP" (then `actor` is empty).
    actor_label = models.CharField(max_length=140, blank=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["escalation", "created_at"], name="escevent_case")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.escalation_id}"

    @property
    def actor_name(self) -> str:
        """Who acted, as the history shows it."""
        if self.actor is not None:
            return self.actor.display_name
        return self.actor_label or "Sellerdesk"

    @property
    def from_label(self) -> str:
        return dict(EscalationStatus.choices).get(self.from_status, self.from_status)

    @property
    def to_label(self) -> str:
        return dict(EscalationStatus.choices).get(self.to_status, self.to_status)


class EscalationSettings(models.Model):
    """Per organisation: where submitted cases are e-mailed (a partner's support address)."""

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    recipient_email = models.EmailField("send escalations to", blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "escalation settings"

    def __str__(self) -> str:
        return f"escalation settings of {self.tenant_id}"
