"""Creates (or refreshes) the demo organisation with an owner and an agent, and prints the login."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Membership, Role, Tenant, User
from tenants.services import tenant_setup_run

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.sellerdesk.test"
AGENT_EMAIL = "agent@demo.sellerdesk.test"


class Command(BaseCommand):
    help = "Create the demo tenant with an owner and an agent (idempotent) and print the logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", ""))

    @transaction.atomic
    def handle(self, *args, password: str, **options) -> None:
        if not password:
            self.stderr.write("DEMO_PASSWORD is not set (make run writes one into .env).")
            raise SystemExit(2)
        tenant, _ = Tenant.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"name": "Demo Shop Co", "time_zone": "America/Los_Angeles"}
        )
        for email, first, role in (
            (OWNER_EMAIL, "Olivia", Role.OWNER),
            (AGENT_EMAIL, "Arjun", Role.AGENT),
        ):
            user = User.objects.filter(email=email).first() or User(email=email, first_name=first)
            # Members of the demo organisation, not operators of the site: a superuser would see
            # (and could change) every organisation in /admin/. Operators use createsuperuser.
            user.is_staff = user.is_superuser = False
            user.set_password(password)
            user.save()
            Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
        # What every new organisation starts with (the starter snippets), here too: the demo is
        # made with get_or_create, not tenant_create. The steps keep what exists.
        tenant_setup_run(tenant)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Sellerdesk demo is ready at {settings.SITE_URL}/\n"
                f"    owner: {OWNER_EMAIL} / {password}\n"
                f"    agent: {AGENT_EMAIL} / {password}\n"
            )
        )
