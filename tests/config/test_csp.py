"""The Content-Security-Policy header: strict on every page, and the standalone 500 page's inline
<style> admitted by its hash alone (browser check of every page: tests/e2e/test_csp.py)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.http import HttpRequest
from django.urls import path

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest):
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", _boom)]
handler500 = "config.views.server_error"


def test_pages_carry_a_strict_policy(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_the_500_page_admits_its_own_inline_style_by_hash_only(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    style = re.search(rb"<style>(.*?)</style>", response.content, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
    policy = response["Content-Security-Policy"]
    style_src = next(p.strip() for p in policy.split(";") if p.strip().startswith("style-src "))
    assert style_src == f"style-src 'self' 'sha256-{digest}'"
    assert "unsafe" not in policy


def test_the_marketplace_consent_page_and_an_http_sandbox_are_read_live(client, settings):
    settings.TIKTOK_AUTHORIZE_URL_US = "http://127.0.0.1:9200/us/open/authorize"
    settings.TIKTOK_AUTHORIZE_URL_ROW = "https://services.tiktokshop.com/open/authorize"
    settings.TIKTOK_API_BASE_URL = "http://127.0.0.1:9200"
    policy = client.get("/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["form-action"] == (
        "'self' http://127.0.0.1:9200 https://services.tiktokshop.com"
    )
    assert directives["img-src"] == "'self' data: https: http://127.0.0.1:9200"
