"""A support mailbox as a channel: where its mail is read (IMAP), how replies leave (SMTP), and
what the poll has read so far.

An e-mail channel is a `Store` of the tenant with platform "email" (so tickets, messages, SLA,
snippets, the API and the store filters work on it as they do on a TikTok shop) plus the
`EmailChannel` row below. Passwords are kept only as MultiFernet ciphertext, like marketplace
tokens (`marketplaces.crypto`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from inbox.models import Conversation
from marketplaces import crypto
from marketplaces.models import Store
from tenants.models import Tenant


class Security(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (a server on this machine only)"


class CheckState(models.TextChoices):
    UNCHECKED = "unchecked", "Not checked yet"
    OK = "ok", "Working"
    FAILED = "failed", "Failing"


class EmailChannel(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="email_channel")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    address = models.EmailField(help_text="The support address buyers write to.")
    from_name = models.CharField(max_length=120, blank=True, help_text="Shown as the sender.")

    imap_host = models.CharField(max_length=255)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=16, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(max_length=255)
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    imap_folders = models.CharField(
        max_length=500, default="INBOX", help_text="Folders read, comma-separated."
    )

    smtp_host = models.CharField(max_length=255)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=16, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)

    is_active = models.BooleanField(default=True, help_text="Off: the mailbox is not read.")
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    last_poll_error_at = models.DateTimeField(null=True, blank=True)
    check_state = models.CharField(
        max_length=16, choices=CheckState.choices, default=CheckState.UNCHECKED
    )
    check_result = models.TextField(blank=True, help_text="What the last connection test found.")
    checked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "address"], name="emailchannel_tenant_address"
            )
        ]
        indexes = [models.Index(fields=["is_active", "last_polled_at"], name="emailchannel_due")]
        ordering = ["address", "id"]

    def __str__(self) -> str:
        return self.address

    def __repr__(self) -> str:
        return f"<EmailChannel {self.pk} {self.address}>"

    @property
    def imap_password(self) -> str:
        return crypto.decrypt_token(self.imap_password_encrypted)

    @property
    def smtp_password(self) -> str:
        return crypto.decrypt_token(self.smtp_password_encrypted)

    def set_passwords(self, *, imap: str | None = None, smtp: str | None = None) -> None:
        """Encrypts the passwords given (None keeps the stored one); the caller saves."""
        if imap is not None:
            self.imap_password_encrypted = crypto.encrypt_token(imap)
        if smtp is not None:
            self.smtp_password_encrypted = crypto.encrypt_token(smtp)

    @property
    def folders(self) -> list[str]:
        return [name.strip() for name in self.imap_folders.split(",") if name.strip()] or ["INBOX"]

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    def reply_address(self, token: str) -> str:
        """support+<token>@shop.example: a buyer's reply to it finds its ticket first of all."""
        local, _, domain = self.address.partition("@")
        return f"{local}+{token}@{domain}"


class FolderState(models.Model):
    """How far the poll has read one folder: a UID is meaningful only with its UIDVALIDITY."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(
        EmailChannel, on_delete=models.CASCADE, related_name="folder_states"
    )
    folder = models.CharField(max_length=255)
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "folder"], name="emailfolder_channel_folder")
        ]

    def __str__(self) -> str:
        return f"{self.folder} of channel {self.channel_id} (uid {self.last_uid})"


class EmailThread(models.Model):
    """The e-mail side of a ticket: whom it answers and what it is called.

    The ticket's `external_id` is its reply token (support+<token>@…); `references` are the
    Message-IDs of the thread, newest last, for the threading headers of the next reply.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(EmailChannel, on_delete=models.CASCADE, related_name="threads")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="email_thread"
    )
    buyer_address = models.EmailField(max_length=320)
    buyer_name = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    references = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["channel", "buyer_address"], name="emailthread_buyer"),
        ]

    def __str__(self) -> str:
        return f"e-mail thread of ticket {self.conversation_id}"
