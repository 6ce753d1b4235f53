"""Two agents on one ticket, in two browsers: each sees the other viewing, then replying (on the
ticket and as a marker in the list); a reply sent after the teammate's is refused with the new
message shown and the draft kept, then goes out on the second press."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox.models import Message
from tests.browser import sign_in
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WAIT = 20_000  # heartbeats every 5 s, polls every 3 s: a few of each at most. Given to every
# expect() too: its own default is 5 s, one heartbeat, which a loaded CI run overshot.


@pytest.fixture(autouse=True)
def _own_cache(private_cache):
    """Presence lives in the cache: the live server's thread shares this private one."""


def test_two_agents_see_each_other_and_a_stale_reply_is_a_conflict(
    browser, live_server, tenant, agent, admin_user, password
):
    store = StoreFactory(tenant=tenant, name="Acme US")
    ticket = ConversationFactory(store=store, tenant=tenant)
    MessageFactory(conversation=ticket, text="Is my parcel lost?")
    url = f"{live_server.url}/mailbox/{ticket.public_id}/"
    ana_name, ben_name = agent.display_name, admin_user.display_name

    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        ana, ben = (context.new_page() for context in contexts)
        for page, email in ((ana, "agent@acme.test"), (ben, "admin@acme.test")):
            page.set_default_timeout(WAIT)
            sign_in(page, live_server, email, password)
            page.goto(url)

        # Viewing, both ways.
        expect(ana.locator("#presence-people")).to_contain_text(
            f"{ben_name} is viewing", timeout=WAIT
        )
        expect(ben.locator("#presence-people")).to_contain_text(
            f"{ana_name} is viewing", timeout=WAIT
        )

        # Ben starts a reply: Ana sees it on the ticket and in her list.
        ben.locator("#composer-text").fill("We are checking with the carrier.")
        expect(ana.locator("#presence-people")).to_contain_text(
            f"{ben_name} is replying", timeout=WAIT
        )
        expect(ana.locator(f"#ticket-{ticket.public_id}")).to_contain_text(
            f"{ben_name} replying", timeout=WAIT
        )

        # Ana writes too; Ben sends first.
        ana.locator("#composer-text").fill("Your parcel is with the carrier.")
        expect(ben.locator("#presence-people")).to_contain_text(
            f"{ana_name} is replying", timeout=WAIT
        )
        # Ana's thread is not redrawn meanwhile (her ticket's poll held back), so she has not
        # seen what Ben sends: a thread redrawn by the poll would count as seen.
        ana.route("**/mailbox/*/poll/**", lambda route: route.abort())
        ben.locator("[data-send]").click()
        expect(ben.locator("#thread-pane")).to_contain_text(
            "We are checking with the carrier.", timeout=WAIT
        )

        # Ana's send is refused: the teammate's reply is shown, her draft kept, nothing sent.
        ana.locator("[data-send]").click()
        expect(ana.locator("#composer")).to_contain_text(
            "New messages since you opened", timeout=WAIT
        )
        expect(ana.locator("#composer-text")).to_have_value(
            "Your parcel is with the carrier.", timeout=WAIT
        )
        expect(ana.locator("#thread-pane")).to_contain_text(
            "We are checking with the carrier.", timeout=WAIT
        )
        assert not Message.objects.filter(text="Your parcel is with the carrier.").exists()

        # Having seen it, she sends.
        ana.unroute("**/mailbox/*/poll/**")
        ana.locator("[data-send]").click()
        expect(ana.locator("#thread-pane")).to_contain_text(
            "Your parcel is with the carrier.", timeout=WAIT
        )
        expect(ana.locator("#composer-text")).to_have_value("", timeout=WAIT)
        assert Message.objects.filter(text="Your parcel is with the carrier.").count() == 1
    finally:
        for context in contexts:
            context.close()
