"""/api/v1/sla-policies/: read only; another organisation's policy is a 404 both ways; a key
limited to a store sees the policy for all stores and its store's own only."""

from __future__ import annotations

import pytest

from sla.models import SLAPolicy
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def policies(world):
    ours = world.ours
    made = {
        "all": SLAPolicy.objects.create(
            tenant=ours.tenant, name="Standard", first_response_minutes=120, holidays=["2026-12-25"]
        ),
        "first": SLAPolicy.objects.create(
            tenant=ours.tenant,
            name="Store one",
            store=ours.stores[0],
            next_response_minutes=60,
            business_hours=[[["09:00", "17:00"]]] * 5 + [[], []],
        ),
        "second": SLAPolicy.objects.create(
            tenant=ours.tenant, name="Store two", store=ours.stores[1], resolution_minutes=600
        ),
        "theirs": SLAPolicy.objects.create(
            tenant=world.theirs.tenant, name="Rival", first_response_minutes=30
        ),
    }
    return made


def test_policies_are_listed_and_shown_as_set(world, policies):
    listed = world.read.get("/api/v1/sla-policies/").json()["results"]
    assert [p["name"] for p in listed] == ["Standard", "Store one", "Store two"]
    one = world.read.get(f"/api/v1/sla-policies/{policies['first'].public_id}/").json()
    assert one["store"] == {"id": str(world.ours.stores[0].public_id), "name": "acme store 1"}
    assert one["next_response_minutes"] == 60 and one["first_response_minutes"] is None
    assert one["business_hours"][0] == [["09:00", "17:00"]] and one["business_hours"][6] == []
    standard = world.read.get(f"/api/v1/sla-policies/{policies['all'].public_id}/").json()
    assert (standard["store"], standard["business_hours"], standard["holidays"]) == (
        None,
        None,
        ["2026-12-25"],
    )


def test_another_organisations_policy_is_404_both_ways(world, policies):
    response = world.write.get(f"/api/v1/sla-policies/{policies['theirs'].public_id}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    theirs = world.other.get(f"/api/v1/sla-policies/{policies['all'].public_id}/")
    assert theirs.status_code == 404
    assert [p["name"] for p in world.other.get("/api/v1/sla-policies/").json()["results"]] == [
        "Rival"
    ]


def test_a_store_limited_key_sees_the_general_policy_and_its_stores(world, policies):
    names = [p["name"] for p in world.limited.get("/api/v1/sla-policies/").json()["results"]]
    assert names == ["Standard", "Store one"]
    assert (
        world.limited.get(f"/api/v1/sla-policies/{policies['second'].public_id}/").status_code
        == 404
    )


def test_policies_cannot_be_written_through_the_api(world, policies):
    response = world.write.post("/api/v1/sla-policies/", {"name": "Mine"})
    assert response.status_code == 405
    assert SLAPolicy.objects.count() == 4
