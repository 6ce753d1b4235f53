"""The escalation pages: picking a kind, the pre-filled form of each kind, a refused form that
keeps everything, drafts, submitting as e-mail, the status flow with notes, the printable page,
the list, the setting, and the Escalate entries on tickets, orders and stores."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from escalations.kinds import KINDS
from escalations.models import (
    Escalation,
    EscalationAttachment,
    EscalationSettings,
    EscalationStatus,
)
from inbox.models import ConversationOrder, OrderLinkSource
from marketplaces.models import StoreAccess
from tenants.models import Role
from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import (
    OrderFactory,
    OrderLineFactory,
    ReturnFactory,
    member,
)

from .conftest import REQUIRED_FILES, complete_values, not_an_image, pdf, png, png_bytes

pytestmark = pytest.mark.django_db

SYNC_ERROR = "Order sync failed: 36009004 invalid access token"


@pytest.fixture
def boss(tenant):
    return member(tenant, Role.OWNER, email="boss@acme.test")


@pytest.fixture
def boss_client(client, boss):
    client.force_login(boss.user)
    return client


def html(response) -> str:
    return response.content.decode()


def new_url(kind: str | None = None, **source: object) -> str:
    params = {"kind": kind} if kind else {}
    params.update({k: str(v) for k, v in source.items()})
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("escalation_new") + (f"?{query}" if query else "")


def files_for(kind: str) -> dict[str, list]:
    return {name: [png(f"{name}.png")] for name in REQUIRED_FILES[kind]}


def create(client, kind: str, *, values: dict | None = None, files=None, **source) -> Escalation:
    data = {
        **(values if values is not None else complete_values(kind)),
        **(files or files_for(kind)),
    }
    response = client.post(new_url(kind, **source), data)
    assert response.status_code == 302, (
        response.context["form"].errors if response.context else response
    )
    return Escalation.objects.order_by("-id").first()


# --- Choosing a kind and pre-filling ------------------------------------------------------------


def test_the_kind_picker_lists_every_kind_and_keeps_where_it_came_from(boss_client, ticket):
    page = html(boss_client.get(new_url(ticket=ticket.public_id)))
    for kind in KINDS.values():
        assert f'href="/escalations/new/?kind={kind.key}&amp;ticket={ticket.public_id}"' in page
        assert kind.label in page
    assert f"Escalating ticket #{ticket.number} of Acme US." in page


def _prefill(order) -> dict[str, dict[str, str]]:
    placed = timezone.localtime(order.placed_at, timezone.get_fixed_timezone(0))
    order_fields = {
        "tiktok_order_id": "576461413038785752",
        "our_order_id": str(order.public_id),
        "order_date": placed.strftime("%Y-%m-%dT%H:%M"),
        "tracking_number": "1Z999AA10123456784",
    }
    product = {
        "product_name": "Socks, Cap",
        "product_id": "1729587969112345, 1729587969167890",
        "seller_sku": "SOCK-RED-M, CAP-BLK",
        "error_message": SYNC_ERROR,
    }
    return {
        "violation": {},
        "orders": order_fields,
        "reverse_orders": order_fields,
        "products": product,
        "inventory": {**product, **order_fields},
        "live": {},
        "account_authorization": {"error_message": SYNC_ERROR},
        "linked_accounts": {},
        "application": {},
    }


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("source", ["ticket", "order"])
def test_each_kind_is_prefilled_with_what_we_know(kind, source, boss_client, store, ticket, order):
    store.last_error = SYNC_ERROR
    store.last_error_at = timezone.now()
    store.save()
    target = ticket if source == "ticket" else order
    response = boss_client.get(new_url(kind, **{source: target.public_id}))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == _prefill(order)[kind]
    # Exactly this kind's fields, and the store is the ticket's (no store field to choose).
    assert list(form.fields) == KINDS[kind].field_names()
    page = html(response)
    assert "7494049642642441621" in page  # the store's TikTok shop id


def test_a_store_prefills_its_newest_sync_or_authorization_error(boss_client, store):
    from marketplaces.models import SyncJob, SyncKind

    store.last_error = "Token refresh failed"
    store.last_error_at = timezone.now() - timedelta(hours=2)
    store.save()
    SyncJob.objects.create(
        tenant=store.tenant,
        store=store,
        kind=SyncKind.ORDERS,
        range_start=timezone.now() - timedelta(days=90),
        range_end=timezone.now(),
        status="failed",
        last_error="Orders window 12 Sep failed: 36009002 rate limited",
        last_error_at=timezone.now() - timedelta(hours=1),
    )
    form = boss_client.get(new_url("products", store=store.public_id)).context["form"]
    assert form.initial == {"error_message": "Orders window 12 Sep failed: 36009002 rate limited"}
    store.status = "needs_reauth"
    store.status_reason = "TikTok Shop revoked the authorization"
    store.save()
    form = boss_client.get(new_url("account_authorization", store=store.public_id)).context["form"]
    assert form.initial == {"error_message": "TikTok Shop revoked the authorization"}


def test_inventory_prefills_our_stock_and_products_their_catalog_sync_error(
    boss_client, store, tenant
):
    from orders.models import CatalogSync, Product

    order = OrderFactory(store=store, external_id="576461413038785801")
    OrderLineFactory(order=order, product_id="1729587969112345", seller_sku="SOCK-RED-M")
    OrderLineFactory(order=order, product_id="1729587969112345", seller_sku="SOCK-RED-L")
    Product.objects.create(
        tenant=tenant,
        store=store,
        external_id="1729587969112345",
        title="Socks",
        status="ACTIVATE",
        stock=7,
    )
    store.last_error = "Token refresh failed"
    store.last_error_at = timezone.now() - timedelta(hours=2)
    store.save()
    CatalogSync.objects.create(
        tenant=tenant,
        store=store,
        last_error="Products page failed: 12052048 product not found",
        last_error_at=timezone.now() - timedelta(minutes=5),
    )
    form = boss_client.get(new_url("inventory", order=order.public_id)).context["form"]
    assert form.initial["stock_here"] == 7
    assert form.initial["product_id"] == "1729587969112345"
    assert form.initial["seller_sku"] == "SOCK-RED-M, SOCK-RED-L"
    assert form.initial["error_message"] == "Products page failed: 12052048 product not found"


def test_a_ticket_about_several_orders_prefills_them_all_and_the_return(
    boss_client, store, ticket, order
):
    second = OrderFactory(store=store, external_id="576461413038785800")
    ConversationOrder.objects.create(
        tenant=store.tenant,
        conversation=ticket,
        order=second,
        order_external_id=second.external_id,
        source=OrderLinkSource.MANUAL,
    )
    ReturnFactory(
        store=store,
        order_external_id=order.external_id,
        external_id="4035318504086700001",
        reason_text="Buyer asked for a return in the app",
    )
    form = boss_client.get(new_url("reverse_orders", ticket=ticket.public_id)).context["form"]
    assert form.initial["affected_orders"] == "576461413038785752\n576461413038785800"
    assert form.initial["tiktok_order_id"] == "576461413038785752"
    assert form.initial["request_id"] == "4035318504086700001"
    assert form.initial["request_reason"] == "Buyer asked for a return in the app"


def test_without_a_source_the_store_is_chosen_on_the_form(boss_client, store, other_store):
    form = boss_client.get(new_url("live")).context["form"]
    assert list(form.fields) == ["store", "problem", "live_at", "screenshots", "details"]
    assert form.initial == {}
    response = boss_client.post(new_url("live"), complete_values("live"))
    assert response.status_code == 400
    assert "Store is required." in html(response)
    case = create(
        boss_client, "live", values={**complete_values("live"), "store": str(other_store.public_id)}
    )
    assert case.store == other_store


# --- A refused form keeps everything ------------------------------------------------------------


def test_a_refused_form_names_each_problem_and_keeps_values_and_files(boss_client, ticket, order):
    url = new_url("orders", ticket=ticket.public_id)
    values = {**complete_values("orders"), "order_date": "", "tracking_number": "TRACK-KEEP-ME"}
    response = boss_client.post(
        url,
        {
            **values,
            "screenshot_here": [png("here.png")],
            "screenshot_seller_center": [not_an_image("center.png")],
        },
    )
    assert response.status_code == 400
    page = html(response)
    assert "Order date is required unless Affected TikTok order ids is filled in." in page
    assert (
        "The order in Seller Center: center.png is not an image (JPEG, PNG, GIF, WEBP) or a PDF."
        in page
    )
    assert 'value="TRACK-KEEP-ME"' in page  # what was typed stays
    assert Escalation.objects.count() == 0
    staged = EscalationAttachment.objects.get()
    assert (staged.escalation, staged.field, staged.name) == (None, "screenshot_here", "here.png")
    assert f'name="keep" value="{staged.public_id}" checked' in page

    # Sent again with the kept file and a real screenshot: one case, both files.
    response = boss_client.post(
        url,
        {
            **values,
            "order_date": "2026-09-12T08:00",
            "keep": [str(staged.public_id)],
            "screenshot_seller_center": [pdf("center.pdf")],
        },
    )
    assert response.status_code == 302
    case = Escalation.objects.get()
    assert sorted(case.attachments.values_list("field", "name")) == [
        ("screenshot_here", "here.png"),
        ("screenshot_seller_center", "center.pdf"),
    ]
    assert (case.conversation, case.order, case.status) == (ticket, order, EscalationStatus.DRAFT)
    assert case.values["tracking_number"] == "TRACK-KEEP-ME"


def test_someone_elses_staged_file_cannot_be_kept(boss_client, tenant, ticket):
    other = member(tenant, Role.AGENT)
    staged = EscalationAttachment.objects.create(
        tenant=tenant,
        field="screenshot_here",
        name="x.png",
        content_type="image/png",
        size=3,
        uploaded_by=other.user,
        file="escalations/x.png",
    )
    values = {**complete_values("orders"), "keep": [str(staged.public_id)]}
    response = boss_client.post(
        new_url("orders", ticket=ticket.public_id),
        {**values, "screenshot_seller_center": [png()]},
    )
    assert response.status_code == 400
    assert "The order in Sellerdesk is required." in html(response)


# --- Drafts, e-mail and the printable page --------------------------------------------------------


def test_a_draft_shows_every_field_under_its_heading(boss_client, ticket):
    case = create(boss_client, "orders", ticket=ticket.public_id)
    page = html(boss_client.get(reverse("escalation_detail", args=[case.public_id])))
    for heading in ("Case", "Store", "Problem", "Order", "Screenshots", "Notes"):
        assert f">{heading}</h2>" in page
    for spec in KINDS["orders"].fields():
        assert f"<dt>{spec.label}</dt>" in page
    assert "Tracking not syncing" in page
    assert "No escalation address is set" in page
    assert 'class="btn btn-primary">Submit to' not in page


def test_submit_emails_every_field_and_every_file(boss_client, boss, ticket, order, recipient):
    case = create(
        boss_client,
        "orders",
        ticket=ticket.public_id,
        values={
            **complete_values("orders"),
            "our_order_id": str(order.public_id),
            "affected_orders": "576461413038785752\n576461413038785999",
        },
        files={
            "screenshot_here": [png("shot.png")],
            "screenshot_seller_center": [png("shot.png", "blue"), pdf("center.pdf")],
        },
    )
    response = boss_client.post(reverse("escalation_submit", args=[case.public_id]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["partner@support.example"]
    assert sent.reply_to == ["boss@acme.test"]
    assert sent.subject == (
        f"[{case.reference}] Orders: Tracking not syncing \N{EM DASH} Acme US "
        "(shop 7494049642642441621)"
    )
    body = sent.body
    for line in (
        "CASE",
        f"Reference: {case.reference}",
        "STORE",
        "TikTok shop id: 7494049642642441621",
        "Shop code: USLCABC123",
        "PROBLEM",
        "Problem: Tracking not syncing",
        "ORDER",
        "TikTok order id: 576461413038785752",
        f"Sellerdesk order id: {order.public_id}",
        "Tracking number: 1Z999AA10123456784",
        "576461413038785999",
        "Your CSV of affected orders: \N{EM DASH}",
        "SCREENSHOTS",
        "The order in Sellerdesk: shot.png",
        "The order in Seller Center: shot-2.png, center.pdf",
        "Anything else the partner should know: \N{EM DASH}",
        "Files attached: shot.png, shot-2.png, center.pdf, orders.csv",
    ):
        assert line in body, line
    html_body, html_type = sent.alternatives[0]
    assert html_type == "text/html"
    assert "<h2" in html_body and "Tracking not syncing" in html_body
    names = [(name, content_type) for name, _, content_type in sent.attachments]
    assert names == [
        ("shot.png", "image/png"),
        ("shot-2.png", "image/png"),
        ("center.pdf", "application/pdf"),
        ("orders.csv", "text/csv"),
    ]
    assert sent.attachments[0][1] == png_bytes("red")
    csv_text = sent.attachments[3][1]  # text attachments come back as str
    rows = csv_text.splitlines()
    assert rows[0].startswith("tiktok_order_id,sellerdesk_order_id,order_date,status")
    assert rows[1].startswith(f"576461413038785752,{order.public_id},")
    assert "1Z999AA10123456784,SOCK-RED-M | CAP-BLK,1729587969112345 | 1729587969167890" in rows[1]
    assert rows[2] == "576461413038785999,,,not in Sellerdesk,,,,,,"

    case.refresh_from_db()
    assert (case.status, case.submitted_to) == (
        EscalationStatus.SUBMITTED,
        "partner@support.example",
    )
    assert list(case.events.values_list("kind", flat=True)) == ["created", "submitted"]
    # A second press sends nothing more.
    boss_client.post(reverse("escalation_submit", args=[case.public_id]))
    assert len(mail.outbox) == 1
    # And the case can no longer be edited.
    response = boss_client.get(reverse("escalation_edit", args=[case.public_id]))
    assert response.status_code == 302


def test_without_an_address_nothing_is_sent(boss_client, ticket):
    case = create(boss_client, "orders", ticket=ticket.public_id)
    response = boss_client.post(reverse("escalation_submit", args=[case.public_id]), follow=True)
    assert "No escalation address is set" in html(response)
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.status == EscalationStatus.DRAFT


def test_a_failed_send_keeps_the_draft_and_says_why(boss_client, ticket, recipient):
    case = create(boss_client, "orders", ticket=ticket.public_id)
    refused = smtplib.SMTPRecipientsRefused({"partner@support.example": (550, b"no such user")})
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=refused):
        response = boss_client.post(
            reverse("escalation_submit", args=[case.public_id]), follow=True
        )
    assert "could not be sent (SMTPRecipientsRefused" in html(response)
    case.refresh_from_db()
    assert (case.status, case.submitting_since) == (EscalationStatus.DRAFT, None)
    assert list(case.events.values_list("kind", flat=True)) == ["created", "send_failed"]
    # It goes once the server takes it.
    boss_client.post(reverse("escalation_submit", args=[case.public_id]))
    assert len(mail.outbox) == 1


def test_the_printable_page_lists_every_field_and_shows_screenshots(boss_client, ticket):
    case = create(
        boss_client,
        "violation",
        values={**complete_values("violation"), "appeal_status": "denied"},
        ticket=ticket.public_id,
    )
    attachment = case.attachments.get(field="violation_screenshots")
    page = html(boss_client.get(reverse("escalation_print", args=[case.public_id])))
    assert 'href="/static/css/escalation-print.css"' in page
    for spec in KINDS["violation"].fields():
        assert f"<dt>{spec.label}</dt>" in page
    assert f'src="/escalations/{case.public_id}/files/{attachment.public_id}/"' in page
    assert "style=" not in page and "<style" not in page and "onclick" not in page
    assert "REC-778" in page  # the appeal id defaulted to the record id


def test_files_open_for_the_team_only_and_pdfs_download(boss_client, ticket, recipient):
    case = create(
        boss_client,
        "orders",
        ticket=ticket.public_id,
        files={"screenshot_here": [png()], "screenshot_seller_center": [pdf()]},
    )
    image = case.attachments.get(field="screenshot_here")
    document = case.attachments.get(field="screenshot_seller_center")
    response = boss_client.get(reverse("escalation_file", args=[case.public_id, image.public_id]))
    assert (response["Content-Type"], b"".join(response.streaming_content)) == (
        "image/png",
        png_bytes(),
    )
    assert not response.get("Content-Disposition", "").startswith("attachment")
    response = boss_client.get(
        reverse("escalation_file", args=[case.public_id, document.public_id])
    )
    assert response["Content-Disposition"] == 'attachment; filename="record.pdf"'


# --- Editing -----------------------------------------------------------------------------------


def test_editing_a_draft_changes_values_and_files(boss_client, ticket):
    case = create(
        boss_client,
        "orders",
        ticket=ticket.public_id,
        files={
            "screenshot_here": [png("a.png")],
            "screenshot_seller_center": [png("b.png"), png("c.png")],
        },
    )
    form = boss_client.get(reverse("escalation_edit", args=[case.public_id])).context["form"]
    assert form.initial["tiktok_order_id"] == "576461413038785752"
    keep = [str(a.public_id) for a in case.attachments.exclude(name="c.png")]
    response = boss_client.post(
        reverse("escalation_edit", args=[case.public_id]),
        {
            **complete_values("orders"),
            "problem": "cannot_fulfil",
            "keep": keep,
            "screenshot_here": [png("d.png")],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.values["problem"] == "cannot_fulfil"
    assert case.summary == "Cannot fulfil \N{MIDDLE DOT} 576461413038785752"
    assert sorted(case.attachments.values_list("name", flat=True)) == ["a.png", "b.png", "d.png"]
    # Unticking the only screenshot of a required field is refused, and nothing is removed.
    only = [str(a.public_id) for a in case.attachments.filter(field="screenshot_here")]
    response = boss_client.post(
        reverse("escalation_edit", args=[case.public_id]),
        {**complete_values("orders"), "keep": only},
    )
    assert response.status_code == 400
    assert "The order in Seller Center is required." in html(response)
    assert case.attachments.count() == 3


# --- Status, notes, history ------------------------------------------------------------------


def test_the_status_flow_with_notes_and_history(boss_client, boss, ticket, recipient):
    case = create(boss_client, "orders", ticket=ticket.public_id)
    status_url = reverse("escalation_status", args=[case.public_id])
    # A draft becomes submitted only by submitting it.
    page = html(boss_client.post(status_url, {"status": "submitted"}, follow=True))
    assert "Submit the case to send it" in page
    boss_client.post(reverse("escalation_submit", args=[case.public_id]))
    boss_client.post(status_url, {"status": "waiting", "note": "Partner ticket #4411"})
    boss_client.post(
        reverse("escalation_note", args=[case.public_id]), {"body": "They asked for the invoice."}
    )
    boss_client.post(status_url, {"status": "rejected", "note": "Needs the invoice"})
    case.refresh_from_db()
    assert case.status == EscalationStatus.REJECTED
    assert case.closed_at is not None
    page = html(boss_client.post(status_url, {"status": "resolved"}, follow=True))
    assert "A case that is rejected cannot become resolved." in page
    boss_client.post(status_url, {"status": "draft", "note": "Adding the invoice"})
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (EscalationStatus.DRAFT, None)
    assert boss_client.get(reverse("escalation_edit", args=[case.public_id])).status_code == 200

    history = list(case.events.values_list("kind", "from_status", "to_status", "body"))
    assert history == [
        ("created", "", "draft", ""),
        ("submitted", "draft", "submitted", "E-mailed to partner@support.example"),
        ("status", "submitted", "waiting", "Partner ticket #4411"),
        ("note", "", "", "They asked for the invoice."),
        ("status", "waiting", "rejected", "Needs the invoice"),
        ("status", "rejected", "draft", "Adding the invoice"),
    ]
    page = html(boss_client.get(reverse("escalation_detail", args=[case.public_id])))
    assert "changed the status from Waiting on partner to <strong>Rejected</strong>" in page
    assert "They asked for the invoice." in page


def test_an_empty_note_is_refused(boss_client, ticket):
    case = create(boss_client, "orders", ticket=ticket.public_id)
    page = html(
        boss_client.post(
            reverse("escalation_note", args=[case.public_id]), {"body": "  "}, follow=True
        )
    )
    assert "Write a note first" in page
    assert case.events.count() == 1


# --- Where Escalate is offered, and where cases show --------------------------------------------


def test_the_ticket_offers_escalate_and_its_workbench_shows_its_cases(boss_client, ticket, store):
    page = html(boss_client.get(reverse("ticket_detail", args=[ticket.public_id])))
    # Escalate… in the ticket bar's More menu; no cases yet, so nothing in the workbench.
    assert f'href="/escalations/new/?ticket={ticket.public_id}"' in page
    assert 'id="ticket-escalations"' not in page
    case = create(boss_client, "orders", ticket=ticket.public_id)
    other = ConversationFactory(store=store)
    create(boss_client, "live", ticket=other.public_id)
    page = html(boss_client.get(reverse("ticket_detail", args=[ticket.public_id])))
    section = page.split('id="ticket-escalations"', 1)[1].split("</section>", 1)[0]
    assert section.count("data-escalation=") == 1
    assert f'data-escalation="{case.public_id}"' in section
    assert '<span class="pill pill-neutral">Draft</span>' in section
    # The list filtered to this ticket (the link a ticket with many cases shows).
    page = html(boss_client.get(reverse("escalation_list"), {"ticket": str(ticket.public_id)}))
    assert page.count('<tr id="escalation-') == 1
    assert f"Ticket #{ticket.number}" in page
    # Its time as app.js writes it ("now" for a case just made), the exact time on hover.
    assert re.search(r'data-relative="short" title="\d+ \w{3} \d{4}, [^"]+">now</time>', page)


def test_the_workbench_costs_one_query_more_whatever_the_cases(
    boss_client, ticket, django_assert_num_queries
):
    from escalations.selectors import escalations_of_conversation

    create(boss_client, "orders", ticket=ticket.public_id)
    with django_assert_num_queries(1):
        assert len(escalations_of_conversation(tenant=ticket.tenant, conversation=ticket)) == 1
    for _ in range(7):
        Escalation.objects.create(
            tenant=ticket.tenant, store=ticket.store, kind="live", conversation=ticket
        )
    with django_assert_num_queries(1):
        assert len(escalations_of_conversation(tenant=ticket.tenant, conversation=ticket)) == 5
    page = html(boss_client.get(reverse("ticket_detail", args=[ticket.public_id])))
    assert f'href="/escalations/?ticket={ticket.public_id}"' in page


def test_the_order_page_and_the_stores_page_offer_escalate(boss_client, store, order, ticket):
    page = html(boss_client.get(reverse("order_detail", args=[order.public_id])))
    assert f'href="/escalations/new/?order={order.public_id}"' in page
    case = create(boss_client, "orders", order=order.public_id)
    assert case.order == order and case.conversation is None
    page = html(boss_client.get(reverse("order_detail", args=[order.public_id])))
    assert case.reference in page
    page = html(boss_client.get(reverse("store_list")))
    assert f'href="/escalations/new/?store={store.public_id}"' in page


# --- The list ------------------------------------------------------------------------------------


def test_the_list_filters_and_its_queries_do_not_grow(
    boss_client, store, other_store, ticket, django_assert_num_queries
):
    first = create(boss_client, "orders", ticket=ticket.public_id)
    second = create(boss_client, "live", store=other_store.public_id)
    url = reverse("escalation_list")
    page = html(boss_client.get(url))
    rows = [f'id="escalation-{case.public_id}"' for case in (second, first)]
    assert page.index(rows[0]) < page.index(rows[1])  # newest first
    assert f"#{ticket.number}" in page
    only_live = html(boss_client.get(url, {"kind": "live"}))
    assert second.reference in only_live and first.reference not in only_live
    uk = html(boss_client.get(url, {"store": str(other_store.public_id)}))
    assert second.reference in uk and first.reference not in uk
    drafts = html(boss_client.get(url, {"status": "resolved"}))
    assert "No cases match these filters" in drafts

    with CaptureQueriesContext(connection) as few:
        boss_client.get(url)
    for _ in range(15):
        Escalation.objects.create(
            tenant=store.tenant,
            store=store,
            kind="orders",
            conversation=ConversationFactory(store=store),
            summary="x",
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = boss_client.get(url)
    assert html(response).count('<tr id="escalation-') == 17


def _cases(tenant, stores, count, *, at):
    """`count` cases over `stores`, three at a time created at the same moment (the id breaks
    the tie), each about its own ticket."""
    return Escalation.objects.bulk_create(
        Escalation(
            tenant=tenant,
            store=stores[n % len(stores)],
            kind="orders" if n % 2 else "live",
            status=EscalationStatus.DRAFT if n % 3 else EscalationStatus.WAITING,
            conversation=ConversationFactory(store=stores[n % len(stores)]),
            summary=f"case {n}",
            created_at=at - timedelta(minutes=n // 3),
        )
        for n in range(count)
    )


def _pages(client, query: dict[str, str]) -> list[str]:
    """The row ids of every page of the list, in the order shown."""
    shown, number = [], 1
    while True:
        page = html(client.get(reverse("escalation_list"), {**query, "page": number}))
        shown += re.findall(r'<tr id="escalation-([0-9a-f-]+)"', page)
        if f"page={number + 1}" not in page:
            return shown
        number += 1


def test_every_page_of_the_list_reads_the_ids_from_the_index_then_its_rows(
    boss_client, store, other_store, tenant, django_assert_num_queries
):
    now = timezone.now()
    cases = _cases(tenant, [store, other_store], 130, at=now)
    newest_first = sorted(cases, key=lambda case: (case.created_at, case.id), reverse=True)
    url = reverse("escalation_list")
    assert _pages(boss_client, {}) == [str(case.public_id) for case in newest_first]
    # Filters across pages keep the order and only their cases.
    for query, kept in (
        ({"status": "waiting"}, lambda case: case.status == "waiting"),
        ({"kind": "live"}, lambda case: case.kind == "live"),
        ({"store": str(other_store.public_id)}, lambda case: case.store_id == other_store.pk),
    ):
        assert _pages(boss_client, query) == [
            str(case.public_id) for case in newest_first if kept(case)
        ]

    with CaptureQueriesContext(connection) as first:
        boss_client.get(url)
    with CaptureQueriesContext(connection) as last:
        boss_client.get(url, {"page": 3})
    assert len(last.captured_queries) == len(first.captured_queries)
    # A deferred join: the OFFSET runs over ids alone (the list's index, no join, no sort of the
    # rows), then the page's rows are read with their store and ticket by id.
    deep = [q["sql"] for q in last.captured_queries if "OFFSET 100" in q["sql"]]
    assert len(deep) == 1
    assert deep[0].startswith('SELECT "escalations_escalation"."id"') and "JOIN" not in deep[0]
    _cases(tenant, [store], 60, at=now - timedelta(days=1))
    with django_assert_num_queries(len(first.captured_queries)):
        assert html(boss_client.get(url, {"page": 4})).count('<tr id="escalation-') == 40


def test_an_agent_limited_to_a_store_pages_through_its_cases_only(
    client, store, other_store, tenant
):
    cases = _cases(tenant, [store, other_store], 120, at=timezone.now())
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=other_store)
    client.force_login(agent.user)
    theirs = sorted(
        (case for case in cases if case.store_id == other_store.pk),
        key=lambda case: (case.created_at, case.id),
        reverse=True,
    )
    assert _pages(client, {}) == [str(case.public_id) for case in theirs]
    assert len(theirs) == 60


def test_the_list_indexes_follow_its_order():
    indexed = {tuple(index.fields) for index in Escalation._meta.indexes}
    assert ("tenant", "-created_at", "-id") in indexed
    assert ("tenant", "status", "-created_at", "-id") in indexed


# --- The setting -------------------------------------------------------------------------------


def test_owners_set_the_address_and_agents_only_see_it(client, boss_client, tenant):
    url = reverse("escalation_settings")
    response = boss_client.post(url, {"recipient_email": "not-an-address"})
    assert response.status_code == 400
    boss_client.post(url, {"recipient_email": "Partner@Support.example"})
    assert (
        EscalationSettings.objects.get(tenant=tenant).recipient_email == "partner@support.example"
    )
    agent = member(tenant, Role.AGENT)
    client.force_login(agent.user)
    page = html(client.get(url))
    assert 'value="partner@support.example"' in page
    assert client.post(url, {"recipient_email": "x@y.test"}).status_code == 403
    assert (
        EscalationSettings.objects.get(tenant=tenant).recipient_email == "partner@support.example"
    )
