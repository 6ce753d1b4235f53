"""Representations: a case as the API gives it (the fast function lists use, and the serializers
that document the same shape), its files, people and history.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..kinds import KIND_CHOICES
from ..models import Escalation, EscalationAttachment, EscalationEvent, EscalationStatus


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


ATTACHMENTS = Prefetch("attachments", queryset=EscalationAttachment.objects.order_by("id"))


def escalations_with_details(cases: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """What a case's representation reads, in two queries whatever the number of cases."""
    return cases.select_related("store", "conversation", "order", "created_by").prefetch_related(
        ATTACHMENTS
    )


def escalation_representation(case: Escalation) -> dict[str, Any]:
    """What GET /escalations/<id>/ answers (EscalationSerializer's shape)."""
    author = case.created_by
    return {
        "id": str(case.public_id),
        "reference": case.reference,
        "kind": case.kind,
        "kind_label": case.kind_label,
        "status": case.status,
        "summary": case.summary,
        "store": {
            "id": str(case.store.public_id),
            "name": case.store.name,
            "shop_id": case.store.external_shop_id,
        },
        "ticket_id": str(case.conversation.public_id) if case.conversation_id else None,
        "order_id": str(case.order.public_id) if case.order_id else None,
        "values": case.values,
        "files": [
            {
                "id": str(a.public_id),
                "field": a.field,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in case.attachments.all()
        ],
        "next_statuses": [value for value, _ in case.next_statuses],
        "created_by": None
        if author is None
        else {"id": str(author.public_id), "name": author.display_name, "email": author.email},
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "submitted_at": _iso(case.submitted_at),
        "submitted_to": case.submitted_to,
        "closed_at": _iso(case.closed_at),
    }


class CaseStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    shop_id = serializers.CharField(help_text="The store's TikTok shop id.")


class CaseFileSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    field = serializers.CharField(help_text="The kind's file field it was attached to.")
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()


class CasePersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()


@extend_schema_field(OpenApiTypes.OBJECT)
class ValuesField(serializers.Field):
    """The case's values by field name (GET /escalation-kinds/ lists them). A JSON object; in a
    multipart request, the same object written as a JSON string."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("Give the values as a JSON object.") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("Give the values as a JSON object.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class EscalationSerializer(serializers.Serializer):
    """An escalation case: its kind, status, store, values by field name and files."""

    id = serializers.UUIDField()
    reference = serializers.CharField(help_text="What the partner calls it: ESC-1A2B3C4D.")
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    kind_label = serializers.CharField()
    status = serializers.ChoiceField(choices=EscalationStatus.choices)
    summary = serializers.CharField()
    store = CaseStoreSerializer()
    ticket_id = serializers.UUIDField(allow_null=True)
    order_id = serializers.UUIDField(allow_null=True)
    values = ValuesField()
    files = CaseFileSerializer(many=True)
    next_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=EscalationStatus.choices),
        help_text="The statuses POST status/ may move it to now (a draft is submitted instead).",
    )
    created_by = CasePersonSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_to = serializers.CharField(help_text="The address it was e-mailed to.")
    closed_at = serializers.DateTimeField(allow_null=True)


class HistorySerializer(serializers.ModelSerializer):
    id = serializers.SerializerMethodField()
    by = serializers.CharField(source="actor_name")
    from_status = serializers.CharField()
    to_status = serializers.CharField()

    class Meta:
        model = EscalationEvent
        fields = ["id", "kind", "by", "from_status", "to_status", "body", "created_at"]
        read_only_fields = fields

    def get_id(self, event: EscalationEvent) -> int:
        return event.pk
