"""/api/v1/escalations/: escalation cases, with the same rules as the pages.

    GET   /api/v1/escalations/                      ?status= &kind= &store= &ticket=
    POST  /api/v1/escalations/                      JSON, or multipart with files
    GET   /api/v1/escalations/{id}/
    PATCH /api/v1/escalations/{id}/                 a draft's values and files
    POST  /api/v1/escalations/{id}/submit/          e-mails it to the organisation's address
    POST  /api/v1/escalations/{id}/status/          {"status", "note"}
    GET   /api/v1/escalations/{id}/history/
    POST  /api/v1/escalations/{id}/notes/           {"body"}
    GET   /api/v1/escalations/{id}/files/{file_id}/ the file itself
    GET   /api/v1/escalation-kinds/                 each kind's fields (what `values` takes)

Values are checked by `validation.validate`, the form's own check: a missing required field,
an appeal date in the future, a violation escalated before 72 hours, a file that is not an
image or PDF, an order of another organisation are a 400 naming the field (`values.<name>`
for values, `<name>` for files). Files are multipart parts named after their field; in a
multipart request, `values` is a JSON object written as a string. A case, ticket, order or store
of another organisation (or of a store the key does not serve) is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import MULTIPART_PARSERS, APIView, APIViewSet, StrictSerializerMixin
from inbox.selectors import conversation_get
from marketplaces.models import Store
from marketplaces.selectors import store_get
from orders.selectors import order_get

from . import selectors, services
from .document import tenant_zone
from .forms import prefilled
from .kinds import KIND_CHOICES, KINDS, FieldType, Kind
from .models import (
    Escalation,
    EscalationAttachment,
    EscalationEvent,
    EscalationStatus,
)
from .validation import CaseContext, EscalationInvalid, validate

NOTE_MAX_CHARS = services.NOTE_MAX_CHARS

# --- Representations ------------------------------------------------------------------------------


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


# --- Input ----------------------------------------------------------------------------------------


class CreateInput(StrictSerializerMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    store_id = serializers.CharField(required=False, help_text="The store the problem is of.")
    ticket_id = serializers.CharField(
        required=False, help_text="Escalated from this ticket (its store is the case's store)."
    )
    order_id = serializers.CharField(
        required=False, help_text="Escalated from this order (its store is the case's store)."
    )
    prefill = serializers.BooleanField(
        default=False,
        help_text="Start from what Sellerdesk knows of the ticket, order or store (order ids, "
        "dates, tracking number, SKUs, product ids, the last sync error); `values` win.",
    )
    values = ValuesField(required=False)


class UpdateInput(StrictSerializerMixin, serializers.Serializer):
    values = ValuesField(
        required=False, help_text="Fields to change; a field set to null is emptied."
    )
    remove_files = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="Ids of files to remove."
    )


class EscalationStatusInput(StrictSerializerMixin, serializers.Serializer):
    status = serializers.ChoiceField(choices=EscalationStatus.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_MAX_CHARS, trim_whitespace=False
    )


class EscalationNoteInput(StrictSerializerMixin, serializers.Serializer):
    body = serializers.CharField(max_length=NOTE_MAX_CHARS, trim_whitespace=False)


def _split(request: Request) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The request's plain fields and its files by field name. Multipart form fields come as
    lists; a field sent once is its single value (remove_files stays a list)."""
    files = {name: request.FILES.getlist(name) for name in request.FILES}
    data = request.data
    if hasattr(data, "getlist"):
        plain = {
            name: data.getlist(name) if name == "remove_files" else data.get(name)
            for name in data
            if name not in files
        }
    else:
        plain = dict(data)
    return plain, files


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _refusal(kind: Kind, error: EscalationInvalid) -> exceptions.ValidationError:
    """The validator's errors under the request's names: values.<field>, <file field>."""
    files = {spec.name for spec in kind.fields() if spec.type.is_file}
    values: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name, messages in error.errors.items():
        if name in files:
            fields[name] = messages
        elif name == "__all__":
            fields.setdefault("non_field_errors", []).extend(messages)
        else:
            values[name] = messages
    if values:
        fields["values"] = values
    return exceptions.ValidationError(fields)


def _unknown_files(kind: Kind, files: dict[str, list[Any]]) -> None:
    known = {spec.name for spec in kind.fields() if spec.type.is_file}
    unknown = sorted(name for name in files if name not in known)
    if unknown:
        raise exceptions.ValidationError(
            {name: [f"{name} is not a file field of {kind.label} cases."] for name in unknown}
        )


# --- Views ----------------------------------------------------------------------------------------

