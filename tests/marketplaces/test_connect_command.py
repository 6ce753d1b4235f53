"""`manage.py connect_sandbox_stores`: the `make run` connection, through the real flow."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplaces.models import Market, OAuthState, Store, StoreStatus
from tenants.models import AuditEvent
from tests.sandbox_stores import point_settings_at

pytestmark = pytest.mark.django_db


def run(sandbox, tenant) -> list[str]:
    out = StringIO()
    call_command(
        "connect_sandbox_stores", sandbox_url=sandbox.base_url, tenant=tenant.slug, stdout=out
    )
    return out.getvalue().splitlines()


def test_connects_the_us_and_row_sellers_then_leaves_them_alone(tiktok_settings, tenant, owner):
    first = run(tiktok_settings, tenant)

    assert first == [
        "US: connected Sunrise Outfitters (US).",
        "ROW: connected Maomao Beauty UK (GB).",
        "ROW: connected Maomao Beauté FR (FR).",
    ]
    stores = Store.objects.filter(tenant=tenant).order_by("market", "name")
    assert [(s.name, s.market, s.status, s.connected_by) for s in stores] == [
        ("Maomao Beauty UK", Market.ROW, StoreStatus.ACTIVE, owner),
        ("Maomao Beauté FR", Market.ROW, StoreStatus.ACTIVE, owner),
        ("Sunrise Outfitters", Market.US, StoreStatus.ACTIVE, owner),
    ]
    # It went through connect states like a person does: two issued, both used.
    assert OAuthState.objects.filter(used_at__isnull=False).count() == 2
    ciphertexts = {s.pk: s.access_token_encrypted for s in stores}

    second = run(tiktok_settings, tenant)

    assert second == [
        "US: already connected (Sunrise Outfitters); left alone.",
        "ROW: already connected (Maomao Beauty UK, Maomao Beauté FR); left alone.",
    ]
    assert {s.pk: s.access_token_encrypted for s in Store.objects.all()} == ciphertexts
    assert AuditEvent.objects.filter(action="store.connected").count() == 3


def test_follows_the_redirect_when_the_sandbox_has_a_callback_url(
    tiktok_sandbox_factory, settings, tenant, owner
):
    sandbox = tiktok_sandbox_factory(
        days=2, orders_per_day=5, redirect_url="http://127.0.0.1:8000/stores/connect/callback/"
    )
    point_settings_at(settings, sandbox)

    lines = run(sandbox, tenant)

    assert lines[0] == "US: connected Sunrise Outfitters (US)."
    assert Store.objects.filter(tenant=tenant).count() == 3


def test_refuses_settings_that_point_elsewhere(tiktok_settings, settings, tenant, owner):
    settings.TIKTOK_AUTH_BASE_URL = "https://auth.tiktok-shops.com"
    with pytest.raises(CommandError, match="not the sandbox at"):
        run(tiktok_settings, tenant)
    assert Store.objects.count() == 0


def test_an_unknown_tenant_is_an_error(tiktok_settings, db):
    out = StringIO()
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command(
            "connect_sandbox_stores",
            sandbox_url=tiktok_settings.base_url,
            tenant="nope",
            stdout=out,
        )
