"""Settings → API keys: owners and admins make keys (shown once) and revoke them."""

from __future__ import annotations

import re

import pytest

from tenants.models import APIKey
from tests.api.conftest import KeyClient
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db


def test_an_owner_creates_a_key_seen_once_then_revokes_it(owner_client, tenant):
    store = StoreFactory(tenant=tenant, name="Socks US")
    page = owner_client.get("/settings/api-keys/")
    assert page.status_code == 200
    assert "No API keys yet" in page.content.decode()
    created = owner_client.post(
        "/settings/api-keys/",
        {
            "name": "Returns bot",
            "scope": "write",
            "limit_to_stores": "on",
            "stores": [str(store.public_id)],
        },
    )
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    html = created.content.decode()
    secret = re.search(r"data-secret>([^<]+)<", html).group(1)
    key = APIKey.objects.get(tenant=tenant)
    assert (key.name, key.scope, key.limited_to_stores) == ("Returns bot", "write", True)
    assert [a.store for a in key.store_accesses.all()] == [store]
    # Shown once: the list afterwards has its prefix only.
    again = owner_client.get("/settings/api-keys/").content.decode()
    assert secret not in again and f"{key.prefix}…" in again
    assert KeyClient(secret).get("/api/v1/stores/").status_code == 200

    owner_client.post(f"/settings/api-keys/{key.public_id}/revoke/")
    assert KeyClient(secret).get("/api/v1/stores/").status_code == 401
    assert "Revoked" in owner_client.get("/settings/api-keys/").content.decode()


def test_a_bad_form_keeps_what_was_typed(owner_client, tenant):
    response = owner_client.post("/settings/api-keys/", {"name": "", "scope": "write"})
    assert response.status_code == 400
    assert not APIKey.objects.exists()


def test_agents_may_not_manage_keys(agent_client):
    assert agent_client.get("/settings/api-keys/").status_code == 403


def test_another_tenants_key_is_404_and_stays_usable(owner_client, other_tenant):
    from api.services import api_key_create

    theirs = api_key_create(tenant=other_tenant, name="Theirs", scope="read")
    response = owner_client.post(f"/settings/api-keys/{theirs.api_key.public_id}/revoke/")
    assert response.status_code == 404
    assert KeyClient(theirs.secret).get("/api/v1/stores/").status_code == 200
    assert owner_client.post("/settings/api-keys/not-a-uuid/revoke/").status_code == 404
