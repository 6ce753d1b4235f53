"""/api/v1/sla-policies/: the team's SLA policies, read only (they are set on Settings → Service
levels). A key limited to some stores sees the policy for all stores and its stores' own; another
organisation's policy, or one of a store the key does not serve, is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIViewSet
from marketplaces.selectors import allowed_store_ids

from . import selectors
from .models import SLAPolicy


class PolicyStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class SLAPolicySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    store = PolicyStoreSerializer(
        read_only=True, allow_null=True, help_text="null: the policy for all stores."
    )
    business_hours = serializers.ListField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        allow_null=True,
        read_only=True,
        help_text=(
            'Opening hours per weekday, Monday first: [[["09:00", "17:00"]], [], …], in the '
            "store's time zone; null: around the clock."
        ),
    )
    holidays = serializers.ListField(child=serializers.DateField(), read_only=True)

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "store",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours",
            "holidays",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema(tags=["sla"])
class SLAPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = SLAPolicySerializer
    ordering = ("created_at", "id")

    def get_queryset(self) -> QuerySet[SLAPolicy]:
        policies = selectors.policies(tenant=self.tenant)
        allowed = allowed_store_ids(self.member)
        if allowed is not None:
            policies = policies.filter(Q(store__isnull=True) | Q(store_id__in=allowed))
        return policies

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = selectors.policy_get(tenant=self.tenant, public_id=kwargs["public_id"])
        if not self.get_queryset().filter(pk=policy.pk).exists():
            raise Http404("No such policy.")
        return Response(SLAPolicySerializer(policy).data)
