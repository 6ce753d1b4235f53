"""The client against the live sandbox over real HTTP: every method, pagination, consent, tokens."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image as PILImage

from marketplaces.records import (
    CouponCardContent,
    ImageContent,
    LogisticsCardContent,
    OrderCardContent,
    OutgoingContent,
    ProductCardContent,
    ReturnRefundCardContent,
    TextContent,
    VideoContent,
)
from marketplaces.tiktok import errors, mapping
from marketplaces.tiktok.client import (
    IMAGE_ACCEPT_LIMIT,
    IMAGE_UPLOAD_LIMIT,
    Market,
    PreparedImage,
    TikTokClient,
    prepare_image,
)
from marketplaces.tiktok.config import TikTokConfig
from tests.tiktok_sandbox import TikTokSandbox


class RecordingSession(requests.Session):
    """A real session that also keeps every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        return super().send(request, **kwargs)


class Sleeps(list[float]):
    """An injected sleeper: records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass(frozen=True)
class ShopAccess:
    shop_id: str
    access_token: str
    shop_cipher: str

    @property
    def auth(self) -> dict[str, str]:
        return {"access_token": self.access_token, "shop_cipher": self.shop_cipher}


def shop_access(sandbox: TikTokSandbox, seller_index: int = 0, shop_index: int = 0) -> ShopAccess:
    seller = sandbox.seller(seller_index)
    shop = seller["shops"][shop_index]
    return ShopAccess(shop["id"], seller["access_token"], shop["cipher"])


def make_client(
    sandbox: TikTokSandbox,
    *,
    app_secret: str | None = None,
    api_base_url: str | None = None,
    max_retries: int = 3,
    read_timeout: float = 10.0,
    sleep: Callable[[float], None] | None = None,
    session: requests.Session | None = None,
    clock: Callable[[], float] | None = None,
    jitter: Callable[[], float] | None = None,
) -> TikTokClient:
    config = TikTokConfig(
        app_key=sandbox.app_key,
        app_secret=app_secret if app_secret is not None else sandbox.app_secret,
        service_id=sandbox.service_id,
        auth_base_url=sandbox.base_url,
        api_base_url=api_base_url or sandbox.base_url,
        authorize_url_us=f"{sandbox.base_url}/us/open/authorize",
        authorize_url_row=f"{sandbox.base_url}/open/authorize",
        connect_timeout=2.0,
        read_timeout=read_timeout,
        max_retries=max_retries,
    )
    kwargs: dict[str, Any] = {"sleep": sleep if sleep is not None else Sleeps()}
    if session is not None:
        kwargs["session"] = session
    if clock is not None:
        kwargs["clock"] = clock
    if jitter is not None:
        kwargs["jitter"] = jitter
    return TikTokClient(config, **kwargs)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def sandbox(tiktok_sandbox: TikTokSandbox) -> Iterator[TikTokSandbox]:
    """The session sandbox, with faults cleared before and after each test."""
    tiktok_sandbox.reset_faults()
    yield tiktok_sandbox
    tiktok_sandbox.reset_faults()


@pytest.fixture
def us(sandbox: TikTokSandbox) -> ShopAccess:
    return shop_access(sandbox)


@pytest.fixture
def client(sandbox: TikTokSandbox) -> Iterator[TikTokClient]:
    with make_client(sandbox) as client:
        yield client


# --- Consent and tokens -------------------------------------------------------------------------


def test_authorize_url_for_each_market_carries_service_id_and_state(sandbox, client):
    us_url = client.authorize_url(market=Market.US, state="st/1 2")
    row_url = client.authorize_url(market="row", state="abc")

    assert us_url == (
        f"{sandbox.base_url}/us/open/authorize?service_id={sandbox.service_id}&state=st%2F1+2"
    )
    assert row_url == f"{sandbox.base_url}/open/authorize?service_id={sandbox.service_id}&state=abc"
    # The sandbox's consent pages accept what the client builds.
    assert requests.get(us_url, timeout=10).status_code == 200
    assert requests.get(row_url, timeout=10).status_code == 200
    with pytest.raises(ValueError):
        client.authorize_url(market="EU", state="x")


def test_production_defaults_point_at_tiktok():
    config = TikTokConfig(app_key="k", app_secret="s", service_id="7")
    client = TikTokClient(config)

    assert client.authorize_url(market="US", state="x") == (
        "https://services.us.tiktokshop.com/open/authorize?service_id=7&state=x"
    )
    assert client.authorize_url(market="ROW", state="x") == (
        "https://services.tiktokshop.com/open/authorize?service_id=7&state=x"
    )
    assert "app_secret" not in repr(config)


def test_consent_approve_then_token_get_shops_and_refresh_round_trip(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory()
    client = make_client(sandbox)
    seller = sandbox.seller(0)

    code = sandbox.authorize(market="US", state="round-trip")
    grant = client.get_token(auth_code=code)

    now = datetime.now(tz=UTC)
    assert grant.open_id == seller["open_id"]
    assert grant.seller_name == seller["seller_name"]
    assert grant.access_token.startswith("TTP_")
    assert grant.access_token_expires_at is not None and grant.access_token_expires_at > now
    assert grant.refresh_token_expires_at is not None
    assert grant.refresh_token_expires_at >= grant.access_token_expires_at
    assert "access_token" not in grant.raw and "refresh_token" not in grant.raw

    shops = client.authorized_shops(access_token=grant.access_token)
    assert [(s.external_id, s.cipher, s.region, s.seller_type) for s in shops] == [
        (s["id"], s["cipher"], s["region"], s["seller_type"]) for s in seller["shops"]
    ]

    refreshed = client.refresh_token(refresh_token=grant.refresh_token)
    assert refreshed.open_id == seller["open_id"]
    assert refreshed.access_token != grant.access_token
    assert refreshed.refresh_token
    shops_after = client.authorized_shops(access_token=refreshed.access_token)
    assert [s.external_id for s in shops_after] == [s["id"] for s in seller["shops"]]

    # The code is single use (§1.1).
    with pytest.raises(errors.InvalidAuthCodeError) as used:
        client.get_token(auth_code=code)
    assert used.value.code == errors.INVALID_AUTH_CODE
    assert used.value.request_id


def test_consent_for_rest_of_world_grants_the_cross_border_shops(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory()
    client = make_client(sandbox)
    row_seller = next(s for s in sandbox.credentials["sellers"] if s["market"] == "ROW")

    grant = client.get_token(auth_code=sandbox.authorize(market="ROW", state="row"))
    shops = client.authorized_shops(access_token=grant.access_token)

    assert grant.open_id == row_seller["open_id"]
    assert sorted(s.external_id for s in shops) == sorted(s["id"] for s in row_seller["shops"])
    assert {s.seller_type for s in shops} == {"CROSS_BORDER"}
    assert len(shops) == 2


def test_consent_deny_redirects_with_auth_denied_and_no_code(sandbox, client):
    callback = sandbox.consent(market="US", state="deny-me", decision="deny")

    assert callback["error"] == "auth_denied"
    assert callback["state"] == "deny-me"
    assert callback.get("code") in (None, "null")
    with pytest.raises(errors.InvalidAuthCodeError):
        client.get_token(auth_code="null")


def test_unknown_auth_code_is_a_typed_error(client):
    with pytest.raises(errors.InvalidAuthCodeError) as raised:
        client.get_token(auth_code="not-a-code")

    assert raised.value.code == 36004004


def test_authorized_shops_with_the_sandbox_token(sandbox, client, us):
    shops = client.authorized_shops(access_token=us.access_token)

    assert [(s.external_id, s.name, s.cipher, s.code) for s in shops] == [
        (s["id"], s["name"], s["cipher"], s["code"]) for s in sandbox.seller(0)["shops"]
    ]


# --- Orders -------------------------------------------------------------------------------------


def test_order_pages_run_to_the_last_page_and_count_equals_total(client, us):
    pages = list(client.order_pages(**us.auth, page_size=40))

    orders = [order for page in pages for order in page.items]
    total = pages[0].total_count
    assert total == 300  # the session seed: 10 days x 30 orders in the US shop
    assert len(pages) == 8
    assert [len(page.items) for page in pages] == [40] * 7 + [20]
    assert {page.total_count for page in pages} == {300}
    assert pages[0].page_token is None
    assert [page.page_token for page in pages[1:]] == [page.next_page_token for page in pages[:-1]]
    assert pages[-1].next_page_token == "" and pages[-1].is_last
    assert len(orders) == total == len({order.external_id for order in orders})


def test_order_iterator_resumes_from_a_checkpoint(client, us):
    everything = [order.external_id for order in client.orders(**us.auth)]
    first_page = next(client.order_pages(**us.auth, page_size=100))

    resumed = [
        order.external_id
        for order in client.orders(**us.auth, page_token=first_page.next_page_token)
    ]

    assert [order.external_id for order in first_page.items] + resumed == everything
    assert len(everything) == 300


def test_order_filters_on_create_time_and_status(client, us):
    everything = list(client.orders(**us.auth))
    created = sorted(order.created_at for order in everything if order.created_at)
    window_start, window_end = created[50], created[150]
    expected_window = {
        o.external_id for o in everything if window_start <= o.created_at < window_end
    }
    status = everything[0].status
    expected_status = {o.external_id for o in everything if o.status == status}

    in_window = list(
        client.order_pages(**us.auth, create_time_ge=window_start, create_time_lt=window_end)
    )
    with_status = list(client.order_pages(**us.auth, status=status))

    assert {o.external_id for p in in_window for o in p.items} == expected_window
    assert in_window[0].total_count == len(expected_window)
    assert {o.external_id for p in with_status for o in p.items} == expected_status
    assert with_status[0].total_count == len(expected_status)


def test_order_update_time_filter_and_sort(client, us):
    everything = list(client.orders(**us.auth))
    updated = sorted(order.updated_at for order in everything if order.updated_at)
    since = updated[100]

    newest_first = list(
        client.orders(
            **us.auth,
            update_time_ge=int(since.timestamp()),
            sort_field="update_time",
            sort_order="DESC",
        )
    )

    stamps = [order.updated_at for order in newest_first]
    assert stamps == sorted(stamps, reverse=True)
    assert {o.external_id for o in newest_first} == {
        o.external_id for o in everything if o.updated_at >= since
    }


def test_order_details_in_batches_of_fifty(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)
    searched = {order.external_id: order for order in client.orders(**us.auth)}
    ids = list(searched)[:120]
    session.sent.clear()

    details = client.order_details(**us.auth, order_ids=ids)

    assert [order.external_id for order in details] == ids
    batches = [parse_qs(urlsplit(r.url).query)["ids"][0].split(",") for r in session.sent]
    assert [len(batch) for batch in batches] == [50, 50, 20]
    for order in details:
        twin = searched[order.external_id]
        assert (order.status, order.payment, order.lines) == (twin.status, twin.payment, twin.lines)
        assert order.location == twin.location


def test_order_detail_202507_path_has_the_same_shape(client, us):
    ids = [order.external_id for order in client.orders(**us.auth)][:3]

    v202309 = client.order_details(**us.auth, order_ids=ids)
    v202507 = client.order_details(**us.auth, order_ids=ids, version="202507")

    assert [o.external_id for o in v202507] == ids
    assert [(o.status, o.payment) for o in v202507] == [(o.status, o.payment) for o in v202309]


def test_orders_have_money_lines_and_coarse_location_only(client, us):
    orders = list(client.orders(**us.auth))

    shipped = [o for o in orders if o.status in ("IN_TRANSIT", "DELIVERED", "COMPLETED")]
    assert shipped
    for order in orders:
        assert order.lines, order.external_id
        assert order.payment is not None and order.payment.currency == "USD"
        assert order.payment.total_amount is not None
        assert all(line.sale_price and line.sale_price.currency == "USD" for line in order.lines)
        address = order.raw.get("recipient_address", {})
        assert not {"name", "phone_number", "full_address", "address_line1"} & set(address)
    located = [o.location for o in shipped if o.location]
    assert located and all(loc.country_code == "US" and loc.postal_code for loc in located)


def test_tracking_of_a_shipped_order(client, us):
    shipped = next(o for o in client.orders(**us.auth) if o.status in ("IN_TRANSIT", "DELIVERED"))

    events = client.tracking(**us.auth, order_id=shipped.external_id)

    assert events
    assert all(event.description and event.occurred_at for event in events)
    assert all(event.occurred_at.tzinfo is UTC for event in events)


def test_unknown_order_detail_is_empty_or_typed(client, us):
    assert client.order_details(**us.auth, order_ids=[]) == []
    with pytest.raises(ValueError):
        client.order_details(**us.auth, order_ids=["1"], version="202001")


# --- Returns and cancellations ------------------------------------------------------------------


def test_return_pages_to_the_last_page(client, us):
    pages = list(client.return_pages(**us.auth, page_size=10))

    returns = [ret for page in pages for ret in page.items]
    assert returns
    assert len(returns) == pages[0].total_count == len({r.external_id for r in returns})
    assert pages[-1].next_page_token == ""
    for ret in returns:
        assert ret.order_id and ret.status and ret.return_type
        assert ret.created_at is not None
        assert ret.refund is not None and ret.refund.total is not None
    pending = [r for r in returns if r.status == "RETURN_OR_REFUND_REQUEST_PENDING"]
    assert all(r.seller_next_action and r.seller_next_action.deadline for r in pending)
    by_order = list(client.returns(**us.auth, order_ids=[returns[0].order_id]))
    assert returns[0].external_id in {r.external_id for r in by_order}
    assert {r.order_id for r in by_order} == {returns[0].order_id}


def test_cancellation_pages_to_the_last_page(client, us):
    pages = list(client.cancellation_pages(**us.auth, page_size=10))

    cancellations = [c for page in pages for c in page.items]
    assert cancellations
    assert len(cancellations) == pages[0].total_count
    assert len({c.external_id for c in cancellations}) == len(cancellations)
    assert pages[-1].next_page_token == ""
    assert all(c.order_id and c.status and c.cancel_type for c in cancellations)
    status = cancellations[0].status
    filtered = list(client.cancellations(**us.auth, statuses=[status]))
    assert {c.external_id for c in filtered} == {
        c.external_id for c in cancellations if c.status == status
    }


# --- Products and coupons -----------------------------------------------------------------------


def test_products_search_all_pages_and_detail_with_images(client, us):
    pages = list(client.product_pages(**us.auth, page_size=5))

    products = [p for page in pages for p in page.items]
    assert len(products) == pages[0].total_count
    assert pages[-1].next_page_token == ""
    assert all(p.skus and all(s.price for s in p.skus) for p in products)

    detail = client.product(**us.auth, product_id=products[0].external_id)
    assert detail.external_id == products[0].external_id
    assert detail.title == products[0].title
    assert detail.images and all(image.url for image in detail.images)
    assert [s.external_id for s in detail.skus] == [s.external_id for s in products[0].skus]
    assert [s.price for s in detail.skus] == [s.price for s in products[0].skus]
    assert all(isinstance(s.quantity, int) for s in detail.skus)


def test_products_202309_search_path(client, us):
    v202502 = [p.external_id for p in client.products(**us.auth)]
    v202309 = [p.external_id for p in client.products(**us.auth, version="202309")]

    assert v202309 == v202502


def test_unknown_product_is_not_found(client, us):
    with pytest.raises(errors.NotFoundError) as raised:
        client.product(**us.auth, product_id="1")

    assert raised.value.request_id


def test_coupons_search_and_detail(client, us):
    coupons = list(client.coupons(**us.auth))

    assert coupons
    assert {c.status for c in coupons} >= {"ONGOING", "EXPIRED"}
    chat = [c for c in coupons if c.display_type == "CHAT" and c.status == "ONGOING"]
    assert chat
    ongoing = list(client.coupons(**us.auth, statuses=["ONGOING"]))
    assert {c.external_id for c in ongoing} == {
        c.external_id for c in coupons if c.status == "ONGOING"
    }

    detail = client.coupon(**us.auth, coupon_id=chat[0].external_id)
    assert detail.external_id == chat[0].external_id
    assert (detail.title, detail.display_type, detail.status) == (
        chat[0].title,
        chat[0].display_type,
        chat[0].status,
    )
    assert detail.claim_ends_at == chat[0].claim_ends_at


# --- Customer service ---------------------------------------------------------------------------


def test_conversations_all_pages_match_the_sandbox_count(sandbox, client):
    total = 0
    for seller_index, seller in enumerate(sandbox.credentials["sellers"]):
        for shop_index, _ in enumerate(seller["shops"]):
            access = shop_access(sandbox, seller_index, shop_index)
            conversations = client.conversations(**access.auth)
            total += len(conversations)
            for conversation in conversations:
                assert conversation.buyer is not None and conversation.buyer.user_id
    assert total == sandbox.state()["counts"]["conversations"]


def test_conversation_pages_are_at_most_twenty(client, us):
    pages = list(client.conversation_pages(**us.auth))

    assert all(len(page.items) <= 20 for page in pages)
    assert pages[-1].next_page_token == ""


def test_messages_oldest_first_and_only_newer_than_a_cursor(sandbox, client, us):
    # The session sandbox is shared: another test may have just opened an empty conversation,
    # so take the first one that has messages.
    conversation, messages = next(
        (found, listed)
        for found in client.conversations(**us.auth)
        if (listed := client.messages(**us.auth, conversation_id=found.external_id))
    )

    keys = [mapping.index_key(m.index) for m in messages]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(m.conversation_id == conversation.external_id for m in messages)

    written = sandbox.buyer_write(
        us.shop_id, conversation_id=conversation.external_id, text="Is it shipped yet?"
    )
    newer = client.messages(
        **us.auth, conversation_id=conversation.external_id, after_index=messages[-1].index
    )

    assert [(m.type, m.text, m.sender.role) for m in newer] == [
        ("TEXT", "Is it shipped yet?", "BUYER")
    ]
    assert written  # the control API answered
    again = client.messages(**us.auth, conversation_id=conversation.external_id)
    assert [m.external_id for m in again] == [m.external_id for m in messages] + [
        newer[0].external_id
    ]


def test_messages_cursor_stops_paging_early(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)
    busiest = max(
        client.conversations(**us.auth),
        key=lambda c: len(client.messages(**us.auth, conversation_id=c.external_id)),
    )
    for number in range(12):  # more than one page of 10
        sandbox.buyer_write(us.shop_id, conversation_id=busiest.external_id, text=f"m{number}")
    session.sent.clear()
    everything = client.messages(**us.auth, conversation_id=busiest.external_id)
    full_requests = len(session.sent)
    session.sent.clear()

    latest_two = client.messages(
        **us.auth, conversation_id=busiest.external_id, after_index=everything[-3].index
    )

    assert [m.text for m in latest_two] == ["m10", "m11"]
    assert full_requests >= 2
    assert len(session.sent) == 1


def test_send_every_message_type(sandbox, client, us):
    conversation = client.conversations(**us.auth)[0]
    orders = list(client.orders(**us.auth))
    # A delivered order with a package whose SKU is open to after-sale (§6.2 RETURN_REFUND_CARD).
    order = next(
        o
        for o in orders
        if o.status == "DELIVERED"
        and o.package_ids
        and o.lines[0].sku_id
        in client.aftersale_eligibility(**us.auth, order_id=o.external_id).card_sku_ids()
    )
    product = next(client.products(**us.auth))
    coupon = next(c for c in client.coupons(**us.auth) if c.can_be_sent_in_chat)
    upload = client.upload_image(**us.auth, image=png(64, 48), filename="a.png")
    before = client.messages(**us.auth, conversation_id=conversation.external_id)
    contents: list[OutgoingContent] = [
        TextContent("Hello! Your parcel left our warehouse."),
        ImageContent(url=upload.url, width=64, height=48),
        VideoContent(vid="v10394g5000cd499vc7og65mqn3r3dg0"),
        ProductCardContent(product_id=product.external_id),
        OrderCardContent(order_id=order.external_id),
        ReturnRefundCardContent(order_id=order.external_id, sku_id=order.lines[0].sku_id or ""),
        CouponCardContent(coupon_id=coupon.external_id),
        LogisticsCardContent(order_id=order.external_id, package_id=order.package_ids[0]),
    ]

    sent_ids = [
        client.send_message(**us.auth, conversation_id=conversation.external_id, content=content)
        for content in contents
    ]

    assert all(sent_ids) and len(set(sent_ids)) == 8
    after = client.messages(**us.auth, conversation_id=conversation.external_id)
    new = [m for m in after if m.external_id not in {b.external_id for b in before}]
    assert [m.external_id for m in new] == sent_ids
    assert [m.type for m in new] == [str(c.type) for c in contents]
    assert [m.content for m in new] == [c.to_content() for c in contents]
    assert new[0].text == "Hello! Your parcel left our warehouse."
    assert new[1].image is not None and (new[1].image.url, new[1].image.width) == (upload.url, 64)
    assert new[3].product_id == product.external_id
    assert new[4].order_id == order.external_id
    assert new[6].coupon_id == coupon.external_id
    assert new[7].package_id == order.package_ids[0]
    assert all(m.sender.role in ("SHOP", "CUSTOMER_SERVICE") for m in new)


def test_upload_image_returns_url_and_size(client, us):
    uploaded = client.upload_image(**us.auth, image=png(120, 80), filename="b.png")

    assert uploaded.url.startswith("http")
    assert (uploaded.width, uploaded.height) == (120, 80)


def test_mark_read_clears_unread(sandbox, client, us):
    conversation = client.conversations(**us.auth)[1]
    sandbox.buyer_write(us.shop_id, conversation_id=conversation.external_id, text="hello?")
    unread = {c.external_id: c.unread_count for c in client.conversations(**us.auth)}
    assert unread[conversation.external_id] >= 1

    client.mark_read(**us.auth, conversation_id=conversation.external_id)

    after = {c.external_id: c.unread_count for c in client.conversations(**us.auth)}
    assert after[conversation.external_id] == 0


def test_create_conversation_reopens_the_same_one(client, us):
    conversation = client.conversations(**us.auth)[0]
    assert conversation.buyer is not None and conversation.buyer.user_id

    created = client.create_conversation(**us.auth, buyer_user_id=conversation.buyer.user_id)

    assert created == conversation.external_id


def test_create_conversation_with_an_order_buyer(client, us):
    buyers_with_chat = {
        c.buyer.user_id for c in client.conversations(**us.auth) if c.buyer is not None
    }
    order = next(o for o in client.orders(**us.auth) if o.buyer_user_id not in buyers_with_chat)
    assert order.buyer_user_id

    conversation_id = client.create_conversation(**us.auth, buyer_user_id=order.buyer_user_id)

    assert conversation_id
    listed = {c.external_id: c for c in client.conversations(**us.auth)}
    buyer = listed[conversation_id].buyer
    assert buyer is not None and buyer.user_id == order.buyer_user_id


def test_agent_settings_round_trip(client, us):
    client.update_agent_settings(**us.auth, can_accept_chat=False)
    assert client.agent_settings(**us.auth).can_accept_chat is False

    client.update_agent_settings(**us.auth, can_accept_chat=True)
    assert client.agent_settings(**us.auth).can_accept_chat is True


def test_client_from_settings(settings):
    settings.TIKTOK_APP_KEY = "key"
    settings.TIKTOK_APP_SECRET = "secret"
    settings.TIKTOK_SERVICE_ID = "svc"
    settings.TIKTOK_API_BASE_URL = "http://127.0.0.1:1"
    settings.TIKTOK_READ_TIMEOUT = 7.5
    settings.TIKTOK_MAX_RETRIES = 2

    client = TikTokClient.from_settings()

    assert client.config.app_key == "key"
    assert client.config.app_secret == "secret"
    assert client.config.api_base_url == "http://127.0.0.1:1"
    assert (client.config.read_timeout, client.config.max_retries) == (7.5, 2)
    assert "secret" not in repr(client.config)


def noisy_png(width: int, height: int) -> bytes:
    """Random pixels do not compress: a PNG about width * height * 3 bytes."""
    import random

    pixels = random.Random(7).randbytes(width * height * 3)
    buffer = io.BytesIO()
    PILImage.frombytes("RGB", (width, height), pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def test_prepare_image_keeps_small_images_as_they_are():
    small = png(30, 20)

    prepared = prepare_image(small)

    assert prepared == PreparedImage(small, "image/png", 30, 20, recompressed=False)


def test_prepare_image_refuses_what_cannot_be_sent():
    with pytest.raises(ValueError, match="15 MB"):
        prepare_image(b"\0" * (IMAGE_ACCEPT_LIMIT + 1))
    with pytest.raises(ValueError, match="not an image"):
        prepare_image(b"%PDF-1.7 not an image")
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(buffer, format="BMP")
    with pytest.raises(ValueError, match="JPEG, PNG, GIF and WEBP"):
        prepare_image(buffer.getvalue())


def test_an_image_over_ten_megabytes_is_recompressed_before_upload(sandbox, us):
    session = RecordingSession()
    client = make_client(sandbox, session=session)
    large = noisy_png(2000, 1800)
    assert IMAGE_UPLOAD_LIMIT < len(large) <= IMAGE_ACCEPT_LIMIT

    uploaded = client.upload_image(**us.auth, image=large, filename="photo.png")

    (request,) = session.sent
    assert len(request.body) <= IMAGE_UPLOAD_LIMIT + 1024  # the multipart envelope around it
    assert b'filename="photo.jpg"' in request.body
    assert b"Content-Type: image/jpeg" in request.body
    assert (uploaded.width, uploaded.height) == (2000, 1800)


def test_messages_stay_unique_and_ordered_while_buyers_keep_writing(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory(buyer_message_interval=0.2)
    access = shop_access(sandbox)
    client = make_client(sandbox)
    conversation_ids = [c.external_id for c in client.conversations(**access.auth)]
    written_before = sandbox.state()["counts"]["messages"]

    rounds = 0
    deadline = time.monotonic() + 15
    # At least three rounds, and on until buyers have written meanwhile (bounded in time).
    while rounds < 3 or (
        sandbox.state()["counts"]["messages"] == written_before and time.monotonic() < deadline
    ):
        rounds += 1
        for conversation_id in conversation_ids[:5]:
            messages = client.messages(**access.auth, conversation_id=conversation_id)
            ids = [m.external_id for m in messages]
            keys = [mapping.index_key(m.index) for m in messages]
            assert len(ids) == len(set(ids))
            assert keys == sorted(keys)
        later = client.conversations(**access.auth)
        assert len({c.external_id for c in later}) == len(later)

    assert sandbox.state()["counts"]["messages"] > written_before  # buyers did write meanwhile
