"""The client's return and cancellation calls (§5.1/5.2) against the sandbox over HTTP."""

from __future__ import annotations

import pytest

from marketplaces.records import ReturnDecision
from marketplaces.tiktok import aftersale, errors
from tests.marketplaces.test_client import make_client, shop_access


@pytest.fixture
def fresh(tiktok_sandbox_factory):
    sandbox = tiktok_sandbox_factory()
    with make_client(sandbox) as client:
        yield sandbox, client, shop_access(sandbox)


def test_eligibility_and_reject_reasons(tiktok_sandbox):
    with make_client(tiktok_sandbox) as client:
        us = shop_access(tiktok_sandbox)
        returns = list(client.returns(**us.auth, statuses=["BUYER_SHIPPED_ITEM"]))
        order_id = returns[0].order_id or ""

        eligibility = client.aftersale_eligibility(**us.auth, order_id=order_id)
        reasons = client.reject_reasons(**us.auth, return_or_cancel_id=returns[0].external_id or "")

    sku = eligibility.skus[0]
    assert eligibility.order_id == order_id
    assert sku.allows("REFUND", "RETURN_AND_REFUND") is False
    assert sku.refusal("REFUND", "RETURN_AND_REFUND") == "A return or refund is already open."
    assert [line.request_type for line in sku.lines] == ["CANCEL", "REFUND", "RETURN_AND_REFUND"]
    assert reasons[0].name == "reverse_reject_return_parcel_reason_1"
    assert reasons[0].text == "The returned item is not the product sold"
    assert [
        d.code
        for d in returns[0]
        and aftersale.return_decisions(
            status=returns[0].status,
            return_type=returns[0].return_type,
            next_actions=[a.action for a in returns[0].seller_actions],
            can_buyer_keep_item=returns[0].can_buyer_keep_item,
        )
    ] == [ReturnDecision.APPROVE_RECEIVED_PACKAGE, ReturnDecision.REJECT_RECEIVED_PACKAGE]


def test_return_decisions_are_sent_with_their_idempotency_key(fresh):
    sandbox, client, us = fresh
    shipped = next(client.returns(**us.auth, statuses=["BUYER_SHIPPED_ITEM"]))
    pending = next(client.returns(**us.auth, statuses=["RETURN_OR_REFUND_REQUEST_PENDING"]))
    decision = aftersale.return_decisions(
        status=pending.status,
        return_type=pending.return_type,
        next_actions=[a.action for a in pending.seller_actions],
        can_buyer_keep_item=pending.can_buyer_keep_item,
    )[0]

    client.return_approve(
        **us.auth, return_id=pending.external_id, decision=decision.code, idempotency_key="a-1"
    )
    client.return_approve(  # a retry of the same decision: acted on once
        **us.auth, return_id=pending.external_id, decision=decision.code, idempotency_key="a-1"
    )
    client.return_reject(
        **us.auth,
        return_id=shipped.external_id,
        decision=ReturnDecision.REJECT_RECEIVED_PACKAGE,
        reject_reason="reverse_reject_return_parcel_reason_3",
        comment="Only one of two items came back.",
        idempotency_key="r-1",
    )
    with pytest.raises(errors.TikTokApiError) as stale:
        client.return_approve(
            **us.auth, return_id=pending.external_id, decision=decision.code, idempotency_key="a-2"
        )

    assert stale.value.code == 25020011
    applied = sandbox.control("GET", "/_sandbox/decisions")["decisions"]
    assert [(d["record_id"], d["decision"], d["idempotency_key"]) for d in applied] == [
        (pending.external_id, decision.code, "a-1"),
        (shipped.external_id, "REJECT_RECEIVED_PACKAGE", "r-1"),
    ]
    assert applied[1]["reject_reason"] == "reverse_reject_return_parcel_reason_3"


def test_cancellation_decisions(fresh):
    sandbox, client, us = fresh
    pending = list(client.cancellations(**us.auth, statuses=["CANCELLATION_REQUEST_PENDING"]))
    assert [
        d.code
        for d in aftersale.cancellation_decisions(
            status=pending[0].status,
            cancel_type=pending[0].cancel_type,
            next_actions=[a.action for a in pending[0].seller_actions],
        )
    ] == ["APPROVE", "REJECT"]

    gb = shop_access(sandbox, seller_index=1)
    other = next(client.cancellations(**gb.auth, statuses=["CANCELLATION_REQUEST_PENDING"]))

    client.cancellation_approve(**us.auth, cancel_id=pending[0].external_id, idempotency_key="c1")
    client.cancellation_reject(
        **gb.auth,
        cancel_id=other.external_id,
        reject_reason="reverse_reject_cancel_reason_1",
        idempotency_key="c2",
    )

    approved = next(client.cancellations(**us.auth, cancel_ids=[pending[0].external_id]))
    rejected = next(client.cancellations(**gb.auth, cancel_ids=[other.external_id]))
    assert approved.status == "CANCELLATION_REQUEST_SUCCESS"
    assert rejected.status == "CANCELLATION_REQUEST_CANCEL"
    order = client.order_details(**us.auth, order_ids=[pending[0].order_id or ""])[0]
    assert order.status == "CANCELLED"


def test_an_idempotency_key_is_required():
    from marketplaces.tiktok.client import TikTokClient
    from marketplaces.tiktok.config import TikTokConfig

    client = TikTokClient(TikTokConfig(app_key="k", app_secret="s", service_id="1"))
    with pytest.raises(ValueError, match="idempotency key"):
        client.cancellation_approve(
            access_token="t", shop_cipher="c", cancel_id="1", idempotency_key=""
        )
