"""Representations: the documented shape of tickets, messages and notes (OpenAPI)."""

from __future__ import annotations

from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import display
from ..models import Conversation, DeliveryStatus, Message, TicketEvent


def _intent_words() -> str:
    return (
        f"Triage's topic of the ticket: {', '.join(display.INTENT_LABELS)} "
        '("" until a buyer message is labelled).'
    )


# The intents are triage's (triage.labels.Intent, registered in display.INTENT_LABELS once the
# apps are ready): the description is written when the schema is generated, not at import.
_intent_help = lazy(_intent_words, str)


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="display_name")
    email = serializers.EmailField()


class TicketStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    market = serializers.CharField()
    channel = serializers.CharField(
        source="platform", help_text="Where the ticket came from: tiktok or email."
    )


class BuyerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="display_name", help_text="A masked, stable label.")
    buyer_user_id = serializers.CharField(help_text="The platform's buyer id.")


# The ticket fields the API shows as stored (the serializer's and the values() query's alike).
TICKET_PLAIN_FIELDS = (
    "unread_count",
    "last_message_at",
    "last_message_preview",
    "last_message_from_buyer",
    "awaiting_reply_since",
    "can_send_message",
    "status_changed_at",
    "solved_at",
    "created_at",
    "updated_at",
    "first_response_at",
    "platform_due_at",
    "sla_reply_due_at",
    "sla_resolution_due_at",
    "sla_due_at",
    "sla_breached",
    "intent",
    "intent_confidence",
    "intent_source",
    "language",
    "urgent",
)


# The bits of Conversation.sla_breached (sla.clocks.BREACH_*), as the API names them.
BREACH_NAMES = ((1, "platform"), (2, "reply"), (4, "resolution"))


class TicketSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    store = TicketStoreSerializer(read_only=True)
    buyer = BuyerSerializer(source="customer", read_only=True, allow_null=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    conversation_id = serializers.CharField(source="external_id", read_only=True)
    platform_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When TikTok Shop's reply window closes."
    )
    sla_reply_due_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="The team's first or next response target (null while not Open).",
    )
    sla_resolution_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    sla_due_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="The soonest of the three: what the Due soon / Overdue folders go by.",
    )
    sla_breached = serializers.SerializerMethodField(
        help_text="Clocks of the current wait already recorded as missed."
    )
    intent = serializers.CharField(read_only=True, help_text=_intent_help())
    intent_confidence = serializers.FloatField(read_only=True, allow_null=True)
    intent_source = serializers.CharField(
        read_only=True, help_text='"rule", "model" or "agent" (an agent\'s correction).'
    )
    language = serializers.CharField(
        read_only=True, help_text='The buyer\'s language: "en", "fr", "es" ("" unknown).'
    )
    urgent = serializers.BooleanField(
        read_only=True, help_text="Anger, a threat of a bad review or dispute, repeated messages."
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "number",
            "status",
            "store",
            "buyer",
            "assignee",
            "conversation_id",
            *TICKET_PLAIN_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=["platform", "reply", "resolution"])
        )
    )
    def get_sla_breached(self, ticket: Conversation) -> list[str]:
        return [name for bit, name in BREACH_NAMES if ticket.sla_breached & bit]


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    ticket_id = serializers.UUIDField(source="conversation.public_id", read_only=True)
    kind = serializers.SerializerMethodField(help_text="text, image, order, product, event, ...")
    image_url = serializers.SerializerMethodField()
    order_id = serializers.SerializerMethodField()
    product_id = serializers.SerializerMethodField()
    author = PersonSerializer(read_only=True, allow_null=True)
    external_id = serializers.CharField(read_only=True, allow_null=True)
    delivery_status = serializers.SerializerMethodField(
        help_text="Replies written in Sellerdesk: queued, sending, sent or failed; else null."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket_id",
            "external_id",
            "direction",
            "type",
            "kind",
            "text",
            "image_url",
            "order_id",
            "product_id",
            "sender_role",
            "sender_name",
            "author",
            "delivery_status",
            "failure_reason",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _shown(self, message: Message) -> display.MessageDisplay:
        cache = self.context.setdefault("_shown", {})
        if message.pk not in cache:
            cache[message.pk] = display.message_display(message)
        return cache[message.pk]

    def get_kind(self, message: Message) -> str:
        return str(self._shown(message).kind)

    @extend_schema_field(OpenApiTypes.STR)
    def get_image_url(self, message: Message) -> str:
        return "" if message.attachment else self._shown(message).image_url

    @extend_schema_field(serializers.ChoiceField(choices=DeliveryStatus.choices, allow_null=True))
    def get_delivery_status(self, message: Message) -> str | None:
        return message.delivery_status or None

    def get_order_id(self, message: Message) -> str:
        return self._shown(message).order_id

    def get_product_id(self, message: Message) -> str:
        return self._shown(message).product_id


class NoteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    author = PersonSerializer(source="actor", read_only=True, allow_null=True)
    via_api_key = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["id", "body", "author", "via_api_key", "created_at"]
        read_only_fields = fields

    def get_via_api_key(self, event: TicketEvent) -> str | None:
        via = event.data.get("via") if isinstance(event.data, dict) else None
        return via.get("name") if isinstance(via, dict) else None
