"""Products and coupons (§7): searches and details."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from marketplaces.records import JSON, Coupon, Page, Product
from marketplaces.tiktok import mapping

from .transport import Timestamp, Transport, _lists, _time_filters

PRODUCT_PAGE_SIZE = 100  # §7.1: 1-100
# UNVERIFIED: the contract gives no page_size range for coupon search; 20 is a common default.
COUPON_PAGE_SIZE = 20


class ProductsApi(Transport):
    """Products and coupons (§7)."""

    def product_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        status: str | None = None,
        seller_skus: Iterable[str] = (),
        sku_ids: Iterable[str] = (),
        create_time_ge: Timestamp | None = None,
        create_time_le: Timestamp | None = None,
        update_time_ge: Timestamp | None = None,
        update_time_le: Timestamp | None = None,
        page_token: str | None = None,
        page_size: int = PRODUCT_PAGE_SIZE,
        version: str = "202502",
    ) -> Iterator[Page[Product]]:
        """Product search (§7.1; 202502 by default, "202309" accepted). No images in results.

        Time bounds are inclusive at both ends here (`_ge`/`_le`), unlike orders' `_lt`.
        """
        if version not in ("202309", "202502"):
            raise ValueError(f"Unsupported product search version: {version}")
        body = _time_filters(
            create_time_ge=create_time_ge,
            create_time_le=create_time_le,
            update_time_ge=update_time_ge,
            update_time_le=update_time_le,
        )
        body.update(_lists(seller_skus=seller_skus, sku_ids=sku_ids))
        if status:
            body["status"] = status
        return self._pages(
            "POST",
            f"/product/{version}/products/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="products",
            to_record=mapping.product,
            page_size=page_size,
            page_token=page_token,
            body=body,
        )

    def products(self, **filters: Any) -> Iterator[Product]:
        for page in self.product_pages(**filters):
            yield from page.items

    def product(self, *, access_token: str, shop_cipher: str, product_id: str) -> Product:
        """Product detail with images and description (§7.1)."""
        data = self._call(
            "GET",
            f"/product/202309/products/{product_id}",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        return mapping.product(data)

    def coupon_pages(
        self,
        *,
        access_token: str,
        shop_cipher: str,
        statuses: Iterable[str] = (),
        display_types: Iterable[str] = (),
        title_keyword: str | None = None,
        page_token: str | None = None,
        page_size: int = COUPON_PAGE_SIZE,
    ) -> Iterator[Page[Coupon]]:
        """Coupon search (§7.2). UNVERIFIED: the item key; `coupons` is assumed."""
        body: JSON = _lists(status=statuses, display_type=display_types)
        if title_keyword:
            body["title_keyword"] = title_keyword
        return self._pages(
            "POST",
            "/promotion/202406/coupons/search",
            access_token=access_token,
            shop_cipher=shop_cipher,
            items_key="coupons",
            to_record=mapping.coupon,
            page_size=page_size,
            page_token=page_token,
            body=body,
        )

    def coupons(self, **filters: Any) -> Iterator[Coupon]:
        for page in self.coupon_pages(**filters):
            yield from page.items

    def coupon(self, *, access_token: str, shop_cipher: str, coupon_id: str) -> Coupon:
        """Coupon detail. UNVERIFIED: whether `data` is the coupon or wraps it in `coupon`."""
        data = self._call(
            "GET",
            f"/promotion/202406/coupons/{coupon_id}",
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
        inner = data.get("coupon")
        return mapping.coupon(inner if isinstance(inner, dict) else data)
