"""The orders app's models: orders and their after-sales (`orders`), the store's products and
coupons (`catalog`), and seller decisions on returns and cancellations (`actions`)."""

from .actions import (
    AfterSaleAction,
    AfterSaleActionStatus,
    AfterSaleGrant,
    AfterSaleKind,
)
from .catalog import CatalogSync, Coupon, CouponStatus, Product, ProductSku, ProductStatus
from .orders import (
    Cancellation,
    CancellationLine,
    CancellationStatus,
    CancelType,
    Initiator,
    Order,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    ReturnStatus,
    ReturnType,
)
from .tracking import OrderTracking

__all__ = [
    "AfterSaleAction",
    "AfterSaleActionStatus",
    "AfterSaleGrant",
    "AfterSaleKind",
    "CancelType",
    "Cancellation",
    "CancellationLine",
    "CancellationStatus",
    "CatalogSync",
    "Coupon",
    "CouponStatus",
    "Initiator",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderTracking",
    "Product",
    "ProductSku",
    "ProductStatus",
    "Return",
    "ReturnLine",
    "ReturnStatus",
    "ReturnType",
]
