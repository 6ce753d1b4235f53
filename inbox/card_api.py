"""POST /api/v1/tickets/{ticket_id}/cards/: send an order, shipping, return/refund, product or
coupon card to the ticket's buyer, through the same service as the workbench's buttons (checked,
stored first, sent once by the outbox). The objects are named by their Sellerdesk ids (the `id`
of GET /orders/, /products/, /coupons/); another organisation's, or one of a store the key does
not serve, is a 404; one the card cannot carry (another buyer's order, a product that is not
live, a coupon the marketplace refuses) is a 409 with the reason."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import Conflict
from api.views import APIView, StrictSerializerMixin
from orders import selectors as order_selectors

from . import cards, selectors
from .api import MessageSerializer, message_representation


class CardInput(StrictSerializerMixin, serializers.Serializer):
    type = serializers.ChoiceField(choices=list(cards.CARD_NAMES))
    order_id = serializers.UUIDField(required=False, help_text="ORDER/LOGISTICS/RETURN_REFUND.")
    package_id = serializers.CharField(required=False, max_length=64, allow_blank=True)
    sku_id = serializers.CharField(required=False, max_length=64, allow_blank=True)
    product_id = serializers.UUIDField(required=False, help_text="PRODUCT_CARD.")
    coupon_id = serializers.UUIDField(required=False, help_text="COUPON_CARD.")


class TicketCardCreate(APIView):
    @extend_schema(request=CardInput, responses={201: MessageSerializer}, tags=["messages"])
    def post(self, request: Request, ticket_id: str) -> Response:
        conversation = selectors.conversation_get(
            tenant=self.tenant, membership=self.member, public_id=ticket_id
        )
        serializer = CardInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        found: dict[str, Any] = {}
        for field, getter in (
            ("order", order_selectors.order_get),
            ("product", order_selectors.product_get),
            ("coupon", order_selectors.coupon_get),
        ):
            if data.get(f"{field}_id"):
                found[field] = getter(
                    tenant=self.tenant, public_id=data[f"{field}_id"], membership=self.member
                )
        key = request.headers.get("Idempotency-Key")
        token = (
            uuid.uuid5(uuid.NAMESPACE_URL, f"sellerdesk:{self.tenant.pk}:{key.strip()}")
            if key
            else None
        )
        try:
            message = cards.card_send(
                membership=self.member,
                conversation=conversation,
                request=cards.CardRequest(
                    card_type=data["type"],
                    package_id=data.get("package_id", "").strip(),
                    sku_id=data.get("sku_id", "").strip(),
                    **found,
                ),
                client_token=token,
            )
        except cards.CardInvalidError as error:
            raise Conflict(str(error), code="cannot_send") from error
        return Response(
            message_representation(message, conversation.public_id),
            status=status.HTTP_201_CREATED,
        )
