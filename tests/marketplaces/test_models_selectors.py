"""Store selectors and access helpers, store limits for agents, and single-use connect state."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import signing
from django.http import Http404
from django.utils import timezone

from marketplaces import selectors, services
from marketplaces.models import OAuthState, StoreAccess, SyncJobStatus, SyncMode
from tenants.models import Role
from tests.factories_marketplaces import StoreFactory, SyncJobFactory, member


@pytest.fixture
def stores(tenant):
    return StoreFactory(tenant=tenant, name="Alpha"), StoreFactory(tenant=tenant, name="Beta")


@pytest.fixture
def rival_store(other_tenant):
    return StoreFactory(tenant=other_tenant, name="Rival shop")


def names(queryset) -> list[str]:
    return [store.name for store in queryset]


# --- store_get ----------------------------------------------------------------------------------


def test_store_get_returns_our_store(tenant, stores):
    alpha, _ = stores

    assert selectors.store_get(tenant=tenant, public_id=alpha.public_id) == alpha
    assert selectors.store_get(tenant=tenant, public_id=str(alpha.public_id)) == alpha


def test_store_get_of_another_tenants_store_is_404(tenant, stores, rival_store):
    with pytest.raises(Http404):
        selectors.store_get(tenant=tenant, public_id=rival_store.public_id)


@pytest.mark.parametrize("public_id", ["not-a-uuid", "", None, 42, uuid.UUID(int=0)])
def test_store_get_with_a_bad_or_unknown_id_is_404(tenant, stores, public_id):
    with pytest.raises(Http404):
        selectors.store_get(tenant=tenant, public_id=public_id)


def test_store_get_with_a_membership_of_another_tenant_is_404(tenant, other_tenant, stores):
    outsider = member(other_tenant, Role.OWNER)

    with pytest.raises(Http404):
        selectors.store_get(tenant=tenant, public_id=stores[0].public_id, membership=outsider)


def test_an_agent_limited_to_one_store_gets_404_for_the_other(tenant, stores):
    alpha, beta = stores
    agent = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=alpha)

    assert selectors.store_get(tenant=tenant, public_id=alpha.public_id, membership=agent) == alpha
    with pytest.raises(Http404):
        selectors.store_get(tenant=tenant, public_id=beta.public_id, membership=agent)


# --- stores_visible_to --------------------------------------------------------------------------


def test_an_agent_without_limits_sees_every_store_of_the_tenant_only(tenant, stores, rival_store):
    agent = member(tenant, Role.AGENT)

    assert names(selectors.stores_visible_to(agent)) == ["Alpha", "Beta"]
    assert selectors.is_store_limited(agent) is False


def test_an_agent_limited_to_one_store_sees_only_that_store(tenant, stores, rival_store):
    alpha, _ = stores
    agent = member(tenant, Role.AGENT)
    teammate = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=agent, store=alpha)

    assert names(selectors.stores_visible_to(agent)) == ["Alpha"]
    assert selectors.is_store_limited(agent) is True
    assert names(selectors.stores_visible_to(teammate)) == ["Alpha", "Beta"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_owners_and_admins_always_see_every_store(tenant, stores, role):
    boss = member(tenant, role)
    StoreAccess.objects.create(tenant=tenant, membership=boss, store=stores[0])

    assert names(selectors.stores_visible_to(boss)) == ["Alpha", "Beta"]


def test_the_other_tenant_sees_only_its_own_store(other_tenant, stores, rival_store):
    rival = member(other_tenant, Role.OWNER)

    assert names(selectors.stores_visible_to(rival)) == ["Rival shop"]


# --- store_access_set ---------------------------------------------------------------------------


def test_an_admin_limits_an_agent_then_lifts_the_limit(tenant, stores):
    alpha, beta = stores
    admin, agent = member(tenant, Role.ADMIN), member(tenant, Role.AGENT)

    services.store_access_set(actor=admin, membership=agent, stores=[alpha])
    assert names(selectors.stores_visible_to(agent)) == ["Alpha"]

    services.store_access_set(actor=admin, membership=agent, stores=[beta, alpha])
    assert sorted(StoreAccess.objects.values_list("store__name", flat=True)) == ["Alpha", "Beta"]

    services.store_access_set(actor=admin, membership=agent, stores=[beta])
    assert names(selectors.stores_visible_to(agent)) == ["Beta"]

    services.store_access_set(actor=admin, membership=agent, stores=[], all_stores=True)
    assert StoreAccess.objects.count() == 0
    assert names(selectors.stores_visible_to(agent)) == ["Alpha", "Beta"]


def test_removing_an_agents_last_store_narrows_their_access_to_none(tenant, stores):
    """Issue 9, defect 11: an agent left with no store-access rows used to see every store."""
    alpha, beta = stores
    admin, agent = member(tenant, Role.ADMIN), member(tenant, Role.AGENT)
    services.store_access_set(actor=admin, membership=agent, stores=[alpha])

    services.store_access_set(actor=admin, membership=agent, stores=[])

    agent.refresh_from_db()
    assert agent.limited_to_stores is True
    assert names(selectors.stores_visible_to(agent)) == []
    # The same when the store itself goes away (its access row is deleted with it).
    services.store_access_set(actor=admin, membership=agent, stores=[beta])
    beta.delete()
    agent.refresh_from_db()
    assert names(selectors.stores_visible_to(agent)) == []
    assert selectors.is_store_limited(agent) is True


def test_an_agent_cannot_change_store_limits(tenant, stores):
    agent, teammate = member(tenant, Role.AGENT), member(tenant, Role.AGENT)

    with pytest.raises(services.StoreError, match="Only owners and admins"):
        services.store_access_set(actor=agent, membership=teammate, stores=[stores[0]])
    assert StoreAccess.objects.count() == 0


def test_limits_cannot_use_another_tenants_store_or_member(tenant, other_tenant, rival_store):
    admin, agent = member(tenant, Role.ADMIN), member(tenant, Role.AGENT)
    outsider = member(other_tenant, Role.AGENT)

    with pytest.raises(services.StoreError, match="does not belong to this organisation"):
        services.store_access_set(actor=admin, membership=agent, stores=[rival_store])
    with pytest.raises(services.StoreError, match="not a member of this organisation"):
        services.store_access_set(actor=admin, membership=outsider, stores=[], all_stores=True)
    assert StoreAccess.objects.count() == 0


# --- sync progress ------------------------------------------------------------------------------


def test_sync_progress_prefers_the_unfinished_backfill(tenant, stores, rival_store):
    alpha, beta = stores
    SyncJobFactory(store=alpha, status=SyncJobStatus.COMPLETED, items_fetched=10)
    running = SyncJobFactory(store=alpha, status=SyncJobStatus.RUNNING, items_fetched=41_200)
    SyncJobFactory(store=alpha, mode=SyncMode.INCREMENTAL, status=SyncJobStatus.QUEUED)
    finished = SyncJobFactory(store=beta, status=SyncJobStatus.COMPLETED)
    SyncJobFactory(store=rival_store, status=SyncJobStatus.RUNNING)

    progress = selectors.sync_progress(tenant=tenant, stores=[alpha, beta, rival_store])

    assert progress == {alpha.pk: running, beta.pk: finished}


# --- Connect state ------------------------------------------------------------------------------


def test_connect_state_is_consumed_once_by_the_person_who_started(tenant):
    admin = member(tenant, Role.ADMIN)
    state = services.oauth_state_issue(membership=admin, market="row")

    consumed = services.oauth_state_consume(state=state, user=admin.user)

    assert (consumed.tenant, consumed.user, consumed.market) == (tenant, admin.user, "row")
    assert consumed.used_at is not None
    with pytest.raises(services.OAuthStateError, match="already used"):
        services.oauth_state_consume(state=state, user=admin.user)


def test_connect_state_of_someone_else_is_refused(tenant):
    admin, teammate = member(tenant, Role.ADMIN), member(tenant, Role.ADMIN)
    state = services.oauth_state_issue(membership=admin, market="us")

    with pytest.raises(services.OAuthStateError):
        services.oauth_state_consume(state=state, user=teammate.user)
    assert OAuthState.objects.get().used_at is None


def test_a_forged_connect_state_is_refused(tenant):
    admin = member(tenant, Role.ADMIN)
    services.oauth_state_issue(membership=admin, market="us")
    nonce = OAuthState.objects.get().nonce

    for forged in (nonce, signing.dumps(nonce, salt="another-salt"), "", "x:y:z"):
        with pytest.raises(services.OAuthStateError, match="not valid"):
            services.oauth_state_consume(state=forged, user=admin.user)
    assert OAuthState.objects.get().used_at is None


def test_an_expired_connect_state_is_refused(tenant):
    admin = member(tenant, Role.ADMIN)
    state = services.oauth_state_issue(membership=admin, market="us")
    OAuthState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(services.OAuthStateError, match="expired"):
        services.oauth_state_consume(state=state, user=admin.user)


def test_connect_state_for_an_unknown_market_is_not_issued(tenant):
    with pytest.raises(ValueError):
        services.oauth_state_issue(membership=member(tenant, Role.ADMIN), market="mars")
    assert OAuthState.objects.count() == 0
