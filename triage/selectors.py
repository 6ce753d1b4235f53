"""Reads of triage rows; each takes the tenant explicitly."""

from __future__ import annotations

from django.db.models import QuerySet

from inbox.models import Conversation, Message, MessageDirection

from .models import IntentCorrection, MessageLabel, ModelStatus, TenantModel


def active_model_versions(*, tenant_ids: list[int]) -> dict[int, int]:
    return dict(
        TenantModel.objects.filter(tenant_id__in=tenant_ids, status=ModelStatus.ACTIVE).values_list(
            "tenant_id", "version"
        )
    )


def tenant_models(*, tenant_id: int) -> QuerySet[TenantModel]:
    return TenantModel.objects.filter(tenant_id=tenant_id).defer("artefact").order_by("-version")


def tenant_corrections(*, tenant_id: int) -> QuerySet[IntentCorrection]:
    return IntentCorrection.objects.filter(tenant_id=tenant_id).order_by("created_at", "pk")


def ticket_labels(*, conversation: Conversation) -> QuerySet[MessageLabel]:
    return MessageLabel.objects.filter(
        tenant_id=conversation.tenant_id, conversation=conversation
    ).order_by("-labelled_at")


def latest_buyer_message(*, conversation: Conversation) -> Message | None:
    """The newest buyer text of the ticket (the words a correction or a suggestion is about)."""
    return (
        Message.objects.filter(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            direction=MessageDirection.INBOUND,
            is_visible=True,
        )
        .exclude(text="")
        .order_by("-sent_at", "-pk")
        .first()
    )
