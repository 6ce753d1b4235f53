"""What the pages say: the shell, read-only settings, invitation pages and e-mails, error pages."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.views.defaults import server_error

from tenants import services
from tenants.models import Membership, Role, Tenant, User

PASSWORD = "correct horse battery staple 42"

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    user, _tenant = services.user_signup(
        full_name="Olivia Owner",
        email="olivia@shop.test",
        organisation="Acme Shop",
        time_zone="Europe/London",
        password=PASSWORD,
    )
    return user


@pytest.fixture
def owner_client(owner):
    c = Client()
    c.force_login(owner)
    return c


def _invite(owner_client, email, role=Role.AGENT, capture=None):
    with capture(execute=True):
        r = owner_client.post(reverse("member_list"), {"email": email, "role": role}, follow=True)
    flash = [str(m) for m in r.context["messages"]]
    return re.search(r"/invitations/[\w-]+/", flash[0]).group(0), r


def test_base_shell(owner_client):
    html = owner_client.get(reverse("order_list")).content.decode()
    assert '<meta name="csrf-token" content="' in html
    assert re.search(r'<a href="/orders/" data-nav="orders" aria-current="page">Orders</a>', html)
    assert 'aria-current="page">Mailbox' not in html
    assert "/static/vendor/htmx.min.js" in html and "/static/js/app.js" in html
    # Every script, stylesheet and icon is served by us (no CDN). Matched on the attributes, not
    # on the text: a random CSRF token may well contain "cdn".
    assets = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith(("/", "data:")) for url in assets), assets
    assert 'action="/logout/"' in html
    assert "Olivia Owner" in html and "Owner" in html
    assert "No orders yet" in html


def test_switcher_lists_every_membership_as_post_forms(owner, owner_client):
    other = Tenant.objects.create(name="Beta Brand", slug="beta")
    Membership.objects.create(tenant=other, user=owner, role=Role.AGENT)
    html = owner_client.get(reverse("mailbox")).content.decode()
    forms = re.findall(r'<form method="post" action="/organisations/([0-9a-f-]+)/switch/">', html)
    assert sorted(forms) == sorted(
        str(m.tenant.public_id) for m in Membership.objects.filter(user=owner)
    )
    r = owner_client.post(f"/organisations/{other.public_id}/switch/", follow=True)
    assert "Switched to Beta Brand." in r.content.decode()


def test_settings_is_read_only_for_agents(owner, db):
    agent = User.objects.create_user("agent@shop.test", PASSWORD, first_name="Arjun")
    Membership.objects.create(tenant=owner.memberships.get().tenant, user=agent, role=Role.AGENT)
    c = Client()
    c.force_login(agent)
    html = c.get(reverse("settings")).content.decode()
    assert "<fieldset disabled>" in html
    assert "Only owners and admins can change these settings." in html
    assert "Save settings" not in html
    assert 'href="/settings/members/"' not in html
    r = c.get(reverse("member_list"))
    assert r.status_code == 403 and "This page is for admins and above." in r.content.decode()


def test_members_page_and_invitation_flows(owner_client, django_capture_on_commit_callbacks):
    link, r = _invite(owner_client, "new@shop.test", capture=django_capture_on_commit_callbacks)
    html = r.content.decode()
    assert f'href="http://127.0.0.1:8000{link}"' in html  # the one-time link, clickable
    assert "new@shop.test" in html and "Revoke" in html
    # The only member is the only owner: no Remove offered, and the page says why.
    assert 'data-confirm="Remove' not in html
    assert "The only owner: make someone else owner first." in html
    body = mail.outbox[0].body
    assert (
        "Olivia Owner (olivia@shop.test) invited you to join Acme Shop on Sellerdesk as agent."
        in body
    )
    assert link in body and "GMT." in body
    anon = Client()
    page = anon.get(link).content.decode()
    assert "Create account and join" in page and 'value="new@shop.test" disabled' in page
    r = anon.post(link, {"full_name": "Nina New", "password": PASSWORD}, follow=True)
    assert "Welcome to Acme Shop." in r.content.decode()


def test_invitation_cases(owner_client, db, django_capture_on_commit_callbacks):
    User.objects.create_user("exists@shop.test", PASSWORD)
    link, _ = _invite(owner_client, "exists@shop.test", capture=django_capture_on_commit_callbacks)
    page = Client().get(link).content.decode()
    assert f'href="/login/?next={link}"' in page
    wrong = owner_client.get(link)
    assert wrong.status_code == 403
    assert "but this invitation is for <strong>exists@shop.test</strong>" in wrong.content.decode()
    assert f'name="next" value="{link}"' in wrong.content.decode()
    right = Client()
    right.force_login(User.objects.get(email="exists@shop.test"))
    assert "Join Acme Shop</button>" in right.get(link).content.decode()
    bad = Client().get("/invitations/nope/")
    assert bad.status_code == 404 and "This invitation link does not work" in bad.content.decode()


def test_auth_pages_render(db):
    c = Client()
    for name, text in [
        ("login", "Sign in to Sellerdesk"),
        ("signup", "Create your Sellerdesk account"),
        ("password_reset", "Reset your password"),
        ("password_reset_done", "Check your e-mail"),
    ]:
        r = c.get(reverse(name))
        assert r.status_code == 200 and text in r.content.decode(), name
    r = c.get("/password-reset/MQ/bad-token/")
    assert "This link no longer works" in r.content.decode()


def test_password_reset_email(owner, db):
    Client().post(reverse("password_reset"), {"email": "olivia@shop.test"})
    msg = mail.outbox[0]
    assert msg.subject == "Reset your Sellerdesk password"
    assert re.search(r"http://testserver/password-reset/[\w-]+/[\w-]+/", msg.body)
    assert msg.body.startswith("Hello Olivia,")


def test_error_pages(owner_client, settings, rf):
    settings.DEBUG = False
    r = owner_client.get("/no-such-page/")
    assert r.status_code == 404 and "We couldn't find that page" in r.content.decode()
    assert "You are working in Acme Shop." in r.content.decode()
    r = server_error(rf.get("/"))
    assert r.status_code == 500 and "Something went wrong on our side" in r.content.decode()


def test_csrf_failure_page(owner):
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("login"), {"username": "olivia@shop.test", "password": PASSWORD})
    assert r.status_code == 403 and "That form had expired" in r.content.decode()
