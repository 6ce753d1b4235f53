"""Escalation background work. Task names are stable: queued messages outlive deploys."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services

# Files kept from a refused form wait this long for the person to send the form again.
STAGED_FILES_KEPT_FOR = timedelta(days=1)


@shared_task(name="escalations.purge_staged_attachments", ignore_result=True)
def purge_staged_attachments() -> int:
    """Beat (hourly): deletes files kept from refused forms that were never used."""
    return services.staged_attachments_purge(older_than=timezone.now() - STAGED_FILES_KEPT_FOR)
