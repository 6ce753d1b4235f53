"""Admin for stores and their plumbing. Token values (even ciphertext) are never shown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import OAuthState, Store, StoreAccess, SyncJob, WebhookEvent, WebhookEventStatus

TOKEN_FIELDS = ["access_token_encrypted", "refresh_token_encrypted"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "external_shop_id", "market", "status", "last_synced_at"]
    list_filter = ["status", "market", "platform"]
    list_select_related = ["tenant"]
    search_fields = ["name", "external_shop_id", "shop_code", "seller_name"]
    raw_id_fields = ["connected_by"]
    exclude = TOKEN_FIELDS
    # A shop belongs to one tenant; moving it would strand its orders in the old one.
    readonly_fields = [
        "tenant",
        "platform",
        "external_shop_id",
        "public_id",
        "tokens",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # stores are created by connecting them, with their tokens

    @admin.display(description="Tokens")
    def tokens(self, store: Store) -> str:
        # Whether tokens are stored, never what they are.
        return "stored (encrypted)" if store.has_tokens else "none"


@admin.register(StoreAccess)
class StoreAccessAdmin(admin.ModelAdmin):
    list_display = ["membership", "store", "tenant", "created_at"]
    list_select_related = ["membership__user", "membership__tenant", "store", "tenant"]
    raw_id_fields = ["tenant", "membership", "store"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "notification_id", "shop_id", "status", "attempts"]
    list_filter = ["status", "type"]
    search_fields = ["notification_id", "shop_id"]
    raw_id_fields = ["store"]
    readonly_fields = [f.name for f in WebhookEvent._meta.get_fields() if f.concrete]
    actions = ["requeue"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # events come from TikTok, signed

    @admin.action(description="Process the selected events again")
    def requeue(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        from .tasks import process_webhook_event

        ids = list(
            queryset.exclude(status=WebhookEventStatus.PROCESSING).values_list("id", flat=True)
        )
        WebhookEvent.objects.filter(id__in=ids).update(status=WebhookEventStatus.RECEIVED)
        for event_id in ids:
            process_webhook_event.delay(event_id)
        self.message_user(request, f"{len(ids)} event(s) queued again.", messages.SUCCESS)


@admin.register(OAuthState)
class OAuthStateAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "user", "market", "expires_at", "used_at"]
    list_select_related = ["tenant", "user"]
    # The nonce is what makes a callback valid: not shown.
    exclude = ["nonce"]
    readonly_fields = [
        "tenant",
        "user",
        "platform",
        "market",
        "created_at",
        "expires_at",
        "used_at",
    ]


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    list_display = [
        "store",
        "kind",
        "mode",
        "status",
        "items_fetched",
        "total_estimate",
        "window_start",
        "created_at",
    ]
    list_filter = ["status", "kind", "mode"]
    list_select_related = ["store"]
    raw_id_fields = ["tenant", "store"]
