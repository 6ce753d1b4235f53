"""Fixtures for escalation tests: a store with a ticket about an order, files of each kind, and
a complete set of values for every kind (so that a test can remove exactly one thing)."""

from __future__ import annotations

import io
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from escalations.models import EscalationSettings
from inbox.models import ConversationOrder, OrderLinkSource
from tenants.models import Membership
from tests.factories_inbox import ConversationFactory, CustomerFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(color: str = "red", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png(name: str = "shot.png", color: str = "red") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(color), content_type="image/png")


def pdf(name: str = "record.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def not_an_image(name: str = "shot.png") -> SimpleUploadedFile:
    # A renamed executable: its name and declared type say PNG, its content does not.
    return SimpleUploadedFile(name, b"MZ\x90\x00" + b"\x00" * 200, content_type="image/png")


def days_ago(days: float) -> str:
    """A moment `days` ago as a datetime-local field submits it (the tenants here are UTC)."""
    return (timezone.now() - timedelta(days=days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def store(tenant):
    return StoreFactory(
        tenant=tenant,
        name="Acme US",
        external_shop_id="7494049642642441621",
        shop_code="USLCABC123",
        seller_name="Acme Outfitters LLC",
    )


@pytest.fixture
def other_store(tenant):
    return StoreFactory(tenant=tenant, name="Acme UK", external_shop_id="7494049642642449999")


@pytest.fixture
def order(store):
    order = OrderFactory(
        store=store,
        external_id="576461413038785752",
        tracking_number="1Z999AA10123456784",
        shipping_provider="UPS",
    )
    OrderLineFactory(
        order=order, product_id="1729587969112345", seller_sku="SOCK-RED-M", product_name="Socks"
    )
    OrderLineFactory(
        order=order, product_id="1729587969167890", seller_sku="CAP-BLK", product_name="Cap"
    )
    return order


@pytest.fixture
def ticket(store, order):
    customer = CustomerFactory(store=store, buyer_user_id=order.buyer_user_id)
    conversation = ConversationFactory(store=store, customer=customer)
    ConversationOrder.objects.create(
        tenant=store.tenant,
        conversation=conversation,
        order=order,
        order_external_id=order.external_id,
        source=OrderLinkSource.ORDER_CARD,
    )
    return conversation


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    return Membership.objects.get(user=owner, tenant=tenant)


@pytest.fixture
def recipient(tenant) -> str:
    EscalationSettings.objects.create(tenant=tenant, recipient_email="partner@support.example")
    return "partner@support.example"


def complete_values(kind: str) -> dict[str, Any]:
    """Every required value of `kind`, filled in correctly (files apart)."""
    order_fields = {
        "tiktok_order_id": "576461413038785752",
        "order_date": days_ago(3),
        "tracking_number": "1Z999AA10123456784",
    }
    appeal = {
        "appealed": "yes",
        "appeal_date": days_ago(4),
        "appeal_id": "APL-1",
        "appeal_status": "pending",
    }
    return {
        "violation": {
            "violation_type": "Counterfeit",
            "reason": "Listing flagged",
            "enforcement_type": "Listing removed",
            "violation_details": "The listing was removed although it is original.",
            "record_id": "REC-778",
            "record_created_at": days_ago(6),
            "related_to": "products",
            **appeal,
        },
        "orders": {"problem": "tracking_not_syncing", **order_fields},
        "reverse_orders": {
            "problem": "return_missing",
            **order_fields,
            "request_reason": "Buyer says the return was requested in the app.",
        },
        "products": {
            "problem": "attributes",
            "product_name": "Socks",
            "product_id": "1729587969112345",
            "seller_sku": "SOCK-RED-M",
            "error_message": "Attribute 'Material' is required",
        },
        "inventory": {
            "problem": "stock_mismatch",
            "product_name": "Socks",
            "product_id": "1729587969112345",
            "seller_sku": "SOCK-RED-M",
            "stock_here": "12",
            "stock_tiktok": "0",
        },
        "live": {"problem": "comments_not_shown", "live_at": days_ago(1)},
        "account_authorization": {
            "problem": "connect_error",
            "account_types": ["shop", "creator"],
            "account_email": "seller@acme.test",
            "error_message": "Authorization failed: 105002",
        },
        "linked_accounts": {
            "creator_name": "acme.creator",
            "creator_email": "creator@acme.test",
            "error_message": "Creator cannot be linked",
        },
        "application": {
            "application_date": days_ago(10),
            "application_status": "rejected",
            "application_reason": "Business licence unreadable",
            **appeal,
        },
    }[kind]


# The files each kind requires, by field.
REQUIRED_FILES = {
    "violation": ["violation_screenshots", "appeal_screenshots"],
    "orders": ["screenshot_here", "screenshot_seller_center"],
    "reverse_orders": ["screenshot_here", "screenshot_seller_center"],
    "products": [],
    "inventory": [],
    "live": [],
    "account_authorization": [],
    "linked_accounts": [],
    "application": ["appeal_screenshots"],
}
