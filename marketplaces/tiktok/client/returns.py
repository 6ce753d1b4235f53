"""Returns and cancellations (§5): searches, eligibility, reject reasons, seller decisions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marketplaces.records import (
    JSON,
    AfterSaleEligibility,
    Cancellation,
    Page,
    RejectReason,
    Return,
)
from marketplaces.tiktok import aftersale, mapping

from .transport import Timestamp, Transport, _lists, _time_filters

RETURN_PAGE_SIZE = 50  # §3.4: returns 10-50
CANCELLATION_PAGE_SIZE = 50  # §3.4: 1-50


class ReturnsApi(Transport):
    """Returns and cancellations (§5)."""

    def return_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str] = (),
        return_ids: Iterable[str] = (),
        buyer_user_ids: Iterable[str] = (),
        statuses: Iterable[str] = (),
        return_types: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = RETURN_PAGE_SIZE,
    ) -> Iterator[Page[Return]]:
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        body.update(
            _lists(
                order_ids=order_ids,
                return_ids=return_ids,
                buyer_user_ids=buyer_user_ids,
                return_status=statuses,
                return_types=return_types,
            )
        )
        return self._pages(
            "POST",
            "/return_refund/202309/returns/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="return_orders",
            to_record=mapping.return_order,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def returns(self, **filters: Any) -> Iterator[Return]:
        for page in self.return_pages(**filters):
            yield from page.items

    def cancellation_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        order_ids: Iterable[str] = (),
        cancel_ids: Iterable[str] = (),
        buyer_user_ids: Iterable[str] = (),
        statuses: Iterable[str] = (),
        cancel_types: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_lt: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_lt: Timestamp | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        page_token: str | None = None,
        page_size: int = CANCELLATION_PAGE_SIZE,
    ) -> Iterator[Page[Cancellation]]:
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_lt=create_time_lt,
            update_time_ge=update_time_ge,
            update_time_lt=update_time_lt,
        )
        body.update(
            _lists(
                order_ids=order_ids,
                cancel_ids=cancel_ids,
                buyer_user_ids=buyer_user_ids,
                cancel_status=statuses,
                cancel_types=cancel_types,
            )
        )
        return self._pages(
            "POST",
            "/return_refund/202309/cancellations/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="cancellations",
            to_record=mapping.cancellation,
            page_size=page_size,
            page_token=page_token,
            sort_field=sort_field,
            sort_order=sort_order,
            body=body,
        )

    def cancellations(self, **filters: Any) -> Iterator[Cancellation]:
        for page in self.cancellation_pages(**filters):
            yield from page.items

    def aftersale_eligibility(
        self, *, access_token: str, shop_cipher: str, order_id: str
    ) -> AfterSaleEligibility:
        """Which after-sale requests each SKU of an order allows (§5.1; shape: aftersale.py)."""
        data = self._call(
            "GET",
            f"/return_refund/202309/orders/{order_id}/aftersale_eligibility",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return aftersale.eligibility(data, order_id)

    def reject_reasons(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_or_cancel_id: str,
        locale: str | None = None,
    ) -> list[RejectReason]:
        """The reasons the platform accepts to reject this return or cancellation (§5.1)."""
        query = {"return_or_cancel_id": return_or_cancel_id}
        if locale:
            query["locale"] = locale
        data = self._call(
            "GET",
            "/return_refund/202309/reject_reasons",
            access_token=access_token,
            shop_cipher=shop_cipher,
            query=query,
        )
        return aftersale.reject_reasons(data)

    # Seller decisions (§5.1/5.2). Each carries an `idempotency_key` (query, at most 255
    # characters): the platform acts once per key, so these are retried like reads, and the
    # caller keeps one key per decision across its own retries.

    def return_approve(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_id: str,
        decision: str,
        idempotency_key: str,
        buyer_keep_item: bool = False,
    ) -> None:
        body: JSON = {"decision": decision}
        if buyer_keep_item:
            body["buyer_keep_item"] = True  # lywzx ApproveReturn.ts; only with APPROVE_RETURN
        self._decide(
            f"/return_refund/202309/returns/{return_id}/approve",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def return_reject(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        return_id: str,
        decision: str,
        reject_reason: str,
        idempotency_key: str,
        comment: str = "",
    ) -> None:
        body: JSON = {"decision": decision, "reject_reason": reject_reason}
        if comment:
            body["comment"] = comment
        self._decide(
            f"/return_refund/202309/returns/{return_id}/reject",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def cancellation_approve(
        self, *, access_token: str, shop_cipher: str, cancel_id: str, idempotency_key: str
    ) -> None:
        self._decide(
            f"/return_refund/202309/cancellations/{cancel_id}/approve",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=None,
        )

    def cancellation_reject(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        cancel_id: str,
        reject_reason: str,
        idempotency_key: str,
        comment: str = "",
    ) -> None:
        body: JSON = {"reject_reason": reject_reason}
        if comment:
            body["comment"] = comment
        self._decide(
            f"/return_refund/202309/cancellations/{cancel_id}/reject",
            access_token=access_token,
            shop_cipher=shop_cipher,
            idempotency_key=idempotency_key,
            body=body,
        )

    def _decide(
        self,
        path: str,
        *,
        access_token: str,
        shop_cipher: str,
        idempotency_key: str,
        body: JSON | None,
    ) -> None:
        if not idempotency_key or len(idempotency_key) > 255:
            raise ValueError("An idempotency key of 1 to 255 characters is required.")
        self._call(
            "POST",
            path,
            access_token=access_token,
            shop_cipher=shop_cipher,
            query={"idempotency_key": idempotency_key},
            body=body,
        )
