"""Factories for stores, webhook events, sync jobs, orders, returns and cancellations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory

from marketplaces.models import (
    Market,
    Store,
    StoreAccess,
    StoreStatus,
    SyncJob,
    SyncKind,
    WebhookEvent,
)
from orders.models import (
    Cancellation,
    CancellationLine,
    Order,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
)
from tenants.models import Membership, Role, Tenant, User
from tests.factories import TenantFactory

BASE_TIME = datetime(2026, 9, 12, 8, 0, tzinfo=UTC)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    external_shop_id = factory.Sequence(lambda n: f"74940496426424{n:05d}")
    shop_cipher = factory.Sequence(lambda n: f"GCP_cipher{n}")
    shop_code = factory.Sequence(lambda n: f"USLC{n:06d}")
    name = factory.Sequence(lambda n: f"Shop {n}")
    region = "US"
    market = Market.US
    seller_type = "LOCAL"
    status = StoreStatus.ACTIVE

    @factory.post_generation
    def tokens(self, create: bool, extracted: tuple[str, str] | None, **kwargs: object) -> None:
        """StoreFactory(tokens=("access", "refresh")) stores those tokens encrypted."""
        if extracted:
            access, refresh = extracted
            self.set_tokens(
                access_token=access,
                access_token_expires_at=BASE_TIME + timedelta(days=7),
                refresh_token=refresh,
                refresh_token_expires_at=BASE_TIME + timedelta(days=365),
            )
            if create:
                self.save()


class StoreAccessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreAccess

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    notification_id = factory.Sequence(lambda n: f"73271123930573{n:05d}")
    type = 6
    shop_id = ""
    payload = factory.LazyAttribute(
        lambda o: {
            "type": o.type,
            "tts_notification_id": o.notification_id,
            "shop_id": o.shop_id,
            "timestamp": 1644412885,
            "data": {},
        }
    )


class SyncJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncJob

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    kind = SyncKind.ORDERS
    range_start = BASE_TIME - timedelta(days=90)
    range_end = BASE_TIME


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    external_id = factory.Sequence(lambda n: f"5764614130387{n:05d}")
    buyer_user_id = "7021436810468230477"
    status = OrderStatus.AWAITING_SHIPMENT
    placed_at = factory.Sequence(lambda n: BASE_TIME + timedelta(minutes=n))
    updated_at = factory.SelfAttribute("placed_at")
    currency = "USD"
    total_amount = Decimal("25.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    tenant = factory.SelfAttribute("order.tenant")
    external_id = factory.Sequence(lambda n: f"5770865121237{n:05d}")
    product_name = "Short Boat Invisible Socks"
    sku_name = "Red"
    currency = "USD"
    sale_price = Decimal("12.50")


class ReturnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Return

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    external_id = factory.Sequence(lambda n: f"4035318504086{n:05d}")
    order_external_id = "576461413038785752"
    return_type = "REFUND"
    status = "RETURN_OR_REFUND_REQUEST_PENDING"
    requested_at = BASE_TIME


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    return_request = factory.SubFactory(ReturnFactory)
    tenant = factory.SelfAttribute("return_request.tenant")
    external_id = factory.Sequence(lambda n: f"4035318504099{n:05d}")
    product_name = "Short Boat Invisible Socks"


class CancellationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cancellation

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    external_id = factory.Sequence(lambda n: f"4035318504100{n:05d}")
    order_external_id = "576461413038785752"
    cancel_type = "BUYER_CANCEL"
    status = "CANCELLATION_REQUEST_PENDING"
    requested_at = BASE_TIME


class CancellationLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CancellationLine

    cancellation = factory.SubFactory(CancellationFactory)
    tenant = factory.SelfAttribute("cancellation.tenant")
    external_id = factory.Sequence(lambda n: f"4035318504111{n:05d}")
    product_name = "Short Boat Invisible Socks"


def member(tenant: Tenant, role: str = Role.AGENT, email: str | None = None) -> Membership:
    """A person in `tenant` with `role`, made without password hashing so that tests which
    need many members stay fast (they sign in with force_login)."""
    user = User.objects.create_user(
        email=email or f"{role}-{Membership.objects.count() + 1}@{tenant.slug}.test",
        password=None,
    )
    return Membership.objects.create(tenant=tenant, user=user, role=role)
