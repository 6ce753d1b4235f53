"""Store connections, their tokens, incoming webhooks, connect state and sync checkpoints.

Tokens are stored only as MultiFernet ciphertext (`marketplaces.crypto`); the `access_token` and
`refresh_token` properties decrypt on demand, and nothing here ever prints them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.models import APIKey, Membership, Tenant

from . import crypto


class Platform(models.TextChoices):
    TIKTOK = "tiktok", "TikTok Shop"
    # A support mailbox (`email_channel/`): a store of the tenant whose buyers write e-mail.
    EMAIL = "email", "E-mail"


class Market(models.TextChoices):
    """Which consent page a seller is sent to (contract §0): the US one or the global one."""

    US = "us", "United States"
    ROW = "row", "Rest of world"


class SellerType(models.TextChoices):
    LOCAL = "LOCAL", "Local seller"
    CROSS_BORDER = "CROSS_BORDER", "Cross-border seller"


class StoreStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"
    DISCONNECTED = "disconnected", "Disconnected"


class Store(models.Model):
    """One marketplace shop connected to one tenant. A shop is connected to one tenant at a time;
    a tenant that disconnected it keeps its store (and its history) while another connects it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="stores")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.TIKTOK)

    # From "Get authorized shops" (contract §1.5).
    external_shop_id = models.CharField("shop id", max_length=64)
    shop_cipher = models.CharField(max_length=255, blank=True)
    shop_code = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    region = models.CharField(
        max_length=8, blank=True, help_text="Shop region code, e.g. US or GB; may be empty."
    )
    market = models.CharField(max_length=8, choices=Market.choices, default=Market.US)
    seller_type = models.CharField(max_length=32, choices=SellerType.choices, blank=True)

    # From the token response (contract §1.4).
    seller_name = models.CharField(max_length=255, blank=True)
    seller_base_region = models.CharField(max_length=8, blank=True)
    open_id = models.CharField(max_length=64, blank=True)
    granted_scopes = models.JSONField(default=list, blank=True)

    status = models.CharField(
        max_length=16, choices=StoreStatus.choices, default=StoreStatus.ACTIVE
    )
    status_reason = models.CharField(
        max_length=255, blank=True, help_text="Why the store is not active, in plain words."
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)

    # Ciphertext only; see access_token / refresh_token below. Never shown in admin or output.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)

    # UPCOMING_AUTHORIZATION_EXPIRATION (webhook type 7): when the seller's grant ends, and when
    # TikTok last warned us; the Stores page shows a warning with the date.
    authorization_expires_at = models.DateTimeField(null=True, blank=True)
    authorization_warned_at = models.DateTimeField(null=True, blank=True)

    last_synced_at = models.DateTimeField("last successful sync", null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    token_error_count = models.PositiveIntegerField(
        default=0, help_text="Consecutive token errors; reset by the next successful call."
    )

    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set on every (re)connect: webhooks older than this describe the previous authorization.
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Connected (or needing re-authorization) in one tenant at a time.
            models.UniqueConstraint(
                fields=["platform", "external_shop_id"],
                condition=~Q(status="disconnected"),
                name="store_platform_shop_connected",
            ),
            # One store per shop in a tenant: a reconnect reuses it, with its history.
            models.UniqueConstraint(
                fields=["tenant", "platform", "external_shop_id"], name="store_tenant_shop_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "name"], name="store_tenant_status"),
            models.Index(fields=["platform", "external_shop_id"], name="store_platform_shop"),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Explicit so that no future field (or token) ever leaks into logs through a repr.
        return f"<Store {self.pk} {self.platform}:{self.external_shop_id} {self.status}>"

    @property
    def access_token(self) -> str:
        return crypto.decrypt_token(self.access_token_encrypted)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt_token(self.refresh_token_encrypted)

    @property
    def has_tokens(self) -> bool:
        return bool(self.access_token_encrypted and self.refresh_token_encrypted)

    def set_tokens(
        self,
        *,
        access_token: str,
        access_token_expires_at: datetime | None,
        refresh_token: str,
        refresh_token_expires_at: datetime | None,
    ) -> None:
        """Encrypts both tokens onto the instance; the caller saves (services do)."""
        self.access_token_encrypted = crypto.encrypt_token(access_token)
        self.refresh_token_encrypted = crypto.encrypt_token(refresh_token)
        self.access_token_expires_at = access_token_expires_at
        self.refresh_token_expires_at = refresh_token_expires_at

    def clear_tokens(self) -> None:
        self.access_token_encrypted = ""
        self.refresh_token_encrypted = ""
        self.access_token_expires_at = None
        self.refresh_token_expires_at = None

    @property
    def sync_enabled(self) -> bool:
        """False while the store needs re-authorization or is disconnected: schedulers skip it."""
        return self.status == StoreStatus.ACTIVE


class StoreAccess(models.Model):
    """Limits an agent to some stores. A membership with no rows may serve every store."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="store_accesses"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="accesses")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "membership", "store"], name="store_access_unique"
            )
        ]
        verbose_name_plural = "store accesses"

    def __str__(self) -> str:
        return f"membership {self.membership_id} -> store {self.store_id}"


class APIKeyStoreAccess(models.Model):
    """The stores an API key limited to stores may serve (`APIKey.limited_to_stores`)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(APIKey, on_delete=models.CASCADE, related_name="store_accesses")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_key_accesses")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "api_key", "store"], name="apikey_store_access_unique"
            )
        ]

    def __str__(self) -> str:
        return f"API key {self.api_key_id} -> store {self.store_id}"


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", "Received, waiting for a worker"
    PROCESSING = "processing", "Being processed"
    PROCESSED = "processed", "Processed"
    # Stored and acknowledged, but no handler exists yet for this type (orders, returns,
    # cancellations and messages are handled by the sync and mailbox work).
    AWAITING_HANDLER = "awaiting_handler", "Awaiting a handler"
    UNKNOWN_SHOP = "unknown_shop", "No connected store for this shop"
    FAILED = "failed", "Failed"


