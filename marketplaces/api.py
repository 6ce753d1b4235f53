"""/api/v1/stores/: the organisation's connected stores and their sync state (read only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views import APIViewSet

from . import selectors
from .models import Store, SyncJob


class SyncStateSerializer(serializers.Serializer):
    """The orders backfill: what the Stores page draws as a progress bar."""

    status = serializers.CharField()
    items_fetched = serializers.IntegerField()
    total_estimate = serializers.IntegerField(allow_null=True)
    progress_percent = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class StoreSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    shop_id = serializers.CharField(source="external_shop_id", read_only=True)
    sync = serializers.SerializerMethodField()

    class Meta:
        model = Store
        fields = [
            "id",
            "name",
            "platform",
            "shop_id",
            "region",
            "market",
            "status",
            "status_reason",
            "last_synced_at",
            "last_error_at",
            "authorization_expires_at",
            "connected_at",
            "created_at",
            "updated_at",
            "sync",
        ]

    @extend_schema_field(SyncStateSerializer(allow_null=True))
    def get_sync(self, store: Store) -> dict[str, Any] | None:
        job: SyncJob | None = self.context.get("sync_jobs", {}).get(store.pk)
        if job is None:
            return None
        return SyncStateSerializer(job).data


class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, APIViewSet):
    """Stores this key serves (all of the organisation's, or those it is limited to)."""

    serializer_class = StoreSerializer
    ordering = ("created_at", "id")

    def get_queryset(self) -> Any:
        return selectors.stores_visible_to(self.member)

    def get_object(self) -> Store:
        return selectors.store_get(
            tenant=self.tenant, public_id=self.kwargs["public_id"], membership=self.member
        )

    def _context(self, stores: list[Store]) -> dict[str, Any]:
        return {
            **self.get_serializer_context(),
            "sync_jobs": selectors.sync_progress(tenant=self.tenant, stores=stores),
        }

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = StoreSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        store = self.get_object()
        return Response(StoreSerializer(store, context=self._context([store])).data)
