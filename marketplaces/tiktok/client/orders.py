"""Orders (§4): search, detail in batches, tracking."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marketplaces.records import Order, Page, TrackingEvent
from marketplaces.tiktok import mapping

from .transport import Timestamp, Transport, _time_filters, logger

ORDER_DETAIL_BATCH = 50  # §4.2: `ids` takes at most 50
ORDER_PAGE_SIZE = 100  # §4.1: 1-100


class OrdersApi(Transport):
    """Orders (§4)."""

    def order_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        status: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = ORDER_PAGE_SIZE,
    ) -> Iterator[Page[Order]]:
        """Order search, page by page, resumable from a stored `page_token` (§4.1)."""
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        if status:
            body["order_status"] = status
        return self._pages(
            "POST",
            "/order/202309/orders/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="orders",
            to_record=mapping.order,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def orders(self, **filters: Any) -> Iterator[Order]:
        """Every order matching `order_pages` filters, across all pages."""
        for page in self.order_pages(**filters):
            yield from page.items

    def order_details(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str],
        version: str = "202309",
    ) -> list[Order]:
        """Order detail in batches of 50 ids (§4.2); `version` "202507" reads the newer path."""
        if version not in ("202309", "202507"):
            raise ValueError(f"Unsupported order detail version: {version}")
        ids = list(dict.fromkeys(str(order_id) for order_id in order_ids))
        found: list[Order] = []
        for start in range(0, len(ids), ORDER_DETAIL_BATCH):
            batch = ids[start : start + ORDER_DETAIL_BATCH]
            data = self._call(
                "GET",
                f"/order/{version}/orders",
                access_token=access_token,
                shop_cipher=shop_cipher,
                query={"ids": ",".join(batch)},
            )
            for failure in mapping.dicts(data.get("errors")):
                logger.warning(
                    "TikTok order detail: item failed code=%s message=%s",
                    failure.get("code"),
                    failure.get("message"),
                )
            found.extend(mapping.order(item) for item in mapping.dicts(data.get("orders")))
        return found

    def tracking(
        self, *, access_token: str, shop_cipher: str, order_id: str
    ) -> list[TrackingEvent]:
        """Tracking events of an order, as sent (§4.5)."""
        data = self._call(
            "GET",
            f"/fulfillment/202309/orders/{order_id}/tracking",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return [mapping.tracking_event(item) for item in mapping.dicts(data.get("tracking"))]
