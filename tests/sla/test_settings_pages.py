"""Settings → Service levels: policies and store clocks saved as typed, bad input refused with the
reason and nothing stored, owners/admins only, another organisation's objects a 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import reverse

from sla.models import SLAPolicy, StoreClockSettings
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

CLOSED = {f"hours_{day}": "" for day in ("saturday", "sunday")}
WEEKDAYS = {
    f"hours_{day}": "09:00-17:00"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
}


@pytest.fixture(autouse=True)
def no_refresh(monkeypatch) -> list[int]:
    """The clock refresh a change enqueues after commit is recorded, not sent to a broker."""
    from sla import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.refresh_store_clocks, "delay", sent.append)
    return sent


def policy_post(**values: Any) -> dict[str, Any]:
    data = {
        "name": "Standard",
        "store": "",
        "first_response": "4h",
        "next_response": "1h 30m",
        "resolution": "2d",
        "holidays": "2026-12-25\n2026-12-24\n",
        **WEEKDAYS,
        **CLOSED,
    }
    data.update(values)
    return data


def test_owners_see_the_page_and_agents_may_not(owner_client, tenant, agent, client):
    StoreFactory(tenant=tenant, name="Sunrise TH", region="TH")
    page = owner_client.get(reverse("sla_settings"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Reply window <strong>12 h</strong> (the market's)" in body
    assert "No policy yet" in body

    client.force_login(agent)
    assert client.get(reverse("sla_settings")).status_code == 403
    assert client.post(reverse("sla_settings"), policy_post()).status_code == 403
    assert not SLAPolicy.objects.exists()


def test_a_policy_is_saved_as_typed_and_moves_every_store_clock(
    owner_client, tenant, no_refresh, django_capture_on_commit_callbacks
):
    stores = [StoreFactory(tenant=tenant), StoreFactory(tenant=tenant)]
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("sla_settings"), policy_post())
    assert response.status_code == 302

    policy = SLAPolicy.objects.get()
    assert (
        policy.tenant_id,
        policy.store,
        policy.first_response_minutes,
        policy.next_response_minutes,
        policy.resolution_minutes,
    ) == (tenant.pk, None, 240, 90, 2880)
    assert policy.business_hours == [[["09:00", "17:00"]]] * 5 + [[], []]
    assert policy.holidays == ["2026-12-24", "2026-12-25"]
    assert sorted(no_refresh) == sorted(store.pk for store in stores)


def test_around_the_clock_stores_no_hours(owner_client, tenant):
    store = StoreFactory(tenant=tenant)
    data = policy_post(store=str(store.public_id), around_the_clock="on", holidays="")
    assert owner_client.post(reverse("sla_settings"), data).status_code == 302
    policy = SLAPolicy.objects.get()
    assert (policy.store, policy.business_hours, policy.holidays) == (store, None, [])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"hours_monday": "09:00-12:00, 11:00-17:00"},
            "Monday: 09:00-12:00 and 11:00-17:00 overlap.",
        ),
        ({"hours_tuesday": "17:00-09:00"}, "Tuesday: 17:00-09:00 ends before it starts."),
        ({"hours_monday": "9 to 5"}, "Monday: “9 to 5” is not a range (write 09:00-17:00)."),
        (
            {**{key: "" for key in WEEKDAYS}},
            "Business hours are empty: open at least one range in the week, or choose “around "
            "the clock”.",
        ),
        ({"first_response": "soon"}, "Write a duration such as 4h, 90m or 1h 30m."),
        ({"first_response": "0"}, "A target is between 1 minute and 366 days."),
        (
            {"first_response": "", "next_response": "", "resolution": ""},
            "Set at least one target: first response, next response or resolution.",
        ),
        ({"holidays": "25/12/2026"}, "“25/12/2026” is not a date (write YYYY-MM-DD)."),
        ({"name": "  "}, "This field is required."),
    ],
)
def test_a_policy_that_cannot_be_used_is_refused_with_the_reason(
    owner_client, tenant, values, message
):
    StoreFactory(tenant=tenant)
    response = owner_client.post(reverse("sla_settings"), policy_post(**values))
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        message.replace("“", "&ldquo;") in body
        or message in body
        or (message.replace("“", "“").replace("”", "”") in body)
    )
    assert not SLAPolicy.objects.exists()


def test_a_store_has_one_policy_and_the_organisation_one_for_all(owner_client, tenant):
    store = StoreFactory(tenant=tenant, name="Sunrise US")
    owner_client.post(reverse("sla_settings"), policy_post(store=str(store.public_id)))
    again = owner_client.post(reverse("sla_settings"), policy_post(store=str(store.public_id)))
    assert again.status_code == 400
    assert "Sunrise US already has a policy: edit that one." in again.content.decode()
    owner_client.post(reverse("sla_settings"), policy_post())
    second_default = owner_client.post(reverse("sla_settings"), policy_post(name="Other"))
    assert second_default.status_code == 400
    assert SLAPolicy.objects.count() == 2


def test_a_policy_is_edited_and_deleted(owner_client, tenant):
    owner_client.post(reverse("sla_settings"), policy_post())
    policy = SLAPolicy.objects.get()
    edit = reverse("sla_policy_edit", args=[policy.public_id])
    form = owner_client.get(edit).content.decode()
    assert 'value="4h"' in form and 'value="1h 30m"' in form and 'value="2d"' in form

    bad = owner_client.post(
        edit, policy_post(name="Faster", hours_friday="12:00-13:00, 12:30-14:00")
    )
    assert bad.status_code == 400
    assert SLAPolicy.objects.get().name == "Standard"

    assert (
        owner_client.post(edit, policy_post(name="Faster", first_response="30m")).status_code == 302
    )
    policy.refresh_from_db()
    assert (policy.name, policy.first_response_minutes) == ("Faster", 30)

    owner_client.post(reverse("sla_policy_delete", args=[policy.public_id]))
    assert not SLAPolicy.objects.exists()


def test_store_clock_settings_are_saved_and_bad_ones_refused(owner_client, tenant):
    store = StoreFactory(tenant=tenant)
    url = reverse("sla_store_clock", args=[store.public_id])
    prefix = f"store-{store.public_id}"

    unknown = owner_client.post(
        url, {f"{prefix}-time_zone": "Mars/Olympus", f"{prefix}-reply_window_hours": ""}
    )
    assert unknown.status_code == 400
    assert "is not a time zone Sellerdesk knows" in unknown.content.decode()
    too_long = owner_client.post(
        url, {f"{prefix}-time_zone": "", f"{prefix}-reply_window_hours": "1000"}
    )
    assert too_long.status_code == 400
    assert not StoreClockSettings.objects.exists()

    saved = owner_client.post(
        url, {f"{prefix}-time_zone": "Asia/Bangkok", f"{prefix}-reply_window_hours": "6"}
    )
    assert saved.status_code == 302
    row = StoreClockSettings.objects.get()
    assert (row.store, row.time_zone, row.reply_window_hours) == (store, "Asia/Bangkok", 6)


def test_holiday_mode_is_switched_on_and_off_and_scheduled_in_the_store_zone(
    owner_client, tenant, clock
):
    store = StoreFactory(tenant=tenant)
    StoreClockSettings.objects.create(store=store, tenant=tenant, time_zone="Asia/Bangkok")
    url = reverse("sla_store_holiday", args=[store.public_id])
    prefix = f"holiday-{store.public_id}"
    now = clock.set(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))

    assert owner_client.post(url, {f"{prefix}-action": "on"}).status_code == 302
    row = StoreClockSettings.objects.get()
    assert (row.holiday_from, row.holiday_until) == (now, None)
    assert "Holiday mode on" in owner_client.get(reverse("sla_settings")).content.decode()

    later = clock.set(datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    assert owner_client.post(url, {f"{prefix}-action": "off"}).status_code == 302
    row.refresh_from_db()
    assert (row.holiday_from, row.holiday_until) == (now, later)

    scheduled = owner_client.post(
        url,
        {
            f"{prefix}-action": "schedule",
            f"{prefix}-holiday_from": "2026-12-24T18:00",
            f"{prefix}-holiday_until": "2026-12-27T09:00",
        },
    )
    assert scheduled.status_code == 302
    row.refresh_from_db()
    assert (row.holiday_from, row.holiday_until) == (
        datetime(2026, 12, 24, 11, 0, tzinfo=UTC),  # 18:00 in Bangkok (UTC+7)
        datetime(2026, 12, 27, 2, 0, tzinfo=UTC),
    )

    reversed_ = owner_client.post(
        url,
        {
            f"{prefix}-action": "schedule",
            f"{prefix}-holiday_from": "2026-12-27T09:00",
            f"{prefix}-holiday_until": "2026-12-24T18:00",
        },
    )
    assert reversed_.status_code == 400
    assert "Holiday mode must end after it starts." in reversed_.content.decode()
    row.refresh_from_db()
    assert row.holiday_from == datetime(2026, 12, 24, 11, 0, tzinfo=UTC)


def test_another_organisations_policies_and_stores_are_404_on_every_url(
    client, other_owner, tenant, owner
):
    store = StoreFactory(tenant=tenant)
    policy = SLAPolicy.objects.create(tenant=tenant, name="Ours", first_response_minutes=60)
    client.force_login(other_owner)
    urls = [
        reverse("sla_policy_edit", args=[policy.public_id]),
        reverse("sla_policy_delete", args=[policy.public_id]),
        reverse("sla_store_clock", args=[store.public_id]),
        reverse("sla_store_holiday", args=[store.public_id]),
    ]
    for url in urls:
        assert client.post(url, {**policy_post(), "holiday-x-action": "on"}).status_code == 404, url
    assert client.get(urls[0]).status_code == 404
    # Their page lists nothing of ours, and their new policy cannot name our store.
    page = client.get(reverse("sla_settings")).content.decode()
    assert store.name not in page and "Ours" not in page
    taken = client.post(reverse("sla_settings"), policy_post(store=str(store.public_id)))
    assert taken.status_code == 400
    assert SLAPolicy.objects.filter(name="Ours", first_response_minutes=60).count() == 1
    assert SLAPolicy.objects.count() == 1
    assert not StoreClockSettings.objects.exists()
