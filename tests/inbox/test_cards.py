"""Cards from the ticket without the platform: what may be sent (and the sentence when not), the
double click, another organisation's or store's objects, store limits, the Products and Coupons
tabs, and cards drawn in the thread with a query count that does not grow with them."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import format_html

from inbox import cards
from inbox.models import DeliveryStatus, Message, MessageDirection
from marketplaces.models import StoreAccess
from orders import catalog_search
from orders import selectors as order_selectors
from orders.catalog_display import product_card, product_row
from tenants.models import Membership, Role
from tests.factories_catalog import CouponFactory, ProductFactory, ProductSkuFactory
from tests.factories_inbox import ConversationFactory, MessageFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory, member

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def store(tenant):
    return StoreFactory(tenant=tenant, name="Acme US")


@pytest.fixture
def conversation(store):
    return ConversationFactory(store=store, tenant=store.tenant)


@pytest.fixture
def order(conversation):
    order = OrderFactory(
        store=conversation.store,
        buyer_user_id=conversation.customer.buyer_user_id,
        status="DELIVERED",
        raw={"packages": [{"id": "1152921500000000001"}]},
    )
    OrderLineFactory(order=order, sku_id="1729592969712207012", package_id="1152921500000000001")
    return order


def post(client, conversation, **fields):
    return client.post(
        reverse("ticket_card_send", args=[conversation.public_id]),
        {"slot": "card-error-x", "token": str(uuid.uuid4()), **fields},
        **HX,
    )


def refusal(response) -> str:
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#card-error-x"
    return html.unescape(response.content.decode())


def test_an_order_card_is_queued_once_and_shown_at_once(owner_client, conversation, order):
    token = str(uuid.uuid4())

    first = post(owner_client, conversation, type="ORDER_CARD", order=order.public_id, token=token)
    again = post(owner_client, conversation, type="ORDER_CARD", order=order.public_id, token=token)

    assert (first.status_code, again.status_code) == (200, 200)
    card = Message.objects.get(conversation=conversation)
    assert (card.type, card.content, card.delivery_status, card.direction) == (
        "ORDER_CARD",
        {"order_id": order.external_id},
        DeliveryStatus.QUEUED,
        MessageDirection.OUTBOUND,
    )
    assert 'data-card="order"' in first.content.decode()
    assert "Queued" in first.content.decode()
    conversation.refresh_from_db()
    assert conversation.last_message_preview == f"[Order card: order {order.external_id}]"


def test_each_card_says_why_it_cannot_be_sent(owner_client, conversation, order, store, tenant):
    other_store = StoreFactory(tenant=tenant, name="Acme UK")
    someone_else = OrderFactory(store=store, buyer_user_id="7000000000000000001")
    unshipped = OrderFactory(
        store=store, buyer_user_id=conversation.customer.buyer_user_id, status="AWAITING_SHIPMENT"
    )
    theirs = OrderFactory(store=other_store, buyer_user_id=conversation.customer.buyer_user_id)
    paused = ProductFactory(store=store, title="Old socks", status="SELLER_DEACTIVATED")
    elsewhere = ProductFactory(store=other_store, title="UK socks")
    expired = CouponFactory(
        store=store,
        title="Winter",
        status="EXPIRED",
        card_problems=["It is expired; only ongoing coupons can be sent."],
    )

    cases = [
        ({"type": "ORDER_CARD", "order": theirs.public_id}, "is from another store"),
        ({"type": "ORDER_CARD", "order": someone_else.public_id}, "is not this buyer's"),
        (
            {"type": "LOGISTICS_CARD", "order": unshipped.public_id},
            f"Order {unshipped.external_id} has not shipped",
        ),
        (
            {"type": "LOGISTICS_CARD", "order": order.public_id, "package": "999"},
            f"Package 999 is not part of order {order.external_id}.",
        ),
        (
            {"type": "RETURN_REFUND_CARD", "order": order.public_id, "sku": "1"},
            "Choose one of the order's items",
        ),
        ({"type": "PRODUCT_CARD", "product": paused.public_id}, "“Old socks” is not live"),
        ({"type": "PRODUCT_CARD", "product": elsewhere.public_id}, "sold by another store"),
        (
            {"type": "COUPON_CARD", "coupon": expired.public_id},
            "The coupon “Winter” cannot be sent as a card: It is expired; only ongoing coupons "
            "can be sent.",
        ),
        ({"type": "PRODUCT_CARD"}, "Choose the product to send."),
        ({"type": "STICKER"}, "Choose a card and what it shows."),
    ]
    for fields, said in cases:
        assert said in refusal(post(owner_client, conversation, **fields)), fields
    assert not Message.objects.filter(conversation=conversation).exists()


def test_another_organisations_objects_are_404_and_nothing_is_queued(
    client, conversation, order, other_tenant, other_owner, owner
):
    their_store = StoreFactory(tenant=other_tenant)
    their_order = OrderFactory(store=their_store, buyer_user_id=conversation.customer.buyer_user_id)
    their_product = ProductFactory(store=their_store)
    their_coupon = CouponFactory(store=their_store)
    client.force_login(owner)

    for fields in (
        {"type": "ORDER_CARD", "order": their_order.public_id},
        {"type": "PRODUCT_CARD", "product": their_product.public_id},
        {"type": "COUPON_CARD", "coupon": their_coupon.public_id},
    ):
        assert post(client, conversation, **fields).status_code == 404
    # And they cannot send into our ticket, even with our own order.
    client.force_login(other_owner)
    assert post(client, conversation, type="ORDER_CARD", order=order.public_id).status_code == 404
    assert not Message.objects.exists()


def test_an_agent_limited_to_another_store_cannot_send_from_this_ticket(
    client, tenant, conversation, order
):
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=StoreFactory(tenant=tenant))
    client.force_login(limited.user)

    response = post(client, conversation, type="ORDER_CARD", order=order.public_id)

    assert response.status_code == 404
    assert not Message.objects.exists()


def test_the_products_tab_searches_live_products_by_name_id_and_sku(owner_client, conversation):
    store = conversation.store
    socks = ProductFactory(store=store, title="Invisible Socks", stock=0)
    ProductSkuFactory(product=socks, seller_sku="SOCK-RED", stock=0)
    mug = ProductFactory(store=store, title="Travel Mug", search_text="travel mug\nmug-1\n1729")
    ProductFactory(store=store, title="Invisible Gloves", status="SELLER_DEACTIVATED")
    ProductFactory(store=StoreFactory(tenant=store.tenant), title="Invisible Hat")
    url = reverse("ticket_products", args=[conversation.public_id])

    by_name = owner_client.get(url, {"q": "invisible"}, **HX).content.decode()
    by_sku = owner_client.get(url, {"q": "mug-1"}, **HX).content.decode()
    by_id = owner_client.get(url, {"q": socks.external_id}, **HX).content.decode()

    assert by_name.count("data-product=") == 1 and "Invisible Socks" in by_name
    assert "Out of stock" in by_name and "is-out-of-stock" in by_name
    assert "SOCK-RED" in by_name
    assert 'value="PRODUCT_CARD"' in by_name and f'value="{socks.public_id}"' in by_name
    assert 'data-insert="https://shop.tiktok.com/view/product/' in by_name
    assert f'data-product="{mug.external_id}"' in by_sku and "Socks" not in by_sku
    assert f'data-product="{socks.external_id}"' in by_id
    empty = owner_client.get(url, {"q": "nothing like it"}, **HX).content.decode()
    assert "No live product of Acme US matches “nothing like it”." in empty
    # An image address from the marketplace that is not http(s) never becomes a src.
    ProductFactory(store=store, title="Odd Lamp", image_url="javascript:alert(1)")
    odd = owner_client.get(url, {"q": "odd lamp"}, **HX).content.decode()
    assert "Odd Lamp" in odd and "javascript:" not in odd


# templates/orders/_products_results.html's card before orders.catalog_display.product_card drew
# it in Python: the yardstick of the same bytes.
TEMPLATE_CARD = """{% for row in rows %}{% with product=row.product %}
<article class="mini-card product-card{% if not product.in_stock %} is-out-of-stock{% endif %}" data-product="{{ product.external_id }}">
  <div class="product-card-head">
    {% if row.image %}<img class="card-thumb" src="{{ row.image }}" alt="" width="48" height="48" loading="lazy">{% endif %}
    <div>
      <p class="card-title mb-0">{{ product.title }}</p>
      <p class="small mb-0"><span class="money">{{ row.price }}</span>{% if product.in_stock %} <span class="muted">· {{ product.stock }} in stock</span>{% else %} <span class="pill pill-pending">Out of stock</span>{% endif %}</p>
      <p class="small muted mb-0"><span class="order-id">{{ product.external_id }}</span></p>
    </div>
  </div>
  {% if row.skus %}<details class="small"><summary>{{ row.sku_summary }}</summary><ul class="sku-list">{% for line, in_stock in row.skus %}<li{% if not in_stock %} class="muted"{% endif %}>{{ line }}</li>{% endfor %}</ul></details>{% endif %}
  <form method="post" action="{{ send_url }}" class="btn-row" hx-post="{{ send_url }}" hx-target="#thread-messages" hx-swap="outerHTML" data-card-form>
    {{ csrf_input }}<input type="hidden" name="type" value="PRODUCT_CARD"><input type="hidden" name="product" value="{{ product.public_id }}"><input type="hidden" name="token" value="{{ card_token }}"><input type="hidden" name="slot" value="{{ row.slot }}">
    <button type="submit" class="btn btn-sm btn-primary">Send card</button>
    <button type="button" class="btn btn-sm btn-secondary" data-insert="{{ row.link }}" hidden>Insert link</button>
    <button type="button" class="btn btn-sm btn-secondary" data-insert="{{ row.details }}" hidden>Insert details</button>
    <button type="button" class="btn btn-sm btn-link" data-snippet-pick="product" data-snippet-value="{{ product.public_id }}" data-snippet-label="{{ product.title }}" hidden>Use in snippet</button>
  </form>
  <div id="{{ row.slot }}" class="card-error"></div>
