"""In the browser (Playwright, system Chromium): an agent searches the mailbox as they do all day.

A word typed in the box redraws the rows with the matches marked and the rail with the search's
folder counts; a pasted order id finds the buyer's ticket though no ticket is linked to it; a
search that finds nothing in the folder offers "Search all folders", which finds the ticket;
keyboard only: `/` jumps to the box, Enter searches, Esc clears the search (the folder's rows
come back) and Esc again leaves the box. The Orders page's box is the same search.

Assertions are on the DOM (Playwright's `expect` waits for it), never on time.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation, TicketStatus
from search.index import documents_rebuild
from tests.browser import sign_in
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import BASE_TIME, OrderFactory, StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ORDER_ID = "576461413038785752"  # the buyer's order; no ticket is linked to it
ZIPPER_ORDER_ID = "576461413038780001"


@pytest.fixture
def mailbox(tenant, other_tenant, private_cache) -> dict[str, Conversation]:
    """Given Acme's store with open tickets about a zipper, a parcel and a buyer's order, solved
    ones about a zipper and a refund; and a rival organisation's ticket about a zipper."""
    store = StoreFactory(tenant=tenant, name="Acme US", region="US")

    def ticket(text: str, hours: int, **kwargs) -> Conversation:
        at = BASE_TIME + timedelta(hours=hours)
        conversation = ConversationFactory(
            store=store, tenant=tenant, last_message_at=at, last_message_preview=text, **kwargs
        )
        MessageFactory(conversation=conversation, text=text, sent_at=at, created_at=at)
        return conversation

    tickets = {
        "zipper": ticket("The zipper broke after one day", 5),
        "parcel": ticket("Where is my parcel?", 4),
        "buyer": ticket("Hello, anyone there?", 3),
        "zipper_solved": ticket("My zipper works now, thanks", 2, status=TicketStatus.SOLVED),
        "refund": ticket("I got my refund, thank you", 1, status=TicketStatus.SOLVED),
    }
    OrderFactory(
        store=store,
        external_id=ORDER_ID,
        buyer_user_id=tickets["buyer"].customer.buyer_user_id,
    )
    OrderFactory(
        store=store,
        external_id=ZIPPER_ORDER_ID,
        buyer_user_id=tickets["zipper"].customer.buyer_user_id,
    )
    rival_store = StoreFactory(tenant=other_tenant, name="Rival US", region="US")
    rival = ConversationFactory(store=rival_store, tenant=other_tenant)
    MessageFactory(conversation=rival, text="Rival zipper complaint")
    tickets["rival"] = rival
    # The factories wrote past the services that keep the search documents current.
    documents_rebuild(list(Conversation.objects.values_list("pk", flat=True)))
    return tickets


def row(page, conversation: Conversation):
    return page.locator(f"#ticket-{conversation.public_id}")


def rows(page):
    return page.locator("#ticket-rows [data-ticket-row]")


def count(page, folder: str):
    return page.locator(f'#mailbox-rail [data-count="{folder}"]')


def search_for(page, text: str) -> None:
    box = page.get_by_role("searchbox", name="Search tickets")
    box.fill(text)
    box.press("Enter")


def test_a_word_redraws_the_rows_with_marked_matches_and_the_searchs_counts(
    page, live_server, mailbox, agent, password
):
    sign_in(page, live_server, agent.email, password)
    expect(rows(page)).to_have_count(3)  # the Open folder
    expect(count(page, "open")).to_have_text("3")
    page.evaluate("window.__sameDocument = 'yes'")

    search_for(page, "zipper")

    expect(page).to_have_url(re.compile(r"[?&]q=zipper(&|$)"))
    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["zipper"]).locator(".preview mark")).to_have_text(
        re.compile("^zipper$", re.IGNORECASE)
    )
    expect(row(page, mailbox["zipper"]).locator(".preview")).to_contain_text("broke after")
    # The rail counts the search (the rival's zipper is in no folder of Acme's).
    expect(count(page, "open")).to_have_text("1")
    expect(count(page, "solved")).to_have_text("1")
    expect(count(page, "all")).to_have_text("2")
    expect(count(page, "pending")).to_have_text("0")
    # The search kept to the page (HTMX), and following a folder keeps the search.
    assert page.evaluate("window.__sameDocument") == "yes"
    page.locator('#mailbox-rail [data-folder="solved"]').click()
    expect(row(page, mailbox["zipper_solved"])).to_be_visible()
    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["zipper_solved"]).locator(".preview mark")).to_have_text(
        re.compile("^zipper$", re.IGNORECASE)
    )


