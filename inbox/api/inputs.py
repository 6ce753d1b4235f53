"""Input: the request bodies' serializers, query flags and times, the schema's parameters."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.request import Request

from api.views import StrictSerializerMixin

from .. import services
from ..models import TicketStatus


class StatusInput(StrictSerializerMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices)


class AssignInput(StrictSerializerMixin, serializers.Serializer):
    assignee_id = serializers.UUIDField(
        allow_null=True, help_text="A member's user id (GET /members/), or null to unassign."
    )


class ReplyInput(StrictSerializerMixin, serializers.Serializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        # A guard only: the store's channel limit (2,000 on TikTok Shop) is the service's rule.
        max_length=20_000,
        trim_whitespace=False,
    )
    image = serializers.FileField(
        required=False, help_text="JPEG, PNG, GIF or WEBP up to 15 MB (multipart/form-data)."
    )
    next_status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
    last_seen_message_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=(
            "The newest message of this ticket you know of (null: you know of none). When "
            "given, a reply sent after the buyer or anyone else wrote since is refused with 409 "
            "`stale_thread` and nothing is stored: read the new messages, then send."
        ),
    )


class NoteInput(StrictSerializerMixin, serializers.Serializer):
    body = serializers.CharField(max_length=services.NOTE_MAX_CHARS * 2, trim_whitespace=False)


def _when(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise exceptions.ValidationError(
            {name: ["Give an ISO 8601 time with its offset, e.g. 2026-01-31T09:00:00Z."]}
        )
    return value


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise exceptions.ValidationError({name: ["Give true or false."]})


UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only what changed at or after this time; ordered oldest change first.",
)
TICKET_ID = OpenApiParameter("ticket_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
