"""`python manage.py api_key_create --tenant <slug> --name <name> [--scope read|write]
[--store <store id>]...`: makes an API key and prints it, alone, on the last line."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.services import api_key_create
from marketplaces.models import Store
from tenants.models import APIScope, Tenant
from tenants.services import TenancyError


class Command(BaseCommand):
    help = "Create an API key for an organisation; the key is printed once, on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--scope", choices=APIScope.values, default=APIScope.READ)
        parser.add_argument(
            "--store",
            action="append",
            dest="stores",
            help="Limit the key to this store (its id); repeat for several.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No organisation with the slug {options['tenant']!r}.")
        stores = None
        if options["stores"]:
            stores = []
            for store_id in options["stores"]:
                try:
                    store = Store.objects.filter(
                        tenant=tenant, public_id=uuid.UUID(store_id)
                    ).first()
                except ValueError:
                    store = None
                if store is None:
                    raise CommandError(f"No store {store_id!r} in {tenant.name}.")
                stores.append(store)
        try:
            issued = api_key_create(
                tenant=tenant, name=options["name"], scope=options["scope"], stores=stores
            )
        except TenancyError as error:
            raise CommandError(str(error)) from error
        key = issued.api_key
        self.stderr.write(
            f"API key {key.name!r} ({key.get_scope_display()}) for {tenant.name}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(issued.secret)
