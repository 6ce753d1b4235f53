"""Two organisations connecting the same shop at the same moment (PostgreSQL): one wins.

The shop's row does not exist yet, so there is nothing to lock; the unique constraint on
(platform, shop id) decides, and the loser refuses the shop instead of failing its whole connect.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from marketplaces.connection import ConnectResult, _stores_save
from marketplaces.models import Market, Store
from marketplaces.records import Shop, TokenGrant
from orders import tasks as order_tasks
from tests.factories import MembershipFactory, TenantFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHOP = Shop(
    external_id="7494049642642441621",
    name="Maomao Beauty UK",
    region="GB",
    seller_type="CROSS_BORDER",
    cipher="GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
    code="GBLCC4LLU8",
    raw={},
)


def grant(token: str) -> TokenGrant:
    return TokenGrant(
        access_token=f"TTP_access_{token}",
        access_token_expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        refresh_token=f"TTP_refresh_{token}",
        refresh_token_expires_at=datetime(2027, 12, 1, tzinfo=UTC),
        open_id="7010736057180325637",
        seller_name="Maomao Beauty Co.",
        seller_base_region="CN",
        user_type=0,
        granted_scopes=["seller.order.info"],
        raw={},
    )


def test_the_second_of_two_racing_tenants_is_refused(monkeypatch):
    monkeypatch.setattr(order_tasks.run_sync_job, "delay", lambda job_id: None)
    first_member = MembershipFactory(role="owner")
    second_member = MembershipFactory(role="owner", tenant=TenantFactory(name="Rival Goods"))
    first_saved, second_started = threading.Event(), threading.Event()
    results: dict[str, ConnectResult] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = _stores_save(
                    tenant=first_member.tenant,
                    user=first_member.user,
                    market=Market.ROW,
                    grant=grant("first"),
                    shops=[SHOP],
                )
                first_saved.set()
                second_started.wait(10)
                time.sleep(0.5)  # the second is now blocked on our uncommitted row
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            first_saved.set()
            connection.close()

    def second() -> None:
        try:
            first_saved.wait(10)
            second_started.set()
            results["second"] = _stores_save(
                tenant=second_member.tenant,
                user=second_member.user,
                market=Market.ROW,
                grant=grant("second"),
                shops=[SHOP],
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert [s.name for s in results["first"].connected] == ["Maomao Beauty UK"]
    assert (results["second"].connected, results["second"].refused) == ([], ["Maomao Beauty UK"])
    store = Store.objects.get()
    assert store.tenant == first_member.tenant
    assert store.access_token == "TTP_access_first"
