"""A person signs in with the e-mail and password and lands in the mailbox."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_agent_signs_in_and_reaches_the_mailbox(page, live_server, agent, password):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-mail").fill("agent@acme.test")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/mailbox/")
    assert "Acme Outfitters" in page.content()
    # The navigation a person uses: Mailbox, Orders, Stores, Settings.
    nav = page.get_by_role("navigation").first
    for label in ("Mailbox", "Orders", "Stores", "Settings"):
        assert nav.get_by_role("link", name=label).count() >= 1


def test_a_wrong_password_keeps_the_person_on_the_login_page(page, live_server, agent):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-mail").fill("agent@acme.test")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{live_server.url}/login/"
    assert "Please enter a correct e-mail address and password." in page.content()
