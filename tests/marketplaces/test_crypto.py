"""Tokens at rest: MultiFernet round trip, key rotation and the rotate_token_keys command."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from marketplaces import crypto
from marketplaces.models import Store
from tests.factories_marketplaces import StoreFactory

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
ACCESS = "TTP_Fw8rBwAAAAAkW03FYd09DG-9INtpw361hWthei8S3fHX8iPJ5AUv99fLSCYD9-UucaqxTgNRzKZxi5"
REFRESH = "TTP_NTUxZTNhYTQ2ZDk2YmRmZWNmYWY2YWY2YzkxNGYwNjQ3YjkzYTllYjA0YmNlMw"


@pytest.fixture
def old_key_only(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    return settings


def test_round_trip_returns_the_token_and_stores_no_plaintext(old_key_only):
    ciphertext = crypto.encrypt_token(ACCESS)

    assert crypto.decrypt_token(ciphertext) == ACCESS
    assert ACCESS not in ciphertext
    assert ciphertext.startswith("gAAAAA")  # Fernet version byte, base64


def test_each_encryption_is_different_but_opens_to_the_same_token(old_key_only):
    first, second = crypto.encrypt_token(ACCESS), crypto.encrypt_token(ACCESS)

    assert first != second
    assert crypto.decrypt_token(first) == crypto.decrypt_token(second) == ACCESS


def test_empty_token_stays_empty(old_key_only):
    assert crypto.encrypt_token("") == ""
    assert crypto.decrypt_token("") == ""


def test_new_key_first_still_opens_tokens_made_with_the_old_key(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    made_with_old = crypto.encrypt_token(ACCESS)

    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    assert crypto.decrypt_token(made_with_old) == ACCESS


def test_rotated_ciphertext_opens_with_the_new_key_alone(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    made_with_old = crypto.encrypt_token(ACCESS)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    rotated = crypto.rotate_ciphertext(made_with_old)

    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt_token(rotated) == ACCESS
    with pytest.raises(crypto.TokenDecryptionError):
        crypto.decrypt_token(made_with_old)


def test_a_foreign_key_cannot_decrypt_and_the_error_does_not_echo_the_ciphertext(settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    ciphertext = crypto.encrypt_token(ACCESS)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(crypto.TokenDecryptionError) as excinfo:
        crypto.decrypt_token(ciphertext)

    assert ciphertext not in str(excinfo.value)
    assert ACCESS not in str(excinfo.value)


def test_tampered_ciphertext_is_refused(old_key_only):
    ciphertext = crypto.encrypt_token(ACCESS)
    middle = len(ciphertext) // 2
    flipped = "A" if ciphertext[middle] != "A" else "B"
    tampered = ciphertext[:middle] + flipped + ciphertext[middle + 1 :]

    with pytest.raises(crypto.TokenDecryptionError):
        crypto.decrypt_token(tampered)


def test_a_key_that_is_not_a_fernet_key_stops_with_a_message_naming_the_setting(settings):
    settings.TOKEN_ENCRYPTION_KEYS = ["not-a-key"]

    with pytest.raises(ImproperlyConfigured, match="TOKEN_ENCRYPTION_KEYS") as excinfo:
        crypto.encrypt_token(ACCESS)
    assert "not-a-key" not in str(excinfo.value)


def test_store_properties_decrypt_what_set_tokens_encrypted(old_key_only, tenant):
    store = StoreFactory(tenant=tenant, tokens=(ACCESS, REFRESH))

    fresh = Store.objects.get(pk=store.pk)

    assert fresh.access_token == ACCESS
    assert fresh.refresh_token == REFRESH
    assert ACCESS not in fresh.access_token_encrypted
    assert REFRESH not in fresh.refresh_token_encrypted


def test_rotate_token_keys_reencrypts_every_stored_token_with_the_first_key(settings, tenant):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    first = StoreFactory(tenant=tenant, tokens=(ACCESS, REFRESH))
    second = StoreFactory(tenant=tenant, tokens=("TTP_second_access", "TTP_second_refresh"))
    StoreFactory(tenant=tenant)  # never connected: no tokens
    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()

    call_command("rotate_token_keys", stdout=out)

    assert out.getvalue().strip() == (
        "Rotated tokens of 2 store(s); 0 changed meanwhile (already current); 1 without tokens."
    )
    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is gone now
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.access_token, first.refresh_token) == (ACCESS, REFRESH)
    assert (second.access_token, second.refresh_token) == (
        "TTP_second_access",
        "TTP_second_refresh",
    )


def test_rotate_token_keys_stops_on_a_token_no_key_opens(settings, tenant):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    store = StoreFactory(tenant=tenant, tokens=(ACCESS, REFRESH))
    before = Store.objects.values_list("access_token_encrypted", flat=True).get(pk=store.pk)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY]  # the old key was dropped too early

    with pytest.raises(CommandError, match=f"Store {store.pk}: A stored token could not"):
        call_command("rotate_token_keys", stdout=StringIO())

    after = Store.objects.values_list("access_token_encrypted", flat=True).get(pk=store.pk)
    assert after == before
