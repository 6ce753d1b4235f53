"""Re-encrypts every stored marketplace token under the first TOKEN_ENCRYPTION_KEYS key.

Run after putting a new key first in TOKEN_ENCRYPTION_KEYS; afterwards the old keys can be removed.
Safe to run while workers refresh tokens: each row is rewritten only if its ciphertext is still the
one that was read, so a token refreshed meanwhile (already under the new key) is left alone.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from marketplaces import crypto
from marketplaces.models import Store


class Command(BaseCommand):
    help = "Re-encrypt every stored marketplace token with the first TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = skipped = changed_meanwhile = 0
        stores = (
            Store.objects.exclude(access_token_encrypted="", refresh_token_encrypted="")
            .only("id", "access_token_encrypted", "refresh_token_encrypted")
            .order_by("id")
        )
        for store in stores.iterator(chunk_size=500):
            try:
                access = crypto.rotate_ciphertext(store.access_token_encrypted)
                refresh = crypto.rotate_ciphertext(store.refresh_token_encrypted)
            except crypto.TokenDecryptionError as exc:
                # Stop rather than skip: removing the old key next would lose this store's tokens.
                raise CommandError(
                    f"Store {store.pk}: {exc} Nothing else was changed for this store; "
                    f"{rotated} store(s) were rotated before it."
                ) from None
            updated = Store.objects.filter(
                pk=store.pk,
                access_token_encrypted=store.access_token_encrypted,
                refresh_token_encrypted=store.refresh_token_encrypted,
            ).update(access_token_encrypted=access, refresh_token_encrypted=refresh)
            if updated:
                rotated += 1
            else:
                changed_meanwhile += 1
        skipped = Store.objects.filter(
            access_token_encrypted="", refresh_token_encrypted=""
        ).count()
        self.stdout.write(
            f"Rotated tokens of {rotated} store(s); {changed_meanwhile} changed meanwhile "
            f"(already current); {skipped} without tokens."
        )
