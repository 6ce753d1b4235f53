from __future__ import annotations

from django.contrib import admin

from .models import Escalation, EscalationAttachment, EscalationEvent, EscalationSettings


class AttachmentInline(admin.TabularInline):
    model = EscalationAttachment
    extra = 0
    fields = ["field", "name", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = EscalationEvent
    extra = 0
    fields = ["kind", "actor", "from_status", "to_status", "body", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "kind", "status", "store", "tenant", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["store", "tenant"]
    search_fields = ["public_id", "summary", "store__external_shop_id"]
    raw_id_fields = ["tenant", "store", "conversation", "order", "created_by"]
    # Changes go through the services (history, e-mail): the admin only reads.
    readonly_fields = ["public_id", "status", "values", "submitted_at", "submitted_to", "closed_at"]
    inlines = [AttachmentInline, EventInline]


@admin.register(EscalationSettings)
class EscalationSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "recipient_email", "updated_at"]
    raw_id_fields = ["tenant", "updated_by"]