CASE_ID = OpenApiParameter("public_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema(tags=["escalations"])
class EscalationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, APIViewSet
):
    serializer_class = EscalationSerializer
    parser_classes = MULTIPART_PARSERS
    ordering = ("-created_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Escalation]:
        params = self.request.query_params
        cases = selectors.escalations_visible(tenant=self.tenant, membership=self.member)
        if params.get("status"):
            if params["status"] not in EscalationStatus.values:
                choices = ", ".join(EscalationStatus.values)
                raise exceptions.ValidationError({"status": [f"Choose one of {choices}."]})
            cases = cases.filter(status=params["status"])
        if params.get("kind"):
            if params["kind"] not in KINDS:
                raise exceptions.ValidationError({"kind": [f"Choose one of {', '.join(KINDS)}."]})
            cases = cases.filter(kind=params["kind"])
        if params.get("store"):
            store = store_get(tenant=self.tenant, public_id=params["store"], membership=self.member)
            cases = cases.filter(store=store)
        if params.get("ticket"):
            ticket = conversation_get(
                tenant=self.tenant, membership=self.member, public_id=params["ticket"]
            )
            cases = cases.filter(conversation=ticket)
        return escalations_with_details(cases)

    def get_object(self) -> Escalation:
        return selectors.escalation_get(
            tenant=self.tenant, membership=self.member, public_id=self.kwargs["public_id"]
        )

    def _answer(self, case: Escalation, code: int = status.HTTP_200_OK) -> Response:
        fresh = escalations_with_details(Escalation.objects.filter(pk=case.pk)).get()
        return Response(escalation_representation(fresh), status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=EscalationStatus.values),
            OpenApiParameter("kind", str, enum=list(KINDS)),
            OpenApiParameter("store", OpenApiTypes.UUID, description="A store's id."),
            OpenApiParameter("ticket", OpenApiTypes.UUID, description="Cases opened from it."),
        ],
        description="Newest first.",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([escalation_representation(c) for c in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # escalation_get loads the store, ticket, order and author: only the files remain.
        case = self.get_object()
        prefetch_related_objects([case], ATTACHMENTS)
        return Response(escalation_representation(case))

    @extend_schema(
        request={"application/json": CreateInput, "multipart/form-data": CreateInput},
        responses={201: EscalationSerializer},
        description=(
            "Opens a case as a draft: the kind's required fields are checked as the form checks "
            "them. Screenshots, PDFs and the CSV are multipart parts named after their field "
            "(`values` is then a JSON string). Submit it with POST submit/."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plain, files = _split(request)
        data = _valid(CreateInput, plain)
        kind = KINDS[data["kind"]]
        _unknown_files(kind, files)
        store, ticket, order = self._source(data)
        values: dict[str, Any] = {}
        if data["prefill"]:
            facts = selectors.known_facts(
                tenant=self.tenant, store=store, conversation=ticket, order=order
            )
            values = prefilled(kind, facts, tenant_zone(self.tenant))
        values.update({k: v for k, v in (data.get("values") or {}).items() if v is not None})
        try:
            clean = validate(kind=kind, values=values, files=files, context=self._context(store))
        except EscalationInvalid as error:
            raise _refusal(kind, error) from error
        try:
            case = services.escalation_create(
                membership=self.member,
                kind=kind,
                store=store,
                clean=clean,
                conversation=ticket,
            )
        except services.EscalationError as error:
            raise exceptions.ValidationError({"ticket_id": [str(error)]}) from error
        return self._answer(case, status.HTTP_201_CREATED)

    def _source(self, data: dict[str, Any]) -> tuple[Store, Any, Any]:
        """The case's store, and the ticket or order it is escalated from (404 when not this
        key's); all that are named must agree on the store."""
        ticket = order = None
        stores: list[Store] = []
        if data.get("ticket_id"):
            ticket = conversation_get(
                tenant=self.tenant, membership=self.member, public_id=data["ticket_id"]
            )
            stores.append(ticket.store)
        if data.get("order_id"):
            order = order_get(
                tenant=self.tenant, public_id=data["order_id"], membership=self.member
            )
            stores.append(order.store)
        if data.get("store_id"):
            stores.append(
                store_get(tenant=self.tenant, public_id=data["store_id"], membership=self.member)
            )
        if not stores:
            raise exceptions.ValidationError(
                {"store_id": ["Give the store (store_id), or the ticket or order escalated."]}
            )
        if any(store.pk != stores[0].pk for store in stores):
            raise exceptions.ValidationError(
                {"store_id": ["The store, ticket and order given are of different stores."]}
            )
        if not selectors.is_escalatable(stores[0]):
            named = next(name for name in ("ticket_id", "order_id", "store_id") if data.get(name))
            raise exceptions.ValidationError(
                {named: [selectors.not_escalatable_message(stores[0])]}
            )
        return stores[0], ticket, order

    def _context(self, store: Store) -> CaseContext:
        return CaseContext(
            tenant=self.tenant,
            store=store,
            membership=self.member,  # type: ignore[arg-type]
            zone=tenant_zone(self.tenant),
            now=timezone.now(),
        )

    @extend_schema(
        request={"application/json": UpdateInput, "multipart/form-data": UpdateInput},
        responses=EscalationSerializer,
        description=(
            "Changes a draft: the given values replace the case's (null empties one), file parts "
            "are added to their field, `remove_files` drops files. The whole case is checked "
            "again; a case that is not a draft is a 409."
        ),
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        kind = case.kind_spec
        plain, files = _split(request)
        data = _valid(UpdateInput, plain)
        _unknown_files(kind, files)
        if not case.is_editable:
            raise Conflict(
                f"{case.reference} is {case.get_status_display().lower()}: only drafts can be "
                "edited.",
                code="not_a_draft",
            )
        values = dict(case.values)
        for name, value in (data.get("values") or {}).items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        removed = {str(i) for i in data.get("remove_files") or []}
        current = selectors.attachments_of(escalation=case)
        unknown = removed - {str(a.public_id) for a in current}
        if unknown:
            raise exceptions.ValidationError(
                {"remove_files": [f"{sorted(unknown)[0]} is not a file of {case.reference}."]}
            )
        kept = [a for a in current if str(a.public_id) not in removed]
        sizes: dict[str, list[int]] = {}
        for attachment in kept:
            sizes.setdefault(attachment.field, []).append(attachment.size)
        try:
            clean = validate(
                kind=kind, values=values, files=files, kept=sizes, context=self._context(case.store)
            )
        except EscalationInvalid as error:
            raise _refusal(kind, error) from error
        try:
            services.escalation_update(
                membership=self.member, escalation=case, clean=clean, kept=kept
            )
        except services.EscalationError as error:
            raise Conflict(str(error), code="not_a_draft") from error
        return self._answer(case)

    @extend_schema(
        request=None,
        responses=EscalationSerializer,
        description=(
            "E-mails the case, with its files, to the organisation's escalation address and "
            "marks it submitted (once: a second call is a 409). Without an address, or when the "
            "mail server refuses, a 409 says so and the case stays a draft."
        ),
    )
    def submit(self, request: Request, public_id: str) -> Response:
        case = self.get_object()
        try:
            services.escalation_submit(membership=self.member, escalation=case)
        except services.EscalationError as error:
            raise Conflict(str(error), code="cannot_submit") from error
        return self._answer(case)

    @extend_schema(
        request=EscalationStatusInput,
        responses=EscalationSerializer,
        description=(
            "submitted -> waiting -> resolved / rejected; a resolved case may wait again, a "
            "rejected one becomes a draft again. Other moves are a 409."
        ),
    )
    def set_status(self, request: Request, public_id: str) -> Response:
        case = self.get_object()
        data = _valid(EscalationStatusInput, request.data)
        try:
            services.escalation_change_status(
                membership=self.member,
                escalation=case,
                status=data["status"],
                note=data.get("note", ""),
            )
        except services.EscalationError as error:
            raise Conflict(str(error), code="status_not_allowed") from error
        return self._answer(case)


class CaseChildView(APIView):
    def case(self) -> Escalation:
        return selectors.escalation_get(
            tenant=self.tenant,
            membership=self.member,
            public_id=self.kwargs["public_id"],  # type: ignore[attr-defined]
        )


@extend_schema(tags=["escalations"], parameters=[CASE_ID])
class EscalationHistory(CaseChildView):
    @extend_schema(responses=HistorySerializer(many=True), description="Oldest first.")
    def get(self, request: Request, public_id: str) -> Response:
        events = selectors.escalation_history(escalation=self.case())
        return Response(HistorySerializer(events, many=True).data)


@extend_schema(tags=["escalations"], parameters=[CASE_ID])
class EscalationNoteCreate(CaseChildView):
    @extend_schema(request=EscalationNoteInput, responses={201: HistorySerializer})
    def post(self, request: Request, public_id: str) -> Response:
        case = self.case()
        data = _valid(EscalationNoteInput, request.data)
        try:
            event = services.escalation_note_add(
                membership=self.member, escalation=case, body=data["body"]
            )
        except services.EscalationError as error:
            raise exceptions.ValidationError({"body": [str(error)]}) from error
        return Response(HistorySerializer(event).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["escalations"],
    parameters=[CASE_ID, OpenApiParameter("file_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
)
class EscalationFile(CaseChildView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="The file as it was attached (its content type as checked on upload).",
    )
    def get(self, request: Request, public_id: str, file_id: str) -> FileResponse:
        attachment = selectors.attachment_get(escalation=self.case(), public_id=file_id)
        return FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            as_attachment=True,
            filename=attachment.name,
        )


# --- The kinds ------------------------------------------------------------------------------------


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
