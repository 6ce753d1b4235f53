"""Accessibility of the pages agents use all day, checked by axe-core in the browser (the copy
shipped in static/vendor/axe.min.js, added to each page as a same-origin script, which the
Content-Security-Policy allows): the mailbox, a ticket, the orders list and an order, and the
settings pages, in the light and the dark theme, with no serious or critical violation.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import sign_in
from tests.e2e.layout_world import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The rules of WCAG 2.0/2.1 A and AA, and axe's best practices; what a violation says is kept
# short: the rule, its impact and the first elements it names.
RUN_AXE = """
async () => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 4).map(
      (n) => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " ").slice(0, 240)
    ),
  }));
}
"""

SERIOUS = ("serious", "critical")

# 0 (black) to 1 (white): the average of the page background's red, green and blue.
BACKGROUND_LIGHTNESS = """
() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return (r + g + b) / 3 / 255;
}
"""


def violations(page: Any, live_server: Any) -> list[dict]:
    page.add_script_tag(url=f"{live_server.url}/static/vendor/axe.min.js")
    found = page.evaluate(RUN_AXE)
    return [violation for violation in found if violation["impact"] in SERIOUS]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_pages_agents_use_have_no_serious_accessibility_violations(
    browser, live_server, tenant, admin_user, password, scheme
):
    world = build_world(tenant)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server, admin_user.email, password)
        pages = {
            "mailbox": "/mailbox/",
            "ticket": f"/mailbox/{world.ticket.public_id}/",
            "orders": "/orders/",
            # Without a tracking number (no "Refresh tracking" to offer).
            "order": f"/orders/{world.orders[1].public_id}/",
            "settings": "/settings/",
            "members": "/settings/members/",
            "stores": "/stores/",
            "snippets": "/settings/snippets/",
        }
        # The theme follows the system setting: a dark page in dark mode, a light one otherwise.
        background = page.evaluate(BACKGROUND_LIGHTNESS)
        assert background < 0.25 if scheme == "dark" else background > 0.9, background
        problems = []
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            problems += [
                f"{name} ({scheme}): {v['id']} ({v['impact']}): {v['help']} -> {v['nodes']}"
                for v in violations(page, live_server)
            ]
        assert problems == [], "\n".join(problems)
    finally:
        context.close()
