"""Shared fixtures: our tenant, a teammate, another tenant; service detection for PG and Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from tenants.models import Role
from tests.factories import PASSWORD, MembershipFactory, TenantFactory

pytest_plugins = [
    "tests.tiktok_sandbox",
    "tests.sandbox_stores",
    "tests.browser",
    "tests.webhook_receiver",
]

REQUIRE_SERVICES = os.environ.get("SELLERDESK_REQUIRE_SERVICES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    uses_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    for item in items:
        if "postgres" in item.keywords and not uses_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
            )
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://..."))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """With SELLERDESK_REQUIRE_SERVICES=1 (CI) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but SELLERDESK_REQUIRE_SERVICES=1 forbids skips: {reason}"


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery runs each task in the thread that dispatched it, right after the commit that
    scheduled it (browser tests: the live server's tasks without a broker and a worker)."""
    from config.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def db_vendor(db) -> str:
    return connection.vendor


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme Outfitters")


@pytest.fixture
def owner(tenant):
    return MembershipFactory(tenant=tenant, role=Role.OWNER, user__email="owner@acme.test").user


@pytest.fixture
def admin_user(tenant):
    return MembershipFactory(tenant=tenant, role=Role.ADMIN, user__email="admin@acme.test").user


@pytest.fixture
def agent(tenant):
    return MembershipFactory(tenant=tenant, role=Role.AGENT, user__email="agent@acme.test").user


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Rival Goods")


@pytest.fixture
def other_owner(other_tenant):
    return MembershipFactory(
        tenant=other_tenant, role=Role.OWNER, user__email="owner@rival.test"
    ).user


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def private_cache(settings) -> None:
    """An empty in-process cache for this test alone: nothing cached by an earlier test (a
    folder count, a webhook drain said to be on its way) leaks into it."""
    # LocMemCache instances of one LOCATION share their store: a location of its own.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }
