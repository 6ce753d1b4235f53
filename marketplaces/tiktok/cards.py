"""What TikTok Shop lets a seller send as a chat card (contract §6.2), in the seller's words."""

from __future__ import annotations

from marketplaces.records import Coupon, CouponDisplayType, CouponStatus, MessageType

# The card types Send Message accepts (§6.2), in the order the workbench offers them.
CARD_TYPES = (
    MessageType.ORDER_CARD,
    MessageType.PRODUCT_CARD,
    MessageType.COUPON_CARD,
    MessageType.LOGISTICS_CARD,
    MessageType.RETURN_REFUND_CARD,
)

_DISPLAY_NAMES = {
    CouponDisplayType.REGULAR: "Regular",
    CouponDisplayType.LIVE: "Live",
    CouponDisplayType.CREATOR_EXCLUSIVE: "Creator exclusive",
    CouponDisplayType.CHAT: "Chat",
    CouponDisplayType.PROMO_CODE: "Promo code",
}
_STATUS_NAMES = {
    CouponStatus.NOT_START: "not started yet",
    CouponStatus.EXPIRED: "expired",
    CouponStatus.DEACTIVATED: "deactivated",
}


def _words(value: str) -> str:
    return value.replace("_", " ").lower() or "unknown"


def coupon_card_problems(coupon: Coupon) -> list[str]:
    """Why a COUPON_CARD of `coupon` would be refused; empty when it can be sent.

    §6.2: display type CHAT or REGULAR, status ONGOING, creation source SELLER_CENTER, target
    buyer segment not REPEAT_CUSTOMERS.
    """
    problems = []
    if coupon.display_type not in (CouponDisplayType.CHAT, CouponDisplayType.REGULAR):
        name = _DISPLAY_NAMES.get(coupon.display_type, _words(coupon.display_type))
        problems.append(f"{name} coupons cannot be sent in chat (only Chat and Regular ones).")
    if coupon.status != CouponStatus.ONGOING:
        state = _STATUS_NAMES.get(coupon.status, _words(coupon.status))
        problems.append(f"It is {state}; only ongoing coupons can be sent.")
    if coupon.creation_source != "SELLER_CENTER":
        problems.append(
            f"It was created outside Seller Center ({_words(coupon.creation_source)}); only "
            "coupons created in Seller Center can be sent."
        )
    if coupon.target_buyer_segment == "REPEAT_CUSTOMERS":
        problems.append("It targets repeat customers, which cannot be sent in chat.")
    return problems
