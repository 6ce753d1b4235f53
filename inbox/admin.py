"""Admin for the mailbox: read-mostly views for support, nothing a buyer wrote is editable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Conversation,
    ConversationOrder,
    Customer,
    Message,
    Snippet,
    StoreInboxState,
    TicketCounter,
    TicketEvent,
)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "store", "tenant", "created_at"]
    list_select_related = ["store", "tenant"]
    search_fields = ["buyer_user_id"]
    readonly_fields = ["tenant", "store", "public_id", "buyer_user_id", "im_user_id", "created_at"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "tenant",
        "store",
        "status",
        "assignee",
        "last_message_at",
        "unread_count",
    ]
    list_filter = ["status"]
    list_select_related = ["tenant", "store", "assignee"]
    search_fields = ["external_id", "customer__buyer_user_id"]
    raw_id_fields = ["customer", "assignee"]
    readonly_fields = [
        "tenant",
        "store",
        "public_id",
        "number",
        "external_id",
        "message_cursor",
        "created_at",
        "updated_at",
    ]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "conversation",
        "direction",
        "type",
        "sent_at",
        "delivery_status",
    ]
    list_filter = ["direction", "type", "delivery_status"]
    list_select_related = ["conversation"]
    search_fields = ["external_id", "conversation__external_id"]
    raw_id_fields = ["conversation", "author"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # what the platform delivered is kept as delivered


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["kind", "conversation", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["conversation", "actor"]


@admin.register(ConversationOrder)
class ConversationOrderAdmin(admin.ModelAdmin):
    list_display = ["conversation", "order_external_id", "source", "created_at"]
    list_filter = ["source"]
    raw_id_fields = ["conversation", "order"]


@admin.register(Snippet)
class SnippetAdmin(admin.ModelAdmin):
    list_display = ["title", "shortcut", "tenant", "updated_at"]
    search_fields = ["title", "shortcut"]
    raw_id_fields = ["created_by"]


@admin.register(StoreInboxState)
class StoreInboxStateAdmin(admin.ModelAdmin):
    list_display = ["store", "poll_lease_until", "last_polled_at", "last_poll_error"]
    readonly_fields = ["store", "poll_lease_until", "last_polled_at", "last_poll_error"]


@admin.register(TicketCounter)
class TicketCounterAdmin(admin.ModelAdmin):
    list_display = ["tenant", "last_number"]
    readonly_fields = ["tenant", "last_number"]
