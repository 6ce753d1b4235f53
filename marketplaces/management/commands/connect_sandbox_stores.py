"""Connects the sandbox's US seller and rest-of-world seller to a tenant, through the real flow.

For `make run`: as the tenant's owner it issues a connect state, opens the sandbox consent page
over HTTP, approves it with the form a person would submit, reads `code` and `state` from the
redirect and hands them to the same service the callback view calls. Idempotent: a seller whose
shops are all connected to the tenant already is left alone (and reported).
"""

from __future__ import annotations

import os
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketplaces import connection
from marketplaces.models import Platform, Store, StoreStatus
from tenants.models import Membership, Role, Tenant

MARKETS = ("US", "ROW")
HTTP_TIMEOUT = 15.0


class _ConsentForm(HTMLParser):
    """The consent page's form fields: hidden inputs and the pre-selected seller."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.sellers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        values = {name: value or "" for name, value in attrs}
        if values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")
        elif values.get("type") == "radio" and values.get("name") == "open_id":
            if "checked" in values:
                self.sellers.insert(0, values.get("value", ""))
            else:
                self.sellers.append(values.get("value", ""))


class _CallbackValues(HTMLParser):
    """Without a redirect URL configured the sandbox shows the callback values as a list."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._key: str | None = None
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_code = tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code and self._key:
            self.values[self._key] = data
            self._key = None
        elif data.strip().endswith("="):
            self._key = data.strip().rstrip("=").strip()


class Command(BaseCommand):
    help = "Connect a US and a rest-of-world sandbox seller to a tenant through the OAuth flow."

    def add_arguments(self, parser: CommandParser) -> None:
        port = os.environ.get("SELLERDESK_SANDBOX_PORT") or "9100"  # make run SANDBOX_PORT=
        parser.add_argument("--sandbox-url", default=f"http://127.0.0.1:{port}")
        parser.add_argument("--tenant", default="demo", help="the tenant's slug")
        parser.add_argument(
            "--wait", type=float, default=60.0, help="seconds to wait for the sandbox to answer"
        )

    def handle(
        self, *args: Any, sandbox_url: str, tenant: str, wait: float, **options: Any
    ) -> None:
        base = sandbox_url.rstrip("/")
        if settings.TIKTOK_AUTH_BASE_URL.rstrip("/") != base:
            raise CommandError(
                f"TIKTOK_AUTH_BASE_URL is {settings.TIKTOK_AUTH_BASE_URL!r}, not the sandbox at "
                f"{base}: the tokens would be asked of another server. Point TIKTOK_* at the "
                "sandbox (python config/localenv.py --sandbox-data ...) and run again."
            )
        owner = self._owner(tenant)
        http = requests.Session()
        credentials = self._credentials(http, base, wait)
        for market in MARKETS:
            sellers = [s for s in credentials["sellers"] if s.get("market") == market]
            if not sellers:
                self.stdout.write(f"{market}: the sandbox has no seller for this market; skipped.")
                continue
            shop_ids = [shop["id"] for shop in sellers[0]["shops"]]
            connected = Store.objects.filter(
                tenant=owner.tenant,
                platform=Platform.TIKTOK,
                external_shop_id__in=shop_ids,
                status=StoreStatus.ACTIVE,
            ).order_by("name")
            if len(connected) == len(shop_ids):
                names = ", ".join(store.name for store in connected)
                self.stdout.write(f"{market}: already connected ({names}); left alone.")
                continue
            self._connect(http, owner, market, sellers[0]["open_id"])
        http.close()

    def _owner(self, slug: str) -> Membership:
        found = Tenant.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"No tenant with slug {slug!r} (make run creates 'demo').")
        owner = (
            Membership.objects.select_related("tenant", "user")
            .filter(tenant=found, role=Role.OWNER)
            .order_by("created_at", "id")
            .first()
        )
        if owner is None:
            raise CommandError(f"Tenant {slug!r} has no owner to connect stores as.")
        return owner

    def _credentials(self, http: requests.Session, base: str, wait: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while True:
            try:
                response = http.get(f"{base}/_sandbox/credentials", timeout=HTTP_TIMEOUT)
                if response.status_code == 200:
                    return response.json()
            except requests.RequestException:
                pass
            if time.monotonic() >= deadline:
                raise CommandError(f"The sandbox at {base} did not answer within {wait:.0f}s.")
            time.sleep(0.5)

    def _connect(
        self, http: requests.Session, owner: Membership, market: str, open_id: str
    ) -> None:
        consent_url = connection.store_connect_begin(membership=owner, market=market.lower())
        page = http.get(consent_url, timeout=HTTP_TIMEOUT)
        if page.status_code != 200:
            raise CommandError(f"{market}: the consent page answered {page.status_code}.")
        form = _ConsentForm()
        form.feed(page.text)
        if open_id not in form.sellers:
            raise CommandError(f"{market}: the consent page does not offer seller {open_id}.")
        # What the person's browser submits after choosing the seller and pressing "Authorize".
        data = {**form.fields, "open_id": open_id, "decision": "authorize"}
        answer = http.post(consent_url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
        callback = self._callback_values(answer, market)
        try:
            result = connection.store_connect_complete(
                user=owner.user,
                state=callback.get("state", ""),
                code=callback.get("code", ""),
                error=callback.get("error", ""),
            )
        except connection.ConnectError as exc:
            raise CommandError(f"{market}: {exc}") from None
        for label, stores in (("connected", result.connected), ("reconnected", result.reconnected)):
            for store in stores:
                self.stdout.write(f"{market}: {label} {store.name} ({store.region or market}).")
        for name in result.refused:
            self.stdout.write(f"{market}: {name} belongs to another organisation; not connected.")

    def _callback_values(self, answer: requests.Response, market: str) -> dict[str, str]:
        if answer.status_code in (301, 302, 303, 307):
            query = parse_qs(urlsplit(answer.headers.get("Location", "")).query)
            return {key: values[0] for key, values in query.items()}
        if answer.status_code == 200:
            shown = _CallbackValues()
            shown.feed(answer.text)
            if "state" in shown.values:
                return shown.values
        raise CommandError(f"{market}: the consent form answered {answer.status_code}.")
