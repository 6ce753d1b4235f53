"""The mailbox at 1440, 1280, 1024, 768 and 390 px, measured in the browser (element boxes, not
pixels): the ticket bar never lies over the thread, no control is cut by its pane or the window,
labels are whole, the workbench can always be reached, rows are dense, and on a phone a ticket
opened by URL shows the ticket first, with a way back to the list.

SELLERDESK_SCREENSHOTS=<folder> saves what each width looked like.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from marketplaces.models import StoreStatus
from tests.browser import sign_in
from tests.e2e.layout_world import build_world
from tests.factories_marketplaces import StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("SELLERDESK_SCREENSHOTS")
WIDTHS = (1440, 1280, 1024, 768, 390)
HEIGHT = 900

# Returns a list of problems, each a sentence naming the element.
CHECK_LAYOUT = (Path(__file__).parent / "layout_checks.js").read_text()

ROWS_IN_VIEW = """
() => {
  const pane = document.querySelector("#list-pane");
  const header = pane.querySelector(".pane-header").getBoundingClientRect();
  const bottom = pane.getBoundingClientRect().bottom;
  return [...pane.querySelectorAll("[data-ticket-row]")].filter((row) => {
    const box = row.getBoundingClientRect();
    return box.top >= header.bottom - 0.5 && box.bottom <= bottom + 0.5;
  }).length;
}
"""


def snap(page: Any, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"))


def inside_window(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["x"] >= -0.5
        and box["x"] + box["width"] <= size["width"] + 0.5
        and box["y"] >= -0.5
        and box["y"] + box["height"] <= size["height"] + 0.5
    )


def test_the_mailbox_holds_at_every_width(page, live_server, tenant, agent, password):
    world = build_world(tenant)
    # A store that needs re-authorization puts a banner on every page: it takes its height from
    # the panes, it does not push them off the screen.
    StoreFactory(tenant=tenant, name="Acme Outfitters DE", status=StoreStatus.NEEDS_REAUTH)
    ticket_url = f"{live_server.url}/mailbox/{world.ticket.public_id}/"
    linked = world.orders[0].external_id
    sign_in(page, live_server, agent.email, password)

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.goto(ticket_url)
        page.locator("[data-ticket-row]").first.wait_for(state="attached")
        expect(page.locator(".banner")).to_be_visible()
        snap(page, f"ticket-{width}")
        assert page.evaluate(CHECK_LAYOUT) == [], f"the ticket at {width} px"

        # The workbench: beside the thread, or one click away in a drawer that fits the window.
        card = page.locator(f'#sidebar [data-order="{linked}"]')
        toggle = page.locator('[data-drawer="sidebar"]')
        if width >= 1200:
            expect(toggle).to_be_hidden()
        else:
            expect(card).not_to_be_in_viewport()
            toggle.click()
            page.wait_for_timeout(250)  # the drawer's slide
            snap(page, f"ticket-{width}-workbench")
            assert page.evaluate(CHECK_LAYOUT) == [], f"the workbench drawer at {width} px"
        expect(card).to_be_in_viewport()
        assert inside_window(page, "#sidebar"), f"the workbench at {width} px"
        expect(card.get_by_role("button", name="Copy tracking number")).to_be_in_viewport()
        if width < 1200:
            page.keyboard.press("Escape")
            expect(card).not_to_be_in_viewport()
            expect(toggle).to_be_focused()

        # The list: dense rows, whole labels.
        page.goto(f"{live_server.url}/mailbox/")
        snap(page, f"list-{width}")
        assert page.evaluate(CHECK_LAYOUT) == [], f"the list at {width} px"
        if width == 1440:
            assert page.evaluate(ROWS_IN_VIEW) >= 14


def test_on_a_phone_a_ticket_opened_by_url_comes_first_with_a_way_back(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, agent.email, password)
    page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")

    thread = page.locator("#thread-scroll")
    expect(thread).to_be_in_viewport()
    expect(page.locator("#composer-text")).to_be_in_viewport()
    expect(page.locator("#list-pane")).to_be_hidden()
    assert page.locator("#thread-scroll").bounding_box()["y"] < 200

    page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("#list-pane")).to_be_visible()
    expect(page.locator("#thread-pane")).to_be_hidden()
    assert page.url == f"{live_server.url}/mailbox/"

    page.locator("[data-ticket-row]").nth(3).click()
    expect(page.locator("#thread-pane")).to_be_visible()
    expect(page.locator("#list-pane")).to_be_hidden()

    # The folders are a drawer here.
    page.get_by_role("link", name="Back to the list").click()
    page.get_by_role("button", name="Folders and stores").click()
    expect(page.locator("#mailbox-rail")).to_be_in_viewport()
    page.locator("#mailbox-rail").get_by_role("link", name="Pending").click()
    expect(page.locator("#list-title")).to_have_text("Pending")
    expect(page.locator("#mailbox-rail")).not_to_be_in_viewport()
