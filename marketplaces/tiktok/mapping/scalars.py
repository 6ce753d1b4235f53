"""Scalars: lenient readers of ids, text, flags, numbers, money, timestamps and images; the
second spellings of statuses."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marketplaces.records import JSON, CancelStatus, Image, Money, OrderStatus, ReturnStatus

# The package's name (`marketplaces.tiktok.mapping`): log records keep the name they had.
logger = logging.getLogger(__package__)


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
