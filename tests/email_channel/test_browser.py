"""In the browser (Playwright, system Chromium): a buyer's e-mail read from the local IMAP server
is answered from the mailbox, and the reply is found delivered on the local SMTP server with the
ticket's threading headers; the e-mail's formatted body opens in its sandboxed frame."""

from __future__ import annotations

import os
import shutil
from email import message_from_bytes

import pytest
from playwright.sync_api import expect

from email_channel.polling import channel_poll
from inbox.models import Conversation, DeliveryStatus, Message
from tests.browser import CHROMIUM, sign_in

from .conftest import buyer_mail

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


def test_an_agent_answers_an_email_and_it_reaches_the_smtp_server(
    page, live_server, eager_tasks, email_channel, local_imap, folder, sent_mail, owner, password
):
    local_imap.append(
        buyer_mail(
            subject="Broken lid",
            body="The lid of my teapot arrived broken.\n\nOn Mon, Acme wrote:\n> Thanks!",
            html="<p>The lid of my <b>teapot</b> arrived broken.</p>",
            message_id="<lid@buyer.test>",
        ),
        folder,
    )
    assert channel_poll(channel_id=email_channel.pk).stored == 1
    ticket = Conversation.objects.get(store=email_channel.store)

    sign_in(page, live_server, "owner@acme.test", password)
    page.goto(f"{live_server.url}/mailbox/{ticket.public_id}/")
    expect(page.locator(".email-subject")).to_have_text("Broken lid")
    expect(page.locator(".bubble-text").first).to_have_text("The lid of my teapot arrived broken.")
    page.get_by_text("Formatted e-mail").click()
    frame = page.frame_locator(".email-frame")
    expect(frame.locator("b")).to_have_text("teapot")

    composer = page.get_by_role("textbox", name="Reply to the buyer")
    composer.fill("Sorry about that! A new lid is on its way.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".delivery-sent").last).to_be_visible(timeout=15_000)

    [(sender, recipients, raw)] = sent_mail
    mail = message_from_bytes(raw)
    assert (sender, recipients) == ("support@shop.test", ["ann@buyer.test"])
    assert mail["In-Reply-To"] == "<lid@buyer.test>"
    assert mail["Subject"] == f"Re: Broken lid [#{ticket.number}]"
    assert "A new lid is on its way." in mail.get_payload(decode=True).decode()
    reply = Message.objects.get(conversation=ticket, direction="outbound")
    assert reply.delivery_status == DeliveryStatus.SENT
