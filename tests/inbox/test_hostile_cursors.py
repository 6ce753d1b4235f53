"""Hostile list positions on the mailbox and its poll: far-future, year-1 and out-of-range cursors
are ignored (the first page), never a 500; a sane cursor still pages (test_mailbox_pages.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories_inbox import ConversationFactory
from tests.factories_marketplaces import StoreFactory

pytestmark = pytest.mark.django_db

HOSTILE_CURSORS = [
    "9999-12-31T23:59:59.999999-14:00~1",  # past year 9999 once in UTC
    "0001-01-01T00:00:00+14:00~1",  # before year 1 once in UTC
    "0001-01-01T00:00:00~1",
    "9999-12-31T23:59:59~1",
    "2026-09-12T08:00:00+00:00~99999999999999999999999999",  # past a 64-bit id
    "2026-09-12T08:00:00+00:00~-5",
    "2026-09-12T08:00:00+00:00~",
    "~",
    "not a cursor at all",
]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


URGENT_CURSORS = [  # "most urgent first": u~<due>~<time>~<id>
    "u~0001-01-01T00:00:00+14:00~2026-09-12T08:00:00+00:00~1",
    "u~9999-12-31T23:59:59-14:00~2026-09-12T08:00:00+00:00~1",
    "u~2026-09-12T08:00:00~2026-09-12T08:00:00+00:00~1",
    "u~-~0001-01-01T00:00:00+14:00~1",
    "u~-~2026-09-12T08:00:00+00:00~99999999999999999999999999",
]


@pytest.mark.parametrize(
    ("cursor", "sort"),
    [(cursor, "") for cursor in HOSTILE_CURSORS] + [(c, "urgent") for c in URGENT_CURSORS],
)
@pytest.mark.parametrize("url_name", ["mailbox", "mailbox_poll"])
def test_a_hostile_cursor_shows_the_first_page(owner_client, tenant, cursor, sort, url_name):
    store = StoreFactory(tenant=tenant)
    ticket = ConversationFactory(store=store, last_message_preview="Where is my parcel?")

    response = owner_client.get(
        reverse(url_name), {"before": cursor, "folder": "all", "sort": sort}
    )

    assert response.status_code == 200
    assert f'id="ticket-{ticket.public_id}"' in response.content.decode()