def test_a_pasted_order_id_finds_the_buyers_ticket_though_not_linked(
    page, live_server, mailbox, agent, password
):
    sign_in(page, live_server, agent.email, password)
    expect(rows(page)).to_have_count(3)

    search_for(page, f"  {ORDER_ID} ")  # pasted with the spaces around it

    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["buyer"])).to_be_visible()
    expect(count(page, "open")).to_have_text("1")
    expect(count(page, "all")).to_have_text("1")
    # The row opens the buyer's ticket.
    row(page, mailbox["buyer"]).click()
    expect(page.locator("#ticket-header .ticket-number")).to_have_text(
        f"#{mailbox['buyer'].number}"
    )


def test_nothing_in_the_folder_offers_search_all_folders_which_finds_it(
    page, live_server, mailbox, agent, password
):
    sign_in(page, live_server, agent.email, password)

    search_for(page, "refund")

    empty = page.locator("[data-search-empty]")
    expect(empty).to_contain_text("Nothing in Open matches “refund”")
    expect(rows(page)).to_have_count(0)
    expect(count(page, "solved")).to_have_text("1")
    empty.get_by_role("link", name="Search all folders").click()

    expect(page).to_have_url(re.compile(r"folder=all"))
    expect(page.locator("#list-title")).to_have_text("All")
    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["refund"]).locator(".preview mark")).to_have_text(
        re.compile("^refund$", re.IGNORECASE)
    )
    expect(page.get_by_role("searchbox", name="Search tickets")).to_have_value("refund")


def test_keyboard_only_slash_searches_enter_runs_escape_clears(
    page, live_server, mailbox, agent, password
):
    sign_in(page, live_server, agent.email, password)
    box = page.get_by_role("searchbox", name="Search tickets")
    expect(rows(page)).to_have_count(3)

    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("parcel")
    page.keyboard.press("Enter")

    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["parcel"]).locator(".preview mark")).to_have_text(
        re.compile("^parcel$", re.IGNORECASE)
    )
    expect(count(page, "all")).to_have_text("1")

    # Esc clears the search: the box is empty, the folder's rows and counts come back.
    page.keyboard.press("Escape")
    expect(box).to_have_value("")
    expect(rows(page)).to_have_count(3)
    expect(count(page, "open")).to_have_text("3")
    expect(count(page, "all")).to_have_text("5")
    expect(page.locator("#ticket-rows mark")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"q=parcel"))
    expect(box).to_be_focused()
    # Esc again leaves the box, and the shortcuts work again: `/` comes back to it.
    page.keyboard.press("Escape")
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type(ORDER_ID)
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(row(page, mailbox["buyer"])).to_be_visible()


def test_the_orders_page_box_is_the_same_search(page, live_server, mailbox, agent, password):
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/orders/")
    orders = page.locator("table.table tbody tr")
    expect(orders).to_have_count(2)
    box = page.get_by_role("searchbox", name="Search")

    # A word the buyer wrote lists that ticket's buyer's orders.
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("zipper")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=zipper(&|$)"))
    expect(orders).to_have_count(1)
    expect(orders.first.get_by_role("link", name=ZIPPER_ORDER_ID)).to_be_visible()

    # An order id lists that order.
    box.fill(ORDER_ID)
    page.get_by_role("button", name="Search").click()
    expect(orders).to_have_count(1)
    expect(orders.first.get_by_role("link", name=ORDER_ID)).to_be_visible()

    # Words found nowhere (and the rival's zipper) list nothing.
    box.fill("rival complaint")
    box.press("Enter")
    expect(page.locator("[data-search-empty]")).to_contain_text("No orders match")
