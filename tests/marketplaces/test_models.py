"""Store, sync job and webhook event models: constraints, reprs, no tokens in the admin."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marketplaces.models import (
    OAuthState,
    Store,
    StoreStatus,
    SyncJobStatus,
    SyncMode,
    WebhookEvent,
)
from tenants.models import Role, User
from tests.factories_marketplaces import (
    StoreFactory,
    SyncJobFactory,
    WebhookEventFactory,
    member,
)

ACCESS = "TTP_Fw8rBwAAAAAkW03FYd09DG-9INtpw361hWthei8S3fHX8iPJ5AUv99fLSCYD9-UucaqxTgNRzKZxi5"
REFRESH = "TTP_NTUxZTNhYTQ2ZDk2YmRmZWNmYWY2YWY2YzkxNGYwNjQ3YjkzYTllYjA0YmNlMw"


@pytest.fixture(autouse=True)
def _token_key(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


@pytest.fixture
def superuser_client(client, db):
    user = User.objects.create_superuser(email="root@sellerdesk.test", password=None)
    client.force_login(user)
    return client


def test_one_shop_belongs_to_one_tenant(tenant, other_tenant):
    StoreFactory(tenant=tenant, external_shop_id="7000714532876273420")

    with pytest.raises(IntegrityError), transaction.atomic():
        StoreFactory(tenant=other_tenant, external_shop_id="7000714532876273420")

    assert list(Store.objects.values_list("tenant__name", flat=True)) == ["Acme Outfitters"]


def test_the_same_tenant_cannot_hold_one_shop_twice_either(tenant):
    StoreFactory(tenant=tenant, external_shop_id="7000714532876273420")

    with pytest.raises(IntegrityError), transaction.atomic():
        StoreFactory(tenant=tenant, external_shop_id="7000714532876273420")


def test_two_shops_for_one_tenant(tenant):
    StoreFactory(tenant=tenant, external_shop_id="1", name="Alpha")
    StoreFactory(tenant=tenant, external_shop_id="2", name="Beta")

    assert list(Store.objects.filter(tenant=tenant).values_list("name", flat=True)) == [
        "Alpha",
        "Beta",
    ]


def test_repr_and_str_never_show_tokens(tenant):
    store = StoreFactory(
        tenant=tenant,
        external_shop_id="7000714532876273420",
        name="Maomao",
        tokens=(ACCESS, REFRESH),
    )

    assert repr(store) == f"<Store {store.pk} tiktok:7000714532876273420 active>"
    assert str(store) == "Maomao"
    for secret in (ACCESS, REFRESH, store.access_token_encrypted, store.refresh_token_encrypted):
        assert secret not in repr(store)
        assert secret not in str(store)


def test_admin_pages_never_show_token_values(superuser_client, tenant):
    store = StoreFactory(tenant=tenant, name="Maomao", tokens=(ACCESS, REFRESH))

    change = superuser_client.get(reverse("admin:marketplaces_store_change", args=[store.pk]))
    listing = superuser_client.get(reverse("admin:marketplaces_store_changelist"))

    assert change.status_code == 200
    assert listing.status_code == 200
    page = change.content.decode() + listing.content.decode()
    assert "Maomao" in page
    assert "stored (encrypted)" in change.content.decode()
    for secret in (ACCESS, REFRESH, store.access_token_encrypted, store.refresh_token_encrypted):
        assert secret not in page
    # Tokens cannot be set through the admin form either.
    assert "access_token_encrypted" not in change.content.decode()


def test_admin_saving_a_store_keeps_its_tokens(superuser_client, tenant):
    store = StoreFactory(tenant=tenant, name="Maomao", tokens=(ACCESS, REFRESH))
    url = reverse("admin:marketplaces_store_change", args=[store.pk])
    form = superuser_client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if hasattr(value, "date"):  # admin splits date and time into two inputs
            data[f"{name}_0"], data[f"{name}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        else:
            data[name] = "" if value is None else value
    data["name"] = "Maomao Beauty"
    data["granted_scopes"] = "[]"

    response = superuser_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    store.refresh_from_db()
    assert store.name == "Maomao Beauty"
    assert (store.access_token, store.refresh_token) == (ACCESS, REFRESH)


def test_oauth_state_admin_hides_the_nonce(superuser_client, tenant):
    owner = member(tenant, Role.OWNER).user
    state = OAuthState.objects.create(
        nonce="secret-nonce-value",
        tenant=tenant,
        user=owner,
        market="us",
        expires_at=timezone.now(),
    )

    page = superuser_client.get(reverse("admin:marketplaces_oauthstate_change", args=[state.pk]))

    assert page.status_code == 200
    assert "secret-nonce-value" not in page.content.decode()


def test_only_one_unfinished_job_per_store_kind_and_mode(tenant):
    store = StoreFactory(tenant=tenant)
    SyncJobFactory(store=store, status=SyncJobStatus.COMPLETED)
    SyncJobFactory(store=store, status=SyncJobStatus.RUNNING)
    SyncJobFactory(store=store, mode=SyncMode.INCREMENTAL, status=SyncJobStatus.QUEUED)

    with pytest.raises(IntegrityError), transaction.atomic():
        SyncJobFactory(store=store, status=SyncJobStatus.PAUSED)


def test_sync_job_window_must_be_ordered(tenant):
    store = StoreFactory(tenant=tenant)
    job = SyncJobFactory.build(store=store, tenant=tenant)
    job.range_end = job.range_start

    with pytest.raises(IntegrityError), transaction.atomic():
        job.save()


@pytest.mark.parametrize(
    ("status", "fetched", "total", "expected"),
    [
        (SyncJobStatus.RUNNING, 41_200, 90_000, 45),
        (SyncJobStatus.RUNNING, 0, None, None),
        (SyncJobStatus.RUNNING, 120, 100, 100),  # the estimate grew while we fetched
        (SyncJobStatus.COMPLETED, 10, 0, 100),
    ],
)
def test_progress_percent(tenant, status, fetched, total, expected):
    job = SyncJobFactory(
        store=StoreFactory(tenant=tenant),
        status=status,
        items_fetched=fetched,
        total_estimate=total,
    )

    assert job.progress_percent == expected


def test_webhook_notification_id_is_unique(db):
    WebhookEventFactory(notification_id="7327112393057371910")

    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEventFactory(notification_id="7327112393057371910", type=14)

    assert WebhookEvent.objects.count() == 1


def test_webhook_type_label_for_known_and_unknown_types(db):
    assert WebhookEventFactory(type=6).type_label == "Seller deauthorization"
    assert WebhookEventFactory(type=99).type_label == "Type 99"


def test_store_sync_enabled_only_when_active(tenant):
    assert StoreFactory(tenant=tenant, status=StoreStatus.ACTIVE).sync_enabled is True
    assert StoreFactory(tenant=tenant, status=StoreStatus.NEEDS_REAUTH).sync_enabled is False
    assert StoreFactory(tenant=tenant, status=StoreStatus.DISCONNECTED).sync_enabled is False


@pytest.mark.parametrize(
    "model",
    [
        "marketplaces_store",
        "marketplaces_storeaccess",
        "marketplaces_webhookevent",
        "marketplaces_oauthstate",
        "marketplaces_syncjob",
        "orders_order",
        "orders_return",
        "orders_cancellation",
    ],
)
def test_admin_lists_and_change_pages_render(superuser_client, tenant, model):
    from tests.factories_marketplaces import (
        CancellationLineFactory,
        OrderLineFactory,
        ReturnLineFactory,
        StoreAccessFactory,
    )

    store = StoreFactory(tenant=tenant, tokens=(ACCESS, REFRESH))
    objects = {
        "marketplaces_store": store,
        "marketplaces_storeaccess": StoreAccessFactory(store=store, membership=member(tenant)),
        "marketplaces_webhookevent": WebhookEventFactory(store=store),
        "marketplaces_oauthstate": OAuthState.objects.create(
            nonce="n",
            tenant=tenant,
            user=member(tenant).user,
            market="us",
            expires_at=timezone.now(),
        ),
        "marketplaces_syncjob": SyncJobFactory(store=store),
        "orders_order": OrderLineFactory(order__store=store).order,
        "orders_return": ReturnLineFactory(return_request__store=store).return_request,
        "orders_cancellation": CancellationLineFactory(cancellation__store=store).cancellation,
    }

    listing = superuser_client.get(reverse(f"admin:{model}_changelist"))
    change = superuser_client.get(reverse(f"admin:{model}_change", args=[objects[model].pk]))

    assert (listing.status_code, change.status_code) == (200, 200)
    for secret in (ACCESS, REFRESH, store.access_token_encrypted):
        assert secret not in listing.content.decode() + change.content.decode()


@pytest.mark.parametrize("model", ["marketplaces_store", "marketplaces_webhookevent"])
def test_stores_and_webhook_events_cannot_be_added_by_hand(superuser_client, model):
    assert superuser_client.get(reverse(f"admin:{model}_add")).status_code == 403
