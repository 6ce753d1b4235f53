"""Triage in the REST API (the tickets' own intent, language and urgency are fields of
/tickets/, filterable by ?intent= and ?urgent=, and travel in ticket webhooks):

- POST /api/v1/tickets/{ticket_id}/triage/: correct the intent (kept to retrain the
  organisation's model) and/or set the urgency; answers the ticket;
- GET  /api/v1/tickets/{ticket_id}/suggestions/: the snippets suggested for the ticket, rendered;
- POST /api/v1/triage/classify/: labels for texts, with the organisation's model, offline;
- GET  /api/v1/triage/models/: the organisation's retrained model versions and their scores.

Another organisation's ticket, or one of a store the key does not serve, is a 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIView, StrictSerializerMixin
from inbox.api import TicketSerializer, ticket_representation, ticket_values
from inbox.models import Conversation
from inbox.selectors import conversation_get

from .engine import label_texts
from .labels import Intent
from .selectors import tenant_models
from .services import ticket_intent_correct
from .suggestions import ticket_suggestions
from .tenant_models import models_for

MAX_TEXTS = 100


class CorrectionInput(StrictSerializerMixin, serializers.Serializer):
    intent = serializers.ChoiceField(choices=Intent.values, required=False)
    urgent = serializers.BooleanField(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "intent" not in data and "urgent" not in data:
            raise serializers.ValidationError("Give an intent, an urgency, or both.")
        return data


class TicketTriage(APIView):
    @extend_schema(request=CorrectionInput, responses=TicketSerializer, tags=["tickets"])
    def post(self, request: Request, ticket_id: str) -> Response:
        conversation = conversation_get(
            tenant=self.tenant, membership=self.member, public_id=ticket_id
        )
        serializer = CorrectionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket_intent_correct(
            conversation=conversation,
            membership=self.member,  # type: ignore[arg-type]  (a KeyMember: no user)
            intent=serializer.validated_data.get("intent"),
            urgent=serializer.validated_data.get("urgent"),
        )
        row = ticket_values(Conversation.objects.filter(pk=conversation.pk)).get()
        return Response(ticket_representation(row))


class SuggestionSerializer(serializers.Serializer):
    snippet_id = serializers.UUIDField()
    title = serializers.CharField()
    shortcut = serializers.CharField()
    intent = serializers.CharField(help_text="The snippet's intent.")
    score = serializers.FloatField(help_text="Intent match (1) plus shared words (0-1).")
    text = serializers.CharField(help_text='Rendered for the ticket ("" when it cannot be).')
    error = serializers.CharField(help_text="Why it cannot be rendered (a missing order).")


class TicketSuggestions(APIView):
    pagination_class = None  # at most three
    @extend_schema(responses=SuggestionSerializer(many=True), tags=["tickets"])
    def get(self, request: Request, ticket_id: str) -> Response:
        conversation = conversation_get(
            tenant=self.tenant, membership=self.member, public_id=ticket_id
        )
        suggestions = ticket_suggestions(
            membership=self.member,  # type: ignore[arg-type]
            conversation=conversation,
        )
        return Response(
            [
                {
                    "snippet_id": str(s.snippet.public_id),
                    "title": s.snippet.title,
                    "shortcut": s.snippet.shortcut,
                    "intent": s.intent,
                    "score": s.score,
                    "text": s.text,
                    "error": s.error,
                }
                for s in suggestions
            ]
        )


class ClassifyInput(StrictSerializerMixin, serializers.Serializer):
    texts = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=10_000, trim_whitespace=False),
        min_length=1,
        max_length=MAX_TEXTS,
    )


class LabelSerializer(serializers.Serializer):
    intent = serializers.ChoiceField(choices=Intent.values)
    confidence = serializers.FloatField()
    language = serializers.CharField(help_text='"en", "fr", "es" or "und".')
    urgent = serializers.BooleanField()


class Classify(APIView):
    pagination_class = None  # one label per text given
    @extend_schema(request=ClassifyInput, responses=LabelSerializer(many=True), tags=["triage"])
    def post(self, request: Request) -> Response:
        serializer = ClassifyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = models_for([self.tenant.pk])[self.tenant.pk]
        labels = label_texts(serializer.validated_data["texts"], model=model)
        return Response([label.as_dict() for label in labels])


class ModelSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField(help_text="active, previous or rejected.")
    corrections = serializers.IntegerField()
    examples = serializers.IntegerField()
    accuracy = serializers.FloatField(help_text="On the shipped held-out set.")
    macro_f1 = serializers.FloatField()
    train_seconds = serializers.FloatField()
    trained_at = serializers.DateTimeField()


class Models(APIView):
    pagination_class = None  # the 20 newest versions
    @extend_schema(responses=ModelSerializer(many=True), tags=["triage"])
    def get(self, request: Request) -> Response:
        rows = tenant_models(tenant_id=self.tenant.pk)[:20]
        return Response(ModelSerializer(rows, many=True).data)
