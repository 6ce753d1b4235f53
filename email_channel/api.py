"""/api/v1/email-channels/: the organisation's support mailboxes, their state, a connection
test and "read now". Passwords never leave Sellerdesk; channels are set up on the settings page.

Organisation-wide, so a key limited to some stores may not use them (403)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import AllStores, KeyScope
from api.views import APIViewSet

from . import selectors, services, tasks
from .models import EmailChannel


class EmailChannelSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    store_id = serializers.UUIDField(
        source="store.public_id", read_only=True, help_text="Its tickets' store."
    )
    folders = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = EmailChannel
        fields = [
            "id",
            "store_id",
            "address",
            "from_name",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "folders",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "is_active",
            "last_polled_at",
            "last_poll_error",
            "check_state",
            "check_result",
            "checked_at",
            "created_at",
        ]
        read_only_fields = fields


CHECK_RESULT = inline_serializer(
    "EmailChannelCheck",
    {
        "ok": serializers.BooleanField(),
        "steps": serializers.ListField(
            child=inline_serializer(
                "EmailChannelCheckStep",
                {"ok": serializers.BooleanField(), "text": serializers.CharField()},
            )
        ),
    },
)


@extend_schema(tags=["email-channels"])
class EmailChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    serializer_class = EmailChannelSerializer
    permission_classes = [KeyScope, AllStores]
    ordering = ("created_at", "id")

    def get_queryset(self) -> Any:
        return selectors.channels_of_tenant(tenant=self.tenant)

    def get_object(self) -> EmailChannel:
        return selectors.channel_get(tenant=self.tenant, public_id=self.kwargs["public_id"])

    @extend_schema(request=None, responses=CHECK_RESULT)
    def check(self, request: Request, public_id: str) -> Response:
        """Signs in to both servers with the stored settings; each step as it went."""
        result = services.channel_check(channel=self.get_object())
        steps = [{"ok": step.ok, "text": step.text} for step in result.steps]
        return Response({"ok": result.ok, "steps": steps})

    @extend_schema(request=None, responses={202: EmailChannelSerializer})
    def poll(self, request: Request, public_id: str) -> Response:
        """Reads the mailbox now (in the background)."""
        channel = self.get_object()
        tasks.poll_channel.delay(channel.pk)
        return Response(EmailChannelSerializer(channel).data, status=202)
