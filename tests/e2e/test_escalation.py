"""In the browser: an agent escalates a ticket's order problem. From the ticket's More menu they
pick Orders, find the order's facts already filled in, save once without the Seller Center
screenshot (refused with the field named, the first screenshot kept), save again, submit, and the
e-mail is in the outbox with every field under its heading, the screenshots and orders.csv
attached.

The live server runs in this process, so Django's test mail backend (locmem) collects the e-mail
in `mail.outbox`; the ticket's workbench then shows the case as submitted."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core import mail
from playwright.sync_api import expect

from escalations.models import Escalation, EscalationSettings, EscalationStatus
from inbox.models import ConversationOrder, OrderLinkSource
from tests.browser import CHROMIUM, sign_in
from tests.escalations.conftest import MINIMAL_PDF, png_bytes
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


SCREENSHOTS = os.environ.get("SELLERDESK_SCREENSHOTS")  # a folder: save what the agent saw


def snap(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"escalation-{name}.png"), full_page=True)


def test_an_agent_escalates_a_tickets_order_problem_by_email(
    page, live_server, tenant, agent, password
):
    store = StoreFactory(tenant=tenant, name="Acme US", external_shop_id="7494049642642441621")
    ticket = ConversationFactory(store=store, tenant=tenant)
    MessageFactory(conversation=ticket, text="My tracking number does not work")
    order = OrderFactory(
        store=store,
        buyer_user_id=ticket.customer.buyer_user_id,
        external_id="576461413038785752",
        tracking_number="1Z999AA10123456784",
        shipping_provider="UPS",
    )
    OrderLineFactory(order=order, product_id="1729587969112345", seller_sku="SOCK-RED-M")
    ConversationOrder.objects.create(
        tenant=tenant,
        conversation=ticket,
        order=order,
        order_external_id=order.external_id,
        source=OrderLinkSource.ORDER_CARD,
    )
    EscalationSettings.objects.create(tenant=tenant, recipient_email="cgs@partner.example")

    sign_in(page, live_server, "agent@acme.test", password)
    page.goto(f"{live_server.url}/mailbox/{ticket.public_id}/")
    page.locator(".more-menu > summary").click()
    page.get_by_role("link", name="Escalate…").click()
    page.get_by_role("link", name="Orders An order not syncing").click()

    # What Sellerdesk knows is there already.
    expect(page.locator("#id_tiktok_order_id")).to_have_value("576461413038785752")
    expect(page.locator("#id_tracking_number")).to_have_value("1Z999AA10123456784")
    expect(page.locator("#id_our_order_id")).to_have_value(str(order.public_id))
    page.locator("#id_problem").select_option("tracking_not_syncing")
    page.locator("#id_details").fill("Carrier shows no scans.")
    page.locator("#id_screenshot_here").set_input_files(
        {"name": "sellerdesk.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    snap(page, "1-form")
    page.get_by_role("button", name="Save draft").click()

    # Refused: the missing screenshot is named, the rest is kept (file included).
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("The order in Seller Center is required.")
    expect(page.locator("#id_details")).to_have_value("Carrier shows no scans.")
    expect(page.get_by_label("sellerdesk.png")).to_be_checked()
    snap(page, "2-refused")
    page.locator("#id_screenshot_seller_center").set_input_files(
        {"name": "seller-center.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}
    )
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator("h1")).to_contain_text("Orders: Tracking not syncing")
    case = Escalation.objects.get()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Submit to cgs@partner.example").click()
    expect(page.locator(".messages")).to_contain_text(
        f"{case.reference} was e-mailed to cgs@partner.example."
    )
    expect(page.locator(".pill[data-status]")).to_have_text("Submitted")
    snap(page, "3-submitted")

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["cgs@partner.example"]
    assert sent.reply_to == ["agent@acme.test"]
    for line in (
        "STORE\n",
        "TikTok shop id: 7494049642642441621",
        "PROBLEM\nProblem: Tracking not syncing",
        "ORDER\nTikTok order id: 576461413038785752",
        "Tracking number: 1Z999AA10123456784",
        "SCREENSHOTS\nThe order in Sellerdesk: sellerdesk.png",
        "The order in Seller Center: seller-center.pdf",
        "Anything else the partner should know: Carrier shows no scans.",
    ):
        assert line in sent.body, line
    assert [(name, kind) for name, _, kind in sent.attachments] == [
        ("sellerdesk.png", "image/png"),
        ("seller-center.pdf", "application/pdf"),
        ("orders.csv", "text/csv"),
    ]
    assert sent.attachments[0][1] == png_bytes()
    assert sent.attachments[1][1] == MINIMAL_PDF
    assert "576461413038785752," in sent.attachments[2][1]
    case.refresh_from_db()
    assert case.status == EscalationStatus.SUBMITTED
    assert (case.conversation_id, case.order_id) == (ticket.pk, order.pk)

    # Back on the ticket, its workbench shows the case and where it stands.
    page.get_by_role("link", name=f"Ticket #{ticket.number}").click()
    expect(page.locator(f'[data-escalation="{case.public_id}"]')).to_contain_text("Submitted")
    snap(page, "4-ticket")
    if SCREENSHOTS:
        page.goto(f"{live_server.url}/escalations/{case.public_id}/print/")
        snap(page, "5-print")
        page.goto(f"{live_server.url}/escalations/")
        snap(page, "6-list")
