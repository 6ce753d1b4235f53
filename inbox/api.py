"""/api/v1/tickets/, their messages and notes, and /api/v1/snippets/.

Every view resolves the ticket with `selectors.conversation_get` (404 for another organisation's
ticket or a store the key does not serve) and calls the mailbox's own services: the composer's
rules (2,000 characters, image checks), the outbox, the history rows ("via API key <name>").
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import MULTIPART_PARSERS, APIViewSet, StrictSerializerMixin
from marketplaces.selectors import store_get
from search.query import parse as parse_search
from tenants.selectors import membership_of_user

from . import display, presence, selectors, services
from .models import Conversation, DeliveryStatus, Message, TicketEvent, TicketStatus
from .validation import ReplyInvalidError

# --- Representations ----------------------------------------------------------------------------


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


# --- Fast representations ------------------------------------------------------------------------
# Lists are drawn from plain values, not model instances through DRF fields: 50 tickets as four
# joined models and nested serializers cost ~5x the time of these functions (bench/README.md,
# "API"). The serializers above stay the documented shape (OpenAPI), and the schemathesis test
# checks every answer against it.


def iso(moment: datetime | None) -> str | None:
    """A time as DRF writes it: ISO 8601 in UTC with "Z"."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person(public_id: Any, first: str | None, last: str | None, email: str | None) -> Any:
    if public_id is None:
        return None
    full = f"{first or ''} {last or ''}".strip()
    return {"id": str(public_id), "name": full or (email or "").split("@")[0], "email": email}


TICKET_COLUMNS = (
    "id",
    "public_id",
    "number",
    "status",
    "store__public_id",
    "store__name",
    "store__market",
    "store__platform",
    "customer__public_id",
    "customer__store_id",
    "customer__buyer_user_id",
    "assignee__public_id",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__email",
    "external_id",
    *TICKET_PLAIN_FIELDS,
)
# The bits of Conversation.sla_breached (sla.clocks.BREACH_*), as the API names them.
BREACH_NAMES = ((1, "platform"), (2, "reply"), (4, "resolution"))


def ticket_values(tickets: QuerySet[Conversation]) -> QuerySet:
    """The columns a ticket's representation needs, store, buyer and assignee joined."""
    return tickets.values(*TICKET_COLUMNS)


