"""The kinds: /api/v1/escalation-kinds/, each kind's fields (what `values` takes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIView

from ..kinds import KINDS, FieldType, Kind


class KindFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    section = serializers.CharField()
    type = serializers.ChoiceField(choices=[t.value for t in FieldType])
    requirement = serializers.CharField(help_text='"required", "optional", or when it is required.')
    choices = serializers.ListField(child=serializers.CharField())
    max_length = serializers.IntegerField(allow_null=True)


class KindSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    fields = KindFieldSerializer(many=True)


def kind_representation(kind: Kind) -> dict[str, Any]:
    def rows() -> Iterable[dict[str, Any]]:
        for section in kind.sections:
            for spec in section.fields:
                text_like = spec.type in (FieldType.TEXT, FieldType.LONG_TEXT)
                yield {
                    "name": spec.name,
                    "label": spec.label,
                    "section": section.title,
                    "type": spec.type.value,
                    "requirement": kind.requirement(spec) or "required",
                    "choices": [value for value, _ in spec.choices],
                    "max_length": spec.max_length if text_like else None,
                }

    return {
        "key": kind.key,
        "label": kind.label,
        "description": kind.description,
        "fields": list(rows()),
    }


@extend_schema(tags=["escalations"])
class EscalationKinds(APIView):
    pagination_class = None

    @extend_schema(responses=KindSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response([kind_representation(kind) for kind in KINDS.values()])
