"""The one check of an escalation, per kind: required fields, the fields required only in some
cases, the 72-hour rule, dates, files and orders. The page and API tests go through it too."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from escalations.kinds import KINDS
from escalations.validation import (
    CaseContext,
    EscalationInvalid,
    validate,
)
from marketplaces.models import StoreAccess
from tenants.models import Role
from tests.factories_marketplaces import OrderFactory, StoreFactory, member

from .conftest import (
    MINIMAL_PDF,
    REQUIRED_FILES,
    complete_values,
    not_an_image,
    pdf,
    png,
)

NOW = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)

# Written out here, not read from kinds.py: what each kind must refuse when nothing is filled in.
REQUIRED_WHEN_EMPTY = {
    "violation": {
        "violation_type",
        "reason",
        "enforcement_type",
        "violation_details",
        "record_id",
        "record_created_at",
        "related_to",
        "appealed",
        "violation_screenshots",
    },
    "orders": {
        "problem",
        "tiktok_order_id",
        "order_date",
        "screenshot_here",
        "screenshot_seller_center",
    },
    "reverse_orders": {
        "problem",
        "tiktok_order_id",
        "order_date",
        "request_reason",
        "screenshot_here",
        "screenshot_seller_center",
    },
    "products": {"problem", "product_name", "product_id", "seller_sku", "error_message"},
    "inventory": {
        "problem",
        "product_name",
        "product_id",
        "seller_sku",
        "stock_here",
        "stock_tiktok",
    },
    "live": {"problem", "live_at"},
    "account_authorization": {"problem", "account_types", "account_email", "error_message"},
    "linked_accounts": {"creator_name", "creator_email", "error_message"},
    "application": {"application_date", "application_status", "application_reason", "appealed"},
}


@pytest.fixture
def context(tenant, store):
    return CaseContext(
        tenant=tenant,
        store=store,
        membership=member(tenant, Role.OWNER),
        zone=zoneinfo.ZoneInfo("UTC"),
        now=datetime.now(UTC),
    )


def required_files(kind: str) -> dict[str, list]:
    return {name: [png(f"{name}.png")] for name in REQUIRED_FILES[kind]}


def errors_of(kind: str, values: dict, context: CaseContext, files=None, kept=None) -> dict:
    with pytest.raises(EscalationInvalid) as refused:
        validate(kind=KINDS[kind], values=values, files=files, kept=kept, context=context)
    return refused.value.errors


def test_the_nine_kinds_of_the_issue_exist():
    assert [kind.label for kind in KINDS.values()] == [
        "Violation",
        "Orders",
        "Reverse orders",
        "Products",
        "Inventory",
        "Live",
        "Account authorization",
        "Linked accounts",
        "Application",
    ]


@pytest.mark.parametrize("kind", list(REQUIRED_WHEN_EMPTY))
def test_an_empty_case_names_every_required_field(kind, context):
    errors = errors_of(kind, {}, context)
    assert set(errors) == REQUIRED_WHEN_EMPTY[kind]
    # Each message names its field by its label.
    for name, messages in errors.items():
        assert KINDS[kind].field(name).label in messages[0], (name, messages)


@pytest.mark.parametrize("kind", list(REQUIRED_WHEN_EMPTY))
def test_a_complete_case_passes_and_each_missing_value_is_named_alone(kind, context, order):
    values = complete_values(kind)
    clean = validate(kind=KINDS[kind], values=values, files=required_files(kind), context=context)
    assert set(values) <= set(clean.values)
    assert sorted(clean.files) == sorted(REQUIRED_FILES[kind])
    for name in values:
        if name not in REQUIRED_WHEN_EMPTY[kind]:
            continue
        without = {k: v for k, v in values.items() if k != name}
        errors = errors_of(kind, without, context, files=required_files(kind))
        assert list(errors) == [name], (name, errors)


def test_values_come_back_typed(context):
    values = {**complete_values("inventory"), "stock_here": " 12 ", "details": "a\r\nb"}
    clean = validate(kind=KINDS["inventory"], values=values, context=context)
    assert clean.values["stock_here"] == 12
    assert clean.values["stock_tiktok"] == 0
    assert clean.values["details"] == "a\nb"
    clean = validate(
        kind=KINDS["account_authorization"],
        values={**complete_values("account_authorization"), "account_types": ["creator", "shop"]},
        context=context,
    )
    assert clean.values["account_types"] == ["shop", "creator"]  # in the kind's order
    assert clean.values["account_email"] == "seller@acme.test"


def test_bad_values_are_refused_with_their_field_named(context):
    values = {
        **complete_values("inventory"),
        "stock_here": "-3",
        "problem": "teleported",
        "tiktok_order_id": "12ab",
    }
    errors = errors_of("inventory", values, context)
    assert errors == {
        "stock_here": ["Stock in Sellerdesk must be a whole number, zero or more."],
        "problem": ["Problem: choose one of Stock mismatch, Cancelled for no stock."],
        "tiktok_order_id": ["TikTok order id: 12ab is not a TikTok order id (digits)."],
    }
    errors = errors_of(
        "linked_accounts", {**complete_values("linked_accounts"), "creator_email": "nope"}, context
    )
    assert errors == {"creator_email": ["Creator account e-mail: nope is not an e-mail address."]}


# --- Fields required only sometimes --------------------------------------------------------


def test_an_appealed_violation_needs_the_appeal_and_its_id_defaults_to_the_record_id(context):
    values = complete_values("violation")
    for name in ("appeal_date", "appeal_status", "appeal_id"):
        values.pop(name)
    errors = errors_of("violation", values, context, files={"violation_screenshots": [png()]})
    assert errors == {
        "appeal_date": ["Appeal date is required when Appealed in Seller Center is Yes."],
        "appeal_status": ["Appeal status is required when Appealed in Seller Center is Yes."],
        "appeal_screenshots": ["The appeal is required when Appealed in Seller Center is Yes."],
    }
    values["appeal_status"] = "denied"
    values["appeal_date"] = "2026-09-01T10:00"
    clean = validate(
        kind=KINDS["violation"], values=values, files=required_files("violation"), context=context
    )
    assert clean.values["appeal_id"] == "REC-778"


def test_a_shipping_violation_needs_the_shipping_manifest(context):
    values = {**complete_values("violation"), "related_to": "shipping", "appeal_status": "denied"}
    errors = errors_of("violation", values, context, files=required_files("violation"))
    assert errors == {
        "shipping_manifest": ["Shipping manifest is required when Related to is Shipping."]
    }
    files = {**required_files("violation"), "shipping_manifest": [pdf("manifest.pdf")]}
    clean = validate(kind=KINDS["violation"], values=values, files=files, context=context)
    assert [(f.name, f.content_type) for f in clean.files["shipping_manifest"]] == [
        ("manifest.pdf", "application/pdf")
    ]


def test_tracking_is_required_only_when_tracking_does_not_sync(context):
    values = {**complete_values("orders"), "tracking_number": ""}
    files = required_files("orders")
    assert errors_of("orders", values, context, files=files) == {
        "tracking_number": ["Tracking number is required when Problem is Tracking not syncing."]
    }
    values["problem"] = "not_syncing"
    assert validate(kind=KINDS["orders"], values=values, files=files, context=context)


def test_many_orders_replace_the_single_order_fields(context):
    values = {
        "problem": "not_syncing",
        "affected_orders": "576461413038785752\n576461413038785753, 576461413038785752",
    }
    clean = validate(
        kind=KINDS["orders"], values=values, files=required_files("orders"), context=context
    )
    assert clean.values["affected_orders"] == ["576461413038785752", "576461413038785753"]
    assert "tiktok_order_id" not in clean.values


def test_an_order_cancelled_for_no_stock_needs_its_order(context):
    values = {**complete_values("inventory"), "problem": "cancelled_no_stock"}
    assert errors_of("inventory", values, context) == {
        "tiktok_order_id": ["TikTok order id is required when Problem is Cancelled for no stock."]
    }


# --- The 72-hour rule and dates -------------------------------------------------------------


def at(context: CaseContext, now: datetime) -> CaseContext:
    return CaseContext(context.tenant, context.store, context.membership, context.zone, now)


@pytest.mark.parametrize("kind", ["violation", "application"])
def test_a_pending_appeal_is_escalated_only_72_hours_after_it(kind, context):
    values = {
        **complete_values(kind),
        "appeal_date": "2026-09-12T10:00",
        "appeal_status": "pending",
        "record_created_at": "2026-09-10T10:00",
        "application_date": "2026-09-01T10:00",
    }
    values = {k: v for k, v in values.items() if k in KINDS[kind].field_names()}
    early = at(context, NOW)  # 71 hours after the appeal
    errors = errors_of(kind, values, early, files=required_files(kind))
    assert errors == {
        "appeal_date": [
            "Too early to escalate (Appeal date: a pending appeal is given 72 hours): you can "
            "escalate this from 15 Sep 2026, 10:00 (UTC)."
        ]
    }
    on_time = at(context, datetime(2026, 9, 15, 10, 0, tzinfo=UTC))
    assert validate(kind=KINDS[kind], values=values, files=required_files(kind), context=on_time)
    # A denied appeal may be escalated at once.
    denied = {**values, "appeal_status": "denied"}
    assert validate(kind=KINDS[kind], values=denied, files=required_files(kind), context=early)


def test_the_date_it_becomes_possible_is_said_in_the_organisations_zone(context):
    london = CaseContext(
        context.tenant, context.store, context.membership, zoneinfo.ZoneInfo("Europe/London"), NOW
    )
    values = {
        **complete_values("violation"),
        "appeal_date": "2026-09-12T10:30",  # typed in London: 09:30 UTC
        "record_created_at": "2026-09-10T10:00",
    }
    errors = errors_of("violation", values, london, files=required_files("violation"))
    assert errors["appeal_date"][0].endswith("you can escalate this from 15 Sep 2026, 10:30 (BST).")
    assert validate(
        kind=KINDS["violation"],
        values=values,
        files=required_files("violation"),
        context=at(london, datetime(2026, 9, 15, 9, 30, tzinfo=UTC)),
    )


def test_a_violation_never_appealed_is_refused(context):
    values = {**complete_values("violation"), "appealed": "no"}
    for name in ("appeal_date", "appeal_id", "appeal_status"):
        values.pop(name)
    errors = errors_of("violation", values, context, files={"violation_screenshots": [png()]})
    assert errors == {
        "appealed": [
            "Appeal in Seller Center first: a violation is escalated only once its appeal was "
            "denied, or is still pending 72 hours after it was made."
        ]
    }


def test_an_application_not_appealed_waits_72_hours_from_the_application(context):
    values = {
        "application_date": "2026-09-13T08:00",
        "application_status": "pending",
        "application_reason": "Still under review",
        "appealed": "no",
    }
    errors = errors_of("application", values, at(context, NOW))
    assert errors == {
        "application_date": [
            "Too early to escalate (Application date: TikTok is given 72 hours): you can "
            "escalate this from 16 Sep 2026, 08:00 (UTC)."
        ]
    }
    later = at(context, datetime(2026, 9, 16, 8, 0, tzinfo=UTC))
    assert validate(kind=KINDS["application"], values=values, context=later)


def test_a_date_in_the_future_is_refused(context):
    values = {
        **complete_values("violation"),
        "appeal_date": "2026-09-16T10:00",
        "record_created_at": "2026-09-10T10:00",
    }
    errors = errors_of("violation", values, at(context, NOW), files=required_files("violation"))
    assert errors == {
        "appeal_date": [
            "Appeal date cannot be in the future: 16 Sep 2026, 10:00 (UTC) is later than now."
        ]
    }
    errors = errors_of("live", {"problem": "comments_not_shown", "live_at": "13/09/2026"}, context)
    assert errors == {
        "live_at": ["Live date and time: enter a date and time like 2026-09-12 14:30."]
    }
    errors = errors_of(
        "live", {"problem": "comments_not_shown", "live_at": "0202-09-13T10:00"}, context
    )
    assert errors == {"live_at": ["Live date and time: 0202 is before TikTok Shop existed."]}


def test_an_api_date_with_an_offset_is_kept_as_that_moment(context):
    clean = validate(
        kind=KINDS["live"],
        values={"problem": "comments_not_shown", "live_at": "2026-09-14T10:00:00+02:00"},
        context=at(context, NOW),
    )
    assert clean.values["live_at"] == "2026-09-14T08:00:00+00:00"


# --- Files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k, files in REQUIRED_FILES.items() if files])
def test_a_file_that_is_not_an_image_or_pdf_is_refused_and_the_good_ones_kept(kind, context):
    first, *rest = REQUIRED_FILES[kind]
    files = {first: [png("good.png"), not_an_image("evil.png")], **{n: [pdf()] for n in rest}}
    with pytest.raises(EscalationInvalid) as refused:
        validate(kind=KINDS[kind], values=complete_values(kind), files=files, context=context)
    label = KINDS[kind].field(first).label
    assert refused.value.errors == {
        first: [f"{label}: evil.png is not an image (JPEG, PNG, GIF, WEBP) or a PDF."]
    }
    kept = {
        name: [(f.name, f.content_type) for f in checked]
        for name, checked in refused.value.files.items()
    }
    assert kept == {
        first: [("good.png", "image/png")],
        **{n: [("record.pdf", "application/pdf")] for n in rest},
    }


def test_files_are_judged_by_content_and_named_by_it(context):
    values = complete_values("products")
    files = {
        "screenshots": [
            SimpleUploadedFile("../../etc/passwd.gif", MINIMAL_PDF),  # a PDF, whatever its name
            SimpleUploadedFile("fake.pdf", b"%PDF-1.4 but no end"),
        ]
    }
    errors = errors_of("products", values, context, files=files)
    assert errors == {
        "screenshots": ["Screenshots: fake.pdf is not an image (JPEG, PNG, GIF, WEBP) or a PDF."]
    }
    files["screenshots"].pop()
    clean = validate(kind=KINDS["products"], values=values, files=files, context=context)
    assert [(f.name, f.content_type) for f in clean.files["screenshots"]] == [
        ("passwd.pdf", "application/pdf")
    ]


def test_file_limits_each_and_together(context):
    values = complete_values("products")
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF")
    assert errors_of("products", values, context, files={"screenshots": [big]}) == {
        "screenshots": ["Screenshots: files are limited to 10 MB; this one is 10.0 MB."]
    }
    six = {"screenshots": [png(f"{n}.png") for n in range(6)]}
    assert errors_of("products", values, context, files=six) == {
        "screenshots": ["Screenshots: at most 5 files."]
    }
    # Kept files count too: 4 kept + 2 new is 6.
    two = {"screenshots": [png("a.png"), png("b.png")]}
    assert errors_of("products", values, context, files=two, kept={"screenshots": [100] * 4}) == {
        "screenshots": ["Screenshots: at most 5 files."]
    }
    nine_mb = b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024) + b"\n%%EOF"
    files = {
        "screenshots": [SimpleUploadedFile("a.pdf", nine_mb), SimpleUploadedFile("b.pdf", nine_mb)]
    }
    errors = errors_of("products", values, context, files=files)
    assert errors == {
        "__all__": [
            "A case's files are limited to 18 MB together (they travel in one e-mail); these "
            "are 18.0 MB."
        ]
    }


def test_a_kept_screenshot_satisfies_a_required_one(context):
    values = complete_values("orders")
    clean = validate(
        kind=KINDS["orders"],
        values=values,
        files={"screenshot_here": [png()]},
        kept={"screenshot_seller_center": [1234]},
        context=context,
    )
    assert list(clean.files) == ["screenshot_here"]


def test_a_csv_must_be_text_that_parses(context):
    values = complete_values("orders")
    files = {
        **required_files("orders"),
        "orders_csv": [SimpleUploadedFile("mine.csv", b"id\n1\n2\n")],
    }
    clean = validate(kind=KINDS["orders"], values=values, files=files, context=context)
    assert [(f.name, f.content_type, f.data) for f in clean.files["orders_csv"]] == [
        ("mine.csv", "text/csv", b"id\n1\n2\n")
    ]
    files["orders_csv"] = [SimpleUploadedFile("mine.csv", b"\x89PNG\r\n\x1a\n\x00\x00")]
    assert errors_of("orders", values, context, files=files) == {
        "orders_csv": ["Your CSV of affected orders: mine.csv is not a CSV file (UTF-8 text)."]
    }


# --- Orders and organisations ---------------------------------------------------------------


def test_our_order_id_must_be_an_order_of_this_store_and_organisation(
    context, order, other_tenant, other_store
):
    values = {**complete_values("orders"), "our_order_id": str(order.public_id)}
    files = required_files("orders")
    clean = validate(kind=KINDS["orders"], values=values, files=files, context=context)
    assert clean.order == order

    foreign = OrderFactory(
        store=StoreFactory(tenant=other_tenant), external_id="576461413038785752"
    )
    values["our_order_id"] = str(foreign.public_id)
    assert errors_of("orders", values, context, files=files) == {
        "our_order_id": ["Sellerdesk order id: no such order in your organisation's stores."]
    }
    sibling = OrderFactory(store=other_store, external_id="576461413038785752")
    values["our_order_id"] = str(sibling.public_id)
    assert errors_of("orders", values, context, files=files) == {
        "our_order_id": ["Sellerdesk order id: that order is of Acme UK, not Acme US."]
    }
    values["our_order_id"] = str(order.public_id)
    values["tiktok_order_id"] = "576461413038785799"
    assert errors_of("orders", values, context, files=files) == {
        "tiktok_order_id": [
            "TikTok order id: Sellerdesk's order is 576461413038785752, not 576461413038785799."
        ]
    }


def test_tiktok_order_ids_of_another_store_are_refused_and_other_tenants_are_never_looked_at(
    context, other_store, other_tenant
):
    OrderFactory(store=other_store, external_id="576461413038700001")
    OrderFactory(store=StoreFactory(tenant=other_tenant), external_id="576461413038700002")
    values = {
        "problem": "not_syncing",
        "affected_orders": "576461413038700001\n576461413038700002",
    }
    files = required_files("orders")
    assert errors_of("orders", values, context, files=files) == {
        "affected_orders": [
            "Affected TikTok order ids: order 576461413038700001 is of Acme UK, not Acme US."
        ]
    }
    # Another organisation's order is as unknown as an order that never synced: accepted,
    # and nothing tells whether it exists.
    values["affected_orders"] = "576461413038700002"
    assert validate(kind=KINDS["orders"], values=values, files=files, context=context)


def test_an_agent_limited_to_other_stores_cannot_name_this_stores_orders(
    tenant, store, other_store, order
):
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=other_store)
    context = CaseContext(tenant, store, agent, zoneinfo.ZoneInfo("UTC"), datetime.now(UTC))
    values = {**complete_values("orders"), "our_order_id": str(order.public_id)}
    assert errors_of("orders", values, context, files=required_files("orders")) == {
        "our_order_id": ["Sellerdesk order id: no such order in your organisation's stores."]
    }


def test_fields_of_another_kind_are_refused(context):
    errors = errors_of(
        "live",
        {"problem": "comments_not_shown", "live_at": "2026-09-01T10:00", "record_id": "1"},
        context,
    )
    assert errors == {"record_id": ["record_id is not a field of Live cases."]}


def test_now_is_never_later_than_a_just_typed_time(context):
    # A datetime-local has minutes only: the current minute is not "in the future".
    just_now = (context.now - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M")
    assert validate(
        kind=KINDS["live"],
        values={"problem": "comments_not_shown", "live_at": just_now},
        context=context,
    )
