"""The mailbox from the keyboard alone (UX.md, "Keyboard"): `j`/`k` through the list, Enter opens,
`r` reply, `/` at the start of the composer picks a snippet, Ctrl+Enter sends, `a` assign to me,
`p` pending, `e` solve, `n` note, `/` the search box, `?` every shortcut, `w` the workbench drawer
on narrower screens, and `j`/`k` back in the list; shortcuts never fire while typing. And every
control of the mailbox and the ticket is reached by Tab, each with a visible focus ring.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation, TicketStatus
from tests.browser import sign_in
from tests.e2e.layout_world import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ACTIVE_ID = "() => document.activeElement && document.activeElement.id"


def press_until_focused(page: Any, key: str, element_id: str, most: int = 40) -> None:
    """Presses `key` until the element is focused (the list's order is the folder's)."""
    for _ in range(most):
        if page.evaluate(ACTIVE_ID) == element_id:
            return
        page.keyboard.press(key)
    assert page.evaluate(ACTIVE_ID) == element_id


def test_the_core_loop_from_the_keyboard_alone(page, live_server, tenant, agent, password):
    world = build_world(tenant)
    ticket = world.ticket
    row_id = f"ticket-{ticket.public_id}"
    linked = world.orders[0]
    sign_in(page, live_server, agent.email, password)
    rows = page.locator("[data-ticket-row]")
    rows.first.wait_for()

    # j and k move through the list, one row at a time, the focus on the row.
    page.keyboard.press("j")
    first = page.evaluate(ACTIVE_ID)
    assert first == rows.nth(0).get_attribute("id")
    page.keyboard.press("j")
    assert page.evaluate(ACTIVE_ID) == rows.nth(1).get_attribute("id")
    page.keyboard.press("k")
    assert page.evaluate(ACTIVE_ID) == first
    press_until_focused(page, "j", row_id)

    # Enter opens it.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/mailbox/{ticket.public_id}/$"))
    expect(page.locator(f'#thread-pane[data-ticket="{ticket.public_id}"]')).to_be_attached()

    # r: the composer, in Reply; "/tra" picks the tracking snippet with the linked order.
    composer = page.locator("#composer-text")
    page.keyboard.press("r")
    expect(composer).to_be_focused()
    page.keyboard.type("/tra")
    expect(page.locator('#snippet-popover [role=option][aria-selected="true"]')).to_contain_text(
        "Tracking number"
    )
    page.keyboard.press("Enter")
    text = f"Your order {linked.external_id} ships with USPS, tracking 9400111899223344556677."
    expect(composer).to_have_value(text)
    expect(page.locator("#snippet-popover")).to_be_hidden()
    # Shortcuts never fire while typing: "e" and "p" are letters in the reply.
    page.keyboard.type(" Have a nice day")
    expect(composer).to_have_value(text + " Have a nice day")
    expect(page.locator(".ticket-header .status-menu .pill")).to_have_text("Open")

    # Ctrl+Enter sends: the reply is in the thread, the composer empty.
    page.keyboard.press("Control+Enter")
    expect(page.locator(".bubble-agent", has_text="Have a nice day")).to_be_visible()
    expect(page.locator("#composer-text")).to_have_value("")

    # Esc leaves the field; a assigns the ticket to me, p sets it pending, e solves it.
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(page.locator(".ticket-header [data-assignee]")).to_have_text(agent.first_name)
    page.keyboard.press("p")
    expect(page.locator(".ticket-header .status-menu .pill")).to_have_text("Pending")
    page.keyboard.press("e")
    expect(page.locator(".ticket-header .status-menu .pill")).to_have_text("Solved")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.SOLVED, agent.pk)

    # n: an internal note, saved with Ctrl+Enter too.
    page.keyboard.press("n")
    expect(page.locator("#composer-text")).to_be_focused()
    expect(page.locator("#composer")).to_have_class(re.compile(r"\bis-note\b"))
    page.keyboard.type("Checked with USPS")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#thread-messages", has_text="Checked with USPS")).to_be_visible()
    page.keyboard.press("Escape")

    # Back in the list (the solved ticket may have left its folder): j and k move there again.
    page.keyboard.press("j")
    back = page.evaluate(ACTIVE_ID)
    assert back.startswith("ticket-"), back
    page.keyboard.press("j")
    assert page.evaluate(ACTIVE_ID) not in (back, "")
    page.keyboard.press("k")
    assert page.evaluate(ACTIVE_ID) == back

    # /: the search box.
    page.keyboard.press("/")
    expect(page.locator("#mailbox-search")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#mailbox-search")).not_to_be_focused()

    # ?: every shortcut UX.md names, in one dialog that Esc closes.
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    for label in (
        "Next conversation",
        "Previous conversation",
        "Open the selected conversation",
        "Reply",
        "Internal note",
        "Solve",
        "Set pending",
        "Assign to me",
        "Jump to the search box",
        "Show keyboard shortcuts",
        "Send the reply (or save the note)",
    ):
        expect(help_dialog.get_by_text(label, exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()


def test_the_workbench_drawer_and_the_way_back_on_narrow_screens(
    page, live_server, tenant, agent, password
):
    world = build_world(tenant)
    ticket: Conversation = world.ticket
    sign_in(page, live_server, agent.email, password)

    # A laptop: w opens the workbench drawer with the focus in it; Esc closes it and gives the
    # focus back.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/mailbox/{ticket.public_id}/")
    page.locator("[data-ticket-row]").first.wait_for()
    card = page.locator(f'#sidebar [data-order="{world.orders[0].external_id}"]')
    expect(card).not_to_be_in_viewport()
    page.keyboard.press("w")
    expect(card).to_be_in_viewport()
    page.wait_for_function("() => document.activeElement.closest('#sidebar') !== null")
    page.keyboard.press("Escape")
    expect(card).not_to_be_in_viewport()
    expect(page.locator('[data-drawer="sidebar"]')).to_be_focused()

    # A phone: the ticket alone; j or k shows the list again, at the open ticket's row, and
    # Enter opens the next one.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/mailbox/{ticket.public_id}/")
    page.locator("[data-ticket-row]").first.wait_for(state="attached")
    expect(page.locator("#thread-pane")).to_be_in_viewport()
    row = page.locator(f"#ticket-{ticket.public_id}")
    expect(row).to_be_hidden()
    page.keyboard.press("k")
    expect(row).to_be_visible()
    page.wait_for_function("() => document.activeElement.hasAttribute('data-ticket-row')")
    page.keyboard.press("j")
    next_id = page.evaluate(ACTIVE_ID)
    assert next_id != f"ticket-{ticket.public_id}"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/mailbox/{next_id.removeprefix('ticket-')}/$"))
    expect(page.locator("#thread-pane")).to_be_in_viewport()


# Tab from the top of the page until the focus comes round again: each stop must be a control a
# person can use, drawn with a focus ring: an outline or a box-shadow (as :focus-visible draws)
# in the focus colour.
TAB_STOP = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {key: "body"};
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  // The ring is drawn in the focus colour (--focus): a button's own drop shadow is not one.
  const probe = document.createElement("span");
  probe.style.color = "var(--focus)";
  document.body.appendChild(probe);
  const focus = getComputedStyle(probe).color;
  probe.remove();
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
                && style.outlineColor === focus)
    || (style.boxShadow !== "none" && style.boxShadow.includes(focus));
  const control = el.matches(
    "a[href], button, input, select, textarea, summary, [tabindex], [contenteditable=true]"
  );
  const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "")
    + " '" + (el.getAttribute("aria-label") || el.textContent || el.value || "").trim()
      .replace(/\\s+/g, " ").slice(0, 40) + "'";
  if (!el.dataset.tabSeen) el.dataset.tabSeen = String(Math.random()).slice(2);
  return {
    key: el.dataset.tabSeen,
    name: name,
    control: control,
    ring: ring,
    sized: box.width > 0 && box.height > 0,
  };
}
"""

