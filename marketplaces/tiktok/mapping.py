"""TikTok Shop API JSON -> Sellerdesk records (`marketplaces.records`).

Lenient by design (contract "How to use this sheet"): ids may come as JSON numbers, money as
"5000" or "1.5", image sizes as strings, a field may be missing or null, a status may be one we
have never seen. None of that crashes a sync: unknown values are kept as sent, every record keeps
its `raw` dict, and where the contract lists two spellings of one value the enum's spelling is
stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marketplaces.records import (
    JSON,
    AfterSaleLine,
    AgentSettings,
    AuthorizationExpiring,
    Cancellation,
    CancellationStatusChanged,
    CancelStatus,
    Conversation,
    ConversationChanged,
    Coupon,
    Image,
    Message,
    MessageSender,
    MessageType,
    Money,
    NewMessage,
    Order,
    OrderLine,
    OrderPayment,
    OrderStatus,
    OrderStatusChanged,
    Participant,
    Product,
    ProductChanged,
    ProductSku,
    RecipientLocation,
    RefundAmount,
    Return,
    ReturnDiscount,
    ReturnShippingFee,
    ReturnStatus,
    ReturnStatusChanged,
    SellerAction,
    Shop,
    ShopDeauthorized,
    StockLevel,
    TokenGrant,
    TrackingEvent,
    UploadedImage,
    WebhookData,
    WebhookEvent,
    WebhookType,
)

logger = logging.getLogger(__name__)

# Second spellings the contract or its samples list, mapped onto the enum's spelling.
ORDER_STATUS_ALIASES = {"CANCEL": OrderStatus.CANCELLED}  # webhook type 1 enum (WHDOC:1)
RETURN_STATUS_ALIASES = {
    "RETURN_OR_REFUND_REQUEST_REJECT": ReturnStatus.REFUND_OR_RETURN_REQUEST_REJECT,  # hsib19
    # WHDOC:12 prose spells the cancel status with a double underscore and "CANCELLED".
    "RETURN_OR_REFUND__REQUEST_CANCELLED": ReturnStatus.RETURN_OR_REFUND_REQUEST_CANCEL,
    "RETURN_OR_REFUND_REQUEST_CANCELLED": ReturnStatus.RETURN_OR_REFUND_REQUEST_CANCEL,
}
CANCEL_STATUS_ALIASES = {
    "CANCELLATION_REQUEST_CANCELLED": CancelStatus.CANCELLATION_REQUEST_CANCEL,  # WHDOC:11
}

# Recipient fields that identify a person or a street; never extracted, and removed from
# `Order.raw` so the stored JSON does not carry them either. `cpf`/`cpf_name` are a Brazilian
# tax id and its holder's name.
_ADDRESS_PERSONAL_FIELDS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "first_name_local_script",
        "last_name_local_script",
        "phone_number",
        "full_address",
        "address_detail",
        "address_line1",
        "address_line2",
        "address_line3",
        "address_line4",
    }
)
_ORDER_PERSONAL_FIELDS = frozenset({"cpf", "cpf_name"})
_TOKEN_FIELDS = frozenset({"access_token", "refresh_token"})


# --- Scalars ------------------------------------------------------------------------------------


def text(value: Any) -> str:
    """A string field; None becomes ""."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def ident(value: Any) -> str | None:
    """An id as a string (ids are JSON strings, but some topics send numbers); "" -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = str(value).strip()
    return result or None


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def integer(value: Any) -> int | None:
    """An int from 7, "7", "290" or 7.0; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    raw = str(value).strip()
    if not raw:
        return None
    try:
        result = Decimal(raw)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def money(value: Any, currency: str | None) -> Money | None:
    """Money from a decimal string ("5000", "1.5", "199.00"), a number, or {amount, currency}."""
    if isinstance(value, Mapping):
        currency = text(value.get("currency")) or currency
        value = value.get("amount")
    amount = decimal(value)
    if amount is None or not currency:
        return None
    return Money(amount=amount, currency=currency)


