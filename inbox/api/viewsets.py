"""The viewsets: /api/v1/tickets/, a ticket's messages and notes."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import MULTIPART_PARSERS, APIViewSet
from marketplaces.selectors import store_get
from search.query import parse as parse_search
from tenants.selectors import membership_of_user

from .. import display, presence, selectors, services
from ..models import Conversation, Message, TicketEvent, TicketStatus
from ..validation import ReplyInvalidError
from .inputs import (
    TICKET_ID,
    UPDATED_SINCE,
    AssignInput,
    NoteInput,
    ReplyInput,
    StatusInput,
    _flag,
    _when,
)
from .representations import (
    TICKET_COLUMNS,
    message_representation,
    ticket_representation,
    ticket_values,
)
from .serializers import MessageSerializer, NoteSerializer, TicketSerializer


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
