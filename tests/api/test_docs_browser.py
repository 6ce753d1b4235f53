"""The API docs page renders every operation from Sellerdesk's own files under a strict
Content-Security-Policy (no CDN, no inline script or style)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What a strict site policy allows; the docs page must need nothing more.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def test_docs_page_works_under_a_strict_csp_from_local_assets(page, live_server):
    violations: list[str] = []
    foreign: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )

    def with_csp(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    page.route(f"{live_server.url}/api/v1/docs/**", with_csp)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.get_by_text("Sellerdesk API").first.wait_for()
    page.locator(
        ".opblock-summary-path", has_text="/api/v1/tickets/{ticket_id}/messages/"
    ).first.wait_for()
    page.get_by_role("button", name="Authorize").wait_for()
    assert violations == []
    assert foreign == []
