"""The Celery app and the one place where periodic work is scheduled."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("sellerdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job lives here so that one file answers "what runs on its own, and how often".
# Later features add their entries (token refresh, order sync, message polling).
app.conf.beat_schedule = {
    "health-heartbeat": {"task": "sellerdesk.health", "schedule": 300.0},
    # Webhook events left behind (broker down, worker killed) or awaiting a new handler.
    "marketplaces-requeue-webhook-events": {
        "task": "marketplaces.requeue_webhook_events",
        "schedule": 60.0,
    },
    # Access tokens live about 7 days; stores whose token lapses within a day are refreshed.
    "marketplaces-refresh-store-tokens": {
        "task": "marketplaces.refresh_due_store_tokens",
        "schedule": 60 * 60.0,
    },
    "marketplaces-prune-webhook-events": {
        "task": "marketplaces.prune_webhook_events",
        "schedule": 24 * 60 * 60.0,
    },
    # Each active store gets an incremental order sync once ORDER_SYNC_INTERVAL_SECONDS have
    # passed (checked every minute, so the interval is a setting, not a schedule).
    "orders-sync-due-stores": {"task": "orders.sync_due_stores", "schedule": 60.0},
    # Products and coupons: a pass per active store every CATALOG_SYNC_INTERVAL_SECONDS (products
    # changed since the previous pass, every coupon); product webhooks refresh one in between.
    "orders-sync-due-catalogs": {"task": "orders.sync_due_catalogs", "schedule": 60.0},
    # Backfills and syncs left behind (worker killed, broker down, rate-limit pause) carry on.
    "orders-resume-sync-jobs": {"task": "orders.resume_sync_jobs", "schedule": 120.0},
    # Buyer messages: each active store's conversations are polled (under a per-store lease) as
    # the backstop for webhooks that never arrive.
    "inbox-poll-stores": {
        "task": "inbox.poll_stores",
        "schedule": float(settings.INBOX_POLL_INTERVAL_SECONDS),
    },
    # Support mailboxes (email_channel): new mail read every minute, one lease per mailbox.
    "email-poll-channels": {
        "task": "email_channel.poll_channels",
        "schedule": float(settings.EMAIL_CHANNEL_POLL_SECONDS),
    },
    # Replies left behind (worker killed mid-send, task lost): back to the queue; a reply whose
    # send may have happened is reconciled with the conversation first, never sent twice.
    "inbox-resume-replies": {"task": "inbox.resume_replies", "schedule": 60.0},
    # SLA clocks that passed their due time become "Service level missed" history entries.
    "sla-record-breaches": {"task": "sla.record_breaches", "schedule": 60.0},
    # The reports' daily rollups: each organisation's recent days recomputed (sla.reports).
    "sla-rollup-recent": {"task": "sla.rollup_recent", "schedule": 900.0},
    # Outbound webhooks: retries that came due (and deliveries whose sender died) are sent; the
    # usual path is a sender woken right after the change commits.
    "integrations-deliver-due": {"task": "integrations.deliver_due", "schedule": 15.0},
    # Idempotency-Key records older than 24 hours; webhook events older than 30 days.
    "api-expire-idempotency-keys": {"task": "api.expire_idempotency_keys", "schedule": 3600.0},
    "integrations-prune-events": {"task": "integrations.prune_events", "schedule": 86400.0},
    # Triage: each organisation with new intent corrections gets its model retrained nightly
    # (kept only if it scores at least as well on the held-out set).
    "triage-retrain-tenants": {
        "task": "triage.retrain_tenants",
        "schedule": crontab(hour=3, minute=30),
    },
    # Files kept from refused escalation forms and never used.
    "escalations-purge-staged-attachments": {
        "task": "escalations.purge_staged_attachments",
        "schedule": 60 * 60.0,
    },
}


@app.task(name="sellerdesk.health", ignore_result=False)
def health() -> dict[str, str]:
    """Answers from a live worker; `manage.py worker_health` sends it and waits for the reply."""
    import socket

    from django.utils import timezone

    return {"status": "ok", "worker": socket.gethostname(), "at": timezone.now().isoformat()}
