"""Sign-up, login, logout, password change and reset."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.models import AuditEvent, Membership, Role, Tenant, User

pytestmark = pytest.mark.django_db

STRONG = "plum-kettle-orbit-77"


SIGNUP = {
    "full_name": "Mina Okafor",
    "email": "Mina@Example.Test",
    "organisation": "Mina's Mugs",
    "time_zone": "Europe/London",
}


def _link(message) -> str:
    return re.search(r"http://\S+/signup/confirm/\S+/", message.body).group(0)


def test_signup_creates_the_organisation_with_its_user_as_owner(client, mailoutbox, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    response = client.post(reverse("signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("signup_sent")
    assert User.objects.count() == 0  # nothing is stored before the address is proved
    [message] = mailoutbox
    assert (message.to, message.subject) == (["mina@example.test"], "Your Sellerdesk sign-up")
    path = _link(message).removeprefix("http://127.0.0.1:8000")

    page = client.get(path)
    assert "choose a password for <strong>mina@example.test</strong>" in page.content.decode()
    response = client.post(path, {"password": STRONG})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name) == ("mina@example.test", "Mina", "Okafor")
    assert user.check_password(STRONG)
    tenant = Tenant.objects.get()
    assert (tenant.name, tenant.slug, tenant.time_zone) == (
        "Mina's Mugs",
        "minas-mugs",
        "Europe/London",
    )
    assert Membership.objects.get().role == Role.OWNER
    assert AuditEvent.objects.get().action == "tenant.created"
    # Signed in, and the mailbox of the new organisation is reachable.
    assert client.get(reverse("mailbox")).status_code == 200
    # The link used again: the account exists now, so it says to sign in.
    client.logout()
    assert "You already have an account" in client.get(path).content.decode()
    assert User.objects.count() == 1


def test_signup_answers_the_same_whether_or_not_the_email_has_an_account(client, owner, mailoutbox):
    new = client.post(reverse("signup"), {**SIGNUP, "email": "someone-new@example.test"})
    known = client.post(reverse("signup"), {**SIGNUP, "email": "OWNER@acme.test"})

    assert (new.status_code, new["Location"]) == (known.status_code, known["Location"])

    def page(url: str) -> str:  # the same page, but for its random CSRF token
        return re.sub(r'csrf-token" content="\w+"', "", client.get(url).content.decode())

    assert page(new["Location"]) == page(known["Location"])
    assert [(m.to, m.subject, m.from_email) for m in mailoutbox] == [
        (["someone-new@example.test"], "Your Sellerdesk sign-up", settings.DEFAULT_FROM_EMAIL),
        (["owner@acme.test"], "Your Sellerdesk sign-up", settings.DEFAULT_FROM_EMAIL),
    ]
    assert "/signup/confirm/" in mailoutbox[0].body
    assert "/signup/confirm/" not in mailoutbox[1].body  # the owner is told to sign in
    assert "already has one" in mailoutbox[1].body
    assert Tenant.objects.filter(name="Mina's Mugs").count() == 0


def test_signup_refuses_a_weak_password_and_a_forged_link(client, mailoutbox):
    client.post(reverse("signup"), SIGNUP)
    path = "/" + _link(mailoutbox[0]).split("/", 3)[3]

    weak = client.post(path, {"password": "123"})
    assert weak.status_code == 200
    assert "password" in weak.context["form"].errors
    assert User.objects.count() == 0

    forged = client.get(path.replace("/confirm/", "/confirm/x"))
    assert forged.status_code == 404
    assert "This link does not work" in forged.content.decode()


def test_login_with_email_reaches_the_mailbox(client, owner, password):
    response = client.post(reverse("login"), {"username": "Owner@Acme.test", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("mailbox")).status_code == 200


def test_login_with_a_wrong_password_is_refused(client, owner):
    response = client.post(reverse("login"), {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Please enter a correct e-mail address and password. "
        "Note that both fields may be case-sensitive."
    ]
    assert client.get(reverse("mailbox")).status_code == 302


def test_pages_need_a_login(client):
    for name in ("mailbox", "order_list", "store_list", "settings", "member_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_logout_is_a_post(owner_client):
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert owner_client.get(reverse("mailbox")).status_code == 302


def test_sessions_are_read_from_the_cache_and_signing_out_ends_them_in_both(owner_client):
    owner_client.get(reverse("mailbox"))
    with CaptureQueriesContext(connection) as queries:
        assert owner_client.get(reverse("mailbox")).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]

    # The same cookie replayed after signing out (from the cache or the database) is refused.
    cookie = owner_client.cookies[settings.SESSION_COOKIE_NAME].value
    owner_client.post(reverse("logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert replay.get(reverse("mailbox")).status_code == 302


def test_password_change(owner_client, owner, password):
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": STRONG, "new_password2": STRONG},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(STRONG)


def test_password_reset_sends_a_one_time_link_that_sets_a_new_password(client, owner):
    response = client.post(reverse("password_reset"), {"email": "owner@acme.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@acme.test"]
    link = re.search(r"/password-reset/[^/]+/[^/\s]+/", mail.outbox[0].body).group(0)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(STRONG)
    # The link is single use.
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_address_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_user_without_an_organisation_is_asked_to_create_one(client, db):
    user = User.objects.create_user(email="lonely@example.test", password=STRONG)
    client.force_login(user)
    response = client.get(reverse("mailbox"))
    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_create")
    created = client.post(reverse("tenant_create"), {"organisation": "Solo", "time_zone": "UTC"})
    assert created.status_code == 302
    assert Membership.objects.get(user=user).role == Role.OWNER
    assert client.get(reverse("mailbox")).status_code == 200
