"""The client under the sandbox's faults: signatures, expired tokens, 429 and 5xx storms, timeouts.

Retries sleep through an injected recorder, so storms take no wall-clock time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from marketplaces.records import TextContent
from marketplaces.tiktok import errors
from marketplaces.tiktok.client import TikTokClient
from marketplaces.tiktok.signing import sign_request
from tests.marketplaces.test_client import (
    RecordingSession,
    ShopAccess,
    Sleeps,
    make_client,
    png,
    shop_access,
)
from tests.tiktok_sandbox import TikTokSandbox, free_port


@pytest.fixture
def sandbox(tiktok_sandbox: TikTokSandbox) -> Iterator[TikTokSandbox]:
    tiktok_sandbox.reset_faults()
    yield tiktok_sandbox
    tiktok_sandbox.reset_faults()


@pytest.fixture
def us(sandbox: TikTokSandbox) -> ShopAccess:
    return shop_access(sandbox)


def first_conversation(client: TikTokClient, access: ShopAccess) -> str:
    return client.conversations(**access.auth)[0].external_id


def query_of(url: str | None) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url or "").query, keep_blank_values=True))


# --- What goes on the wire ----------------------------------------------------------------------


def test_each_request_is_signed_over_the_exact_bytes_sent(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)

    list(client.order_pages(**us.auth, status="AWAITING_SHIPMENT", page_size=50))

    request = session.sent[0]
    query = query_of(request.url)
    path = urlsplit(request.url).path
    unsigned = {key: value for key, value in query.items() if key != "sign"}
    assert path == "/order/202309/orders/search"
    assert request.body == b'{"order_status":"AWAITING_SHIPMENT"}'
    assert query["sign"] == sign_request(sandbox.app_secret, path, unsigned, request.body)
    assert set(unsigned) == {"app_key", "timestamp", "shop_cipher", "page_size"}
    assert (unsigned["shop_cipher"], unsigned["page_size"]) == (us.shop_cipher, "50")
    assert request.headers["x-tts-access-token"] == us.access_token
    assert request.headers["Content-Type"] == "application/json"
    assert us.access_token not in (request.url or "")


def test_shop_cipher_only_where_the_contract_says(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)

    client.authorized_shops(access_token=us.access_token)
    client.agent_settings(**us.auth)

    shops_query, settings_query = (query_of(r.url) for r in session.sent)
    assert "shop_cipher" not in shops_query
    assert settings_query["shop_cipher"] == us.shop_cipher


def test_image_upload_is_multipart_field_data_and_not_signed_over_the_body(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)

    client.upload_image(**us.auth, image=png(10, 10), filename="x.png")

    (request,) = session.sent
    query = query_of(request.url)
    path = urlsplit(request.url).path
    unsigned = {key: value for key, value in query.items() if key != "sign"}
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="data"; filename="x.png"' in request.body
    assert query["sign"] == sign_request(sandbox.app_secret, path, unsigned, None)


def test_token_calls_go_unsigned_to_the_auth_host(sandbox):
    session = RecordingSession()
    client = make_client(sandbox, session=session)

    with pytest.raises(errors.InvalidAuthCodeError):
        client.get_token(auth_code="nope")

    (request,) = session.sent
    assert urlsplit(request.url).path == "/api/v2/token/get"
    assert query_of(request.url) == {
        "app_key": sandbox.app_key,
        "app_secret": sandbox.app_secret,
        "auth_code": "nope",
        "grant_type": "authorized_code",
    }


def test_secrets_and_tokens_never_reach_the_log(sandbox, us, caplog):
    sandbox.set_faults(rate_limit_ratio=1.0)
    client = make_client(sandbox, max_retries=1)

    with pytest.raises(errors.RateLimitedError):
        client.get_token(auth_code="secret-code")
    with pytest.raises(errors.RateLimitedError):
        client.agent_settings(**us.auth)

    logged = caplog.text
    assert "request_id=" in logged
    for secret in (sandbox.app_secret, us.access_token, "secret-code", us.shop_cipher):
        assert secret not in logged


def test_urllib3_debug_request_lines_are_redacted(sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    client = make_client(sandbox)

    with pytest.raises(errors.InvalidAuthCodeError):
        client.get_token(auth_code="debug-code-123")
    with pytest.raises(errors.TikTokApiError):
        client.refresh_token(refresh_token="TTP_refresh_secret")

    assert "/api/v2/token/get?app_key=" in caplog.text  # urllib3 did log the request line
    assert "app_secret=***" in caplog.text
    for secret in (sandbox.app_secret, "debug-code-123", "TTP_refresh_secret"):
        assert secret not in caplog.text


# --- Typed errors -------------------------------------------------------------------------------


def test_bad_signature_is_106001_and_nothing_changes(sandbox, us):
    good = make_client(sandbox)
    bad = make_client(sandbox, app_secret="not-the-secret")
    conversation_id = first_conversation(good, us)
    before = good.messages(**us.auth, conversation_id=conversation_id)
    setting = good.agent_settings(**us.auth).can_accept_chat

    with pytest.raises(errors.InvalidSignatureError) as raised:
        bad.send_message(
            **us.auth, conversation_id=conversation_id, content=TextContent("should not arrive")
        )
    with pytest.raises(errors.InvalidSignatureError):
        bad.update_agent_settings(**us.auth, can_accept_chat=not setting)
    with pytest.raises(errors.InvalidSignatureError):
        bad.authorized_shops(access_token=us.access_token)

    assert raised.value.code == 106001
    assert raised.value.request_id
    assert good.messages(**us.auth, conversation_id=conversation_id) == before
    assert good.agent_settings(**us.auth).can_accept_chat is setting


def test_expired_token_is_typed_and_a_refresh_recovers(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory()
    access = shop_access(sandbox)
    refresh = sandbox.seller(0)["refresh_token"]
    sleeps = Sleeps()
    client = make_client(sandbox, sleep=sleeps)
    sandbox.expire_tokens()

    with pytest.raises(errors.TokenExpiredError) as raised:
        list(client.orders(**access.auth))
    with pytest.raises(errors.TokenExpiredError):
        client.authorized_shops(access_token=access.access_token)

    assert raised.value.code == 105002
    assert sleeps == []  # not retried
    grant = client.refresh_token(refresh_token=refresh)
    shops = client.authorized_shops(access_token=grant.access_token)
    assert [s.external_id for s in shops] == [access.shop_id]


def test_invalid_token_is_typed(sandbox, us):
    client = make_client(sandbox)

    with pytest.raises(errors.InvalidTokenError) as raised:
        client.authorized_shops(access_token="TTP_forged")

    assert not isinstance(raised.value, errors.TokenExpiredError)
    assert raised.value.request_id


def test_deauthorized_shop_is_refused(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory()
    access = shop_access(sandbox)
    client = make_client(sandbox)
    sandbox.deauthorize(access.shop_id)

    with pytest.raises(errors.PermissionDeniedError) as raised:
        list(client.orders(**access.auth))

    assert raised.value.code == 105005
    assert client.authorized_shops(access_token=access.access_token) == []


def test_missing_or_foreign_shop_cipher_is_an_api_error(sandbox, us):
    client = make_client(sandbox)
    gb = shop_access(sandbox, seller_index=1)

    with pytest.raises(errors.TikTokApiError) as raised:
        client.agent_settings(access_token=us.access_token, shop_cipher=gb.shop_cipher)

    assert raised.value.code is not None and raised.value.code != 0


# --- Retries ------------------------------------------------------------------------------------


def test_rate_limit_storm_raises_after_the_cap_with_exponential_backoff(sandbox, us):
    sandbox.set_faults(rate_limit_ratio=1.0)
    session = RecordingSession()
    sleeps = Sleeps()
    client = make_client(sandbox, session=session, sleep=sleeps, max_retries=4, jitter=lambda: 1.0)

    with pytest.raises(errors.RateLimitedError) as raised:
        client.agent_settings(**us.auth)

    assert (raised.value.code, raised.value.http_status) == (36009002, 429)
    assert raised.value.request_id
    assert len(session.sent) == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]  # base 0.5 * 2**n, jitter pinned to its maximum


def test_backoff_jitter_stays_within_half_to_full_and_is_capped(sandbox, us):
    sandbox.set_faults(rate_limit_ratio=1.0)
    sleeps = Sleeps()
    client = make_client(sandbox, sleep=sleeps, max_retries=8, jitter=lambda: 0.0)

    with pytest.raises(errors.RateLimitedError):
        client.authorized_shops(access_token=us.access_token)

    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]  # cap 30 s, halved by jitter 0


def test_each_attempt_gets_a_new_timestamp_and_signature(sandbox, us):
    sandbox.set_faults(rate_limit_ratio=1.0)
    session = RecordingSession()
    ticks = iter(range(1_900_000_000, 1_900_000_100))
    client = make_client(sandbox, session=session, max_retries=2, clock=lambda: float(next(ticks)))

    with pytest.raises(errors.RateLimitedError):
        client.agent_settings(**us.auth)

    queries = [query_of(request.url) for request in session.sent]
    assert [q["timestamp"] for q in queries] == ["1900000000", "1900000001", "1900000002"]
    assert len({q["sign"] for q in queries}) == 3


def test_rate_limit_storm_is_retried_to_success(sandbox, us):
    sandbox.set_faults(rate_limit_ratio=0.5)
    sleeps = Sleeps()
    client = make_client(sandbox, sleep=sleeps, max_retries=25)

    orders = list(client.orders(**us.auth, page_size=10))

    assert len(orders) == 300 == len({o.external_id for o in orders})
    assert len(sleeps) >= 1  # 30 pages at a 50 % fault rate: retries certainly happened


def test_server_error_storm_raises_after_the_cap(sandbox, us):
    sandbox.set_faults(error_ratio=1.0)
    sleeps = Sleeps()
    client = make_client(sandbox, sleep=sleeps, max_retries=3)

    with pytest.raises(errors.ServerError) as raised:
        client.authorized_shops(access_token=us.access_token)

    assert raised.value.http_status is not None and raised.value.http_status >= 500
    assert raised.value.code == 36009003
    assert len(sleeps) == 3


def test_server_error_storm_is_retried_to_success(sandbox, us):
    sandbox.set_faults(error_ratio=0.5)
    sleeps = Sleeps()
    client = make_client(sandbox, sleep=sleeps, max_retries=25)

    returns = list(client.returns(**us.auth, page_size=10))
    products = list(client.products(**us.auth, page_size=2))
    conversations = client.conversations(
        **us.auth,
    )

    sandbox.reset_faults()
    clean = make_client(sandbox)
    assert [r.external_id for r in returns] == [r.external_id for r in clean.returns(**us.auth)]
    assert [p.external_id for p in products] == [p.external_id for p in clean.products(**us.auth)]
    assert len(conversations) == len(clean.conversations(**us.auth))
    assert len(sleeps) >= 1


# --- Sending is never blindly repeated ----------------------------------------------------------


def test_send_message_after_a_server_error_is_outcome_unknown_and_not_retried(sandbox, us):
    client = make_client(sandbox)
    conversation_id = first_conversation(client, us)
    sandbox.set_faults(error_ratio=1.0)
    session = RecordingSession()
    sleeps = Sleeps()
    sender = make_client(sandbox, session=session, sleep=sleeps, max_retries=5)

    with pytest.raises(errors.OutcomeUnknownError) as raised:
        sender.send_message(
            **us.auth, conversation_id=conversation_id, content=TextContent("once only")
        )

    assert len(session.sent) == 1 and sleeps == []
    assert isinstance(raised.value.cause, errors.ServerError)
    assert raised.value.code == 36009003
    assert raised.value.request_id == raised.value.cause.request_id


def test_create_conversation_after_a_server_error_is_outcome_unknown(sandbox, us):
    client = make_client(sandbox)
    buyer = client.conversations(**us.auth)[0].buyer
    assert buyer is not None and buyer.user_id
    sandbox.set_faults(error_ratio=1.0)
    sleeps = Sleeps()
    sender = make_client(sandbox, sleep=sleeps)

    with pytest.raises(errors.OutcomeUnknownError):
        sender.create_conversation(**us.auth, buyer_user_id=buyer.user_id)

    assert sleeps == []


def test_send_message_rate_limited_is_retried_because_it_was_rejected(sandbox, us):
    client = make_client(sandbox)
    conversation_id = first_conversation(client, us)
    before = client.messages(**us.auth, conversation_id=conversation_id)
    sandbox.set_faults(rate_limit_ratio=1.0)
    sleeps = Sleeps()
    sender = make_client(sandbox, sleep=sleeps, max_retries=3)

    with pytest.raises(errors.RateLimitedError):
        sender.send_message(**us.auth, conversation_id=conversation_id, content=TextContent("x"))

    assert len(sleeps) == 3
    sandbox.reset_faults()
    assert client.messages(**us.auth, conversation_id=conversation_id) == before


def test_send_message_survives_a_rate_limit_storm_exactly_once(sandbox, us):
    client = make_client(sandbox)
    conversation_id = first_conversation(client, us)
    before = client.messages(**us.auth, conversation_id=conversation_id)
    sandbox.set_faults(rate_limit_ratio=0.5)
    sender = make_client(sandbox, max_retries=30)

    sent = [
        sender.send_message(
            **us.auth, conversation_id=conversation_id, content=TextContent(f"storm {n}")
        )
        for n in range(6)
    ]

    sandbox.reset_faults()
    after = client.messages(**us.auth, conversation_id=conversation_id)
    new = after[len(before) :]
    assert [m.external_id for m in new] == sent
    assert [m.text for m in new] == [f"storm {n}" for n in range(6)]


def test_read_timeout_retries_reads_but_not_sends(sandbox, us):
    client = make_client(sandbox)
    conversation_id = first_conversation(client, us)
    sandbox.set_faults(latency_ms=600)
    sleeps = Sleeps()
    slow = make_client(sandbox, sleep=sleeps, read_timeout=0.2, max_retries=2)

    with pytest.raises(errors.TransportError) as read_error:
        slow.agent_settings(**us.auth)
    reads_slept = len(sleeps)
    with pytest.raises(errors.OutcomeUnknownError) as send_error:
        slow.send_message(
            **us.auth, conversation_id=conversation_id, content=TextContent("slow one")
        )

    assert reads_slept == 2
    assert len(sleeps) == 2  # the send was not retried
    assert "read timeout" in str(read_error.value)
    assert isinstance(send_error.value.cause, errors.TransportError)


def test_connection_refused_is_retried_even_for_sends(sandbox, us):
    sleeps = Sleeps()
    client = make_client(
        sandbox, api_base_url=f"http://127.0.0.1:{free_port()}", sleep=sleeps, max_retries=2
    )

    with pytest.raises(errors.TransportError) as raised:
        client.send_message(**us.auth, conversation_id="1", content=TextContent("never sent"))

    assert not isinstance(raised.value, errors.OutcomeUnknownError)
    assert len(sleeps) == 2
    assert "connection refused" in str(raised.value)


def test_retry_after_header_is_honoured(sandbox, us):
    """The sandbox may not send Retry-After; the parser is checked on a built response."""
    response = requests.Response()
    response.status_code = 429
    response.headers["Retry-After"] = "3"
    response._content = json.dumps(
        {"code": 36009002, "message": "Too many requests", "request_id": "R", "data": {}}
    ).encode()

    with pytest.raises(errors.RateLimitedError) as raised:
        TikTokClient._parse(response)

    assert raised.value.retry_after == 3.0
    client = make_client(sandbox, jitter=lambda: 0.0)
    assert client._backoff(0, raised.value) == 3.0
    assert client._backoff(4, raised.value) == 4.0  # ceiling 8 s, jitter 0: 4 s > 3 s
    raised.value.retry_after = 3600.0
    assert client._backoff(0, raised.value) is None  # too long to sleep in a worker: raise


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (502, errors.ServerError),
        (429, errors.RateLimitedError),
        (404, errors.NotFoundError),
        (400, errors.TikTokApiError),
        (200, errors.TransportError),
    ],
)
def test_a_body_that_is_not_an_envelope_is_typed_by_status(status, expected):
    response = requests.Response()
    response.status_code = status
    response._content = b"<html>Bad Gateway</html>"

    with pytest.raises(errors.TikTokError) as raised:
        TikTokClient._parse(response)

    assert type(raised.value) is expected
    assert raised.value.http_status == status
    assert raised.value.code is None


def test_non_ascii_text_is_signed_and_sent_as_utf8(sandbox, us):
    client = make_client(sandbox)
    conversation_id = first_conversation(client, us)
    text = "Grüße aus Köln 👋 — ¿todo bien? 你好"

    message_id = client.send_message(
        **us.auth, conversation_id=conversation_id, content=TextContent(text)
    )

    latest = client.messages(**us.auth, conversation_id=conversation_id)[-1]
    assert (latest.external_id, latest.text) == (message_id, text)
