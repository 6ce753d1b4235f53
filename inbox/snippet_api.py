"""/api/v1/snippets/: the organisation's saved replies (CRUD through the same services as the
Snippets page, so the same rules: owners/admins edit, i.e. keys not limited to stores), and a
snippet rendered against an order and/or a ticket."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIViewSet, StrictSerializerMixin
from orders.selectors import coupon_get, order_get, product_get

from . import selectors, services, snippets
from .models import Snippet


class SnippetSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Snippet
        fields = ["id", "title", "shortcut", "body", "created_at", "updated_at"]
        read_only_fields = fields


class SnippetInput(StrictSerializerMixin, serializers.Serializer):
    title = serializers.CharField(max_length=500, allow_blank=True)
    shortcut = serializers.CharField(max_length=200, allow_blank=True)
    body = serializers.CharField(max_length=20_000, allow_blank=True, trim_whitespace=False)


class RenderedSerializer(serializers.Serializer):
    text = serializers.CharField()


def snippet_get(*, tenant: Any, public_id: object) -> Snippet:
    from .selectors import _as_uuid

    try:
        wanted = _as_uuid(public_id)
    except Http404:
        raise Http404("No such snippet.") from None
    snippet = Snippet.objects.filter(tenant=tenant, public_id=wanted).first()
    if snippet is None:
        raise Http404("No such snippet.")
    return snippet


@extend_schema(tags=["snippets"])
class SnippetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, APIViewSet
):
    serializer_class = SnippetSerializer
    ordering = ("created_at", "id")
    http_method_names = ["get", "post", "put", "patch", "delete"]

    def get_queryset(self) -> Any:
        return Snippet.objects.filter(tenant=self.tenant)

    def get_object(self) -> Snippet:
        return snippet_get(tenant=self.tenant, public_id=self.kwargs["public_id"])

    def _save(self, request: Request, snippet: Snippet | None, partial: bool) -> Snippet:
        data = SnippetInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if snippet is None:
                return services.snippet_create(membership=self.member, **values)
            return services.snippet_update(
                membership=self.member,
                snippet=snippet,
                title=values.get("title", snippet.title),
                shortcut=values.get("shortcut", snippet.shortcut),
                body=values.get("body", snippet.body),
            )
        except services.SnippetInvalidError as error:
            raise exceptions.ValidationError(error.errors) from error

    @extend_schema(request=SnippetInput, responses={201: SnippetSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        snippet = self._save(request, None, partial=False)
        return Response(SnippetSerializer(snippet).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SnippetInput, responses=SnippetSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        snippet = self._save(request, self.get_object(), partial=False)
        return Response(SnippetSerializer(snippet).data)

    @extend_schema(request=SnippetInput, responses=SnippetSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        snippet = self._save(request, self.get_object(), partial=True)
        return Response(SnippetSerializer(snippet).data)

    def perform_destroy(self, instance: Snippet) -> None:
        services.snippet_delete(membership=self.member, snippet=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("order", OpenApiTypes.UUID, description="An order's id."),
            OpenApiParameter("ticket", OpenApiTypes.UUID, description="A ticket's id."),
            OpenApiParameter(
                "product", OpenApiTypes.UUID, description="A product's id ({{ product.* }})."
            ),
            OpenApiParameter(
                "coupon", OpenApiTypes.UUID, description="A coupon's id ({{ coupon.* }})."
            ),
        ],
        responses=RenderedSerializer,
        description="The snippet's text with its placeholders filled from the order, ticket, "
        "product and coupon given (400 naming a placeholder that cannot be filled; with a "
        "ticket, the order, product and coupon must be of its store).",
    )
    def render(self, request: Request, public_id: str) -> Response:
        snippet = self.get_object()
        params = request.query_params
        order = (
            order_get(tenant=self.tenant, public_id=params["order"], membership=self.member)
            if params.get("order")
            else None
        )
        ticket = (
            selectors.conversation_get(
                tenant=self.tenant, membership=self.member, public_id=params["ticket"]
            )
            if params.get("ticket")
            else None
        )
        product = (
            product_get(tenant=self.tenant, public_id=params["product"], membership=self.member)
            if params.get("product")
            else None
        )
        coupon = (
            coupon_get(tenant=self.tenant, public_id=params["coupon"], membership=self.member)
            if params.get("coupon")
            else None
        )
        try:
            text = snippets.snippet_render(
                membership=self.member,
                snippet=snippet,
                conversation=ticket,
                order=order,
                product=product,
                coupon=coupon,
            )
        except snippets.SnippetError as error:
            raise exceptions.ValidationError({"snippet": [str(error)]}) from error
        except PermissionDenied as error:
            raise Http404("No such order or ticket.") from error
        return Response({"text": text})
