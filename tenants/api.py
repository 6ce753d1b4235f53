"""/api/v1/members/: the organisation's people (read only), named by their user id, which is
what ticket assignees and `assign/` use."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers

from api.views import APIViewSet

from . import selectors
from .models import Membership, Role


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="user.public_id", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    member_since = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "member_since"]
        read_only_fields = fields


@extend_schema(tags=["members"])
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = MemberSerializer
    ordering = ("created_at", "id")

    def get_queryset(self) -> Any:
        return selectors.members_of_tenant(tenant=self.tenant)

    def get_object(self) -> Membership:
        return selectors.membership_of_user(
            tenant=self.tenant, user_public_id=self.kwargs["public_id"]
        )
