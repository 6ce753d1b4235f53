"""Factories for products, SKUs and coupons (orders.models.catalog)."""

from __future__ import annotations

from decimal import Decimal

import factory

from orders.models import Coupon, Product, ProductSku
from tests.factories_marketplaces import BASE_TIME, StoreFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    external_id = factory.Sequence(lambda n: f"17295929697122{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n:05d}")
    status = "ACTIVATE"
    image_url = factory.LazyAttribute(lambda o: f"https://images.example.test/{o.external_id}.png")
    currency = "USD"
    min_price = Decimal("9.99")
    max_price = Decimal("9.99")
    stock = 10
    search_text = factory.LazyAttribute(
        # Stored lower-cased, as orders.catalog writes it.
        lambda o: f"{o.title}\nsku-{o.external_id}\n{o.external_id}".lower()
    )
    created_at = BASE_TIME
    updated_at = BASE_TIME


class ProductSkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductSku

    product = factory.SubFactory(ProductFactory)
    tenant = factory.SelfAttribute("product.tenant")
    external_id = factory.Sequence(lambda n: f"17295929697123{n:05d}")
    seller_sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Red"
    currency = "USD"
    price = Decimal("9.99")
    stock = 10


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    store = factory.SubFactory(StoreFactory)
    tenant = factory.SelfAttribute("store.tenant")
    external_id = factory.Sequence(lambda n: f"72629920042787{n:05d}")
    title = factory.Sequence(lambda n: f"Coupon {n}")
    display_type = "CHAT"
    status = "ONGOING"
    creation_source = "SELLER_CENTER"
    target_buyer_segment = "ALL_BUYERS"
    discount_type = "FIXED_DISCOUNT"
    currency = "USD"
    reduction_amount = Decimal("5.00")
    min_spend = Decimal("25.00")
    claim_ends_at = BASE_TIME
    card_problems = factory.LazyFunction(list)
