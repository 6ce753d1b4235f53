"""The store adapter against the live sandbox: credentials, refresh on expiry, token errors."""

from __future__ import annotations

import pytest

from marketplaces.adapter import StoreUnavailableError, store_api
from marketplaces.channel import InvalidTokenError
from marketplaces.models import Store, StoreStatus
from marketplaces.services import STORE_TOKEN_ERROR_LIMIT
from tests.sandbox_stores import connect_store, point_settings_at

pytestmark = pytest.mark.django_db


def test_calls_carry_the_stores_token_and_cipher(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    first_page = next(store_api(store).order_pages(page_size=10))
    assert len(first_page.items) == 10
    ids = [order.external_id for order in first_page.items[:3]]
    assert [o.external_id for o in store_api(store).orders_by_id(ids)] == ids


def test_an_expired_token_is_refreshed_once_and_the_call_goes_on(
    tiktok_sandbox_factory, settings, tenant
):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    old_ciphertext = store.access_token_encrypted
    sandbox.expire_tokens()

    page = next(store_api(store).order_pages(page_size=5))

    assert len(page.items) == 5
    saved = Store.objects.get(pk=store.pk)
    assert saved.access_token_encrypted != old_ciphertext
    assert saved.access_token == store.access_token
    assert saved.status == StoreStatus.ACTIVE


def test_paging_resumes_in_place_when_the_token_expires_mid_way(
    tiktok_sandbox_factory, settings, tenant
):
    sandbox = tiktok_sandbox_factory()
    point_settings_at(settings, sandbox)
    store = connect_store(sandbox, tenant=tenant)
    seen: list[str] = []
    total = None
    for number, page in enumerate(store_api(store).order_pages(page_size=50)):
        total = page.total_count
        seen.extend(order.external_id for order in page.items)
        if number == 0:
            sandbox.expire_tokens()
    assert total is not None and total > 100
    assert len(seen) == total
    assert len(set(seen)) == total


def test_repeated_token_refusals_mark_the_store_for_reauthorization(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    store.set_tokens(
        access_token="TTP_not-a-real-token",
        access_token_expires_at=store.access_token_expires_at,
        refresh_token=store.refresh_token,
        refresh_token_expires_at=store.refresh_token_expires_at,
    )
    store.save()
    api = store_api(store)
    for _ in range(STORE_TOKEN_ERROR_LIMIT):
        with pytest.raises(InvalidTokenError):
            api.orders_by_id(["1"])
    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
    assert store.token_error_count == STORE_TOKEN_ERROR_LIMIT
    with pytest.raises(StoreUnavailableError):
        store_api(store).orders_by_id(["1"])


def test_a_success_ends_a_run_of_token_errors(connect_sandbox_store, tenant):
    store = connect_sandbox_store(tenant=tenant)
    Store.objects.filter(pk=store.pk).update(token_error_count=2)
    store.refresh_from_db()
    next(store_api(store).order_pages(page_size=1))
    store.refresh_from_db()
    assert store.token_error_count == 0
