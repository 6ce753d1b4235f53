"""The API docs page renders every operation from Sellerdesk's own files under the site's
Content-Security-Policy (django-csp: no CDN, no inline script or style)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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

    response = page.goto(f"{live_server.url}/api/v1/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    page.get_by_text("Sellerdesk API").first.wait_for()
    page.locator(
        ".opblock-summary-path", has_text="/api/v1/tickets/{ticket_id}/messages/"
    ).first.wait_for()
    page.get_by_role("button", name="Authorize").wait_for()
    assert violations == []
    assert foreign == []