class WebhookType(models.IntegerChoices):
    """Topic numbers (contract §8.3) that Sellerdesk subscribes to."""

    ORDER_STATUS_CHANGE = 1, "Order status change"
    PRODUCT_STATUS_CHANGE = 5, "Product status change"
    SELLER_DEAUTHORIZATION = 6, "Seller deauthorization"
    UPCOMING_AUTHORIZATION_EXPIRATION = 7, "Upcoming authorization expiration"
    CANCELLATION_STATUS_CHANGE = 11, "Cancellation status change"
    RETURN_STATUS_CHANGE = 12, "Return status change"
    NEW_CONVERSATION = 13, "New conversation"
    NEW_MESSAGE = 14, "New message"
    PRODUCT_INFORMATION_CHANGE = 15, "Product information change"
    PRODUCT_CREATION = 16, "Product creation"


class WebhookEvent(models.Model):
    """A signed notification as received, stored once per `tts_notification_id`.

    Not tenant-owned when it arrives (only the shop id is known); the task links the store.
    """

    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.TIKTOK)
    notification_id = models.CharField(max_length=64, unique=True)
    type = models.IntegerField(help_text="Topic number (contract §8.3); unknown numbers are kept.")
    shop_id = models.CharField(max_length=64, blank=True)
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    payload = models.JSONField()
    status = models.CharField(
        max_length=20, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED
    )
    result = models.CharField(max_length=255, blank=True, help_text="What processing did.")
    received_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A failed event whose error was transient (the platform rate-limited us, did not answer)
    # is tried again from this time on; None: not to be retried.
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweeper looks for events left behind (broker down, worker killed).
            models.Index(fields=["status", "received_at"], name="webhook_status_received"),
            models.Index(
                fields=["retry_at"], condition=Q(retry_at__isnull=False), name="webhook_retry"
            ),
            models.Index(fields=["store", "-received_at"], name="webhook_store_received"),
            # A shop's drain takes its waiting events oldest first; only waiting rows are in it,
            # so it stays small however many processed events are kept.
            models.Index(
                fields=["shop_id", "type", "received_at"],
                condition=Q(status="received"),
                name="webhook_waiting",
            ),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"webhook {self.type} #{self.notification_id} ({self.status})"

    @property
    def type_label(self) -> str:
        try:
            return WebhookType(self.type).label
        except ValueError:
            return f"Type {self.type}"


