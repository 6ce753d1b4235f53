"""Kinds about orders, returns and cancellations, products and stock."""

from __future__ import annotations

from dataclasses import replace

from .spec import (
    ERROR_HELP,
    IMAGES_OR_PDF,
    NOTES,
    PAST,
    FieldSpec,
    FieldType,
    Kind,
    Section,
    problem,
    screenshots_section,
)


def _order_section(*problem_needs_tracking: str) -> Section:
    return Section(
        "Order",
        (
            FieldSpec(
                "tiktok_order_id",
                "TikTok order id",
                FieldType.ORDER_ID,
                required_unless="affected_orders",
                prefill="order.external_id",
            ),
            FieldSpec(
                "our_order_id",
                "Sellerdesk order id",
                FieldType.OUR_ORDER,
                help="Our reference of the order, when Sellerdesk has it.",
                prefill="order.public_id",
            ),
            FieldSpec(
                "order_date",
                "Order date",
                FieldType.DATETIME,
                required_unless="affected_orders",
                help=PAST,
                prefill="order.placed_at",
            ),
            FieldSpec(
                "tracking_number",
                "Tracking number",
                required_when=("problem", problem_needs_tracking)
                if problem_needs_tracking
                else None,
                help="If the order has one.",
                prefill="order.tracking_number",
                max_length=128,
            ),
            FieldSpec(
                "affected_orders",
                "Affected TikTok order ids",
                FieldType.ORDER_IDS,
                help="When many orders are affected: one order id a line. Sellerdesk attaches "
                "orders.csv with what it knows of each.",
                prefill="orders.external_ids",
                max_length=20_000,
            ),
            FieldSpec(
                "orders_csv",
                "Your CSV of affected orders",
                FieldType.CSV,
                help="Optional: a CSV export of your own.",
            ),
        ),
    )


ORDER_SCREENSHOTS = Section(
    "Screenshots",
    (
        FieldSpec(
            "screenshot_here",
            "The order in Sellerdesk",
            FieldType.FILES,
            required=True,
            help=IMAGES_OR_PDF,
        ),
        FieldSpec(
            "screenshot_seller_center",
            "The order in Seller Center",
            FieldType.FILES,
            required=True,
            help=IMAGES_OR_PDF,
        ),
    ),
)

PRODUCT_SECTION = Section(
    "Product",
    (
        FieldSpec("product_name", "Product name", required=True, prefill="product.name"),
        FieldSpec("product_id", "TikTok product id", required=True, prefill="product.id"),
        FieldSpec("seller_sku", "Seller SKU", required=True, prefill="product.seller_sku"),
        FieldSpec(
            "error_message",
            "Error message",
            FieldType.LONG_TEXT,
            required=True,
            help=ERROR_HELP,
            prefill="store.error",
            max_length=5000,
        ),
    ),
)


ORDERS = Kind(
    key="orders",
    label="Orders",
    description="An order not syncing, one that cannot be fulfilled, or tracking not syncing.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("not_syncing", "Order not syncing"),
                    ("cannot_fulfil", "Cannot fulfil"),
                    ("tracking_not_syncing", "Tracking not syncing"),
                ),
            ),
        ),
        _order_section("tracking_not_syncing"),
        ORDER_SCREENSHOTS,
        NOTES,
    ),
    headline=("problem", "tiktok_order_id"),
    attaches_order_data=True,
)

REVERSE_ORDERS = Kind(
    key="reverse_orders",
    label="Reverse orders",
    description="A return or cancellation request missing, or an order that cannot be cancelled.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("return_missing", "Return request missing"),
                    ("cancel_missing", "Cancellation request missing"),
                    ("cannot_cancel", "Cannot cancel"),
                ),
            ),
        ),
        _order_section(),
        Section(
            "Return or cancellation",
            (
                FieldSpec(
                    "request_id",
                    "Return or cancellation id",
                    help="If TikTok shows one.",
                    prefill="after_sale.external_id",
                ),
                FieldSpec(
                    "request_reason",
                    "Return record / cancellation reason",
                    FieldType.LONG_TEXT,
                    required=True,
                    prefill="after_sale.reason",
                    max_length=2000,
                ),
            ),
        ),
        ORDER_SCREENSHOTS.with_fields(
            FieldSpec(
                "screenshot_return_record",
                "The return record",
                FieldType.FILES,
                help=IMAGES_OR_PDF,
            )
        ),
        NOTES,
    ),
    headline=("problem", "tiktok_order_id"),
    attaches_order_data=True,
)

PRODUCTS = Kind(
    key="products",
    label="Products",
    description="A product not syncing, wrong attributes, certification or image errors.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("not_syncing", "Product not syncing"),
                    ("attributes", "Attributes"),
                    ("certification", "Certification"),
                    ("image_errors", "Image errors"),
                ),
            ),
        ),
        PRODUCT_SECTION,
        screenshots_section(),
        NOTES,
    ),
    headline=("problem", "product_id"),
)

INVENTORY = Kind(
    key="inventory",
    label="Inventory",
    description="Stock that differs from TikTok's, or orders cancelled for no stock.",
    sections=(
        Section(
            "Problem",
            (
                problem(
                    ("stock_mismatch", "Stock mismatch"),
                    ("cancelled_no_stock", "Cancelled for no stock"),
                ),
            ),
        ),
        PRODUCT_SECTION.optional(keep=("product_name", "product_id", "seller_sku")),
        Section(
            "Stock",
            (
                FieldSpec(
                    "stock_here",
                    "Stock in Sellerdesk",
                    FieldType.COUNT,
                    required=True,
                    prefill="product.stock",
                ),
                FieldSpec("stock_tiktok", "Stock on TikTok", FieldType.COUNT, required=True),
            ),
        ),
        # Only if an order is involved; an order cancelled for no stock always is.
        Section(
            "Order",
            tuple(
                replace(spec.optional(), required_when=("problem", ("cancelled_no_stock",)))
                if spec.name == "tiktok_order_id"
                else spec.optional()
                for spec in _order_section().fields
            ),
        ),
        screenshots_section(),
        NOTES,
    ),
    headline=("problem", "product_id"),
    attaches_order_data=True,
)