def ticket_representation(row: dict[str, Any]) -> dict[str, Any]:
    """What GET /tickets/<id>/ answers (TicketSerializer's shape) from `ticket_values` row."""
    buyer = None
    if row["customer__public_id"] is not None:
        buyer = {
            "id": str(row["customer__public_id"]),
            "name": display.buyer_label(row["customer__store_id"], row["customer__buyer_user_id"]),
            "buyer_user_id": row["customer__buyer_user_id"],
        }
    return {
        "id": str(row["public_id"]),
        "number": row["number"],
        "status": row["status"],
        "store": {
            "id": str(row["store__public_id"]),
            "name": row["store__name"],
            "market": row["store__market"],
            "channel": row["store__platform"],
        },
        "buyer": buyer,
        "assignee": _person(
            row["assignee__public_id"],
            row["assignee__first_name"],
            row["assignee__last_name"],
            row["assignee__email"],
        ),
        "conversation_id": row["external_id"],
        "unread_count": row["unread_count"],
        "last_message_at": iso(row["last_message_at"]),
        "last_message_preview": row["last_message_preview"],
        "last_message_from_buyer": row["last_message_from_buyer"],
        "awaiting_reply_since": iso(row["awaiting_reply_since"]),
        "can_send_message": row["can_send_message"],
        "status_changed_at": iso(row["status_changed_at"]),
        "solved_at": iso(row["solved_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "first_response_at": iso(row["first_response_at"]),
        "platform_due_at": iso(row["platform_due_at"]),
        "sla_reply_due_at": iso(row["sla_reply_due_at"]),
        "sla_resolution_due_at": iso(row["sla_resolution_due_at"]),
        "sla_due_at": iso(row["sla_due_at"]),
        "sla_breached": [name for bit, name in BREACH_NAMES if row["sla_breached"] & bit],
        "intent": row["intent"],
        "intent_confidence": row["intent_confidence"],
        "intent_source": row["intent_source"],
        "language": row["language"],
        "urgent": row["urgent"],
    }


def message_representation(message: Message, ticket_public_id: Any) -> dict[str, Any]:
    """What the messages list answers (MessageSerializer's shape)."""
    shown = display.message_display(message)
    author = message.author
    return {
        "id": str(message.public_id),
        "ticket_id": str(ticket_public_id),
        "external_id": message.external_id,
        "direction": message.direction,
        "type": message.type,
        "kind": str(shown.kind),
        "text": message.text,
        "image_url": "" if message.attachment else shown.image_url,
        "order_id": shown.order_id,
        "product_id": shown.product_id,
        "sender_role": message.sender_role,
        "sender_name": message.sender_name,
        "author": None
        if author is None
        else _person(author.public_id, author.first_name, author.last_name, author.email),
        "delivery_status": message.delivery_status or None,
        "failure_reason": message.failure_reason,
        "sent_at": iso(message.sent_at),
        "created_at": iso(message.created_at),
        "updated_at": iso(message.updated_at),
    }


# --- Input ----------------------------------------------------------------------------------------


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


# --- Tickets --------------------------------------------------------------------------------------


@extend_schema(tags=["tickets"])
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = TicketSerializer

    def get_ordering(self) -> tuple[str, ...]:
        if self.request.query_params.get("updated_since"):
            return ("updated_at", "id")  # a sync reads every change once, whatever it searched
        if self.request.query_params.get("folder"):
            ordering: tuple[str, ...] = ("sla_due_at", "id")  # most urgent first
        else:
            ordering = ("-last_message_at", "-id")
        if parse_search(self.request.query_params.get("q", "")).text:
            # A search ranks as the mailbox's: exact matches (a ticket number, an order's or
            # its buyer's tickets) first (selectors.tickets_filtered).
            return (f"-{selectors.SEARCH_RANK}", *ordering)
        return ordering

    def get_queryset(self) -> QuerySet[Conversation]:
        params = self.request.query_params
        status_ = params.get("status") or None
        if status_ is not None and status_ not in TicketStatus.values:
            raise exceptions.ValidationError({"status": ["Choose open, pending or solved."]})
        due = params.get("folder") or None
        if due is not None and due not in selectors.DUE_FOLDERS:
            raise exceptions.ValidationError({"folder": ["Choose due_soon or overdue."]})
        store = None
        if params.get("store"):
            store = store_get(tenant=self.tenant, public_id=params["store"], membership=self.member)
        assignee, unassigned = None, False
        if params.get("assignee") == "none":
            unassigned = True
        elif params.get("assignee"):
            assignee = membership_of_user(tenant=self.tenant, user_public_id=params["assignee"])
        # Read as the mailbox's search box reads it (search.query): any text is a search, cut
        # to its first 200 characters; operators and punctuation are no syntax.
        search = parse_search(params.get("q", "")).text
        tickets = selectors.tickets_filtered(
            tenant=self.tenant,
            membership=self.member,
            status=status_,
            store=store,
            assignee=assignee,
            unassigned=unassigned,
            unread=_flag(self.request, "unread"),
            updated_since=_when(self.request, "updated_since"),
            search=search,
            due=due,
        )
        intent = params.get("intent")
        if intent:
            if intent not in display.INTENT_LABELS:
                raise exceptions.ValidationError(
                    {"intent": [f"Choose one of {', '.join(display.INTENT_LABELS)}."]}
                )
            tickets = tickets.filter(intent=intent)
        urgent = _flag(self.request, "urgent")
        if urgent is not None:
            tickets = tickets.filter(urgent=urgent)
        return tickets

    def get_object(self) -> Conversation:
        return selectors.conversation_get(
            tenant=self.tenant, membership=self.member, public_id=self.kwargs["public_id"]
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=TicketStatus.values),
            OpenApiParameter("store", OpenApiTypes.UUID, description="A store's id."),
            OpenApiParameter(
                "assignee", str, description="A member's user id, or `none` for unassigned."
            ),
            OpenApiParameter("unread", bool, description="Only tickets with unread messages."),
            OpenApiParameter(
                "intent",
                str,
                # triage.labels.Intent through the mailbox's registry (inbox does not import
                # triage, which fills it once the apps are ready): a live view, read when the
                # schema is generated. The filter below checks against the same registry.
                enum=display.INTENT_LABELS.keys(),  # type: ignore[arg-type]  (a Sequence in use)
                description="Only tickets of this triage intent.",
            ),
            OpenApiParameter("urgent", bool, description="Only urgent (or only calm) tickets."),
            UPDATED_SINCE,
            OpenApiParameter(
                "q",
                str,
                description=(
                    "Search, as the mailbox's search box: a ticket number, an order id (also "
                    "finds the tickets of the buyer who placed it), a buyer (user id or the code "
                    "of the masked label) or words in messages and notes, in the store's "
                    "language. Punctuation and operators are not syntax; text past 200 "
                    "characters is ignored. Ranked as the mailbox ranks it: exact matches (the "
                    "ticket number, the order's and its buyer's tickets) first, then the others; "
                    "newest activity first within each (most urgent first with `folder`; "
                    "oldest change first with `updated_since`, which is not ranked)."
                ),
            ),
            OpenApiParameter(
                "folder",
                str,
                enum=sorted(selectors.DUE_FOLDERS),
                description=(
                    "The mailbox's Due soon or Overdue folder (by `sla_due_at`), most urgent first."
                ),
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tickets = self.get_queryset()
        if selectors.SEARCH_RANK in tickets.query.annotations:
            # A search's rank is part of the keyset (the next page's cursor holds it).
            tickets = tickets.values(*TICKET_COLUMNS, selectors.SEARCH_RANK)
        else:
            tickets = ticket_values(tickets)
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response([ticket_representation(row) for row in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    def _answer(self, conversation: Conversation) -> Response:
        # Read again after a change (and with store, buyer and assignee) in one query.
        row = ticket_values(Conversation.objects.filter(pk=conversation.pk)).get()
        return Response(ticket_representation(row))

    @extend_schema(request=StatusInput, responses=TicketSerializer)
    def set_status(self, request: Request, public_id: str) -> Response:
        conversation = self.get_object()
        data = _valid(StatusInput, request)
        services.ticket_set_status(
            membership=self.member, conversation=conversation, status=data["status"]
        )
        return self._answer(conversation)

    @extend_schema(request=AssignInput, responses=TicketSerializer)
    def assign(self, request: Request, public_id: str) -> Response:
        conversation = self.get_object()
        data = _valid(AssignInput, request)
        assignee = None
        if data["assignee_id"] is not None:
            try:
                assignee = membership_of_user(
                    tenant=self.tenant, user_public_id=data["assignee_id"]
                )
            except Http404:
                raise exceptions.ValidationError(
                    {"assignee_id": ["No such member in this organisation."]}
                ) from None
        try:
            services.ticket_assign(
                membership=self.member, conversation=conversation, assignee_membership=assignee
            )
        except services.InboxActionError as error:
            raise exceptions.ValidationError({"assignee_id": [str(error)]}) from error
        return self._answer(conversation)

    @extend_schema(request=None, responses=TicketSerializer)
    def mark_read(self, request: Request, public_id: str) -> Response:
        conversation = self.get_object()
        services.ticket_open(membership=self.member, conversation=conversation)
        return self._answer(conversation)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class TicketChildMixin:
    """Views under /tickets/{ticket_id}/: the ticket first (404 when not this key's)."""

    def ticket(self) -> Conversation:
        if not hasattr(self, "_ticket"):
            self._ticket = selectors.conversation_get(
                tenant=self.tenant,  # type: ignore[attr-defined]
                membership=self.member,  # type: ignore[attr-defined]
                public_id=self.kwargs["ticket_id"],  # type: ignore[attr-defined]
            )
        return self._ticket


@extend_schema(tags=["messages"], parameters=[TICKET_ID])
class MessageViewSet(TicketChildMixin, mixins.ListModelMixin, APIViewSet):
    serializer_class = MessageSerializer
    parser_classes = MULTIPART_PARSERS

    def get_ordering(self) -> tuple[str, ...]:
        if self.request.query_params.get("updated_since"):
            return ("updated_at", "id")
        return ("created_at", "id")

    def get_queryset(self) -> QuerySet[Message]:
        return selectors.ticket_messages(
            conversation=self.ticket(), updated_since=_when(self.request, "updated_since")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "_shown": {}}

    @extend_schema(parameters=[UPDATED_SINCE, TICKET_ID])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.ticket()
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            [message_representation(message, ticket.public_id) for message in page]
        )

    @extend_schema(
        request={"application/json": ReplyInput, "multipart/form-data": ReplyInput},
        responses={201: MessageSerializer},
        description=(
            "A reply to the buyer: text (up to 2,000 characters) and/or an image. It is stored "
            "at once as `queued` and sent by the same outbox as the mailbox's composer; its "
            "`delivery_status` becomes `sent` or `failed` (webhooks message.sent / "
            "message.failed)."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        conversation = self.ticket()
        data = _valid(ReplyInput, request)
        key = request.headers.get("Idempotency-Key")
        # The Idempotency-Key also becomes the reply's client token: even a retry that outlived
        # its idempotency record stores the reply once.
        token = (
            uuid.uuid5(uuid.NAMESPACE_URL, f"sellerdesk:{self.tenant.pk}:{key.strip()}")
            if key
            else None
        )
        if "last_seen_message_id" in data:
            seen = data["last_seen_message_id"]
            try:
                news = presence.new_since(
                    conversation=conversation,
                    last_seen_message_id=str(seen) if seen else "",
                    author_id=None,
                )
            except presence.PresenceError as error:
                raise exceptions.ValidationError({"last_seen_message_id": [str(error)]}) from error
            if news:
                raise Conflict(
                    f"{news} new message{'s' if news > 1 else ''} since the one you last saw: "
                    "read them, then send.",
                    code="stale_thread",
                )
        try:
            message = services.reply_create(
                membership=self.member,
                conversation=conversation,
                text=data.get("text"),
                image=data.get("image"),
                next_status=data.get("next_status"),
                client_token=token,
            )
        except ReplyInvalidError as error:
            raise exceptions.ValidationError(error.errors) from error
        except services.InboxActionError as error:
            raise Conflict(str(error), code="cannot_send") from error
        return Response(
            message_representation(message, conversation.public_id),
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["notes"], parameters=[TICKET_ID])
class NoteViewSet(TicketChildMixin, mixins.ListModelMixin, APIViewSet):
    serializer_class = NoteSerializer
    ordering = ("created_at", "id")

    def get_queryset(self) -> QuerySet[TicketEvent]:
        return selectors.ticket_notes(conversation=self.ticket())

    @extend_schema(request=NoteInput, responses={201: NoteSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        conversation = self.ticket()
        data = _valid(NoteInput, request)
        try:
            note = services.note_add(
                membership=self.member, conversation=conversation, body=data["body"]
            )
        except services.InboxActionError as error:
            raise exceptions.ValidationError({"body": [str(error)]}) from error
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
