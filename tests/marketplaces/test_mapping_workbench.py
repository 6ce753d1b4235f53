"""Mapping of the workbench's TikTok shapes: product webhooks, after-sale eligibility, reject
reasons, the decisions offered per return stage, and the §6.2 coupon card rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from marketplaces.records import Coupon, Money, ProductChanged, SellerDecision
from marketplaces.tiktok import aftersale, cards, mapping


def test_product_webhooks_carry_the_product_id_even_as_a_number():
    status = mapping.webhook_event(
        {
            "type": 5,
            "tts_notification_id": "1",
            "shop_id": "7",
            "timestamp": 1700000000,
            "data": {
                "product_id": 1729592969712207008,
                "status": "FREEZE",
                "suspended_reason": "Counterfeit",
                "update_time": 1700000000,
            },
        }
    )
    info = mapping.webhook_event({"type": 15, "tts_notification_id": "2", "data": {}})

    assert status.event_type == "PRODUCT_STATUS_CHANGE"
    assert status.data == ProductChanged(
        product_id="1729592969712207008",
        status="FREEZE",
        suspended_reason="Counterfeit",
        updated_at=datetime.fromtimestamp(1700000000, UTC),
    )
    assert info.event_type == "PRODUCT_INFORMATION_CHANGE"
    assert info.data == ProductChanged(None, "", "", None)


def test_eligibility_and_reject_reasons_shapes():
    found = aftersale.eligibility(
        {
            "sku_eligibility": [
                {
                    "sku_id": "11",
                    "line_item_eligibility": [
                        {
                            "request_type": "CANCEL",
                            "order_line_items_ids": ["a"],
                            "eligible": False,
                            "ineligible_code": 3,
                            "ineligible_reason": "Shipped.",
                        },
                        {"request_type": "REFUND", "order_line_items_ids": ["a"], "eligible": True},
                    ],
                },
                {
                    "sku_id": 12,
                    "line_item_eligibility": [
                        {
                            "request_type": "RETURN_AND_REFUND",
                            "eligible": False,
                            "ineligible_reason": "Window closed.",
                        }
                    ],
                },
            ]
        },
        "576",
    )
    reasons = aftersale.reject_reasons(
        {"reasons": [{"name": "r1", "text": "Delivered as described"}, {"name": "r2"}, {"x": 1}]}
    )

    assert found.card_sku_ids() == ["11"]
    assert found.sku("11").lines[0].ineligible_code == 3
    assert found.sku("12").refusal("REFUND", "RETURN_AND_REFUND") == "Window closed."
    assert found.sku("11").refusal("REFUND") == ""
    assert [(r.name, r.text) for r in reasons] == [("r1", "Delivered as described"), ("r2", "r2")]


def codes(decisions: list[SellerDecision]) -> list[tuple[str, bool]]:
    return [(d.code, d.buyer_keep_item) for d in decisions]


def test_decisions_follow_the_next_action_else_the_status():
    by_action = aftersale.return_decisions(
        status="RETURN_OR_REFUND_REQUEST_PENDING",
        return_type="RETURN_AND_REFUND",
        next_actions=["SELLER_RESPOND_RETURN"],
        can_buyer_keep_item=None,
    )
    no_keep = aftersale.return_decisions(
        status="RETURN_OR_REFUND_REQUEST_PENDING",
        return_type="RETURN_AND_REFUND",
        next_actions=["SELLER_RESPOND_RETURN"],
        can_buyer_keep_item=False,
    )
    by_status = aftersale.return_decisions(
        status="BUYER_SHIPPED_ITEM", return_type="REFUND", next_actions=[], can_buyer_keep_item=None
    )
    by_type = aftersale.return_decisions(
        status="RETURN_OR_REFUND_REQUEST_PENDING",
        return_type="REFUND",
        next_actions=["AN_UNKNOWN_ACTION"],
        can_buyer_keep_item=None,
    )
    done = aftersale.return_decisions(
        status="RETURN_OR_REFUND_REQUEST_COMPLETE",
        return_type="REFUND",
        next_actions=[],
        can_buyer_keep_item=None,
    )

    assert codes(by_action) == [
        ("APPROVE_RETURN", False),
        ("APPROVE_RETURN", True),
        ("REJECT_RETURN", False),
    ]
    assert codes(no_keep) == [("APPROVE_RETURN", False), ("REJECT_RETURN", False)]
    assert codes(by_status) == [
        ("APPROVE_RECEIVED_PACKAGE", False),
        ("REJECT_RECEIVED_PACKAGE", False),
    ]
    assert codes(by_type) == [("APPROVE_REFUND", False), ("REJECT_REFUND", False)]
    assert done == []
    assert by_action[2].needs_reason and not by_action[0].needs_reason
    assert "{refund}" in by_action[0].outcome
    assert (
        aftersale.cancellation_decisions(
            status="CANCELLATION_REQUEST_PENDING", cancel_type="CANCEL", next_actions=[]
        )
        == []
    )
    assert [
        d.code
        for d in aftersale.cancellation_decisions(
            status="CANCELLATION_REQUEST_SUCCESS",
            cancel_type="BUYER_CANCEL",
            next_actions=["SELLER_RESPOND_CANCEL"],
        )
    ] == ["APPROVE", "REJECT"]


def coupon(**changes: str) -> Coupon:
    values = {
        "display_type": "CHAT",
        "status": "ONGOING",
        "creation_source": "SELLER_CENTER",
        "target_buyer_segment": "ALL_BUYERS",
        **changes,
    }
    return Coupon(
        external_id="1",
        title="t",
        promo_code="",
        claim_starts_at=None,
        claim_ends_at=None,
        redemption_starts_at=None,
        redemption_ends_at=None,
        discount_type="",
        reduction_amount=Money(Decimal("1"), "USD"),
        percentage=None,
        max_discount=None,
        min_spend=None,
        raw={},
        **values,
    )


def test_coupon_card_rules_of_section_6_2():
    assert cards.coupon_card_problems(coupon()) == []
    assert cards.coupon_card_problems(coupon(display_type="REGULAR")) == []
    assert cards.coupon_card_problems(coupon(display_type="PROMO_CODE", status="DEACTIVATED")) == [
        "Promo code coupons cannot be sent in chat (only Chat and Regular ones).",
        "It is deactivated; only ongoing coupons can be sent.",
    ]
    assert cards.coupon_card_problems(
        coupon(creation_source="", target_buyer_segment="REPEAT_CUSTOMERS")
    ) == [
        "It was created outside Seller Center (unknown); only coupons created in Seller Center "
        "can be sent.",
        "It targets repeat customers, which cannot be sent in chat.",
    ]
    # The record's own property agrees with the rules.
    assert coupon().can_be_sent_in_chat
    assert not coupon(target_buyer_segment="REPEAT_CUSTOMERS").can_be_sent_in_chat
