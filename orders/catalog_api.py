"""/api/v1/products/ and /api/v1/coupons/ (the store's catalog, as the workbench shows it), and
the decisions on an order's returns and cancellations:

    POST /api/v1/orders/{order_id}/returns/{return_id}/review/        {"decision": key}
    POST /api/v1/orders/{order_id}/returns/{return_id}/decide/        {"decision", "status", ...}
    POST /api/v1/orders/{order_id}/cancellations/{cancel_id}/review/  (the same)
    POST /api/v1/orders/{order_id}/cancellations/{cancel_id}/decide/

Review reads the request again from the marketplace and answers what the decision would give the
buyer, with the reject reasons the marketplace offers (a POST: it asks the marketplace); decide
takes it once (the `Idempotency-Key` is also the decision's token: a retry never decides twice).
The same selectors and services as the pages: another organisation's order, product, coupon or
request, or one of a store the key does not serve, is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import APIView, APIViewSet, StrictSerializerMixin
from marketplaces.selectors import store_get

from . import aftersale, selectors
from .catalog_display import coupon_offer, product_link
from .models import (
    AfterSaleAction,
    AfterSaleKind,
    Cancellation,
    Coupon,
    Product,
    ProductSku,
    Return,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "allow_null": True, "coerce_to_string": True}


# --- Products and coupons -------------------------------------------------------------------------


class SkuSerializer(serializers.ModelSerializer):
    sku_id = serializers.CharField(source="external_id")
    price = serializers.DecimalField(**MONEY)

    class Meta:
        model = ProductSku
        fields = ["sku_id", "seller_sku", "name", "currency", "price", "stock"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    product_id = serializers.CharField(source="external_id", help_text="The platform's id.")
    store_id = serializers.UUIDField(source="store.public_id")
    status = serializers.CharField(help_text="The platform's status; ACTIVATE is live.")
    min_price = serializers.DecimalField(**MONEY)
    max_price = serializers.DecimalField(**MONEY)
    in_stock = serializers.BooleanField()
    link = serializers.SerializerMethodField()
    skus = SkuSerializer(many=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "product_id",
            "store_id",
            "title",
            "status",
            "image_url",
            "currency",
            "min_price",
            "max_price",
            "stock",
            "in_stock",
            "link",
            "skus",
        ]
        read_only_fields = fields

    def get_link(self, product: Product) -> str:
        return product_link(product)


class CouponSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    coupon_id = serializers.CharField(source="external_id", help_text="The platform's id.")
    store_id = serializers.UUIDField(source="store.public_id")
    offer = serializers.SerializerMethodField()
    can_be_sent = serializers.BooleanField(help_text="Whether it may be sent as a chat card.")
    card_problems = serializers.ListField(
        child=serializers.CharField(), help_text="Why it may not be sent as a chat card."
    )
    reduction_amount = serializers.DecimalField(**MONEY)
    min_spend = serializers.DecimalField(**MONEY)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "coupon_id",
            "store_id",
            "title",
            "display_type",
            "status",
            "creation_source",
            "target_buyer_segment",
            "promo_code",
            "offer",
            "currency",
            "reduction_amount",
            "percentage",
            "min_spend",
            "claim_starts_at",
            "claim_ends_at",
            "can_be_sent",
            "card_problems",
        ]
        read_only_fields = fields

    def get_offer(self, coupon: Coupon) -> str:
        return coupon_offer(coupon)


def _store(view: Any) -> Any:
    wanted = view.request.query_params.get("store")
    if not wanted:
        return None
    return store_get(tenant=view.tenant, public_id=wanted, membership=view.member)


@extend_schema(tags=["products"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = ProductSerializer
    ordering = ("title", "id")

    def get_queryset(self) -> QuerySet[Product]:
        params = self.request.query_params
        query = " ".join(params.get("q", "").split())[: selectors.PRODUCT_QUERY_MAX].lower()
        products = Product.objects.filter(tenant=self.tenant).select_related("store")
        allowed = selectors.allowed_store_ids(self.member)
        if allowed is not None:
            products = products.filter(store_id__in=allowed)
        store = _store(self)
        if store is not None:
            products = products.filter(store=store)
        if params.get("all") not in ("1", "true"):
            products = products.filter(status="ACTIVATE")
        if query:
            products = products.filter(search_text__contains=query)
        return products.prefetch_related("skus")

    def get_object(self) -> Product:
        return selectors.product_get(
            tenant=self.tenant, public_id=self.kwargs["public_id"], membership=self.member
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of the name, a seller SKU or the id."),
            OpenApiParameter("store", OpenApiTypes.UUID),
            OpenApiParameter("all", bool, description="Include products that are not live."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["coupons"])
class CouponViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = CouponSerializer
    ordering = ("title", "id")

    def get_queryset(self) -> QuerySet[Coupon]:
        coupons = Coupon.objects.filter(tenant=self.tenant).select_related("store")
        allowed = selectors.allowed_store_ids(self.member)
        if allowed is not None:
            coupons = coupons.filter(store_id__in=allowed)
        store = _store(self)
        return coupons if store is None else coupons.filter(store=store)

    def get_object(self) -> Coupon:
        return selectors.coupon_get(
            tenant=self.tenant, public_id=self.kwargs["public_id"], membership=self.member
        )

    @extend_schema(parameters=[OpenApiParameter("store", OpenApiTypes.UUID)])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


# --- Decisions on returns and cancellations ----------------------------------------------------


class DecisionSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="What `decision` takes, e.g. APPROVE_RETURN:keep.")
    label = serializers.CharField()
    outcome = serializers.CharField(help_text="What the buyer gets.")
    needs_reason = serializers.BooleanField()


class ReasonSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What `reject_reason` takes.")
    text = serializers.CharField()


class ReviewInput(StrictSerializerMixin, serializers.Serializer):
    decision = serializers.CharField(max_length=40)
    status = serializers.CharField(
        max_length=64, required=False, help_text="The status you decided on (stale check)."
    )


class ReviewOutput(serializers.Serializer):
    status = serializers.CharField(help_text="The request's status now, read again.")
    decision = DecisionSerializer()
    reject_reasons = ReasonSerializer(many=True)
    decisions = DecisionSerializer(many=True, help_text="Every decision open now.")


class DecideInput(StrictSerializerMixin, serializers.Serializer):
    decision = serializers.CharField(max_length=40)
    status = serializers.CharField(max_length=64, help_text="The status you decided on.")
    reject_reason = serializers.CharField(max_length=128, required=False, allow_blank=True)
    comment = serializers.CharField(
        max_length=aftersale.COMMENT_MAX_CHARS, required=False, allow_blank=True
    )


class ActionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    record_id = serializers.CharField(source="record_external_id")
    order_id = serializers.CharField(source="order_external_id")
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AfterSaleAction
        fields = [
            "id",
            "kind",
            "record_id",
            "order_id",
            "decision",
            "label",
            "outcome",
            "reject_reason",
            "comment",
            "status",
            "message",
            "actor",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


def _decisions(record: aftersale.AfterSaleRecord) -> list[dict[str, Any]]:
    return [
        {
            "key": offer.key,
            "label": offer.label,
            "outcome": offer.outcome,
            "needs_reason": offer.needs_reason,
        }
        for offer in aftersale.offers_of(record)
    ]


class _AfterSaleView(APIView):
    kind: str

    def record(self, order_id: str, record_id: str) -> aftersale.AfterSaleRecord:
        order = selectors.order_get(tenant=self.tenant, public_id=order_id, membership=self.member)
        model = Return if self.kind == AfterSaleKind.RETURN else Cancellation
        record = (
            model.objects.select_related("store")
            .filter(
                tenant=self.tenant,
                store_id=order.store_id,
                order_external_id=order.external_id,
                external_id=record_id,
            )
            .first()
        )
        if record is None:
            raise Http404("No such request on this order.")
        return record


def _refused(error: aftersale.AfterSaleError) -> Exception:
    if isinstance(error, aftersale.AfterSalePermissionError):
        return exceptions.PermissionDenied(str(error))
    return Conflict(str(error), code="decision_refused")


class AfterSaleReview(_AfterSaleView):
    @extend_schema(request=ReviewInput, responses=ReviewOutput, tags=["orders"])
    def post(self, request: Request, order_id: str, record_id: str) -> Response:
        record = self.record(order_id, record_id)
        serializer = ReviewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            review = aftersale.after_sale_review(
                membership=self.member,
                record=record,
                key=data["decision"],
                seen_status=data.get("status", ""),
            )
        except aftersale.AfterSaleError as error:
            raise _refused(error) from error
        offer = review.offer
        return Response(
            ReviewOutput(
                {
                    "status": review.record.status,
                    "decision": {
                        "key": offer.key,
                        "label": offer.label,
                        "outcome": offer.outcome,
                        "needs_reason": offer.needs_reason,
                    },
                    "reject_reasons": [
                        {"name": reason.name, "text": reason.text} for reason in review.reasons
                    ],
                    "decisions": _decisions(review.record),
                }
            ).data
        )


class AfterSaleDecide(_AfterSaleView):
    @extend_schema(request=DecideInput, responses=ActionSerializer, tags=["orders"])
    def post(self, request: Request, order_id: str, record_id: str) -> Response:
        record = self.record(order_id, record_id)
        serializer = DecideInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = request.headers.get("Idempotency-Key")
        # The Idempotency-Key is also the decision's token: a retry that outlived its
        # idempotency record still finds the decision instead of taking it again.
        token = (
            uuid.uuid5(uuid.NAMESPACE_URL, f"sellerdesk:decision:{self.tenant.pk}:{key.strip()}")
            if key
            else uuid.uuid4()
        )
        try:
            decided = aftersale.after_sale_decide(
                membership=self.member,
                record=record,
                key=data["decision"],
                seen_status=data["status"],
                client_token=token,
                reject_reason=data.get("reject_reason", ""),
                comment=data.get("comment", ""),
            )
        except aftersale.AfterSaleError as error:
            raise _refused(error) from error
        action = decided.action
        if action.status in ("refused", "unconfirmed"):
            raise Conflict(action.message, code=f"decision_{action.status}")
        return Response(ActionSerializer(action).data)


class ReturnReview(AfterSaleReview):
    kind = AfterSaleKind.RETURN


class ReturnDecide(AfterSaleDecide):
    kind = AfterSaleKind.RETURN


class CancellationReview(AfterSaleReview):
    kind = AfterSaleKind.CANCELLATION


class CancellationDecide(AfterSaleDecide):
    kind = AfterSaleKind.CANCELLATION
