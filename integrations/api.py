"""/api/v1/webhooks/: the organisation's webhook subscriptions, their deliveries, and resend.

Organisation-wide, so a key limited to some stores may not use them (403): it would receive
events of every store."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import AllStores, KeyScope
from api.views import APIViewSet, StrictSerializerMixin

from . import selectors, services
from .events import EVENT_TYPES
from .models import DeliveryStatus, WebhookDelivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENT_TYPES)))

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret: shown in this answer only."
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriptionInput(StrictSerializerMixin, serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), min_length=1, max_length=50
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    webhook_id = serializers.CharField(read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    event_id = serializers.UUIDField(source="event.public_id", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "event_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


def _invalid(error: services.WebhookInvalidError) -> exceptions.ValidationError:
    return exceptions.ValidationError(error.errors)


@extend_schema(tags=["webhooks"])
class WebhookViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, APIViewSet
):
    serializer_class = SubscriptionSerializer
    permission_classes = [KeyScope, AllStores]
    ordering = ("created_at", "id")
    http_method_names = ["get", "post", "patch", "delete"]

    def get_queryset(self) -> Any:
        return selectors.subscriptions_of_tenant(tenant=self.tenant)

    def get_object(self) -> WebhookSubscription:
        return selectors.subscription_get(tenant=self.tenant, public_id=self.kwargs["public_id"])

    @extend_schema(request=SubscriptionInput, responses={201: CreatedSubscriptionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            subscription, secret = services.subscription_create(
                tenant=self.tenant,
                url=values["url"],
                events=values["events"],
                description=values.get("description", ""),
            )
        except services.WebhookInvalidError as error:
            raise _invalid(error) from error
        subscription.secret_shown = secret  # type: ignore[attr-defined]
        body = CreatedSubscriptionSerializer(subscription).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionInput, responses=SubscriptionSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subscription = self.get_object()
        data = SubscriptionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            services.subscription_update(
                subscription=subscription,
                url=values.get("url"),
                events=values.get("events"),
                description=values.get("description"),
                is_active=values.get("is_active"),
            )
        except services.WebhookInvalidError as error:
            raise _invalid(error) from error
        return Response(SubscriptionSerializer(subscription).data)

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        services.subscription_delete(subscription=instance)


WEBHOOK_ID = OpenApiParameter("webhook_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema(tags=["webhooks"], parameters=[WEBHOOK_ID])
class DeliveryViewSet(mixins.ListModelMixin, APIViewSet):
    """The delivery log of one subscription, newest first."""

    serializer_class = DeliverySerializer
    permission_classes = [KeyScope, AllStores]
    ordering = ("-created_at", "-id")

    def subscription(self) -> WebhookSubscription:
        return selectors.subscription_get(tenant=self.tenant, public_id=self.kwargs["webhook_id"])

    def get_queryset(self) -> Any:
        return selectors.deliveries_of(subscription=self.subscription())

    @extend_schema(request=None, responses=DeliverySerializer)
    def resend(self, request: Request, webhook_id: str, public_id: str) -> Response:
        delivery = selectors.delivery_get(subscription=self.subscription(), public_id=public_id)
        try:
            delivery = services.delivery_resend(delivery=delivery)
        except services.WebhookInvalidError as error:
            raise _invalid(error) from error
        return Response(DeliverySerializer(delivery).data)
