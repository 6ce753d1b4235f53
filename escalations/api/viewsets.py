"""The views: /api/v1/escalations/ (EscalationViewSet) and a case's history, notes and files."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, prefetch_related_objects
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import MULTIPART_PARSERS, APIView, APIViewSet
from inbox.selectors import conversation_get
from marketplaces.models import Store
from marketplaces.selectors import store_get
from orders.selectors import order_get

from .. import selectors, services
from ..document import tenant_zone
from ..forms import prefilled
from ..kinds import KINDS
from ..models import Escalation, EscalationStatus
from ..validation import CaseContext, EscalationInvalid, validate
from .inputs import (
    CreateInput,
    EscalationNoteInput,
    EscalationStatusInput,
    UpdateInput,
    _refusal,
    _split,
    _unknown_files,
    _valid,
)
from .representations import (
    ATTACHMENTS,
    EscalationSerializer,
    HistorySerializer,
    escalation_representation,
    escalations_with_details,
)

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
