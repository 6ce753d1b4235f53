"""Product-side fixtures over the live sandbox: settings pointed at it, and connected stores.

The stores get their own tokens through the consent flow and token get, as a real connection
would, so a test that refreshes or breaks its tokens never disturbs another test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from marketplaces.adapter import reset_default_client
from marketplaces.models import Market, Store
from marketplaces.tiktok.client import TikTokClient
from tenants.models import Tenant


def point_settings_at(settings: Any, sandbox: Any) -> None:
    settings.TIKTOK_APP_KEY = sandbox.app_key
    settings.TIKTOK_APP_SECRET = sandbox.app_secret
    settings.TIKTOK_SERVICE_ID = sandbox.service_id
    settings.TIKTOK_AUTH_BASE_URL = sandbox.base_url
    settings.TIKTOK_API_BASE_URL = sandbox.base_url
    settings.TIKTOK_AUTHORIZE_URL_US = f"{sandbox.base_url}/us/open/authorize"
    settings.TIKTOK_AUTHORIZE_URL_ROW = f"{sandbox.base_url}/open/authorize"
    settings.TIKTOK_MAX_RETRIES = 3
    reset_default_client()


@pytest.fixture
def tiktok_settings(settings, tiktok_sandbox) -> Iterator[Any]:
    """Django's TIKTOK_* settings point at the session sandbox for this test."""
    point_settings_at(settings, tiktok_sandbox)
    yield tiktok_sandbox
    reset_default_client()


def connect_store(
    sandbox: Any, *, tenant: Tenant, market: str = "US", seller_index: int = 0, shop_index: int = 0
) -> Store:
    """A Store of `tenant` for one sandbox shop, with tokens freshly granted for it."""
    client = TikTokClient.from_settings()
    grant = client.get_token(auth_code=sandbox.authorize(market, seller_index, state="fixture"))
    shop = client.authorized_shops(access_token=grant.access_token)[shop_index]
    store = Store(
        tenant=tenant,
        external_shop_id=shop.external_id,
        shop_cipher=shop.cipher,
        shop_code=shop.code,
        name=shop.name,
        region=shop.region,
        market=Market.US if market == "US" else Market.ROW,
        seller_type=shop.seller_type,
        seller_name=grant.seller_name,
        open_id=grant.open_id,
    )
    store.set_tokens(
        access_token=grant.access_token,
        access_token_expires_at=grant.access_token_expires_at,
        refresh_token=grant.refresh_token,
        refresh_token_expires_at=grant.refresh_token_expires_at,
    )
    store.save()
    return store


@pytest.fixture
def connect_sandbox_store(tiktok_settings) -> Callable[..., Store]:
    def connect(**kwargs: Any) -> Store:
        return connect_store(tiktok_settings, **kwargs)

    return connect
