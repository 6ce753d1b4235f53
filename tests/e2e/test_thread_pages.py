"""A long thread in the browser: "Show earlier" adds the page before above what the agent is
reading, which stays where it was on screen; the keyboard moves on to the next "Show earlier";
a message arriving live keeps what was added; the last page leaves no link.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox import selectors
from tests.browser import sign_in
from tests.factories_inbox import MessageFactory, long_thread
from tests.factories_marketplaces import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOP_OF = "(selector) => document.querySelector(selector).getBoundingClientRect().top"
ENTRIES = "#thread-messages .bubble, #thread-messages > p.system-event"


def test_show_earlier_adds_pages_above_and_keeps_the_agents_place(
    page, live_server, tenant, agent, password
):
    store = StoreFactory(tenant=tenant)
    conversation = long_thread(store)
    total = len(selectors.thread(conversation=conversation))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/mailbox/{conversation.public_id}/")
    link = page.locator("#thread-earlier a")
    expect(link).to_have_text(re.compile(r"Show \d+ earlier entries"))
    first_shown = page.locator(ENTRIES).count()
    assert first_shown < total

    # Read back to the top, then ask for more: what was the oldest stays where it was.
    oldest = page.locator("#thread-messages .bubble[id]").first.get_attribute("id")
    page.evaluate("document.querySelector('#thread-scroll').scrollTop = 0")
    before = page.evaluate(TOP_OF, f"#{oldest}")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator(ENTRIES)).not_to_have_count(first_shown)
    second_shown = page.locator(ENTRIES).count()
    assert first_shown < second_shown < total
    assert abs(page.evaluate(TOP_OF, f"#{oldest}") - before) <= 2
    # The keyboard is on the next "Show earlier", one Enter from the page before that.
    expect(page.locator("#thread-earlier a")).to_be_focused()

    # The buyer writes: the live poll redraws the thread and keeps the page added above.
    moment = timezone.now() + timedelta(seconds=1)
    MessageFactory(
        conversation=conversation, text="Still waiting here", sent_at=moment, created_at=moment
    )
    expect(page.locator(".bubble-buyer", has_text="Still waiting here")).to_be_attached(
        timeout=20_000
    )
    expect(page.locator(f"#{oldest}")).to_be_attached()
    assert page.locator(ENTRIES).count() == second_shown + 1

    # The last page: every entry is on screen, once, and no link is left.
    page.locator("#thread-earlier a").press("Enter")
    expect(page.locator("#thread-earlier a")).to_have_count(0)
    # No link left: the keyboard is on the thread, where j/k and the arrows scroll it.
    expect(page.locator("#thread-scroll")).to_be_focused()
    expect(page.locator(ENTRIES)).to_have_count(total + 1)
    ids = page.eval_on_selector_all("#thread-messages .bubble[id]", "nodes => nodes.map(n => n.id)")
    assert len(ids) == len(set(ids))
