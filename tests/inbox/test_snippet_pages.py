"""The snippet library under Settings: owners and admins write, agents read, other tenants 404."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from inbox.models import Snippet
from inbox.snippets import STARTER_SNIPPETS, starter_snippets_seed
from tests.factories_inbox import SnippetFactory
from tests.factories_marketplaces import OrderFactory, OrderLineFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/settings/snippets/"
NEW_URL = "/settings/snippets/new/"
PREVIEW_URL = "/settings/snippets/preview/"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def snippet(tenant):
    return SnippetFactory(
        tenant=tenant,
        title="Where is it",
        shortcut="where-is-it",
        body="Your order {{ order.id }} is {{ order.status }}.",
    )


@pytest.fixture
def rival_snippet(other_tenant):
    return SnippetFactory(
        tenant=other_tenant, title="Rival secret reply", shortcut="rival", body="Rival text"
    )


def snapshot(snippet: Snippet) -> tuple[str, str, str]:
    snippet.refresh_from_db()
    return (snippet.title, snippet.shortcut, snippet.body)


# --- The list -------------------------------------------------------------------------------------


def test_the_starter_library_is_listed(owner_client, tenant, rival_snippet):
    Snippet.objects.filter(tenant=tenant).delete()  # whatever tenant creation seeded
    assert starter_snippets_seed(tenant=tenant) == 4

    response = owner_client.get(LIST_URL)

    assert response.status_code == 200
    text = page_text(response)
    for title, shortcut in (
        ("Where is my order?", "/where-is-my-order"),
        ("Return instructions", "/return-instructions"),
        ("Delay apology", "/delay-apology"),
        ("Thanks", "/thanks"),
    ):
        assert title in text
        assert shortcut in text
    assert "Rival secret reply" not in text
    assert "New snippet" in text
    # All four starters are there: nothing to add.
    assert "Add 4 starter snippets" not in text
    assert "Starter snippets" not in text


def test_missing_starters_can_be_added_back_without_touching_existing_ones(owner_client, tenant):
    Snippet.objects.filter(tenant=tenant).delete()
    SnippetFactory(tenant=tenant, title="Our thanks", shortcut="thanks", body="Cheers!")

    text = page_text(owner_client.get(LIST_URL))
    assert "Add 3 starter snippets" in text

    response = owner_client.post("/settings/snippets/starters/")

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert sorted(Snippet.objects.filter(tenant=tenant).values_list("shortcut", "title")) == [
        ("delay-apology", "Delay apology"),
        ("return-instructions", "Return instructions"),
        ("thanks", "Our thanks"),
        ("where-is-my-order", "Where is my order?"),
    ]
    assert Snippet.objects.get(tenant=tenant, shortcut="thanks").body == "Cheers!"
    assert "Added 3 starter snippets." in page_text(owner_client.get(LIST_URL))


def test_an_agent_reads_the_library_without_write_buttons(agent_client, snippet):
    text = page_text(agent_client.get(LIST_URL))

    assert "Where is it" in text
    assert "/where-is-it" in text
    assert "New snippet" not in text
    assert f"/settings/snippets/{snippet.public_id}/delete/" not in text
    assert "Only owners and admins can change them." in text


# --- Create, edit, delete ----------------------------------------------------------------------


def test_an_admin_creates_a_snippet(client, admin_user, tenant):
    client.force_login(admin_user)

    response = client.post(
        NEW_URL,
        {
            "title": "Tracking",
            "shortcut": "tracking",
            "body": "Tracking {{ order.tracking_number }} with {{ order.carrier }}.",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    created = Snippet.objects.get(tenant=tenant, shortcut="tracking")
    assert (created.title, created.body, created.created_by) == (
        "Tracking",
        "Tracking {{ order.tracking_number }} with {{ order.carrier }}.",
        admin_user,
    )
    assert "Snippet “Tracking” saved." in page_text(client.get(LIST_URL))


def test_an_owner_edits_a_snippet(owner_client, snippet):
    url = f"/settings/snippets/{snippet.public_id}/"
    form = page_text(owner_client.get(url))
    assert "Your order {{ order.id }} is {{ order.status }}." in form

    response = owner_client.post(
        url,
        {"title": "Where is it now", "shortcut": "where-now", "body": "Hi {{ buyer.name }}!"},
    )

    assert response.status_code == 302
    assert snapshot(snippet) == ("Where is it now", "where-now", "Hi {{ buyer.name }}!")


def test_an_owner_deletes_a_snippet(owner_client, snippet, rival_snippet):
    response = owner_client.post(f"/settings/snippets/{snippet.public_id}/delete/")

    assert response.status_code == 302
    assert not Snippet.objects.filter(pk=snippet.pk).exists()
    assert Snippet.objects.filter(pk=rival_snippet.pk).exists()
    assert "Snippet “Where is it” deleted." in page_text(owner_client.get(LIST_URL))


def test_a_bad_snippet_shows_the_mistake_and_keeps_the_text(owner_client, tenant):
    before = Snippet.objects.filter(tenant=tenant).count()
    body = "Hello, your order {{ order.idd }} is on its way."

    response = owner_client.post(NEW_URL, {"title": "Typo", "shortcut": "typo", "body": body})

    assert response.status_code == 400
    text = page_text(response)
    assert "{{ order.idd }} is not a known placeholder. Use one of: {{ order.id }}" in text
    assert f">\n{body}</textarea>" in text  # the author's text, as written
    assert 'value="Typo"' in text
    # The live preview says the same, in plain words.
    assert "This snippet has a mistake:" in text
    assert Snippet.objects.filter(tenant=tenant).count() == before


def test_a_bad_edit_keeps_the_stored_snippet(owner_client, snippet):
    url = f"/settings/snippets/{snippet.public_id}/"

    response = owner_client.post(
        url, {"title": "Where is it", "shortcut": "where-is-it", "body": "Hi {% include x %}"}
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "Tags like {% … %} and comments {# … #} are not allowed in snippets." in text
    assert ">\nHi {% include x %}</textarea>" in text
    assert snapshot(snippet) == (
        "Where is it",
        "where-is-it",
        "Your order {{ order.id }} is {{ order.status }}.",
    )


def test_a_shortcut_already_used_is_refused(owner_client, tenant, snippet):
    response = owner_client.post(
        NEW_URL, {"title": "Another", "shortcut": "where-is-it", "body": "Hello there."}
    )

    assert response.status_code == 400
    assert "Another snippet already uses the shortcut /where-is-it." in page_text(response)
    assert Snippet.objects.filter(tenant=tenant, shortcut="where-is-it").count() == 1


def test_the_preview_button_renders_without_saving(owner_client, tenant):
    before = Snippet.objects.filter(tenant=tenant).count()

    response = owner_client.post(
        NEW_URL,
        {"title": "Draft", "shortcut": "draft", "body": "Order {{ order.id }}.", "preview": "1"},
    )

    assert response.status_code == 200
    text = page_text(response)
    assert "Preview with a sample order" in text
    assert "Order 576469260282336209." in text
    assert Snippet.objects.filter(tenant=tenant).count() == before


# --- The live preview -----------------------------------------------------------------------------


def test_the_live_preview_renders_against_the_newest_order(owner_client, owner, tenant):
    store = StoreFactory(tenant=tenant, name="Sunrise Outfitters")
    OrderFactory(store=store, external_id="576461413038700001")  # older
    order = OrderFactory(
        store=store,
        external_id="576461413038700002",
        total_amount=Decimal("37.50"),
        shipping_provider="USPS",
        tracking_number="9400111899223100001234",
    )
    OrderLineFactory(order=order, product_name="Socks")
    OrderLineFactory(order=order, product_name="Socks")
    OrderLineFactory(order=order, product_name="Mug")
    owner.first_name = "Dana"
    owner.save()

    response = owner_client.post(
        PREVIEW_URL,
        {
            "body": "Order {{ order.id }}: {{ order.items }}, {{ order.total }}, "
            "{{ order.carrier }} {{ order.tracking_number }}. {{ agent.first_name }}, "
            "{{ store.name }}"
        },
    )

    assert response.status_code == 200
    text = page_text(response)
    assert (
        'Preview with order <span class="mono">576461413038700002</span> (Sunrise Outfitters)'
    ) in text
    assert (
        "Order 576461413038700002: 2 × Socks, Mug, $37.50, USPS 9400111899223100001234. "  # noqa: RUF001
        "Dana, Sunrise Outfitters"
    ) in text


def test_the_live_preview_names_the_mistake(agent_client):
    response = agent_client.post(PREVIEW_URL, {"body": "Order {{ order.id }"})

    assert response.status_code == 200
    assert (
        "This snippet has a mistake: A placeholder is opened with {{ but never closed with }}."
        in " ".join(page_text(response).replace("<strong>", "").replace("</strong>", "").split())
    )


def test_the_preview_never_uses_another_tenants_orders(owner_client, other_tenant):
    rival_store = StoreFactory(tenant=other_tenant, name="Rival Store")
    OrderFactory(store=rival_store, external_id="576461413038799999")

    text = page_text(owner_client.post(PREVIEW_URL, {"body": "Order {{ order.id }}."}))

    assert "576461413038799999" not in text
    assert "Order 576469260282336209." in text  # the made-up sample


# --- Access --------------------------------------------------------------------------------------


def test_an_agent_gets_403_on_every_write_and_nothing_changes(agent_client, tenant, snippet):
    edit_url = f"/settings/snippets/{snippet.public_id}/"
    fields = {"title": "Hacked", "shortcut": "hacked", "body": "Hacked"}
    count = Snippet.objects.filter(tenant=tenant).count()

    assert agent_client.get(NEW_URL).status_code == 403
    assert agent_client.post(NEW_URL, fields).status_code == 403
    assert agent_client.post(edit_url, fields).status_code == 403
    assert agent_client.post(f"{edit_url}delete/").status_code == 403
    assert agent_client.post("/settings/snippets/starters/").status_code == 403

    assert Snippet.objects.filter(tenant=tenant).count() == count
    assert snapshot(snippet) == (
        "Where is it",
        "where-is-it",
        "Your order {{ order.id }} is {{ order.status }}.",
    )


def test_an_agent_reads_one_snippet_with_its_preview(agent_client, snippet):
    response = agent_client.get(f"/settings/snippets/{snippet.public_id}/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Only owners and admins can change snippets." in text
    assert "Your order 576469260282336209 is Awaiting shipment." in text
    assert "<textarea" not in text


def test_another_tenant_gets_404_on_every_snippet_url(client, other_owner, snippet):
    client.force_login(other_owner)
    edit_url = f"/settings/snippets/{snippet.public_id}/"

    assert client.get(edit_url).status_code == 404
    assert client.post(edit_url, {"title": "X", "shortcut": "x", "body": "X"}).status_code == 404
    assert client.post(f"{edit_url}delete/").status_code == 404
    assert "Where is it" not in page_text(client.get(LIST_URL))

    assert snapshot(snippet) == (
        "Where is it",
        "where-is-it",
        "Your order {{ order.id }} is {{ order.status }}.",
    )


def test_signed_out_people_are_sent_to_the_login_page(client, snippet):
    for url in (LIST_URL, NEW_URL, f"/settings/snippets/{snippet.public_id}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_the_starters_text_is_the_one_seeded(owner_client, tenant):
    Snippet.objects.filter(tenant=tenant).delete()
    starter_snippets_seed(tenant=tenant)
    where = Snippet.objects.get(tenant=tenant, shortcut="where-is-my-order")

    text = page_text(owner_client.get(f"/settings/snippets/{where.public_id}/"))

    assert STARTER_SNIPPETS[0]["body"] in text


@pytest.mark.django_db(transaction=True)
def test_a_new_organisation_finds_the_starter_library(client):
    from tenants.services import user_signup

    user, _ = user_signup(
        email="founder@new.test",
        password="correct-horse-battery-9",
        full_name="Nia Founder",
        organisation="New Shop",
    )
    client.force_login(user)

    text = page_text(client.get(LIST_URL))

    for starter in STARTER_SNIPPETS:
        assert f"/{starter['shortcut']}" in text
        assert starter["title"] in text
    # Inbox's four and triage's seven (triage.suggestions.STARTER_REPLIES).
    assert 'Snippets <span class="badge">11</span>' in text
