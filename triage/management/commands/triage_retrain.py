"""Retrains one organisation's triage model from the shipped set and its corrections (what the
nightly `triage.retrain_tenant` task runs, in a child process of the worker), and prints the
outcome as one JSON line.

    python manage.py triage_retrain --tenant 42
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from triage.tenant_models import tenant_model_retrain


class Command(BaseCommand):
    help = "Retrains an organisation's triage model from the shipped set plus its corrections."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", type=int, required=True, help="The organisation's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        row = tenant_model_retrain(tenant_id=options["tenant"])
        outcome = (
            {"version": None}
            if row is None
            else {"version": row.version, "status": row.status, "accuracy": row.accuracy}
        )
        self.stdout.write(json.dumps(outcome))
