"""Returns and cancellations the seller acts on (contract §5.1/5.2): eligibility, reject reasons,
and which decisions the platform offers on a request right now.

Shapes the contract lists only by path are read as the Partner Center pages stored in lywzx
(`returnAndRefund/GetAftersaleEligibility.ts`, `GetRejectReasons.ts`, `RejectReturn.ts`,
`SearchReturns.ts`, `SearchCancellations.ts`), a source the contract cites:
- aftersale eligibility: `data.sku_eligibility[]{sku_id, line_item_eligibility[]{request_type,
  order_line_items_ids[], eligible, ineligible_code, ineligible_reason}}`;
- reject reasons: query `return_or_cancel_id` (and `locale`), `data.reasons[]{name, text}`;
- `seller_next_action_response[].action`: SELLER_RESPOND_REFUND | SELLER_RESPOND_RETURN |
  SELLER_RESPOND_RECEIVE_PACKAGE | SELLER_RESPOND_REPLACEMENT (returns), SELLER_RESPOND_CANCEL
  (cancellations);
- reject `decision`: REJECT_REFUND | REJECT_RETURN | REJECT_RECEIVED_PACKAGE | REJECT_REPLACEMENT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marketplaces.records import (
    AfterSaleEligibility,
    CancelStatus,
    CancelType,
    LineEligibility,
    RejectReason,
    ReturnDecision,
    ReturnStatus,
    ReturnType,
    SellerDecision,
    SkuEligibility,
)
from marketplaces.tiktok.mapping import dicts, flag, ident, integer, text

RESPOND_REFUND = "SELLER_RESPOND_REFUND"
RESPOND_RETURN = "SELLER_RESPOND_RETURN"
RESPOND_RECEIVE_PACKAGE = "SELLER_RESPOND_RECEIVE_PACKAGE"
RESPOND_REPLACEMENT = "SELLER_RESPOND_REPLACEMENT"
RESPOND_CANCEL = "SELLER_RESPOND_CANCEL"

REJECT_OUTCOME = (
    "The buyer's request is declined with the reason you choose. The buyer is told, and may "
    "ask TikTok Shop to review it."
)


def eligibility(data: Mapping[str, Any], order_id: str) -> AfterSaleEligibility:
    skus = []
    for item in dicts(data.get("sku_eligibility")):
        lines = [
            LineEligibility(
                request_type=text(line.get("request_type")).upper(),
                order_line_item_ids=[
                    str(value) for value in line.get("order_line_items_ids") or [] if value
                ],
                eligible=flag(line.get("eligible")),
                ineligible_code=integer(line.get("ineligible_code")),
                ineligible_reason=text(line.get("ineligible_reason")),
            )
            for line in dicts(item.get("line_item_eligibility"))
        ]
        skus.append(SkuEligibility(sku_id=ident(item.get("sku_id")) or "", lines=lines))
    return AfterSaleEligibility(order_id=order_id, skus=skus, raw=dict(data))


def reject_reasons(data: Mapping[str, Any]) -> list[RejectReason]:
    reasons = []
    for item in dicts(data.get("reasons")):
        name = text(item.get("name"))
        if name:
            reasons.append(RejectReason(name=name, text=text(item.get("text")) or name))
    return reasons


# --- Which decisions the platform offers ----------------------------------------------------------

_APPROVE_REFUND = SellerDecision(
    ReturnDecision.APPROVE_REFUND,
    approve=True,
    label="Approve the refund",
    outcome="The buyer is refunded {refund}. Nothing has to be sent back.",
)
_APPROVE_RETURN = SellerDecision(
    ReturnDecision.APPROVE_RETURN,
    approve=True,
    label="Approve the return",
    outcome=(
        "The buyer is asked to send the item back. {refund} is refunded once you confirm the "
        "returned package arrived."
    ),
)
_APPROVE_RETURNLESS = SellerDecision(
    ReturnDecision.APPROVE_RETURN,
    approve=True,
    label="Refund and let the buyer keep the item",
    outcome="The buyer keeps the item and is refunded {refund} now.",
    buyer_keep_item=True,
)
_APPROVE_PACKAGE = SellerDecision(
    ReturnDecision.APPROVE_RECEIVED_PACKAGE,
    approve=True,
    label="Confirm the returned package",
    outcome="You confirm the returned item arrived as expected; the buyer is refunded {refund}.",
)
_APPROVE_REPLACEMENT = SellerDecision(
    ReturnDecision.APPROVE_REPLACEMENT,
    approve=True,
    label="Approve the replacement",
    outcome="A replacement is sent to the buyer; no money is refunded.",
)
_REFUND_INSTEAD = SellerDecision(
    ReturnDecision.ISSUE_REPLACEMENT_REFUND,
    approve=True,
    label="Refund instead of replacing",
    outcome="No replacement is sent; the buyer is refunded {refund} instead.",
)


def _reject(code: str, label: str, outcome: str = REJECT_OUTCOME) -> SellerDecision:
    return SellerDecision(code, approve=False, label=label, outcome=outcome)


_RETURN_DECISIONS: dict[str, tuple[SellerDecision, ...]] = {
    RESPOND_REFUND: (_APPROVE_REFUND, _reject(ReturnDecision.REJECT_REFUND, "Reject the refund")),
    RESPOND_RETURN: (
        _APPROVE_RETURN,
        _APPROVE_RETURNLESS,
        _reject(ReturnDecision.REJECT_RETURN, "Reject the return"),
    ),
    RESPOND_RECEIVE_PACKAGE: (
        _APPROVE_PACKAGE,
        _reject(
            ReturnDecision.REJECT_RECEIVED_PACKAGE,
            "Reject the returned package",
            "You refuse the returned package; no refund is issued now. The buyer is told your "
            "reason and may ask TikTok Shop to review it.",
        ),
    ),
    RESPOND_REPLACEMENT: (
        _APPROVE_REPLACEMENT,
        _REFUND_INSTEAD,
        _reject(ReturnDecision.REJECT_REPLACEMENT, "Reject the replacement"),
    ),
}

# When a record carries no next action (older data), the status says what is awaited.
_ACTION_BY_STATUS: dict[str, str] = {
    ReturnStatus.BUYER_SHIPPED_ITEM: RESPOND_RECEIVE_PACKAGE,
    ReturnStatus.REPLACEMENT_REQUEST_PENDING: RESPOND_REPLACEMENT,
}
_ACTION_BY_TYPE: dict[str, str] = {
    ReturnType.REFUND: RESPOND_REFUND,
    ReturnType.RETURN_AND_REFUND: RESPOND_RETURN,
    ReturnType.REPLACEMENT: RESPOND_REPLACEMENT,
}


def return_decisions(
    *, status: str, return_type: str, next_actions: Iterable[str], can_buyer_keep_item: bool | None
) -> list[SellerDecision]:
    """The decisions open on a return: those of its seller next action, else of its status."""
    actions = [action for action in next_actions if action in _RETURN_DECISIONS]
    if not actions:
        awaited = _ACTION_BY_STATUS.get(status)
        if awaited is None and status == ReturnStatus.RETURN_OR_REFUND_REQUEST_PENDING:
            awaited = _ACTION_BY_TYPE.get(return_type)
        actions = [awaited] if awaited else []
    decisions: list[SellerDecision] = []
    for action in actions:
        for decision in _RETURN_DECISIONS[action]:
            if decision.buyer_keep_item and can_buyer_keep_item is False:
                continue
            if decision not in decisions:
                decisions.append(decision)
    return decisions


CANCEL_APPROVE = SellerDecision(
    "APPROVE",
    approve=True,
    label="Approve the cancellation",
    outcome="The order is cancelled and the buyer is refunded {refund}.",
)
CANCEL_REJECT = _reject(
    "REJECT",
    "Reject the cancellation",
    "The order goes ahead; the buyer is told the reason you choose.",
)


def cancellation_decisions(
    *, status: str, cancel_type: str, next_actions: Iterable[str]
) -> list[SellerDecision]:
    """A buyer's cancellation request waiting for the seller can be approved or rejected."""
    waiting = RESPOND_CANCEL in list(next_actions) or (
        status == CancelStatus.CANCELLATION_REQUEST_PENDING
        and cancel_type == CancelType.BUYER_CANCEL
    )
    return [CANCEL_APPROVE, CANCEL_REJECT] if waiting else []
