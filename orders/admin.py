from __future__ import annotations

from django.contrib import admin

from .models import Cancellation, CancellationLine, Order, OrderLine, Return, ReturnLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["external_id", "product_name", "sku_name", "seller_sku", "sale_price", "currency"]
    readonly_fields = fields
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "store", "status", "placed_at", "total_amount", "currency"]
    list_filter = ["status"]
    list_select_related = ["store"]
    search_fields = ["external_id", "buyer_user_id", "tracking_number"]
    raw_id_fields = ["tenant", "store", "internal_note_updated_by"]
    readonly_fields = ["public_id", "raw", "synced_at"]
    inlines = [OrderLineInline]


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = ["external_id", "product_name", "sku_name", "refund_total", "currency"]
    readonly_fields = fields
    can_delete = False


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    list_display = ["external_id", "order_external_id", "store", "status", "requested_at"]
    list_filter = ["status", "return_type"]
    list_select_related = ["store"]
    search_fields = ["external_id", "order_external_id"]
    raw_id_fields = ["tenant", "store"]
    readonly_fields = ["raw", "synced_at"]
    inlines = [ReturnLineInline]


class CancellationLineInline(admin.TabularInline):
    model = CancellationLine
    extra = 0
    fields = ["external_id", "product_name", "sku_name", "refund_total", "currency"]
    readonly_fields = fields
    can_delete = False


@admin.register(Cancellation)
class CancellationAdmin(admin.ModelAdmin):
    list_display = ["external_id", "order_external_id", "store", "status", "requested_at"]
    list_filter = ["status", "cancel_type"]
    list_select_related = ["store"]
    search_fields = ["external_id", "order_external_id"]
    raw_id_fields = ["tenant", "store"]
    readonly_fields = ["raw", "synced_at"]
    inlines = [CancellationLineInline]
