"""Writes of e-mail channels: adding one (its store with it), changing its settings, checking
its servers. The only way these rows change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplaces.models import Market, Platform, Store, StoreStatus
from tenants.models import Tenant, User

from .connection import CheckStep, connection_check
from .models import CheckState, EmailChannel

SETTINGS_FIELDS = (
    "address",
    "from_name",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_folders",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "is_active",
)


class ChannelInvalidError(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


def _store_name(address: str) -> str:
    return f"E-mail {address}"


def channel_create(
    *,
    tenant: Tenant,
    values: dict[str, Any],
    imap_password: str,
    smtp_password: str,
    created_by: User | None = None,
) -> EmailChannel:
    """A new e-mail channel and its store (platform "email"), in one transaction."""
    channel = EmailChannel(tenant=tenant, **{k: values[k] for k in SETTINGS_FIELDS if k in values})
    channel.address = channel.address.strip().lower()
    channel.set_passwords(imap=imap_password, smtp=smtp_password)
    try:
        with transaction.atomic():
            channel.store = Store.objects.create(
                tenant=tenant,
                platform=Platform.EMAIL,
                external_shop_id=channel.public_id.hex,
                name=_store_name(channel.address),
                market=Market.ROW,
                status=StoreStatus.ACTIVE,
                connected_by=created_by,
            )
            channel.save()
    except IntegrityError:
        raise ChannelInvalidError(
            {"address": ["This organisation already reads this address."]}
        ) from None
    return channel


def channel_update(
    *,
    channel: EmailChannel,
    values: dict[str, Any],
    imap_password: str = "",
    smtp_password: str = "",
) -> EmailChannel:
    """New settings; an empty password keeps the stored one."""
    for name in SETTINGS_FIELDS:
        if name in values:
            setattr(channel, name, values[name])
    channel.address = channel.address.strip().lower()
    channel.set_passwords(imap=imap_password or None, smtp=smtp_password or None)
    try:
        with transaction.atomic():
            channel.save()
            Store.objects.filter(pk=channel.store_id).update(
                name=_store_name(channel.address),
                status=StoreStatus.ACTIVE if channel.is_active else StoreStatus.DISCONNECTED,
                status_reason="" if channel.is_active else "Turned off in Settings → Channels.",
                status_changed_at=timezone.now(),
            )
    except IntegrityError:
        raise ChannelInvalidError(
            {"address": ["This organisation already reads this address."]}
        ) from None
    return channel


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    steps: list[CheckStep]


def channel_check(
    *, channel: EmailChannel, imap_password: str | None = None, smtp_password: str | None = None
) -> CheckResult:
    """Tests both servers (no transaction is open meanwhile) and records what it found."""
    steps = connection_check(channel, imap_password=imap_password, smtp_password=smtp_password)
    ok = all(step.ok for step in steps)
    if channel.pk is not None:
        EmailChannel.objects.filter(pk=channel.pk).update(
            check_state=CheckState.OK if ok else CheckState.FAILED,
            check_result="\n".join(step.text for step in steps),
            checked_at=timezone.now(),
        )
    return CheckResult(ok, steps)
