"""products_search on PostgreSQL: one statement (orders.catalog_search) that gives the pages the
ORM form gives, whichever way it finds them (the title window or every match), with their SKUs
and, across stores, their store's name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from marketplaces.models import StoreAccess
from orders import catalog_search, selectors
from orders.models import Product
from tenants.models import Role
from tests.factories_catalog import ProductFactory, ProductSkuFactory
from tests.factories_marketplaces import StoreFactory, member

pytestmark = pytest.mark.django_db

TITLES = [
    "Silk Mask Blue",
    "Silk mask Rose",
    "Silk Scarf",
    "A silk mask",
    "Mask Silk",
    "Travel Mug",
    "Travel Mug",  # the same title twice: the id breaks the tie
    "Cotton Socks 50%",
    "Cotton_Socks",
    "Zipper Pouch",
]
TERMS = ["", "silk", "  SILK   mask ", "mug", "mu", "socks 50%", "n_s", "sku-", "nothing at all"]
# Digits: the factory's product ids start with these (every product), and one product's id.
ID_PREFIX = "17295929697122"


@pytest.fixture
def catalog(tenant, other_tenant):
    alpha = StoreFactory(tenant=tenant, name="Alpha")
    beta = StoreFactory(tenant=tenant, name="Beta")
    for n, title in enumerate(TITLES):
        for store in (alpha, beta):
            product = ProductFactory(
                store=store,
                title=title,
                stock=n % 3,
                status="SELLER_DEACTIVATED" if n % 4 == 3 else "ACTIVATE",
                max_price=Decimal("9.99") + n,
            )
            for sku in range(n % 3):
                ProductSkuFactory(
                    product=product,
                    seller_sku=f"{title[:4].upper()}-{sku}",
                    price=None if sku else Decimal("12.50"),
                    stock=sku,
                )
    ProductFactory(store=StoreFactory(tenant=other_tenant), title="Silk Mask Elsewhere")
    return alpha, beta


def _orm(tenant, membership, store, query, live_only, after, limit):
    """The ORM form over the same filters (what other databases run)."""
    products = selectors._visible(Product.objects.all(), tenant=tenant, membership=membership)
    if store is not None:
        products = products.filter(store=store)
    if live_only:
        products = products.filter(status="ACTIVATE")
    if after is not None:
        products = products.filter(Q(title__gt=after[0]) | Q(title=after[0], id__gt=after[1]))
    wanted = " ".join(query.split()).lower()
    return selectors._products_search_orm(
        products, wanted=wanted, limit=limit, with_store=store is None
    )


def _shown(products, with_store):
    return [
        (
            product.pk,
            product.public_id,
            product.external_id,
            product.title,
            product.status,
            product.image_url,
            product.currency,
            product.min_price,
            product.max_price,
            product.stock,
            product.store.name if with_store else product.store_id,
            [
                (
                    sku.pk,
                    sku.external_id,
                    sku.seller_sku,
                    sku.name,
                    sku.currency,
                    sku.price,
                    sku.stock,
                )
                for sku in product.skus.all()
            ],
        )
        for product in products
    ]


def _pages(search, limit=3):
    pages, after = [], None
    while True:
        page = search(after)
        pages.append(page)
        if len(page) < limit:
            return pages
        after = (page[-1].title, page[-1].pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's")
@pytest.mark.parametrize("window", [1000, 4, 1], ids=["title-window", "small-window", "no-window"])
def test_every_page_is_the_orm_forms_page_in_one_query(catalog, tenant, monkeypatch, window):
    """Whether a page comes from the first titles or from every match, it is the page the ORM
    form returns: the same products, fields, SKUs and store names, in one query each."""
    monkeypatch.setattr(catalog_search, "PRODUCT_TITLE_WINDOW", window)
    alpha, _ = catalog
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=alpha)
    one_id = Product.objects.filter(store=alpha, title="Silk Scarf").get().external_id
    compared = 0
    for membership in (None, limited):
        for store in (alpha, None):
            for live_only in (True, False):
                for query in [*TERMS, ID_PREFIX, one_id]:
                    args = (tenant, membership, store, query, live_only)

                    def fast(after, args=args):
                        tenant, membership, store, query, live_only = args
                        with CaptureQueriesContext(connection) as captured:
                            page = selectors.products_search(
                                tenant=tenant,
                                membership=membership,
                                store=store,
                                query=query,
                                live_only=live_only,
                                after=after,
                                limit=3,
                            )
                            shown = _shown(page, with_store=store is None)
                        # + the agent's store check (marketplaces.selectors.allowed_store_ids)
                        assert len(captured) == (1 if membership is None else 2)
                        return page, shown

                    pages = _pages(lambda after: fast(after)[0])
                    expected = _pages(lambda after, args=args: _orm(*args, after, 3))
                    assert [_shown(p, store is None) for p in pages] == [
                        _shown(p, store is None) for p in expected
                    ]
                    compared += sum(len(page) for page in pages)
    assert compared == 403  # the catalog's matches, summed over every case above


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement is PostgreSQL's")
def test_the_first_page_of_a_search_in_titles_order_with_skus(catalog, tenant):
    alpha, _ = catalog

    with CaptureQueriesContext(connection) as captured:
        found = selectors.products_search(tenant=tenant, store=alpha, query="SILK", limit=20)
        skus = {product.title: [str(sku) for sku in product.skus.all()] for product in found}

    assert len(captured) == 1
    # "A silk mask" is not live; Alpha's products only.
    assert [product.title for product in found] == [
        "Mask Silk",
        "Silk Mask Blue",
        "Silk Scarf",
        "Silk mask Rose",
    ]
    assert skus == {
        "Mask Silk": ["MASK-0"],
        "Silk Mask Blue": [],
        "Silk Scarf": ["SILK-0", "SILK-1"],
        "Silk mask Rose": ["SILK-0"],
    }
    assert [sku.price for sku in found[2].skus.all()] == [Decimal("12.50"), None]
    assert {product.store_id for product in found} == {alpha.pk}


def test_another_tenants_member_and_an_agent_with_no_store_find_nothing(
    catalog, tenant, other_tenant
):
    stranger = member(other_tenant, Role.OWNER)
    unplaced = member(tenant, Role.AGENT)
    StoreAccess.objects.create(
        tenant=tenant, membership=unplaced, store=StoreFactory(tenant=tenant, name="Empty")
    )

    assert selectors.products_search(tenant=tenant, membership=stranger, query="silk") == []
    assert selectors.products_search(tenant=tenant, membership=unplaced, query="") == []