def timestamp(value: Any) -> datetime | None:
    """Unix seconds (int or digit string) as an aware UTC datetime; 0/""/None/garbage -> None."""
    seconds = decimal(value)
    if not seconds:
        return None
    try:
        return datetime.fromtimestamp(int(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError):  # e.g. milliseconds sent where seconds belong
        logger.warning("Timestamp out of range: %s", value)
        return None


def timestamp_millis(value: Any) -> datetime | None:
    millis = decimal(value)
    if not millis:
        return None
    try:
        return datetime.fromtimestamp(int(millis) // 1000, tz=UTC).replace(
            microsecond=int(millis) % 1000 * 1000
        )
    except (ValueError, OverflowError, OSError):
        logger.warning("Millisecond timestamp out of range: %s", value)
        return None


def enum_value(value: Any, aliases: Mapping[str, str] | None = None) -> str:
    """The enum spelling of a status; unknown values are kept as sent."""
    raw = text(value).strip()
    if aliases and raw in aliases:
        return str(aliases[raw])
    return raw


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[JSON]:
    return [item for item in _list(value) if isinstance(item, dict)]


def index_key(index: str) -> tuple[int, str]:
    """Sort key for a message `index` (a numeric string, newer = larger)."""
    # Length first: numeric strings without leading zeros then compare like the numbers they are.
    value = index.strip()
    return (len(value), value)


# --- Authorization ------------------------------------------------------------------------------


def token_grant(data: Mapping[str, Any]) -> TokenGrant:
    """Token get/refresh `data`. The `*_expire_in` fields are absolute timestamps (§1.4)."""
    return TokenGrant(
        access_token=text(data.get("access_token")),
        access_token_expires_at=timestamp(data.get("access_token_expire_in")),
        refresh_token=text(data.get("refresh_token")),
        refresh_token_expires_at=timestamp(data.get("refresh_token_expire_in")),
        open_id=ident(data.get("open_id")) or "",
        seller_name=text(data.get("seller_name")),
        seller_base_region=text(data.get("seller_base_region")),
        user_type=integer(data.get("user_type")),
        granted_scopes=[text(scope) for scope in _list(data.get("granted_scopes"))],
        raw={key: value for key, value in data.items() if key not in _TOKEN_FIELDS},
    )


def shop(data: Mapping[str, Any]) -> Shop:
    return Shop(
        external_id=ident(data.get("id")) or "",
        name=text(data.get("name")),
        region=text(data.get("region")),
        seller_type=enum_value(data.get("seller_type")),
        cipher=text(data.get("cipher")),
        code=text(data.get("code")),
        raw=dict(data),
    )


# --- Orders -------------------------------------------------------------------------------------


def recipient_location(address: Mapping[str, Any]) -> RecipientLocation | None:
    """City, region, postal code and country; names, streets and phones are left out on purpose.

    `district_info` levels: L0 country, L1 state/region, L2 county or city, L3 city/district.
    UK addresses carry the town in `post_town`.
    """
    if not address:
        return None
    levels = {
        text(item.get("address_level")).upper(): text(item.get("address_name")).strip()
        for item in dicts(address.get("district_info"))
    }
    city = text(address.get("post_town")).strip() or levels.get("L3") or levels.get("L2") or None
    return RecipientLocation(
        country_code=text(address.get("region_code")).strip() or None,
        country=levels.get("L0") or None,
        region=levels.get("L1") or None,
        city=city,
        postal_code=text(address.get("postal_code")).strip() or None,
    )


def order_payment(data: Mapping[str, Any]) -> OrderPayment | None:
    if not data:
        return None
    currency = text(data.get("currency"))

    def amount(key: str) -> Money | None:
        return money(data.get(key), currency)

    return OrderPayment(
        currency=currency,
        total_amount=amount("total_amount"),
        sub_total=amount("sub_total"),
        shipping_fee=amount("shipping_fee"),
        seller_discount=amount("seller_discount"),
        platform_discount=amount("platform_discount"),
        original_total_product_price=amount("original_total_product_price"),
        original_shipping_fee=amount("original_shipping_fee"),
        shipping_fee_seller_discount=amount("shipping_fee_seller_discount"),
        shipping_fee_platform_discount=amount("shipping_fee_platform_discount"),
        tax=amount("tax"),
        raw=dict(data),
    )


def order_line(data: Mapping[str, Any], order_currency: str) -> OrderLine:
    currency = text(data.get("currency")) or order_currency
    return OrderLine(
        external_id=ident(data.get("id")) or "",
        product_id=ident(data.get("product_id")),
        sku_id=ident(data.get("sku_id")),
        product_name=text(data.get("product_name")),
        sku_name=text(data.get("sku_name")),
        seller_sku=text(data.get("seller_sku")),
        sku_image_url=text(data.get("sku_image")) or None,
        original_price=money(data.get("original_price"), currency),
        sale_price=money(data.get("sale_price"), currency),
        seller_discount=money(data.get("seller_discount"), currency),
        platform_discount=money(data.get("platform_discount"), currency),
        display_status=enum_value(data.get("display_status"), ORDER_STATUS_ALIASES),
        package_id=ident(data.get("package_id")),
        package_status=enum_value(data.get("package_status")),
        tracking_number=text(data.get("tracking_number")),
        shipping_provider_name=text(data.get("shipping_provider_name")),
        cancel_reason=text(data.get("cancel_reason")),
        cancel_user=text(data.get("cancel_user")),
        sku_type=enum_value(data.get("sku_type")),
        is_gift=flag(data.get("is_gift")),
        raw=dict(data),
    )


def _order_raw(data: Mapping[str, Any]) -> JSON:
    raw = {key: value for key, value in data.items() if key not in _ORDER_PERSONAL_FIELDS}
    address = data.get("recipient_address")
    if isinstance(address, dict):
        raw["recipient_address"] = {
            key: value for key, value in address.items() if key not in _ADDRESS_PERSONAL_FIELDS
        }
    return raw


def order(data: Mapping[str, Any]) -> Order:
    """One order object; the 202309 search/detail and 202507 detail shapes are the same (§4.2)."""
    payment = order_payment(_dict(data.get("payment")))
    currency = payment.currency if payment else ""
    return Order(
        external_id=ident(data.get("id")) or "",
        status=enum_value(data.get("status"), ORDER_STATUS_ALIASES),
        buyer_user_id=ident(data.get("user_id")),
        buyer_nickname=text(data.get("buyer_nickname")),
        buyer_message=text(data.get("buyer_message")),
        seller_note=text(data.get("seller_note")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        paid_at=timestamp(data.get("paid_time")),
        cancelled_at=timestamp(data.get("cancel_time")),
        delivered_at=timestamp(data.get("delivery_time")),
        shipping_due_at=timestamp(data.get("shipping_due_time")),
        delivery_due_at=timestamp(data.get("delivery_due_time")),
        cancel_reason=text(data.get("cancel_reason")),
        cancellation_initiator=enum_value(data.get("cancellation_initiator")),
        is_buyer_request_cancel=flag(data.get("is_buyer_request_cancel")),
        is_on_hold=flag(data.get("is_on_hold_order")),
        is_cod=flag(data.get("is_cod")),
        is_sample_order=flag(data.get("is_sample_order")),
        is_replacement_order=flag(data.get("is_replacement_order")),
        replaced_order_id=ident(data.get("replaced_order_id")),
        payment_method_name=text(data.get("payment_method_name")),
        shipping_type=enum_value(data.get("shipping_type")),
        fulfillment_type=enum_value(data.get("fulfillment_type")),
        delivery_option_name=text(data.get("delivery_option_name")),
        shipping_provider=text(data.get("shipping_provider")),
        shipping_provider_id=ident(data.get("shipping_provider_id")),
        tracking_number=text(data.get("tracking_number")),
        package_ids=[
            package_id
            for package in dicts(data.get("packages"))
            if (package_id := ident(package.get("id")))
        ],
        payment=payment,
        location=recipient_location(_dict(data.get("recipient_address"))),
        lines=[order_line(line, currency) for line in dicts(data.get("line_items"))],
        raw=_order_raw(data),
    )


def tracking_event(data: Mapping[str, Any]) -> TrackingEvent:
    return TrackingEvent(
        description=text(data.get("description")),
        occurred_at=timestamp_millis(data.get("update_time_millis")),
        raw=dict(data),
    )


# --- Returns and cancellations ------------------------------------------------------------------


def seller_actions(value: Any) -> list[SellerAction]:
    return [
        SellerAction(
            action=enum_value(item.get("action")), deadline=timestamp(item.get("deadline"))
        )
        for item in dicts(value)
    ]


def refund_amount(data: Mapping[str, Any]) -> RefundAmount | None:
    if not data:
        return None
    currency = text(data.get("currency"))
    return RefundAmount(
        currency=currency,
        total=money(data.get("refund_total"), currency),
        subtotal=money(data.get("refund_subtotal"), currency),
        shipping_fee=money(data.get("refund_shipping_fee"), currency),
        tax=money(data.get("refund_tax"), currency),
        retail_delivery_fee=money(data.get("retail_delivery_fee"), currency),
        buyer_service_fee=money(data.get("buyer_service_fee"), currency),
    )


def _amount_objects(value: Any) -> list[JSON]:
    """The contract lists `discount_amount[]`/`shipping_fee_amount[]` as arrays, the changelog
    sample sends objects: accept both (a list is summed key by key per currency)."""
    if isinstance(value, dict):
        return [value]
    return dicts(value)


def _summed(objects: Iterable[Mapping[str, Any]], *keys: str) -> Money | None:
    """The first present key of `keys` in each object, summed (same currency as the first)."""
    total: Money | None = None
    for obj in objects:
        currency = text(obj.get("currency"))
        amount = next(
            (found for key in keys if (found := money(obj.get(key), currency)) is not None), None
        )
        if amount is None:
            continue
        if total is None:
            total = amount
        elif total.currency == amount.currency:
            total = Money(total.amount + amount.amount, total.currency)
    return total


def return_discount(value: Any) -> ReturnDiscount | None:
    objects = _amount_objects(value)
    if not objects:
        return None
    return ReturnDiscount(
        product_platform_discount=_summed(objects, "product_platform_discount"),
        product_seller_discount=_summed(objects, "product_seller_discount"),
        shipping_fee_platform_discount=_summed(objects, "shipping_fee_platform_discount"),
        shipping_fee_seller_discount=_summed(objects, "shipping_fee_seller_discount"),
    )


def return_shipping_fee(value: Any) -> ReturnShippingFee | None:
    """`return_shipping_fee_amount` (sample) or `shipping_fee_amount[]` (sheet); the changelog's
    JSON says `seller_paid_return_shipping_fee`, its prose `..._fee_amount`: both accepted."""
    objects = _amount_objects(value)
    if not objects:
        return None
    return ReturnShippingFee(
        seller_paid=_summed(
            objects, "seller_paid_return_shipping_fee", "seller_paid_return_shipping_fee_amount"
        ),
        buyer_paid=_summed(
            objects, "buyer_paid_return_shipping_fee", "buyer_paid_return_shipping_fee_amount"
        ),
        platform_paid=_summed(
            objects, "platform_paid_return_shipping_fee", "platform_paid_return_shipping_fee_amount"
        ),
    )


def _image(value: Any) -> Image | None:
    """An image object ({url} or {uri, urls[], thumb_urls[]}) or a bare URL string."""
    if isinstance(value, str):
        return Image(url=value or None, width=None, height=None)
    if not isinstance(value, dict) or not value:
        return None
    urls = [text(url) for url in _list(value.get("urls")) if url]
    return Image(
        url=text(value.get("url")) or (urls[0] if urls else None),
        width=integer(value.get("width")),
        height=integer(value.get("height")),
        uri=text(value.get("uri")) or None,
        urls=urls,
        thumb_urls=[text(url) for url in _list(value.get("thumb_urls")) if url],
    )


def after_sale_line(data: Mapping[str, Any], id_key: str) -> AfterSaleLine:
    image = _image(data.get("product_image"))
    return AfterSaleLine(
        external_id=ident(data.get(id_key)),
        order_line_item_id=ident(data.get("order_line_item_id")),
        sku_id=ident(data.get("sku_id")),
        sku_name=text(data.get("sku_name")),
        product_name=text(data.get("product_name")),
        seller_sku=text(data.get("seller_sku")),
        product_image_url=image.url if image else None,
        refund=refund_amount(_dict(data.get("refund_amount"))),
        raw=dict(data),
    )


def return_order(data: Mapping[str, Any]) -> Return:
    return Return(
        external_id=ident(data.get("return_id")),
        order_id=ident(data.get("order_id")),
        return_type=enum_value(data.get("return_type")),
        status=enum_value(data.get("return_status"), RETURN_STATUS_ALIASES),
        arbitration_status=enum_value(data.get("arbitration_status")),
        role=enum_value(data.get("role")),
        reason=text(data.get("return_reason")),
        reason_text=text(data.get("return_reason_text")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        return_tracking_number=text(data.get("return_tracking_number")),
        return_provider_name=text(data.get("return_provider_name")),
        can_buyer_keep_item=(
            flag(data["can_buyer_keep_item"])
            if data.get("can_buyer_keep_item") is not None
            else None
        ),
        seller_actions=seller_actions(data.get("seller_next_action_response")),
        refund=refund_amount(_dict(data.get("refund_amount"))),
        discount=return_discount(data.get("discount_amount")),
        return_shipping_fee=return_shipping_fee(
            data.get("return_shipping_fee_amount", data.get("shipping_fee_amount"))
        ),
        partial_refund=money(_dict(data.get("partial_refund")), None),
        lines=[
            after_sale_line(line, "return_line_item_id")
            for line in dicts(data.get("return_line_items"))
        ],
        raw=dict(data),
    )


def cancellation(data: Mapping[str, Any]) -> Cancellation:
    return Cancellation(
        external_id=ident(data.get("cancel_id")),
        order_id=ident(data.get("order_id")),
        cancel_type=enum_value(data.get("cancel_type")),
        status=enum_value(data.get("cancel_status"), CANCEL_STATUS_ALIASES),
        role=enum_value(data.get("role")),
        reason=text(data.get("cancel_reason")),
        reason_text=text(data.get("cancel_reason_text")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        seller_actions=seller_actions(data.get("seller_next_action_response")),
        refund=refund_amount(_dict(data.get("refund_amount"))),
        lines=[
            after_sale_line(line, "cancel_line_item_id")
            for line in dicts(data.get("cancel_line_items"))
        ],
        raw=dict(data),
    )


# --- Products and coupons -----------------------------------------------------------------------


def product_sku(data: Mapping[str, Any]) -> ProductSku:
    price = _dict(data.get("price"))
    currency = text(price.get("currency"))
    return ProductSku(
        external_id=ident(data.get("id")) or "",
        seller_sku=text(data.get("seller_sku")),
        price=money(price.get("sale_price"), currency),
        tax_exclusive_price=money(price.get("tax_exclusive_price"), currency),
        list_price=money(_dict(data.get("list_price")), currency),
        stock=[
            StockLevel(
                warehouse_id=ident(level.get("warehouse_id")),
                quantity=integer(level.get("quantity")) or 0,
            )
            for level in dicts(data.get("inventory"))
        ],
        raw=dict(data),
    )


def product(data: Mapping[str, Any]) -> Product:
    """A product from search (no images) or detail (`main_images`, description)."""
    return Product(
        external_id=ident(data.get("id")) or "",
        title=text(data.get("title")),
        status=enum_value(data.get("status") or data.get("product_status")),
        description=text(data.get("description")),
        created_at=timestamp(data.get("create_time")),
        updated_at=timestamp(data.get("update_time")),
        sales_regions=[text(region) for region in _list(data.get("sales_regions"))],
        audit_status=enum_value(_dict(data.get("audit")).get("status")),
        images=[
            image for item in _list(data.get("main_images")) if (image := _image(item)) is not None
        ],
        skus=[product_sku(sku) for sku in dicts(data.get("skus"))],
        raw=dict(data),
    )


def coupon(data: Mapping[str, Any]) -> Coupon:
    """Coupon fields are [S] (hsib19 types, no official sample): read defensively."""
    discount = _dict(data.get("discount"))
    threshold = _dict(data.get("threshold"))
    claim = _dict(data.get("claim_duration"))
    redemption = _dict(data.get("redemption_duration"))
    reduction = discount.get("reduction_amount")
    currency = text(reduction.get("currency")) if isinstance(reduction, dict) else ""
    return Coupon(
        external_id=ident(data.get("id")) or "",
        title=text(data.get("title")),
        display_type=enum_value(data.get("display_type")),
        status=enum_value(data.get("status")),
        creation_source=enum_value(data.get("creation_source")),
        target_buyer_segment=enum_value(data.get("target_buyer_segment")),
        promo_code=text(data.get("promo_code")),
        claim_starts_at=timestamp(claim.get("start_time")),
        claim_ends_at=timestamp(claim.get("end_time")),
        redemption_starts_at=timestamp(redemption.get("start_time")),
        redemption_ends_at=timestamp(redemption.get("end_time")),
        discount_type=enum_value(discount.get("type")),
        reduction_amount=money(reduction, currency or None),
        percentage=decimal(discount.get("percentage")),
        max_discount=money(discount.get("max_discount"), currency or None),
        min_spend=money(threshold.get("min_spend"), currency or None),
        raw=dict(data),
    )


# --- Customer service ---------------------------------------------------------------------------

# Types whose content is {"content": "..."} text (§6.3).
_TEXT_TYPES = frozenset(
    {
        MessageType.TEXT,
        MessageType.ALLOCATED_SERVICE,
        MessageType.NOTIFICATION,
        MessageType.BUYER_ENTER_FROM_TRANSFER,
        MessageType.OTHER,
    }
)


def message_content(content: Any) -> tuple[JSON, str]:
    """(decoded object, string as sent). Content is a JSON string; an object is accepted too."""
    if isinstance(content, dict):
        return content, json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    content_raw = text(content)
    try:
        decoded = json.loads(content_raw) if content_raw else {}
    except ValueError:
        logger.info("Message content is not JSON; kept as text")
        return {"content": content_raw}, content_raw
    if not isinstance(decoded, dict):  # a bare JSON string is text; anything else stays as sent
        return {"content": decoded if isinstance(decoded, str) else content_raw}, content_raw
    return decoded, content_raw


def message_sender(data: Mapping[str, Any]) -> MessageSender:
    return MessageSender(
        im_user_id=ident(data.get("im_user_id")),
        role=enum_value(data.get("role")),
        nickname=text(data.get("nickname")),
        avatar_url=text(data.get("avatar")) or None,
    )


def message(data: Mapping[str, Any], conversation_id: str | None = None) -> Message:
    """A message from Get Conversation Messages, `latest_message`, or webhook type 14."""
    kind = enum_value(data.get("type"))
    content, content_raw = message_content(data.get("content"))
    image = _image(content) if kind == MessageType.IMAGE else None
    message_text = text(content.get("content")) if "content" in content else None
    if kind not in _TEXT_TYPES and kind in MessageType.__members__:
        message_text = None  # cards and media carry ids, not text
    return Message(
        external_id=ident(data.get("id", data.get("message_id"))) or "",
        conversation_id=ident(data.get("conversation_id")) or conversation_id,
        index=text(data.get("index")),
        type=kind,
        created_at=timestamp(data.get("create_time")),
        is_visible=flag(data.get("is_visible", True)),
        sender=message_sender(_dict(data.get("sender"))),
        content=content,
        content_raw=content_raw,
        text=message_text,
        image=image,
        product_id=ident(content.get("product_id")),
        order_id=ident(content.get("order_id")),
        sku_id=ident(content.get("sku_id")),
        coupon_id=ident(content.get("coupon_id")),
        package_id=ident(content.get("package_id")),
        video_id=ident(content.get("vid")),
        raw=dict(data),
    )


def participant(data: Mapping[str, Any]) -> Participant:
    return Participant(
        im_user_id=ident(data.get("im_user_id")),
        user_id=ident(data.get("user_id")),
        role=enum_value(data.get("role")),
        nickname=text(data.get("nickname")),
        avatar_url=text(data.get("avatar")) or None,
        buyer_platform=enum_value(data.get("buyer_platform")),
    )


def conversation(data: Mapping[str, Any]) -> Conversation:
    external_id = ident(data.get("id")) or ""
    latest = _dict(data.get("latest_message"))
    return Conversation(
        external_id=external_id,
        participant_count=integer(data.get("participant_count")),
        can_send_message=flag(data.get("can_send_message")),
        unread_count=integer(data.get("unread_count")) or 0,
        created_at=timestamp(data.get("create_time")),
        participants=[participant(item) for item in dicts(data.get("participants"))],
        latest_message=message(latest, external_id) if latest else None,
        raw=dict(data),
    )


def uploaded_image(data: Mapping[str, Any]) -> UploadedImage:
    return UploadedImage(
        url=text(data.get("url")),
        width=integer(data.get("width")),
        height=integer(data.get("height")),
    )


def agent_settings(data: Mapping[str, Any]) -> AgentSettings:
    return AgentSettings(can_accept_chat=flag(data.get("can_accept_chat")), raw=dict(data))


# --- Webhooks -----------------------------------------------------------------------------------

EVENT_TYPE_NAMES = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
}


def _webhook_data(kind: int | None, data: JSON) -> WebhookData | None:
    if kind == WebhookType.ORDER_STATUS_CHANGE:
        return OrderStatusChanged(
            order_id=ident(data.get("order_id")),
            order_status=enum_value(data.get("order_status"), ORDER_STATUS_ALIASES),
            is_on_hold_order=flag(data.get("is_on_hold_order")),
            updated_at=timestamp(data.get("update_time")),
        )
    if kind == WebhookType.SELLER_DEAUTHORIZATION:
        return ShopDeauthorized(message=text(data.get("message")))
    if kind == WebhookType.UPCOMING_AUTHORIZATION_EXPIRATION:
        return AuthorizationExpiring(
            message=text(data.get("message")), expires_at=timestamp(data.get("expiration_time"))
        )
    if kind == WebhookType.CANCELLATION_STATUS_CHANGE:
        return CancellationStatusChanged(
            order_id=ident(data.get("order_id")),
            cancel_id=ident(data.get("cancel_id")),
            role=enum_value(data.get("cancellations_role")),
            cancel_status=enum_value(data.get("cancel_status"), CANCEL_STATUS_ALIASES),
            created_at=timestamp(data.get("create_time")),
        )
    if kind == WebhookType.RETURN_STATUS_CHANGE:
        return ReturnStatusChanged(
            order_id=ident(data.get("order_id")),
            return_id=ident(data.get("return_id")),
            role=enum_value(data.get("return_role")),
            return_type=enum_value(data.get("return_type")),
            return_status=enum_value(data.get("return_status"), RETURN_STATUS_ALIASES),
            created_at=timestamp(data.get("create_time")),
            updated_at=timestamp(data.get("update_time")),
        )
    if kind == WebhookType.NEW_CONVERSATION:
        return ConversationChanged(
            conversation_id=ident(data.get("conversation_id")),
            created_at=timestamp(data.get("create_time")),
        )
    if kind == WebhookType.NEW_MESSAGE:
        return NewMessage(message=message(data))
    if kind in _PRODUCT_TOPICS:
        # `product_id` "may be a JSON number" (§8.3): ident() makes it a string either way.
        return ProductChanged(
            product_id=ident(data.get("product_id")),
            status=enum_value(data.get("status")),
            suspended_reason=text(data.get("suspended_reason")),
            updated_at=timestamp(data.get("update_time")),
        )
    return None


_PRODUCT_TOPICS = frozenset(
    {
        WebhookType.PRODUCT_STATUS_CHANGE,
        WebhookType.PRODUCT_INFORMATION_CHANGE,
        WebhookType.PRODUCT_CREATION,
    }
)


def webhook_event(payload: Mapping[str, Any]) -> WebhookEvent:
    """A webhook envelope (§8.2). Verify the signature on the raw bytes before calling this."""
    kind = integer(payload.get("type"))
    return WebhookEvent(
        type=kind if kind is not None else 0,
        event_type=EVENT_TYPE_NAMES.get(kind, f"UNKNOWN_{payload.get('type')}")
        if kind is not None
        else "UNKNOWN",
        notification_id=ident(payload.get("tts_notification_id")) or "",
        shop_id=ident(payload.get("shop_id")),
        sent_at=timestamp(payload.get("timestamp")),
        data=_webhook_data(kind, _dict(payload.get("data"))),
        raw=dict(payload),
    )


def webhook_from_body(body: bytes) -> WebhookEvent:
    """Parse a verified webhook body. Raises ValueError when it is not a JSON object."""
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("A webhook body must be a JSON object.")
    return webhook_event(payload)