</article>
{% endwith %}{% endfor %}"""  # noqa: E501


def test_a_product_card_is_drawn_as_the_template_drew_it(conversation):
    store = conversation.store
    odd = ProductFactory(
        store=store, title="A <b>\"Quoted\"</b> & 'odd' Mask", image_url="", stock=0
    )
    ProductSkuFactory(product=odd, seller_sku="M&M-1", name="<Red>", stock=0)
    ProductSkuFactory(product=odd, seller_sku="M&M-2", name="Blue", stock=3)
    plain = ProductFactory(store=store, title="Travel Mug", stock=12)
    rows = [product_row(product) for product in (odd, plain)]
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', "t0k&n")
    send_url = "/mailbox/x/cards/?a=1&b=2"
    token = "TOKEN"

    drawn = "".join(product_card(row, send_url=send_url, csrf_input=csrf) for row in rows)
    templated = Template(TEMPLATE_CARD).render(
        Context({"rows": rows, "send_url": send_url, "csrf_input": csrf, "card_token": token})
    )

    tokens = re.compile(r'name="token" value="[0-9a-f-]{36}"')
    assert len(tokens.findall(drawn)) == 2
    assert tokens.sub(f'name="token" value="{token}"', drawn) == templated
    assert "&lt;b&gt;&quot;Quoted&quot;&lt;/b&gt; &amp; &#x27;odd&#x27;" in drawn
    assert '<li class="muted">M&amp;M-1 · &lt;Red&gt; · $9.99 · out of stock</li>' in drawn


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
def test_the_products_tab_costs_the_same_queries_whatever_is_typed(owner_client, conversation):
    """User, membership (the session is cached), ticket, then one statement for the page and
    its SKUs."""
    store = conversation.store
    for n in range(30):
        product = ProductFactory(store=store, title=f"Silk Mask {n}" if n % 10 else f"Mug {n}")
        ProductSkuFactory(product=product)
    url = reverse("ticket_products", args=[conversation.public_id])
    owner_client.get(url, **HX)  # warm: what is read once per process

    counts = {}
    for query in ("", "silk", "mug", "nothing like it", "SKU"):
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url, {"q": query}, **HX).status_code == 200
        counts[query] = len(captured)

    assert counts == {"": 4, "silk": 4, "mug": 4, "nothing like it": 4, "SKU": 4}


@pytest.mark.parametrize(
    ("selective_cap", "title_window"), [(500, 1), (2, 1000)], ids=["selective", "common"]
)
def test_a_product_search_pages_alike_whether_the_term_is_selective_or_common(
    conversation, tenant, monkeypatch, selective_cap, title_window
):
    """A selective term's matches are read by id and sorted; a common one walks the title
    order (the ORM form: PRODUCT_SELECTIVE_MATCHES; PostgreSQL's statement: the title window).
    Both give the same pages: title order, live products of the store only."""
    monkeypatch.setattr(order_selectors, "PRODUCT_SELECTIVE_MATCHES", selective_cap)
    monkeypatch.setattr(catalog_search, "PRODUCT_TITLE_WINDOW", title_window)
    store = conversation.store
    for title in ("Silk Mask Blue", "Silk mask Rose", "Silk Scarf", "A silk mask", "Mask Silk"):
        ProductFactory(store=store, title=title)
    ProductFactory(store=store, title="Silk Mask Old", status="SELLER_DEACTIVATED")
    ProductFactory(store=StoreFactory(tenant=tenant), title="Silk Mask Elsewhere")

    def page(after=None):
        found = order_selectors.products_search(
            tenant=tenant, store=store, query="  SILK   mask ", after=after, limit=2
        )
        return [product.title for product in found], found

    first, rows = page()
    second, rows = page(after=(rows[-1].title, rows[-1].pk))
    third, _ = page(after=(rows[-1].title, rows[-1].pk))

    assert (first, second, third) == (
        ["A silk mask", "Silk Mask Blue"],
        ["Silk mask Rose"],
        [],
    )


def test_the_coupons_tab_puts_sendable_ones_first_and_says_why_not(owner_client, conversation):
    store = conversation.store
    CouponFactory(
        store=store,
        title="A live room coupon",
        display_type="LIVE",
        card_problems=["Live coupons cannot be sent in chat (only Chat and Regular ones)."],
    )
    chat = CouponFactory(store=store, title="Z chat coupon")
    url = reverse("ticket_coupons", args=[conversation.public_id])

    page = owner_client.get(url, **HX).content.decode()

    assert page.index("Z chat coupon") < page.index("A live room coupon")
    assert page.count("Send coupon card") == 1
    assert f'value="{chat.public_id}"' in page
    assert "Live coupons cannot be sent in chat (only Chat and Regular ones)." in page
    assert "$5.00 off on orders over $25.00" in page


def test_buyer_cards_are_drawn_with_image_price_status_and_items(owner_client, conversation, order):
    store = conversation.store
    product = ProductFactory(store=store, title="Silk Sleep Mask", stock=0)
    coupon = CouponFactory(store=store, title="Thank-you 10%")
    for kind, content in (
        ("PRODUCT_CARD", {"product_id": product.external_id}),
        ("ORDER_CARD", {"order_id": order.external_id}),
        ("COUPON_CARD", {"coupon_id": coupon.external_id}),
        ("PRODUCT_CARD", {"product_id": "1"}),
    ):
        MessageFactory(conversation=conversation, type=kind, text="", content=content)

    page = owner_client.get(reverse("ticket_detail", args=[conversation.public_id]))
    body = html.unescape(page.content.decode())

    assert body.count('data-card="product"') == 2
    assert f'src="{product.image_url}"' in body
    assert "$9.99" in body and "Out of stock" in body
    assert 'data-card="order"' in body and "Delivered" in body
    assert "1 \N{MULTIPLICATION SIGN} Short Boat Invisible Socks" in body
    assert 'data-card="coupon"' in body and "$5.00 off on orders over $25.00" in body
    assert "Not synced yet" in body  # product "1" is unknown here


def test_cards_in_the_thread_cost_the_same_queries_however_many(owner_client, conversation, order):
    store = conversation.store
    url = reverse("ticket_detail", args=[conversation.public_id])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url).status_code == 200
        return len(captured)

    def add_cards() -> None:
        product = ProductFactory(store=store)
        MessageFactory(
            conversation=conversation,
            type="PRODUCT_CARD",
            text="",
            content={"product_id": product.external_id},
        )
        MessageFactory(
            conversation=conversation,
            type="ORDER_CARD",
            text="",
            content={"order_id": order.external_id},
        )
        coupon = CouponFactory(store=store)
        MessageFactory(
            conversation=conversation,
            type="COUPON_CARD",
            text="",
            content={"coupon_id": coupon.external_id},
        )

    add_cards()
    queries()  # warm: what is compiled and cached once per member
    few = queries()
    for _ in range(5):
        add_cards()
    assert queries() == few


def test_an_order_card_of_an_order_the_workbench_shows_reads_it_once(
    owner_client, conversation, order
):
    """The workbench reads the buyer's orders with their lines; a card in the thread naming one
    of them is drawn from those (no second read), a card naming another order of the store is
    still read and drawn."""
    other = OrderFactory(store=conversation.store, buyer_user_id="someone-else", status="CANCELLED")
    OrderLineFactory(order=other, product_name="Ceramic Mug")
    url = reverse("ticket_detail", args=[conversation.public_id])

    def order_reads() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = owner_client.get(url)
        reads = [q["sql"] for q in captured if q["sql"].startswith('SELECT "orders_order"."id"')]
        return len(reads), html.unescape(page.content.decode())

    MessageFactory(
        conversation=conversation,
        type="ORDER_CARD",
        text="",
        content={"order_id": order.external_id},
    )
    reads, body = order_reads()
    assert reads == 1  # the workbench's
    assert body.count('data-card="order"') == 1
    assert "1 \N{MULTIPLICATION SIGN} Short Boat Invisible Socks" in body and "Delivered" in body

    MessageFactory(
        conversation=conversation,
        type="ORDER_CARD",
        text="",
        content={"order_id": other.external_id},
    )
    reads, body = order_reads()
    assert reads == 2  # the workbench's, and the card's order it does not show
    assert body.count('data-card="order"') == 2
    assert "1 \N{MULTIPLICATION SIGN} Ceramic Mug" in body


def test_outgoing_content_of_every_card_type():
    def message(kind: str, **content: str) -> Message:
        return Message(type=kind, content={**content, "outbox": {"in_flight": None}})

    assert cards.outgoing_content(message("ORDER_CARD", order_id="1")).to_content() == {
        "order_id": "1"
    }
    assert cards.outgoing_content(
        message("LOGISTICS_CARD", order_id="1", package_id="")
    ).to_content() == {"order_id": "1"}
    assert cards.outgoing_content(
        message("RETURN_REFUND_CARD", order_id="1", sku_id="2")
    ).to_content() == {"order_id": "1", "sku_id": "2"}
    assert cards.outgoing_content(message("COUPON_CARD", coupon_id="3")).to_content() == {
        "coupon_id": "3"
    }
    with pytest.raises(ValueError):
        cards.outgoing_content(message("TEXT"))


def test_products_and_coupons_pages_show_only_what_the_person_may_see(
    client, tenant, owner, store, other_tenant, other_owner
):
    ours = ProductFactory(store=store, title="Our Mug")
    hidden_store = StoreFactory(tenant=tenant, name="Acme UK")
    ProductFactory(store=hidden_store, title="UK Mug")
    ProductFactory(store=StoreFactory(tenant=other_tenant), title="Their Mug")
    CouponFactory(store=store, title="Our coupon")
    CouponFactory(store=StoreFactory(tenant=other_tenant), title="Their coupon")
    limited = member(tenant, Role.AGENT)
    StoreAccess.objects.create(tenant=tenant, membership=limited, store=store)

    client.force_login(owner)
    assert "UK Mug" in client.get(reverse("product_list")).content.decode()
    client.force_login(limited.user)
    products = client.get(reverse("product_list"), {"q": "mug"}).content.decode()
    assert "Our Mug" in products and "UK Mug" not in products and "Their Mug" not in products
    assert f'data-copy="https://shop.tiktok.com/view/product/{ours.external_id}"' in products
    client.force_login(other_owner)
    theirs = client.get(reverse("product_list"), {"q": "mug"}).content.decode()
    assert "Their Mug" in theirs and "Our Mug" not in theirs
    coupons = client.get(reverse("coupon_list")).content.decode()
    assert "Their coupon" in coupons and "Our coupon" not in coupons
    # Another organisation's store is not a filter they can pick.
    assert client.get(reverse("product_list"), {"store": str(store.public_id)}).status_code == 200
    assert (
        "Our Mug"
        not in client.get(
            reverse("product_list"), {"store": str(store.public_id), "q": "mug"}
        ).content.decode()
    )
    assert Membership.objects.filter(user=other_owner, tenant=tenant).count() == 0
