"""Every official sample in tests/fixtures/tiktok maps to records: exact values, nothing lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from marketplaces.records import (
    AuthorizationExpiring,
    CancellationStatusChanged,
    ConversationChanged,
    Image,
    Money,
    NewMessage,
    OrderStatusChanged,
    RecipientLocation,
    ReturnStatusChanged,
    SellerAction,
    ShopDeauthorized,
    StockLevel,
    TextContent,
)
from marketplaces.tiktok import errors, mapping
from marketplaces.tiktok.client import TikTokClient
from tests.samples import SAMPLES


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def response_data(name: str) -> dict[str, Any]:
    return sample(name)["response_sample"]["data"]


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def idr(amount: str) -> Money:
    return Money(Decimal(amount), "IDR")


# --- Authorization ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["GET_api_v2_token_get.json", "GET_api_v2_token_refresh.json"])
def test_token_sample_maps_absolute_expiry_times_and_keeps_tokens_out_of_raw(name):
    data = response_data(name)

    grant = mapping.token_grant(data)

    assert grant.access_token == (
        "TTP_Fw8rBwAAAAAkW03FYd09DG-9INtpw361hWthei8S3fHX8iPJ5AUv99fLSCYD9-UucaqxTgNRzKZxi5"
    )
    assert (
        grant.refresh_token == "TTP_NTUxZTNhYTQ2ZDk2YmRmZWNmYWY2YWY2YzkxNGYwNjQ3YjkzYTllYjA0YmNlMw"
    )
    assert grant.access_token_expires_at == datetime(2022, 8, 15, 9, 46, 23, tzinfo=UTC)
    assert grant.refresh_token_expires_at == datetime(2023, 8, 8, 9, 30, 31, tzinfo=UTC)
    assert grant.open_id == "7010736057180325637"
    assert grant.seller_name == "Test Seller"
    assert grant.seller_base_region == "US"
    assert grant.user_type == 0
    assert grant.granted_scopes == [
        "seller.affiliate_collaboration.read",
        "seller.affiliate_collaboration.write",
    ]
    expected_raw = {k: v for k, v in data.items() if k not in ("access_token", "refresh_token")}
    assert grant.raw == expected_raw
    assert "TTP_" not in repr(grant)


def test_authorized_shops_sample():
    data = response_data("GET_authorization_202309_shops.json")

    (shop,) = [mapping.shop(item) for item in data["shops"]]

    assert shop.external_id == "7000714532876273420"
    assert shop.name == "Maomao beauty shop"
    assert shop.region == "GB"
    assert shop.seller_type == "CROSS_BORDER"
    assert shop.cipher == "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"
    assert shop.code == "CNGBCBA4LLU8"
    assert shop.raw == data["shops"][0]


# --- Orders -------------------------------------------------------------------------------------


def test_order_search_sample_maps_order_payment_location_and_lines():
    data = response_data("POST_order_202309_orders_search.json")
    assert data["total_count"] == 22113

    order = mapping.order(data["orders"][0])

    assert order.external_id == "576461413038785752"
    assert order.status == "UNPAID"
    assert order.buyer_user_id == "7021436810468230477"
    assert order.buyer_nickname == "user213123"
    assert order.buyer_message == "Please ship asap!"
    assert order.seller_note == "seller note"
    assert order.created_at == datetime(2021, 4, 28, 12, 6, 1, tzinfo=UTC)
    assert order.updated_at == utc(1619621355)
    assert order.paid_at == utc(1619611563)
    assert order.cancelled_at == utc(1678389618)
    assert order.delivered_at == utc(1678389618)
    assert order.shipping_due_at == utc(1678389618)
    assert order.delivery_due_at == utc(1678389618)
    assert order.cancel_reason == "Pricing error"
    assert order.cancellation_initiator == "SELLER"
    assert (order.is_buyer_request_cancel, order.is_on_hold, order.is_cod) == (False, False, False)
    assert (order.is_sample_order, order.is_replacement_order) == (False, False)
    assert order.replaced_order_id == "576461416728782174"
    assert order.payment_method_name == "CCDC"
    assert order.shipping_type == "TIKTOK"
    assert order.fulfillment_type == "FULFILLMENT_BY_SELLER"
    assert order.delivery_option_name == "Standard Shipping"
    assert order.shipping_provider == "TT Virtual express"
    assert order.shipping_provider_id == "6617675021119438849"
    assert order.tracking_number == "JX12345"
    assert order.package_ids == ["1152321127278713123"]

    payment = order.payment
    assert payment is not None
    assert payment.currency == "IDR"
    assert payment.total_amount == idr("5000")
    assert payment.sub_total == idr("5000")
    assert payment.shipping_fee == idr("5000")
    assert payment.seller_discount == idr("5000")
    assert payment.platform_discount == idr("5000")
    assert payment.original_total_product_price == idr("5000")
    assert payment.original_shipping_fee == idr("5000")
    assert payment.shipping_fee_seller_discount == idr("5000")
    assert payment.shipping_fee_platform_discount == idr("5000")
    assert payment.tax == idr("5000")
    assert payment.raw["retail_delivery_fee"] == "1.28"

    # The sample's quirks kept as sent: region_code "US", country "United Kingdom" at L0.
    assert order.location == RecipientLocation(
        country_code="US",
        country="United Kingdom",
        region=None,
        city="Ribbleton",
        postal_code="95110",
    )

    (line,) = order.lines
    assert line.external_id == "577086512123755123"
    assert line.sku_id == "2729382476852921560"
    assert line.product_id == "1729582718312380123"
    assert line.product_name == "Women's Winter Crochet Clothes"
    assert line.sku_name == "Iphone"
    assert line.seller_sku == "red_iphone_256"
    assert line.original_price == idr("0.01")
    assert line.sale_price == idr("0.01")
    assert line.seller_discount == idr("0")
    assert line.platform_discount == idr("0")
    assert line.display_status == "UNPAID"
    assert line.package_id == "1153132168123859123"
    assert line.package_status == "TO_FULFILL"
    assert line.sku_type == "PRE_ORDER"
    assert line.cancel_user == "BUYER"
    assert line.is_gift is False
    assert line.raw == data["orders"][0]["line_items"][0]


def test_order_raw_keeps_everything_except_names_streets_phones_and_tax_ids():
    source = response_data("POST_order_202309_orders_search.json")["orders"][0]

    order = mapping.order(source)

    assert set(order.raw) == set(source) - {"cpf", "cpf_name"}
    for key in set(source) - {"cpf", "cpf_name", "recipient_address"}:
        assert order.raw[key] == source[key]
    assert order.raw["recipient_address"] == {
        "district_info": source["recipient_address"]["district_info"],
        "delivery_preferences": {"drop_off_location": "Front Door"},
        "postal_code": "95110",
        "region_code": "US",
        "post_town": "Ribbleton",
    }
    flattened = json.dumps(order.raw) + repr(order)
    for personal in ("David", "Kong", "213-***-1234", "Coleman", "bristol", "3213-31231412"):
        assert personal not in flattened


def test_order_detail_202507_sample_maps_with_the_same_shape():
    data = response_data("GET_order_202507_orders.json")

    order = mapping.order(data["orders"][0])

    assert order.external_id == "576461413038785752"
    assert order.status == "UNPAID"
    assert order.delivery_option_name == "Express shipping"
    assert order.payment is not None
    assert order.payment.total_amount == idr("5000")
    assert order.raw["payment_card_type"] == "Debit\n"
    assert order.location is not None
    assert order.location.postal_code == "95110"
    (line,) = order.lines
    assert line.display_status == "TO_SHIP"  # while the order is UNPAID: kept as sent
    assert line.sale_price == idr("0.01")
    assert "Vila Ol" not in json.dumps(order.raw)  # address_line3 carries text here


def test_money_strings_of_any_precision_are_exact_decimals():
    payment = mapping.order_payment(
        {"currency": "USD", "total_amount": "1.5", "sub_total": "5000", "tax": 21.3}
    )

    assert payment is not None
    assert payment.total_amount == Money(Decimal("1.5"), "USD")
    assert payment.sub_total == Money(Decimal("5000"), "USD")
    assert payment.tax == Money(Decimal("21.3"), "USD")
    assert payment.shipping_fee is None


def test_ids_sent_as_json_numbers_become_strings():
    order = mapping.order({"id": 576461413038785752, "user_id": 7021436810468230477})

    assert order.external_id == "576461413038785752"
    assert order.buyer_user_id == "7021436810468230477"


def test_unknown_order_status_is_kept_and_cancel_spelling_normalised():
    assert mapping.order({"id": "1", "status": "AWAITING_PICKUP_NEW"}).status == (
        "AWAITING_PICKUP_NEW"
    )
    assert mapping.order({"id": "1", "status": "CANCEL"}).status == "CANCELLED"


def test_tracking_event_keeps_milliseconds():
    event = mapping.tracking_event(
        {"description": "Package delivered", "update_time_millis": 1678389618123}
    )

    assert event.description == "Package delivered"
    assert event.occurred_at == datetime(2023, 3, 9, 19, 20, 18, 123000, tzinfo=UTC)


# --- Returns and cancellations ------------------------------------------------------------------


def test_returns_search_sample_with_discount_object_and_return_shipping_fee():
    data = response_data("POST_return_refund_202309_returns_search.json")

    (ret,) = [mapping.return_order(item) for item in data["return_orders"]]

    assert ret.arbitration_status == "IN_PROGRESS"
    assert ret.refund is not None
    assert ret.refund.currency == "USD"
    assert ret.refund.total == usd("1.23")
    assert ret.refund.subtotal == usd("1")
    assert ret.refund.shipping_fee == usd("0.2")
    assert ret.refund.tax == usd("0.03")
    assert ret.discount is not None
    assert ret.discount.product_platform_discount == usd("12")
    assert ret.discount.product_seller_discount == usd("12")
    assert ret.discount.shipping_fee_platform_discount == usd("12")
    assert ret.discount.shipping_fee_seller_discount == usd("12")
    assert ret.return_shipping_fee is not None
    assert ret.return_shipping_fee.seller_paid == usd("12")
    assert ret.return_shipping_fee.buyer_paid == usd("12")
    assert ret.return_shipping_fee.platform_paid == usd("12")
    assert ret.raw == data["return_orders"][0]


def test_return_with_sheet_shapes_arrays_and_prose_field_names():
    ret = mapping.return_order(
        {
            "return_id": 4035318504086604100,
            "order_id": "576486316948490001",
            "return_type": "RETURN_AND_REFUND",
            "return_status": "RETURN_OR_REFUND_REQUEST_REJECT",
            "role": "BUYER",
            "create_time": 1627587600,
            "update_time": 1644412885,
            "can_buyer_keep_item": False,
            "seller_next_action_response": [{"action": "SELLER_RESPOND", "deadline": 1644499285}],
            "discount_amount": [
                {"currency": "GBP", "product_seller_discount": "1.50"},
                {"currency": "GBP", "product_seller_discount": "2"},
            ],
            "shipping_fee_amount": [
                {"currency": "GBP", "seller_paid_return_shipping_fee_amount": "3.99"}
            ],
            "partial_refund": {"amount": "4.5", "currency": "GBP"},
            "return_line_items": [
                {
                    "return_line_item_id": "11",
                    "order_line_item_id": "577086512123755123",
                    "sku_id": "2729382476852921560",
                    "product_name": "Socks",
                    "product_image": {"url": "https://img/1.jpg", "width": "100", "height": 80},
                    "refund_amount": {"currency": "GBP", "refund_total": "9.99"},
                }
            ],
        }
    )

    assert ret.external_id == "4035318504086604100"
    assert ret.status == "REFUND_OR_RETURN_REQUEST_REJECT"
    assert ret.raw["return_status"] == "RETURN_OR_REFUND_REQUEST_REJECT"
    assert ret.can_buyer_keep_item is False
    assert ret.seller_next_action == SellerAction("SELLER_RESPOND", utc(1644499285))
    assert ret.discount is not None
    assert ret.discount.product_seller_discount == Money(Decimal("3.50"), "GBP")
    assert ret.discount.product_platform_discount is None
    assert ret.return_shipping_fee is not None
    assert ret.return_shipping_fee.seller_paid == Money(Decimal("3.99"), "GBP")
    assert ret.partial_refund == Money(Decimal("4.5"), "GBP")
    (line,) = ret.lines
    assert line.external_id == "11"
    assert line.order_line_item_id == "577086512123755123"
    assert line.product_image_url == "https://img/1.jpg"
    assert line.refund is not None
    assert line.refund.total == Money(Decimal("9.99"), "GBP")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("REFUND_OR_RETURN_REQUEST_REJECT", "REFUND_OR_RETURN_REQUEST_REJECT"),
        ("RETURN_OR_REFUND_REQUEST_REJECT", "REFUND_OR_RETURN_REQUEST_REJECT"),
        ("RETURN_OR_REFUND__REQUEST_CANCELLED", "RETURN_OR_REFUND_REQUEST_CANCEL"),
        ("RETURN_OR_REFUND_REQUEST_CANCEL", "RETURN_OR_REFUND_REQUEST_CANCEL"),
        ("SOME_FUTURE_STATUS", "SOME_FUTURE_STATUS"),
    ],
)
def test_return_status_spellings(sent, stored):
    assert mapping.return_order({"return_status": sent}).status == stored


def test_cancellation_maps_both_spellings_lines_and_next_action():
    source = {
        "cancel_id": "4035318504086604100",
        "order_id": "576486316948490001",
        "cancel_type": "BUYER_CANCEL",
        "cancel_status": "CANCELLATION_REQUEST_CANCELLED",
        "role": "BUYER",
        "cancel_reason": "No longer needed",
        "create_time": "1627587600",
        "seller_next_action_response": [{"action": "RESPOND_CANCELLATION", "deadline": 1627674000}],
        "refund_amount": {"currency": "USD", "refund_total": "19.90", "refund_subtotal": "19.90"},
        "cancel_line_items": [{"cancel_line_item_id": 7, "sku_id": "22", "seller_sku": "S-1"}],
    }

    cancellation = mapping.cancellation(source)

    assert cancellation.external_id == "4035318504086604100"
    assert cancellation.status == "CANCELLATION_REQUEST_CANCEL"
    assert cancellation.cancel_type == "BUYER_CANCEL"
    assert cancellation.created_at == utc(1627587600)
    assert cancellation.seller_next_action == SellerAction("RESPOND_CANCELLATION", utc(1627674000))
    assert cancellation.refund is not None
    assert cancellation.refund.total == usd("19.90")
    assert [line.external_id for line in cancellation.lines] == ["7"]
    assert cancellation.raw == source
    assert mapping.cancellation({"cancel_status": "CANCELLATION_REQUEST_CANCEL"}).status == (
        "CANCELLATION_REQUEST_CANCEL"
    )


# --- Products and coupons -----------------------------------------------------------------------


def test_product_search_sample():
    data = response_data("POST_product_202502_products_search.json")
    assert (data["total_count"], data["next_page_token"]) == (200, "b2Zmc2V0PTAK")

    (product,) = [mapping.product(item) for item in data["products"]]

    assert product.external_id == "1729592969712207008"
    assert product.title == "Short Boat Invisible Socks"
    assert product.status == "ACTIVATE"
    assert product.sales_regions == ["US"]
    assert product.audit_status == "AUDITING"
    assert product.created_at == utc(1234567890)
    assert product.updated_at == utc(1234567800)
    assert product.images == []
    (sku,) = product.skus
    assert sku.external_id == "1729592969712207012"
    assert sku.seller_sku == "Color-Red-XM01"
    assert sku.price == usd("121.11")
    assert sku.tax_exclusive_price == usd("111.01")
    assert sku.list_price == usd("1")
    assert sku.stock == [StockLevel("7068517275539719942", 999)]
    assert sku.quantity == 999
    assert product.raw == data["products"][0]


def test_product_detail_sample_with_images_and_both_status_fields():
    data = response_data("GET_product_202309_products_product_id.json")

    product = mapping.product(data)

    assert product.external_id == "1729592969712207008"
    assert product.status == "SELLER_DEACTIVATED"
    assert product.description.startswith("<p>Please compare above detailed size")
    url = (
        "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/"
        "6c8519a3663a4d728c4e3c131dc914b4~tplv-o3syd03w52-resize-jpeg:300:300.jpeg?from=522366036"
    )
    assert product.images == [
        Image(
            url=url,
            width=600,
            height=600,
            uri="tos-maliva-i-o3syd03w52-us/6c8519a3663a4d728c4e3c131dc914b4",
            urls=[url],
            thumb_urls=[url],
        )
    ]
    (sku,) = product.skus
    assert sku.external_id == "10001"
    assert sku.seller_sku == "sku name"
    assert sku.price == usd("117.5")
    assert sku.tax_exclusive_price == usd("110")
    assert sku.quantity == 999
    assert product.raw == data


def test_product_status_from_product_status_when_status_missing():
    assert mapping.product({"id": 5, "product_status": "FREEZE"}).status == "FREEZE"


def test_coupon_fields_and_chat_sendability():
    source = {
        "id": 7262992004278206762,
        "title": "5 off in chat",
        "display_type": "CHAT",
        "status": "ONGOING",
        "creation_source": "SELLER_CENTER",
        "target_buyer_segment": "ALL",
        "claim_duration": {"start_time": 1700000000, "end_time": "1800000000"},
        "redemption_duration": {"start_time": 1700000000, "end_time": 1800000000},
        "discount": {
            "type": "FIXED_AMOUNT",
            "reduction_amount": {"amount": "5", "currency": "USD"},
        },
        "threshold": {"type": "MIN_SPEND", "min_spend": {"amount": "20.00", "currency": "USD"}},
    }

    coupon = mapping.coupon(source)

    assert coupon.external_id == "7262992004278206762"
    assert coupon.claim_starts_at == utc(1700000000)
    assert coupon.claim_ends_at == utc(1800000000)
    assert coupon.redemption_ends_at == utc(1800000000)
    assert coupon.discount_type == "FIXED_AMOUNT"
    assert coupon.reduction_amount == usd("5")
    assert coupon.min_spend == usd("20.00")
    assert coupon.percentage is None
    assert coupon.can_be_sent_in_chat is True
    assert mapping.coupon({**source, "status": "EXPIRED"}).can_be_sent_in_chat is False
    assert mapping.coupon({**source, "display_type": "LIVE"}).can_be_sent_in_chat is False
    assert coupon.raw == source


# --- Customer service ---------------------------------------------------------------------------


def test_conversations_sample_with_buyer_user_id():
    data = response_data("GET_customer_service_202309_conversations.json")
    assert data["next_page_token"] == "1612353423"

    (conversation,) = [mapping.conversation(item) for item in data["conversations"]]

    assert conversation.external_id == "7494560109732334261"
    assert conversation.participant_count == 3
    assert conversation.can_send_message is True
    assert conversation.unread_count == 0
    assert conversation.created_at == utc(1691411573)
    assert conversation.latest_message is None  # `{}` in the abridged sample
    buyer = conversation.buyer
    assert buyer is not None
    assert buyer.user_id == "7494560109732334262"
    assert buyer.im_user_id == "7494560109732334261"
    assert buyer.nickname == "Albert"
    assert buyer.buyer_platform == "TIKTOK_SHOP"
    assert conversation.raw == data["conversations"][0]


def test_agent_settings_samples():
    got = mapping.agent_settings(response_data("GET_customer_service_202309_agents_settings.json"))
    put = sample("PUT_customer_service_202309_agents_settings.json")

    assert got.can_accept_chat is True
    assert put["response_sample"] is None
    assert mapping.agent_settings(put["request_sample"]).can_accept_chat is True


def _response(status: int, body: dict[str, Any] | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    return response


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "POST_customer_service_202309_conversations.json",
            {"conversation_id": "7106888323922608389"},
        ),
        ("POST_customer_service_202309_conversations_conversation_id_messages_read.json", {}),
        ("GET_customer_service_202309_agents_settings.json", {"can_accept_chat": True}),
    ],
)
def test_success_envelopes_of_samples_give_their_data(name, expected):
    assert TikTokClient._parse(_response(200, sample(name)["response_sample"])) == expected


def test_image_message_with_string_sizes():
    message = mapping.message(
        {
            "id": "7494560109732334270",
            "index": "7494560109732334270",
            "type": "IMAGE",
            "content": '{"height":"290","url":"https://img/a.png","width":"304"}',
            "create_time": 1681790246,
            "is_visible": True,
            "sender": {"im_user_id": 1, "role": "BUYER", "nickname": "Ann", "avatar": "https://a"},
        },
        "710688832392260838",
    )

    assert message.image == Image(url="https://img/a.png", width=304, height=290)
    assert message.text is None
    assert message.conversation_id == "710688832392260838"
    assert message.sender.im_user_id == "1"
    assert message.sender.nickname == "Ann"


@pytest.mark.parametrize(
    ("kind", "content", "field", "value"),
    [
        ("TEXT", {"content": "Where is my order?"}, "text", "Where is my order?"),
        ("PRODUCT_CARD", {"product_id": "12345"}, "product_id", "12345"),
        ("BUYER_ENTER_FROM_PRODUCT", {"product_id": 12345}, "product_id", "12345"),
        ("ORDER_CARD", {"order_id": "576469260282336209"}, "order_id", "576469260282336209"),
        ("BUYER_ENTER_FROM_ORDER", {"order_id": "12345"}, "order_id", "12345"),
        ("ALLOCATED_SERVICE", {"content": "Agent joined"}, "text", "Agent joined"),
        ("NOTIFICATION", {"content": "System notice"}, "text", "System notice"),
        ("BUYER_ENTER_FROM_TRANSFER", {"content": "transferred"}, "text", "transferred"),
        ("OTHER", {"content": "simple text"}, "text", "simple text"),
        (
            "VIDEO",
            {"vid": "v10394g5000cd499vc7og65mqn3r3dg0"},
            "video_id",
            "v10394g5000cd499vc7og65mqn3r3dg0",
        ),
        ("COUPON_CARD", {"coupon_id": "7262992004278206762"}, "coupon_id", "7262992004278206762"),
        ("RETURN_REFUND_CARD", {"order_id": "1", "sku_id": "2"}, "sku_id", "2"),
        ("LOGISTICS_CARD", {"order_id": "1", "package_id": "3"}, "package_id", "3"),
    ],
)
def test_message_types_expose_their_content(kind, content, field, value):
    message = mapping.message(
        {"id": "9", "index": "9", "type": kind, "content": json.dumps(content)}
    )

    assert message.type == kind
    assert getattr(message, field) == value
    assert message.content == content
    assert message.is_known_type is True


def test_unknown_message_type_and_non_json_content_are_kept():
    unknown = mapping.message(
        {"id": "1", "index": "5", "type": "STICKER_3D", "content": '{"content":"hi","x":1}'}
    )
    broken = mapping.message({"id": "2", "index": "6", "type": "TEXT", "content": "not json {"})
    emoticon = mapping.message({"id": "3", "index": "7", "type": "EMOTICONS", "content": "{}"})

    assert (unknown.type, unknown.is_known_type, unknown.text) == ("STICKER_3D", False, "hi")
    assert unknown.content == {"content": "hi", "x": 1}
    assert (broken.text, broken.content_raw) == ("not json {", "not json {")
    assert (emoticon.type, emoticon.text, emoticon.content) == ("EMOTICONS", None, {})


def test_message_index_orders_numerically():
    indexes = ["7494560109732334274", "999", "7494560109732334270", "10000"]

    assert sorted(indexes, key=mapping.index_key) == [
        "999",
        "10000",
        "7494560109732334270",
        "7494560109732334274",
    ]


def test_outgoing_text_is_limited_to_2000_characters_by_the_tiktok_client():
    # The limit is TikTok's (another channel may send longer text): its client refuses before
    # any request is made.
    from marketplaces.tiktok.client import TikTokClient
    from marketplaces.tiktok.config import TikTokConfig

    assert TextContent("x" * 2001).to_content() == {"content": "x" * 2001}
    client = TikTokClient(
        TikTokConfig(app_key="k", app_secret="s", api_base_url="http://127.0.0.1:9")
    )
    with pytest.raises(ValueError, match="2000"):
        client.send_message(
            access_token="t", shop_cipher="c", conversation_id="1", content=TextContent("x" * 2001)
        )
    with pytest.raises(ValueError, match="empty"):
        TextContent("  ")


# --- Webhooks -----------------------------------------------------------------------------------


def _event(name: str):
    return mapping.webhook_event(sample(name)["request_sample"])


def test_webhook_1_order_status_change():
    event = _event("webhook_1_ORDER_STATUS_CHANGE.json")

    assert (event.type, event.event_type) == (1, "ORDER_STATUS_CHANGE")
    assert event.notification_id == "7327112393057371910"
    assert event.shop_id == "7494049642642441621"
    assert event.sent_at == datetime(2022, 2, 9, 13, 21, 25, tzinfo=UTC)
    assert event.data == OrderStatusChanged(
        order_id="576486316948490001",
        order_status="UNPAID",
        is_on_hold_order=False,
        updated_at=utc(1644412885),
    )
    assert event.raw == sample("webhook_1_ORDER_STATUS_CHANGE.json")["request_sample"]


def test_webhook_1_cancel_spelling_is_stored_as_cancelled():
    payload = sample("webhook_1_ORDER_STATUS_CHANGE.json")["request_sample"]
    payload["data"]["order_status"] = "CANCEL"

    event = mapping.webhook_event(payload)

    assert isinstance(event.data, OrderStatusChanged)
    assert event.data.order_status == "CANCELLED"
    assert event.raw["data"]["order_status"] == "CANCEL"


def test_webhook_6_and_7_authorization_topics():
    deauthorized = _event("webhook_6_SELLER_DEAUTHORIZATION.json")
    expiring = _event("webhook_7_UPCOMING_AUTHORIZATION_EXPIRATION.json")

    assert deauthorized.event_type == "SELLER_DEAUTHORIZATION"
    assert deauthorized.data == ShopDeauthorized(
        message="Shop_id {xxx} is deauthorized from your APP by merchant."
    )
    assert expiring.event_type == "UPCOMING_AUTHORIZATION_EXPIRATION"
    assert expiring.data == AuthorizationExpiring(
        message=(
            "Authorization of shop_id {xxx} is expiring in {x} days. "
            "Please direct the merchant to re-authorize."
        ),
        expires_at=utc(1627587506),
    )


def test_webhook_11_cancellation_and_its_second_spelling():
    event = _event("webhook_11_CANCELLATION_STATUS_CHANGE.json")
    assert event.data == CancellationStatusChanged(
        order_id="576486316948490001",
        cancel_id="4035318504086604100",
        role="BUYER",
        cancel_status="CANCELLATION_REQUEST_PENDING",
        created_at=utc(1627587600),
    )

    payload = sample("webhook_11_CANCELLATION_STATUS_CHANGE.json")["request_sample"]
    payload["data"]["cancel_status"] = "CANCELLATION_REQUEST_CANCELLED"
    changed = mapping.webhook_event(payload).data
    assert isinstance(changed, CancellationStatusChanged)
    assert changed.cancel_status == "CANCELLATION_REQUEST_CANCEL"


def test_webhook_12_return_status_change():
    event = _event("webhook_12_RETURN_STATUS_CHANGE.json")

    assert event.data == ReturnStatusChanged(
        order_id="576486316948490001",
        return_id="576486316948490001",
        role="BUYER",
        return_type="REFUND",
        return_status="RETURN_OR_REFUND_REQUEST_PENDING",
        created_at=utc(1627587600),
        updated_at=utc(1644412885),
    )


def test_webhook_13_new_conversation():
    event = _event("webhook_13_NEW_CONVERSATION.json")

    assert event.data == ConversationChanged(
        conversation_id="576486316948490001", created_at=utc(1627587506)
    )


def test_webhook_14_new_message():
    event = _event("webhook_14_NEW_MESSAGE.json")

    assert isinstance(event.data, NewMessage)
    message = event.data.message
    assert message.external_id == "722323407926368819"
    assert message.conversation_id == "710688832392260838"
    assert message.index == "7494560109732334274"
    assert message.type == "TEXT"
    assert message.text == "444"
    assert message.content_raw == '{"content":"444"}'
    assert message.created_at == utc(1681790246)
    assert message.is_visible is True
    assert (message.sender.im_user_id, message.sender.role) == ("707885565181165594", "BUYER")


def test_webhook_from_body_and_unknown_topic_kept():
    body = (
        b'{"type":4,"tts_notification_id":1,"shop_id":7494049642642441621,"timestamp":1,'
        b'"data":{"package_id":17}}'
    )

    event = mapping.webhook_from_body(body)

    assert (event.type, event.event_type, event.data) == (4, "PACKAGE_UPDATE", None)
    assert (event.notification_id, event.shop_id) == ("1", "7494049642642441621")
    assert event.raw["data"] == {"package_id": 17}
    assert mapping.webhook_from_body(b'{"type":99}').event_type == "UNKNOWN_99"
    with pytest.raises(ValueError):
        mapping.webhook_from_body(b"[1]")


# --- Errors -------------------------------------------------------------------------------------


def _error_type(code: str, message: str) -> type:
    return type(errors.classify(int(code), message, request_id="r1", http_status=200))


EXPECTED_ERROR_TYPES = {
    "10002014": errors.ServerError,
    "10002015": errors.ServerError,
    "10006402": errors.ServerError,
    "10037002": errors.ServerError,
    "10037003": errors.ServerError,
    "10037004": errors.ServerError,
    "101000": errors.InvalidTokenError,
    "105002": errors.TokenExpiredError,
    "105005": errors.PermissionDeniedError,
    "106001": errors.InvalidSignatureError,
    "106013": errors.TikTokApiError,
    "12019150": errors.NotFoundError,
    "12052180": errors.TikTokApiError,
    "21008111": errors.PermissionDeniedError,
    "36004004": errors.InvalidAuthCodeError,
    "36009002": errors.RateLimitedError,
    "36009003": errors.ServerError,
    "36009007": errors.ServerError,
}


def test_every_common_error_code_gets_its_type():
    table = sample("errors_common.json")["error_codes"]
    seen = set()
    for entry in table:
        code, message = entry["code"], entry["message"]
        if code == "36009004":
            lowered = message.lower()
            if "access_token" in lowered or "x-tts-access-token" in lowered:
                expected: type = errors.InvalidTokenError
            elif "app_key" in lowered:
                expected = errors.InvalidCredentialsError
            else:
                expected = errors.TikTokApiError
        else:
            expected = EXPECTED_ERROR_TYPES.get(code, errors.TikTokApiError)
        assert _error_type(code, message) is expected, (code, message)
        seen.add(code)
    assert set(EXPECTED_ERROR_TYPES) <= seen


def test_error_carries_code_message_request_id_and_status():
    error = errors.classify(36009002, "Too many requests.", request_id="R-1", http_status=429)

    assert isinstance(error, errors.RateLimitedError)
    assert (error.code, error.message, error.request_id, error.http_status) == (
        36009002,
        "Too many requests.",
        "R-1",
        429,
    )
    assert str(error) == "Too many requests. (code=36009002, http=429, request_id=R-1)"


def test_http_status_alone_classifies():
    assert type(errors.classify(None, "x", http_status=429)) is errors.RateLimitedError
    assert type(errors.classify(None, "x", http_status=503)) is errors.ServerError
    assert type(errors.classify(None, "x", http_status=404)) is errors.NotFoundError
    assert type(errors.classify(45101003, "Record not found")) is errors.NotFoundError
    assert type(errors.classify(45101004, "Quota reached")) is errors.QuotaExceededError


def test_malformed_scalars_never_crash():
    assert mapping.timestamp(1768899145000 * 1000) is None  # far out of range
    assert mapping.timestamp("soon") is None
    assert mapping.timestamp_millis("1e30") is None
    assert mapping.timestamp_millis(1768899145000) == datetime(2026, 1, 20, 8, 52, 25, tzinfo=UTC)
    assert mapping.integer("Infinity") is None
    assert mapping.integer("NaN") is None
    assert mapping.money("abc", "USD") is None
    assert mapping.money("1.50", "") is None
    order = mapping.order({"id": "1", "create_time": "x", "payment": {"total_amount": "9"}})
    assert order.created_at is None
    assert order.payment is not None and order.payment.total_amount is None  # no currency


def test_message_content_that_is_json_but_not_an_object():
    bare = mapping.message({"id": "1", "index": "1", "type": "TEXT", "content": '"just text"'})
    listed = mapping.message({"id": "2", "index": "2", "type": "TEXT", "content": "[1,2]"})

    assert (bare.text, bare.content) == ("just text", {"content": "just text"})
    assert (listed.text, listed.content_raw) == ("[1,2]", "[1,2]")
