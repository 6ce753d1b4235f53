"""/api/v1/orders/: orders of the stores the key serves, with lines, returns, cancellations and
shipping; exact lookup by the platform's order id; tracking events as last fetched, and a POST
that queues a fresh fetch (a GET never calls the marketplace).

The same selectors as the Orders pages: another organisation's order, or one of a store the key
does not serve, is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIViewSet
from marketplaces.selectors import store_get

from . import selectors, services
from .catalog_api import DecisionSerializer
from .catalog_api import _decisions as decisions_of
from .models import (
    Cancellation,
    Order,
    OrderLine,
    OrderStatus,
    Return,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "allow_null": True, "coerce_to_string": True}


class OrderLineSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    image_url = serializers.CharField(help_text="The product image's URL; empty when unknown.")
    sale_price = serializers.DecimalField(**MONEY)
    original_price = serializers.DecimalField(**MONEY)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product_id",
            "sku_id",
            "seller_sku",
            "product_name",
            "sku_name",
            "image_url",
            "currency",
            "original_price",
            "sale_price",
            "display_status",
            "package_id",
            "package_status",
            "tracking_number",
            "shipping_provider_name",
            "cancel_reason",
            "is_gift",
        ]
        read_only_fields = fields


class AfterSaleLineSerializer(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    order_line_id = serializers.CharField(source="order_line_external_id")
    product_name = serializers.CharField()
    sku_name = serializers.CharField()
    seller_sku = serializers.CharField()
    refund_total = serializers.DecimalField(**MONEY)


# Platform codes are kept as the platform sent them (a new value is stored, not refused), so they
# are strings here, not enums.
def _code(help_text: str) -> serializers.CharField:
    return serializers.CharField(help_text=help_text)


class _WithDecisions(serializers.Serializer):
    """The decisions the marketplace offers on a request now (POST …/review/ and …/decide/)."""

    decisions = serializers.SerializerMethodField()

    @extend_schema_field(DecisionSerializer(many=True))
    def get_decisions(self, record: Return | Cancellation) -> list[dict[str, Any]]:
        return decisions_of(record)


class ReturnSerializer(_WithDecisions, serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    return_type = _code("REFUND, RETURN_AND_REFUND, REPLACEMENT, or empty.")
    status = _code("The platform's return status, e.g. RETURN_OR_REFUND_REQUEST_PENDING.")
    refund_total = serializers.DecimalField(**MONEY)
    lines = AfterSaleLineSerializer(many=True)

    class Meta:
        model = Return
        fields = [
            "id",
            "return_type",
            "status",
            "reason",
            "reason_text",
            "requested_at",
            "updated_at",
            "tracking_number",
            "shipping_provider",
            "seller_next_action",
            "seller_next_action_deadline",
            "currency",
            "refund_total",
            "lines",
            "decisions",
        ]
        read_only_fields = fields


class CancellationSerializer(_WithDecisions, serializers.ModelSerializer):
    id = serializers.CharField(source="external_id")
    cancel_type = _code("CANCEL, BUYER_CANCEL, or empty.")
    status = _code("The platform's cancellation status, e.g. CANCELLATION_REQUEST_PENDING.")
    role = _code("Who asked: BUYER, SELLER, SYSTEM, or empty.")
    refund_total = serializers.DecimalField(**MONEY)
    lines = AfterSaleLineSerializer(many=True)

    class Meta:
        model = Cancellation
        fields = [
            "id",
            "cancel_type",
            "status",
            "role",
            "reason",
            "reason_text",
            "requested_at",
            "updated_at",
            "seller_next_action",
            "seller_next_action_deadline",
            "currency",
            "refund_total",
            "lines",
            "decisions",
        ]
        read_only_fields = fields


class OrderTrackingSerializer(serializers.Serializer):
    """What the order says about its shipment; events: GET /orders/<id>/tracking/."""

    tracking_number = serializers.CharField()
    shipping_provider = serializers.CharField()
    shipping_type = serializers.CharField()
    delivery_type = serializers.CharField()


class OrderStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    order_id = serializers.CharField(source="external_id", help_text="The platform's order id.")
    status = _code("The platform's order status, e.g. AWAITING_SHIPMENT or DELIVERED.")
    store = OrderStoreSerializer()
    total_amount = serializers.DecimalField(**MONEY)
    sub_total = serializers.DecimalField(**MONEY)
    shipping_fee = serializers.DecimalField(**MONEY)
    tax = serializers.DecimalField(**MONEY)
    lines = OrderLineSerializer(many=True)
    tracking = OrderTrackingSerializer(source="*", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "order_id",
            "store",
            "status",
            "buyer_user_id",
            "placed_at",
            "paid_at",
            "updated_at",
            "synced_at",
            "cancelled_at",
            "delivered_at",
            "currency",
            "total_amount",
            "sub_total",
            "shipping_fee",
            "tax",
            "payment_method",
            "is_cod",
            "buyer_message",
            "cancel_reason",
            "delivery_option_name",
            "city",
            "state",
            "postal_code",
            "country",
            "lines",
            "tracking",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    returns = ReturnSerializer(many=True, read_only=True)
    cancellations = CancellationSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "returns", "cancellations"]
        read_only_fields = fields


class TrackingStepSerializer(serializers.Serializer):
    description = serializers.CharField()
    occurred_at = serializers.DateTimeField(allow_null=True)


class TrackingSerializer(serializers.Serializer):
    events = TrackingStepSerializer(many=True, help_text="Newest first, as last fetched.")
    fetched_at = serializers.DateTimeField(
        allow_null=True, help_text="When the events were fetched; null when never."
    )
    refreshing = serializers.BooleanField(help_text="A fetch is queued and not finished yet.")
    error = serializers.CharField(
        help_text="Why the last fetch failed (the events are then older); empty when it did not."
    )


def _when(request: Request, name: str) -> datetime | None:
    from inbox.api import _when as parse

    return parse(request, name)


def with_after_sales(*, tenant: Any, order: Order) -> Order:
    order.returns = list(selectors.returns_of_order(tenant=tenant, order=order))  # type: ignore[attr-defined]
    order.cancellations = list(  # type: ignore[attr-defined]
        selectors.cancellations_of_order(tenant=tenant, order=order)
    )
    return order


@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = OrderSerializer

    def get_ordering(self) -> tuple[str, ...]:
        if self.request.query_params.get("updated_since"):
            return ("synced_at", "id")
        return ("-placed_at", "-id")

    def get_queryset(self) -> QuerySet[Order]:
        params = self.request.query_params
        status_ = params.get("status") or None
        if status_ is not None and (len(status_) > 32 or not status_.replace("_", "").isalpha()):
            raise exceptions.ValidationError({"status": ["Give an order status, e.g. DELIVERED."]})
        store = None
        if params.get("store"):
            store = store_get(tenant=self.tenant, public_id=params["store"], membership=self.member)
        orders = selectors.orders_of_tenant(
            tenant=self.tenant,
            membership=self.member,
            store=store,
            status=status_,
            placed_from=_when(self.request, "placed_from"),
            placed_before=_when(self.request, "placed_before"),
        )
        updated_since = _when(self.request, "updated_since")
        if updated_since is not None:
            orders = orders.filter(synced_at__gte=updated_since)
        return orders.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))

    def get_object(self) -> Order:
        order = selectors.order_get(
            tenant=self.tenant, public_id=self.kwargs["public_id"], membership=self.member
        )
        return with_after_sales(tenant=self.tenant, order=order)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=OrderStatus.values),
            OpenApiParameter("store", OpenApiTypes.UUID),
            OpenApiParameter("placed_from", OpenApiTypes.DATETIME),
            OpenApiParameter("placed_before", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "updated_since",
                OpenApiTypes.DATETIME,
                description="Orders stored or changed since then, oldest change first.",
            ),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=OrderDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(OrderDetailSerializer(self.get_object()).data)

    @extend_schema(
        parameters=[OpenApiParameter("order_id", str, required=True)],
        responses=OrderDetailSerializer,
        description="The order with this exact platform order id, in the stores the key serves.",
    )
    def lookup(self, request: Request) -> Response:
        external_id = request.query_params.get("order_id", "").strip()
        if not services.is_order_id(external_id):
            raise exceptions.ValidationError({"order_id": ["Give a platform order id."]})
        order = selectors.order_find(
            tenant=self.tenant, external_id=external_id, membership=self.member
        )
        if order is None:
            raise exceptions.NotFound("No order with this id in the stores this key serves.")
        order = selectors.order_get(
            tenant=self.tenant, public_id=order.public_id, membership=self.member
        )
        return Response(
            OrderDetailSerializer(with_after_sales(tenant=self.tenant, order=order)).data
        )

    @extend_schema(
        responses=TrackingSerializer,
        description="The order's tracking events as last fetched from the marketplace, newest "
        "first, with when they were fetched; this never asks the marketplace. POST "
        "…/tracking/refresh/ queues a fetch.",
    )
    def tracking(self, request: Request, public_id: str) -> Response:
        order = selectors.order_get(tenant=self.tenant, public_id=public_id, membership=self.member)
        return Response(_tracking_data(order))

    @extend_schema(
        request=None,
        responses={202: TrackingSerializer},
        description="Queue a fetch of the order's tracking events from the marketplace (not "
        "queued twice while one is on its way); answers at once with the stored tracking, "
        "`refreshing` true. Poll GET …/tracking/ for the result.",
    )
    def tracking_refresh(self, request: Request, public_id: str) -> Response:
        order = selectors.order_get(tenant=self.tenant, public_id=public_id, membership=self.member)
        services.order_tracking_refresh(order=order)
        return Response(_tracking_data(order), status=202)


def _tracking_data(order: Order) -> dict[str, Any]:
    tracking = selectors.tracking_of_order(order=order)
    steps = services.tracking_steps(tracking)
    return TrackingSerializer(
        {
            "events": [{"description": s.description, "occurred_at": s.occurred_at} for s in steps],
            "fetched_at": tracking.fetched_at if tracking else None,
            "refreshing": bool(tracking and tracking.pending),
            "error": tracking.error if tracking else "",
        }
    ).data
