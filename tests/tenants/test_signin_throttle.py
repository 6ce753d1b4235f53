"""Sign-in throttling on /login/ and /admin/login/: per account and per client address, with a
clear message that says until when, and a successful sign-in clearing its account's count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tenants import signin_throttle
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT_PAUSED = "Too many failed sign-ins to this account."
NETWORK_PAUSED = "Too many failed sign-ins from your network."


@pytest.fixture(autouse=True)
def _limits(settings, private_cache):
    # Hundreds of password checks: a fast hasher (PBKDF2's million rounds would take minutes).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIGNIN_MAX_FAILURES_PER_ACCOUNT = 10
    settings.SIGNIN_MAX_FAILURES_PER_ADDRESS = 50
    settings.SIGNIN_LOCKOUT_SECONDS = 900
    settings.SIGNIN_TRUSTED_PROXIES = 0


def sign_in(email: str, password: str, *, address: str = "203.0.113.7", path: str = "/login/"):
    """A fresh browser from `address`; (response, signed in?)."""
    client = Client(REMOTE_ADDR=address)
    response = client.post(path, {"username": email, "password": password})
    return response, "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_during_the_pause(owner, password):
    for _ in range(30):
        response, signed_in = sign_in("owner@acme.test", "wrong-password")
        assert not signed_in

    response, signed_in = sign_in("owner@acme.test", password)

    assert not signed_in
    assert response.status_code == 429
    assert 840 <= int(response["Retry-After"]) <= 900
    page = response.content.decode()
    assert ACCOUNT_PAUSED in page
    assert "signing in is paused for 15 minutes: try again after" in page
    # Another address does not help: the pause is the account's.
    assert sign_in("Owner@Acme.test", password, address="198.51.100.9")[1] is False


def test_the_message_appears_on_the_failure_that_reaches_the_limit(owner):
    for _ in range(9):
        response, _ = sign_in("owner@acme.test", "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct e-mail address and password." in response.content.decode()

    response, _ = sign_in("owner@acme.test", "wrong-password")

    assert response.status_code == 429
    assert ACCOUNT_PAUSED in response.content.decode()


def test_another_account_from_the_same_address_is_unaffected(owner, agent, password):
    for _ in range(30):
        sign_in("owner@acme.test", "wrong-password")

    assert sign_in("agent@acme.test", password)[1] is True


def test_an_address_that_guesses_at_many_accounts_is_paused_and_others_are_not(agent, password):
    for n in range(50):
        sign_in(f"nobody{n}@example.test", "wrong-password", address="192.0.2.50")

    response, signed_in = sign_in("agent@acme.test", password, address="192.0.2.50")
    assert not signed_in
    assert response.status_code == 429
    assert NETWORK_PAUSED in response.content.decode()

    assert sign_in("agent@acme.test", password, address="192.0.2.51")[1] is True


def test_an_email_without_an_account_is_paused_like_one_with_an_account(owner):
    """The pause says nothing about which e-mails have accounts."""
    for _ in range(10):
        sign_in("stranger@example.test", "wrong-password")
    for _ in range(10):
        sign_in("owner@acme.test", "wrong-password")

    unknown, _ = sign_in("stranger@example.test", "whatever")
    known, _ = sign_in("owner@acme.test", "whatever")

    assert unknown.status_code == known.status_code == 429
    assert ACCOUNT_PAUSED in unknown.content.decode()
    assert ACCOUNT_PAUSED in known.content.decode()


def test_a_successful_sign_in_clears_the_accounts_count(owner, password):
    for _ in range(9):
        sign_in("owner@acme.test", "wrong-password")
    assert sign_in("owner@acme.test", password)[1] is True

    for _ in range(9):
        sign_in("owner@acme.test", "wrong-password")

    assert sign_in("owner@acme.test", password)[1] is True


def test_the_pause_ends(owner, password, monkeypatch):
    for _ in range(10):
        sign_in("owner@acme.test", "wrong-password")
    assert sign_in("owner@acme.test", password)[1] is False

    later = signin_throttle._now() + timedelta(seconds=901)
    monkeypatch.setattr(signin_throttle, "_now", lambda: later)

    assert sign_in("owner@acme.test", password)[1] is True


def test_the_admin_sign_in_is_throttled_too(db, password):
    staff = UserFactory(email="staff@acme.test", is_staff=True, is_superuser=True)
    MembershipFactory(user=staff)
    for _ in range(30):
        assert sign_in(staff.email, "wrong-password", path="/admin/login/")[1] is False

    response, signed_in = sign_in(staff.email, password, path="/admin/login/")

    assert not signed_in
    assert response.status_code == 429
    assert ACCOUNT_PAUSED in response.content.decode()
    # Someone else still reaches the admin.
    other = UserFactory(email="other-staff@acme.test", is_staff=True)
    assert sign_in(other.email, password, path="/admin/login/")[1] is True


def test_forwarded_addresses_count_only_behind_trusted_proxies(settings, agent, password):
    settings.SIGNIN_TRUSTED_PROXIES = 1
    proxied = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(50):
        Client(**proxied, HTTP_X_FORWARDED_FOR=f"1.2.3.4, 192.0.2.{n % 2}").post(
            "/login/", {"username": f"x{n}@example.test", "password": "wrong"}
        )

    # Behind one trusted proxy the client is the last forwarded entry: 192.0.2.0 and .1 made
    # 25 failures each, under the limit; the proxy's own address is not what is counted.
    client = Client(**proxied, HTTP_X_FORWARDED_FOR="192.0.2.99")
    client.post("/login/", {"username": "agent@acme.test", "password": password})
    assert "_auth_user_id" in client.session