class OAuthState(models.Model):
    """The single-use `state` of one "Connect a store" round trip, bound to a user and tenant."""

    nonce = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.TIKTOK)
    market = models.CharField(max_length=8, choices=Market.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="oauthstate_tenant_created")]

    def __str__(self) -> str:
        return f"connect state for tenant {self.tenant_id} ({self.market})"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class SyncKind(models.TextChoices):
    ORDERS = "orders", "Orders"
    RETURNS = "returns", "Returns"
    CANCELLATIONS = "cancellations", "Cancellations"


class SyncMode(models.TextChoices):
    BACKFILL = "backfill", "Backfill"
    INCREMENTAL = "incremental", "Incremental"


class SyncJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


ACTIVE_SYNC_STATUSES = (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING, SyncJobStatus.PAUSED)


class SyncJob(models.Model):
    """A resumable sync of one kind of record for one store over [range_start, range_end).

    The checkpoint is the current window plus the page token inside it: a worker killed mid-way
    restarts at (window_start, page_token) with nothing skipped. Enough is kept to draw
    "Orders from 12 Sep - 13 Sep, 41,200 of 90,000".
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="sync_jobs")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=SyncKind.choices)
    mode = models.CharField(max_length=16, choices=SyncMode.choices, default=SyncMode.BACKFILL)
    status = models.CharField(
        max_length=16, choices=SyncJobStatus.choices, default=SyncJobStatus.QUEUED
    )

    range_start = models.DateTimeField(help_text="Start of the whole period (inclusive).")
    range_end = models.DateTimeField(help_text="End of the whole period (exclusive).")
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    page_token = models.TextField(blank=True, help_text="Next page inside the current window.")
    windows_done = models.PositiveIntegerField(default=0)
    pages_fetched = models.PositiveIntegerField(default=0)
    items_fetched = models.PositiveIntegerField(default=0)
    # Of items_fetched, those of the current window: taken off again when the window is read
    # again from its start (its page position expired), so each item is counted once.
    window_items_fetched = models.PositiveIntegerField(default=0)
    total_estimate = models.PositiveIntegerField(
        null=True, blank=True, help_text="From the platform's total_count; unknown until counted."
    )

    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last checkpoint write; a stale one means a dead worker."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A job paused by a rate limit or a server error is not claimed again before this time
    # (its backoff), whoever asks: its retrying task, the beat's next sync, the sweeper.
    resume_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one unfinished job per store, kind and mode: a second "Sync now" or a
            # duplicate task cannot start a parallel backfill.
            models.UniqueConstraint(
                fields=["store", "kind", "mode"],
                condition=Q(status__in=ACTIVE_SYNC_STATUSES),
                name="syncjob_one_active_per_store_kind_mode",
            ),
            models.CheckConstraint(
                condition=Q(range_start__lt=models.F("range_end")), name="syncjob_range_ordered"
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "kind", "-created_at"], name="syncjob_store_kind_created"
            ),
            models.Index(fields=["tenant", "status"], name="syncjob_tenant_status"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} of {self.kind} for store {self.store_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_SYNC_STATUSES

    @property
    def progress_percent(self) -> int | None:
        """0 to 100 from items fetched against the estimate; None while the total is unknown."""
        if self.status == SyncJobStatus.COMPLETED:
            return 100
        if not self.total_estimate:
            return None
        return min(100, self.items_fetched * 100 // self.total_estimate)
