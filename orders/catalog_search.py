"""A page of products with their SKUs in one PostgreSQL statement (the workbench's Products tab
and /products/; `orders.selectors.products_search` is the way in).

The ORM form took three queries with a search term: the matches' ids through the trigram index
(capped, to tell a selective term from a common one), the page, the page's SKUs. The probe's
plan was the weak point: for a common word ('socks', 1,445 of 20,000) the planner walked the
store's index and filtered 7,209 rows to find 501 ids (8 ms of an 11 ms request's SQL, EXPLAIN
ANALYZE). Here one statement decides and reads:

1. `head` (one store's products: the Products tab, /products/?store=): the first
   PRODUCT_TITLE_WINDOW candidates in (title, id) order, read along the title index and
   filtered as they come: it stops at the page's last match;
2. if they hold a whole page of matches, that is the page: the first `limit` matches in that
   order are the first overall ('socks': 481 rows read, 1.2 ms for the whole statement with the
   SKUs, EXPLAIN ANALYZE);
3. otherwise the term is rare among the titles read: every match is read through the trigram
   index (the subquery is fenced with OFFSET 0, so the planner cannot turn it back into a walk
   of the title order, which read every row for '%silk mask%': 59 ms) and the page sorted from
   them ('silk mask': 1,000 head rows 1.4 ms + 26 matches 0.8 ms). PostgreSQL skips the branch
   not taken (a one-time filter on an InitPlan). Across stores there is no index in title order:
   a term's matches are always read this way, and so are an id's (8 digits or more).

The page's SKUs come along as one JSON array per product (prices as text: exact decimals).
Whatever the branch, the page is the one the ORM form returns (tests page both ways).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from marketplaces.models import Store

from .models import Product, ProductSku

# How many candidates, in title order, are read before a term counts as rare: a page of 20 from
# them needs a term in ~2% of the titles. The bench's title words are in ~7.7% (a window of 500
# missed 'silk' and 'mu' by chance: 9 ms sorting all their matches); a rare term pays ~1 ms.
PRODUCT_TITLE_WINDOW = 1000

# What the workbench and /products/ draw: not the search text (the longest column).
PRODUCT_SHOWN = (
    "id",
    "tenant_id",
    "store_id",
    "public_id",
    "external_id",
    "title",
    "status",
    "image_url",
    "currency",
    "min_price",
    "max_price",
    "stock",
)
SKU_SHOWN = ("id", "product_id", "external_id", "seller_sku", "name", "currency", "price", "stock")


def _sql(queryset: QuerySet) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def products_page(
    products: QuerySet[Product], *, wanted: str, limit: int, one_store: bool
) -> list[Product]:
    """The first `limit` of `products` (already filtered by tenant, status, the page's cursor
    and, `one_store`, a single store) whose search text contains `wanted` (lower-cased; "" for
    all), by (title, id), each with its SKUs (`product.skus.all()` reads no more) and, across
    stores, its store's name.

    Only one store's products come in title order from an index (`product_store_title`); across
    stores (/products/) the first titles are a sort of every live product of the tenant (20 ms
    at 25,000), so a term's matches are always read through the trigram index and sorted."""
    db = products.db
    connection = connections[db]
    ordered = products.order_by("title", "id")
    try:
        matches_sql, matches_params = "", ()
        if wanted:
            matches_sql, matches_params = _sql(
                products.filter(search_text__contains=wanted).order_by().values("id", "title")
            )

        def every_match(condition: str) -> str:
            """Every match through the trigram index (fenced by OFFSET 0), sorted."""
            return f"""
                SELECT id FROM ({matches_sql} OFFSET 0) AS every_match
                WHERE {condition} ORDER BY title, id LIMIT %s
            """  # noqa: S608 (compiled ORM SQL; values travel as params)

        if not wanted:
            page_sql, page_params = _sql(ordered.values("id")[:limit])
        elif not one_store or _an_id(wanted):
            page_sql, page_params = every_match("true"), (*matches_params, limit)
        else:
            head_sql, head_params = _sql(
                ordered.values("id", "title", "search_text")[:PRODUCT_TITLE_WINDOW]
            )
            pattern = f"%{connection.ops.prep_for_like_query(wanted)}%"
            page_sql = f"""
                WITH head_page AS MATERIALIZED (
                    SELECT id, title FROM ({head_sql}) AS head WHERE search_text LIKE %s
                    ORDER BY title, id LIMIT %s
                )
                SELECT id FROM head_page WHERE (SELECT count(*) FROM head_page) = %s
                UNION ALL
                ({every_match("(SELECT count(*) FROM head_page) < %s")})
            """  # noqa: S608 (compiled ORM SQL and constants only; values travel as params)
            page_params = (
                *head_params,
                pattern,
                limit,
                limit,
                *matches_params,
                limit,
                limit,
            )
    except EmptyResultSet:  # .none(), or an agent allowed no store
        return []
    product_table = Product._meta.db_table
    sku_table = ProductSku._meta.db_table
    store_table = Store._meta.db_table
    columns = ", ".join(f"p.{name}" for name in PRODUCT_SHOWN)
    sku_columns = ", ".join(
        f"s.{name}::text" if name == "price" else f"s.{name}" for name in SKU_SHOWN
    )
    with_store = not one_store
    sql = f"""
        WITH page AS ({page_sql})
        SELECT {columns},
               (SELECT json_agg(json_build_array({sku_columns}) ORDER BY s.id)
                FROM {sku_table} s WHERE s.product_id = p.id) AS sku_rows
               {", st.name" if with_store else ""}
        FROM {product_table} p
        {f"JOIN {store_table} st ON st.id = p.store_id" if with_store else ""}
        WHERE p.id IN (SELECT id FROM page)
        ORDER BY p.title, p.id
    """  # noqa: S608 (table and column names from the models; values travel as params)
    with connection.cursor() as cursor:
        cursor.execute(sql, page_params)
        rows = cursor.fetchall()
    width = len(PRODUCT_SHOWN)
    found = []
    for row in rows:
        product = Product.from_db(db, PRODUCT_SHOWN, row[:width])
        skus = [
            ProductSku.from_db(db, SKU_SHOWN, _sku_values(values)) for values in row[width] or ()
        ]
        _prefetched(product, "skus", skus)
        if with_store:
            product.store = Store.from_db(db, ("id", "name"), (product.store_id, row[width + 1]))
        found.append(product)
    return found


def _an_id(wanted: str) -> bool:
    """A product or SKU id pasted into the box (8 digits or more): it names a product or two,
    never a page of titles, so the title window would be read for nothing (~1.2 ms)."""
    return len(wanted) >= 8 and wanted.isdigit()


def _sku_values(values: list[Any]) -> list[Any]:
    price_at = SKU_SHOWN.index("price")
    price = values[price_at]
    values[price_at] = None if price is None else Decimal(price)
    return values


def _prefetched(product: Product, name: str, rows: list[Any]) -> None:
    """What `prefetch_related(name)` leaves on an object: the related manager's queryset with its
    rows already read (Django's own cache; `product.skus.all()` returns them, no query)."""
    queryset = getattr(product, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    product._prefetched_objects_cache = {name: queryset}  # type: ignore[attr-defined]
