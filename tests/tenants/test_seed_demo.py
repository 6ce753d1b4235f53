"""`make run` prints where the demo is: at SITE_URL, which follows PORT (SELLERDESK_PORT)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_demo_says_it_is_ready_at_the_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = io.StringIO()

    call_command("seed_demo", password="demo-pass-for-test", stdout=out)

    assert "Sellerdesk demo is ready at http://127.0.0.1:8123/\n" in out.getvalue()
    assert "8000" not in out.getvalue()


def test_the_demo_owner_is_a_member_not_a_site_operator_and_has_snippets_to_try(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from inbox.models import Snippet
    from inbox.snippets import STARTER_SNIPPETS
    from tenants.models import Membership, Role, User

    # A demo seeded by an older version made its owner a superuser: the next run takes it back.
    User.objects.create_user(
        email="owner@demo.sellerdesk.test", password="x", is_staff=True, is_superuser=True
    )

    call_command("seed_demo", password="demo-pass-for-test", stdout=io.StringIO())
    call_command("seed_demo", password="demo-pass-for-test", stdout=io.StringIO())  # idempotent

    owner = User.objects.get(email="owner@demo.sellerdesk.test")
    assert (owner.is_staff, owner.is_superuser) == (False, False)
    assert Membership.objects.get(user=owner).role == Role.OWNER
    assert not User.objects.filter(is_staff=True).exists()
    shortcuts = sorted(
        Snippet.objects.filter(tenant__slug="demo").values_list("shortcut", flat=True)
    )
    # Every app's starter snippets (the mailbox's, and triage's replies for each intent), once.
    from triage.suggestions import STARTER_REPLIES

    expected = [s["shortcut"] for s in STARTER_SNIPPETS] + [r["shortcut"] for r in STARTER_REPLIES]
    assert shortcuts == sorted(expected)
    assert len(set(shortcuts)) == len(shortcuts)
