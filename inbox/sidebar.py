"""The workbench beside the thread: a tabbed sidebar whose tabs are listed here.

Each tab is a partial drawn with the ticket's context (`inbox/_sidebar.html` loops over
`SIDEBAR_TABS`): add a feature's tab by appending a `SidebarTab` — its key names the tab and its
panel (`#sidebar-tab-<key>`, `#sidebar-panel-<key>`), its template draws the panel's content. A
panel that needs data of its own loads it when first shown (`hx-trigger="intersect once"` on an
element inside it: hidden panels do not intersect), so the ticket page pays only for the tab the
agent looks at. The chosen tab is kept while the agent moves between tickets (static/js/app.js).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SidebarTab:
    key: str  # "orders": ids, and what the tab is remembered by
    label: str  # the tab's word
    template: str  # the panel's partial


SIDEBAR_TABS: list[SidebarTab] = [
    SidebarTab(key="orders", label="Orders", template="inbox/_sidebar_orders.html"),
    # The store's live products and its coupons, each with its card button (inbox.cards); their
    # lists load when the tab is first shown.
    SidebarTab(key="products", label="Products", template="orders/_products_tab.html"),
    SidebarTab(key="coupons", label="Coupons", template="orders/_coupons_tab.html"),
]


# Partials other apps draw with the ticket's context in the ticket bar's slot: small markers
# (triage registers its own in TriageConfig.ready).
TICKET_BAR_PARTS: list[str] = []
