"""The channel interface: TikTok's errors as the channel vocabulary, capabilities, the registry."""

from __future__ import annotations

import pytest

from marketplaces import channel
from marketplaces.adapter import store_api
from marketplaces.models import Platform
from marketplaces.tiktok import errors
from marketplaces.tiktok.adapter import CAPABILITIES, TikTokStoreAPI, channel_error
from tests.factories_marketplaces import StoreFactory


@pytest.mark.parametrize(
    ("tiktok", "expected"),
    [
        (errors.RateLimitedError("Too many", code=36009002, retry_after=7.0), "RateLimitedError"),
        (errors.ServerError("Internal error", code=36009003, http_status=500), "UnavailableError"),
        (errors.TransportError("GET /x: read timeout"), "UnavailableError"),
        (
            errors.OutcomeUnknownError("maybe", cause=errors.ServerError("5xx", http_status=502)),
            "OutcomeUnknownError",
        ),
        (errors.TokenExpiredError("expired", code=105002), "InvalidTokenError"),
        (errors.InvalidTokenError("revoked", code=105001), "InvalidTokenError"),
        (errors.PermissionDeniedError("scope", code=105005), "PermissionDeniedError"),
        (errors.PermissionDeniedError("criteria", code=45109003), "PermissionDeniedError"),
        # Another seller's order: for this store it does not exist.
        (errors.PermissionDeniedError("not yours", code=21008111), "NotFoundError"),
        (errors.NotFoundError("no record", code=45101003), "NotFoundError"),
        (errors.QuotaExceededError("daily", code=45101004), "QuotaExceededError"),
        (
            errors.TikTokApiError("Invalid parameter. `page_token` is invalid.", code=40006),
            "PageTokenInvalidError",
        ),
        (
            errors.TikTokApiError("Invalid parameter. `ids` too long.", code=40006),
            "InvalidRequestError",
        ),
        (errors.InvalidSignatureError("bad sign", code=106001), "InvalidRequestError"),
        (errors.PaginationError("same token again", http_status=200), "InvalidRequestError"),
    ],
)
def test_every_tiktok_error_has_its_channel_name(tiktok, expected):
    mapped = channel_error(tiktok)

    assert type(mapped).__name__ == expected
    assert type(mapped).__module__ == "marketplaces.channel"
    assert (mapped.code, mapped.request_id, mapped.http_status) == (
        tiktok.code,
        tiktok.request_id,
        tiktok.http_status,
    )
    assert mapped.detail == tiktok.message


def test_a_rate_limit_keeps_the_platforms_hint():
    mapped = channel_error(errors.RateLimitedError("slow down", code=36009002, retry_after=12.5))
    assert isinstance(mapped, channel.RateLimitedError)
    assert mapped.retry_after == 12.5
    assert isinstance(mapped, channel.TRANSIENT_ERRORS)


def test_tiktok_declares_what_a_reply_may_be():
    assert channel.capabilities_for(Platform.TIKTOK) is CAPABILITIES
    assert CAPABILITIES.text_max_chars == 2000
    assert CAPABILITIES.can_send("TEXT") and CAPABILITIES.can_send("IMAGE")
    assert not CAPABILITIES.can_send("EMOTICONS")  # received only (contract §6.2/6.3)
    assert CAPABILITIES.image is not None
    assert CAPABILITIES.image.max_bytes == 15 * 1024 * 1024
    assert sorted(CAPABILITIES.image.formats) == ["GIF", "JPEG", "PNG", "WEBP"]
    assert CAPABILITIES.text_and_image_in_one_message is False


@pytest.mark.django_db
def test_a_store_gets_the_api_of_its_channel(tenant):
    store = StoreFactory(tenant=tenant)
    api = store_api(store)
    assert isinstance(api, TikTokStoreAPI)
    assert api.store is store
    assert api.capabilities is CAPABILITIES


def test_an_unknown_platform_has_no_channel():
    with pytest.raises(LookupError, match="No channel is registered for platform 'fax'"):
        channel.channel_for("fax")