# Every control a person can see (not inside a closed menu, a hidden pane or an inert part).
VISIBLE_CONTROLS = """
() => Array.from(document.querySelectorAll(
  "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]"
)).filter((el) => {
  if (el.disabled || el.getAttribute("tabindex") === "-1" || el.closest("[inert]")) return false;
  if (el.type === "radio" && !el.checked) return false;  // a radio group is one Tab stop
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return box.width > 0 && box.height > 0 && style.visibility !== "hidden"
    && el.checkVisibility({opacityProperty: true, visibilityProperty: true});
}).map((el) => {
  if (!el.dataset.tabSeen) el.dataset.tabSeen = String(Math.random()).slice(2);
  return {key: el.dataset.tabSeen, name: el.outerHTML.slice(0, 120)};
})
"""


def tab_through(page: Any, most: int = 400) -> tuple[set[str], list[str]]:
    """Tabs round the page once: the stops reached, and what is wrong with any of them."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    reached: set[str] = set()
    problems: list[str] = []
    first = None
    for _ in range(most):
        page.keyboard.press("Tab")
        stop = page.evaluate(TAB_STOP)
        if stop["key"] == "body":
            continue
        if stop["key"] == first:
            break
        first = first or stop["key"]
        reached.add(stop["key"])
        if not stop["control"]:
            problems.append(f"{stop['name']}: not a control")
        elif not stop["sized"]:
            problems.append(f"{stop['name']}: focused but not drawn")
        elif not stop["ring"]:
            problems.append(f"{stop['name']}: no focus ring")
    else:
        problems.append(f"the focus did not come round in {most} presses of Tab")
    return reached, problems


@pytest.mark.parametrize("where", ["mailbox", "ticket"])
def test_every_control_is_reached_by_tab_with_a_focus_ring(
    page, live_server, tenant, agent, password, where
):
    world = build_world(tenant)
    sign_in(page, live_server, agent.email, password)
    page.set_viewport_size({"width": 1440, "height": 900})
    if where == "ticket":
        page.goto(f"{live_server.url}/mailbox/{world.ticket.public_id}/")
    page.locator("[data-ticket-row]").first.wait_for()
    page.wait_for_load_state("networkidle")
    controls = page.evaluate(VISIBLE_CONTROLS)
    reached, problems = tab_through(page)
    assert problems == [], "\n".join(problems)
    missed = [control["name"] for control in controls if control["key"] not in reached]
    assert missed == [], "not reached by Tab:\n" + "\n".join(missed)
    assert len(reached) >= 40  # the rows alone are 31
