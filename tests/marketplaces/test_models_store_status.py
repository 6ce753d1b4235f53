"""Store status changes: sync success, errors, a run of token errors, re-authorization."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from marketplaces import services
from marketplaces.models import StoreStatus, SyncJobStatus
from tests.factories_marketplaces import StoreFactory, SyncJobFactory


@pytest.fixture(autouse=True)
def _token_key(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


def test_a_run_of_token_errors_marks_the_store_needs_reauth(tenant):
    store = StoreFactory(tenant=tenant, tokens=("TTP_a", "TTP_r"))
    queued = SyncJobFactory(store=store, status=SyncJobStatus.QUEUED)

    for _ in range(services.STORE_TOKEN_ERROR_LIMIT - 1):
        services.store_record_error(
            store=store, message="105002 Expired credentials", token_error=True
        )
    store.refresh_from_db()
    assert (store.status, store.token_error_count) == (StoreStatus.ACTIVE, 2)

    services.store_record_error(store=store, message="105002 Expired credentials", token_error=True)

    store.refresh_from_db()
    assert store.status == StoreStatus.NEEDS_REAUTH
    assert store.status_reason == (
        "TikTok Shop refused this store's access 3 times in a row. Reconnect the store."
    )
    assert store.last_error == "105002 Expired credentials"
    assert store.last_error_at is not None
    # Not a revocation: the tokens stay for the reconnect flow to replace.
    assert (store.access_token, store.refresh_token) == ("TTP_a", "TTP_r")
    queued.refresh_from_db()
    assert queued.status == SyncJobStatus.PAUSED


def test_a_success_ends_the_run_of_token_errors(tenant):
    store = StoreFactory(tenant=tenant)
    services.store_record_error(store=store, message="105002", token_error=True)
    services.store_record_error(store=store, message="105002", token_error=True)

    services.store_record_sync_success(store=store)
    services.store_record_error(store=store, message="105002", token_error=True)

    store.refresh_from_db()
    assert (store.status, store.token_error_count) == (StoreStatus.ACTIVE, 1)
    assert store.last_synced_at is not None


def test_other_errors_are_shown_but_do_not_pause_the_store(tenant):
    store = StoreFactory(tenant=tenant)

    for _ in range(5):
        services.store_record_error(store=store, message="36009003 Internal error")

    store.refresh_from_db()
    assert (store.status, store.token_error_count) == (StoreStatus.ACTIVE, 0)
    assert store.last_error == "36009003 Internal error"


def test_a_disconnected_store_stays_disconnected(tenant):
    store = StoreFactory(tenant=tenant, status=StoreStatus.DISCONNECTED)

    services.store_mark_needs_reauth(store=store, reason="x")
    for _ in range(services.STORE_TOKEN_ERROR_LIMIT):
        services.store_record_error(store=store, message="105002", token_error=True)

    store.refresh_from_db()
    assert store.status == StoreStatus.DISCONNECTED


def test_marking_needs_reauth_twice_keeps_the_first_change_time(tenant):
    store = StoreFactory(tenant=tenant)
    services.store_mark_needs_reauth(store=store, reason="first")
    store.refresh_from_db()
    first_change = store.status_changed_at

    services.store_mark_needs_reauth(store=store, reason="second")

    store.refresh_from_db()
    assert (store.status_changed_at, store.status_reason) == (first_change, "second")
