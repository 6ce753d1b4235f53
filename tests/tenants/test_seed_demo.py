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
