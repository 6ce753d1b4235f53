"""The store-problem banner names only stores the viewer may serve (an agent limited to some
stores never sees the others' names), in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplaces.models import StoreStatus
from tenants.models import Membership
from tests.factories_marketplaces import StoreAccessFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stores(tenant):
    served = StoreFactory(tenant=tenant, name="Served Socks", status=StoreStatus.NEEDS_REAUTH)
    hidden = StoreFactory(tenant=tenant, name="Secret Shoes", status=StoreStatus.NEEDS_REAUTH)
    return served, hidden


def test_a_limited_agent_sees_only_the_problems_of_stores_they_serve(agent_client, agent, stores):
    served, hidden = stores
    StoreAccessFactory(store=served, membership=Membership.objects.get(user=agent))

    page = agent_client.get(reverse("settings")).content.decode()

    assert "<strong>Served Socks</strong> needs re-authorization" in page
    assert "Secret Shoes" not in page
    assert str(hidden.public_id) not in page


def test_an_unlimited_agent_and_an_owner_see_every_problem(agent_client, owner, client, stores):
    for viewer in (agent_client, client):
        if viewer is client:
            client.force_login(owner)
        page = viewer.get(reverse("settings")).content.decode()
        assert "<strong>Served Socks</strong> needs re-authorization" in page
        assert "<strong>Secret Shoes</strong> needs re-authorization" in page


def test_the_banner_costs_one_query(agent_client, agent, stores):
    served, _ = stores
    StoreAccessFactory(store=served, membership=Membership.objects.get(user=agent))
    with CaptureQueriesContext(connection) as queries:
        agent_client.get(reverse("settings"))
    banner = [q["sql"] for q in queries.captured_queries if "needs_reauth" in q["sql"]]
    assert len(banner) == 1
