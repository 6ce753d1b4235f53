"""Signing is pinned by the official vectors printed in the contract (§2.2 SV1, §8.4 WV1)."""

from marketplaces.tiktok.signing import (
    sign_request,
    sign_webhook,
    verify_request,
    verify_webhook,
)

SV1_SIGN = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
WV1_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)
WV1_SIGN = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"


def test_request_signature_matches_official_vector_sv1():
    query = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert sign_request("e59af819cc", "/authorization/202309/shops", query) == SV1_SIGN


def test_sign_and_access_token_params_are_not_signed():
    query = {"app_key": "29a39d", "timestamp": "1623812664", "sign": "x", "access_token": "t"}
    assert sign_request("e59af819cc", "/authorization/202309/shops", query) == SV1_SIGN


def test_parameter_order_does_not_matter_but_values_do():
    a = sign_request("s", "/p", {"b": "2", "a": "1"})
    assert a == sign_request("s", "/p", {"a": "1", "b": "2"})
    assert a != sign_request("s", "/p", {"a": "1", "b": "3"})


def test_body_bytes_are_signed_exactly():
    query = {"app_key": "k", "timestamp": "1700000000", "page_size": "100"}
    compact = sign_request("s", "/order/202309/orders/search", query, b'{"a":1}')
    spaced = sign_request("s", "/order/202309/orders/search", query, b'{"a": 1}')
    assert compact != spaced
    assert sign_request("s", "/x", query, None) == sign_request("s", "/x", query, b"")


def test_raw_values_are_signed_not_percent_encoded():
    token = "ab+c/d=="
    signed = sign_request("s", "/x", {"page_token": token})
    expected = sign_request("s", "/x", {"page_token": "ab%2Bc%2Fd%3D%3D"})
    assert signed != expected
    assert verify_request("s", "/x", {"page_token": token}, None, signed)


def test_webhook_signature_matches_official_vector_wv1():
    assert sign_webhook("abcdef", "123", WV1_BODY) == WV1_SIGN
    assert verify_webhook("abcdef", "123", WV1_BODY, WV1_SIGN)


def test_webhook_verification_refuses_tampered_body_and_wrong_key():
    tampered = WV1_BODY.replace(b"UNPAID", b"PAID!!")
    assert not verify_webhook("abcdef", "123", tampered, WV1_SIGN)
    assert not verify_webhook("abcdeg", "123", WV1_BODY, WV1_SIGN)
    assert not verify_webhook("abcdef", "124", WV1_BODY, WV1_SIGN)
    assert not verify_webhook("abcdef", "123", WV1_BODY, "")
