"""Snippets: exact rendering, the sandbox (nothing but whitelisted strings is reachable), errors
the author can read, the library services, and the starter library of every new tenant."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from inbox import services
from inbox.models import Snippet
from inbox.snippets import (
    PLACEHOLDERS,
    STARTER_SNIPPETS,
    SnippetError,
    render,
    snippet_context,
    snippet_render,
    starter_snippets_seed,
    validate_body,
)
from orders.models import OrderStatus
from tenants.models import Membership, Role
from tenants.services import user_signup
from tests.factories import TenantFactory
from tests.factories_catalog import CouponFactory, ProductFactory, ProductSkuFactory
from tests.factories_inbox import ConversationFactory, SnippetFactory
from tests.factories_marketplaces import (
    OrderFactory,
    OrderLineFactory,
    StoreAccessFactory,
    StoreFactory,
    member,
)

WHERE = (
    "Hi {{ buyer.name }}, order {{ order.id }} ({{ order.items }}, {{ order.total }}) is "
    "{{ order.status }} since {{ order.date }}: {{ order.carrier }} {{ order.tracking_number }}, "
    "{{ order.delivery_option }}. {{ agent.first_name }} / {{ agent.name }}, {{ store.name }}"
)


@pytest.fixture
def owner_membership(owner, tenant) -> Membership:
    owner.first_name, owner.last_name = "Olivia", "Owner"
    owner.save()
    return Membership.objects.get(user=owner, tenant=tenant)


@pytest.fixture
def agent_membership(agent, tenant) -> Membership:
    return Membership.objects.get(user=agent, tenant=tenant)


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Sunrise Outfitters")


@pytest.fixture
def order(store, tenant):
    tenant.time_zone = "America/New_York"
    tenant.save()
    order = OrderFactory(
        store=store,
        external_id="576469260282336209",
        status=OrderStatus.IN_TRANSIT,
        placed_at=datetime(2026, 11, 3, 2, 30, tzinfo=UTC),  # Nov 2 in New York
        currency="USD",
        total_amount=Decimal("1234.5"),
        shipping_provider="USPS",
        tracking_number="9400111899223344556677",
        delivery_option_name="Standard shipping",
    )
    OrderLineFactory(order=order, product_name="Socks")
    OrderLineFactory(order=order, product_name="Mug")
    OrderLineFactory(order=order, product_name="Socks")
    return order


@pytest.fixture
def ticket(store, order):
    return ConversationFactory(store=store, customer__buyer_user_id=order.buyer_user_id)


def test_rendering_fills_every_placeholder_exactly(owner_membership, ticket, order, tenant):
    snippet = SnippetFactory(tenant=tenant, body=WHERE)
    text = snippet_render(
        membership=owner_membership, snippet=snippet, conversation=ticket, order=order
    )
    assert text == (
        # The buyer reads "Hi there", never the masked label agents see.
        "Hi there, order 576469260282336209 (2 \u00d7 Socks, Mug, "
        "$1,234.50) is In transit since Nov 2, 2026: USPS 9400111899223344556677, Standard "
        "shipping. Olivia / Olivia Owner, Sunrise Outfitters"
    )


def test_missing_shipping_details_read_as_words_and_other_currencies_keep_their_symbol(tenant):
    order = OrderFactory(
        store=StoreFactory(tenant=tenant, name="Maomao GB"),
        status=OrderStatus.AWAITING_SHIPMENT,
        currency="GBP",
        total_amount=Decimal("12"),
    )
    OrderLineFactory(order=order, product_name="Lip balm", tracking_number="")
    context = snippet_context(tenant=tenant, order=order)
    assert context["order"]["total"] == "\u00a312.00"
    assert context["order"]["status"] == "Awaiting shipment"
    assert context["order"]["items"] == "Lip balm"
    assert context["order"]["carrier"] == "not available yet"
    assert context["order"]["tracking_number"] == "not available yet"
    assert context["store"] == {"name": "Maomao GB"}


def test_the_context_holds_plain_strings_only(owner_membership, ticket, order, tenant):
    context = snippet_context(
        tenant=tenant, order=order, customer=ticket.customer, agent=owner_membership.user
    )
    assert sorted(context) == ["agent", "buyer", "order", "store"]
    for group, values in context.items():
        assert type(values) is dict
        for field, value in values.items():
            assert type(value) is str, (group, field)
            assert f"{group}.{field}" in PLACEHOLDERS


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "{{ order.store.tenant.memberships }}",
            "{{ order.store.tenant.memberships }} is not a placeholder. Placeholders look like "
            "{{ order.id }}: a group, a dot and a field, with no filters or tags.",
        ),
        (
            "{{ order.__class__ }}",
            "{{ order.__class__ }} is not a known placeholder. Use one of: "
            + ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS)
            + ".",
        ),
        (
            "{{ order.raw }}",
            "{{ order.raw }} is not a known placeholder. Use one of: "
            + ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS)
            + ".",
        ),
        (
            "{{ order.id|upper }}",
            "{{ order.id|upper }} is not a placeholder. Placeholders look like {{ order.id }}: "
            "a group, a dot and a field, with no filters or tags.",
        ),
        (
            "{% debug %}",
            "Tags like {% \u2026 %} and comments {# \u2026 #} are not allowed in snippets.",
        ),
        (
            "{% include 'x.html' %}{{ order.id }}",
            "Tags like {% \u2026 %} and comments {# \u2026 #} are not allowed in snippets.",
        ),
        ("Order {{ order.id", "A placeholder is opened with {{ but never closed with }}."),
        ("Order order.id }}", "There is a }} without a matching {{."),
        ("Order {{ }}", "There is an empty placeholder {{ }}."),
        (
            "{{ settings.secret_key }}",
            "{{ settings.secret_key }} is not a known placeholder. Use one of: "
            + ", ".join("{{ " + name + " }}" for name in PLACEHOLDERS)
            + ".",
        ),
    ],
)
def test_anything_outside_the_whitelist_is_a_clear_error(body, message, ticket, order, tenant):
    context = snippet_context(tenant=tenant, order=order, customer=ticket.customer)
    with pytest.raises(SnippetError) as on_render:
        render(body, context)
    with pytest.raises(SnippetError) as on_save:
        validate_body(body)
    assert str(on_render.value) == str(on_save.value) == message


def test_an_order_placeholder_without_an_order_says_to_pick_one(owner_membership, ticket, tenant):
    snippet = SnippetFactory(tenant=tenant, body="Your order {{ order.id }} is on its way")
    with pytest.raises(SnippetError) as caught:
        snippet_render(membership=owner_membership, snippet=snippet, conversation=ticket)
    assert str(caught.value) == "This snippet uses order details: pick an order first."


def test_rendering_refuses_other_tenants_and_stores(tenant, other_tenant, order, ticket):
    snippet = SnippetFactory(tenant=tenant, body="{{ order.id }}")
    stranger = member(other_tenant, Role.OWNER, "o@rival.test")
    with pytest.raises(PermissionDenied):
        snippet_render(membership=stranger, snippet=snippet, order=order)
    theirs = SnippetFactory(tenant=other_tenant, body="{{ order.id }}")
    owner_membership = Membership.objects.filter(tenant=tenant).first() or member(
        tenant, Role.OWNER
    )
    with pytest.raises(PermissionDenied):
        snippet_render(membership=owner_membership, snippet=theirs, order=order)
    limited = member(tenant, Role.AGENT, "limited@acme.test")
    StoreAccessFactory(store=StoreFactory(tenant=tenant), membership=limited)
    with pytest.raises(PermissionDenied):
        snippet_render(membership=limited, snippet=snippet, order=order)
    foreign_order = OrderFactory(store=StoreFactory(tenant=other_tenant))
    with pytest.raises(SnippetError, match="another organisation"):
        snippet_context(tenant=tenant, order=foreign_order)


def test_product_and_coupon_placeholders_fill_from_the_picked_ones(
    owner_membership, ticket, store, tenant
):
    product = ProductFactory(
        store=store,
        title="Short Boat Invisible Socks",
        external_id="1729592969712207008",
        min_price=Decimal("9.99"),
        max_price=Decimal("14.50"),
    )
    ProductSkuFactory(product=product, seller_sku="SOCK-W")
    ProductSkuFactory(product=product, seller_sku="")
    ProductSkuFactory(product=product, seller_sku="SOCK-B")
    coupon = CouponFactory(
        store=store,
        title="Chat $5 off",
        promo_code="CHAT5",
        # 03:00 UTC on Dec 1 is still Nov 30 in New York (the organisation's zone).
        claim_ends_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
    )
    snippet = SnippetFactory(
        tenant=tenant,
        body="{{ product.name }} ({{ product.sku }}) is {{ product.price }}: {{ product.link }}"
        " | {{ coupon.name }}: {{ coupon.offer }}, code {{ coupon.code }}, claim by "
        "{{ coupon.claim_by }}.",
    )
    text = snippet_render(
        membership=owner_membership,
        snippet=snippet,
        conversation=ticket,
        product=product,
        coupon=coupon,
    )
    assert text == (
        "Short Boat Invisible Socks (SOCK-W, SOCK-B) is $9.99 \u2013 $14.50: "
        "https://shop.tiktok.com/view/product/1729592969712207008 | Chat $5 off: $5.00 off on "
        "orders over $25.00, code CHAT5, claim by Nov 30, 2026."
    )
    # Nothing picked: said, never a blank.
    with pytest.raises(SnippetError) as caught:
        snippet_render(membership=owner_membership, snippet=snippet, conversation=ticket)
    assert str(caught.value) == (
        "This snippet uses product details: pick a product in the Products tab first."
    )
    # A coupon without a code or an end says so in words.
    plain = CouponFactory(store=store, promo_code="", claim_ends_at=None, percentage=Decimal(10))
    assert snippet_context(tenant=tenant, coupon=plain)["coupon"] == {
        "name": plain.title,
        "offer": "10% off on orders over $25.00",
        "code": "not available yet",
        "claim_by": "not available yet",
    }
    # Another store's product on this ticket, another organisation's coupon: refused.
    elsewhere = ProductFactory(store=StoreFactory(tenant=tenant))
    with pytest.raises(SnippetError, match="belongs to another store"):
        snippet_render(
            membership=owner_membership,
            snippet=snippet,
            conversation=ticket,
            product=elsewhere,
            coupon=coupon,
        )
    with pytest.raises(PermissionDenied):
        snippet_render(
            membership=owner_membership,
            snippet=snippet,
            product=product,
            coupon=CouponFactory(store=StoreFactory(tenant=TenantFactory())),
        )


# --- The library -------------------------------------------------------------------------------


def test_owners_create_update_and_delete_snippets(owner_membership, tenant):
    snippet = services.snippet_create(
        membership=owner_membership,
        title=" Tracking ",
        shortcut="/Tracking Info",
        body="Tracking: {{ order.tracking_number }}\r\n",
    )
    assert (snippet.title, snippet.shortcut, snippet.body, snippet.created_by) == (
        "Tracking",
        "tracking-info",
        "Tracking: {{ order.tracking_number }}",
        owner_membership.user,
    )
    updated = services.snippet_update(
        membership=owner_membership,
        snippet=snippet,
        title="Tracking number",
        shortcut="tracking",
        body="Carrier {{ order.carrier }}",
    )
    assert (updated.title, updated.shortcut, updated.body) == (
        "Tracking number",
        "tracking",
        "Carrier {{ order.carrier }}",
    )
    services.snippet_delete(membership=owner_membership, snippet=updated)
    assert Snippet.objects.filter(tenant=tenant).count() == 0


def test_a_snippet_with_mistakes_is_not_saved_and_says_why(owner_membership, tenant):
    SnippetFactory(tenant=tenant, shortcut="thanks")
    with pytest.raises(services.SnippetInvalidError) as caught:
        services.snippet_create(
            membership=owner_membership,
            title="",
            shortcut="thanks",
            body="Hi {{ buyer.email }}",
        )
    assert caught.value.errors["title"] == ["Give the snippet a title."]
    assert caught.value.errors["shortcut"] == ["Another snippet already uses the shortcut /thanks."]
    assert caught.value.errors["body"][0].startswith(
        "{{ buyer.email }} is not a known placeholder."
    )
    assert Snippet.objects.filter(tenant=tenant).count() == 1


def test_agents_use_snippets_but_cannot_change_the_library(agent_membership, tenant):
    snippet = SnippetFactory(tenant=tenant, body="Thanks from {{ store.name }}")
    with pytest.raises(PermissionDenied):
        services.snippet_create(membership=agent_membership, title="T", shortcut="t", body="x")
    with pytest.raises(PermissionDenied):
        services.snippet_update(
            membership=agent_membership, snippet=snippet, title="T", shortcut="t", body="x"
        )
    with pytest.raises(PermissionDenied):
        services.snippet_delete(membership=agent_membership, snippet=snippet)
    snippet.refresh_from_db()
    assert snippet.body == "Thanks from {{ store.name }}"


def test_another_tenants_snippet_cannot_be_changed(owner_membership, other_tenant):
    theirs = SnippetFactory(tenant=other_tenant, body="Ours")
    with pytest.raises(PermissionDenied):
        services.snippet_update(
            membership=owner_membership, snippet=theirs, title="x", shortcut="x", body="x"
        )
    with pytest.raises(PermissionDenied):
        services.snippet_delete(membership=owner_membership, snippet=theirs)
    theirs.refresh_from_db()
    assert theirs.body == "Ours"


# --- The starter library -----------------------------------------------------------------------


def test_a_new_tenant_gets_the_starter_library(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _, tenant = user_signup(
            email="new@shop.test",
            password="a-long-password-1",
            full_name="Nia New",
            organisation="New Shop",
        )
    # Inbox's four and triage's replies: one or more for every intent (triage.suggestions).
    assert list(Snippet.objects.filter(tenant=tenant).values_list("shortcut", "title")) == [
        ("cancel-order", "Cancel an order"),
        ("change-order", "Change an order (address, size, colour)"),
        ("coupon-help", "Coupons and discounts"),
        ("damaged-item", "Damaged, defective or wrong item"),
        ("delay-apology", "Delay apology"),
        ("how-can-we-help", "How can we help?"),
        ("payment-help", "Payment or invoice"),
        ("product-question", "Product question"),
        ("return-instructions", "Return instructions"),
        ("thanks", "Thanks"),
        ("where-is-my-order", "Where is my order?"),
    ]


def test_every_starter_snippet_is_valid_and_renders(owner_membership, ticket, order, tenant):
    assert starter_snippets_seed(tenant=tenant) == 4
    assert starter_snippets_seed(tenant=tenant) == 0  # idempotent
    where = Snippet.objects.get(tenant=tenant, shortcut="where-is-my-order")
    assert snippet_render(
        membership=owner_membership, snippet=where, conversation=ticket, order=order
    ) == (
        "Hi there, thanks for reaching out! Your order 576469260282336209 (2 \u00d7 Socks, Mug) "
        "is In transit. It ships with USPS, tracking number 9400111899223344556677. You can "
        "follow it in the TikTok app under Orders. Best, Olivia from Sunrise Outfitters"
    )
    for starter in STARTER_SNIPPETS:
        assert validate_body(starter["body"]) == starter["body"]
        snippet = Snippet.objects.get(tenant=tenant, shortcut=starter["shortcut"])
        assert snippet_render(
            membership=owner_membership, snippet=snippet, conversation=ticket, order=order
        )


def test_seeding_leaves_other_tenants_and_edited_snippets_alone(tenant, other_tenant):
    SnippetFactory(tenant=tenant, shortcut="thanks", title="Our thanks", body="Cheers!")
    assert starter_snippets_seed(tenant=tenant) == 3
    assert Snippet.objects.get(tenant=tenant, shortcut="thanks").body == "Cheers!"
    assert Snippet.objects.filter(tenant=other_tenant).count() == 0


def test_the_data_migration_seeds_the_same_library(tenant):
    migration = importlib.import_module("inbox.migrations.0002_starter_snippets")
    assert migration.STARTER_SNIPPETS == STARTER_SNIPPETS
